// SPDX-License-Identifier: BSD-3-Clause
// What `catsctl monitor` streams: cats-control's events, kept in a bounded
// log and handed out by long poll (ctl_wire.hpp, command "events").
//
//   - Every event is a JSON object with "seq" (1, 2, ... since start),
//     "time" (UTC, RFC 3339 with milliseconds) and "type"; control/README.md
//     lists the types and their keys.
//   - The log keeps the last kCapacity events. A client that falls further
//     behind is told how many it lost, and goes on from the oldest kept.
//   - A poll with nothing to return waits (up to ctl::kMaxEventWaitMs) and
//     is answered by the next add(), or empty when its wait is over. At most
//     kMaxWaiters polls wait at once (a waiting poll holds one of the ctl
//     server's sessions: well below CtlServer::kMaxSessions); one more is
//     an error.
//   - Every answer carries "boot", fixed for the life of the process: a
//     client that sees it change knows that seqs started again.
//   - The daemon samples the dataplane (drops per second, neighbor changes)
//     only while someone watches: a poll in the last kWatchWindow.
//
// The sampling turns two STATS replies into events: drop_rates() and
// neighbor_changes() below, pure so that tests can feed them.
//
// Thread safety: none; everything on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "ctl_wire.hpp"

namespace cats::control {

class EventLog {
public:
    static constexpr std::size_t kCapacity = 4096;
    static constexpr std::size_t kMaxWaiters = 16;
    static constexpr std::chrono::seconds kWatchWindow{10};
    using Clock = std::chrono::steady_clock;
    // Called once with the result object of the "events" command, or with
    // a string: the error to answer (too many polls wait).
    using Reply = std::function<void(nlohmann::json result)>;

    explicit EventLog(boost::asio::io_context& io);
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    // Stamps `event` (an object with "type") with "seq" and "time", keeps
    // it and answers the polls that wait.
    void add(nlohmann::json event);
    void poll(const ctl::EventsArgs& args, Reply reply);
    // Answers every waiting poll (empty), for shutdown.
    void stop();

    // Has a client polled within kWatchWindow?
    bool watched(Clock::time_point now) const noexcept;
    std::uint64_t last_seq() const noexcept { return next_seq_ - 1; }
    std::size_t size() const noexcept { return log_.size(); }
    std::size_t waiting() const noexcept { return waiters_.size(); }

private:
    struct Waiter {
        std::uint64_t after = 0;
        std::uint32_t limit = 0;
        Reply reply;
        std::unique_ptr<boost::asio::steady_timer> timer;
    };
    nlohmann::json collect(std::uint64_t after, std::uint32_t limit) const;
    void answer(std::uint64_t id);

    boost::asio::io_context& io_;
    std::deque<nlohmann::json> log_;  // seqs next_seq_ - size() .. next_seq_ - 1
    std::uint64_t next_seq_ = 1;
    std::map<std::uint64_t, Waiter> waiters_;
    std::uint64_t next_waiter_ = 0;
    std::optional<Clock::time_point> last_poll_;
    std::uint64_t boot_;  // the process's start, ns since the epoch
    bool stopped_ = false;
};

// The dataplane's drops between two STATS replies ("drops": {reason: count}),
// `seconds` apart: {"type":"drops","interval_s","total_per_s","per_s":
// {reason: rate}} with the reasons that moved, or null if none did. A
// counter that went down (the dataplane restarted) counts from 0.
nlohmann::json drop_rates(const nlohmann::json& before, const nlohmann::json& after, double seconds);

// What changed in the dataplane's neighbor table between two STATS
// replies ("neighbors": [{"address","port_id","state","mac",...}]): one
// {"type":"neighbor","address","port","state","mac","was"} per entry
// that is new, gone ("state":"gone") or whose state or MAC changed.
std::vector<nlohmann::json> neighbor_changes(const nlohmann::json& before, const nlohmann::json& after);

// "2026-12-07T21:40:01.123Z"
std::string utc_time_text(std::chrono::system_clock::time_point t);

}  // namespace cats::control
