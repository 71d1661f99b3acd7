// SPDX-License-Identifier: BSD-3-Clause
// The resolved table: every service and instance cats-control knows, where
// each came from, how long an advertised one lives, and what the dataplane
// was last told about it. Pure: no I/O, no clock (every call takes `now`),
// so aging and churn control are tested with made-up times.
//
// Sources, all merged into one table keyed by (cs_id, instance id):
//   static   services and instances from the config file;
//   cli      instances added by `catsctl instance add` (kept until deleted,
//            not saved to disk);
//   advert   instances announced by a compute node, withdrawn by a WITHDRAW
//            record or when their lifetime passes without a refresh.
// An (cs_id, id) belongs to whoever created it first: an advert for a static
// or CLI instance, or for an instance another node advertises, is refused
// (`conflict`). A service that is not in the config is created on demand
// (name "cs-<id>" or the CLI's --name, policy.default_affinity_timeout_s)
// and removed with its last instance.
//
// Churn control (CATS R11), per instance, against what the dataplane has:
//   - new instance, withdrawal, expiry, SID list change, and eligibility
//     changes (load crossing 100 %, free capacity to or from 0, compute
//     types, weight to or from 0) are pushed at once;
//   - other metric changes smaller than max(metric_threshold_pct % of the
//     pushed value, 1) are not pushed (`suppressed`); comparing with the
//     pushed value, not the previous advert, keeps a slow drift from
//     hiding forever;
//   - at most max_pushes_per_s pushes per instance: a change that comes too
//     soon is held (`dampened`) and flush() pushes the latest value when the
//     interval has passed;
//   - operator (CLI) changes are pushed at once, never thresholded.
//
// Every mutating call returns the mgmt::Op list to send to the dataplane, in
// order; snapshot() returns the whole table as a replace-all batch.
//
// Thread safety: none; one thread (the daemon's io_context) owns a Rib.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "advert_wire.hpp"
#include "config.hpp"
#include "ctl_wire.hpp"
#include "mgmt_wire.hpp"

namespace cats::control {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;
using Sid = std::array<std::uint8_t, 16>;

enum class Origin : std::uint8_t { Static, Cli, Advert };
const char* origin_name(Origin o) noexcept;

// Why an advertised record or a CLI command was not applied; indexes
// counters.
enum class RecordError : std::uint8_t {
    Ok = 0,
    BadRecord,         // SID count out of range, lifetime 0
    Conflict,          // (cs_id, id) owned by config, CLI or another node
    NotOwner,          // withdrawal of an instance another source owns
    UnknownInstance,   // withdrawal of an instance that does not exist
    ServiceFull,       // kMaxInstancesPerService
    TooManyServices,   // policy.max_services
    TooManyInstances,  // policy.max_instances
    OutOfScope,        // CS-ID or instance id outside the node's peers[].cs_ids / instance_ids
    NodeQuota,         // the node's peers[].max_instances / max_services
    Count
};
inline constexpr std::array<const char*, static_cast<std::size_t>(RecordError::Count)> kRecordErrorNames = {
    "ok", "bad_record", "conflict", "not_owner", "unknown_instance", "service_full", "too_many_services",
    "too_many_instances", "out_of_scope", "node_quota",
};
using RecordErrorCounts = std::array<std::uint64_t, static_cast<std::size_t>(RecordError::Count)>;

struct RibCounters {
    std::uint64_t records_accepted = 0;  // advertised records applied
    std::uint64_t withdrawn = 0;         // by WITHDRAW records
    std::uint64_t expired = 0;           // lifetime passed
    std::uint64_t pushes = 0;            // instance changes sent (each UpsertInstance for a change)
    std::uint64_t pushes_immediate = 0;  // of which: bypassed churn control (eligibility, SIDs, CLI)
    std::uint64_t suppressed = 0;        // changes under the threshold, not sent
    std::uint64_t dampened = 0;          // changes held back by the rate limit
    std::uint64_t flushed = 0;           // held changes sent later by flush()
    std::uint64_t snapshots = 0;
    RecordErrorCounts rejected{};
};

// Advertised metrics -> the dataplane's (missing ones take their defaults):
// latency_us = latency_us + queue_delay_us (saturating), score = l2_score,
// load, free capacity, bandwidth, compute types, weight (capped at
// kMaxWeight) as they are.
mgmt::Metrics to_dataplane_metrics(const advert::Metrics& m) noexcept;

// Eligibility: a change the dataplane must see at once.
bool eligibility_changed(const mgmt::Metrics& before, const mgmt::Metrics& after) noexcept;
// Is a change at least max(pct % of `before`, 1) in some metric?
bool significant_change(const mgmt::Metrics& before, const mgmt::Metrics& after, std::uint32_t pct) noexcept;

class Rib {
public:
    explicit Rib(const PolicyConfig& policy);

    // The config's services. Call once, before anything else: no ops (the
    // first snapshot carries them). Input is validated by load_config.
    void load_static(const std::vector<StaticService>& services);

    struct IngestResult {
        std::vector<mgmt::Op> ops;
        std::uint32_t accepted = 0;  // records applied
        std::uint32_t rejected = 0;  // records refused (see counters)
        RecordErrorCounts rejected_by{};
        std::string first_error;     // "record 2 (cs 100 instance 7): conflict: ..."
    };
    // An authenticated, replay-checked message from `m.node_id`. `lifetime`
    // is the advertised lifetime already capped by policy; `scope` is the
    // node's (advertisements outside it are refused; withdrawals are not
    // scoped: a node can only withdraw what it owns).
    IngestResult ingest(const advert::Message& m, std::chrono::seconds lifetime, Time now,
                        const PeerScope& scope = PeerScope{});
    // Instances and services a node's advertisements hold now.
    std::size_t node_instances(std::uint32_t node_id) const noexcept;
    std::size_t node_services(std::uint32_t node_id) const noexcept;

    // Withdraw every advertised instance whose lifetime ended at or before now.
    std::vector<mgmt::Op> expire(Time now);
    // Push held changes whose interval has passed.
    std::vector<mgmt::Op> flush(Time now);
    // When expire() or flush() next has work; nullopt: never.
    std::optional<Time> next_deadline() const;

    // The whole table as one replace-all batch (sent when the dataplane
    // (re)connects). Marks everything pushed and drops held changes, since
    // the snapshot carries the latest values.
    mgmt::Batch snapshot();

    // Operator commands (catsctl). Return "" and append ops, or an error.
    std::string cli_add(const ctl::InstanceArgs& a, Time now, std::vector<mgmt::Op>& ops);
    std::string cli_set(const ctl::InstanceArgs& a, Time now, std::vector<mgmt::Op>& ops);
    std::string cli_del(std::uint32_t cs_id, std::uint32_t id, Time now, std::vector<mgmt::Op>& ops);
    // An operator override on any instance, advertised ones included: the
    // dataplane gets it with weight 0 (no new flows; pinned flows stay)
    // whatever its metrics say, until undrained; the node's refreshes keep
    // their metrics but not its weight. Pushed at once.
    std::string cli_drain(std::uint32_t cs_id, std::uint32_t id, bool drain, Time now, std::vector<mgmt::Op>& ops);

    // `catsctl service list`: one page (ctl::ServiceListArgs), with "next"
    // and the table's totals; the work is bounded by the page, not by the
    // table. Without arguments: the whole table in one page.
    nlohmann::json to_json(Time now, const ctl::ServiceListArgs& page) const;
    nlohmann::json to_json(Time now) const;
    nlohmann::json counters_json() const;
    const RibCounters& counters() const noexcept { return counters_; }
    // What happened to advertised instances since the last call (up:
    // advertised; down: withdrawn or expired), for the log and `catsctl
    // monitor`; at most kMaxEvents, then a count of those left out.
    struct Event {
        std::uint32_t cs_id = 0;
        std::uint32_t id = 0;
        bool up = false;
        std::uint32_t node_id = 0;
        std::string why;  // "advertised by node 3, SIDs ...", "withdrawn by node 3", ...
        // "cs 100 instance 7 up: advertised by node 3, SIDs ..."
        std::string text() const;
        friend bool operator==(const Event&, const Event&) = default;
    };
    struct Events {
        std::vector<Event> list;
        std::uint64_t left_out = 0;
    };
    static constexpr std::size_t kMaxEvents = 1024;
    Events take_events();
    std::size_t service_count() const noexcept { return services_.size(); }
    std::size_t instance_count() const noexcept { return n_instances_; }

private:
    struct Key {
        std::uint32_t cs_id = 0;
        std::uint32_t id = 0;
        auto operator<=>(const Key&) const = default;
    };
    struct Inst {
        Origin origin = Origin::Static;
        std::uint32_t node_id = 0;          // Advert
        std::vector<Sid> sids;              // current
        mgmt::Metrics metrics;              // current
        bool published = false;             // the dataplane has pub_*
        std::vector<Sid> pub_sids;
        mgmt::Metrics pub_metrics;
        std::optional<Time> expires;        // Advert
        std::optional<Time> last_push;
        std::optional<Time> pending_due;    // a held change goes out then
        bool drained = false;               // operator override: weight 0 in the dataplane
    };
    struct Svc {
        std::string name;
        std::uint32_t affinity_timeout_s = 30;
        bool configured = false;            // from the config: kept when empty
        std::map<std::uint32_t, Inst> instances;
    };
    using SvcMap = std::map<std::uint32_t, Svc>;

    RecordError check_room(const Svc* svc) const noexcept;
    Svc& create_service(std::uint32_t cs_id, std::string name);
    Inst& create_instance(std::uint32_t cs_id, Svc& svc, bool svc_is_new, std::uint32_t id, Inst in, Time now,
                          std::vector<mgmt::Op>& ops);
    void update(Key k, Inst& in, std::vector<Sid> sids, const mgmt::Metrics& m, bool operator_change, Time now,
                std::vector<mgmt::Op>& ops);
    void push_now(Key k, Inst& in, Time now, std::vector<mgmt::Op>& ops);
    void cancel_pending(Key k, Inst& in);
    void set_expiry(Key k, Inst& in, std::optional<Time> when);
    void remove(SvcMap::iterator svc, std::map<std::uint32_t, Inst>::iterator inst, std::vector<mgmt::Op>& ops);
    RecordError advertise(const advert::Record& r, std::uint32_t node_id, const PeerScope& scope,
                          std::chrono::seconds lifetime, Time now, std::vector<mgmt::Op>& ops, std::string& why);
    void count_node(std::uint32_t node_id, std::uint32_t cs_id, int delta);
    RecordError withdraw(const advert::Record& r, std::uint32_t node_id, std::vector<mgmt::Op>& ops,
                         std::string& why);
    // The metrics the dataplane gets: the instance's, drained or not.
    static mgmt::Metrics effective(const Inst& in) noexcept;
    void note_event(Event e);
    static mgmt::InstanceRec to_rec(std::uint32_t id, const Inst& in);
    static mgmt::ServiceRec to_rec(std::uint32_t cs_id, const Svc& s);

    PolicyConfig policy_;
    Clock::duration push_interval_{};  // 0: no rate limit
    SvcMap services_;
    std::size_t n_instances_ = 0;
    std::set<std::pair<Time, Key>> expiries_;
    std::set<std::pair<Time, Key>> pending_;
    // What each node's advertisements hold: instances per CS-ID (the
    // quotas of PeerScope). Entries go when they reach 0.
    std::map<std::uint32_t, std::map<std::uint32_t, std::uint32_t>> node_use_;
    RibCounters counters_;
    Events events_;
};

}  // namespace cats::control
