// SPDX-License-Identifier: BSD-3-Clause
// Per-worker counters and their rendering as JSON and text.
//
// Each worker writes only its own counters with relaxed loads and stores (no
// atomic read-modify-write, no shared cache line); the management thread
// sums them with relaxed loads. Values are monotonic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "drop_reason.hpp"
#include "parse.hpp"

namespace cats::dp {

class Counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }
    // Only while no worker adds to it (a counter slot between two keys).
    void reset() noexcept { v_.store(0, std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

struct PacketCounters {
    Counter packets;
    Counter bytes;     // the frames as received
    Counter new_flows;
    Counter ip_bytes;  // the IPv6 packets steered (what the egress counts per policy)

    void reset() noexcept {
        packets.reset();
        bytes.reset();
        new_flows.reset();
        ip_bytes.reset();
    }
};

// Per local SID (sid_table.hpp): what its behaviour sent on, and dropped.
struct SidCounters {
    Counter packets;
    Counter bytes;  // the frames as received
    Counter drops[kDropReasonCount];

    void reset() noexcept {
        packets.reset();
        bytes.reset();
        for (Counter& d : drops)
            d.reset();
    }
};

inline constexpr std::size_t kMaxPorts = 32;
inline constexpr std::size_t kMetaSources = 4;  // MetaSource values

struct alignas(64) WorkerCounters {
    Counter rx_packets, rx_bytes;
    Counter tx_packets, tx_bytes;
    Counter steered;        // encapsulated towards an instance
    Counter forwarded;      // non-CATS IPv6 forwarded by the FIB
    Counter endpoint;       // sent on by a local SID's behaviour (sid_table.hpp)
    Counter best_effort;    // steered although no instance met the needs
    Counter flow_hits;      // packets of a pinned flow
    Counter new_flows;      // flows pinned (first packet or after expiry)
    Counter resteered;      // pinned flows moved: instance gone or ineligible
    Counter srh_hmac_verified;  // requests whose SRH HMAC was checked before choosing (gateway.srh_hmac)
    Counter flow_table_full;  // flows steered without a pin (table full)
    Counter expired;        // pins removed by the idle sweep
    Counter icmp_too_big;   // ICMPv6 Packet Too Big sent for a too_big drop
    Counter icmp_time_exceeded;  // ICMPv6 Time Exceeded sent for a hop_limit_exceeded drop
    Counter icmp_param_problem;  // ICMPv6 Parameter Problem sent for a local SID's drop (RFC 8986 4)
    Counter icmp_limited;   // such drops that got none: rate limit, or not allowed (RFC 4443 2.4)
    Counter by_source[kMetaSources];  // indexed by MetaSource
    Counter drops[kDropReasonCount];
    Counter port_rx[kMaxPorts], port_tx[kMaxPorts];
    Counter port_rx_bytes[kMaxPorts], port_tx_bytes[kMaxPorts];
    std::unique_ptr<PacketCounters[]> services;   // by Service::slot
    std::unique_ptr<PacketCounters[]> instances;  // by Instance::slot
    std::unique_ptr<SidCounters[]> sids;          // by LocalSid::slot

    WorkerCounters(std::uint32_t max_services, std::uint32_t max_instances, std::uint32_t max_sids = 1024)
        : services(new PacketCounters[max_services]),
          instances(new PacketCounters[max_instances]),
          sids(new SidCounters[max_sids]) {}

    void drop(DropReason r) noexcept { drops[static_cast<std::size_t>(r)].add(); }
    // A drop by a local SID's behaviour: counted for the SID too.
    void sid_drop(std::uint32_t slot, DropReason r) noexcept {
        drops[static_cast<std::size_t>(r)].add();
        sids[slot].drops[static_cast<std::size_t>(r)].add();
    }

    // Zero the per-service and per-instance counters of these slots, which
    // pass to new keys (ServiceTable::on_counter_reset).
    void reset_slots(std::span<const std::uint32_t> service_slots,
                     std::span<const std::uint32_t> instance_slots) noexcept {
        for (const std::uint32_t s : service_slots)
            services[s].reset();
        for (const std::uint32_t s : instance_slots)
            instances[s].reset();
    }
    void reset_sid_slots(std::span<const std::uint32_t> slots) noexcept {
        for (const std::uint32_t s : slots)
            sids[s].reset();
    }
};

}  // namespace cats::dp
