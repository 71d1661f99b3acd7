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

// Run one mode on every worker: warm up, measure kWindows windows, stop.
RunResult run_mode(Harness& h, std::vector<LoopArg>& args, Mode mode, bool memory, const EngineOptions& o,
                   const WorkloadSpec& spec, unsigned sids, MemoryFigures* mem_fig) {
    const std::uint64_t table_bytes = h.reset_workers();
    for (LoopArg& a : args) {
        a.mode = mode;
        a.memory = memory;
    }
    const std::size_t nw = h.workers.size();
    std::vector<std::vector<std::uint64_t>> pk(kWindows + 1, std::vector<std::uint64_t>(nw));
    std::uint64_t tsc[kWindows + 1] = {}, drops[kWindows + 1] = {};
    std::string error;

    std::thread coord([&] {
        leave_lcore_cpus();
        const auto hz = static_cast<double>(rte_get_tsc_hz());
        std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
        if (mode == Mode::Cats) {
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
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            if (mem_fig != nullptr) {
                mem_fig->rss_bytes = rss_bytes();
                mem_fig->table_bytes = table_bytes;
                mem_fig->table_capacity = h.cfg.gateway.flow_table_size;
            }
        }
        // kWindows back-to-back windows; the run reports the median one, so
        // that a window in which the host took the CPU away does not count.
        for (unsigned k = 0; k <= kWindows; ++k) {
            if (k != 0)
                std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s / kWindows));
            tsc[k] = rte_rdtsc();
            for (std::size_t i = 0; i < nw; ++i) {
                pk[k][i] = h.workers[i]->ctr->rx_packets.get();
                drops[k] += sum_drops(*h.workers[i]->ctr);
            }
        }
        h.engine.quit.store(true);
    });
    for (std::size_t i = 1; i < nw; ++i)
        rte_eal_remote_launch(bench_loop, &args[i], h.workers[i]->lcore_id);
    bench_loop(&args[0]);
    for (std::size_t i = 1; i < nw; ++i)
        rte_eal_wait_lcore(h.workers[i]->lcore_id);
    coord.join();
    if (!error.empty())
        throw std::runtime_error(error);

    RunResult r;
    r.io = memory ? "memory" : "pcap";
    r.mode = mode_name(mode, memory);
    r.encoding = spec.encoding;
    r.flows = spec.flows;
    r.services = spec.services;
    r.workers = static_cast<unsigned>(nw);
    r.sids = mode == Mode::Cats || mode == Mode::NewFlow ? sids : 0;
    // Per window: cycles per packet (mean over workers) and packets.
    std::vector<std::pair<double, std::size_t>> by_cost;
    for (unsigned k = 0; k < kWindows; ++k) {
        const double window = static_cast<double>(tsc[k + 1] - tsc[k]);
        double cyc = 0;
        for (std::size_t i = 0; i < nw; ++i) {
            const std::uint64_t p = pk[k + 1][i] - pk[k][i];
            cyc += p != 0 ? window / static_cast<double>(p) : window;
        }
        by_cost.emplace_back(cyc / static_cast<double>(nw), k);
    }
    std::sort(by_cost.begin(), by_cost.end());
    const unsigned med = static_cast<unsigned>(by_cost[kWindows / 2].second);
    r.cycles_per_packet = by_cost[kWindows / 2].first;
    r.cycles_min = by_cost.front().first;
    r.cycles_max = by_cost.back().first;
    r.seconds = static_cast<double>(tsc[med + 1] - tsc[med]) / static_cast<double>(rte_get_tsc_hz());
    for (std::size_t i = 0; i < nw; ++i)
        r.packets += pk[med + 1][i] - pk[med][i];
    r.mpps = static_cast<double>(r.packets) / r.seconds / 1e6;
    r.mpps_per_worker = r.mpps / static_cast<double>(nw);
    // Drops count over every window.
    r.dropped = drops[kWindows] - drops[0];
    for (const auto& w : h.workers)
        r.flows_pinned += w->flows->count();
    return r;
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

    for (const std::uint32_t flows : o.flows)
        for (const std::uint32_t services : o.services)
            for (const Encoding enc : o.encodings)
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
                        static constexpr std::pair<Mode, unsigned> kRuns[] = {
                            {Mode::Io, 1}, {Mode::L3fwd, 1}, {Mode::Cats, 1}, {Mode::Cats, 3}, {Mode::NewFlow, 1}};
                        for (const auto& [mode, sids] : kRuns) {
                            if ((mode == Mode::Io && !o.run_io) || (mode == Mode::L3fwd && !o.run_l3fwd) ||
                                (mode == Mode::Cats && !o.run_cats) || (mode == Mode::NewFlow && !o.run_newflow))
                                continue;
                            Harness h(spec, sids, nw, port_id, mac, table_size, lcores);
                            std::vector<LoopArg> args(nw);
                            for (unsigned i = 0; i < nw; ++i) {
                                args[i].w = h.workers[i].get();
                                if (input) {
                                    args[i].mem = input->per_worker[i].data();
                                    args[i].mem_n = static_cast<std::uint32_t>(input->per_worker[i].size());
                                    args[i].len = input->len;
                                    std::memcpy(args[i].eth, input->eth, sizeof input->eth);
                                }
                            }
                            MemoryFigures fig;
                            const bool want_fig = record_memory && !memory && mode == Mode::Cats && sids == 1;
                            RunResult r = run_mode(h, args, mode, memory, o, spec, sids, want_fig ? &fig : nullptr);
                            if (want_fig) {
                                fig.flows = flows;
                                fig.bytes_per_flow = static_cast<double>(fig.table_bytes) / flows;
                                fig.input_bytes = static_cast<std::uint64_t>(port->pool->size) *
                                                  port->pool->elt_size;
                                res.memory.push_back(fig);
                            }
                            log_run(r);
                            res.runs.push_back(r);
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
        std::snprintf(line, sizeof line, "%-6s %-12s %-11s %8u %5u %2u %4s %10.2f %10.2f %9.1f %8.2f %8.2f %8lu\n",
                      x.io.c_str(), x.mode.c_str(), encoding_name(x.encoding), x.flows, x.services, x.workers,
                      x.sids == 0 ? "-" : std::to_string(x.sids).c_str(), x.mpps, x.mpps_per_worker,
                      x.cycles_per_packet, ratio(floor), ratio(l3fwd), static_cast<unsigned long>(x.dropped));
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
