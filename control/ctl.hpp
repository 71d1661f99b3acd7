// SPDX-License-Identifier: BSD-3-Clause
// The catsctl server: a Unix stream socket speaking proto-defs/ctl_wire.hpp
// (one JSON request line in, one JSON response line out, in order).
//
// The socket file is created mode 0660 (root, or the socket's group, may
// use catsctl); its directory is created if missing. A stale socket file
// left by a crash is replaced; a live one (another cats-control answers on
// it) is an error. At most kMaxSessions clients at once; a client idle for
// kIdleTimeout is disconnected.
//
// Work per session is bounded: each request's handler time (on the one
// io_context thread) is charged to its session, which may spend
// kBudgetBurst at once and then kBudgetSharePct % of the thread's time; a
// session over its budget has its next request read only once the debt is
// paid back. Parsed requests wait in a queue and run one per turn of the
// io_context (adverts, timers and the dataplane link run in between), the
// session with the most budget left first, so that a session that asks
// without pause cannot keep a new one waiting behind it. service.list is
// paged (ctl_wire.hpp) so that one request's cost is bounded too.
//
// Thread safety: none; everything on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "ctl_wire.hpp"

namespace cats::control {

class CtlServer {
public:
    static constexpr std::size_t kMaxSessions = 64;
    static constexpr std::chrono::seconds kIdleTimeout{60};
    static constexpr std::chrono::milliseconds kBudgetBurst{500};
    static constexpr int kBudgetSharePct = 50;

    struct Counters {
        std::uint64_t requests = 0;
        std::uint64_t throttled = 0;       // requests delayed by the budget
        std::uint64_t handler_errors = 0;  // handlers that threw (answered)
    };

    // Call once with the response line (ctl::encode_ok / encode_error);
    // may be called later, from another handler on the same thread.
    using Respond = std::function<void(std::string line)>;
    using Handler = std::function<void(const ctl::Request& req, Respond respond)>;

    // Binds and listens; throws std::runtime_error naming the path.
    CtlServer(boost::asio::io_context& io, std::string path, Handler handler);
    ~CtlServer();
    CtlServer(const CtlServer&) = delete;
    CtlServer& operator=(const CtlServer&) = delete;

    // Stop accepting, close every session, remove the socket file.
    void stop();
    const std::string& path() const noexcept { return path_; }
    const Counters& counters() const noexcept { return *counters_; }

    struct Session;
    struct Scheduler;

private:
    void accept();

    boost::asio::io_context& io_;
    std::string path_;
    Handler handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_;  // after a failed accept (EMFILE...)
    std::shared_ptr<std::size_t> live_sessions_ = std::make_shared<std::size_t>(0);
    std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
    std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
    std::shared_ptr<Scheduler> sched_;
    std::vector<std::weak_ptr<Session>> sessions_;
};

}  // namespace cats::control
