// SPDX-License-Identifier: BSD-3-Clause
// Metrics for Prometheus: cats-control serves GET /metrics over HTTP
// (Boost.Beast) in the Prometheus text format 0.0.4, with everything
// `catsctl stats` knows: cats-control's own counters, and the dataplane's
// (ports, totals, drops by reason, flow table, per service and instance
// packets, bytes, new flows and share), asked of the dataplane at each
// scrape. Names follow Prometheus conventions: cats_..._total for
// counters, the unit in the name, labels cs_id, service, instance, reason,
// port. Without a dataplane the control part is served and
// cats_dataplane_up is 0.
//
// Thread safety: none; the server runs on cats-control's one io_context
// thread. format_metrics() is pure.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace cats::control {

// The exposition of `control` (the "control" part of `catsctl stats`, plus
// "peers": the number of configured peer keys) and `dataplane` (the
// dataplane's STATS reply, or null when there is none).
std::string format_metrics(const nlohmann::json& control, const nlohmann::json& dataplane);

// A label value as the text format wants it: \ " and newline escaped.
std::string escape_label(const std::string& v);

class MetricsServer {
public:
    // Produces the body of one scrape, asynchronously: calls `done` once.
    using Produce = std::function<void(std::function<void(std::string)> done)>;

    // Binds address:port (port 0: any free one). Throws
    // boost::system::system_error naming neither: the caller says which.
    MetricsServer(boost::asio::io_context& io, const std::string& address, std::uint16_t port, Produce produce);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    void stop();

    // At most this many connections at once; more are closed at accept.
    static constexpr unsigned kMaxSessions = 16;

    struct Counters {
        std::uint64_t scrapes = 0;      // 200 answers to /metrics
        std::uint64_t not_found = 0;    // other paths
        std::uint64_t bad_requests = 0; // unparsable, too large, wrong method, timed out
        std::uint64_t refused = 0;      // over kMaxSessions
    };
    const Counters& counters() const noexcept { return counters_; }

private:
    class Session;
    void accept();

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    Produce produce_;
    std::uint16_t port_ = 0;
    unsigned sessions_ = 0;
    Counters counters_;
    // Sessions outliving the server check this before touching it.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cats::control
