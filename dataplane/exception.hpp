// SPDX-License-Identifier: BSD-3-Clause
// The exception path: the gateway's own traffic between a DPDK port and the
// kernel. Each port with addresses gets a kernel interface, a TAP made with
// DPDK's net_tap PMD that carries the port's MAC (its addresses are put on
// it by the neighbor mirror, neigh.hpp). The kernel then is the gateway's
// host: NDP, ping, cats-control's advertisement socket, a BGP daemon, ssh.
//
//   worker:  FIB says kPunt (own address, link-local, multicast)
//            -> punt ring of the receiving port (MP/SC, no syscall)
//   thread:  punt ring -> rate limit -> TAP TX (the kernel receives it)
//            TAP RX (what the kernel sends) -> rate limit -> the port's
//            inject ring (SP/SC) -> worker 0 sends it on its TX queue
//
// It also holds packets whose next hop is being resolved (kVerdictHold):
// at most kHeldPerNeighbor per neighbor, like the kernel's unres_qlen, sent
// once the neighbor mirror has its MAC, dropped when it fails or after
// kHeldMaxMs.
//
// Thread safety: the constructor runs on the main thread before workers
// start; poll() on one thread (the exception thread) only; counters() may be
// read from any thread (relaxed atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config.hpp"
#include "fib.hpp"
#include "port.hpp"
#include "stats.hpp"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace cats::dp {

inline constexpr unsigned kPuntRingSize = 1024;
inline constexpr unsigned kInjectRingSize = 1024;
inline constexpr unsigned kHeldRingSize = 1024;
inline constexpr unsigned kHeldPerNeighbor = 8;
inline constexpr std::uint64_t kHeldMaxMs = 3000;

// A token bucket in packets per second, burst = one second's worth.
class RateLimit {
public:
    explicit RateLimit(std::uint32_t pps = 0) : pps_(pps), tokens_(pps) {}
    // Take one token; 0 pps means unlimited.
    bool take(std::uint64_t now_us) noexcept;

private:
    std::uint32_t pps_;
    double tokens_;
    std::uint64_t last_us_ = 0;
};

struct KernelPortCounters {
    std::atomic<std::uint64_t> punted{0};          // to the kernel
    std::atomic<std::uint64_t> injected{0};        // from the kernel, sent on the port
    std::atomic<std::uint64_t> punt_rate_dropped{0};
    std::atomic<std::uint64_t> inject_rate_dropped{0};
    std::atomic<std::uint64_t> tap_tx_full{0};     // the TAP did not take a punted packet
    std::atomic<std::uint64_t> port_tx_full{0};    // the inject ring or the port's queue was full
    std::atomic<std::uint64_t> inject_oversize{0}; // larger than the port's MTU
    std::atomic<std::uint64_t> punt_oversize{0};   // received larger than the port's MTU
    // Neighbor Discovery messages that fail RFC 4861's checks (ndp_check.hpp),
    // by reason: not handed to the kernel.
    std::atomic<std::uint64_t> ndp_hop_limit{0}, ndp_code{0}, ndp_truncated{0}, ndp_bad_option{0};
};

class ExceptionPath {
public:
    // One TAP per port with a kernel_interface (cfg.ports[i] <-> ports[i]),
    // created on `pool`; an inject ring for every port. `rate_pps` limits
    // each direction per port (0: no limit). Throws std::runtime_error
    // naming the port.
    ExceptionPath(const Config& cfg, const std::vector<PortState>& ports, rte_mempool* pool, const Fib& fib,
                  std::uint32_t rate_pps);
    ~ExceptionPath();
    ExceptionPath(const ExceptionPath&) = delete;
    ExceptionPath& operator=(const ExceptionPath&) = delete;

    // The ring workers put packets for port_id's kernel on (null: none).
    rte_ring* punt_ring(std::uint16_t port_id) const noexcept;
    rte_ring* held_ring() const noexcept { return held_; }
    // The ring worker 0 transmits from on port_id, and the counter it bumps
    // when the port's queue is full (null for a port not started here).
    rte_ring* inject_ring(std::uint16_t port_id) const noexcept {
        return port_id < kMaxPorts ? inject_[port_id] : nullptr;
    }
    std::atomic<std::uint64_t>* inject_tx_full(std::uint16_t port_id) noexcept;

    struct Link {
        std::uint16_t port_id = 0;
        std::uint16_t tap_id = 0;
        std::uint16_t mtu = 1500;
        std::string ifname;
        unsigned ifindex = 0;
        rte_ring* punt = nullptr;
        RateLimit to_kernel, from_kernel;
        std::unique_ptr<KernelPortCounters> ctr = std::make_unique<KernelPortCounters>();
    };
    const std::vector<Link>& links() const noexcept { return links_; }
    const Link* link(std::uint16_t port_id) const noexcept;

    // One round: punt rings to the TAPs, the TAPs to the ports, held packets
    // whose neighbor resolved. Returns the packets moved (0: idle).
    unsigned poll(std::uint64_t now_us) noexcept;

    std::uint64_t held_now() const noexcept { return held_count_.load(std::memory_order_relaxed); }
    std::uint64_t held_sent() const noexcept { return held_sent_.load(std::memory_order_relaxed); }
    std::uint64_t held_dropped() const noexcept { return held_dropped_.load(std::memory_order_relaxed); }

private:
    unsigned poll_held(std::uint64_t now_us) noexcept;
    // Hand packets to port_id's inject ring; returns how many it took (the
    // rest are freed by the caller).
    unsigned inject(std::uint16_t port_id, rte_mbuf** m, unsigned n) noexcept;

    std::vector<Link> links_;
    std::array<rte_ring*, kMaxPorts> inject_{};
    std::atomic<std::uint64_t> other_tx_full_{0};  // ports without a Link (held packets)
    const Fib& fib_;
    rte_ring* held_ = nullptr;
    struct Held {
        rte_mbuf* m;
        std::uint64_t since_us;
    };
    struct HeldQueue {  // a fixed FIFO per neighbor: no allocation per packet
        std::array<Held, kHeldPerNeighbor> q{};
        unsigned head = 0, n = 0;
    };
    std::vector<HeldQueue> held_by_nbr_;  // exception thread only
    std::atomic<std::uint64_t> held_count_{0}, held_sent_{0}, held_dropped_{0};
};

}  // namespace cats::dp
