// SPDX-License-Identifier: BSD-3-Clause
// The receive-side report: what was sent (replayed from the profile and its
// seed, or counted while sending) against what arrived where.
//
//   - packets sent / received / lost / duplicated / reordered per flow,
//     per service and per requirement set;
//   - per instance: packets and flows, the measured share of its service's
//     packets against the expected share (profile weights, restricted to the
//     instances a requirement set allows);
//   - affinity: a flow seen at more than one instance, in sequence order, is
//     a violation unless it moved once away from an instance listed in
//     analysis.allow_moves_from (a planned move); an AFFINITY_KEY group whose
//     flows started on different instances is a group violation;
//   - one-way latency percentiles (RX time - the TX time in the trafgen
//     header), throughput on both sides;
//   - malformed packets sent and (should be none) received, by kind.
//
// Thread safety: an Analyzer is used by one thread.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generator.hpp"
#include "rx.hpp"

namespace cats::trafgen {

inline constexpr std::int32_t kUnknownInstance = -1;

// What was sent, per flow and per malformed kind.
struct TxCounts {
    std::vector<std::uint64_t> flow_packets;
    std::vector<std::uint64_t> flow_bytes;
    std::array<std::uint64_t, kBadKindCount> bad{};
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t first_ns = 0;
    std::uint64_t last_ns = 0;

    explicit TxCounts(std::size_t flows = 0) : flow_packets(flows), flow_bytes(flows) {}
    void add(const Slot& s, std::size_t len, std::uint64_t tx_ns) noexcept {
        if (s.bad != BadKind::None) {
            ++bad[static_cast<std::size_t>(s.bad)];
        } else if (s.flow < flow_packets.size()) {
            ++flow_packets[s.flow];
            flow_bytes[s.flow] += len;
        }
        if (packets++ == 0)
            first_ns = tx_ns;
        last_ns = tx_ns;
        bytes += len;
    }
};

// Replay the whole schedule of `gen` (rewound before and after) and count
// it, with the timestamps a pcap written by `gen` would carry.
TxCounts plan_tx(Generator& gen, std::uint64_t start_ns);

// The TX time of slot `index` at the profile's rate from `start_ns`.
std::uint64_t schedule_ns(const Profile& p, std::uint64_t start_ns, std::uint64_t index) noexcept;

struct RxPacket {
    std::int32_t instance = kUnknownInstance;
    std::uint32_t flow = 0;
    std::uint64_t seq = 0;
    std::uint64_t tx_ns = 0;
    std::uint64_t rx_ns = 0;
    std::uint32_t len = 0;
};

struct ReportOptions {
    bool all_flows = false;              // list every flow, not only those with a problem
    std::size_t max_flows_listed = 200;
};

class Analyzer {
public:
    explicit Analyzer(const Generator& gen);

    // Instances of the profile, flattened in document order.
    std::size_t instance_count() const noexcept { return inst_name_.size(); }
    const std::string& instance_name(std::size_t i) const { return inst_name_[i]; }
    std::int32_t instance_by_name(std::string_view name) const noexcept;
    // From the outer destination (first SID), else the SRH's last SID.
    std::int32_t instance_of(const RxDecoded& d) const noexcept;

    void set_tx(TxCounts tx) { tx_ = std::move(tx); }
    void allow_moves_from(std::int32_t instance) { allow_move_[static_cast<std::size_t>(instance)] = true; }

    // Account one received frame; `instance` kUnknownInstance: identify it
    // from the packet.
    void add_frame(std::span<const std::uint8_t> frame, std::uint64_t rx_ns, std::int32_t instance);
    // Account one decoded trafgen packet of this run (for tests).
    void add(const RxPacket& p) { rx_.push_back(p); }
    // Room for this many received packets, so that receiving does not
    // reallocate as it goes.
    void reserve(std::size_t packets) { rx_.reserve(packets); }

    nlohmann::json report(const ReportOptions& opt = {}) const;

private:
    const Generator& gen_;
    std::vector<std::string> inst_name_;
    std::vector<std::size_t> inst_service_;
    std::vector<double> inst_weight_;
    std::vector<bool> allow_move_;
    std::map<Ipv6Addr, std::int32_t> by_first_sid_;
    std::map<Ipv6Addr, std::int32_t> by_last_sid_;

    TxCounts tx_;
    std::vector<RxPacket> rx_;
    std::uint64_t rx_frames_ = 0;
    std::uint64_t rx_bytes_ = 0;
    std::uint64_t foreign_ = 0;      // no trafgen header
    std::uint64_t other_run_ = 0;    // a trafgen header of another run
    std::array<std::uint64_t, kBadKindCount> bad_rx_{};
};

// The report as tables, for people.
std::string render_text(const nlohmann::json& report);

}  // namespace cats::trafgen
