// SPDX-License-Identifier: BSD-3-Clause
// cats-trafgen: CATS traffic generator and receive-side analyzer.
//
//   cats-trafgen gen     --profile P.yaml --seed N --out x.pcap
//   cats-trafgen analyze --profile P.yaml --rx out.pcap[:INSTANCE] ... [--json]
//   cats-trafgen run     --profile P.yaml --tx IFACE --rx IFACE:INSTANCE ... [--json]
//   cats-trafgen send    --profile P.yaml --tx IFACE
//   cats-trafgen run --dpdk --tx net_ring0 --rx net_ring1 ... -- EAL options
//   analyze and run: --plot FILE.png|FILE.svg; run and send: --progress,
//   --no-progress (default: a progress line when stderr is a terminal)
//
// Exit status: 0 success; 1 a runtime failure, or --check and a check of the
// report failed; 2 bad arguments or profile.
#include <net/if.h>
#include <unistd.h>

#include <csignal>
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli_errors.hpp"
#include "cats_version.h"
#include "analyzer.hpp"
#include "generator.hpp"
#include "live.hpp"
#include "pcap_io.hpp"
#include "plot.hpp"
#include "profile.hpp"

namespace {

using namespace cats::trafgen;

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;
// Default first timestamp of a generated pcap: 2026-01-01T00:00:00Z, fixed
// so that the same seed gives the same file.
constexpr std::uint64_t kDefaultStartNs = 1767225600ULL * 1000000000ULL;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

struct ProfileFlags {
    std::string profile;
    std::optional<std::uint64_t> seed;
    std::optional<std::uint32_t> flows;
    std::optional<std::uint32_t> packets_per_flow;
    std::optional<double> rate;
    std::optional<double> duration;
    std::string size;
    std::string encodings;
    std::string transports;
    std::optional<double> malformed_share;
    std::string malformed_kinds;
    std::vector<std::uint32_t> cs_ids;
    std::vector<std::string> allow_moves;
    std::optional<double> share_tolerance;

    void add_to(CLI::App* app) {
        app->add_option("-p,--profile", profile, "traffic profile (YAML, see configs/trafgen-lab.yaml)")
            ->check(CLI::ExistingFile);
        app->add_option("-s,--seed", seed, "seed: fixes every generated value");
        app->add_option("--flows", flows, "number of flows")->check(CLI::Range(1u, 1u << 24));
        app->add_option("--packets-per-flow", packets_per_flow, "packets per flow")->check(CLI::Range(1u, 1u << 30));
        app->add_option("--rate", rate, "packets per second in total (0: as fast as possible)")
            ->check(CLI::Range(0.0, 1e9));
        app->add_option("--duration", duration, "seconds at --rate (sets packets per flow)")
            ->check(CLI::Range(0.001, 604800.0));
        app->add_option("--size", size, "Ethernet frame size without FCS: N or MIN-MAX (64..9000)");
        app->add_option("--encodings", encodings, "weights, e.g. srh_tlv=2,dest_opt=1,hop_by_hop=1,service_sid=1");
        app->add_option("--transports", transports, "weights, e.g. udp=8,tcp=1,esp=1");
        app->add_option("--malformed-share", malformed_share, "share of malformed packets, 0..0.9")
            ->check(CLI::Range(0.0, 0.9));
        app->add_option("--malformed-kinds", malformed_kinds, "weights by drop-reason name, e.g. cats_bad_version=1");
        app->add_option("--cs-id", cs_ids, "without --profile: services to ask for (default 100)");
        app->add_option("--allow-move-from", allow_moves, "instance whose flows may move once (planned move)");
        app->add_option("--share-tolerance", share_tolerance, "allowed |measured - expected| share")
            ->check(CLI::Range(0.0, 1.0));
    }

    Profile load() const {
        Profile p;
        if (!profile.empty()) {
            p = load_profile_file(profile);
        } else {
            p.src_prefix = *parse_ipv6_prefix("2001:db8:c::/64");
            p.app_dst = *parse_ipv6_addr("2001:db8:5::64");
            p.service_sid_prefix = parse_ipv6_prefix("2001:db8:5::/96");
            for (const std::uint32_t id : cs_ids.empty() ? std::vector<std::uint32_t>{100} : cs_ids) {
                ServiceSpec svc;
                svc.cs_id = id;
                svc.name = "cs-" + std::to_string(id);
                p.services.push_back(svc);
            }
        }
        if (!profile.empty() && !cs_ids.empty())
            throw ProfileError("--cs-id: only without --profile (the profile lists the services)");
        if (seed)
            p.seed = *seed;
        if (flows)
            p.flows = *flows;
        if (packets_per_flow)
            p.packets_per_flow = *packets_per_flow;
        if (rate)
            p.rate_pps = *rate;
        if (duration) {
            if (packets_per_flow)
                throw ProfileError("--duration: give --packets-per-flow or --duration, not both");
            if (p.rate_pps <= 0)
                throw ProfileError("--duration: needs a rate (--rate or rate_pps)");
            p.packets_per_flow = static_cast<std::uint32_t>(
                std::clamp(std::ceil(p.rate_pps * *duration / p.flows), 1.0, double(1u << 30)));
        }
        if (!size.empty()) {
            const std::size_t dash = size.find('-');
            try {
                std::size_t used = 0;
                const unsigned long lo = std::stoul(size.substr(0, dash), &used);
                if (used != size.substr(0, dash).size())
                    throw std::invalid_argument("size");
                const unsigned long hi = dash == std::string::npos ? lo : std::stoul(size.substr(dash + 1), &used);
                if (lo < 64 || hi > 9000 || hi < lo)
                    throw std::out_of_range("size");
                p.size_min = static_cast<std::uint16_t>(lo);
                p.size_max = static_cast<std::uint16_t>(hi);
            } catch (const std::exception&) {
                throw ProfileError("--size: expected N or MIN-MAX within 64..9000, got '" + size + "'");
            }
        }
        if (!encodings.empty()) {
            const auto w = parse_weights("--encodings", encodings, kEncodingNames);
            std::copy(w.begin(), w.end(), p.encodings.begin());
        }
        if (!transports.empty()) {
            const auto w = parse_weights("--transports", transports, kTransportNames);
            std::copy(w.begin(), w.end(), p.transports.begin());
        }
        if (malformed_share)
            p.malformed_share = *malformed_share;
        if (!malformed_kinds.empty()) {
            const auto w = parse_weights("--malformed-kinds", malformed_kinds, kBadKindNames, 1);
            std::copy(w.begin(), w.end(), p.malformed_kinds.begin());
        }
        for (const std::string& m : allow_moves)
            p.allow_moves_from.push_back(m);
        if (share_tolerance) {
            p.share_tolerance = *share_tolerance;
            p.share_tolerance_from = "--share-tolerance";
        }
        validate_profile(p);
        return p;
    }
};

struct ReportFlags {
    bool json = false;
    std::string json_out;
    bool all_flows = false;
    bool check = false;
    std::string plot;

    void add_to(CLI::App* app) {
        app->add_flag("--json", json, "print the report as JSON instead of tables");
        app->add_option("--json-out", json_out, "also write the JSON report to this file");
        app->add_flag("--all-flows", all_flows, "list every flow in the report, not only those with a problem");
        app->add_flag("--check", check, "exit 1 unless every check of the report passes");
    }
    void add_plot_to(CLI::App* app) {
        app->add_option("--plot", plot,
                        "also draw the report (shares, latency CDF, packets/s over time) into FILE.png or "
                        "FILE.svg; needs python3-matplotlib");
    }
    // Before any work: a bad file name, or a missing matplotlib, is said
    // before a live run rather than after it.
    void check_plot(bool live) const {
        if (plot.empty())
            return;
        try {
            check_plot_name(plot);
        } catch (const PlotError& e) {
            throw ProfileError(e.what());  // a usage error: exit 2
        }
        if (live)
            check_plot_ready();
    }

    int emit(const nlohmann::json& r) const {
        if (json)
            std::cout << r.dump(2) << "\n";
        else
            std::cout << render_text(r);
        if (!json_out.empty()) {
            std::ofstream out(json_out);
            out << r.dump(2) << "\n";
            if (!out)
                throw PcapError(json_out + ": cannot write the report");
        }
        if (!plot.empty())
            plot_report(r, plot);
        return check && !r["checks"]["pass"].get<bool>() ? kExitFail : kExitOk;
    }
};

// The progress line of a live run (progress.hpp), on stderr.
struct ProgressFlags {
    bool lines = false;
    bool off = false;

    void add_to(CLI::App* app) {
        CLI::Option* on = app->add_flag("--progress", lines,
                                        "print a progress line every second on stderr, also when it is no terminal "
                                        "(default: one line updated in place on a terminal, none otherwise)");
        CLI::Option* no = app->add_flag("--no-progress", off, "no progress line");
        on->excludes(no);
    }
    ProgressMode mode() const {
        if (off)
            return ProgressMode::Off;
        if (lines)
            return ProgressMode::Lines;
        return ::isatty(STDERR_FILENO) ? ProgressMode::Tty : ProgressMode::Off;
    }
};

// "NAME[:INSTANCE]": the suffix is an instance if the profile knows it;
// otherwise the whole argument is the name if `whole_ok` says it can be (a
// file that exists, a DPDK PCI address such as 0000:3b:00.0).
template <class WholeOk>
std::pair<std::string, std::int32_t> split_instance(const std::string& arg, const Analyzer& an, WholeOk&& whole_ok) {
    const std::size_t colon = arg.rfind(':');
    if (colon != std::string::npos) {
        const std::string inst = arg.substr(colon + 1);
        const std::int32_t k = an.instance_by_name(inst);
        if (k != kUnknownInstance)
            return {arg.substr(0, colon), k};
        if (!whole_ok(arg)) {
            std::string names;
            for (std::size_t i = 0; i < an.instance_count(); ++i)
                names += (names.empty() ? "" : ", ") + an.instance_name(i);
            throw ProfileError(arg + ": no instance '" + inst + "' in the profile (instances: " +
                               (names.empty() ? "none" : names) + ")");
        }
    }
    return {arg, kUnknownInstance};
}

int cmd_gen(const ProfileFlags& pf, const std::string& out, std::optional<std::uint64_t> start_ns, bool now,
            bool nano) {
    const Profile p = pf.load();
    Generator gen(p);
    const std::uint64_t start = now ? now_realtime_ns() : start_ns.value_or(kDefaultStartNs);
    PcapWriter w(out, nano);
    std::vector<std::uint8_t> buf(kMaxFrame);
    TxCounts tx(gen.flows().size());
    Slot s;
    while (gen.next(s)) {
        const std::uint64_t ts = schedule_ns(p, start, s.index);
        const std::size_t len = gen.build(s, ts, buf);
        w.write(std::span<const std::uint8_t>(buf.data(), len), ts);
        tx.add(s, len, ts);
    }
    w.close();
    std::uint64_t bad = 0;
    for (const std::uint64_t b : tx.bad)
        bad += b;
    std::cout << out << ": " << tx.packets << " packets (" << tx.packets - bad << " good, " << bad << " malformed), "
              << gen.flows().size() << " flows, seed " << p.seed << ", run id " << std::hex << gen.run_id() << std::dec
              << "\n";
    for (std::size_t k = 1; k < kBadKindCount; ++k)
        if (tx.bad[k] > 0)
            std::cout << "  malformed " << kBadKindNames[k] << " " << tx.bad[k] << "\n";
    return kExitOk;
}

int cmd_analyze(const ProfileFlags& pf, const ReportFlags& rf, const std::vector<std::string>& rx_args,
                const std::string& tx_pcap, std::optional<std::uint64_t> start_ns) {
    const Profile p = pf.load();
    rf.check_plot(false);
    Generator gen(p);
    Analyzer an(gen);
    if (tx_pcap.empty()) {
        an.set_tx(plan_tx(gen, start_ns.value_or(kDefaultStartNs)));
    } else {
        // What the capture of the sending side holds, instead of the plan.
        TxCounts tx(gen.flows().size());
        read_pcap(tx_pcap, [&](std::span<const std::uint8_t> fr, std::uint64_t ts) {
            RxDecoded d;
            if (!decode_rx(fr, d) || d.tg.run_id != gen.run_id() || d.tg.flow_id >= gen.flows().size())
                return;
            const bool malformed = (d.tg.flags & kTgFlagMalformed) != 0;
            if (malformed && (d.tg.bad_kind == 0 || d.tg.bad_kind >= kBadKindCount))
                return;  // not a kind this version knows
            Slot s;
            s.flow = d.tg.flow_id;
            s.bad = malformed ? static_cast<BadKind>(d.tg.bad_kind) : BadKind::None;
            tx.add(s, fr.size(), ts);
        });
        an.set_tx(std::move(tx));
    }
    for (const std::string& arg : rx_args) {
        const auto [path, inst] =
            split_instance(arg, an, [](const std::string& a) { return std::filesystem::exists(a); });
        read_pcap(path, [&, inst = inst](std::span<const std::uint8_t> fr, std::uint64_t ts) { an.add_frame(fr, ts, inst); });
    }
    return rf.emit(an.report({.all_flows = rf.all_flows}));
}

int cmd_run(const ProfileFlags& pf, const ReportFlags& rf, const std::string& tx_name,
            const std::vector<std::string>& rx_args, bool dpdk, const std::vector<std::string>& eal, int linger_ms,
            double rx_timeout, bool send_only, ProgressMode progress) {
    const Profile p = pf.load();
    rf.check_plot(true);
    Generator gen(p);
    Analyzer an(gen);
    // Declared before the links, so destroyed after them: EAL goes last,
    // on every way out (a port that does not exist throws).
    struct EalGuard {
        ~EalGuard() { dpdk_cleanup(); }
    } eal_guard;
    std::map<std::string, std::unique_ptr<Link>> links;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (dpdk)
        dpdk_init(eal);
    // With DPDK one port serves both directions (separate queues); with
    // AF_PACKET each direction has its own socket.
    auto open = [&](const std::string& name, bool rx) -> Link* {
        const std::string key = dpdk ? name : name + (rx ? "/rx" : "/tx");
        auto it = links.find(key);
        if (it == links.end())
            it = links.emplace(key, dpdk ? open_dpdk_port(dpdk_port_by_name(name)) : open_af_packet(name, rx)).first;
        return it->second.get();
    };
    RunOptions opt;
    opt.linger_ms = linger_ms;
    opt.rx_timeout_s = rx_timeout;
    opt.stop = &g_stop;
    opt.progress = progress;
    if (!tx_name.empty())
        opt.tx = open(tx_name, false);
    for (const std::string& arg : rx_args) {
        const auto [name, inst] = split_instance(arg, an, [&](const std::string& a) {
            return dpdk || if_nametoindex(a.c_str()) != 0;
        });
        opt.rx.emplace_back(open(name, true), inst);
    }
    TxCounts tx = run_live(gen, an, opt);
    // Receive only (another host sends): what was sent is the plan.
    an.set_tx(opt.tx != nullptr ? std::move(tx) : plan_tx(gen, 0));
    links.clear();
    if (dpdk)
        dpdk_cleanup();
    if (send_only) {
        const nlohmann::json r = an.report({.all_flows = false});
        if (rf.json) {
            std::cout << nlohmann::json{{"tx", r["tx"]}, {"malformed", r["malformed"]["sent"]}}.dump(2) << "\n";
        } else {
            const std::string text = render_text(r);
            std::cout << text.substr(0, text.find("\nrx:") + 1);
            std::cout << "malformed sent: " << r["malformed"]["sent"].dump() << "\n";
        }
        return kExitOk;
    }
    return rf.emit(an.report({.all_flows = rf.all_flows}));
}

}  // namespace

int main(int argc, char** argv) {
    // EAL options follow the first "--".
    std::vector<std::string> eal{argc > 0 ? argv[0] : "cats-trafgen"};
    int app_argc = argc;
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]) == "--") {
            app_argc = i;
            for (int k = i + 1; k < argc; ++k)
                eal.emplace_back(argv[k]);
            break;
        }

    CLI::App app{"cats-trafgen: CATS traffic generator and receive-side analyzer"};
    app.set_version_flag("--version", std::string("cats-trafgen ") + CATS_VERSION + " (git " + CATS_GIT + ")");
    app.require_subcommand(1);
    ProfileFlags pf_gen, pf_an, pf_run, pf_send;
    ReportFlags rf_an, rf_run, rf_send;

    CLI::App* gen = app.add_subcommand("gen", "write the profile's packets to a pcap file");
    pf_gen.add_to(gen);
    std::string out;
    std::optional<std::uint64_t> start_ns;
    bool now = false, nano = false;
    gen->add_option("-o,--out", out, "pcap file to write")->required();
    gen->add_option("--start-ns", start_ns, "timestamp of the first packet, ns since the epoch (default 2026-01-01)");
    gen->add_flag("--now", now, "stamp packets from the current time instead");
    gen->add_flag("--nanosecond", nano, "write a nanosecond-resolution pcap");

    CLI::App* an = app.add_subcommand("analyze", "report on captures of what the gateway sent");
    pf_an.add_to(an);
    rf_an.add_to(an);
    rf_an.add_plot_to(an);
    std::vector<std::string> rx_files;
    std::string tx_pcap;
    std::optional<std::uint64_t> an_start;
    an->add_option("--rx", rx_files, "capture FILE[:INSTANCE]; without INSTANCE it is found from the packets")
        ->required();
    an->add_option("--tx", tx_pcap,
                   "capture of what was sent (default: the plan replayed from profile and seed); "
                   "ipv6_truncated and l4_truncated packets carry no trafgen header and are not counted from it");
    an->add_option("--start-ns", an_start, "the --start-ns given to gen (for latencies against the plan)");

    std::string tx_if, send_if;
    std::vector<std::string> rx_ifs;
    bool dpdk = false, dpdk_send = false;
    int linger = 500;
    double rx_timeout = 0;
    CLI::App* run = app.add_subcommand("run", "send live and receive on one or more interfaces/ports, then report");
    pf_run.add_to(run);
    rf_run.add_to(run);
    rf_run.add_plot_to(run);
    run->add_option("--tx", tx_if, "interface (AF_PACKET) or, with --dpdk, port name/id to send on");
    run->add_option("--rx", rx_ifs, "interface or port to receive on: NAME[:INSTANCE]");
    run->add_flag("--dpdk", dpdk, "--tx/--rx are DPDK ports; EAL options follow --");
    run->add_option("--linger-ms", linger, "keep receiving this long after the last packet")->check(CLI::Range(0, 600000));
    run->add_option("--rx-timeout", rx_timeout, "without --tx: receive for this many seconds")->check(CLI::Range(0.0, 86400.0));

    CLI::App* send = app.add_subcommand("send", "send live only");
    pf_send.add_to(send);
    rf_send.add_to(send);
    send->add_option("--tx", send_if, "interface (AF_PACKET) or, with --dpdk, port name/id")->required();
    send->add_flag("--dpdk", dpdk_send, "--tx is a DPDK port; EAL options follow --");
    ProgressFlags prog_run, prog_send;
    prog_run.add_to(run);
    prog_send.add_to(send);

    if (const int rc = cats::cli::parse(app, "cats-trafgen", app_argc, argv, kExitUsage); rc >= 0)
        return rc;
    try {
        if (app_argc != argc && !(dpdk || dpdk_send))
            throw ProfileError("options after -- are EAL options, for --dpdk only");
        if (*gen)
            return cmd_gen(pf_gen, out, start_ns, now, nano);
        if (*an)
            return cmd_analyze(pf_an, rf_an, rx_files, tx_pcap, an_start);
        if (*run) {
            if (tx_if.empty() && rx_ifs.empty())
                throw ProfileError("run: give --tx, --rx or both");
            return cmd_run(pf_run, rf_run, tx_if, rx_ifs, dpdk, eal, linger, rx_timeout, false, prog_run.mode());
        }
        if (*send)
            return cmd_run(pf_send, rf_send, send_if, {}, dpdk_send, eal, linger, 0, true, prog_send.mode());
    } catch (const ProfileError& e) {
        std::cerr << "cats-trafgen: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "cats-trafgen: " << e.what() << "\n";
        return kExitFail;
    }
    return kExitUsage;
}
