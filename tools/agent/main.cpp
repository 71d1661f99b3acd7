// SPDX-License-Identifier: BSD-3-Clause
// cats-agent: advertises the service instances of this compute node to
// cats-control (proto-defs/ADVERT.md). Every interval it measures and
// reads its metrics, packs all its instances into signed ADVERTISE
// datagrams of at most ~1400 bytes and sends them to every controller; on
// SIGINT/SIGTERM it sends a WITHDRAW of every instance and exits 0.
//
// One thread: a Boost.Asio io_context runs the timer and the signal set;
// sends are synchronous (UDP does not block for long). Logs go to stderr,
// one line per event (start, a controller failing or recovering, a metric
// source failing or recovering, withdraw), never one per datagram.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cats_version.h"
#include "advert_wire.hpp"
#include "measure.hpp"
#include "options.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace cats::agent {

namespace {

// Datagrams stay below a common path MTU minus IPv6 and UDP headers, so
// that they are never fragmented (ADVERT.md section 1).
constexpr std::size_t kMaxDatagram = 1400;

std::uint64_t unix_micros() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

std::size_t metrics_size(const advert::Metrics& m) {
    std::size_t n = 0;
    n += m.load_pct ? 3 : 0;
    n += m.free_capacity ? 6 : 0;
    n += m.queue_delay_us ? 6 : 0;
    n += m.bandwidth_kbps ? 6 : 0;
    n += m.l2_score ? 3 : 0;
    n += m.compute_types ? 4 : 0;
    n += m.weight ? 6 : 0;
    n += m.latency_us ? 6 : 0;
    return n;
}

std::size_t record_size(advert::Type t, const advert::Record& r) {
    if (t == advert::Type::Withdraw)
        return 8;
    return 12 + 16 * r.sids.size() + metrics_size(r.metrics);
}

// Splits `records` over as few messages of at most kMaxDatagram bytes as
// greedy packing gives. Sequence numbers are set when sending.
std::vector<advert::Message> pack(const AgentConfig& c, advert::Type type, std::vector<advert::Record> records) {
    std::vector<advert::Message> out;
    std::size_t size = 0;
    for (advert::Record& r : records) {
        const std::size_t rs = record_size(type, r);
        if (out.empty() || size + rs > kMaxDatagram) {
            advert::Message m;
            m.type = type;
            m.key_id = c.key_id;
            m.node_id = c.node_id;
            m.lifetime_s = type == advert::Type::Advertise ? c.lifetime_s : 0;
            out.push_back(std::move(m));
            size = advert::kHeaderLen + advert::kMacLen;
        }
        out.back().records.push_back(std::move(r));
        size += rs;
    }
    return out;
}

std::string hex(const std::vector<std::uint8_t>& b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * b.size());
    for (const std::uint8_t x : b) {
        s += kHex[x >> 4];
        s += kHex[x & 0xF];
    }
    return s;
}

// Logs a condition when it starts, changes or clears, not every interval.
class Condition {
public:
    void set(const std::string& what, const std::string& error) {
        if (error == last_)
            return;
        if (!error.empty())
            log_warn(what + ": " + error);
        else
            log_info(what + ": ok again");
        last_ = error;
    }

private:
    std::string last_;
};

class Agent {
public:
    Agent(asio::io_context& io, AgentConfig cfg)
        : io_(io), cfg_(std::move(cfg)), measurer_(cfg_.measure), timer_(io), signals_(io, SIGINT, SIGTERM),
          next_seq_(unix_micros()) {}

    // The datagrams one interval would send, signed (advances the sequence).
    std::vector<std::vector<std::uint8_t>> advertisements() {
        std::vector<std::vector<std::uint8_t>> out;
        for (advert::Message& m : pack(cfg_, advert::Type::Advertise, current_records()))
            out.push_back(sign(m));
        return out;
    }

    // Resolves every controller and opens its socket. Throws on failure.
    void open() {
        udp::resolver resolver(io_);
        for (const Controller& c : cfg_.controllers) {
            boost::system::error_code ec;
            const auto results = resolver.resolve(c.host, c.port, udp::resolver::numeric_service, ec);
            if (ec || results.empty())
                throw std::runtime_error("controller " + c.text + ": cannot resolve: " + ec.message());
            const udp::endpoint ep = results.begin()->endpoint();
            auto t = std::make_unique<Target>(Target{c, udp::socket(io_), {}});
            t->socket.open(ep.protocol());
            // Connected: a port-unreachable answer surfaces as an error on
            // a later send, so a controller that is down gets logged.
            t->socket.connect(ep);
            targets_.push_back(std::move(t));
        }
    }

    // Sends one round; true if every datagram reached every socket.
    bool send_round() { return send_all(advertisements()); }

    void run() {
        log_info("node " + std::to_string(cfg_.node_id) + " key " + std::to_string(cfg_.key_id) + ": advertising " +
            std::to_string(cfg_.instances.size()) + " instance(s) to " + controller_list() + " every " +
            seconds_text(cfg_.interval_s) + " s, lifetime " + std::to_string(cfg_.lifetime_s) + " s");
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (!ec)
                stop(sig);
        });
        send_round();
        next_ = std::chrono::steady_clock::now();
        schedule();
        io_.run();
    }

private:
    struct Target {
        Controller ctl;
        udp::socket socket;
        Condition condition;
    };

    std::chrono::steady_clock::duration interval() const {
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(cfg_.interval_s));
    }

    static std::string seconds_text(double s) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", s);
        return buf;
    }

    std::string controller_list() const {
        std::string s;
        for (const Controller& c : cfg_.controllers)
            s += (s.empty() ? "" : ", ") + c.text;
        return s;
    }

    // Ticks on a fixed grid (no drift); after a stall it starts afresh.
    void schedule() {
        const auto now = std::chrono::steady_clock::now();
        next_ += interval();
        if (next_ < now)
            next_ = now + interval();
        timer_.expires_at(next_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopping_)
                return;
            send_round();
            schedule();
        });
    }

    void stop(int sig) {
        stopping_ = true;
        timer_.cancel();
        std::vector<advert::Record> records;
        for (const InstanceConfig& in : cfg_.instances)
            records.push_back(advert::Record{in.cs_id, in.id, {}, {}});
        std::vector<std::vector<std::uint8_t>> dgrams;
        for (advert::Message& m : pack(cfg_, advert::Type::Withdraw, std::move(records)))
            dgrams.push_back(sign(m));
        const bool ok = send_all(dgrams);
        log_info(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ": withdrew " + std::to_string(cfg_.instances.size()) +
            " instance(s) from " + std::to_string(targets_.size()) + " controller(s)" +
            (ok ? "" : " (some sends failed; the instances expire within their lifetime)"));
        io_.stop();
    }

    std::vector<std::uint8_t> sign(advert::Message& m) {
        m.sequence = next_seq_++;
        return advert::encode(m, cfg_.key);
    }

    bool send_all(const std::vector<std::vector<std::uint8_t>>& dgrams) {
        bool all_ok = true;
        for (auto& t : targets_) {
            // An ICMP port unreachable for the previous round is kept as
            // the socket's pending error. Reading it here (which clears it)
            // gives a steady "failing" while a controller is down, instead
            // of a send that fails every other round.
            std::string error;
            int pending = 0;
            socklen_t len = sizeof pending;
            if (::getsockopt(t->socket.native_handle(), SOL_SOCKET, SO_ERROR, &pending, &len) == 0 && pending != 0) {
                error = "datagrams refused: " + std::string(std::strerror(pending));
                all_ok = false;
            }
            for (const auto& d : dgrams) {
                boost::system::error_code ec;
                t->socket.send(asio::buffer(d), 0, ec);
                if (ec) {
                    error = "send failed: " + ec.message();
                    all_ok = false;
                    break;
                }
            }
            t->condition.set("controller " + t->ctl.text, error);
            if (error.empty())
                log_debug("controller " + t->ctl.text + ": sent " + std::to_string(dgrams.size()) + " datagram(s)");
        }
        return all_ok;
    }

    // This interval's records: configured metrics, then measured ones, then
    // the metrics file (each overriding the one before).
    std::vector<advert::Record> current_records() {
        std::vector<std::string> errors;
        std::string detail;
        const advert::Metrics measured = measurer_.measure(errors, &detail);
        // What was measured, when it changes what is advertised (not every
        // interval): an operator sees why an instance went ineligible.
        if (!detail.empty() && (measured.load_pct != last_measured_.load_pct ||
                                measured.free_capacity != last_measured_.free_capacity || !measured_logged_)) {
            log_info("measured: " + detail);
            last_measured_ = measured;
            measured_logged_ = true;
        } else if (!detail.empty()) {
            log_debug("measured: " + detail);
        }
        std::string merr;
        for (const std::string& e : errors)
            merr += (merr.empty() ? "" : "; ") + e;
        measure_condition_.set("measure", merr);
        if (cfg_.metrics_file) {
            try {
                metrics_file_ = load_metrics_file(*cfg_.metrics_file);
                file_condition_.set("metrics file", "");
            } catch (const UsageError& e) {
                // Keep the last good values: a half-written file must not
                // flap the metrics.
                file_condition_.set("metrics file", std::string(e.what()) + " (keeping the last good values)");
            }
        }
        std::vector<advert::Record> out;
        for (const InstanceConfig& in : cfg_.instances) {
            advert::Record r{in.cs_id, in.id, in.sids, in.metrics};
            overlay_metrics(r.metrics, measured);
            overlay_metrics(r.metrics, metrics_file_.all);
            for (const auto& [key, m] : metrics_file_.per_instance)
                if (key.first == in.cs_id && key.second == in.id)
                    overlay_metrics(r.metrics, m);
            out.push_back(std::move(r));
        }
        return out;
    }

    asio::io_context& io_;
    AgentConfig cfg_;
    Measurer measurer_;
    asio::steady_timer timer_;
    asio::signal_set signals_;
    std::vector<std::unique_ptr<Target>> targets_;
    std::uint64_t next_seq_;
    std::chrono::steady_clock::time_point next_{};
    bool stopping_ = false;
    MetricsOverride metrics_file_;
    advert::Metrics last_measured_;
    bool measured_logged_ = false;
    Condition measure_condition_;
    Condition file_condition_;
};

}  // namespace

}  // namespace cats::agent

int main(int argc, char** argv) {
    using namespace cats::agent;
    cats::set_log_program("cats-agent");
    AgentConfig cfg;
    try {
        cfg = parse_args(argc, argv);
    } catch (const ArgError& e) {
        std::cerr << "cats-agent: " << e.what() << "\n  (cats-agent --help for usage)\n";
        return 2;
    } catch (const UsageError& e) {
        std::cerr << "cats-agent: " << e.what() << "\n";
        return 2;
    }
    cats::set_log_level(cfg.log_level);
    if (cfg.help) {
        std::cout << kUsage;
        return 0;
    }
    if (cfg.version) {
        std::cout << "cats-agent " << CATS_VERSION << " (git " << CATS_GIT << ")\n";
        return 0;
    }
    try {
        asio::io_context io;
        Agent agent(io, cfg);
        if (cfg.dump) {
            for (const auto& d : agent.advertisements())
                std::cout << hex(d) << "\n";
            return 0;
        }
        agent.open();
        if (cfg.once)
            return agent.send_round() ? 0 : 1;
        agent.run();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "cats-agent: " << e.what() << "\n";
        return 1;
    }
}
