// SPDX-License-Identifier: BSD-3-Clause
// A traffic profile: what cats-trafgen generates and what the receive side
// expects. Loaded from YAML (configs/trafgen-lab.yaml documents every key) and
// adjusted by command-line flags; validated once. Every error names the YAML
// path, e.g.
//   services[0].instances[1].sids[0]: '2001:db8::zz' is not an IPv6 address
//
// Thread safety: load_* are called once by the main thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cats_wire.hpp"
#include "config_error.hpp"
#include "net.hpp"

namespace cats::trafgen {

// Where the CATS metadata travels (proto-defs/SPEC.md 1.1, 1.2, 1.4).
enum class Encoding : std::uint8_t { SrhTlv = 0, DestOpt, HopByHop, ServiceSid, Count };
inline constexpr std::size_t kEncodingCount = static_cast<std::size_t>(Encoding::Count);
inline constexpr std::array<std::string_view, kEncodingCount> kEncodingNames = {
    "srh_tlv", "dest_opt", "hop_by_hop", "service_sid"};

enum class Transport : std::uint8_t { Udp = 0, Tcp, Esp, Count };
inline constexpr std::size_t kTransportCount = static_cast<std::size_t>(Transport::Count);
inline constexpr std::array<std::string_view, kTransportCount> kTransportNames = {"udp", "tcp", "esp"};

// Malformed packets, one kind per drop reason of the dataplane
// (dataplane/drop_reason.hpp): the name is the drop counter's name, so a test
// compares `malformed.sent.<name>` with `drops.<name>` directly.
enum class BadKind : std::uint8_t {
    None = 0,
    Ipv6Truncated,        // 20 bytes of IPv6 header
    Ipv6BadVersion,       // IP version 5 in an IPv6 frame
    Ipv6BadPayloadLen,    // payload length past the end of the frame
    ExtTruncated,         // Destination Options Hdr Ext Len past the payload
    HbhNotFirst,          // a Hop-by-Hop header after a Destination Options header
    OptOverrun,           // an option's length past its header
    SrhBadLastEntry,      // Last Entry larger than the segment list the length holds
    SrhBadSegmentsLeft,   // Segments Left > Last Entry + 1
    SrhTlvOverrun,        // an SRH TLV running past the SRH
    CatsTruncated,        // CATS body of 4 bytes
    CatsBadVersion,       // CATS Version 1
    CatsSubTlvOverrun,    // a sub-TLV running past the body
    CatsSubTlvBadLength,  // MIN_SCORE with Length 2
    CatsBadValue,         // MIN_SCORE 11
    L4Truncated,          // a UDP header of 4 bytes
    Count
};
inline constexpr std::size_t kBadKindCount = static_cast<std::size_t>(BadKind::Count);
inline constexpr std::array<std::string_view, kBadKindCount> kBadKindNames = {
    "none",
    "ipv6_truncated",
    "ipv6_bad_version",
    "ipv6_bad_payload_len",
    "ext_truncated",
    "hbh_not_first",
    "opt_overrun",
    "srh_bad_last_entry",
    "srh_bad_segments_left",
    "srh_tlv_overrun",
    "cats_truncated",
    "cats_bad_version",
    "cats_subtlv_overrun",
    "cats_subtlv_bad_length",
    "cats_bad_value",
    "l4_truncated",
};

constexpr std::string_view name_of(Encoding e) noexcept { return kEncodingNames[static_cast<std::size_t>(e)]; }
constexpr std::string_view name_of(Transport t) noexcept { return kTransportNames[static_cast<std::size_t>(t)]; }
constexpr std::string_view name_of(BadKind k) noexcept { return kBadKindNames[static_cast<std::size_t>(k)]; }

struct InstanceSpec {
    std::string name;             // unique over the profile
    std::vector<Ipv6Addr> sids;   // first SID first, as in the gateway config
    double weight = 1;            // expected share within its service, relative
};

struct ServiceSpec {
    std::uint32_t cs_id = 0;
    std::string name;
    double share = 1;             // relative share of flows
    std::vector<InstanceSpec> instances;
};

// A requirement set: what a share of the flows asks for, and what should
// happen to them.
struct RequirementSet {
    std::string name;
    double share = 1;                      // relative share of flows
    wire::Requirements req{};              // strict and priority included
    std::uint32_t affinity_group = 0;      // >1: this many flows share one AFFINITY_KEY
    std::vector<std::uint32_t> services;   // CS-IDs it applies to; empty = all
    std::vector<std::string> instances;    // instances that may take these flows; empty = all
    bool expect_drop = false;              // the gateway should drop these flows
    std::string drop_reason;               // with this counter (for the report)

    bool has_requirements() const noexcept {
        return !(req == wire::Requirements{}) || affinity_group > 1;
    }
};

struct Profile {
    std::uint64_t seed = 1;

    // Addressing of the generated packets.
    MacAddr src_mac{0x02, 0, 0, 0, 0, 0xc1};
    MacAddr dst_mac{0x02, 0, 0, 0, 0, 0x01};
    Ipv6Prefix src_prefix{};               // flow sources: prefix | flow index
    Ipv6Addr app_dst{};                    // destination of option/TLV packets
    std::optional<Ipv6Prefix> service_sid_prefix;  // a /96
    std::uint16_t udp_dport = 5000;
    std::uint16_t tcp_dport = 443;
    std::uint8_t hop_limit = 64;

    std::uint32_t flows = 16;
    std::uint32_t packets_per_flow = 4;
    double rate_pps = 0;                   // 0: as fast as possible
    std::uint16_t size_min = 128;          // Ethernet frame without FCS
    std::uint16_t size_max = 128;

    std::array<double, kEncodingCount> encodings{1, 1, 1, 1};
    std::array<double, kTransportCount> transports{1, 0, 0};

    std::vector<ServiceSpec> services;
    std::vector<RequirementSet> requirement_sets;

    double malformed_share = 0;            // of all packets sent, 0..0.9
    std::array<double, kBadKindCount> malformed_kinds{};  // weights, [None] unused

    // Analysis.
    std::vector<std::string> allow_moves_from;  // instances whose flows may move once
    double share_tolerance = 0.1;          // |measured - expected| allowed, absolute
    // Where share_tolerance came from, for the report: "default", the YAML
    // key, or the flag that overrode it.
    std::string share_tolerance_from = "default";

    // Derived.
    std::uint64_t total_good_packets() const noexcept {
        return std::uint64_t{flows} * packets_per_flow;
    }
    // Index of the instance called `name` as (service index, instance index).
    std::optional<std::pair<std::size_t, std::size_t>> find_instance(std::string_view name) const;
};

using ProfileError = cats::ConfigError;  // configs/config_error.hpp

// Parse and validate. Throws ProfileError naming the YAML path.
Profile load_profile_file(const std::string& path);
Profile load_profile_string(const std::string& yaml);

// Checks that hold whatever the source (YAML or flags); called by the
// loaders and again after command-line overrides. Throws ProfileError.
void validate_profile(Profile& p);

// "a=1,b=2" (or "a,b", weight 1 each) for a named enum: the command-line
// form of the YAML weight maps. Names from index `first` on are accepted;
// names not given get weight 0. Throws ProfileError naming `flag`.
std::vector<double> parse_weights(const std::string& flag, const std::string& text,
                                  std::span<const std::string_view> names, std::size_t first = 0);

}  // namespace cats::trafgen
