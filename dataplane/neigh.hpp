// SPDX-License-Identifier: BSD-3-Clause
// Neighbor discovery through the kernel (the linux-cp way, see README):
// each port that has addresses has a kernel interface - the TAP of the
// exception path (exception.hpp) carrying the port's MAC and addresses, or
// in af_xdp mode the NIC itself. The kernel runs NDP (RFC 4861) on it: it
// answers Neighbor Solicitations for the gateway's addresses (unicast and
// solicited-node multicast; the Router flag: see below), resolves next
// hops, and keeps the state machine (INCOMPLETE, REACHABLE, STALE, DELAY,
// PROBE, FAILED) with its own timers.
//
// The NeighborMirror keeps the FIB's dynamic neighbors in step with the
// kernel's table over rtnetlink (libmnl): it dumps it at start, follows
// RTNLGRP_NEIGH, and asks the kernel to resolve - or re-confirm - a next hop
// cats needs with RTM_NEWNEIGH + NTF_USE, which is what the kernel does for
// its own traffic (neigh_event_send). A FAILED neighbor stays failed for
// the workers until the kernel learns a MAC again, so that its retries
// (FAILED -> INCOMPLETE -> FAILED) do not make instances flap.
//
// The Router flag in the kernel's Neighbor Advertisements follows the
// interface's forwarding setting: start() turns forwarding on for
// the kernel interface only (net.ipv6.conf.<if>.forwarding = 1), which makes
// the kernel answer as a router (RFC 4861 7.2.4) and ignore Router
// Advertisements there; the kernel routes nothing itself, as cats owns the
// port's traffic.
//
// With gateway.kernel_routes it also mirrors a kernel routing table into
// the FIB (what linux-cp does): a route there through one of the kernel
// interfaces to a next hop - installed by FRR or BIRD from BGP, or by an
// operator with `ip -6 route` - becomes a FIB route to that neighbor, which
// is then resolved like any other; deleting it takes it out again. Of a
// prefix's routes the lowest metric wins, as in the kernel: when that one
// cannot be taken (on-link, blackhole, unreachable) the prefix is not
// installed. Routes the config has (`routes`, the gateway's own) win over
// the kernel's. Not taken, counted by reason: routes without a gateway
// (on-link: connected prefixes), multipath routes (rte_fib6 has one next
// hop per prefix), routes through other interfaces, source-specific
// routes, and other types. FRR's nexthop objects need
// net.ipv4.nexthop_compat_mode=1 (the default), which gives their routes
// the gateway and interface. Lost events (ENOBUFS), and events that alone
// do not say what a multipath prefix became, make it read the table again.
//
// Thread safety: everything here is for the management thread (the one
// writer of the FIB's neighbor words, its kernel routes and of the service
// table).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config.hpp"
#include "fib.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace cats::dp {

struct KernelLink {
    std::uint16_t port_id = 0;
    std::string port_name;
    std::string ifname;                      // the kernel interface
    unsigned ifindex = 0;
    std::vector<InterfaceAddress> addresses; // what configure_links() puts on it
    bool tap = true;                         // false: the kernel owns the NIC (af_xdp)
};

// The kernel's NUD state as text ("reachable", ...); "none" for 0.
std::string nud_state_name(std::uint16_t state);

// An IPv6 route message (RTM_NEWROUTE, RTM_DELROUTE) as the kernel sends it.
struct KernelRouteMsg {
    bool add = true;                   // RTM_NEWROUTE; false: RTM_DELROUTE
    Ipv6Prefix prefix{};               // RTA_DST (::/0 without it), host bits cleared
    std::uint32_t table = 0;           // RTA_TABLE, else rtm_table
    std::uint32_t metric = 0;          // RTA_PRIORITY
    std::uint8_t type = 0;             // RTN_*
    std::uint8_t protocol = 0;         // RTPROT_*
    std::optional<Ipv6Addr> gateway;   // RTA_GATEWAY
    unsigned oif = 0;                  // RTA_OIF
    bool multipath = false;            // RTA_MULTIPATH
    bool nexthop_object = false;       // RTA_NH_ID
    bool source_specific = false;      // rtm_src_len != 0 (RTA_SRC)
};
// nullopt for anything else, or a message too short for what it claims.
std::optional<KernelRouteMsg> parse_route_message(const void* nlh);
// "bgp", "static", ... or the number.
std::string route_protocol_name(std::uint8_t protocol);

class NeighborMirror {
public:
    // Opens two rtnetlink sockets (events, requests). Throws
    // std::runtime_error with the reason.
    NeighborMirror(Fib& fib, std::vector<KernelLink> links,
                   std::optional<KernelRoutesConfig> routes = std::nullopt);
    ~NeighborMirror();
    NeighborMirror(const NeighborMirror&) = delete;
    NeighborMirror& operator=(const NeighborMirror&) = delete;

    // Put each TAP's addresses on it (no DAD: they are configured), make
    // the kernel answer as a router there, then read the kernel's neighbor
    // table. Throws std::runtime_error naming the interface and address.
    void start();

    // Read what the kernel reported; ask it to resolve what the workers
    // want, what is unresolved (every second) and what is stale (to
    // re-confirm it). Returns true when a neighbor's MAC or state changed
    // for the workers: the caller then rebuilds the service table.
    bool poll(std::uint64_t now_ms);

    // For `catsctl neighbor list`: every neighbor, static and dynamic.
    nlohmann::json list(std::uint64_t now_ms) const;
    const std::vector<KernelLink>& links() const noexcept { return links_; }

    // Counters: requests sent, kernel messages read, bad messages.
    std::uint64_t resolutions_requested() const noexcept { return requests_; }

    // For the stats: the mirrored table, its counters and up to
    // kRouteListMax routes; null without gateway.kernel_routes.
    static constexpr std::size_t kRouteListMax = 1024;
    nlohmann::json routes_json() const;

private:
    using Key = std::pair<Ipv6Addr, std::uint8_t>;   // prefix
    struct Hop {
        Ipv6Addr via{};
        std::uint16_t port_id = 0;
        std::uint8_t protocol = 0;
        // Why the route cannot be taken ("on_link", "not_unicast"), for
        // one kept because at its metric it decides the prefix; "" usable.
        std::string unusable;
    };
    using Hops = std::map<std::uint32_t, Hop>;       // by metric
    struct Route {
        Hops hops;
        int nbr = -1;                                // installed next hop's neighbor
        std::string state;                           // installed, shadowed, ...
    };
    // The next hop of a route we can take, or nullopt (counted by reason
    // when `count`).
    std::optional<Hop> usable(const KernelRouteMsg& m, bool count);
    // An RTM_NEWROUTE / RTM_DELROUTE event. True if the FIB changed.
    bool handle_route(const nlmsghdr* nlh);
    // Install the best of kroutes_[key] (or remove it). True if the FIB changed.
    bool apply_route(const Key& key);
    // Apply again the routes left out for room, once a route has gone.
    void retry_pending();
    void dump_routes();
    struct Entry {
        std::uint16_t nud = 0;          // kernel NUD state
        std::uint32_t probes = 0;       // NDA_PROBES
        std::uint64_t changed_ms = 0;   // when nud last changed
        std::uint64_t asked_ms = 0;     // last NTF_USE
        bool seen = false;              // the kernel has an entry
        MacAddr mac{};
        std::uint32_t routes = 0;       // kernel routes through it
    };
    const KernelLink* link_of_port(std::uint16_t port_id) const noexcept;
    const KernelLink* link_of_ifindex(unsigned ifindex) const noexcept;
    bool handle(const void* nlh, std::uint64_t now_ms);
    void request_resolution(std::size_t i, std::uint64_t now_ms);
    // Returns the kernel's errno for an acked request (0: done); throws for
    // any error but `tolerated`.
    int request(void* nlh, const std::string& what, bool ack, int tolerated = 0);
    void address(const KernelLink& l, const InterfaceAddress& a, bool add, bool exclusive);
    // Dump a kernel table (RTM_GETNEIGH, RTM_GETROUTE); f(nlmsghdr*) for each.
    template <class F>
    void dump(std::uint16_t type, std::size_t header_size, F&& f);
    void dump_neighbors(std::uint64_t now_ms);
    void drain_requests();

    Fib& fib_;
    std::vector<KernelLink> links_;
    std::vector<Entry> entries_;       // by neighbor index (the FIB's capacity)
    std::size_t configured_ = 0;       // neighbors from the config: always kept resolved
    std::optional<KernelRoutesConfig> routes_cfg_;
    std::map<Key, Route> kroutes_;     // the mirrored table: our interfaces' unicast routes
    std::map<std::string, std::uint64_t> route_skips_;  // route messages not taken, by reason
    std::uint64_t route_events_ = 0;
    bool routes_dumped_ = false;
    bool resync_routes_ = false;
    bool new_neighbors_ = false;   // add_neighbor() made one: read the kernel's table for it
    bool freed_ = false;           // a kernel route left the FIB: retry_pending()
    mnl_socket* events_ = nullptr;
    mnl_socket* req_ = nullptr;
    unsigned req_port_ = 0;
    // Addresses start() put on a kernel-owned NIC (af_xdp) that were not
    // there before: taken away again by the destructor. A TAP's go with it.
    std::vector<std::pair<const KernelLink*, InterfaceAddress>> added_;
    std::uint32_t seq_ = 1;
    std::uint64_t requests_ = 0;
    std::uint64_t request_errors_ = 0;
};

}  // namespace cats::dp
