// SPDX-License-Identifier: BSD-3-Clause
// The SRv6 endpoint behaviours (RFC 8986 4) on one packet addressed to a
// local SID (sid_table.hpp), as the SRH processing of RFC 8754 4.3.1 and
// the pseudocode of RFC 8986 4.1, 4.2, 4.4 and 4.6 lay them out. The
// parser has already checked the SRH's own layout (Last Entry, Segments
// Left, TLVs: RFC 8986 4.1 S08-S11); what is left is each behaviour's.
//
// Everything is checked before the packet is touched. On success the
// packet is ready for forward() (worker.cpp): towards the FIB's next hop
// for its new destination (End, End.DT6), or the SID's (End.X, End.DX6),
// which takes one off the hop limit and writes the Ethernet header. The
// decapsulation moves the mbuf's start to the inner packet: the inner
// packet is not copied, only the 14 bytes of Ethernet header in front of
// it (what an ICMPv6 error about the inner packet sends back).
//
// Thread safety: pure over the mbuf; any worker.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

#include "cats_wire.hpp"
#include "drop_reason.hpp"
#include "parse.hpp"
#include "sid_table.hpp"

namespace cats::dp {

// What a local SID sent on counts per policy (policy_table.hpp): the
// packet inside the tunnel, or the whole IPv6 packet when it carries no
// inner IPv6 packet.
inline std::uint32_t policy_bytes(const PacketInfo& pi) noexcept {
    return pi.l4_proto == kProtoIpv6 ? pi.ip6_len - (pi.l4_off - pi.ip6_off) : pi.ip6_len;
}

// Run `sid`'s behaviour on `m`, parsed into `pi`. None: `pi` describes the
// packet to forward (its destination, hop limit, offsets), `m` is
// rewritten to match. Otherwise the reason to drop it, with `m` and `pi`
// untouched and, for a Parameter Problem, `pointer` set (bytes into the
// IPv6 header: RFC 4443 3.4).
inline DropReason run_endpoint(rte_mbuf* m, PacketInfo& pi, const LocalSid& sid, std::uint32_t& pointer) noexcept {
    std::uint8_t* f = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::uint32_t ip_off = pi.ip6_off;
    if (!decapsulates(sid.behavior)) {
        // End, End.X (RFC 8986 4.1, 4.2). Segments Left 0, or no SRH: the
        // packet ends here, and this node takes no upper-layer header
        // (4.1.1: none is allowed by configuration).
        if (pi.srh_off == 0 || pi.segments_left == 0) {
            pointer = pi.l4_off - ip_off;
            return DropReason::SidUpperLayer;
        }
        // S05-S06: checked before the SRH changes, so that Time Exceeded
        // quotes the packet as it came.
        if (pi.hop_limit <= 1)
            return DropReason::HopLimitExceeded;
        // S13-S14 (S12, the hop limit, is forward()'s).
        std::uint8_t* srh = f + pi.srh_off;
        const std::uint8_t sl = static_cast<std::uint8_t>(srh[3] - 1);
        srh[3] = sl;
        const std::uint8_t* next = srh + 8 + 16 * std::size_t{sl};
        std::memcpy(f + ip_off + 24, next, 16);
        std::memcpy(pi.dst, next, 16);
        pi.segments_left = sl;
        return DropReason::None;
    }
    // End.DX6, End.DT6 (4.4, 4.6): S02-S04, Segments Left must be 0.
    if (pi.srh_off != 0 && pi.segments_left != 0) {
        pointer = pi.srh_off - ip_off + 3;
        return DropReason::SidSegmentsLeft;
    }
    if (pi.is_fragment)
        return DropReason::SidFragment;
    if (pi.l4_proto != kProtoIpv6) {
        pointer = pi.l4_off - ip_off;
        return DropReason::SidUpperLayer;
    }
    const std::uint32_t inner_off = pi.l4_off;
    const std::uint32_t avail = ip_off + pi.ip6_len - inner_off;
    const std::uint8_t* in = f + inner_off;
    if (avail < kIpv6HdrLen || (in[0] >> 4) != 6)
        return DropReason::DecapInnerBad;
    const std::uint32_t payload = wire::load_be16(in + 4);
    if (payload == 0 || kIpv6HdrLen + payload > avail)
        return DropReason::DecapInnerBad;
    // Remove the outer IPv6 header with all its extension headers.
    // The MACs, 12 bytes from a frame start at least 54 bytes before: no
    // overlap, and fixed-size copies the compiler inlines.
    std::uint8_t* eth = f + inner_off - kEthHdrLen;
    std::uint64_t mac8;
    std::uint32_t mac4;
    std::memcpy(&mac8, f, 8);
    std::memcpy(&mac4, f + 8, 4);
    std::memcpy(eth, &mac8, 8);
    std::memcpy(eth + 8, &mac4, 4);
    wire::store_be16(eth + 12, kEtherTypeIpv6);
    const auto len = static_cast<std::uint16_t>(kEthHdrLen + kIpv6HdrLen + payload);
    m->data_off = static_cast<std::uint16_t>(m->data_off + inner_off - kEthHdrLen);
    m->data_len = len;
    m->pkt_len = len;
    pi.ip6_off = static_cast<std::uint16_t>(kEthHdrLen);
    pi.ip6_len = static_cast<std::uint16_t>(kIpv6HdrLen + payload);
    pi.vlan_count = 0;
    pi.srh_off = 0;
    pi.segments_left = 0;
    pi.hop_limit = in[7];
    std::memcpy(pi.src, in + 8, 16);
    std::memcpy(pi.dst, in + 24, 16);
    // What an ICMPv6 error about the inner packet must know of it (RFC
    // 4443 2.4 (e)): whether it is one.
    pi.l4_proto = in[6];
    pi.l4_off = static_cast<std::uint16_t>(kEthHdrLen + kIpv6HdrLen);
    pi.icmp6_type = payload >= 1 ? in[kIpv6HdrLen] : 0;
    return DropReason::None;
}

}  // namespace cats::dp
