// SPDX-License-Identifier: BSD-3-Clause
#include "ctl.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "log.hpp"

namespace cats::control {

namespace asio = boost::asio;
using boost::system::error_code;
using asio::local::stream_protocol;

struct CtlServer::Session : std::enable_shared_from_this<CtlServer::Session> {
    Session(asio::io_context& io, stream_protocol::socket s, Handler h, std::shared_ptr<std::size_t> live)
        : sock(std::move(s)), buf(ctl::kMaxLine), idle(io), handler(std::move(h)), live_(std::move(live)) {
        ++*live_;
    }
    ~Session() { --*live_; }

    void read() {
        if (closed)
            return;
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
        auto answered = std::make_shared<bool>(false);
        try {
            handler(req, [self = shared_from_this(), answered](std::string resp) {
                if (*answered)
                    return;
                *answered = true;
                self->write(std::move(resp), false);
            });
        } catch (const std::exception& e) {
            // One bad request must not take the daemon down: answer it.
            log_error(std::string("ctl: ") + req.cmd + ": " + e.what());
            if (!*answered) {
                *answered = true;
                write(ctl::encode_error(std::string("internal error: ") + e.what()), false);
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
        sock.close(ignored);
    }

    stream_protocol::socket sock;
    asio::streambuf buf;
    asio::steady_timer idle;
    Handler handler;
    std::string out;
    bool closed = false;
    std::shared_ptr<std::size_t> live_;
};

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
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io), retry_(io) {
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
            auto session = std::make_shared<Session>(io_, std::move(s), handler_, live_sessions_);
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
