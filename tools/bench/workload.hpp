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
enum class Encoding : std::uint8_t { SrhTlv, DestOpt, ServiceSid, SrhTlvHmac };

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
// per worker.
dp::Config gateway_config(const WorkloadSpec& w, unsigned sids, const std::string& port,
                          std::uint32_t table_size);

// Write the packets of the flows of queue q (of `queues`) to a pcap file.
// Throws std::runtime_error when the file cannot be written.
void write_pcap(const std::string& path, const WorkloadSpec& w, unsigned q, unsigned queues);

}  // namespace cats::bench
