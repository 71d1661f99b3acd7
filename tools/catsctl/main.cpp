// SPDX-License-Identifier: BSD-3-Clause
// catsctl: the operator CLI of cats-control, in the style of `ip` and
// `gobgp`. One request per run over cats-control's Unix socket
// (proto-defs/ctl_wire.hpp).
//
// Exit status: 0 success; 1 cats-control unreachable or reported an error;
// 2 bad arguments (with usage); 3 answered, but unhealthy (`dataplane
// status`: the link is not up and in sync; `stats`: no dataplane).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cats_version.h"
#include "cli_errors.hpp"
#include "ctl_wire.hpp"
#include "render.hpp"

namespace {

using cats::ctl::Json;
namespace ctl = cats::ctl;

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnhealthy = 3;
constexpr std::chrono::seconds kReplyTimeout{30};
constexpr std::size_t kMaxReply = 256u << 20;

struct Failure {
    std::string message;
};

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// One request, one response line. Throws Failure saying what went wrong
// and with which socket.
ctl::Response call(const std::string& socket_path, const ctl::Request& req) {
    const std::string where = "cats-control at " + socket_path;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path))
        throw Failure{"socket path '" + socket_path + "' is empty or too long"};
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0)
        throw Failure{std::string("socket: ") + std::strerror(errno)};
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        const int e = errno;
        std::string hint;
        if (e == ENOENT || e == ECONNREFUSED)
            hint = " (is cats-control running? -s SOCKET picks another socket)";
        else if (e == EACCES)
            hint = " (the socket is mode 0660: run as root or in its group)";
        throw Failure{"cannot reach " + where + ": " + std::strerror(e) + hint};
    }
    const std::string line = ctl::encode_request(req);
    for (std::size_t off = 0; off < line.size();) {
        const ssize_t n = ::send(fd.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw Failure{"sending to " + where + ": " + std::strerror(errno)};
        off += static_cast<std::size_t>(n);
    }
    std::string reply;
    const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
    char buf[65536];
    while (reply.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw Failure{"no answer from " + where + " within " + std::to_string(kReplyTimeout.count()) + " s"};
        pollfd p{fd.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw Failure{std::string("poll: ") + std::strerror(errno)};
        if (r == 0)
            continue;
        const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Failure{"reading from " + where + ": " + std::strerror(errno)};
        if (n == 0)
            throw Failure{where + " closed the connection without an answer"};
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > kMaxReply)
            throw Failure{"answer from " + where + " exceeds " + std::to_string(kMaxReply) + " bytes"};
    }
    reply.resize(reply.find('\n'));
    ctl::Response resp;
    if (const std::string e = ctl::parse_response(reply, resp); !e.empty())
        throw Failure{"bad answer from " + where + ": " + e};
    return resp;
}

// service.list a page at a time (ctl_wire.hpp), merged into one result.
ctl::Response list_services(const std::string& socket_path) {
    ctl::Request req;
    req.cmd = ctl::kServiceList;
    ctl::Response all;
    all.ok = true;
    all.result = {{"services", Json::array()}};
    for (;;) {
        ctl::Response page = call(socket_path, req);
        if (!page.ok)
            return page;
        Json& services = page.result["services"];
        if (services.is_array())
            for (Json& s : services)
                all.result["services"].push_back(std::move(s));
        const Json& next = page.result["next"];
        // A daemon that does not page sends everything at once.
        if (!next.is_number_unsigned())
            return all;
        if (req.args.contains("after") && next.get<std::uint64_t>() <= req.args["after"].get<std::uint64_t>())
            throw Failure{"cats-control at " + socket_path + ": service list pages do not advance"};
        req.args["after"] = next;
    }
}

struct MonitorArgs {
    std::uint64_t count = 0;  // 0: until interrupted
    double duration_s = 0;    // 0: until interrupted
    std::vector<std::string> types;
};

// `catsctl monitor`: long polls of "events" (ctl_wire.hpp), one line per
// event (or its JSON with --json), flushed as it comes. Ends after
// --count events or --duration seconds, or on Ctrl-C; exit 1 when
// cats-control goes away.
int monitor(const std::string& socket_path, bool json, const MonitorArgs& m) {
    using SteadyClock = std::chrono::steady_clock;
    const auto started = SteadyClock::now();
    const std::uint32_t kWaitMs = 5000;
    static const Json kNone;
    // Whatever shape the answer has: comparisons, no conversions that throw.
    auto u64 = [](const Json& obj, const char* key) -> std::optional<std::uint64_t> {
        if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number_unsigned())
            return std::nullopt;
        return obj[key].get<std::uint64_t>();
    };
    auto print = [json](const Json& e) {
        std::cout << (json ? ctl::dump(e) + "\n" : cats::catsctl::render_event(e));
    };
    ctl::Request req;
    req.cmd = ctl::kEvents;
    ctl::Response r = call(socket_path, req);  // where to start: now
    if (!r.ok) {
        std::fprintf(stderr, "catsctl: %s\n", r.error.c_str());
        return kExitFail;
    }
    const std::optional<std::uint64_t> start = u64(r.result, "after");
    if (!start)
        throw Failure{"bad answer from cats-control at " + socket_path + ": no cursor (result.after)"};
    std::uint64_t after = *start;
    std::optional<std::uint64_t> boot = u64(r.result, "boot");
    if (::isatty(STDOUT_FILENO) && !json)
        std::fprintf(stderr, "monitoring cats-control at %s (Ctrl-C to stop)\n", socket_path.c_str());
    std::uint64_t shown = 0;
    for (;;) {
        std::uint32_t wait = kWaitMs;
        if (m.duration_s > 0) {
            const double left = m.duration_s - std::chrono::duration<double>(SteadyClock::now() - started).count();
            if (left <= 0)
                return kExitOk;
            wait = static_cast<std::uint32_t>(std::min<double>(kWaitMs, left * 1000 + 1));
        }
        req.args = {{"after", after}, {"wait_ms", wait}};
        const auto asked = SteadyClock::now();
        r = call(socket_path, req);
        if (!r.ok) {
            std::fprintf(stderr, "catsctl: %s\n", r.error.c_str());
            return kExitFail;
        }
        const std::optional<std::uint64_t> next = u64(r.result, "after");
        if (!next)
            throw Failure{"bad answer from cats-control at " + socket_path + ": no cursor (result.after)"};
        const std::optional<std::uint64_t> now_boot = u64(r.result, "boot");
        if (now_boot != boot || *next < after) {
            // Another cats-control: its events start again from 1.
            print({{"type", "restart"}, {"time", nullptr}, {"why", "cats-control restarted"}});
            boot = now_boot;
        }
        if (const std::uint64_t lost = u64(r.result, "lost").value_or(0); lost != 0)
            print({{"type", "lost"}, {"time", nullptr}, {"what", "events"}, {"count", lost}});
        after = *next;
        const Json& events = r.result.is_object() && r.result.contains("events") ? r.result["events"] : kNone;
        if (events.is_array()) {
            for (const Json& e : events) {
                const Json& type = e.is_object() && e.contains("type") ? e["type"] : kNone;
                if (!m.types.empty() &&
                    (!type.is_string() ||
                     std::find(m.types.begin(), m.types.end(), type.get<std::string>()) == m.types.end()))
                    continue;
                print(e);
                if (m.count != 0 && ++shown >= m.count) {
                    std::cout.flush();
                    return kExitOk;
                }
            }
        }
        std::cout.flush();
        // An empty answer long before its wait was over (a daemon that does
        // not wait): do not ask again at once.
        if ((!events.is_array() || events.empty()) && SteadyClock::now() - asked < std::chrono::milliseconds(100))
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::uint32_t>(wait, 1000)));
    }
}

// A u32 from the command line: digits only, in range.
CLI::Validator u32_range(std::uint64_t lo, std::uint64_t hi) {
    return CLI::Validator(
        [lo, hi](std::string& s) -> std::string {
            if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
                return "'" + s + "' is not a non-negative integer";
            errno = 0;
            const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
            if (errno == ERANGE || v < lo || v > hi)
                return s + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi);
            return {};
        },
        std::to_string(lo) + ".." + std::to_string(hi));
}

const CLI::Validator kSid(
    [](std::string& s) -> std::string { return ctl::parse_sid(s) ? "" : "'" + s + "' is not an IPv6 address"; },
    "IPV6");
const CLI::Validator kSidPrefix(
    [](std::string& s) -> std::string {
        return ctl::parse_sid_prefix(s) ? "" : "'" + s + "' is not an IPv6 address or prefix (addr or addr/len)";
    },
    "SID");
const CLI::Validator kComputeTypes(
    [](std::string& s) -> std::string {
        return ctl::parse_compute_types(s) ? "" : "'" + s + "': expected a comma list of cpu, gpu, npu, fpga, each once";
    },
    "cpu,gpu,...");

// `catsctl sid add`'s words after the SID, in the style of iproute2:
// "behavior BEH [next-hop ADDR]", keywords in any order, each once. Throws
// CLI::ValidationError naming the word that is wrong.
void parse_sid_words(const std::vector<std::string>& words, cats::mgmt::SidOp& op) {
    namespace mgmt = cats::mgmt;
    const std::string usage = "behavior " + mgmt::sid_behavior_list() + " [next-hop ADDR]";
    std::optional<mgmt::SidBehavior> behavior;
    for (std::size_t i = 0; i < words.size(); i += 2) {
        const std::string& w = words[i];
        if (w != "behavior" && w != "next-hop")
            throw CLI::ValidationError("unexpected '" + w + "' (after the SID: " + usage + ")");
        if (i + 1 == words.size())
            throw CLI::ValidationError(w + ": a value is missing");
        const std::string& v = words[i + 1];
        if (w == "behavior") {
            if (behavior)
                throw CLI::ValidationError("behavior: given twice");
            behavior = mgmt::parse_sid_behavior(v);
            if (!behavior)
                throw CLI::ValidationError("behavior: '" + v + "' is not a behavior (" + mgmt::sid_behavior_list() +
                                           "; End.DX4 and End.DT4 need IPv4 forwarding, which cats does not do)");
        } else {
            if (op.next_hop)
                throw CLI::ValidationError("next-hop: given twice");
            op.next_hop = ctl::parse_sid(v);
            if (!op.next_hop)
                throw CLI::ValidationError("next-hop: '" + v + "' is not an IPv6 address");
        }
    }
    if (!behavior)
        throw CLI::ValidationError("behavior is required (after the SID: " + usage + ")");
    op.behavior = *behavior;
    const std::string name(mgmt::sid_behavior_name(*behavior));
    if (mgmt::sid_needs_next_hop(*behavior) && !op.next_hop)
        throw CLI::ValidationError("next-hop: " + name + " needs one (SID behavior " + name + " next-hop ADDR)");
    if (!mgmt::sid_needs_next_hop(*behavior) && op.next_hop)
        throw CLI::ValidationError("next-hop: " + name + " takes none (End.X and End.DX6 do)");
}

// Metric flags shared by instance add and set.
struct MetricFlags {
    std::uint64_t score = 0, load = 0, free_capacity = 0, latency_us = 0, bandwidth_kbps = 0, weight = 0;
    std::string compute_types;
    CLI::Option *o_score{}, *o_load{}, *o_free{}, *o_lat{}, *o_bw{}, *o_weight{}, *o_types{};

    void add(CLI::App* app) {
        constexpr std::uint64_t kU32 = UINT32_MAX;
        o_score = app->add_option("--score", score, "L2 score 0..10, higher is better")->check(u32_range(0, 10));
        o_load = app->add_option("--load", load, "load in percent 0..100")->check(u32_range(0, 100));
        o_free = app->add_option("--free-capacity", free_capacity, "free sessions; 0 = full")->check(u32_range(0, kU32));
        o_lat = app->add_option("--latency-us", latency_us, "latency gateway -> instance, us")->check(u32_range(0, kU32));
        o_bw = app->add_option("--bandwidth-kbps", bandwidth_kbps, "available bandwidth, kbit/s")
                   ->check(u32_range(0, kU32));
        o_types = app->add_option("--compute-types", compute_types, "e.g. cpu,gpu")->check(kComputeTypes);
        o_weight = app->add_option("--weight", weight, "operator weight 0..1000000; 0 = drained")
                       ->check(u32_range(0, ctl::kMaxWeight));
    }
    ctl::MetricArgs args() const {
        ctl::MetricArgs m;
        if (*o_score) m.score = static_cast<std::uint8_t>(score);
        if (*o_load) m.load_pct = static_cast<std::uint8_t>(load);
        if (*o_free) m.free_capacity = static_cast<std::uint32_t>(free_capacity);
        if (*o_lat) m.latency_us = static_cast<std::uint32_t>(latency_us);
        if (*o_bw) m.bandwidth_kbps = static_cast<std::uint32_t>(bandwidth_kbps);
        if (*o_types) m.compute_types = ctl::parse_compute_types(compute_types);
        if (*o_weight) m.weight = static_cast<std::uint32_t>(weight);
        return m;
    }
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"catsctl: operate cats-control, the control process of the cats SRv6 compute-aware gateway"};
    app.set_version_flag("--version", std::string("catsctl ") + CATS_VERSION + " (git " + CATS_GIT + ")");
    app.require_subcommand(1);
    // Subcommands pass the options they do not know to catsctl itself, so
    // that `-j` and `-s` may come last too (`catsctl port list --json`).
    app.fallthrough();

    const char* env_socket = std::getenv("CATS_CTL_SOCKET");
    std::string socket_path = env_socket != nullptr && *env_socket != '\0' ? env_socket : ctl::kDefaultSocket;
    bool json = false;
    app.add_option("-s,--socket", socket_path, "cats-control's socket (default $CATS_CTL_SOCKET or " +
                                                   std::string(ctl::kDefaultSocket) + ")");
    app.add_flag("-j,--json", json, "print the JSON result instead of a table");

    ctl::Request req;
    std::string verb;  // for instance commands' output

    CLI::App* service = app.add_subcommand("service", "compute services and their instances")->require_subcommand(1);
    service->add_subcommand("list", "the resolved table: static, CLI and advertised instances")
        ->callback([&] { req.cmd = ctl::kServiceList; });

    CLI::App* instance = app.add_subcommand("instance", "static compute routes")->require_subcommand(1);
    std::uint64_t cs_id = 0, inst_id = 0;
    std::vector<std::string> sids;
    std::string name;
    MetricFlags add_m, set_m;
    const auto positional = [&](CLI::App* sub) {
        sub->add_option("CS_ID", cs_id, "compute service id")->required()->check(u32_range(0, UINT32_MAX));
        sub->add_option("ID", inst_id, "instance id within the service")->required()->check(u32_range(0, UINT32_MAX));
    };
    const auto instance_req = [&](ctl::InstanceCmd kind, const ctl::MetricArgs& m) {
        ctl::InstanceArgs a;
        a.cs_id = static_cast<std::uint32_t>(cs_id);
        a.id = static_cast<std::uint32_t>(inst_id);
        for (const std::string& s : sids)
            a.sids.push_back(*ctl::parse_sid(s));
        if (!name.empty())
            a.name = name;
        a.metrics = m;
        req.args = ctl::instance_args_to_json(a, kind);
    };

    CLI::App* add = instance->add_subcommand("add", "add an instance (and its service if new) with its SIDs and metrics");
    positional(add);
    add->add_option("--sid", sids, "a SID, first segment first; 1..5 of them")
        ->required()
        ->check(kSid)
        ->expected(1, static_cast<int>(ctl::kMaxSids));
    add->add_option("--name", name, "service name, if the service is created")
        ->check(CLI::Validator(
            [](std::string& s) -> std::string {
                return s.empty() || s.size() > ctl::kMaxNameLen ? "1.." + std::to_string(ctl::kMaxNameLen) + " bytes"
                                                                : "";
            },
            "NAME"));
    add_m.add(add);
    add->callback([&] {
        req.cmd = ctl::kInstanceAdd;
        verb = "added";
        instance_req(ctl::InstanceCmd::Add, add_m.args());
    });

    CLI::App* del = instance->add_subcommand("del", "delete a static or CLI instance");
    positional(del);
    del->callback([&] {
        req.cmd = ctl::kInstanceDel;
        verb = "deleted";
        instance_req(ctl::InstanceCmd::Del, {});
    });

    CLI::App* drain = instance->add_subcommand(
        "drain", "no new flows to an instance (any origin; weight 0 in the dataplane) until undrained; "
                 "pinned flows stay");
    positional(drain);
    drain->callback([&] {
        req.cmd = ctl::kInstanceDrain;
        verb = "drained";
        instance_req(ctl::InstanceCmd::Del, {});
    });
    CLI::App* undrain = instance->add_subcommand("undrain", "end a drain: the instance's own weight applies again");
    positional(undrain);
    undrain->callback([&] {
        req.cmd = ctl::kInstanceUndrain;
        verb = "undrained";
        instance_req(ctl::InstanceCmd::Del, {});
    });

    CLI::App* set = instance->add_subcommand("set", "change a static or CLI instance's SIDs or metrics");
    positional(set);
    set->add_option("--sid", sids, "new SID list, first segment first")->check(kSid)->expected(1, static_cast<int>(ctl::kMaxSids));
    set_m.add(set);
    set->callback([&] {
        const ctl::MetricArgs m = set_m.args();
        if (sids.empty() && m.empty())
            throw CLI::ValidationError("nothing to set: give --sid or a metric flag");
        req.cmd = ctl::kInstanceSet;
        verb = "updated";
        instance_req(ctl::InstanceCmd::Set, m);
    });

    CLI::App* flow = app.add_subcommand("flow", "flows pinned in the dataplane")->require_subcommand(1);
    CLI::App* flow_list = flow->add_subcommand("list", "list flows, optionally filtered");
    std::uint64_t f_cs = 0, f_inst = 0, f_limit = ctl::kDefaultFlowLimit;
    CLI::Option* o_fcs = flow_list->add_option("--service", f_cs, "only flows of this CS-ID")->check(u32_range(0, UINT32_MAX));
    CLI::Option* o_finst =
        flow_list->add_option("--instance", f_inst, "only flows pinned to this instance id")->check(u32_range(0, UINT32_MAX));
    flow_list->add_option("--limit", f_limit, "at most this many flows (default 1000)")->check(u32_range(1, ctl::kMaxFlowLimit));
    flow_list->callback([&] {
        req.cmd = ctl::kFlowList;
        req.args = Json::object();
        if (*o_fcs)
            req.args["cs_id"] = f_cs;
        if (*o_finst)
            req.args["instance_id"] = f_inst;
        req.args["limit"] = f_limit;
    });

    CLI::App* peer = app.add_subcommand("peer", "advertising compute nodes")->require_subcommand(1);
    peer->add_subcommand("list", "configured peers and what they sent")->callback([&] { req.cmd = ctl::kPeerList; });

    app.add_subcommand("stats", "counters of cats-control and the dataplane")->callback([&] { req.cmd = ctl::kStats; });

    CLI::App* dp = app.add_subcommand("dataplane", "the dataplane link")->require_subcommand(1);
    dp->add_subcommand("status", "table version, last sync, dataplane status")
        ->callback([&] { req.cmd = ctl::kDataplaneStatus; });

    CLI::App* neighbor = app.add_subcommand("neighbor", "the dataplane's IPv6 neighbors (NDP)")->require_subcommand(1);
    neighbor->add_subcommand("list", "each next hop's state, MAC, port, age and probes")
        ->callback([&] { req.cmd = ctl::kNeighborList; });

    CLI::App* port = app.add_subcommand("port", "the dataplane's ports")->require_subcommand(1);
    port->add_subcommand("list", "mode, addresses, kernel interface, punt and inject counters")
        ->callback([&] { req.cmd = ctl::kPortList; });

    CLI::App* route = app.add_subcommand("route", "the dataplane's IPv6 routes")->require_subcommand(1);
    route->add_subcommand("list", "the config's and the kernel's (gateway.kernel_routes), with their state")
        ->callback([&] { req.cmd = ctl::kRouteList; });

    // Local SIDs, iproute2 style: `catsctl sid add fc00:e::d6 behavior
    // End.DX6 next-hop 2001:db8:ff::d`.
    CLI::App* sid = app.add_subcommand("sid", "the dataplane's local SIDs: SRv6 endpoint behaviours (RFC 8986 4)")
                        ->require_subcommand(1);
    std::string sid_text;
    std::vector<std::string> sid_words;
    const auto sid_positional = [&](CLI::App* sub) {
        sub->add_option("SID", sid_text, "an IPv6 address (a /128), or a locator and function as addr/len")
            ->required()
            ->check(kSidPrefix);
    };
    const auto sid_op = [&](cats::mgmt::SidOpType type) {
        cats::mgmt::SidOp op;
        op.op = type;
        const auto p = ctl::parse_sid_prefix(sid_text);
        op.sid = p->first;
        op.prefix_len = p->second;
        return op;
    };
    CLI::App* sid_add = sid->add_subcommand(
        "add", "add a local SID, or replace the one with the same prefix: SID behavior BEH [next-hop ADDR] "
               "(End.X and End.DX6 need the next hop, End and End.DT6 take none)");
    sid_positional(sid_add);
    sid_add->add_option("ARGS", sid_words, "behavior " + cats::mgmt::sid_behavior_list() + " [next-hop ADDR]");
    sid_add->callback([&] {
        cats::mgmt::SidOp op = sid_op(cats::mgmt::SidOpType::Add);
        parse_sid_words(sid_words, op);
        req.cmd = ctl::kSidAdd;
        req.args = ctl::sid_args_to_json(op);
        verb = "added";
    });
    CLI::App* sid_del = sid->add_subcommand("del", "delete a local SID (one from the dataplane's config too, "
                                                   "until the dataplane restarts)");
    sid_positional(sid_del);
    sid_del->callback([&] {
        req.cmd = ctl::kSidDel;
        req.args = ctl::sid_args_to_json(sid_op(cats::mgmt::SidOpType::Del));
        verb = "deleted";
    });
    sid->add_subcommand("list", "each local SID's behaviour, next hop, origin, counters and top drop reasons")
        ->callback([&] { req.cmd = ctl::kSidList; });

    CLI::App* policy = app.add_subcommand("policy", "SRv6 policies: the ingress's per instance and the egress's "
                                                    "per (source, SID), with the same keys")
                           ->require_subcommand(1);
    policy->add_subcommand("list", "packets and bytes of each policy, ingress and egress side by side")
        ->callback([&] { req.cmd = ctl::kPolicyList; });

    MonitorArgs mon;
    bool monitoring = false;
    CLI::App* mon_app = app.add_subcommand(
        "monitor", "a live stream of events: instances up and down, table versions, the dataplane link, "
                   "neighbor changes, drops per second (--json: one JSON object per line)");
    mon_app->add_option("--count", mon.count, "stop after this many events")->check(u32_range(1, UINT32_MAX));
    mon_app->add_option("--duration", mon.duration_s, "stop after this many seconds")
        ->check(CLI::Range(0.001, 1e9));
    mon_app->add_option("--type", mon.types, "only these event types (repeatable)")
        ->check(CLI::IsMember({"instance", "table", "link", "neighbor", "drops", "lost"}));
    mon_app->callback([&] { monitoring = true; });

    app.footer("Exit status: 0 success; 1 cats-control unreachable or it reported an error; 2 bad arguments; "
               "3 answered but unhealthy (dataplane status: the link is not up and in sync; stats: no dataplane).");

    if (const int rc = cats::cli::parse(app, "catsctl", argc, argv, kExitUsage); rc >= 0)
        return rc;

    try {
        if (monitoring)
            return monitor(socket_path, json, mon);
        const ctl::Response resp = req.cmd == ctl::kServiceList ? list_services(socket_path) : call(socket_path, req);
        if (!resp.ok) {
            std::fprintf(stderr, "catsctl: %s\n", resp.error.c_str());
            return kExitFail;
        }
        // Health checks fail when what they check is not healthy, so that
        // a monitor or a unit's ExecStartPost can use the exit status.
        std::string unhealthy;
        if (req.cmd == ctl::kDataplaneStatus) {
            // Whatever shape the answer has: comparisons, no conversions
            // that throw.
            static const Json kNone;
            const Json& link = resp.result.is_object() && resp.result.contains("link") ? resp.result["link"] : kNone;
            const Json& state = link.is_object() && link.contains("state") ? link["state"] : kNone;
            const bool up = state == "up";
            const bool in_sync = link.is_object() && link.contains("in_sync") && link["in_sync"] == true;
            if (!up || !in_sync)
                unhealthy = "the dataplane link is " +
                            (up ? std::string("up but not in sync")
                                : state.is_string() ? state.get<std::string>() : std::string("unknown"));
        } else if (req.cmd == ctl::kStats && resp.result.is_object() && resp.result.contains("dataplane_error")) {
            unhealthy = "no dataplane stats";
        }
        const int rc = unhealthy.empty() ? kExitOk : kExitUnhealthy;
        if (json) {
            std::cout << resp.result.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
            if (!unhealthy.empty())
                std::fprintf(stderr, "catsctl: unhealthy: %s\n", unhealthy.c_str());
            return rc;
        }
        namespace r = cats::catsctl;
        std::string out;
        if (req.cmd == ctl::kServiceList) out = r::render_services(resp.result);
        else if (req.cmd == ctl::kPeerList) out = r::render_peers(resp.result);
        else if (req.cmd == ctl::kFlowList) out = r::render_flows(resp.result);
        else if (req.cmd == ctl::kStats) out = r::render_stats(resp.result);
        else if (req.cmd == ctl::kDataplaneStatus) out = r::render_status(resp.result);
        else if (req.cmd == ctl::kNeighborList) out = r::render_neighbors(resp.result);
        else if (req.cmd == ctl::kPortList) out = r::render_ports(resp.result);
        else if (req.cmd == ctl::kRouteList) out = r::render_routes(resp.result);
        else if (req.cmd == ctl::kSidList) out = r::render_sids(resp.result);
        else if (req.cmd == ctl::kPolicyList) out = r::render_policies(resp.result);
        else if (req.cmd == ctl::kSidAdd || req.cmd == ctl::kSidDel) out = r::render_sid_result(verb, resp.result);
        else out = r::render_instance_result(verb, resp.result);
        std::cout << out;
        std::cout.flush();
        if (!unhealthy.empty())
            std::fprintf(stderr, "catsctl: unhealthy: %s\n", unhealthy.c_str());
        return rc;
    } catch (const Failure& f) {
        std::fprintf(stderr, "catsctl: %s\n", f.message.c_str());
        return kExitFail;
    }
}
