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
         std::vector<Neighbor> neighbors, const std::vector<Ipv6Addr>& own, bool punt_host)
    : neighbors_(std::move(neighbors)),
      words_(std::make_unique<std::atomic<std::uint64_t>[]>(neighbors_.size())),
      wanted_(std::make_unique<std::atomic<std::uint8_t>[]>(neighbors_.size())) {
    for (std::size_t i = 0; i < neighbors_.size(); ++i) {
        words_[i].store(neighbors_[i].dynamic ? 0 : pack_mac(neighbors_[i].mac) | kMacValid);
        wanted_[i].store(0);
    }
    rte_fib6_conf conf{};
    conf.type = RTE_FIB6_TRIE;
    conf.default_nh = kNoRoute;
    conf.max_routes = static_cast<int>(routes.size() + neighbors_.size() + own.size() + 16);
    conf.rib_ext_sz = 0;
    conf.trie.nh_sz = RTE_FIB6_TRIE_4B;
    conf.trie.num_tbl8 = 1u << 12;
    fib_ = rte_fib6_create(name.c_str(), socket_id, &conf);
    if (fib_ == nullptr)
        throw std::runtime_error("rte_fib6_create: " + std::string(rte_strerror(rte_errno)));
    auto add = [&](const Ipv6Addr& a, std::uint8_t len, std::uint64_t nh, const std::string& what) {
        if (rte_fib6_add(fib_, a.data(), len, nh) != 0) {
            rte_fib6_free(fib_);
            throw std::runtime_error(what + ": rte_fib6_add failed");
        }
    };
    for (std::size_t i = 0; i < neighbors_.size(); ++i)
        add(neighbors_[i].address, 128, i + 1, "neighbors[" + std::to_string(i) + "]");
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const std::uint64_t nh = neighbor_of(neighbors_, routes[i].via);
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

void Fib::lookup_bulk(std::uint8_t (*ips)[16], std::uint64_t* next_hops, unsigned n) const noexcept {
    rte_fib6_lookup_bulk(fib_, ips, next_hops, static_cast<int>(n));
}

}  // namespace cats::dp
