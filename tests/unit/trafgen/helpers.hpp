// SPDX-License-Identifier: BSD-3-Clause
// Profiles and packet helpers shared by the cats-trafgen unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generator.hpp"
#include "parse.hpp"
#include "profile.hpp"

namespace cats::trafgen::test {

using Bytes = std::vector<std::uint8_t>;

// Two services, three instances, every encoding and transport, one affinity
// group set, one strict set restricted to some instances.
inline const char* kSmallProfile = R"(
seed: 7
flows: 64
packets_per_flow: 3
packet_size: {min: 100, max: 400}
encodings: [srh_tlv, dest_opt, hop_by_hop, service_sid]
transports: [udp, tcp, esp]
services:
  - cs_id: 100
    instances:
      - {name: a, sids: [2001:db8:a1::100], weight: 1}
      - {name: b, sids: [2001:db8:a2::1, 2001:db8:a2::100], weight: 3}
  - cs_id: 200
    share: 0.5
    instances:
      - {name: g, sids: [2001:db8:a3::200]}
requirement_sets:
  - {name: any, share: 3}
  - {name: strict, services: [100], strict: true, max_latency_us: 1000, min_bandwidth_kbps: 5000,
     compute_types: [cpu, gpu], min_score: 4, priority: 2, instances: [a]}
  - {name: grouped, services: [100], affinity_group: 4}
)";

// The gateway-side parse config matching a profile's service SID prefix.
inline dp::ParseConfig parse_config(const Profile& p) {
    dp::ParseConfig c;
    if (p.service_sid_prefix) {
        std::copy(p.service_sid_prefix->addr.begin(), p.service_sid_prefix->addr.begin() + 12, c.sid_prefix);
        c.sid_enabled = true;
    }
    return c;
}

// Every packet of the schedule, built with `tx_ns` = 1000 + index.
inline std::vector<Bytes> all_packets(Generator& gen, std::vector<Slot>* slots = nullptr) {
    std::vector<Bytes> out;
    Bytes buf(kMaxFrame);
    gen.rewind();
    Slot s;
    while (gen.next(s)) {
        const std::size_t n = gen.build(s, 1000 + s.index, buf);
        out.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        if (slots != nullptr)
            slots->push_back(s);
    }
    gen.rewind();
    return out;
}

}  // namespace cats::trafgen::test
