// SPDX-License-Identifier: BSD-3-Clause
// SRv6 H.Encaps and H.Encaps.Red (RFC 8986 5.1, 5.2) as a precomputed
// rewrite: Ethernet + outer IPv6 + SRH are built once per instance and route
// change, and per packet copied in front of the inner IPv6 packet, after which
// only the payload length, traffic class and flow label are patched.
//
// Thread safety: build_encap_template() is for the management thread; the
// template is immutable once published. write_encap() is pure and may run on
// any worker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "config.hpp"

namespace cats::dp {

inline constexpr std::size_t kSrhFixedLen = 8;
inline constexpr std::size_t kMaxEncapLen = 14 + 40 + kSrhFixedLen + 16 * kMaxSids;  // 142

struct EncapTemplate {
    std::uint16_t len = 0;       // Ethernet + IPv6 + SRH
    std::uint16_t ip_len = 0;    // IPv6 + SRH: what the outer header adds
    std::array<std::uint8_t, kMaxEncapLen> bytes{};  // after the lengths: one line less to read
};

// Outer layout (RFC 8754 2, RFC 8986 5.1):
//   Ethernet: dst = neighbor MAC, src = port MAC, type 0x86DD
//   IPv6: TC from inner, flow label from the flow hash, NH = 43 (or 41 when
//         H.Encaps.Red with one SID leaves no SRH), hop limit, SA = source,
//         DA = sids[0] (the first SID)
//   SRH: NH = 41, Segment List[0] = last SID ... [n-1] = first SID,
//        Segments Left = n - 1, Last Entry = n - 1 (n - 2 reduced: the first
//        SID is only in the DA).
void build_encap_template(EncapTemplate& t, const MacAddr& src_mac, const MacAddr& dst_mac,
                          const Ipv6Addr& encap_source, std::span<const Ipv6Addr> sids,
                          EncapMode mode, std::uint8_t hop_limit) noexcept;

// Write the template at `out` (t.len bytes, which must be directly followed by
// the inner IPv6 packet of `inner_len` bytes) and patch the outer payload
// length, traffic class and flow label. Inline: it runs once per packet.
inline void write_encap(std::uint8_t* out, const EncapTemplate& t, std::uint16_t inner_len,
                        std::uint8_t inner_tc, std::uint32_t flow_label) noexcept {
    // Fixed-size copies instead of a memcpy call of a variable length: two
    // or three blocks, the last one ending at t.len (overlapping the one
    // before it), never a byte past t.len. t.len is 54..142.
    static_assert(14 + 40 >= 32 && kMaxEncapLen <= 192);
    const std::uint8_t* src = t.bytes.data();
    const std::size_t len = t.len;
    if (len <= 64) {
        std::memcpy(out, src, 32);
        std::memcpy(out + len - 32, src + len - 32, 32);
    } else {
        std::memcpy(out, src, 64);
        if (len > 128)
            std::memcpy(out + 64, src + 64, 64);
        std::memcpy(out + len - 64, src + len - 64, 64);
    }
    std::uint8_t* ip = out + 14;
    const std::uint32_t vtf = (6u << 28) | (std::uint32_t{inner_tc} << 20) | (flow_label & 0xFFFFF);
    const std::uint16_t payload = static_cast<std::uint16_t>(t.ip_len - 40 + inner_len);
    ip[0] = static_cast<std::uint8_t>(vtf >> 24);
    ip[1] = static_cast<std::uint8_t>(vtf >> 16);
    ip[2] = static_cast<std::uint8_t>(vtf >> 8);
    ip[3] = static_cast<std::uint8_t>(vtf);
    ip[4] = static_cast<std::uint8_t>(payload >> 8);
    ip[5] = static_cast<std::uint8_t>(payload);
}

// A non-zero 20-bit flow label from a flow hash (RFC 6437 3).
constexpr std::uint32_t flow_label_from_hash(std::uint64_t h) noexcept {
    const auto v = static_cast<std::uint32_t>((h ^ (h >> 20) ^ (h >> 40)) & 0xFFFFF);
    return v == 0 ? 1 : v;
}

}  // namespace cats::dp
