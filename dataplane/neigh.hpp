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
// Thread safety: everything here is for the management thread (the one
// writer of the FIB's neighbor words and of the service table).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config.hpp"
#include "fib.hpp"

struct mnl_socket;

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

class NeighborMirror {
public:
    // Opens two rtnetlink sockets (events, requests). Throws
    // std::runtime_error with the reason.
    NeighborMirror(Fib& fib, std::vector<KernelLink> links);
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

private:
    struct Entry {
        std::uint16_t nud = 0;          // kernel NUD state
        std::uint32_t probes = 0;       // NDA_PROBES
        std::uint64_t changed_ms = 0;   // when nud last changed
        std::uint64_t asked_ms = 0;     // last NTF_USE
        bool seen = false;              // the kernel has an entry
        MacAddr mac{};
    };
    const KernelLink* link_of_port(std::uint16_t port_id) const noexcept;
    const KernelLink* link_of_ifindex(unsigned ifindex) const noexcept;
    bool handle(const void* nlh, std::uint64_t now_ms);
    void request_resolution(std::size_t i, std::uint64_t now_ms);
    // Returns the kernel's errno for an acked request (0: done); throws for
    // any error but `tolerated`.
    int request(void* nlh, const std::string& what, bool ack, int tolerated = 0);
    void address(const KernelLink& l, const InterfaceAddress& a, bool add, bool exclusive);
    void dump(std::uint64_t now_ms);
    void drain_requests();

    Fib& fib_;
    std::vector<KernelLink> links_;
    std::vector<Entry> entries_;       // by neighbor index
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
