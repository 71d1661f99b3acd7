// SPDX-License-Identifier: BSD-3-Clause
// The dataplane client: cats-control's end of the management channel
// (proto-defs/mgmt_wire.hpp), a Unix stream socket served by cats-dataplane.
//
//   - Connects, and while the dataplane is away retries every 500 ms. The
//     dataplane keeps forwarding on its last table meanwhile.
//   - On every (re)connect: one full snapshot (UPDATE, replace_all) built
//     from the RIB at the moment it is sent; then increments (UPDATE
//     batches). The first snapshot after cats-control starts waits
//     policy.startup_hold_s so that agents can re-advertise first.
//   - One request in flight at a time; increments queued behind it are
//     coalesced into one batch. Every UPDATE is acknowledged with the table
//     version the dataplane now runs; the version and the time of the last
//     acknowledgement are kept for `catsctl dataplane status`.
//   - A refused UPDATE (ERROR reply) leaves the dataplane on its previous
//     table, which no longer matches the RIB: the link resynchronises with a
//     full snapshot after a backoff (1 s doubling to 30 s) and drops the
//     increments meanwhile (the snapshot carries them).
//   - No reply within the request timeout, a malformed reply or a reply
//     with the wrong seq: the connection is dropped and made again.
//   - STATUS_REQ, STATS_REQ, FLOWS_REQ on behalf of catsctl; the JSON text
//     the dataplane answers is handed back as is.
//   - SID_UPDATE (a local SID added or removed) on behalf of catsctl, in
//     turn with the rest. The daemon sends the SIDs it added again on every
//     connection (set_on_connect): a restarted dataplane starts from its
//     YAML's local_sids.
//
// Thread safety: none; every call on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mgmt_wire.hpp"
#include "rib.hpp"

namespace cats::control {

struct LinkCounters {
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t snapshots_sent = 0;
    std::uint64_t increments_sent = 0;
    std::uint64_t ops_sent = 0;
    std::uint64_t ops_dropped = 0;      // while down or out of sync (a snapshot carries them)
    std::uint64_t acks = 0;
    std::uint64_t update_errors = 0;    // ERROR replies to UPDATE
    std::uint64_t queries = 0;
    std::uint64_t query_errors = 0;
    std::uint64_t protocol_errors = 0;  // malformed or unexpected replies
    std::uint64_t timeouts = 0;
    std::uint64_t sid_updates = 0;      // SID_UPDATEs sent
    std::uint64_t sid_errors = 0;       // ERROR replies to SID_UPDATE
};

class DataplaneLink {
public:
    using SnapshotFn = std::function<mgmt::Batch()>;
    struct PushResult {
        bool applied = false;            // the dataplane runs it
        std::uint64_t table_version = 0; // when applied
        std::string note;                // when not: why, and what happens to it
    };
    using PushFn = std::function<void(const PushResult&)>;
    // error empty: `json` is the dataplane's reply text.
    using ReplyFn = std::function<void(const std::string& error, const std::string& json)>;

    DataplaneLink(boost::asio::io_context& io, std::string socket_path, SnapshotFn snapshot,
                  Clock::duration startup_hold);
    ~DataplaneLink();
    DataplaneLink(const DataplaneLink&) = delete;
    DataplaneLink& operator=(const DataplaneLink&) = delete;

    void start();
    // Close and fail whatever waits; no more retries.
    void stop();

    // Increments from the RIB. `done` (optional) is called once, when the
    // dataplane acknowledged them or when it is known they will only reach
    // it in a snapshot.
    void push(std::vector<mgmt::Op> ops, PushFn done = {});
    // A request that the dataplane answers with JSON text.
    void query(mgmt::MsgType type, std::vector<std::uint8_t> payload, ReplyFn done);

    // SID_UPDATE: one local SID added or removed. `done` is called once:
    // applied, with the SID table's new version; or refused by the
    // dataplane (its error names the SID and field; nothing changed there);
    // or neither (the link's error: not connected, disconnected, timeout).
    // Sent in turn with the other requests, also while the first snapshot
    // is held (the SID table waits for no advertisement).
    struct SidResult {
        bool applied = false;
        bool refused = false;
        std::uint64_t sid_table_version = 0;
        std::string error;
    };
    using SidFn = std::function<void(const SidResult&)>;
    void sid_update(const mgmt::SidOp& op, SidFn done);
    // Called on every new connection, once the snapshot (or its hold) is
    // under way: what must follow it, in order (the daemon's SIDs).
    void set_on_connect(std::function<void()> fn) { on_connect_ = std::move(fn); }

    bool up() const noexcept { return state_ == State::Up; }
    const std::string& socket_path() const noexcept { return path_; }
    std::optional<std::uint64_t> table_version() const noexcept { return table_version_; }
    const LinkCounters& counters() const noexcept { return counters_; }
    nlohmann::json status_json() const;
    nlohmann::json counters_json() const;
    // Time from sending an UPDATE to its acknowledgement: the last one and
    // the longest since start, in seconds (null before the first).
    nlohmann::json update_latency_json() const;

    // Link events for `catsctl monitor` (control/events.hpp): {"type":
    // "link", "state": "connected" | "down", "why"?} and {"type": "table",
    // "version", "snapshot": bool, "ops", "latency_ms"} for every
    // acknowledged UPDATE, {"type": "table", "refused": why} for a refused one.
    using Observer = std::function<void(nlohmann::json event)>;
    void set_observer(Observer o) { observer_ = std::move(o); }

    // Tests: shorter timers.
    void set_timers(Clock::duration retry, Clock::duration request_timeout);

private:
    enum class State { Down, Connecting, Holding, Up };
    enum class Kind { Snapshot, Increment, Query, Sid };
    struct Req {
        Kind kind = Kind::Increment;
        mgmt::MsgType type = mgmt::MsgType::Update;
        std::vector<mgmt::Op> ops;          // Increment
        std::vector<std::uint8_t> payload;  // Query, Sid
        std::vector<PushFn> acks;           // Snapshot, Increment
        ReplyFn reply;                      // Query
        SidFn sid_done;                     // Sid
        std::uint32_t seq = 0;
        Time sent_at{};                     // when it went out
    };

    void connect();
    void on_connected();
    void begin_sync();
    void kick();
    void send(Req req);
    void read_header();
    void on_reply(const mgmt::Header& h, std::vector<std::uint8_t> payload);
    void on_update_reply(Req& req, const mgmt::Header& h, std::span<const std::uint8_t> payload);
    void on_sid_reply(Req& req, const mgmt::Header& h, std::span<const std::uint8_t> payload);
    void resync_later(const std::string& why);
    void disconnect(const std::string& why);
    // What went wrong last, and when (status_json: last_error_ms_ago, so
    // that an old error is not read as the link's state).
    void note_error(const std::string& what);
    void fail_pending(const std::string& why);
    static void finish(Req& req, const PushResult& r, const std::string& query_error);

    boost::asio::io_context& io_;
    std::string path_;
    SnapshotFn snapshot_;
    boost::asio::local::stream_protocol::socket sock_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer request_timer_;
    boost::asio::steady_timer resync_timer_;
    Clock::duration retry_interval_ = std::chrono::milliseconds(500);
    Clock::duration request_timeout_ = std::chrono::seconds(30);
    Clock::duration resync_backoff_ = std::chrono::seconds(1);
    Time hold_until_{};

    void notify(nlohmann::json event) const {
        if (observer_)
            observer_(std::move(event));
    }

    Observer observer_;
    std::function<void()> on_connect_;
    State state_ = State::Down;
    bool stopped_ = false;
    bool resync_pending_ = false;       // a refused UPDATE: snapshot after the backoff
    std::uint64_t conn_gen_ = 0;        // ignores callbacks of an older connection
    std::uint32_t next_seq_ = 1;
    std::deque<Req> queue_;
    std::optional<Req> inflight_;
    std::vector<std::uint8_t> out_;
    std::array<std::uint8_t, mgmt::kHeaderLen> hdr_buf_{};
    std::vector<std::uint8_t> in_;

    std::optional<std::uint64_t> table_version_;
    std::optional<std::chrono::system_clock::time_point> last_ack_wall_;
    std::optional<Time> last_ack_;
    std::optional<Clock::duration> last_update_latency_;
    Clock::duration max_update_latency_{};
    std::string last_error_;
    std::optional<Time> last_error_at_;  // when last_error_ was set
    bool logged_down_ = false;
    LinkCounters counters_;
};

}  // namespace cats::control
