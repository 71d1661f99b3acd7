// SPDX-License-Identifier: BSD-3-Clause
// The validity checks of RFC 4861 for Neighbor Discovery messages that the
// exception path hands to the kernel: hop limit 255, ICMP code 0, the
// message at least its fixed size, every option of non-zero length and
// inside the message (sections 6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1). The kernel
// drops such messages too, but without a counter an operator can read;
// here each is dropped before the TAP and counted by reason per port.
//
// Pure functions on the frame's bytes; no DPDK. Runs on the exception
// thread only, never on the workers' path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cats_wire.hpp"

namespace cats::dp {

enum class NdpCheck : std::uint8_t { NotNdp, Ok, HopLimit, Code, Truncated, BadOption };

inline constexpr std::string_view ndp_check_name(NdpCheck c) noexcept {
    switch (c) {
    case NdpCheck::NotNdp: return "not_ndp";
    case NdpCheck::Ok: return "ok";
    case NdpCheck::HopLimit: return "hop_limit";
    case NdpCheck::Code: return "code";
    case NdpCheck::Truncated: return "truncated";
    case NdpCheck::BadOption: return "bad_option";
    }
    return "?";
}

// The fixed part of each message (ICMPv6 header included), or 0 if `type`
// is not Neighbor Discovery (133 RS, 134 RA, 135 NS, 136 NA, 137 Redirect).
inline constexpr std::size_t ndp_fixed_len(std::uint8_t type) noexcept {
    switch (type) {
    case 133: return 8;
    case 134: return 16;
    case 135: return 24;
    case 136: return 24;
    case 137: return 40;
    default: return 0;
    }
}

// `frame`: Ethernet II, then IPv6. Only ICMPv6 directly after the IPv6
// header is looked at (RFC 4861 messages carry no extension header).
inline NdpCheck check_ndp(const std::uint8_t* frame, std::size_t len) noexcept {
    constexpr std::size_t kEth = 14, kIp6 = 40;
    if (len < kEth + kIp6 || wire::load_be16(frame + 12) != 0x86DD)
        return NdpCheck::NotNdp;
    const std::uint8_t* ip = frame + kEth;
    if (ip[6] != 58)
        return NdpCheck::NotNdp;
    const std::size_t avail = len - kEth - kIp6;
    const std::size_t plen = wire::load_be16(ip + 4);
    if (avail < 1)
        return NdpCheck::NotNdp;
    const std::uint8_t type = ip[kIp6];
    const std::size_t fixed = ndp_fixed_len(type);
    if (fixed == 0)
        return NdpCheck::NotNdp;
    if (plen > avail || plen < fixed)
        return NdpCheck::Truncated;
    if (ip[7] != 255)
        return NdpCheck::HopLimit;
    if (ip[kIp6 + 1] != 0)
        return NdpCheck::Code;
    const std::uint8_t* icmp = ip + kIp6;
    for (std::size_t off = fixed; off < plen;) {
        if (plen - off < 2 || icmp[off + 1] == 0 || icmp[off + 1] * 8u > plen - off)
            return NdpCheck::BadOption;
        off += icmp[off + 1] * 8u;
    }
    return NdpCheck::Ok;
}

}  // namespace cats::dp
