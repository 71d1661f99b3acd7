// SPDX-License-Identifier: BSD-3-Clause
// The IPv6 FIB: rte_fib6 (DIR-24-8-like trie) from configured routes to
// neighbors (port + MAC). Each neighbor's own address is a /128. The
// gateway's own addresses, link-local and multicast destinations go to the
// host (kPunt) when the gateway has a kernel interface for its host traffic.
//
// A static neighbor's MAC is fixed. A dynamic one (a route's next hop that
// is on-link on a port) starts unresolved; the neighbor mirror (neigh.hpp)
// sets its MAC, or marks it failed, as the kernel's NDP learns it. The MAC
// and state live in one 64-bit word so a worker reads both at once.
//
// Routes from the kernel (gateway.kernel_routes, neigh.hpp) come and go at
// run time: the management thread adds and deletes them in place while the
// workers look up, as grout does with rte_fib6 (DPDK 22.11's FIB has no RCU
// mode: a lookup that races the deletion of a prefix deeper than /24 can
// read a recycled tbl8 group and route that one packet by another prefix's
// next hop, never out of bounds, since next hops are never taken back). A
// kernel route's next hop is a neighbor added at run time: the neighbor
// array has a fixed capacity, and an entry is written before any route
// points to it and never removed or reused for another address.
//
// Thread safety: the configured routes are built by the main thread at
// start; lookups and mac_word() may run on any worker concurrently.
// set_mac()/set_failed()/set_unresolved(), add_neighbor() and the kernel
// routes are for the management thread only (the one writer); want() for
// workers.
#pragma once

#include <rte_byteorder.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

struct rte_fib6;

namespace cats::dp {

struct Neighbor {
    Ipv6Addr address{};
    MacAddr mac{};             // the static MAC; unused when dynamic
    std::uint16_t port_id = 0;
    bool dynamic = false;      // resolved by NDP (through the kernel), not configured
};

// The word a worker reads: MAC in the low 48 bits, then the state bits.
inline constexpr std::uint64_t kMacValid = 1ull << 48;   // the MAC may be used
inline constexpr std::uint64_t kMacFailed = 1ull << 49;  // resolution failed (NUD FAILED)
inline constexpr std::uint64_t pack_mac(const MacAddr& m) noexcept {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < 6; ++i)
        w |= static_cast<std::uint64_t>(m[i]) << (8 * i);
    return w;
}
inline MacAddr unpack_mac(std::uint64_t w) noexcept {
    MacAddr m{};
    for (std::size_t i = 0; i < 6; ++i)
        m[i] = static_cast<std::uint8_t>(w >> (8 * i));
    return m;
}
// The MAC of a word straight into a header: one 4- and one 2-byte store
// (GCC makes unpack_mac's shifts a byte loop; cats-bench measured 51
// instructions a packet for it on the forwarding path).
inline void write_mac(std::uint8_t* dst, std::uint64_t w) noexcept {
    const std::uint64_t le = rte_cpu_to_le_64(w);  // byte i of the MAC at address i
    std::memcpy(dst, &le, 6);
}

// Room in the FIB for routes learned at run time (gateway.kernel_routes).
struct KernelRouteLimits {
    std::uint32_t max_routes = 0;
    std::uint32_t max_next_hops = 0;
};

class Fib {
public:
    // FIB next-hop values are neighbor index + 1; kNoRoute when nothing
    // matches; kPunt for the host (the gateway's own addresses).
    static constexpr std::uint64_t kNoRoute = 0;
    static constexpr std::uint64_t kPunt = 1ull << 30;  // below rte_fib6 TRIE_4B's largest next hop

    // `own`: the gateway's addresses (/128 to the host); `punt_host`: also
    // link-local (fe80::/10) and multicast (ff00::/8) to the host. Throws
    // std::runtime_error naming the route that could not be added.
    Fib(const std::string& name, int socket_id, const std::vector<RouteConfig>& routes,
        std::vector<Neighbor> neighbors, const std::vector<Ipv6Addr>& own = {}, bool punt_host = false,
        KernelRouteLimits kernel = {});
    ~Fib();
    Fib(const Fib&) = delete;
    Fib& operator=(const Fib&) = delete;

    // Neighbor index for an address, or -1.
    int lookup(const Ipv6Addr& addr) const noexcept;
    // Bulk lookup: next_hops[i] = neighbor index + 1, or kNoRoute.
    void lookup_bulk(std::uint8_t (*ips)[16], std::uint64_t* next_hops, unsigned n) const noexcept;

    const Neighbor& neighbor(std::size_t i) const noexcept { return neighbors_[i]; }
    std::size_t neighbor_count() const noexcept { return count_.load(std::memory_order_acquire); }
    // What neighbor_count() can grow to: per-neighbor arrays are this long.
    std::size_t neighbor_capacity() const noexcept { return capacity_; }

    // MAC and state of neighbor i (any thread).
    std::uint64_t mac_word(std::size_t i) const noexcept { return words_[i].load(std::memory_order_acquire); }
    // The MAC to use, if resolved.
    std::optional<MacAddr> resolved_mac(std::size_t i) const noexcept {
        const std::uint64_t w = mac_word(i);
        return (w & kMacValid) ? std::optional<MacAddr>(unpack_mac(w)) : std::nullopt;
    }
    bool failed(std::size_t i) const noexcept { return (mac_word(i) & kMacFailed) != 0; }

    // Workers: ask the management thread to resolve neighbor i. The flag is
    // written only when not yet set, so a burst to an unresolved neighbor
    // does not bounce its cache line between cores.
    void want(std::size_t i) const noexcept {
        if (wanted_[i].load(std::memory_order_relaxed) == 0)
            wanted_[i].store(1, std::memory_order_relaxed);
    }
    // Management thread: take the request flag.
    bool take_wanted(std::size_t i) noexcept { return wanted_[i].exchange(0, std::memory_order_relaxed) != 0; }

    // Management thread: the neighbor mirror's results. Return true when
    // the word changed. Static neighbors never change.
    bool set_mac(std::size_t i, const MacAddr& m) noexcept { return store(i, pack_mac(m) | kMacValid); }
    bool set_failed(std::size_t i) noexcept { return store(i, kMacFailed); }
    bool set_unresolved(std::size_t i) noexcept { return store(i, 0); }

    // Management thread: the neighbor (address, port), or a new dynamic one
    // (unresolved; no /128 to it: the kernel's routes say how to reach it).
    // -1 when the room for run-time neighbors is used up.
    int add_neighbor(const Ipv6Addr& address, std::uint16_t port_id);

    // Management thread: a kernel route to neighbor `nbr`, added or changed
    // in place. A prefix the config routes (a route, a neighbor's /128, the
    // gateway's own) is not overridden: Shadowed.
    enum class KernelRoute : std::uint8_t { Installed, Shadowed, Full, Failed };
    KernelRoute set_kernel_route(const Ipv6Prefix& prefix, std::size_t nbr);
    // What set_kernel_route() would say of the prefix before it tries:
    // Installed (there is room), Shadowed or Full.
    KernelRoute kernel_route_room(const Ipv6Prefix& prefix) const noexcept;
    // Removes it if it was installed; the covering route applies again.
    void delete_kernel_route(const Ipv6Prefix& prefix);
    std::size_t kernel_route_count() const noexcept { return kernel_.size(); }
    // The next hop a kernel route is installed with (neighbor index), or -1.
    int kernel_route(const Ipv6Prefix& prefix) const noexcept;

private:
    using Key = std::pair<Ipv6Addr, std::uint8_t>;
    bool store(std::size_t i, std::uint64_t w) noexcept {
        if (!neighbors_[i].dynamic || words_[i].load(std::memory_order_relaxed) == w)
            return false;
        words_[i].store(w, std::memory_order_release);
        return true;
    }

    rte_fib6* fib_ = nullptr;
    std::size_t capacity_ = 0;
    std::unique_ptr<Neighbor[]> neighbors_;
    std::atomic<std::size_t> count_{0};
    std::unique_ptr<std::atomic<std::uint64_t>[]> words_;
    mutable std::unique_ptr<std::atomic<std::uint8_t>[]> wanted_;
    std::set<Key> fixed_;                     // prefixes the config put in: never overridden
    std::map<Key, std::size_t> kernel_;       // kernel routes installed -> neighbor
    std::size_t kernel_max_routes_ = 0;
    std::size_t run_time_neighbors_ = 0;      // added by add_neighbor()
    std::size_t max_run_time_neighbors_ = 0;
};

}  // namespace cats::dp
