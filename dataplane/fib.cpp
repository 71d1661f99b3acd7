// SPDX-License-Identifier: BSD-3-Clause
#include "fib.hpp"

#include <rte_errno.h>
#include <rte_fib6.h>

#include <cstring>
#include <stdexcept>

namespace cats::dp {

namespace {
std::uint64_t neighbor_of(const std::vector<Neighbor>& nbrs, const Ipv6Addr& a) {
    for (std::size_t i = 0; i < nbrs.size(); ++i)
        if (nbrs[i].address == a)
            return i + 1;
    return Fib::kNoRoute;
}
}  // namespace

Fib::Fib(const std::string& name, int socket_id, const std::vector<RouteConfig>& routes,
         std::vector<Neighbor> neighbors, const std::vector<Ipv6Addr>& own, bool punt_host, KernelRouteLimits kernel)
    : capacity_(neighbors.size() + kernel.max_next_hops),
      neighbors_(std::make_unique<Neighbor[]>(capacity_)),
      words_(std::make_unique<std::atomic<std::uint64_t>[]>(capacity_)),
      wanted_(std::make_unique<std::atomic<std::uint8_t>[]>(capacity_)),
      kernel_max_routes_(kernel.max_routes),
      max_run_time_neighbors_(kernel.max_next_hops) {
    for (std::size_t i = 0; i < capacity_; ++i) {
        words_[i].store(0);
        wanted_[i].store(0);
    }
    for (std::size_t i = 0; i < neighbors.size(); ++i) {
        neighbors_[i] = neighbors[i];
        words_[i].store(neighbors[i].dynamic ? 0 : pack_mac(neighbors[i].mac) | kMacValid);
    }
    count_.store(neighbors.size());
    rte_fib6_conf conf{};
    conf.type = RTE_FIB6_TRIE;
    conf.default_nh = kNoRoute;
    conf.max_routes = static_cast<int>(routes.size() + neighbors.size() + own.size() + 16 + kernel.max_routes);
    conf.rib_ext_sz = 0;
    conf.trie.nh_sz = RTE_FIB6_TRIE_4B;
    // tbl8 groups (1 KB each): a prefix longer than /24 takes up to one
    // per byte past the 24th that no covering prefix has made: 3 for a
    // /48, 5 for a /64. Kernel routes get 5 each.
    conf.trie.num_tbl8 = (1u << 12) + kernel.max_routes * 5;
    fib_ = rte_fib6_create(name.c_str(), socket_id, &conf);
    if (fib_ == nullptr)
        throw std::runtime_error("rte_fib6_create: " + std::string(rte_strerror(rte_errno)));
    auto add = [&](const Ipv6Addr& a, std::uint8_t len, std::uint64_t nh, const std::string& what) {
        if (rte_fib6_add(fib_, a.data(), len, nh) != 0) {
            rte_fib6_free(fib_);
            throw std::runtime_error(what + ": rte_fib6_add failed");
        }
        fixed_.emplace(network_of({a, len}), len);
    };
    for (std::size_t i = 0; i < neighbors.size(); ++i)
        add(neighbors[i].address, 128, i + 1, "neighbors[" + std::to_string(i) + "]");
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const std::uint64_t nh = neighbor_of(neighbors, routes[i].via);
        if (nh == kNoRoute) {
            rte_fib6_free(fib_);
            throw std::runtime_error("routes[" + std::to_string(i) + "].via: not a neighbor");
        }
        add(routes[i].prefix.addr, routes[i].prefix.len, nh, "routes[" + std::to_string(i) + "]");
    }
    // The host's own: after the routes, so that they win over any route
    // that covers them (a /128 is the longest match anyway).
    if (punt_host) {
        add(Ipv6Addr{0xFE, 0x80}, 10, kPunt, "link-local fe80::/10");
        add(Ipv6Addr{0xFF}, 8, kPunt, "multicast ff00::/8");
    }
    for (const Ipv6Addr& a : own)
        add(a, 128, kPunt, "own address " + format_ipv6(a));
}

Fib::~Fib() { rte_fib6_free(fib_); }

int Fib::lookup(const Ipv6Addr& addr) const noexcept {
    std::uint8_t ip[1][16];
    std::memcpy(ip[0], addr.data(), 16);
    std::uint64_t nh = kNoRoute;
    rte_fib6_lookup_bulk(fib_, ip, &nh, 1);
    return nh == kNoRoute || nh == kPunt ? -1 : static_cast<int>(nh - 1);
}

int Fib::add_neighbor(const Ipv6Addr& address, std::uint16_t port_id) {
    const std::size_t n = neighbor_count();
    for (std::size_t i = 0; i < n; ++i)
        if (neighbors_[i].address == address && neighbors_[i].port_id == port_id)
            return static_cast<int>(i);
    if (run_time_neighbors_ == max_run_time_neighbors_ || n == capacity_)
        return -1;
    neighbors_[n] = Neighbor{address, MacAddr{}, port_id, true};
    words_[n].store(0, std::memory_order_relaxed);
    wanted_[n].store(0, std::memory_order_relaxed);
    // Published before any route points to it (rte_fib6_add comes after).
    count_.store(n + 1, std::memory_order_release);
    ++run_time_neighbors_;
    return static_cast<int>(n);
}

Fib::KernelRoute Fib::set_kernel_route(const Ipv6Prefix& prefix, std::size_t nbr) {
    const Key key{network_of(prefix), prefix.len};
    if (fixed_.contains(key))
        return KernelRoute::Shadowed;
    const auto it = kernel_.find(key);
    if (it == kernel_.end() && kernel_.size() >= kernel_max_routes_)
        return KernelRoute::Full;
    if (nbr >= neighbor_count() || rte_fib6_add(fib_, key.first.data(), key.second, nbr + 1) != 0)
        return KernelRoute::Failed;
    kernel_[key] = nbr;
    return KernelRoute::Installed;
}

Fib::KernelRoute Fib::kernel_route_room(const Ipv6Prefix& prefix) const noexcept {
    const Key key{network_of(prefix), prefix.len};
    if (fixed_.contains(key))
        return KernelRoute::Shadowed;
    if (!kernel_.contains(key) && kernel_.size() >= kernel_max_routes_)
        return KernelRoute::Full;
    return KernelRoute::Installed;
}

void Fib::delete_kernel_route(const Ipv6Prefix& prefix) {
    const Key key{network_of(prefix), prefix.len};
    if (kernel_.erase(key) != 0)
        rte_fib6_delete(fib_, key.first.data(), key.second);
}

int Fib::kernel_route(const Ipv6Prefix& prefix) const noexcept {
    const auto it = kernel_.find(Key{network_of(prefix), prefix.len});
    return it == kernel_.end() ? -1 : static_cast<int>(it->second);
}

void Fib::lookup_bulk(std::uint8_t (*ips)[16], std::uint64_t* next_hops, unsigned n) const noexcept {
    rte_fib6_lookup_bulk(fib_, ips, next_hops, static_cast<int>(n));
}

}  // namespace cats::dp
