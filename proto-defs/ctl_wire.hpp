// SPDX-License-Identifier: BSD-3-Clause
// The operator channel between catsctl and cats-control, version 0.
// A local stream socket (AF_UNIX, SOCK_STREAM, default kDefaultSocket). The
// client writes one request, a JSON object on one line ending in '\n'; the
// daemon answers with exactly one JSON line. A connection may carry several
// requests, one after the other. See control/README.md for every command.
//
//   request:  {"v":0,"cmd":"instance.add","args":{"cs_id":100,"id":4,...}}\n
//   response: {"v":0,"ok":true,"result":{...}}\n
//          or {"v":0,"ok":false,"error":"args.sids[0]: 'x' is not an IPv6 address"}\n
//
// A line is at most kMaxLine bytes; a longer one is answered with an error
// and the connection is closed. Unknown top-level keys and unknown argument
// keys are errors, so a typo never silently means "not given".
//
// Errors name the JSON path of what is wrong, like the YAML config errors.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <array>
#include <map>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mgmt_wire.hpp"
#include "name_text.hpp"

namespace cats::ctl {

inline constexpr int kVersion = 0;
inline constexpr std::size_t kMaxLine = 1u << 20;  // 1 MiB, newline included
// Deeper JSON is refused before it is parsed: copying, comparing and
// printing nlohmann::json recurse, so depth must be bounded for input from
// outside.
inline constexpr std::size_t kMaxDepth = 32;
inline constexpr const char* kDefaultSocket = "/run/cats/control.sock";
inline constexpr std::size_t kMaxSids = 5;          // as mgmt::kMaxSids
using wire::kMaxNameLen;                            // name_text.hpp
inline constexpr std::uint32_t kMaxWeight = 1000000;
inline constexpr std::uint32_t kDefaultFlowLimit = 1000;
inline constexpr std::uint32_t kMaxFlowLimit = 1000000;
// service.list answers a page at a time, so that one request costs a
// bounded amount of work and of memory (the whole table at 65,536 instances
// is some 34 MB of JSON): a page holds whole services, in CS-ID order, up to
// `limit` instances (a service bigger than the limit comes alone).
inline constexpr std::uint32_t kDefaultServicePage = 256;  // instances
inline constexpr std::uint32_t kMaxServicePage = 4096;

// Command names ("cmd").
inline constexpr std::string_view kServiceList = "service.list";
inline constexpr std::string_view kInstanceAdd = "instance.add";
inline constexpr std::string_view kInstanceDel = "instance.del";
inline constexpr std::string_view kInstanceSet = "instance.set";
inline constexpr std::string_view kFlowList = "flow.list";
inline constexpr std::string_view kPeerList = "peer.list";
inline constexpr std::string_view kStats = "stats";
inline constexpr std::string_view kDataplaneStatus = "dataplane.status";
inline constexpr std::string_view kNeighborList = "neighbor.list";
inline constexpr std::string_view kPortList = "port.list";
inline constexpr std::string_view kRouteList = "route.list";
// An operator override on any instance (advertised ones too): weight 0 in
// the dataplane until undrained. Arguments as instance.del.
inline constexpr std::string_view kInstanceDrain = "instance.drain";
inline constexpr std::string_view kInstanceUndrain = "instance.undrain";
// `catsctl monitor`: what happened, as a stream of events (EventsArgs).
inline constexpr std::string_view kEvents = "events";
// The dataplane's local SIDs (SRv6 endpoint behaviours, SidArgs) and the
// per-policy counters of both ends of a CATS path.
inline constexpr std::string_view kSidAdd = "sid.add";
inline constexpr std::string_view kSidDel = "sid.del";
inline constexpr std::string_view kSidList = "sid.list";
inline constexpr std::string_view kPolicyList = "policy.list";
inline constexpr std::array<std::string_view, 18> kCommands = {
    kServiceList,     kInstanceAdd,  kInstanceDel, kInstanceSet, kFlowList,      kPeerList,        kStats,
    kDataplaneStatus, kNeighborList, kPortList,    kRouteList,   kInstanceDrain, kInstanceUndrain, kEvents,
    kSidAdd,          kSidDel,       kSidList,     kPolicyList,
};

using Json = nlohmann::json;
using Sid = std::array<std::uint8_t, 16>;

struct Request {
    std::string cmd;
    Json args = Json::object();
};

struct Response {
    bool ok = false;
    Json result;        // ok
    std::string error;  // !ok
};

// Parse one request line (with or without its '\n'). Returns "" on success
// or what is wrong. Checks: size, nesting depth, JSON syntax, an object with
// "v" == 0, a known "cmd", "args" an object if present; nothing else.
std::string parse_request(std::string_view line, Request& out);
std::string parse_response(std::string_view line, Response& out);

// Does the JSON text nest arrays and objects at most `max` deep? A linear
// scan that skips strings; says nothing about validity.
bool depth_within(std::string_view text, std::size_t max) noexcept;

// Encoders return one line ending in '\n'. Strings that are not valid UTF-8
// are written with U+FFFD in place of the bad bytes (never throw).
std::string encode_request(const Request& r);
std::string encode_ok(const Json& result);
std::string encode_error(std::string_view error);
// JSON text on one line, invalid UTF-8 replaced.
std::string dump(const Json& j);

// Metric arguments: a missing key means "not given" (instance.set keeps the
// old value, instance.add takes the default).
struct MetricArgs {
    std::optional<std::uint8_t> score;           // 0..10
    std::optional<std::uint8_t> load_pct;        // 0..100
    std::optional<std::uint32_t> free_capacity;
    std::optional<std::uint32_t> latency_us;
    std::optional<std::uint32_t> bandwidth_kbps;
    std::optional<std::uint16_t> compute_types;  // non-empty list of "cpu" | "gpu" | "npu" | "fpga"
    std::optional<std::uint32_t> weight;         // 0..kMaxWeight
    bool empty() const {
        return !score && !load_pct && !free_capacity && !latency_us && !bandwidth_kbps && !compute_types &&
               !weight;
    }
    friend bool operator==(const MetricArgs&, const MetricArgs&) = default;
};

enum class InstanceCmd : std::uint8_t { Add, Del, Set };

// instance.add: {"cs_id", "id", "sids": [1..5 IPv6], "name"?, "metrics"?}
// instance.del: {"cs_id", "id"}
// instance.set: {"cs_id", "id", "sids"?, "metrics"?} (at least one of them)
struct InstanceArgs {
    std::uint32_t cs_id = 0;
    std::uint32_t id = 0;
    std::vector<Sid> sids;            // empty: not given (set) / invalid (add)
    std::optional<std::string> name;  // add: the service's name if it is created
    MetricArgs metrics;
};
std::string parse_instance_args(const Json& args, InstanceCmd cmd, InstanceArgs& out);
Json instance_args_to_json(const InstanceArgs& a, InstanceCmd cmd);

// flow.list: {"cs_id"?, "instance_id"?, "limit"? (1..kMaxFlowLimit)}
struct FlowArgs {
    std::optional<std::uint32_t> cs_id;
    std::optional<std::uint32_t> instance_id;
    std::uint32_t limit = kDefaultFlowLimit;
};
std::string parse_flow_args(const Json& args, FlowArgs& out);

// service.list: {"after"? (a CS-ID: start after it), "limit"? (instances,
// 1..kMaxServicePage, default kDefaultServicePage)}. The result carries
// "next": the "after" of the next page, or null on the last one.
struct ServiceListArgs {
    std::optional<std::uint32_t> after;
    std::uint32_t limit = kDefaultServicePage;
};
std::string parse_service_list_args(const Json& args, ServiceListArgs& out);

// events: {"after"? (the "seq" of the last event the client has), "wait_ms"?
// (0..kMaxEventWaitMs, default 0), "limit"? (1..kMaxEventLimit, default
// kMaxEventLimit)}. The events after `after`, oldest first; when there are
// none, the answer waits up to wait_ms for one (a long poll). Without
// `after` the answer comes at once with no events: its "after" is where to
// start. The result: {"events": [{"seq", "time", "type", ...}], "after": the
// next request's "after", "lost": events after `after` that the daemon no
// longer holds (it keeps the last few thousand)}. control/README.md lists
// the event types and their keys.
inline constexpr std::uint32_t kMaxEventWaitMs = 30000;
inline constexpr std::uint32_t kMaxEventLimit = 1000;
struct EventsArgs {
    std::optional<std::uint64_t> after;
    std::uint32_t wait_ms = 0;
    std::uint32_t limit = kMaxEventLimit;
};
std::string parse_events_args(const Json& args, EventsArgs& out);

// peer.list, stats, dataplane.status, neighbor.list, port.list, route.list,
// sid.list, policy.list take no arguments.
std::string parse_no_args(const Json& args);

// sid.add: {"sid": "addr" (a /128) or "addr/len", "behavior": "End" |
// "End.X" | "End.DX6" | "End.DT6" (any case), "next_hop": IPv6 address
// (required by End.X and End.DX6, refused by the others)}.
// sid.del: {"sid"}.
// Checked here: the syntax, and a next hop exactly where the behaviour
// needs one. The dataplane checks the rest (a /16 at least, host bits
// clear, a next hop it reaches) and its refusal names the SID and field.
enum class SidCmd : std::uint8_t { Add, Del };
std::string parse_sid_args(const Json& args, SidCmd cmd, mgmt::SidOp& out);
Json sid_args_to_json(const mgmt::SidOp& op);
// A SID as text: "addr" for a /128, "addr/len" otherwise (as the
// dataplane's stats write it). parse takes either form (len 0..128).
std::string format_sid_prefix(const Sid& addr, std::uint8_t len);
std::optional<std::pair<Sid, std::uint8_t>> parse_sid_prefix(const std::string& text);

// neighbor.list, port.list and route.list are answered from the dataplane's STATS reply
// (cats-dataplane's report): cats-control asks for it and passes on these
// parts of it, the entries as the dataplane wrote them (control/README.md
// lists their keys). Its keys:
inline constexpr std::string_view kStatsNeighbors = "neighbors";       // list of objects
inline constexpr std::string_view kStatsHeld = "held";                 // object, absent without a kernel path
inline constexpr std::string_view kStatsKernelPorts = "kernel_ports";  // list of objects
inline constexpr std::string_view kStatsConfigRoutes = "config_routes"; // list of objects
inline constexpr std::string_view kStatsKernelRoutes = "kernel_routes"; // object; null or absent: not mirrored
inline constexpr std::string_view kStatsLocalSids = "local_sids";        // list of objects
inline constexpr std::string_view kStatsPolicies = "policies";           // object: ingress, egress lists
// The results: {"neighbors":[...],"held":{...}|null} and {"ports":[...]}.
// Return "" or what is wrong with `stats` (a dataplane too old to report
// neighbors, or a part of the wrong shape), naming its path.
std::string neighbor_list_result(const Json& stats, Json& out);
std::string port_list_result(const Json& stats, Json& out);
// {"routes":[...],"kernel":{...}|null}: the config's routes (source
// "config") then the kernel's (source "kernel", kernel_routes.routes), and
// the mirror's counters (kernel_routes without its list).
std::string route_list_result(const Json& stats, Json& out);
// sid.list: {"sids":[{"sid","behavior","next_hop" ("" if none),"packets",
// "bytes","dropped","drops":{reason: n}}]}, stats.local_sids as the
// dataplane wrote them (cats-control adds "origin" to each).
std::string sid_list_result(const Json& stats, Json& out);
// policy.list: stats.policies as is: {"ingress":[{"source","sid",
// "segments","cs_id","instance","packets","bytes"}],"egress":[{"source",
// "sid","packets","bytes"}],"egress_overflow","egress_capacity"}. Both
// lists carry source, sid, packets and bytes: one policy's two ends
// compare key by key (the ingress's source is its encap_source, its sid
// the last segment; the egress's sid is the local SID that ended it).
std::string policy_list_result(const Json& stats, Json& out);

// Which instances the dataplane cannot steer to (their first SID does not
// resolve), from its STATUS reply ("unresolved": [{"cs_id","id","reason"}],
// "unresolved_count"). `complete` is false when the list was cut short:
// an instance not in it is then of unknown state. `known` is false when
// the reply has no such list (an older dataplane).
struct Unresolved {
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::string> reasons;
    bool known = false;
    bool complete = false;
};
Unresolved unresolved_from_status(const Json& status);
// Marks each instance of a service.list result that the dataplane runs
// (push_state "in_sync") "resolved": true|false, with "unresolved_reason".
void annotate_resolution(Json& service_list, const Unresolved& u);

// Compute types: bit set <-> names ("cpu,gpu" on the command line,
// ["cpu","gpu"] in JSON). parse returns nullopt for an unknown or repeated
// name, or an empty list.
std::optional<std::uint16_t> parse_compute_types(std::string_view comma_list);
Json compute_types_to_json(std::uint16_t bits);
std::string compute_types_to_string(std::uint16_t bits);

std::optional<Sid> parse_sid(const std::string& text);
std::string format_sid(const Sid& sid);

}  // namespace cats::ctl
