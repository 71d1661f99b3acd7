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

#include "fib.hpp"
#include "port.hpp"
#include "service_table.hpp"
#include "worker.hpp"

namespace cats::bench {

namespace {

using namespace cats::dp;

enum class Mode : std::uint8_t { Io, L3fwd, Cats, NewFlow };

const char* mode_name(Mode m, bool memory) {
    switch (m) {
    case Mode::Io: return memory ? "restore" : "io";
    case Mode::L3fwd: return "l3fwd";
    case Mode::Cats: return "cats";
    case Mode::NewFlow: return "cats-newflow";
    }
    return "?";
}

// Data room of the benchmark's mbufs: the largest packet (about 150 bytes)
// plus the largest encapsulation fit, and 1M of them fit in memory.
constexpr std::uint16_t kDataRoom = RTE_PKTMBUF_HEADROOM + 384;

std::uint64_t rss_bytes() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024;
    return 0;
}

std::uint64_t heap_bytes() {
    rte_malloc_socket_stats st{};
    rte_malloc_get_socket_stats(static_cast<int>(rte_socket_id()), &st);
    return st.heap_allocsz_bytes;
}

std::uint32_t pow2_at_least(std::uint32_t n) {
    std::uint32_t p = 1024;
    while (p < n)
        p <<= 1;
    return p;
}

std::uint64_t sum_drops(const WorkerCounters& c) {
    std::uint64_t d = 0;
    for (const Counter& x : c.drops)
        d += x.get();
    return d;
}

// One engine (FIB, service table, workers) over one port, as cats-dataplane
// builds it.
struct Harness {
    Config cfg;
    std::unique_ptr<Fib> fib;
    rte_rcu_qsbr* qsbr = nullptr;
    std::unique_ptr<ServiceTable> table;
    Engine engine;
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<unsigned> lcores;

    Harness(const WorkloadSpec& spec, unsigned sids, unsigned n_workers, std::uint16_t port_id,
            const MacAddr& port_mac, std::uint32_t table_size, const std::vector<unsigned>& lcore_ids)
        : cfg(gateway_config(spec, sids, "bench", table_size)), lcores(lcore_ids) {
        std::vector<Neighbor> nbrs{{cfg.neighbors[0].address, cfg.neighbors[0].mac, port_id}};
        fib = std::make_unique<Fib>("bench_fib", static_cast<int>(rte_socket_id()), cfg.routes, nbrs);
        const std::size_t qsz = rte_rcu_qsbr_get_memsize(n_workers);
        qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bench_qsbr", qsz, RTE_CACHE_LINE_SIZE));
        if (qsbr == nullptr || rte_rcu_qsbr_init(qsbr, n_workers) != 0)
            throw std::runtime_error("RCU QSBR init failed");
        std::vector<MacAddr> macs(kMaxPorts);
        macs[port_id] = port_mac;
        EncapParams ep{cfg.gateway.encap_source, cfg.gateway.encap_mode, cfg.gateway.hop_limit};
        table = std::make_unique<ServiceTable>(ep, *fib, macs, qsbr, cfg.gateway.max_services,
                                               cfg.gateway.max_instances);
        table->replace_all(cfg.services);
        for (const Service* s : table->current()->services)
            for (const Instance& in : s->instances)
                if (!in.resolved)
                    throw std::runtime_error("bench: instance without a route (workload bug)");
        Engine& e = engine;
        std::memcpy(e.parse.sid_prefix, cfg.gateway.service_sid_prefix->addr.data(), 12);
        e.parse.sid_enabled = true;
        e.burst = static_cast<std::uint16_t>(cfg.gateway.burst);
        e.port_ids = {port_id};
        e.port_mtu[port_id] = 1500;
        e.port_mac[port_id] = port_mac;
        e.fib = fib.get();
        e.services = table.get();
        e.qsbr = qsbr;
        e.tsc_per_ms = std::max<std::uint64_t>(1, rte_get_tsc_hz() / 1000);
        for (unsigned i = 0; i < n_workers; ++i) {
            auto w = std::make_unique<Worker>();
            w->index = i;
            w->lcore_id = lcore_ids[i];
            w->queue = static_cast<std::uint16_t>(i);
            w->engine = &engine;
            workers.push_back(std::move(w));
        }
    }
    ~Harness() {
        workers.clear();
        table.reset();
        fib.reset();
        rte_free(qsbr);
    }
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    // Fresh flow tables and counters for the next run. Returns the bytes
    // the first worker's table took from the DPDK heap.
    std::uint64_t reset_workers() {
        std::uint64_t first = 0;
        for (auto& w : workers) {
            w->flows.reset();
            const std::uint64_t before = heap_bytes();
            w->flows = std::make_unique<FlowTable>("bench_flows_" + std::to_string(w->index),
                                                   cfg.gateway.flow_table_size,
                                                   static_cast<int>(rte_socket_id()));
            if (w->index == 0)
                first = heap_bytes() - before;
            w->ctr = std::make_unique<WorkerCounters>(cfg.gateway.max_services, cfg.gateway.max_instances);
        }
        engine.quit.store(false);
        return first;
    }
};

// What a loop needs besides its worker.
struct LoopArg {
    Worker* w = nullptr;
    Mode mode = Mode::Io;
    bool memory = false;
    // Memory mode: the worker's prepared packets, all of length `len`.
    rte_mbuf** mem = nullptr;
    std::uint32_t mem_n = 0;
    std::uint16_t len = 0;
    std::uint8_t eth[14] = {};
    std::uint8_t hop_limit = 64;
};

// The l3fwd baseline's processing: check the Ethernet type, IPv6 version
// and hop limit, one rte_fib6 bulk lookup, MAC rewrite, hop limit - 1.
void l3fwd_burst(const Engine& e, Worker& w, rte_mbuf** pkts, std::uint16_t n, std::uint16_t* out) {
    BurstScratch& b = *w.scratch;
    unsigned k = 0;
    for (unsigned i = 0; i < n; ++i) {
        const auto* p = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
        out[i] = kVerdictDrop;
        if (pkts[i]->data_len < kEthHdrLen + 40 || wire::load_be16(p + 12) != kEtherTypeIpv6 ||
            (p[kEthHdrLen] >> 4) != 6 || p[kEthHdrLen + 7] <= 1) [[unlikely]] {
            w.ctr->drop(DropReason::NoRoute);
            continue;
        }
        std::memcpy(b.fwd_ips[k], p + kEthHdrLen + 24, 16);
        b.fwd_idx[k++] = static_cast<std::uint8_t>(i);
    }
    e.fib->lookup_bulk(b.fwd_ips, b.fwd_nh, k);
    for (unsigned f = 0; f < k; ++f) {
        const unsigned i = b.fwd_idx[f];
        if (b.fwd_nh[f] == Fib::kNoRoute) [[unlikely]] {
            w.ctr->drop(DropReason::NoRoute);
            continue;
        }
        const Neighbor& nbr = e.fib->neighbor(b.fwd_nh[f] - 1);
        auto* p = rte_pktmbuf_mtod(pkts[i], std::uint8_t*);
        std::memcpy(p, nbr.mac.data(), 6);
        std::memcpy(p + 6, e.port_mac[nbr.port_id].data(), 6);
        --p[kEthHdrLen + 7];
        out[i] = nbr.port_id;
    }
}

// Transmit what `out` says on the worker's queue; free drops and what the
// queue did not take.
void transmit(Worker& w, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n, const std::uint16_t* out) {
    BurstScratch& b = *w.scratch;
    unsigned k = 0, d = 0;
    for (unsigned i = 0; i < n; ++i) {
        if (out[i] == kVerdictDrop)
            b.drops[d++] = pkts[i];
        else
            b.tx[port][k++] = pkts[i];
    }
    if (d != 0)
        rte_pktmbuf_free_bulk(b.drops, d);
    const std::uint16_t sent = rte_eth_tx_burst(port, w.queue, b.tx[port], static_cast<std::uint16_t>(k));
    if (sent < k)
        rte_pktmbuf_free_bulk(&b.tx[port][sent], k - sent);
    w.ctr->tx_packets.add(sent);
}

// The new-flow path forgets each pin right after making it, so that the
// next pass over the same input is new flows again.
void forget_pins(Worker& w) {
    const BurstScratch& b = *w.scratch;
    for (unsigned f = 0; f < b.n_flow; ++f)
        w.flows->remove(b.keys[f], b.sigs[f]);
}

// Memory mode: the next burst of prepared packets, put back as received.
std::uint16_t take(LoopArg& a, std::uint32_t& cursor, rte_mbuf** rx, std::uint16_t burst) {
    for (unsigned i = 0; i < burst; ++i) {
        rte_mbuf* m = a.mem[cursor];
        if (++cursor == a.mem_n)
            cursor = 0;
        m->data_off = RTE_PKTMBUF_HEADROOM;
        m->data_len = a.len;
        m->pkt_len = a.len;
        m->port = 0;
        auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
        std::memcpy(p, a.eth, sizeof a.eth);
        p[kEthHdrLen + 7] = a.hop_limit;
        rx[i] = m;
    }
    return burst;
}

int bench_loop(void* arg) {
    LoopArg& a = *static_cast<LoopArg*>(arg);
    Worker& w = *a.w;
    const Engine& e = *w.engine;
    if (!a.memory && a.mode == Mode::Cats)
        return worker_main(&w);  // the real thing

    WorkerCounters& c = *w.ctr;
    const std::uint16_t port = e.port_ids[0];
    rte_mbuf* rx[kMaxBurst];
    std::uint16_t out[kMaxBurst];
    std::uint32_t cursor = 0;
    rte_rcu_qsbr_thread_register(e.qsbr, w.index);
    rte_rcu_qsbr_thread_online(e.qsbr, w.index);
    while (!e.quit.load(std::memory_order_relaxed)) {
        const Snapshot& snap = *e.services->current();
        const std::uint64_t tsc = rte_rdtsc();
        const auto now_ms = static_cast<std::uint32_t>(tsc / e.tsc_per_ms);
        const std::uint16_t n =
            a.memory ? take(a, cursor, rx, e.burst) : rte_eth_rx_burst(port, w.queue, rx, e.burst);
        if (n != 0) {
            switch (a.mode) {
            case Mode::Io:
                c.rx_packets.add(n);
                if (!a.memory) {
                    const std::uint16_t sent = rte_eth_tx_burst(port, w.queue, rx, n);
                    if (sent < n)
                        rte_pktmbuf_free_bulk(&rx[sent], n - sent);
                    c.tx_packets.add(sent);
                }
                break;
            case Mode::L3fwd:
                c.rx_packets.add(n);
                l3fwd_burst(e, w, rx, n, out);
                if (!a.memory)
                    transmit(w, port, rx, n, out);
                break;
            case Mode::Cats:  // memory only: the PMD case is worker_main
                c.rx_packets.add(n);
                process_burst(w, e, snap, rx, n, now_ms, out);
                break;
            case Mode::NewFlow:
                if (a.memory) {
                    c.rx_packets.add(n);
                    process_burst(w, e, snap, rx, n, now_ms, out);
                } else {
                    forward_burst(w, e, snap, port, rx, n, now_ms);
                }
                forget_pins(w);
                break;
            }
        }
        if (a.mode == Mode::Cats || a.mode == Mode::NewFlow)
            sweep_idle(w, snap, now_ms, 32);
        rte_rcu_qsbr_quiescent(e.qsbr, w.index);
    }
    rte_rcu_qsbr_thread_offline(e.qsbr, w.index);
    rte_rcu_qsbr_thread_unregister(e.qsbr, w.index);
    return 0;
}

// Run one mode on every worker: warm up, measure a window, stop.
RunResult run_mode(Harness& h, std::vector<LoopArg>& args, Mode mode, bool memory, const EngineOptions& o,
                   const WorkloadSpec& spec, unsigned sids, MemoryFigures* mem_fig) {
    const std::uint64_t table_bytes = h.reset_workers();
    for (LoopArg& a : args) {
        a.mode = mode;
        a.memory = memory;
    }
    const std::size_t nw = h.workers.size();
    std::vector<std::uint64_t> pk0(nw), pk1(nw);
    std::uint64_t tsc0 = 0, tsc1 = 0, drops0 = 0, drops1 = 0;
    std::string error;

    std::thread coord([&] {
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
        tsc0 = rte_rdtsc();
        for (std::size_t i = 0; i < nw; ++i) {
            pk0[i] = h.workers[i]->ctr->rx_packets.get();
            drops0 += sum_drops(*h.workers[i]->ctr);
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
        tsc1 = rte_rdtsc();
        for (std::size_t i = 0; i < nw; ++i) {
            pk1[i] = h.workers[i]->ctr->rx_packets.get();
            drops1 += sum_drops(*h.workers[i]->ctr);
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
    const double window = static_cast<double>(tsc1 - tsc0);
    r.seconds = window / static_cast<double>(rte_get_tsc_hz());
    double cyc = 0;
    for (std::size_t i = 0; i < nw; ++i) {
        const std::uint64_t p = pk1[i] - pk0[i];
        r.packets += p;
        cyc += p != 0 ? window / static_cast<double>(p) : 0;
    }
    r.cycles_per_packet = cyc / static_cast<double>(nw);
    r.mpps = static_cast<double>(r.packets) / r.seconds / 1e6;
    r.mpps_per_worker = r.mpps / static_cast<double>(nw);
    r.dropped = drops1 - drops0;
    for (const auto& w : h.workers)
        r.flows_pinned += w->flows->count();
    return r;
}

// A net_pcap port replaying one pcap file per worker from memory
// (infinite_rx), transmitting into nothing (tx_drop): I/O at its cheapest.
struct PcapPort {
    std::string name;
    std::uint16_t port_id = 0;
    MacAddr mac{};
    rte_mempool* pool = nullptr;
    rte_device* device = nullptr;
    std::vector<std::string> files;

    PcapPort(const WorkloadSpec& spec, unsigned n_workers, const std::string& tmpdir, unsigned serial) {
        name = "net_pcap_bench" + std::to_string(serial);
        std::string args;
        for (unsigned q = 0; q < n_workers; ++q) {
            files.push_back(tmpdir + "/cats-bench-" + std::to_string(::getpid()) + "-" + std::to_string(q) +
                            ".pcap");
            write_pcap(files.back(), spec, q, n_workers);
            args += "rx_pcap=" + files.back() + ",";
        }
        args += "infinite_rx=1";
        const unsigned n = spec.flows + n_workers * 4096 + 8192;
        pool = rte_pktmbuf_pool_create(("bench_pool" + std::to_string(serial)).c_str(), n, 256, 0, kDataRoom,
                                       static_cast<int>(rte_socket_id()));
        if (pool == nullptr)
            throw std::runtime_error("mbuf pool of " + std::to_string(n) + ": " + rte_strerror(rte_errno) +
                                     " (give EAL more memory with -m)");
        if (rte_dev_probe((name + "," + args).c_str()) != 0) {
            rte_mempool_free(pool);
            throw std::runtime_error("cannot create " + name + "," + args);
        }
        Config cfg;
        PortConfig pc;
        pc.name = name;
        cfg.ports.push_back(pc);
        const std::vector<PortState> ps = start_ports(cfg, n_workers, pool);
        port_id = ps[0].port_id;
        mac = ps[0].mac;
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(port_id, &info) == 0)
            device = info.device;
        // Loaded into mbufs now: the files are no longer needed.
        for (const std::string& f : files)
            std::remove(f.c_str());
    }
    ~PcapPort() {
        rte_eth_dev_stop(port_id);
        rte_eth_dev_close(port_id);
        if (device != nullptr)
            rte_dev_remove(device);
        rte_mempool_free(pool);
        for (const std::string& f : files)
            std::remove(f.c_str());
    }
    PcapPort(const PcapPort&) = delete;
    PcapPort& operator=(const PcapPort&) = delete;
};

// Memory mode: every worker's packets in mbufs, ready to be "received".
struct MemoryInput {
    rte_mempool* pool = nullptr;
    std::vector<std::vector<rte_mbuf*>> per_worker;
    std::uint16_t len = 0;
    std::uint8_t eth[14] = {};

    MemoryInput(const WorkloadSpec& spec, unsigned n_workers, unsigned serial) {
        const unsigned n = spec.flows + 1024;
        pool = rte_pktmbuf_pool_create(("bench_mem" + std::to_string(serial)).c_str(), n, 0, 0, kDataRoom,
                                       static_cast<int>(rte_socket_id()));
        if (pool == nullptr)
            throw std::runtime_error("mbuf pool of " + std::to_string(n) + ": " + rte_strerror(rte_errno) +
                                     " (give EAL more memory with -m)");
        per_worker.resize(n_workers);
        for (std::uint32_t f = 0; f < spec.flows; ++f) {
            const std::vector<std::uint8_t> p = build_packet(spec, f);
            if (f == 0) {
                len = static_cast<std::uint16_t>(p.size());
                std::memcpy(eth, p.data(), sizeof eth);
            }
            if (p.size() != len)
                throw std::runtime_error("bench: packets of one workload differ in length");
            rte_mbuf* m = rte_pktmbuf_alloc(pool);
            if (m == nullptr)
                throw std::runtime_error("bench: memory input pool empty");
            std::memcpy(rte_pktmbuf_append(m, len), p.data(), len);
            per_worker[f % n_workers].push_back(m);
        }
    }
    ~MemoryInput() {
        for (auto& v : per_worker)
            for (rte_mbuf* m : v)
                rte_pktmbuf_free(m);
        rte_mempool_free(pool);
    }
    MemoryInput(const MemoryInput&) = delete;
    MemoryInput& operator=(const MemoryInput&) = delete;
};

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
                      "memory at %u flows: flow table %.1f MB (%u slots) = %.1f bytes/flow; process RSS %.1f MB, "
                      "of which input mbufs %.1f MB\n",
                      m.flows, static_cast<double>(m.table_bytes) / 1e6, m.table_capacity, m.bytes_per_flow,
                      static_cast<double>(m.rss_bytes) / 1e6, static_cast<double>(m.input_bytes) / 1e6);
        s << line;
    }
    return s.str();
}

}  // namespace cats::bench
