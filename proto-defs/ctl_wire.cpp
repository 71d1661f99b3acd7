// SPDX-License-Identifier: BSD-3-Clause
#include "ctl_wire.hpp"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <limits>

#include "addr_text.hpp"

namespace cats::ctl {

namespace {

// What a JSON value is, for "expected X, got Y".
std::string describe(const Json& j) {
    switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "a list";
    case Json::value_t::object: return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return dump(j);
    case Json::value_t::number_float: return dump(j) + " (not an integer)";
    case Json::value_t::binary:
    case Json::value_t::discarded: break;
    }
    return "something else";
}

// An object's keys checked against the known ones; "" or the error.
std::string check_keys(const Json& obj, const std::string& path, std::initializer_list<std::string_view> known) {
    if (!obj.is_object())
        return path + ": expected an object, got " + describe(obj);
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
            std::string names;
            for (const std::string_view k : known)
                names += (names.empty() ? "" : ", ") + std::string(k);
            return path + "." + it.key() + ": unknown key" +
                   (names.empty() ? std::string(" (no arguments expected)") : " (expected one of: " + names + ")");
        }
    }
    return {};
}

// A JSON integer in [lo, hi]; floats, strings and booleans are refused.
template <class T>
std::string read_uint(const Json& j, const std::string& path, T& out, std::uint64_t lo, std::uint64_t hi) {
    const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
    // A parsed text gives non-negative integers as unsigned; a Json built in
    // code may hold them signed.
    if (j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
        const auto v = j.get<std::uint64_t>();
        if (v < lo || v > hi)
            return path + ": must be " + range + ", got " + std::to_string(v);
        out = static_cast<T>(v);
        return {};
    }
    if (j.is_number_integer())  // negative
        return path + ": must be " + range + ", got " + std::to_string(j.get<std::int64_t>());
    return path + ": expected an integer in " + range + ", got " + describe(j);
}

template <class T>
std::string read_opt(const Json& obj, std::string_view key, const std::string& path, std::optional<T>& out,
                     std::uint64_t lo, std::uint64_t hi) {
    const auto it = obj.find(key);
    if (it == obj.end())
        return {};
    T v{};
    std::string e = read_uint(*it, path + "." + std::string(key), v, lo, hi);
    if (e.empty())
        out = v;
    return e;
}

template <class T>
std::string read_req(const Json& obj, std::string_view key, const std::string& path, T& out, std::uint64_t lo,
                     std::uint64_t hi) {
    const auto it = obj.find(key);
    if (it == obj.end())
        return path + "." + std::string(key) + ": required key is missing";
    return read_uint(*it, path + "." + std::string(key), out, lo, hi);
}

constexpr std::uint64_t kU32 = UINT32_MAX;

std::string parse_metrics(const Json& j, const std::string& path, MetricArgs& m) {
    if (std::string e = check_keys(j, path,
                                   {"score", "load_pct", "free_capacity", "latency_us", "bandwidth_kbps",
                                    "compute_types", "weight"});
        !e.empty())
        return e;
    std::string e;
    if (e.empty()) e = read_opt(j, "score", path, m.score, 0, 10);
    if (e.empty()) e = read_opt(j, "load_pct", path, m.load_pct, 0, 100);
    if (e.empty()) e = read_opt(j, "free_capacity", path, m.free_capacity, 0, kU32);
    if (e.empty()) e = read_opt(j, "latency_us", path, m.latency_us, 0, kU32);
    if (e.empty()) e = read_opt(j, "bandwidth_kbps", path, m.bandwidth_kbps, 0, kU32);
    if (e.empty()) e = read_opt(j, "weight", path, m.weight, 0, kMaxWeight);
    if (!e.empty())
        return e;
    if (const auto it = j.find("compute_types"); it != j.end()) {
        const std::string p = path + ".compute_types";
        if (!it->is_array() || it->empty())
            return p + ": expected a non-empty list of cpu, gpu, npu, fpga, got " + describe(*it);
        std::string joined;
        for (std::size_t i = 0; i < it->size(); ++i) {
            const Json& v = (*it)[i];
            if (!v.is_string())
                return p + "[" + std::to_string(i) + "]: expected cpu, gpu, npu or fpga, got " + describe(v);
            const std::string name = v.get<std::string>();
            // One name per item: "cpu,gpu" is command-line syntax.
            const auto bit = name.find(',') == std::string::npos ? parse_compute_types(name) : std::nullopt;
            if (!bit)
                return p + "[" + std::to_string(i) + "]: expected cpu, gpu, npu or fpga, got '" +
                       v.get<std::string>() + "'";
            joined += (joined.empty() ? "" : ",") + v.get<std::string>();
        }
        const auto bits = parse_compute_types(joined);
        if (!bits)
            return p + ": a compute type is listed twice";
        m.compute_types = *bits;
    }
    return {};
}

Json metrics_to_json(const MetricArgs& m) {
    Json j = Json::object();
    if (m.score) j["score"] = *m.score;
    if (m.load_pct) j["load_pct"] = *m.load_pct;
    if (m.free_capacity) j["free_capacity"] = *m.free_capacity;
    if (m.latency_us) j["latency_us"] = *m.latency_us;
    if (m.bandwidth_kbps) j["bandwidth_kbps"] = *m.bandwidth_kbps;
    if (m.compute_types) j["compute_types"] = compute_types_to_json(*m.compute_types);
    if (m.weight) j["weight"] = *m.weight;
    return j;
}

std::string parse_sids(const Json& j, const std::string& path, std::vector<Sid>& out) {
    if (!j.is_array())
        return path + ": expected a list of 1.." + std::to_string(kMaxSids) + " IPv6 addresses, got " + describe(j);
    if (j.empty() || j.size() > kMaxSids)
        return path + ": must have 1.." + std::to_string(kMaxSids) + " SIDs, got " + std::to_string(j.size());
    out.clear();
    for (std::size_t i = 0; i < j.size(); ++i) {
        const std::string p = path + "[" + std::to_string(i) + "]";
        if (!j[i].is_string())
            return p + ": expected an IPv6 address, got " + describe(j[i]);
        const auto sid = parse_sid(j[i].get<std::string>());
        if (!sid)
            return p + ": '" + j[i].get<std::string>() + "' is not an IPv6 address";
        out.push_back(*sid);
    }
    return {};
}

constexpr std::array<std::pair<std::string_view, std::uint16_t>, 4> kComputeNames = {{
    {"cpu", 1}, {"gpu", 2}, {"npu", 4}, {"fpga", 8},
}};

}  // namespace

bool depth_within(std::string_view text, std::size_t max) noexcept {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string parse_request(std::string_view line, Request& out) {
    if (line.size() > kMaxLine)
        return "request of " + std::to_string(line.size()) + " bytes, at most " + std::to_string(kMaxLine);
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    if (!depth_within(line, kMaxDepth))
        return "request nests deeper than " + std::to_string(kMaxDepth) + " levels";
    const Json j = Json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded())
        return "request is not valid JSON";
    if (!j.is_object())
        return "request: expected an object, got " + describe(j);
    if (std::string e = check_keys(j, "request", {"v", "cmd", "args"}); !e.empty())
        return e;
    const auto v = j.find("v");
    if (v == j.end())
        return "request.v: required key is missing";
    if (!v->is_number_integer() || v->get<std::int64_t>() != kVersion)
        return "request.v: unsupported version " + describe(*v) + " (this daemon speaks " +
               std::to_string(kVersion) + ")";
    const auto cmd = j.find("cmd");
    if (cmd == j.end())
        return "request.cmd: required key is missing";
    if (!cmd->is_string())
        return "request.cmd: expected a string, got " + describe(*cmd);
    const std::string name = cmd->get<std::string>();
    if (std::find(kCommands.begin(), kCommands.end(), name) == kCommands.end()) {
        std::string names;
        for (const std::string_view c : kCommands)
            names += (names.empty() ? "" : ", ") + std::string(c);
        return "request.cmd: unknown command '" + name + "' (expected one of: " + names + ")";
    }
    out.cmd = name;
    out.args = Json::object();
    if (const auto a = j.find("args"); a != j.end()) {
        if (!a->is_object())
            return "request.args: expected an object, got " + describe(*a);
        out.args = *a;
    }
    return {};
}

std::string parse_response(std::string_view line, Response& out) {
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    // Responses carry the dataplane's replies, deeper than requests.
    if (!depth_within(line, 4 * kMaxDepth))
        return "response nests deeper than " + std::to_string(4 * kMaxDepth) + " levels";
    const Json j = Json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return "response is not a JSON object";
    const auto v = j.find("v");
    if (v == j.end() || !v->is_number_integer() || v->get<std::int64_t>() != kVersion)
        return "response: unsupported version";
    const auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean())
        return "response.ok: expected a boolean";
    out.ok = ok->get<bool>();
    if (out.ok) {
        const auto r = j.find("result");
        out.result = r == j.end() ? Json() : *r;
        out.error.clear();
    } else {
        const auto e = j.find("error");
        if (e == j.end() || !e->is_string())
            return "response.error: expected a string";
        out.error = e->get<std::string>();
    }
    return {};
}

std::string encode_request(const Request& r) {
    Json j = {{"v", kVersion}, {"cmd", r.cmd}, {"args", r.args}};
    return dump(j) + "\n";
}

std::string encode_ok(const Json& result) {
    Json j = {{"v", kVersion}, {"ok", true}, {"result", result}};
    return dump(j) + "\n";
}

std::string encode_error(std::string_view error) {
    Json j = {{"v", kVersion}, {"ok", false}, {"error", std::string(error)}};
    return dump(j) + "\n";
}

std::string parse_instance_args(const Json& args, InstanceCmd cmd, InstanceArgs& out) {
    const std::string path = "args";
    std::string e;
    switch (cmd) {
    case InstanceCmd::Add: e = check_keys(args, path, {"cs_id", "id", "sids", "name", "metrics"}); break;
    case InstanceCmd::Del: e = check_keys(args, path, {"cs_id", "id"}); break;
    case InstanceCmd::Set: e = check_keys(args, path, {"cs_id", "id", "sids", "metrics"}); break;
    }
    if (!e.empty())
        return e;
    out = InstanceArgs{};
    if (e = read_req(args, "cs_id", path, out.cs_id, 0, kU32); !e.empty())
        return e;
    if (e = read_req(args, "id", path, out.id, 0, kU32); !e.empty())
        return e;
    if (const auto s = args.find("sids"); s != args.end()) {
        if (e = parse_sids(*s, path + ".sids", out.sids); !e.empty())
            return e;
    } else if (cmd == InstanceCmd::Add) {
        return path + ".sids: required key is missing";
    }
    if (const auto n = args.find("name"); n != args.end()) {
        if (!n->is_string())
            return path + ".name: expected a string, got " + describe(*n);
        const std::string name = n->get<std::string>();
        if (name.empty())
            return path + ".name: must be 1.." + std::to_string(kMaxNameLen) + " bytes, got 0";
        if (std::string e = wire::check_name(name); !e.empty())
            return path + ".name: " + e;
        out.name = name;
    }
    if (const auto m = args.find("metrics"); m != args.end())
        if (e = parse_metrics(*m, path + ".metrics", out.metrics); !e.empty())
            return e;
    if (cmd == InstanceCmd::Set && out.sids.empty() && out.metrics.empty())
        return path + ": nothing to set (give sids or at least one metric)";
    return {};
}

Json instance_args_to_json(const InstanceArgs& a, InstanceCmd cmd) {
    Json j = {{"cs_id", a.cs_id}, {"id", a.id}};
    if (cmd == InstanceCmd::Del)
        return j;
    if (!a.sids.empty()) {
        Json s = Json::array();
        for (const Sid& sid : a.sids)
            s.push_back(format_sid(sid));
        j["sids"] = s;
    }
    if (cmd == InstanceCmd::Add && a.name)
        j["name"] = *a.name;
    if (!a.metrics.empty())
        j["metrics"] = metrics_to_json(a.metrics);
    return j;
}

std::string parse_flow_args(const Json& args, FlowArgs& out) {
    const std::string path = "args";
    if (std::string e = check_keys(args, path, {"cs_id", "instance_id", "limit"}); !e.empty())
        return e;
    out = FlowArgs{};
    std::string e = read_opt(args, "cs_id", path, out.cs_id, 0, kU32);
    if (e.empty())
        e = read_opt(args, "instance_id", path, out.instance_id, 0, kU32);
    if (e.empty()) {
        std::optional<std::uint32_t> limit;
        e = read_opt(args, "limit", path, limit, 1, kMaxFlowLimit);
        if (limit)
            out.limit = *limit;
    }
    return e;
}

std::string parse_service_list_args(const Json& args, ServiceListArgs& out) {
    const std::string path = "args";
    if (std::string e = check_keys(args, path, {"after", "limit"}); !e.empty())
        return e;
    out = ServiceListArgs{};
    std::string e = read_opt(args, "after", path, out.after, 0, kU32);
    if (e.empty()) {
        std::optional<std::uint32_t> limit;
        e = read_opt(args, "limit", path, limit, 1, kMaxServicePage);
        if (limit)
            out.limit = *limit;
    }
    return e;
}

std::string parse_events_args(const Json& args, EventsArgs& out) {
    const std::string path = "args";
    if (std::string e = check_keys(args, path, {"after", "wait_ms", "limit"}); !e.empty())
        return e;
    out = EventsArgs{};
    std::optional<std::uint32_t> wait, limit;
    std::string e = read_opt(args, "after", path, out.after, 0, std::numeric_limits<std::int64_t>::max());
    if (e.empty())
        e = read_opt(args, "wait_ms", path, wait, 0, kMaxEventWaitMs);
    if (e.empty())
        e = read_opt(args, "limit", path, limit, 1, kMaxEventLimit);
    out.wait_ms = wait.value_or(0);
    out.limit = limit.value_or(kMaxEventLimit);
    return e;
}

std::string parse_no_args(const Json& args) {
    return check_keys(args, "args", {});
}

namespace {

// A list of objects at `path`; "" or the error.
std::string object_list(const Json& j, const std::string& path) {
    if (!j.is_array())
        return path + ": expected a list, got " + describe(j);
    for (std::size_t i = 0; i < j.size(); ++i)
        if (!j[i].is_object())
            return path + "[" + std::to_string(i) + "]: expected an object, got " + describe(j[i]);
    return {};
}

// stats.<key>: a list of objects; "" or the error. `since`: the feature
// that added the key to the dataplane's stats.
std::string stats_list(const Json& stats, std::string_view key, std::string_view what, const Json*& out,
                       std::string_view since = "neighbor discovery") {
    if (!stats.is_object())
        return "dataplane stats: expected an object, got " + describe(stats);
    const auto it = stats.find(key);
    if (it == stats.end())
        return "dataplane stats: no " + std::string(what) + " in them (is cats-dataplane older than " +
               std::string(since) + "?)";
    if (std::string e = object_list(*it, "dataplane stats." + std::string(key)); !e.empty())
        return e;
    out = &*it;
    return {};
}

}  // namespace

std::string neighbor_list_result(const Json& stats, Json& out) {
    const Json* neighbors = nullptr;
    if (std::string e = stats_list(stats, kStatsNeighbors, "neighbors", neighbors); !e.empty())
        return e;
    Json held;  // null: the dataplane has no kernel path, so holds nothing
    if (const auto it = stats.find(kStatsHeld); it != stats.end() && !it->is_null()) {
        if (!it->is_object())
            return "dataplane stats." + std::string(kStatsHeld) + ": expected an object, got " + describe(*it);
        held = *it;
    }
    out = {{"neighbors", *neighbors}, {"held", std::move(held)}};
    return {};
}

std::string port_list_result(const Json& stats, Json& out) {
    const Json* ports = nullptr;
    if (std::string e = stats_list(stats, kStatsKernelPorts, "kernel ports", ports); !e.empty())
        return e;
    out = {{"ports", *ports}};
    return {};
}

std::string route_list_result(const Json& stats, Json& out) {
    const Json* configured = nullptr;
    if (std::string e = stats_list(stats, kStatsConfigRoutes, "config routes", configured); !e.empty())
        return e;
    Json routes = Json::array();
    for (const Json& r : *configured) {
        Json row = r;
        row["source"] = "config";
        routes.push_back(std::move(row));
    }
    Json kernel;  // null: routes are not mirrored from the kernel
    if (const auto it = stats.find(kStatsKernelRoutes); it != stats.end() && !it->is_null()) {
        const std::string path = "dataplane stats." + std::string(kStatsKernelRoutes);
        if (!it->is_object())
            return path + ": expected an object, got " + describe(*it);
        kernel = *it;
        const auto list = kernel.find("routes");
        if (list != kernel.end()) {
            if (!list->is_array())
                return path + ".routes: expected a list, got " + describe(*list);
            for (std::size_t i = 0; i < list->size(); ++i) {
                if (!(*list)[i].is_object())
                    return path + ".routes[" + std::to_string(i) + "]: expected an object, got " +
                           describe((*list)[i]);
                Json row = (*list)[i];
                row["source"] = "kernel";
                routes.push_back(std::move(row));
            }
            kernel.erase(list);
        }
    }
    out = {{"routes", std::move(routes)}, {"kernel", std::move(kernel)}};
    return {};
}

std::string sid_list_result(const Json& stats, Json& out) {
    const Json* sids = nullptr;
    if (std::string e = stats_list(stats, kStatsLocalSids, "local SIDs", sids, "the local SID table"); !e.empty())
        return e;
    out = {{"sids", *sids}};
    return {};
}

std::string policy_list_result(const Json& stats, Json& out) {
    if (!stats.is_object())
        return "dataplane stats: expected an object, got " + describe(stats);
    const auto it = stats.find(kStatsPolicies);
    if (it == stats.end())
        return "dataplane stats: no policies in them (is cats-dataplane older than the local SID table?)";
    const std::string path = "dataplane stats." + std::string(kStatsPolicies);
    if (!it->is_object())
        return path + ": expected an object, got " + describe(*it);
    for (const char* key : {"ingress", "egress"}) {
        const auto list = it->find(key);
        if (list == it->end())
            return path + "." + key + ": missing";
        if (std::string e = object_list(*list, path + "." + key); !e.empty())
            return e;
    }
    out = *it;
    return {};
}

std::string format_sid_prefix(const Sid& addr, std::uint8_t len) {
    return len == 128 ? format_sid(addr) : format_sid(addr) + "/" + std::to_string(len);
}

std::optional<std::pair<Sid, std::uint8_t>> parse_sid_prefix(const std::string& text) {
    if (text.find('/') == std::string::npos) {
        const auto a = parse_sid(text);
        return a ? std::optional<std::pair<Sid, std::uint8_t>>({*a, 128}) : std::nullopt;
    }
    const auto p = wire::parse_ipv6_prefix(text);
    return p ? std::optional<std::pair<Sid, std::uint8_t>>({p->addr, p->len}) : std::nullopt;
}

std::string parse_sid_args(const Json& args, SidCmd cmd, mgmt::SidOp& out) {
    const std::string path = "args";
    std::string e = cmd == SidCmd::Add ? check_keys(args, path, {"sid", "behavior", "next_hop"})
                                       : check_keys(args, path, {"sid"});
    if (!e.empty())
        return e;
    out = mgmt::SidOp{};
    out.op = cmd == SidCmd::Add ? mgmt::SidOpType::Add : mgmt::SidOpType::Del;
    const auto sid = args.find("sid");
    if (sid == args.end())
        return path + ".sid: required key is missing";
    if (!sid->is_string())
        return path + ".sid: expected an IPv6 address or prefix, got " + describe(*sid);
    const auto prefix = parse_sid_prefix(sid->get<std::string>());
    if (!prefix)
        return path + ".sid: '" + sid->get<std::string>() + "' is not an IPv6 address or prefix (addr or addr/len)";
    out.sid = prefix->first;
    out.prefix_len = prefix->second;
    if (cmd == SidCmd::Del)
        return {};
    const auto b = args.find("behavior");
    if (b == args.end())
        return path + ".behavior: required key is missing (" + mgmt::sid_behavior_list() + ")";
    if (!b->is_string())
        return path + ".behavior: expected one of " + mgmt::sid_behavior_list() + ", got " + describe(*b);
    const auto behavior = mgmt::parse_sid_behavior(b->get<std::string>());
    if (!behavior)
        return path + ".behavior: '" + b->get<std::string>() + "' is not a behavior (" + mgmt::sid_behavior_list() +
               "; End.DX4 and End.DT4 need IPv4 forwarding, which cats does not do)";
    out.behavior = *behavior;
    const std::string name(mgmt::sid_behavior_name(*behavior));
    const auto nh = args.find("next_hop");
    if (nh == args.end()) {
        if (mgmt::sid_needs_next_hop(*behavior))
            return path + ".next_hop: " + name + " needs a next hop (required key is missing)";
        return {};
    }
    if (!mgmt::sid_needs_next_hop(*behavior))
        return path + ".next_hop: " + name + " takes no next hop (End.X and End.DX6 do)";
    if (!nh->is_string())
        return path + ".next_hop: expected an IPv6 address, got " + describe(*nh);
    const auto addr = parse_sid(nh->get<std::string>());
    if (!addr)
        return path + ".next_hop: '" + nh->get<std::string>() + "' is not an IPv6 address";
    out.next_hop = *addr;
    return {};
}

Json sid_args_to_json(const mgmt::SidOp& op) {
    Json j = {{"sid", format_sid_prefix(op.sid, op.prefix_len)}};
    if (op.op == mgmt::SidOpType::Del)
        return j;
    j["behavior"] = std::string(mgmt::sid_behavior_name(op.behavior));
    if (op.next_hop)
        j["next_hop"] = format_sid(*op.next_hop);
    return j;
}

Unresolved unresolved_from_status(const Json& status) {
    Unresolved u;
    if (!status.is_object())
        return u;
    const auto list = status.find("unresolved");
    const auto count = status.find("unresolved_count");
    if (list == status.end() || !list->is_array() || count == status.end() || !count->is_number_unsigned())
        return u;
    for (const Json& e : *list) {
        if (!e.is_object() || !e.contains("cs_id") || !e.contains("id") || !e["cs_id"].is_number_unsigned() ||
            !e["id"].is_number_unsigned() || e["cs_id"].get<std::uint64_t>() > UINT32_MAX ||
            e["id"].get<std::uint64_t>() > UINT32_MAX)
            return Unresolved{};
        const auto r = e.find("reason");
        u.reasons[{e["cs_id"].get<std::uint32_t>(), e["id"].get<std::uint32_t>()}] =
            r != e.end() && r->is_string() ? r->get<std::string>() : "unresolved";
    }
    u.known = true;
    u.complete = count->get<std::uint64_t>() <= list->size();
    return u;
}

void annotate_resolution(Json& service_list, const Unresolved& u) {
    if (!u.known || !service_list.is_object())
        return;
    const auto services = service_list.find("services");
    if (services == service_list.end() || !services->is_array())
        return;
    for (Json& s : *services) {
        if (!s.is_object() || !s.contains("cs_id") || !s["cs_id"].is_number_unsigned() || !s.contains("instances") ||
            !s["instances"].is_array())
            continue;
        const auto cs = s["cs_id"].get<std::uint64_t>();
        for (Json& in : s["instances"]) {
            if (!in.is_object() || !in.contains("id") || !in["id"].is_number_unsigned() ||
                in.value("push_state", std::string()) != "in_sync")
                continue;
            const auto it = u.reasons.find({static_cast<std::uint32_t>(cs), in["id"].get<std::uint32_t>()});
            if (it != u.reasons.end()) {
                in["resolved"] = false;
                in["unresolved_reason"] = it->second;
            } else if (u.complete) {
                in["resolved"] = true;
            }
        }
    }
}

std::optional<std::uint16_t> parse_compute_types(std::string_view list) {
    std::uint16_t bits = 0;
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view word = list.substr(0, comma);
        const auto it = std::find_if(kComputeNames.begin(), kComputeNames.end(),
                                     [&](const auto& p) { return p.first == word; });
        if (it == kComputeNames.end() || (bits & it->second) != 0)
            return std::nullopt;
        bits = static_cast<std::uint16_t>(bits | it->second);
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return bits;
}

Json compute_types_to_json(std::uint16_t bits) {
    Json j = Json::array();
    for (const auto& [name, bit] : kComputeNames)
        if ((bits & bit) != 0)
            j.push_back(std::string(name));
    // Bits no name stands for (an advert from a newer agent): shown as hex.
    if (const std::uint16_t rest = bits & ~std::uint16_t{0x0F}; rest != 0) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "0x%x", rest);
        j.push_back(std::string(buf));
    }
    return j;
}

std::string compute_types_to_string(std::uint16_t bits) {
    std::string out;
    for (const Json& n : compute_types_to_json(bits))
        out += (out.empty() ? "" : ",") + n.get<std::string>();
    return out.empty() ? "-" : out;
}

std::optional<Sid> parse_sid(const std::string& text) { return wire::parse_ipv6(text); }

std::string format_sid(const Sid& sid) { return wire::format_ipv6(sid); }

}  // namespace cats::ctl
