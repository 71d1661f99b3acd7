// SPDX-License-Identifier: BSD-3-Clause
// Instance selection: which compute instance serves a new flow.
//
// Among the instances that meet the flow's requirements, pick one by weighted
// rendezvous hashing (HRW) over the flow hash: each instance i scores
// w_i / -ln(u_i), u_i = H(flow, i) in (0,1), and the highest score wins. The
// winner is chosen in proportion to w_i, the same flow always maps to the
// same instance with no state, and removing an instance moves only the flows
// that were on it (Schindelhauer & Schomaker, "Weighted distributed hash
// tables", 2005; the draft-ietf-cats framework's "consistent" steering).
//
// Thread safety: every function is pure; workers call them on immutable
// service snapshots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cats_wire.hpp"
#include "config.hpp"
#include "srv6.hpp"

namespace cats::dp {

// Why an instance is not resolved (Instance::unresolved).
enum class Unresolved : std::uint8_t { None, NoRoute, NeighborIncomplete, NeighborFailed };
inline constexpr const char* unresolved_name(Unresolved u) noexcept {
    switch (u) {
    case Unresolved::None: return "";
    case Unresolved::NoRoute: return "no_route";
    case Unresolved::NeighborIncomplete: return "neighbor_incomplete";
    case Unresolved::NeighborFailed: return "neighbor_failed";
    }
    return "";
}

// One compute instance as the workers see it. Immutable once published.
// Line-aligned, the fields a pinned packet reads first: with one to three
// SIDs they take the first three lines (what the fast path prefetches).
struct alignas(64) Instance {
    std::uint32_t id = 0;
    std::uint32_t slot = 0;          // index of its counters
    InstanceMetrics metrics{};
    double weight = 0;               // effective weight; 0: not available
    double inv_weight = 0;           // 1 / weight (0 when weight is 0): HRW multiplies
    std::uint64_t seed = 0;          // HRW seed derived from cs_id and id
    bool resolved = false;           // first SID has a route and neighbor
    std::uint16_t port_id = 0;       // output port when resolved
    std::uint8_t n_sids = 0;
    Unresolved unresolved = Unresolved::NoRoute;  // None once resolved
    EncapTemplate encap{};           // hot: before the SIDs, which only reports read
    std::array<Ipv6Addr, kMaxSids> sids{};
};
static_assert(offsetof(Instance, encap) + offsetof(EncapTemplate, bytes) + 14 + 40 + 8 + 16 * 3 <= 192);

// What every instance of a service offers at least: a flow that asks for no
// more than this needs no per-instance check of its requirements.
// Conservative (compute types are those all instances share); the default
// holds for no flow.
struct FleetFloor {
    bool all_available = false;
    std::uint32_t max_latency_us = UINT32_MAX;  // the highest latency
    std::uint32_t min_bandwidth_kbps = 0;       // the lowest bandwidth
    std::uint8_t min_score = 0;
    std::uint16_t common_compute_types = 0;     // in every instance's set
};

struct Service {
    std::uint32_t cs_id = 0;
    std::uint32_t slot = 0;
    std::uint32_t affinity_timeout_ms = 30000;
    std::string name;
    std::vector<Instance> instances;
    FleetFloor floor;  // of `instances`: set_floor() after any change to them
    std::uint16_t max_encap_len = 0;  // the longest of the instances' encap.len
    // Some instance is unresolved because its next hop's NDP failed or is
    // under way: a flow that finds no instance is counted neighbor_failed.
    bool neighbor_failed = false;
};

// Computes svc.floor from svc.instances.
void set_floor(Service& svc) noexcept;

// Does every instance the floor describes meet what the flow asks for?
inline bool meets_all(const FleetFloor& f, const wire::Requirements& r) noexcept {
    return f.all_available && f.max_latency_us <= r.max_latency_us && f.min_bandwidth_kbps >= r.min_bandwidth_kbps &&
           f.min_score >= r.min_score && (r.compute_type == 0 || (f.common_compute_types & r.compute_type) != 0);
}

// Effective weight derived from the metrics: the operator's weight scaled by
// spare load and by the L2 score. 0 when the instance cannot take a flow
// (load 100 %, no free capacity, or weight 0).
//   w = weight * (100 - load) / 100 * (score + 1) / 11
double effective_weight(const InstanceMetrics& m) noexcept;

// Sets the metrics and what derives from them (weight, inv_weight): the one
// way to give an instance its metrics.
void set_metrics(Instance& in, const InstanceMetrics& m) noexcept;

// The largest inner IPv6 packet (its header included) that still fits a
// port of `port_mtu` once encapsulated towards `in`: what a Packet Too Big
// reports (raised to 1280 when below: IPv6 senders go no lower). 0 when
// nothing fits.
inline std::uint32_t max_inner_len(const Instance& in, std::uint32_t port_mtu) noexcept {
    return port_mtu > in.encap.ip_len ? port_mtu - in.encap.ip_len : 0;
}

// Available: it can take flows at all (resolved and effective weight > 0).
inline bool available(const Instance& i) noexcept { return i.resolved && i.weight > 0; }

// Does the instance meet what the flow asks for?
inline bool meets(const InstanceMetrics& m, const wire::Requirements& r) noexcept {
    return m.latency_us <= r.max_latency_us && m.bandwidth_kbps >= r.min_bandwidth_kbps &&
           m.score >= r.min_score && (r.compute_type == 0 || (m.compute_types & r.compute_type) != 0);
}

// HRW seed for an instance: stable across restarts and table versions.
std::uint64_t instance_seed(std::uint32_t cs_id, std::uint32_t instance_id) noexcept;

// -ln(x / 2^54) for x in [1, 2^54): HRW's -ln(u) without a libm call,
// absolute error below 1e-10 (select_instance() runs it for every instance
// on every new flow).
double neg_ln_u54(std::uint64_t x) noexcept;

// 64-bit finaliser (MurmurHash3 fmix64): spreads a flow hash.
constexpr std::uint64_t mix64(std::uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

struct Choice {
    std::int32_t index = -1;  // into Service::instances, -1: none
    bool best_effort = false; // no instance met the requirements
};

// Choose an instance for a new flow. Eligible = available and meets(req).
// With none eligible: strict -> none; otherwise the best available
// instance, or failing that any instance with a resolved route (best effort).
Choice select_instance(std::span<const Instance> insts, const wire::Requirements& req,
                       std::uint64_t flow_hash) noexcept;
// The same for a service's instances, skipping the per-instance checks when
// its floor meets the requirements: the same choice, sooner.
Choice select_instance(const Service& svc, const wire::Requirements& req, std::uint64_t flow_hash) noexcept;

}  // namespace cats::dp
