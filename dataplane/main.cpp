// SPDX-License-Identifier: BSD-3-Clause
// cats-dataplane: EAL options, then `--`, then application options.
//
// Every lcore given to EAL runs one worker (the main lcore too, as in l3fwd);
// a DPDK control thread does the management work: stats on demand, the idle
// exit of test mode, and (later) table updates from cats-control.
#include <getopt.h>
#include <net/if.h>
#include <grp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "log.hpp"
#include "config.hpp"
#include "eal_exit.hpp"
#include "exception.hpp"
#include "cats_version.h"
#include "fib.hpp"
#include "icmp6.hpp"
#include "json_text.hpp"
#include "mgmt.hpp"
#include "neigh.hpp"
#include "port.hpp"
#include "report.hpp"
#include "service_table.hpp"
#include "thp_heap.hpp"
#include "worker.hpp"
#ifdef CATS_HAVE_XDP
#include "xdp_front.hpp"
#endif

namespace {

using namespace cats::dp;

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_dump = 0;

void on_signal(int sig) {
    if (sig == SIGUSR1)
        g_dump = 1;
    else
        g_stop = 1;
}

struct Options {
    std::string config;
    std::string stats_format = "json";
    std::string stats_file;
    std::uint64_t idle_exit_ms = 0;
    std::uint64_t stats_interval_s = 0;
    std::string mgmt_socket;
    cats::dp::MgmtAccess mgmt_access;
};

void usage(const char* prog, FILE* out = stderr) {
    std::fprintf(out,
                 "usage: %s [EAL options] -- --config FILE [options]\n"
                 "       %s --check-config FILE     validate a config and exit (no EAL, no hugepages)\n"
                 "       %s --version | --help\n"
                 "  --config FILE          YAML config (see configs/README.md)\n"
                 "  --stats json|text      format of the stats printed on exit and on SIGUSR1 (json)\n"
                 "  --stats-file PATH      also write the final stats as JSON to PATH\n"
                 "  --stats-interval SEC   print stats every SEC seconds\n"
                 "  --mgmt-socket PATH     listen for cats-control on this Unix socket (created 0660;\n"
                 "                         its directory 0750 if missing); root and this process's\n"
                 "                         user may use it\n"
                 "  --mgmt-group GROUP     members of GROUP (name or gid) may use the socket too;\n"
                 "                         the socket (and a directory it creates) get that group\n"
                 "  --idle-exit MS         exit once no packet has arrived for MS milliseconds\n"
                 "                         (test mode, e.g. for pcap input)\n"
                 "  --log-level LEVEL      least severe of cats' own messages logged: debug, info\n"
                 "                         (default), warn or error (DPDK's: EAL --log-level)\n"
                 "  --help\n"
                 "EAL options (cores, devices, memory) are DPDK's: see\n"
                 "https://doc.dpdk.org/guides-22.11/linux_gsg/linux_eal_parameters.html\n",
                 prog, prog, prog);
}

// A command-line error: one line, and where to look (as every cats
// program says it).
void usage_error(const std::string& what) {
    std::fprintf(stderr, "cats-dataplane: %s\n  (cats-dataplane --help for usage)\n", what.c_str());
}

// A config error as one line: the file once, then the YAML path and what is
// wrong (errors about the file itself already start with its name).
std::string config_error_text(const std::string& path, const std::string& what) {
    return what.rfind(path + ":", 0) == 0 ? what : path + ": " + what;
}

// What needs no EAL: --version, --help, --check-config FILE, wherever they
// are on the command line. Returns the exit status, or -1 to go on.
int before_eal(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--version") {
            std::printf("cats-dataplane %s (git %s)\n", CATS_VERSION, CATS_GIT);
            return 0;
        }
        if (a == "--help") {
            usage("cats-dataplane", stdout);
            return 0;
        }
        if (a == "--check-config") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "cats-dataplane: --check-config needs a file name\n");
                return 2;
            }
            const std::string path = argv[i + 1];
            try {
                const Config c = load_config_file(path);
                std::size_t instances = 0;
                for (const ServiceConfig& s : c.services)
                    instances += s.instances.size();
                std::printf("%s: ok (%zu ports, %zu routes, %zu static neighbors, %zu services, %zu instances, "
                            "%zu local SIDs)\n",
                            path.c_str(), c.ports.size(), c.routes.size(), c.neighbors.size(), c.services.size(),
                            instances, c.local_sids.size());
                return 0;
            } catch (const ConfigError& ex) {
                std::fprintf(stderr, "cats-dataplane: %s\n", config_error_text(path, ex.what()).c_str());
                return 2;
            }
        }
    }
    return -1;
}

// --mgmt-group: a group name, or a number.
bool group_id(const char* v, cats::dp::MgmtAccess& out) {
    std::vector<char> buf(16384);
    group gr{};
    group* found = nullptr;
    if (::getgrnam_r(v, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        out.group = found->gr_gid;
        return true;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long x = std::strtoul(v, &end, 10);
    if (errno == 0 && end != v && *end == '\0' && v[0] != '-' && x < static_cast<unsigned long>(UINT32_MAX)) {
        out.group = static_cast<gid_t>(x);
        return true;
    }
    std::fprintf(stderr, "cats-dataplane: --mgmt-group: no group '%s'\n", v);
    return false;
}

bool parse_options(int argc, char** argv, Options& o) {
    static const option longopts[] = {
        {"config", required_argument, nullptr, 'c'},
        {"stats", required_argument, nullptr, 's'},
        {"stats-file", required_argument, nullptr, 'f'},
        {"stats-interval", required_argument, nullptr, 'i'},
        {"idle-exit", required_argument, nullptr, 'x'},
        {"mgmt-socket", required_argument, nullptr, 'm'},
        {"mgmt-group", required_argument, nullptr, 'g'},
        {"log-level", required_argument, nullptr, 'l'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 0;  // glibc: a full restart (EAL, and the check before it, parsed before)
    opterr = 0;  // our messages, one line each (usage_error)
    int c;
    auto number = [](const char* name, const char* v, std::uint64_t& out) {
        char* end = nullptr;
        errno = 0;
        const unsigned long long x = std::strtoull(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || v[0] == '-') {
            std::fprintf(stderr, "cats-dataplane: --%s: '%s' is not a non-negative integer\n", name, v);
            return false;
        }
        out = x;
        return true;
    };
    while ((c = getopt_long(argc, argv, ":h", longopts, nullptr)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 's':
            o.stats_format = optarg;
            if (o.stats_format != "json" && o.stats_format != "text") {
                std::fprintf(stderr, "cats-dataplane: --stats: '%s' is not json or text\n", optarg);
                return false;
            }
            break;
        case 'f': o.stats_file = optarg; break;
        case 'm': o.mgmt_socket = optarg; break;
        case 'g':
            if (!group_id(optarg, o.mgmt_access))
                return false;
            break;
        case 'i':
            if (!number("stats-interval", optarg, o.stats_interval_s))
                return false;
            break;
        case 'x':
            if (!number("idle-exit", optarg, o.idle_exit_ms))
                return false;
            break;
        case 'l':
            if (const std::optional<cats::LogLevel> l = cats::parse_log_level(optarg)) {
                cats::set_log_level(*l);
            } else {
                usage_error(std::string("--log-level: '") + optarg + "' is not " + cats::kLogLevelNames);
                return false;
            }
            break;
        case 'h': usage(argv[0], stdout); std::exit(0);
        case ':':
            usage_error(std::string(argv[optind - 1]) + " needs a value");
            return false;
        default:
            // An unknown short option may sit in a group ("-xy"): getopt
            // names it in optopt; a long one only in argv.
            usage_error("unknown argument '" +
                        (optopt != 0 ? std::string("-") + static_cast<char>(optopt) : std::string(argv[optind - 1])) +
                        "'");
            return false;
        }
    }
    if (optind < argc) {
        usage_error("unknown argument '" + std::string(argv[optind]) + "'");
        return false;
    }
    if (o.config.empty()) {
        usage_error("--config FILE is required");
        return false;
    }
    return true;
}

struct App {
    Options opt;
    Config cfg;
    rte_mempool* pool = nullptr;
    std::vector<PortState> ports;
    std::unique_ptr<Fib> fib;
    rte_rcu_qsbr* qsbr = nullptr;
    std::unique_ptr<ServiceTable> table;
    std::unique_ptr<SidTable> sids;         // local_sids
    std::unique_ptr<SrhHmac> srh_hmac;      // gateway.srh_hmac, shared by the workers
    Engine engine;
    std::unique_ptr<ThpHeap> flow_heap;  // outlives the workers' flow tables
    std::vector<std::unique_ptr<Worker>> workers;
    std::unique_ptr<MgmtServer> mgmt;
    std::unique_ptr<ExceptionPath> exc;     // kernel interfaces (TAPs), held packets
    std::unique_ptr<NeighborMirror> neigh;  // the kernel's NDP, mirrored into the FIB
#ifdef CATS_HAVE_XDP
    // cats_xdp on the net_af_xdp ports (dataplane/xdp), by port id.
    std::vector<std::pair<std::uint16_t, xdp::XdpProgram>> xdp;
#endif
    std::uint64_t start_tsc = 0;
    std::atomic<std::uint64_t> mgmt_thread_errors{0};

    double uptime() const {
        return static_cast<double>(rte_rdtsc() - start_tsc) / static_cast<double>(rte_get_tsc_hz());
    }
    nlohmann::json report() const {
        nlohmann::json r = build_report(workers, *table->current(), ports, uptime());
        r["local_sids"] = sid_report(workers, *sids);
        r["policies"] = policy_report(workers, *table->current(), cfg.gateway.encap_source);
        add_kernel_report(r);
        return r;
    }
    // The exception path per port and the neighbors (catsctl port list,
    // neighbor list).
    void add_kernel_report(nlohmann::json& r) const {
        nlohmann::json kif = nlohmann::json::array();
        for (std::size_t i = 0; i < ports.size(); ++i) {
            const PortState& p = ports[i];
            nlohmann::json addrs = nlohmann::json::array();
            for (const InterfaceAddress& a : cfg.ports[i].addresses)
                addrs.push_back(format_ipv6(a.addr) + "/" + std::to_string(a.len));
            nlohmann::json j = {{"port", p.name},
                                {"port_id", p.port_id},
                                {"mode", p.driver == "net_af_xdp" ? "af_xdp" : "dpdk"},
                                {"driver", p.driver},
                                {"mac", format_mac(p.mac)},
                                {"mtu", p.mtu},
                                {"addresses", addrs},
                                {"kernel_interface", ""}};
            const ExceptionPath::Link* l = exc ? exc->link(p.port_id) : nullptr;
            if (l != nullptr) {
                const KernelPortCounters& c = *l->ctr;
                j["kernel_interface"] = l->ifname;
                j["punted"] = c.punted.load(std::memory_order_relaxed);
                j["injected"] = c.injected.load(std::memory_order_relaxed);
                j["punt_rate_dropped"] = c.punt_rate_dropped.load(std::memory_order_relaxed);
                j["inject_rate_dropped"] = c.inject_rate_dropped.load(std::memory_order_relaxed);
                j["tap_tx_full"] = c.tap_tx_full.load(std::memory_order_relaxed);
                j["port_tx_full"] = c.port_tx_full.load(std::memory_order_relaxed);
                j["inject_oversize"] = c.inject_oversize.load(std::memory_order_relaxed);
                j["punt_oversize"] = c.punt_oversize.load(std::memory_order_relaxed);
                j["ndp_invalid"] = {{"hop_limit", c.ndp_hop_limit.load(std::memory_order_relaxed)},
                                    {"code", c.ndp_code.load(std::memory_order_relaxed)},
                                    {"truncated", c.ndp_truncated.load(std::memory_order_relaxed)},
                                    {"bad_option", c.ndp_bad_option.load(std::memory_order_relaxed)}};
            } else if (neigh) {
                for (const KernelLink& kl : neigh->links())
                    if (kl.port_id == p.port_id)
                        j["kernel_interface"] = kl.ifname;
            }
            add_xdp_report(p.port_id, j);
            kif.push_back(std::move(j));
        }
        r["kernel_ports"] = std::move(kif);
        r["neighbors"] = neigh ? neigh->list(now_ms()) : nlohmann::json::array();
        r["kernel_routes"] = neigh ? neigh->routes_json() : nlohmann::json(nullptr);
        // The config's routes (catsctl route list, with the kernel's).
        nlohmann::json configured = nlohmann::json::array();
        for (const RouteConfig& rc : cfg.routes) {
            const int nbr = fib->lookup(rc.via);
            std::string port;
            for (const PortState& p : ports)
                if (nbr >= 0 && p.port_id == fib->neighbor(static_cast<std::size_t>(nbr)).port_id)
                    port = p.name;
            configured.push_back({{"prefix", format_ipv6(rc.prefix.addr) + "/" + std::to_string(rc.prefix.len)},
                                  {"via", format_ipv6(rc.via)},
                                  {"port", port},
                                  {"state", "installed"}});
        }
        r["config_routes"] = std::move(configured);
        if (exc)
            r["held"] = {{"now", exc->held_now()}, {"sent", exc->held_sent()}, {"dropped", exc->held_dropped()}};
    }
    // The XDP program's verdicts on a net_af_xdp port: packets per class,
    // and which went to DPDK (the rest went to the kernel).
    void add_xdp_report([[maybe_unused]] std::uint16_t port_id, [[maybe_unused]] nlohmann::json& j) const {
#ifdef CATS_HAVE_XDP
        for (const auto& [id, prog] : xdp) {
            if (id != port_id)
                continue;
            nlohmann::json v = {{"program_id", prog.prog_id()}};
            const auto c = prog.counters();
            if (!c) {
                v["error"] = c.error;
            } else {
                nlohmann::json cls = nlohmann::json::object();
                for (const xdp::XdpCounter& x : *c.value)
                    cls[std::string(x.name)] = {{"packets", x.packets}, {"bytes", x.bytes},
                                                {"to", x.redirected ? "dpdk" : "kernel"}};
                v["classes"] = std::move(cls);
            }
            j["xdp"] = std::move(v);
        }
#endif
    }
    std::uint32_t now_ms() const { return static_cast<std::uint32_t>(rte_rdtsc() / engine.tsc_per_ms); }
    // STATUS lists at most this many unresolved instances (and counts all).
    static constexpr std::size_t kStatusUnresolvedMax = 1024;
    nlohmann::json status() const {
        const Snapshot& s = *table->current();
        std::size_t n_inst = 0;
        for (const Service* svc : s.services)
            n_inst += svc->instances.size();
        std::uint64_t occ = 0;
        for (const auto& w : workers)
            occ += w->flows->count();
        std::size_t n_unresolved = 0;
        nlohmann::json unresolved = unresolved_instances(s, kStatusUnresolvedMax, n_unresolved);
        return {{"table_version", s.version},
                {"unresolved", std::move(unresolved)},
                {"unresolved_count", n_unresolved},
                {"services", s.services.size()},
                {"instances", n_inst},
                {"workers", workers.size()},
                {"ports", ports.size()},
                {"flows", occ},
                {"uptime_s", uptime()},
                {"updates_applied", mgmt ? mgmt->updates_applied() : 0},
                {"updates_rejected", mgmt ? mgmt->updates_rejected() : 0},
                {"messages_malformed", mgmt ? mgmt->messages_malformed() : 0},
                {"requests_failed", mgmt ? mgmt->requests_failed() : 0},
                {"mgmt_clients", mgmt ? mgmt->clients() : 0},
                {"mgmt_clients_refused", mgmt ? mgmt->clients_refused() : 0},
                {"mgmt_clients_dropped", mgmt ? mgmt->clients_dropped() : 0},
                {"mgmt_thread_errors", mgmt_thread_errors.load()},
                {"last_update_unix", mgmt ? mgmt->last_update_unix() : 0.0}};
    }
    void print(const nlohmann::json& r) const {
        const std::string s = opt.stats_format == "text" ? render_text(r) : json_text(r, 2) + "\n";
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
    }
};

// The exception thread: the kernel interfaces' packets and held packets
// (exception.hpp). Polls; naps 50 us when there was nothing to move.
void* exception_main(void* arg) {
    App& app = *static_cast<App*>(arg);
    const std::uint64_t hz = rte_get_tsc_hz();
    while (!app.engine.quit.load()) {
        const std::uint64_t now_us = rte_rdtsc() / (hz / 1000000 ? hz / 1000000 : 1);
        if (app.exc->poll(now_us) == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return nullptr;
}

// The management thread: not a worker, never on the per-packet path.
void* mgmt_main(void* arg) {
    App& app = *static_cast<App*>(arg);
    const std::uint64_t hz = rte_get_tsc_hz();
    std::uint64_t next_print = app.start_tsc + app.opt.stats_interval_s * hz;
    // Nothing thrown here may end the thread: the workers would go on
    // forwarding on a gateway nobody can manage, or (uncaught) the process
    // would abort. Log it, count it (status: mgmt_thread_errors), go on.
    auto guarded = [&app](const char* what, auto&& f) {
        try {
            f();
        } catch (const std::exception& ex) {
            app.mgmt_thread_errors.fetch_add(1);
            cats::logf(cats::LogLevel::Error, "%s failed: %s", what, ex.what());
        } catch (...) {
            app.mgmt_thread_errors.fetch_add(1);
            cats::logf(cats::LogLevel::Error, "%s failed", what);
        }
    };
    while (!app.engine.quit.load()) {
        if (app.mgmt)
            guarded("management socket", [&] { app.mgmt->poll(10); });
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const std::uint64_t now = rte_rdtsc();
        if (app.neigh) {
            // The kernel's NDP results; a MAC or state that changed is built
            // into the encapsulation templates (one writer: this thread).
            try {
                if (app.neigh->poll(app.now_ms()))
                    app.table->rebuild();
            } catch (const std::exception& ex) {
                cats::logf(cats::LogLevel::Error, "neighbor mirror: %s", ex.what());
            }
        }
        if (g_stop)
            app.engine.quit.store(true);
        if (g_dump) {
            g_dump = 0;
            guarded("stats", [&] { app.print(app.report()); });
        }
        if (app.opt.stats_interval_s != 0 && now >= next_print) {
            next_print = now + app.opt.stats_interval_s * hz;
            guarded("stats", [&] { app.print(app.report()); });
        }
        if (app.opt.idle_exit_ms != 0) {
            std::uint64_t last = app.start_tsc;
            for (const auto& w : app.workers)
                last = std::max(last, w->last_rx_tsc.load(std::memory_order_relaxed));
            if (now - last > app.opt.idle_exit_ms * hz / 1000)
                app.engine.quit.store(true);
        }
    }
    return nullptr;
}

// The cats_xdp program that net_af_xdp loaded on each kernel-owned port
// (xdp_prog=): fill its maps. Without it the PMD's own program sends every
// packet to DPDK and the kernel sees none of the host's traffic: say so.
void attach_xdp([[maybe_unused]] App& app, [[maybe_unused]] const std::vector<Ipv6Addr>& own) {
    for (const PortState& p : app.ports) {
        if (p.driver != "net_af_xdp")
            continue;
#ifdef CATS_HAVE_XDP
        auto prog = xdp::XdpProgram::from_ifindex(p.if_index);
        if (!prog) {
            cats::logf(cats::LogLevel::Warn,
                       "%s: no cats_xdp program on interface %u (%s): start the PMD with "
                       "xdp_prog=<libdir>/cats/cats_xdp.bpf.o, or the kernel gets none of the host's traffic",
                       p.name.c_str(), p.if_index, prog.error.c_str());
            continue;
        }
        xdp::XdpFilterConfig xc;
        xc.service_sid_prefix = app.cfg.gateway.service_sid_prefix;
        xc.non_cats_forward = app.cfg.gateway.non_cats == NonCatsPolicy::Forward;
        xc.host_addrs = own;
        // The YAML's local SIDs go to DPDK whatever gateway.non_cats says
        // (a SID_UPDATE from cats-control does not reach this map yet).
        for (const LocalSidConfig& ls : app.cfg.local_sids)
            xc.local_sids.push_back(ls.sid);
        if (const std::string e = prog.value->configure(xc); !e.empty())
            throw std::runtime_error(p.name + ": cats_xdp: " + e);
        cats::logf(cats::LogLevel::Info, "%s: cats_xdp program %u configured (%zu host addresses)",
                   p.name.c_str(), prog.value->prog_id(), own.size());
        app.xdp.emplace_back(p.port_id, std::move(*prog.value));
#else
        cats::logf(cats::LogLevel::Warn, "%s: built without the XDP front (clang, libbpf): its program's maps "
                   "stay empty", p.name.c_str());
#endif
    }
}

int run(App& app) {
    Config& cfg = app.cfg;
    const unsigned n_workers = rte_lcore_count();
    const int socket = static_cast<int>(rte_socket_id());

    app.pool = create_mbuf_pool(cfg, n_workers, socket);
    // A port the kernel owns (net_af_xdp) has its host traffic passed to the
    // kernel by the XDP program; a DPDK-owned port with addresses gets a TAP.
    bool kernel_links = false;
    for (const PortConfig& pc : cfg.ports)
        kernel_links |= !pc.addresses.empty() || !pc.kernel_interface.empty();
    app.ports = start_ports(cfg, n_workers, app.pool);

    std::vector<Neighbor> nbrs;
    for (std::size_t i = 0; i < cfg.neighbors.size(); ++i) {
        const NeighborConfig& nc = cfg.neighbors[i];
        Neighbor n{nc.address, nc.mac, 0};
        bool found = false;
        for (const PortState& p : app.ports)
            if (p.name == nc.port) {
                n.port_id = p.port_id;
                found = true;
            }
        if (!found)
            throw ConfigError("neighbors[" + std::to_string(i) + "].port: '" + nc.port + "' is not in ports");
        nbrs.push_back(n);
    }
    // Next hops that are no static neighbor: on-link on a port, resolved by
    // NDP through that port's kernel interface (neigh.hpp).
    std::vector<Ipv6Addr> next_hops;
    for (const RouteConfig& r : cfg.routes)
        next_hops.push_back(r.via);
    for (const LocalSidConfig& ls : cfg.local_sids)
        if (ls.next_hop)
            next_hops.push_back(*ls.next_hop);
    for (const Ipv6Addr& via : next_hops) {
        const bool known = std::any_of(nbrs.begin(), nbrs.end(), [&](const Neighbor& n) { return n.address == via; });
        const int pi = on_link_port(cfg.ports, via);
        if (!known && pi >= 0)
            nbrs.push_back(Neighbor{via, MacAddr{}, app.ports[static_cast<std::size_t>(pi)].port_id, true});
    }
    std::vector<Ipv6Addr> own;
    bool punt_host = false;
    for (std::size_t i = 0; i < cfg.ports.size(); ++i) {
        for (const InterfaceAddress& a : cfg.ports[i].addresses)
            own.push_back(a.addr);
        punt_host |= !cfg.ports[i].kernel_interface.empty() && app.ports[i].driver != "net_af_xdp";
    }
    KernelRouteLimits kernel_limits;
    if (cfg.gateway.kernel_routes)
        kernel_limits = {cfg.gateway.kernel_routes->max_routes, cfg.gateway.kernel_routes->max_next_hops};
    app.fib = std::make_unique<Fib>("cats_fib", socket, cfg.routes, std::move(nbrs), own, punt_host, kernel_limits);
    attach_xdp(app, own);
    if (kernel_links) {
        app.exc = std::make_unique<ExceptionPath>(cfg, app.ports, app.pool, *app.fib, cfg.gateway.exception_rate);
        std::vector<KernelLink> links;
        for (std::size_t i = 0; i < cfg.ports.size(); ++i) {
            const PortState& ps = app.ports[i];
            KernelLink kl{ps.port_id, ps.name, "", 0, cfg.ports[i].addresses, true};
            if (const ExceptionPath::Link* l = app.exc->link(ps.port_id)) {
                kl.ifname = l->ifname;
                kl.ifindex = l->ifindex;
            } else if (ps.driver == "net_af_xdp" && ps.if_index != 0) {
                char name[IF_NAMESIZE] = {};
                kl.ifname = if_indextoname(ps.if_index, name) ? name : "";
                kl.ifindex = ps.if_index;
                kl.tap = false;
            } else {
                continue;
            }
            links.push_back(std::move(kl));
        }
        app.neigh = std::make_unique<NeighborMirror>(*app.fib, std::move(links), cfg.gateway.kernel_routes);
        app.neigh->start();
        for (const KernelLink& l : app.neigh->links())
            cats::logf(cats::LogLevel::Info, "%s: kernel interface %s (ifindex %u, %s), %zu address(es)",
                       l.port_name.c_str(), l.ifname.c_str(), l.ifindex, l.tap ? "TAP" : "af_xdp: the NIC itself",
                       l.addresses.size());
    }

    const std::size_t qsz = rte_rcu_qsbr_get_memsize(n_workers);
    app.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("cats_qsbr", qsz, RTE_CACHE_LINE_SIZE));
    if (app.qsbr == nullptr || rte_rcu_qsbr_init(app.qsbr, n_workers) != 0)
        throw std::runtime_error("RCU QSBR init failed");

    std::vector<MacAddr> macs(kMaxPorts);
    for (const PortState& p : app.ports)
        macs[p.port_id] = p.mac;
    EncapParams ep{cfg.gateway.encap_source, cfg.gateway.encap_mode, cfg.gateway.hop_limit};
    app.table = std::make_unique<ServiceTable>(ep, *app.fib, macs, app.qsbr, cfg.gateway.max_services,
                                               cfg.gateway.max_instances);
    app.table->replace_all(cfg.services);
    app.sids = std::make_unique<SidTable>(*app.fib, app.qsbr);
    try {
        app.sids->replace_all(cfg.local_sids);
    } catch (const std::invalid_argument& ex) {
        throw ConfigError(std::string("local_sids: ") + ex.what());
    }
    Engine& e = app.engine;
    if (cfg.gateway.service_sid_prefix) {
        std::memcpy(e.parse.sid_prefix, cfg.gateway.service_sid_prefix->addr.data(), 12);
        e.parse.sid_enabled = true;
    }
    e.non_cats = cfg.gateway.non_cats;
    e.burst = static_cast<std::uint16_t>(cfg.gateway.burst);
    e.icmp_source = cfg.gateway.encap_source;
    if (app.exc) {
        for (const PortState& p : app.ports) {
            e.punt_ring[p.port_id] = app.exc->punt_ring(p.port_id);
            e.inject_ring[p.port_id] = app.exc->inject_ring(p.port_id);
            e.inject_tx_full[p.port_id] = app.exc->inject_tx_full(p.port_id);
        }
        e.held_ring = app.exc->held_ring();
    }
    for (const PortState& p : app.ports) {
        e.port_ids.push_back(p.port_id);
        e.port_mtu[p.port_id] = p.mtu;
        e.port_mac[p.port_id] = p.mac;
    }
    e.sr_domain.assign(cfg.gateway.sr_domain);
    for (std::size_t i = 0; i < cfg.ports.size() && i < app.ports.size(); ++i)
        e.port_trusted[app.ports[i].port_id] = cfg.ports[i].trusted;
    if (cfg.gateway.srh_hmac.enabled()) {
        app.srh_hmac = std::make_unique<SrhHmac>(cfg.gateway.srh_hmac);
        e.srh_hmac = app.srh_hmac.get();
    }
    for (const Service* s : app.table->current()->services)
        for (const Instance& in : s->instances) {
            if (!in.resolved) {
                cats::logf(cats::LogLevel::Warn, "service %u instance %u: no route to %s; "
                           "not used until one exists",
                           s->cs_id, in.id, format_ipv6(in.sids[0]).c_str());
            } else if (const std::uint32_t inner = max_inner_len(in, e.port_mtu[in.port_id]); inner < kIpv6MinMtu) {
                // A Packet Too Big cannot ask for less than 1280 (RFC 8200 5).
                cats::logf(cats::LogLevel::Warn, "service %u instance %u: port MTU %u less %u bytes of "
                           "encapsulation leaves %u, below IPv6's minimum %u: inner packets above %u bytes "
                           "cannot reach it",
                           s->cs_id, in.id, static_cast<unsigned>(e.port_mtu[in.port_id]),
                           static_cast<unsigned>(in.encap.ip_len), inner, static_cast<unsigned>(kIpv6MinMtu), inner);
            }
        }
    e.fib = app.fib.get();
    e.services = app.table.get();
    e.local_sids = app.sids.get();
    e.qsbr = app.qsbr;
    e.tsc_per_ms = std::max<std::uint64_t>(1, rte_get_tsc_hz() / 1000);

    // Without hugepages the flow tables go on transparent huge pages (see
    // thp_heap.hpp); with them, on each worker's NUMA node.
    app.flow_heap = std::make_unique<ThpHeap>("cats_flows",
                                              ThpHeap::flow_tables_bytes(n_workers, cfg.gateway.flow_table_size),
                                              socket);
    if (app.flow_heap->active()) {
        const std::string thp = ThpHeap::kernel_setting();
        cats::logf(cats::LogLevel::Info, "no hugepages: flow tables in a %zu MB heap advised for transparent "
                   "huge pages (kernel THP setting: %s)",
                   app.flow_heap->bytes() >> 20, thp.empty() ? "none" : thp.c_str());
    }
    unsigned idx = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH(lcore) {
        auto w = std::make_unique<Worker>();
        w->index = idx;
        w->lcore_id = lcore;
        w->queue = static_cast<std::uint16_t>(idx);
        w->engine = &e;
        const int flow_socket =
            app.flow_heap->active() ? app.flow_heap->socket() : static_cast<int>(rte_lcore_to_socket_id(lcore));
        w->flows = std::make_unique<FlowTable>("cats_flows_" + std::to_string(idx), cfg.gateway.flow_table_size,
                                               flow_socket);
        w->ctr = std::make_unique<WorkerCounters>(cfg.gateway.max_services, cfg.gateway.max_instances,
                                                  app.sids->max_sids());
        if (cfg.gateway.policy_table_size != 0)
            w->policies = std::make_unique<PolicyTable>("cats_pol_" + std::to_string(idx),
                                                        cfg.gateway.policy_table_size, flow_socket);
        w->icmp = Icmp6Limiter(cfg.gateway.icmp_rate);
        app.workers.push_back(std::move(w));
        ++idx;
    }
    app.table->on_counter_reset([&app](std::span<const std::uint32_t> svcs, std::span<const std::uint32_t> insts) {
        for (const auto& w : app.workers)
            w->ctr->reset_slots(svcs, insts);
    });
    app.sids->on_counter_reset([&app](std::span<const std::uint32_t> slots) {
        for (const auto& w : app.workers)
            w->ctr->reset_sid_slots(slots);
    });

    cats::logf(cats::LogLevel::Info, "%zu port(s), %u worker(s), %zu service(s), table version %lu",
               app.ports.size(), n_workers, app.table->current()->services.size(),
               static_cast<unsigned long>(app.table->current()->version));

    if (!app.opt.mgmt_socket.empty()) {
        MgmtHooks hooks;
        hooks.status = [&app] { return app.status(); };
        hooks.stats = [&app] { return app.report(); };
        hooks.flows = [&app](const cats::mgmt::FlowsQuery& q) {
            return list_flows(app.workers, app.now_ms(), q.cs_id, q.instance_id, q.limit);
        };
        // SID_UPDATE (catsctl sid add/del): the table checks the rest; a
        // port's own address is refused as the YAML's local_sids refuses it.
        hooks.sids = app.sids.get();
        hooks.check_sid = [&app](const LocalSidConfig& c) -> std::string {
            for (const PortConfig& p : app.cfg.ports)
                for (const InterfaceAddress& a : p.addresses)
                    if (a.addr == c.sid.addr)
                        return "one of the ports' addresses (port " + p.name +
                               "): the kernel answers those; a SID is the dataplane's";
            return {};
        };
        app.mgmt = std::make_unique<MgmtServer>(app.opt.mgmt_socket, *app.table, std::move(hooks),
                                                app.opt.mgmt_access);
    }

    app.start_tsc = rte_rdtsc();
    pthread_t mgmt;
    if (rte_ctrl_thread_create(&mgmt, "cats-mgmt", nullptr, mgmt_main, &app) != 0)
        throw std::runtime_error("cannot start the management thread");
    pthread_t exc{};
    if (app.exc && rte_ctrl_thread_create(&exc, "cats-exc", nullptr, exception_main, &app) != 0) {
        app.engine.quit.store(true);
        pthread_join(mgmt, nullptr);
        throw std::runtime_error("cannot start the exception-path thread");
    }

    Worker* main_worker = nullptr;
    for (auto& w : app.workers) {
        if (w->lcore_id == rte_get_main_lcore())
            main_worker = w.get();
        else
            rte_eal_remote_launch(worker_main, w.get(), w->lcore_id);
    }
    worker_main(main_worker);
    rte_eal_mp_wait_lcore();
    pthread_join(mgmt, nullptr);
    if (app.exc)
        pthread_join(exc, nullptr);

    const nlohmann::json r = app.report();
    app.print(r);
    if (!app.opt.stats_file.empty()) {
        std::ofstream f(app.opt.stats_file);
        f << json_text(r, 2) << "\n";
        if (!f)
            cats::logf(cats::LogLevel::Error, "cannot write %s", app.opt.stats_file.c_str());
    }
    app.mgmt.reset();
    app.neigh.reset();
    app.exc.reset();
    stop_ports(app.ports);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    cats::set_log_program("cats-dataplane");
    if (const int rc = before_eal(argc, argv); rc >= 0)
        return rc;
    {
        // The application's options are checked before EAL starts.
        std::vector<char*> args = cats::app_args(argc, argv);
        Options scratch;
        if (!parse_options(static_cast<int>(args.size()) - 1, args.data(), scratch))
            return 2;
    }
    const int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        std::fprintf(stderr, "cats-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    argc -= eal_args;
    argv += eal_args;
    argv[0] = const_cast<char*>("cats-dataplane");

    int rc = 1;
    {
        App app;
        if (parse_options(argc, argv, app.opt)) {
            try {
                app.cfg = load_config_file(app.opt.config);
                std::signal(SIGINT, on_signal);
                std::signal(SIGTERM, on_signal);
                std::signal(SIGUSR1, on_signal);
                rc = run(app);
            } catch (const ConfigError& ex) {
                std::fprintf(stderr, "cats-dataplane: %s\n", config_error_text(app.opt.config, ex.what()).c_str());
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "cats-dataplane: %s\n", ex.what());
            }
        } else {
            rc = 2;
        }
        app.mgmt.reset();
        app.neigh.reset();
        app.exc.reset();
        app.workers.clear();
        app.flow_heap.reset();
        app.table.reset();
        app.fib.reset();
        rte_free(app.qsbr);
    }
    cats::eal_exit("cats-dataplane");
    return rc;
}
