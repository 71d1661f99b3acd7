// SPDX-License-Identifier: BSD-3-Clause
// What cats-bench feeds the engine: F flows spread over S services of N
// instances each, one packet per flow, the CATS metadata carried by one
// encoding; and the gateway configuration that steers them.
//
// Flow f asks for service 1000 + (f mod S) and comes from a distinct source
// address and port; with W workers, flow f belongs to queue f mod W (as RSS
// would spread them). Everything is a pure function of the spec: the same
// spec gives the same bytes.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"

namespace cats::bench {

// SrhTlvHmac: the SRH TLV request with an SRH HMAC TLV (RFC 8754 2.1.2),
// and a gateway that requires and verifies it (gateway.srh_hmac).
// Srv6Sid1, Srv6Sid3: no request; the packets arrive SRv6-encapsulated
// (H.Encaps by an ingress, SRH of 1 or 3 SIDs, Segments Left 0) to the
// gateway's End.DX6 SID (the egress side, the end.dx6 mode).
enum class Encoding : std::uint8_t { SrhTlv, DestOpt, ServiceSid, SrhTlvHmac, Srv6Sid1, Srv6Sid3 };

constexpr bool is_tunnel(Encoding e) noexcept { return e == Encoding::Srv6Sid1 || e == Encoding::Srv6Sid3; }
// Outer sources of the tunnel workloads: ingress gateways behind ECMP, the
// flows spread over them (per policy accounting sees 4 policies).
inline constexpr std::uint32_t kTunnelSources = 4;
// Where the inner IPv6 header of a tunnel packet starts. End.DX6 writes
// the 14 bytes before it (the Ethernet header it moves into the SRH's
// last segment, the same in every packet) and the inner hop limit.
std::size_t tunnel_inner_offset(Encoding e) noexcept;

const char* encoding_name(Encoding e) noexcept;

struct WorkloadSpec {
    std::uint32_t flows = 1000;
    std::uint32_t services = 10;
    std::uint32_t instances = 8;     // per service
    Encoding encoding = Encoding::SrhTlv;
    std::uint16_t payload = 32;      // UDP payload bytes
};

inline constexpr std::uint32_t kFirstCsId = 1000;

// fc00:0:SSSS:IIII:JJJJ::1: SID j of instance i (0-based) of service index s.
dp::Ipv6Addr instance_sid(std::uint32_t s, std::uint32_t i, std::uint32_t j);

// The Ethernet frame of flow f's packet.
std::vector<std::uint8_t> build_packet(const WorkloadSpec& w, std::uint32_t flow);

// A gateway steering the workload: one port named `port`, every instance
// with `sids` SIDs (H.Encaps), routes for every SID and for the packets' own
// destinations (the l3fwd baseline forwards on them), `table_size` flows
// per worker. For a tunnel workload, also the End.DX6 SID it is sent to.
dp::Config gateway_config(const WorkloadSpec& w, unsigned sids, const std::string& port,
                          std::uint32_t table_size);

// Write the packets of the flows of queue q (of `queues`) to a pcap file.
// Throws std::runtime_error when the file cannot be written.
void write_pcap(const std::string& path, const WorkloadSpec& w, unsigned q, unsigned queues);

}  // namespace cats::bench
