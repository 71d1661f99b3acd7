// SPDX-License-Identifier: BSD-3-Clause
// The pieces every cats-bench run is made of: an engine built the way
// cats-dataplane builds it (FIB, service table, workers), a net_pcap port
// replaying the workload from memory, the same workload prepared in mbufs,
// and the per-lcore loop of each mode.
//
// Thread safety: set up and torn down on the main lcore; bench_loop() runs
// on each worker lcore.
#pragma once

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "fib.hpp"
#include "port.hpp"
#include "service_table.hpp"
#include "sid_table.hpp"
#include "thp_heap.hpp"
#include "worker.hpp"
#include "workload.hpp"

namespace cats::bench {

// A header private to cats-bench: the engine's names are used unqualified.
using namespace cats::dp;

// EndDx6: the engine on tunnel workloads (is_tunnel()), as an egress.
enum class Mode : std::uint8_t { Io, L3fwd, Cats, NewFlow, EndDx6 };
const char* mode_name(Mode m, bool memory);


// Data room of the benchmark's mbufs: the largest packet (about 150 bytes)
// plus the largest encapsulation fit, and 1M of them fit in memory.
constexpr std::uint16_t kDataRoom = RTE_PKTMBUF_HEADROOM + 384;
std::uint64_t rss_bytes();        // resident: VmRSS plus hugetlbfs pages
std::uint64_t heap_bytes(int socket);  // allocated from the DPDK heap of this socket
std::uint32_t pow2_at_least(std::uint32_t n);
// Heap for a pool of `n` mbufs of kDataRoom (cache 256): the objects, the
// ring, the per-lcore caches and the pool's header.
std::size_t mbuf_pool_bytes(unsigned n);
// A pool of `n` mbufs of kDataRoom on `heap` (EAL's memory when it is not
// active); throws std::runtime_error saying which memory was short.
rte_mempool* input_pool(const std::string& name, unsigned n, unsigned cache, const ThpHeap& heap);
std::uint64_t sum_drops(const WorkerCounters& c);

// Threads started from the main lcore inherit its CPU: move the calling
// thread to the CPUs no lcore uses (as DPDK does for its control threads),
// or to every CPU when the lcores take them all.
void leave_lcore_cpus();


// One engine (FIB, service table, workers) over one port, as cats-dataplane
// builds it.
struct Harness {
    Config cfg;
    // Where the flow tables go: EAL's memory with hugepages, transparent
    // huge pages without, as cats-dataplane does. Outlives the tables.
    ThpHeap table_heap;
    std::unique_ptr<Fib> fib;
    rte_rcu_qsbr* qsbr = nullptr;
    std::unique_ptr<ServiceTable> table;
    std::unique_ptr<SidTable> local_sids;
    std::unique_ptr<SrhHmac> srh_hmac;
    Engine engine;
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<unsigned> lcores;

    Harness(const WorkloadSpec& spec, unsigned sids, unsigned n_workers, std::uint16_t port_id,
            const MacAddr& port_mac, std::uint32_t table_size, const std::vector<unsigned>& lcore_ids,
            unsigned extra_readers = 0)
        : cfg(gateway_config(spec, sids, "bench", table_size)),
          table_heap("bench_flows", ThpHeap::flow_tables_bytes(n_workers, table_size),
                     static_cast<int>(rte_socket_id())),
          lcores(lcore_ids) {
        std::vector<Neighbor> nbrs{{cfg.neighbors[0].address, cfg.neighbors[0].mac, port_id}};
        fib = std::make_unique<Fib>("bench_fib", static_cast<int>(rte_socket_id()), cfg.routes, nbrs);
        // RCU readers: the workers, then any other thread that reads the table.
        const std::size_t qsz = rte_rcu_qsbr_get_memsize(n_workers + extra_readers);
        qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bench_qsbr", qsz, RTE_CACHE_LINE_SIZE));
        if (qsbr == nullptr || rte_rcu_qsbr_init(qsbr, n_workers + extra_readers) != 0)
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
        local_sids = std::make_unique<SidTable>(*fib, qsbr);
        local_sids->replace_all(cfg.local_sids);
        e.local_sids = local_sids.get();
        e.qsbr = qsbr;
        e.tsc_per_ms = std::max<std::uint64_t>(1, rte_get_tsc_hz() / 1000);
        if (cfg.gateway.srh_hmac.enabled()) {
            srh_hmac = std::make_unique<SrhHmac>(cfg.gateway.srh_hmac);
            e.srh_hmac = srh_hmac.get();
        }
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
        local_sids.reset();
        table.reset();
        fib.reset();
        rte_free(qsbr);
    }
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    // What the heaps a flow table takes from hold: its own, and EAL's,
    // where rte_hash puts one array whatever the socket asked for
    // (the lock-free mode's list of buckets to free, 4 bytes per entry).
    std::uint64_t table_bytes() const {
        const int eal = static_cast<int>(rte_socket_id());
        return heap_bytes(eal) + (table_heap.socket() != eal ? heap_bytes(table_heap.socket()) : 0);
    }

    // Fresh flow tables and counters for the next run. Returns the bytes
    // the first worker's table took from the DPDK heap.
    std::uint64_t reset_workers() {
        std::uint64_t first = 0;
        for (auto& w : workers) {
            w->flows.reset();
            const std::uint64_t before = table_bytes();
            w->flows = std::make_unique<FlowTable>("bench_flows_" + std::to_string(w->index),
                                                   cfg.gateway.flow_table_size, table_heap.socket());
            if (w->index == 0)
                first = table_bytes() - before;
            w->ctr = std::make_unique<WorkerCounters>(cfg.gateway.max_services, cfg.gateway.max_instances,
                                                      local_sids->max_sids());
            w->policies = std::make_unique<PolicyTable>("bench_pol_" + std::to_string(w->index),
                                                        cfg.gateway.policy_table_size, table_heap.socket());
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
    // What End.DX6 rewrites besides, the same in every packet of a tunnel
    // workload: 22 bytes from 14 before the inner header (0: none).
    std::uint8_t patch[22] = {};
    std::uint16_t patch_off = 0;
};

// lcore entry point; arg is a LoopArg*. Returns when the engine's quit is set.
int bench_loop(void* arg);

// A net_pcap port replaying one pcap file per worker from memory
// (infinite_rx), transmitting into nothing (tx_drop): I/O at its cheapest.
struct PcapPort {
    // Without hugepages the stored packets (one mbuf each, of 64K or 1M
    // flows) go on transparent huge pages: a NIC's receive has no such
    // store, and 4 KB pages would make each copy a page walk.
    ThpHeap heap;
    std::string name;
    std::uint16_t port_id = 0;
    MacAddr mac{};
    rte_mempool* pool = nullptr;
    rte_device* device = nullptr;
    std::vector<std::string> files;

    PcapPort(const WorkloadSpec& spec, unsigned n_workers, const std::string& tmpdir, unsigned serial)
        : heap("bench_pcap" + std::to_string(serial), mbuf_pool_bytes(pool_size(spec, n_workers)),
               static_cast<int>(rte_socket_id())) {
        name = "net_pcap_bench" + std::to_string(serial);
        std::string args;
        for (unsigned q = 0; q < n_workers; ++q) {
            files.push_back(tmpdir + "/cats-bench-" + std::to_string(::getpid()) + "-" + std::to_string(q) +
                            ".pcap");
            write_pcap(files.back(), spec, q, n_workers);
            args += "rx_pcap=" + files.back() + ",";
        }
        args += "infinite_rx=1";
        pool = input_pool("bench_pool" + std::to_string(serial), pool_size(spec, n_workers), 256, heap);
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
    static unsigned pool_size(const WorkloadSpec& spec, unsigned n_workers) {
        return spec.flows + n_workers * 4096 + 8192;
    }
    PcapPort(const PcapPort&) = delete;
    PcapPort& operator=(const PcapPort&) = delete;
};

// Memory mode: every worker's packets in mbufs, ready to be "received".
struct MemoryInput {
    ThpHeap heap;  // as PcapPort's
    rte_mempool* pool = nullptr;
    std::vector<std::vector<rte_mbuf*>> per_worker;
    std::uint16_t len = 0;
    std::uint8_t eth[14] = {};
    std::uint8_t patch[22] = {};
    std::uint16_t patch_off = 0;  // see LoopArg

    MemoryInput(const WorkloadSpec& spec, unsigned n_workers, unsigned serial)
        : heap("bench_mem" + std::to_string(serial), mbuf_pool_bytes(pool_size(spec)),
               static_cast<int>(rte_socket_id())) {
        pool = input_pool("bench_mem" + std::to_string(serial), pool_size(spec), 0, heap);
        per_worker.resize(n_workers);
        for (std::uint32_t f = 0; f < spec.flows; ++f) {
            const std::vector<std::uint8_t> p = build_packet(spec, f);
            if (f == 0) {
                len = static_cast<std::uint16_t>(p.size());
                std::memcpy(eth, p.data(), sizeof eth);
                if (is_tunnel(spec.encoding)) {
                    patch_off = static_cast<std::uint16_t>(tunnel_inner_offset(spec.encoding) - 14);
                    std::memcpy(patch, p.data() + patch_off, sizeof patch);
                }
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
    static unsigned pool_size(const WorkloadSpec& spec) { return spec.flows + 1024; }
    MemoryInput(const MemoryInput&) = delete;
    MemoryInput& operator=(const MemoryInput&) = delete;
};

}  // namespace cats::bench
