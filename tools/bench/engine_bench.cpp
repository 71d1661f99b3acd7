// SPDX-License-Identifier: BSD-3-Clause
#include "engine_bench.hpp"

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "harness.hpp"

namespace cats::bench {

namespace {

using namespace cats::dp;

constexpr unsigned kWindows = 5;
// After each launch, before its window counts: the mode's working set back
// in the caches and its loop at speed.
constexpr double kSettleS = 0.02;

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Counters of every worker at one instant.
struct Sample {
    std::uint64_t tsc = 0;
    std::vector<std::uint64_t> packets;  // per worker
    std::uint64_t drops = 0;             // all workers
};

Sample take_sample(const Harness& h) {
    Sample s;
    s.tsc = rte_rdtsc();
    for (const auto& w : h.workers) {
        s.packets.push_back(w->ctr->rx_packets.get());
        s.drops += sum_drops(*w->ctr);
    }
    return s;
}

// Runs `mode` on every worker lcore while `control` runs on a thread of its
// own (off the lcores' CPUs), and stops them when it returns.
template <class F>
void launch(Harness& h, std::vector<LoopArg>& args, Mode mode, bool memory, F&& control) {
    for (LoopArg& a : args) {
        a.mode = mode;
        a.memory = memory;
    }
    h.engine.quit.store(false);
    std::thread coord([&] {
        leave_lcore_cpus();
        control();
        h.engine.quit.store(true);
    });
    const std::size_t nw = h.workers.size();
    for (std::size_t i = 1; i < nw; ++i)
        rte_eal_remote_launch(bench_loop, &args[i], h.workers[i]->lcore_id);
    bench_loop(&args[0]);
    for (std::size_t i = 1; i < nw; ++i)
        rte_eal_wait_lcore(h.workers[i]->lcore_id);
    coord.join();
}

// Run `modes` on one engine and one input, their windows interleaved: a
// warm-up (with the fast path among them, until every flow is pinned), then
// kWindows rounds, each a window of every mode in turn. A mode's figures
// are those of its median window. The modes of one round are a fraction
// of a second apart, so a host that slows down for a few seconds slows
// all of them, not the one that happened to run then: the ratios between
// them hold.
std::vector<RunResult> run_modes(Harness& h, std::vector<LoopArg>& args, const std::vector<Mode>& modes, bool memory,
                                 const EngineOptions& o, const WorkloadSpec& spec, unsigned sids,
                                 MemoryFigures* mem_fig) {
    const std::uint64_t table_bytes = h.reset_workers();
    const std::size_t nw = h.workers.size();
    const auto hz = static_cast<double>(rte_get_tsc_hz());
    const bool fast_path = std::find(modes.begin(), modes.end(), Mode::Cats) != modes.end();

    std::string error;
    launch(h, args, fast_path ? Mode::Cats : modes[0], memory, [&] {
        sleep_s(o.warmup_s);
        if (!fast_path)
            return;
        // Measure the fast path only once every flow is pinned.
        const std::uint64_t deadline = rte_rdtsc() + static_cast<std::uint64_t>(120 * hz);
        for (;;) {
            std::uint64_t pinned = 0;
            for (const auto& w : h.workers)
                pinned += w->ctr->new_flows.get();
            if (pinned >= spec.flows)
                break;
            if (rte_rdtsc() > deadline) {
                error = "flows not all pinned after 120 s: " + std::to_string(pinned);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (mem_fig != nullptr) {
            mem_fig->rss_bytes = rss_bytes();
            mem_fig->table_bytes = table_bytes;
            mem_fig->table_capacity = h.cfg.gateway.flow_table_size;
        }
    });
    if (!error.empty())
        throw std::runtime_error(error);

    // Per mode: each window's cost (cycles per packet, mean over workers)
    // and packets; drops over all its launches.
    struct Window {
        double cycles = 0;
        double seconds = 0;
        std::uint64_t packets = 0;
    };
    std::vector<std::vector<Window>> windows(modes.size());
    std::vector<std::uint64_t> drops(modes.size());
    for (unsigned k = 0; k < kWindows; ++k) {
        for (std::size_t m = 0; m < modes.size(); ++m) {
            Sample a, b;
            const std::uint64_t drops_before = take_sample(h).drops;
            launch(h, args, modes[m], memory, [&] {
                sleep_s(kSettleS);
                a = take_sample(h);
                sleep_s(o.duration_s / kWindows);
                b = take_sample(h);
            });
            drops[m] += take_sample(h).drops - drops_before;
            Window win;
            const double span = static_cast<double>(b.tsc - a.tsc);
            for (std::size_t i = 0; i < nw; ++i) {
                const std::uint64_t p = b.packets[i] - a.packets[i];
                win.cycles += p != 0 ? span / static_cast<double>(p) : span;
                win.packets += p;
            }
            win.cycles /= static_cast<double>(nw);
            win.seconds = span / hz;
            windows[m].push_back(win);
        }
    }

    std::vector<RunResult> out;
    for (std::size_t m = 0; m < modes.size(); ++m) {
        std::vector<Window>& ws = windows[m];
        std::sort(ws.begin(), ws.end(), [](const Window& x, const Window& y) { return x.cycles < y.cycles; });
        const Window& med = ws[kWindows / 2];
        RunResult r;
        r.io = memory ? "memory" : "pcap";
        r.mode = mode_name(modes[m], memory);
        r.encoding = spec.encoding;
        r.flows = spec.flows;
        r.services = spec.services;
        r.workers = static_cast<unsigned>(nw);
        r.sids = modes[m] == Mode::Cats || modes[m] == Mode::NewFlow || modes[m] == Mode::EndDx6 ? sids : 0;
        r.cycles_per_packet = med.cycles;
        r.cycles_min = ws.front().cycles;
        r.cycles_max = ws.back().cycles;
        r.seconds = med.seconds;
        r.packets = med.packets;
        r.mpps = static_cast<double>(r.packets) / r.seconds / 1e6;
        r.mpps_per_worker = r.mpps / static_cast<double>(nw);
        r.dropped = drops[m];
        // The baselines share the fast path's engine but pin nothing.
        if (r.sids != 0)
            for (const auto& w : h.workers)
                r.flows_pinned += w->flows->count();
        out.push_back(r);
    }
    return out;
}

void log_run(const RunResult& r) {
    std::fprintf(stderr, "  %-6s %-12s sids %u: %7.2f Mpps/worker, %6.1f cycles/pkt, %lu dropped\n",
                 r.io.c_str(), r.mode.c_str(), r.sids, r.mpps_per_worker, r.cycles_per_packet,
                 static_cast<unsigned long>(r.dropped));
}

}  // namespace

EngineResults run_engine_bench(const EngineOptions& o) {
    EngineResults res;
    std::vector<unsigned> lcores;
    unsigned lc;
    RTE_LCORE_FOREACH(lc) lcores.push_back(lc);
    unsigned serial = 0;
    const std::uint32_t max_flows = *std::max_element(o.flows.begin(), o.flows.end());

    const bool cats_modes = o.run_cats || o.run_newflow;
    for (const std::uint32_t flows : o.flows)
        for (const std::uint32_t services : o.services) {
            std::vector<Encoding> encodings;
            if (cats_modes || !o.run_dx6)
                encodings = o.encodings;
            if (o.run_dx6 && services == o.services[0]) {
                encodings.push_back(Encoding::Srv6Sid1);
                encodings.push_back(Encoding::Srv6Sid3);
            }
            for (const Encoding enc : encodings)
                for (const unsigned nw : o.workers) {
                    if (nw > lcores.size())
                        throw std::runtime_error(std::to_string(nw) + " workers need as many EAL lcores (-l), have " +
                                                 std::to_string(lcores.size()));
                    WorkloadSpec spec;
                    spec.flows = flows;
                    spec.services = services;
                    spec.encoding = enc;
                    spec.payload = o.payload;
                    const std::uint32_t table_size = pow2_at_least((flows + nw - 1) / nw);
                    std::fprintf(stderr, "%s, %u flows, %u services x 8 instances, %u worker(s):\n",
                                 encoding_name(enc), flows, services, nw);
                    const bool record_memory = flows == max_flows && nw == 1 && enc == o.encodings[0] &&
                                               services == o.services[0];
                    for (const bool memory : {false, true}) {
                        if ((memory && !o.memory) || (!memory && !o.pmd))
                            continue;
                        ++serial;
                        std::unique_ptr<PcapPort> port;
                        std::unique_ptr<MemoryInput> input;
                        std::uint16_t port_id = 0;
                        MacAddr mac{0x02, 0, 0, 0, 0, 0x01};
                        if (memory) {
                            input = std::make_unique<MemoryInput>(spec, nw, serial);
                        } else {
                            port = std::make_unique<PcapPort>(spec, nw, o.tmpdir, serial);
                            port_id = port->port_id;
                            mac = port->mac;
                        }
                        // The baselines and the 1-SID fast path interleaved on one engine
                        // (their ratios are the point); 3 SIDs and new flows each on their
                        // own, interleaved with io floor windows of their own, which give
                        // their ratio to the floor but are not reported as rows.
                        std::vector<std::pair<std::vector<Mode>, unsigned>> groups;
                        std::vector<Mode> first;
                        if (o.run_io)
                            first.push_back(Mode::Io);
                        if (o.run_l3fwd)
                            first.push_back(Mode::L3fwd);
                        const bool tunnel = is_tunnel(enc);
                        if (tunnel) {
                            // The egress: its input's SID count is the workload's.
                            first.push_back(Mode::EndDx6);
                            groups.emplace_back(first, enc == Encoding::Srv6Sid3 ? 3 : 1);
                        } else {
                            if (o.run_cats)
                                first.push_back(Mode::Cats);
                            if (!first.empty())
                                groups.emplace_back(first, 1);
                            const auto with_floor = [&](Mode m) {
                                return o.run_io ? std::vector<Mode>{Mode::Io, m} : std::vector<Mode>{m};
                            };
                            if (o.run_cats)
                                groups.emplace_back(with_floor(Mode::Cats), 3);
                            if (o.run_newflow)
                                groups.emplace_back(with_floor(Mode::NewFlow), 1);
                        }
                        for (std::size_t g = 0; g < groups.size(); ++g) {
                            const auto& [modes, sids] = groups[g];
                            // A tunnel workload's instances are not used: one SID each.
                            Harness h(spec, tunnel ? 1 : sids, nw, port_id, mac, table_size, lcores);
                            std::vector<LoopArg> args(nw);
                            for (unsigned i = 0; i < nw; ++i) {
                                args[i].w = h.workers[i].get();
                                if (input) {
                                    args[i].mem = input->per_worker[i].data();
                                    args[i].mem_n = static_cast<std::uint32_t>(input->per_worker[i].size());
                                    args[i].len = input->len;
                                    std::memcpy(args[i].eth, input->eth, sizeof input->eth);
                                    std::memcpy(args[i].patch, input->patch, sizeof input->patch);
                                    args[i].patch_off = input->patch_off;
                                }
                            }
                            MemoryFigures fig;
                            const bool want_fig = record_memory && !memory && sids == 1 &&
                                                  std::find(modes.begin(), modes.end(), Mode::Cats) != modes.end();
                            const std::vector<RunResult> rs =
                                run_modes(h, args, modes, memory, o, spec, sids, want_fig ? &fig : nullptr);
                            if (want_fig) {
                                fig.flows = flows;
                                fig.bytes_per_flow = static_cast<double>(fig.table_bytes) / flows;
                                fig.input_bytes = static_cast<std::uint64_t>(port->pool->size) *
                                                  port->pool->elt_size;
                                res.memory.push_back(fig);
                            }
                            const auto io = std::find_if(rs.begin(), rs.end(), [&](const RunResult& r) {
                                return r.mode == mode_name(Mode::Io, memory);
                            });
                            for (RunResult r : rs) {
                                if (io != rs.end())
                                    r.floor_mpps = io->mpps;
                                if (g != 0 && r.mode == mode_name(Mode::Io, memory))
                                    continue;  // only the first group's floor is a row
                                log_run(r);
                                res.runs.push_back(r);
                            }
                        }
                    }
                }
        }
    return res;
}

nlohmann::json to_json(const EngineResults& r) {
    nlohmann::json runs = nlohmann::json::array();
    for (const RunResult& x : r.runs)
        runs.push_back({{"io", x.io},
                        {"mode", x.mode},
                        {"encoding", encoding_name(x.encoding)},
                        {"flows", x.flows},
                        {"services", x.services},
                        {"instances_per_service", 8},
                        {"workers", x.workers},
                        {"sids", x.sids},
                        {"packets", x.packets},
                        {"seconds", x.seconds},
                        {"mpps", x.mpps},
                        {"mpps_per_worker", x.mpps_per_worker},
                        {"cycles_per_packet", x.cycles_per_packet},
                        {"cycles_per_packet_min", x.cycles_min},
                        {"cycles_per_packet_max", x.cycles_max},
                        {"io_floor_mpps", x.floor_mpps},
                        {"dropped", x.dropped},
                        {"flows_pinned", x.flows_pinned}});
    nlohmann::json mem = nlohmann::json::array();
    for (const MemoryFigures& m : r.memory)
        mem.push_back({{"flows", m.flows},
                       {"flow_table_bytes", m.table_bytes},
                       {"flow_table_capacity", m.table_capacity},
                       {"bytes_per_flow", m.bytes_per_flow},
                       {"rss_bytes", m.rss_bytes},
                       {"input_mbuf_bytes", m.input_bytes}});
    return {{"runs", runs}, {"memory", mem}};
}

std::string render_engine(const EngineResults& r) {
    // Baselines of the same input: (io, encoding, flows, services, workers).
    using Key = std::tuple<std::string, Encoding, std::uint32_t, std::uint32_t, unsigned>;
    std::map<Key, const RunResult*> floor, l3fwd;
    for (const RunResult& x : r.runs) {
        const Key k{x.io, x.encoding, x.flows, x.services, x.workers};
        if (x.mode == "io" || x.mode == "restore")
            floor[k] = &x;
        else if (x.mode == "l3fwd")
            l3fwd[k] = &x;
    }
    std::ostringstream s;
    char line[256];
    std::snprintf(line, sizeof line, "%-6s %-12s %-11s %8s %5s %2s %4s %10s %10s %9s %8s %8s %8s\n", "io", "mode",
                  "encoding", "flows", "svcs", "W", "sids", "Mpps", "Mpps/wkr", "cyc/pkt", "x floor", "x l3fwd",
                  "dropped");
    s << line;
    for (const RunResult& x : r.runs) {
        const Key k{x.io, x.encoding, x.flows, x.services, x.workers};
        auto ratio = [&](const std::map<Key, const RunResult*>& m) {
            const auto it = m.find(k);
            return it == m.end() || it->second->mpps == 0 ? 0.0 : x.mpps / it->second->mpps;
        };
        // To the io floor measured in windows interleaved with this run's.
        const double to_floor = x.floor_mpps != 0 ? x.mpps / x.floor_mpps : ratio(floor);
        std::snprintf(line, sizeof line, "%-6s %-12s %-11s %8u %5u %2u %4s %10.2f %10.2f %9.1f %8.2f %8.2f %8lu\n",
                      x.io.c_str(), x.mode.c_str(), encoding_name(x.encoding), x.flows, x.services, x.workers,
                      x.sids == 0 ? "-" : std::to_string(x.sids).c_str(), x.mpps, x.mpps_per_worker,
                      x.cycles_per_packet, to_floor, ratio(l3fwd), static_cast<unsigned long>(x.dropped));
        s << line;
    }
    for (const MemoryFigures& m : r.memory) {
        std::snprintf(line, sizeof line,
                      "memory at %u flows: flow table %.1f MB (%u slots) = %.1f bytes/flow; process resident "
                      "%.1f MB (VmRSS + hugepages mapped: with hugepages, all of EAL's -m), of which input "
                      "mbufs %.1f MB\n",
                      m.flows, static_cast<double>(m.table_bytes) / 1e6, m.table_capacity, m.bytes_per_flow,
                      static_cast<double>(m.rss_bytes) / 1e6, static_cast<double>(m.input_bytes) / 1e6);
        s << line;
    }
    return s.str();
}

}  // namespace cats::bench
