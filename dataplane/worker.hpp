// SPDX-License-Identifier: BSD-3-Clause
// The per-packet path: receive a burst, parse, look up flows in bulk, steer
// or forward, encapsulate, transmit. Run-to-completion, one worker per lcore,
// each polling its own RX/TX queue on every port.
//
// Thread safety: a Worker is touched only by its lcore (its counters are
// read by the management thread). The Engine is shared and read-only while
// workers run, except `quit` and the service table's RCU-published snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "fib.hpp"
#include "flow_table.hpp"
#include "icmp6.hpp"
#include "parse.hpp"
#include "policy_table.hpp"
#include "service_table.hpp"
#include "sid_table.hpp"
#include "sr_domain.hpp"
#include "srh_hmac.hpp"
#include "stats.hpp"

struct rte_mbuf;
struct rte_rcu_qsbr;
struct rte_ring;

namespace cats::dp {

inline constexpr unsigned kMaxBurst = 64;
inline constexpr std::uint16_t kVerdictDrop = 0xFFFF;
inline constexpr std::uint16_t kVerdictPunt = 0xFFFE;  // to the receiving port's kernel interface
inline constexpr std::uint16_t kVerdictHold = 0xFFFD;  // wait for the next hop's MAC (neighbor in hash.usr)
inline constexpr std::uint8_t kNoMiss = 0xFF;  // beyond any flow index of a burst
static_assert(kMaxBurst < kNoMiss);

struct Engine {
    ParseConfig parse{};
    NonCatsPolicy non_cats = NonCatsPolicy::Forward;
    // The SR domain's edge (sr_domain.hpp): checked on packets from ports
    // that are not trusted, when the domain has prefixes.
    SrDomain sr_domain;
    std::array<bool, kMaxPorts> port_trusted{};
    // gateway.srh_hmac, when configured: checked when a flow from a port
    // that is not trusted gets an instance (srh_hmac.hpp).
    const SrhHmac* srh_hmac = nullptr;
    // A port id out of range (an mbuf no PMD received) is not trusted.
    bool trusted(std::uint16_t port) const noexcept { return port < kMaxPorts && port_trusted[port]; }
    std::uint16_t burst = 32;
    std::vector<std::uint16_t> port_ids;           // ports every worker polls
    std::array<std::uint16_t, kMaxPorts> port_mtu{};
    std::array<MacAddr, kMaxPorts> port_mac{};
    Ipv6Addr icmp_source{};                        // source of the ICMPv6 errors we send
    const Fib* fib = nullptr;
    // The exception path (exception.hpp): per receiving port, the ring to
    // its kernel interface (null: none); packets held for a next hop's MAC.
    std::array<rte_ring*, kMaxPorts> punt_ring{};
    rte_ring* held_ring = nullptr;
    // What the exception thread transmits (the kernel's packets, held
    // packets once resolved), per port: worker 0 sends it on its own TX
    // queue, so that no port needs a queue more than the workers have
    // (net_af_packet's and net_af_xdp's queues come in RX/TX pairs).
    std::array<rte_ring*, kMaxPorts> inject_ring{};
    std::array<std::atomic<std::uint64_t>*, kMaxPorts> inject_tx_full{};  // the port's queue was full
    const ServiceTable* services = nullptr;
    // The local SIDs (sid_table.hpp): a packet addressed to one is
    // processed by its behaviour before any flow or FIB lookup. Null: none.
    const SidTable* local_sids = nullptr;
    rte_rcu_qsbr* qsbr = nullptr;
    std::uint64_t tsc_per_ms = 1;
    std::atomic<bool> quit{false};
};

// Local: addressed to a local SID; LocalFib: what its behaviour sent on,
// for the FIB to route (End, End.DT6), beside plain Forward traffic.
enum class Path : std::uint8_t { Drop, Flow, Forward, Local, LocalFib };

// Per-burst scratch, allocated once per worker (not on the stack, not per
// burst: PacketInfo has initialisers that would run 64 times a burst).
struct BurstScratch {
    PacketInfo info[kMaxBurst];
    Path path[kMaxBurst];
    FlowKey keys[kMaxBurst];
    const void* key_ptrs[kMaxBurst];
    std::uint32_t sigs[kMaxBurst];
    std::int32_t pos[kMaxBurst];
    const Service* svcs[kMaxBurst];     // service of each flow lookup, when known
    Choice choice[kMaxBurst];           // instance chosen for a flow lookup that missed
    std::uint8_t miss[kMaxBurst + 1];   // flow lookups that missed, of a service with instances; then kNoMiss
    std::uint8_t flow_idx[kMaxBurst];   // packet index of each flow lookup
    std::uint8_t fwd_idx[kMaxBurst];    // packet index of each FIB lookup
    std::uint8_t fwd_ips[kMaxBurst][16];
    std::uint64_t fwd_nh[kMaxBurst];
    unsigned n_flow = 0;                // flow lookups of the last burst
    // Packets to a local SID (Path::Local, LocalFib), by packet index.
    std::uint8_t local_idx[kMaxBurst];
    const LocalSid* sid[kMaxBurst];
    std::uint8_t outer_src[kMaxBurst][16];
    std::uint32_t rx_len[kMaxBurst];
    std::uint32_t policy_bytes[kMaxBurst];
    // Transmit side of forward_burst().
    std::uint16_t out[kMaxBurst];
    rte_mbuf* tx[kMaxPorts][kMaxBurst];
    std::uint16_t n_tx[kMaxPorts] = {};
    rte_mbuf* drops[kMaxBurst];
    rte_mbuf* punts[kMaxBurst];
    rte_mbuf* held[kMaxBurst];
};

struct Worker {
    unsigned index = 0;       // RCU thread id and counter index
    unsigned lcore_id = 0;
    std::uint16_t queue = 0;  // RX and TX queue on every port
    std::unique_ptr<FlowTable> flows;
    std::unique_ptr<WorkerCounters> ctr;
    std::unique_ptr<PolicyTable> policies;  // per received policy at local SIDs; null: not counted
    std::unique_ptr<BurstScratch> scratch = std::make_unique<BurstScratch>();
    std::atomic<std::uint64_t> last_rx_tsc{0};
    std::uint32_t last_sweep_ms = 0;  // engine clock of the last sweep_tick()
    Icmp6Limiter icmp;                // Packet Too Big rate (gateway.icmp_rate)
    const Engine* engine = nullptr;
};

// Process n (<= kMaxBurst) received packets. For each, out_port[i] is the
// port to transmit pkts[i] on (the mbuf rewritten in place), or kVerdictDrop
// (counted by reason; the caller frees it). Does not transmit.
void process_burst(Worker& w, const Engine& e, const Snapshot& snap, rte_mbuf** pkts,
                   std::uint16_t n, std::uint32_t now_ms, std::uint16_t* out_port) noexcept;

// Count a burst received on `port`, process it, free what is dropped and
// transmit the rest on each packet's port (the worker's TX queue).
void forward_burst(Worker& w, const Engine& e, const Snapshot& snap, std::uint16_t port, rte_mbuf** rx,
                   std::uint16_t n, std::uint32_t now_ms) noexcept;

// Remove at most `budget` idle pins, looking at the next `budget` positions.
void sweep_idle(Worker& w, const Snapshot& snap, std::uint32_t now_ms, unsigned budget) noexcept;

// The idle sweep's share of one poll loop: nothing until the engine clock
// ticks, then a slice sized so that the whole table is looked at once a
// second (expiry comes at most a second after the affinity timeout, which
// is at least a second) instead of a slice on every loop.
void sweep_tick(Worker& w, const Snapshot& snap, std::uint32_t now_ms) noexcept;

// lcore entry point; arg is a Worker*. Returns when engine->quit is set.
int worker_main(void* arg);

}  // namespace cats::dp
