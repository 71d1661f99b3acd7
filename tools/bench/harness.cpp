// SPDX-License-Identifier: BSD-3-Clause
#include "harness.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include <bit>
#include <fstream>

#include <pthread.h>
#include <sched.h>

namespace cats::bench {

using namespace cats::dp;

const char* mode_name(Mode m, bool memory) {
    switch (m) {
    case Mode::Io: return memory ? "restore" : "io";
    case Mode::L3fwd: return "l3fwd";
    case Mode::Cats: return "cats";
    case Mode::NewFlow: return "cats-newflow";
    case Mode::EndDx6: return "end.dx6";
    }
    return "?";
}

std::uint64_t rss_bytes() {
    // VmRSS leaves out hugetlbfs mappings (where DPDK puts the mbufs and
    // tables when it has hugepages): HugetlbPages counts those.
    std::ifstream f("/proc/self/status");
    std::string line;
    std::uint64_t kb = 0;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            kb += std::stoull(line.substr(6));
        else if (line.rfind("HugetlbPages:", 0) == 0)
            kb += std::stoull(line.substr(13));
    return kb * 1024;
}

std::uint64_t heap_bytes(int socket) {
    rte_malloc_socket_stats st{};
    rte_malloc_get_socket_stats(socket, &st);
    return st.heap_allocsz_bytes;
}

std::size_t mbuf_pool_bytes(unsigned n) {
    constexpr std::size_t kPage = cats::dp::ThpHeap::kPageSize;  // no object crosses one
    rte_mempool_objsz sz{};
    const std::size_t obj = rte_mempool_calc_obj_size(sizeof(rte_mbuf) + kDataRoom, 0, &sz);
    const std::size_t per_page = kPage / obj;
    return (n + per_page - 1) / per_page * kPage                // the mbufs
           + std::bit_ceil(std::size_t{n} + 1) * sizeof(void*)  // the ring of free ones
           + RTE_MAX_LCORE * sizeof(rte_mempool_cache)          // the per-lcore caches
           + (std::size_t{4} << 20);                            // the pool's header, alignment
}

rte_mempool* input_pool(const std::string& name, unsigned n, unsigned cache, const ThpHeap& heap) {
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), n, cache, 0, kDataRoom, heap.socket());
    if (pool == nullptr)
        throw std::runtime_error("mbuf pool of " + std::to_string(n) + ": " + rte_strerror(rte_errno) +
                                 (heap.active() ? " (its heap of " + std::to_string(heap.bytes() >> 20) +
                                                      " MB is too small: mbuf_pool_bytes())"
                                                : std::string(" (give EAL more memory with -m)")));
    return pool;
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

void leave_lcore_cpus() {
    cpu_set_t used, free_set;
    CPU_ZERO(&used);
    CPU_ZERO(&free_set);
    unsigned lc;
    RTE_LCORE_FOREACH(lc) {
        const rte_cpuset_t cs = rte_lcore_cpuset(lc);
        CPU_OR(&used, &used, &cs);
    }
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < n && c < CPU_SETSIZE; ++c)
        if (!CPU_ISSET(c, &used))
            CPU_SET(c, &free_set);
    if (CPU_COUNT(&free_set) == 0)
        for (long c = 0; c < n && c < CPU_SETSIZE; ++c)
            CPU_SET(c, &free_set);
    pthread_setaffinity_np(pthread_self(), sizeof free_set, &free_set);
}

namespace {


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
        if (a.patch_off != 0)
            std::memcpy(p + a.patch_off, a.patch, sizeof a.patch);
        rx[i] = m;
    }
    return burst;
}

}  // namespace

int bench_loop(void* arg) {
    LoopArg& a = *static_cast<LoopArg*>(arg);
    Worker& w = *a.w;
    const Engine& e = *w.engine;
    if (!a.memory && (a.mode == Mode::Cats || a.mode == Mode::EndDx6))
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
            case Mode::EndDx6:
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
            sweep_tick(w, snap, now_ms);
        rte_rcu_qsbr_quiescent(e.qsbr, w.index);
    }
    rte_rcu_qsbr_thread_offline(e.qsbr, w.index);
    rte_rcu_qsbr_thread_unregister(e.qsbr, w.index);
    return 0;
}

}  // namespace cats::bench
