// SPDX-License-Identifier: BSD-3-Clause
#include "ctl.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "log.hpp"

namespace cats::control {

namespace asio = boost::asio;
using boost::system::error_code;
using asio::local::stream_protocol;

// Requests wait here, parsed, and run one per turn of the io_context (so
// adverts, timers and the dataplane link get their turns in between), the
// session with the most budget left first: a new or light session goes
// ahead of sessions that have been asking without pause.
struct CtlServer::Scheduler : std::enable_shared_from_this<CtlServer::Scheduler> {
    explicit Scheduler(asio::io_context& i) : io(i) {}

    void add(std::shared_ptr<Session> s, ctl::Request req);
    void post();
    void run_one();

    asio::io_context& io;
    // Arrival order. The queue owns its sessions: between reading a request
    // and answering it, nothing else keeps a session alive.
    std::vector<std::pair<std::shared_ptr<Session>, ctl::Request>> queue;
    bool posted = false;
};

struct CtlServer::Session : std::enable_shared_from_this<CtlServer::Session> {
    using SteadyClock = std::chrono::steady_clock;

    Session(asio::io_context& io, stream_protocol::socket s, Handler h, std::shared_ptr<std::size_t> live,
            std::shared_ptr<Counters> counters, std::shared_ptr<Scheduler> sched)
        : sched_(std::move(sched)),
          sock(std::move(s)),
          buf(ctl::kMaxLine),
          idle(io),
          throttle(io),
          handler(std::move(h)),
          live_(std::move(live)),
          counters_(std::move(counters)),
          budget_(kBudgetBurst),
          refilled_(SteadyClock::now()) {
        ++*live_;
    }
    ~Session() { --*live_; }

    // The budget, refilled for the time since the last refill.
    SteadyClock::duration budget() {
        const auto now = SteadyClock::now();
        budget_ = std::min<SteadyClock::duration>(kBudgetBurst, budget_ + (now - refilled_) * kBudgetSharePct / 100);
        refilled_ = now;
        return budget_;
    }

    void read() {
        if (closed)
            return;
        if (const auto b = budget(); b < SteadyClock::duration::zero()) {
            // Over budget: the next request waits until the debt is paid.
            ++counters_->throttled;
            throttle.expires_after(-b * 100 / kBudgetSharePct);
            throttle.async_wait([w = weak_from_this()](const error_code& e) {
                if (auto self = w.lock(); self && !e)
                    self->read_now();
            });
            return;
        }
        read_now();
    }

    void read_now() {
        if (closed)
            return;
        budget();
        idle.expires_after(kIdleTimeout);
        idle.async_wait([w = weak_from_this()](const error_code& e) {
            if (auto self = w.lock(); self && !e)
                self->close();
        });
        asio::async_read_until(sock, buf, '\n', [self = shared_from_this()](const error_code& ec, std::size_t n) {
            self->on_line(ec, n);
        });
    }

    void on_line(const error_code& ec, std::size_t n) {
        idle.cancel();
        if (closed)
            return;
        if (ec == asio::error::not_found) {
            // The buffer (kMaxLine) filled up without a newline.
            write(ctl::encode_error("request longer than " + std::to_string(ctl::kMaxLine) + " bytes"), true);
            return;
        }
        if (ec) {
            close();
            return;
        }
        const auto begin = asio::buffers_begin(buf.data());
        std::string line(begin, begin + static_cast<std::ptrdiff_t>(n));
        buf.consume(n);
        ctl::Request req;
        if (const std::string err = ctl::parse_request(line, req); !err.empty()) {
            write(ctl::encode_error(err), false);
            return;
        }
        sched_->add(shared_from_this(), std::move(req));
    }

    // Run one request (the scheduler's turn), charging its time to this
    // session's budget.
    void execute(const ctl::Request& req) {
        if (closed)
            return;
        auto answered = std::make_shared<bool>(false);
        ++counters_->requests;
        const auto started = SteadyClock::now();
        // Charged to this session's budget however the handler ends.
        struct Charge {
            Session& s;
            SteadyClock::time_point t0;
            ~Charge() { s.budget_ -= SteadyClock::now() - t0; }
        } charge{*this, started};
        try {
            handler(req, [self = shared_from_this(), answered](std::string resp) {
                if (*answered)
                    return;
                *answered = true;
                self->write(std::move(resp), false);
            });
        } catch (const std::exception& e) {
            // One bad request must not take the daemon down: answer it.
            ++counters_->handler_errors;
            log_error(std::string("ctl: ") + req.cmd + ": " + e.what());
            if (!*answered) {
                *answered = true;
                write(ctl::encode_error(std::string("internal error: ") + e.what()), false);
            }
        } catch (...) {
            ++counters_->handler_errors;
            log_error("ctl: " + req.cmd + ": unknown exception");
            if (!*answered) {
                *answered = true;
                write(ctl::encode_error("internal error"), false);
            }
        }
    }

    void write(std::string line, bool close_after) {
        if (closed)
            return;
        out = std::move(line);
        asio::async_write(sock, asio::buffer(out),
                          [self = shared_from_this(), close_after](const error_code& ec, std::size_t) {
                              if (ec || close_after)
                                  self->close();
                              else
                                  self->read();
                          });
    }

    void close() {
        if (closed)
            return;
        closed = true;
        error_code ignored;
        idle.cancel();
        throttle.cancel();
        sock.close(ignored);
    }

    std::shared_ptr<Scheduler> sched_;
    stream_protocol::socket sock;
    asio::streambuf buf;
    asio::steady_timer idle;
    asio::steady_timer throttle;
    Handler handler;
    std::string out;
    bool closed = false;
    std::shared_ptr<std::size_t> live_;
    std::shared_ptr<Counters> counters_;
    SteadyClock::duration budget_;  // negative: in debt
    SteadyClock::time_point refilled_;
};

void CtlServer::Scheduler::add(std::shared_ptr<Session> s, ctl::Request req) {
    queue.emplace_back(std::move(s), std::move(req));
    post();
}

void CtlServer::Scheduler::post() {
    if (posted || queue.empty())
        return;
    posted = true;
    asio::post(io, [self = shared_from_this()] {
        self->posted = false;
        self->run_one();
        self->post();
    });
}

void CtlServer::Scheduler::run_one() {
    std::erase_if(queue, [](const auto& e) { return e.first->closed; });
    if (queue.empty())
        return;
    // The most budget left; the first to arrive among equals.
    auto best = queue.begin();
    auto best_budget = best->first->budget();
    for (auto it = std::next(queue.begin()); it != queue.end(); ++it)
        if (const auto b = it->first->budget(); b > best_budget) {
            best = it;
            best_budget = b;
        }
    const std::shared_ptr<Session> s = std::move(best->first);
    const ctl::Request req = std::move(best->second);
    queue.erase(best);
    s->execute(req);
}

namespace {

// Is someone answering on this socket file?
bool socket_is_live(const std::string& path) {
    asio::io_context io;
    stream_protocol::socket probe(io);
    error_code ec;
    probe.connect(stream_protocol::endpoint(path), ec);
    return !ec;
}

}  // namespace

CtlServer::CtlServer(asio::io_context& io, std::string path, Handler handler)
    : io_(io),
      path_(std::move(path)),
      handler_(std::move(handler)),
      acceptor_(io),
      retry_(io),
      sched_(std::make_shared<Scheduler>(io)) {
    namespace fs = std::filesystem;
    const fs::path parent = fs::path(path_).parent_path();
    std::error_code fec;
    if (!parent.empty() && !fs::exists(parent, fec)) {
        fs::create_directories(parent, fec);
        if (fec)
            throw std::runtime_error("ctl socket " + path_ + ": cannot create " + parent.string() + ": " +
                                     fec.message());
    }
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            throw std::runtime_error("ctl socket " + path_ + ": exists and is not a socket");
        if (socket_is_live(path_))
            throw std::runtime_error("ctl socket " + path_ + ": another process answers on it (is cats-control "
                                     "already running?)");
        ::unlink(path_.c_str());  // stale, from a process that died
    }
    error_code ec;
    acceptor_.open(stream_protocol(), ec);
    if (!ec) {
        // Created 0660 from the start: no window in which anyone may connect.
        const mode_t old = ::umask(0117);
        acceptor_.bind(stream_protocol::endpoint(path_), ec);
        ::umask(old);
    }
    if (!ec)
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("ctl socket " + path_ + ": " + ec.message());
    log_info("ctl: listening on " + path_);
    accept();
}

CtlServer::~CtlServer() {
    stop();
}

void CtlServer::accept() {
    acceptor_.async_accept([this, stopped = stopped_](const error_code& ec, stream_protocol::socket s) {
        if (*stopped || ec == asio::error::operation_aborted)
            return;
        if (!ec) {
            auto session = std::make_shared<Session>(io_, std::move(s), handler_, live_sessions_, counters_, sched_);
            if (*live_sessions_ > kMaxSessions) {
                session->write(ctl::encode_error("too many catsctl connections (" + std::to_string(kMaxSessions) +
                                                 "); try again"),
                               true);
            } else {
                std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
                sessions_.push_back(session);
                session->read();
            }
        } else {
            // Out of descriptors, most likely: do not spin on it.
            log_warn("ctl: accept: " + ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this, stopped](const error_code& e) {
                if (!e && !*stopped)
                    accept();
            });
            return;
        }
        accept();
    });
}

void CtlServer::stop() {
    if (*stopped_)
        return;
    *stopped_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    for (const auto& w : sessions_)
        if (auto s = w.lock())
            s->close();
    sessions_.clear();
    ::unlink(path_.c_str());
}

}  // namespace cats::control
