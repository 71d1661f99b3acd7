// SPDX-License-Identifier: BSD-3-Clause
// The IPv6 FIB: rte_fib6 (DIR-24-8-like trie) from configured routes to
// configured neighbors (port + MAC). Each neighbor's own address is a /128.
//
// Thread safety: built by the main thread at start and immutable afterwards;
// lookups may run on any worker concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"

struct rte_fib6;

namespace cats::dp {

struct Neighbor {
    Ipv6Addr address{};
    MacAddr mac{};
    std::uint16_t port_id = 0;
};

class Fib {
public:
    // FIB next-hop values are neighbor index + 1; kNoRoute when nothing matches.
    static constexpr std::uint64_t kNoRoute = 0;

    // Throws std::runtime_error naming the route that could not be added.
    Fib(const std::string& name, int socket_id, const std::vector<RouteConfig>& routes,
        std::vector<Neighbor> neighbors);
    ~Fib();
    Fib(const Fib&) = delete;
    Fib& operator=(const Fib&) = delete;

    // Neighbor index for an address, or -1.
    int lookup(const Ipv6Addr& addr) const noexcept;
    // Bulk lookup: next_hops[i] = neighbor index + 1, or kNoRoute.
    void lookup_bulk(std::uint8_t (*ips)[16], std::uint64_t* next_hops, unsigned n) const noexcept;

    const Neighbor& neighbor(std::size_t i) const noexcept { return neighbors_[i]; }
    std::size_t neighbor_count() const noexcept { return neighbors_.size(); }

private:
    rte_fib6* fib_ = nullptr;
    std::vector<Neighbor> neighbors_;
};

}  // namespace cats::dp
