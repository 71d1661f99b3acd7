// SPDX-License-Identifier: BSD-3-Clause
// Receive side, per packet: find the trafgen header in a received frame and
// what says where the packet went.
//
// A received frame is either what the gateway emits (Ethernet, outer IPv6,
// SRH, the inner packet: RFC 8986 H.Encaps / H.Encaps.Red) or the inner
// packet after decapsulation at a compute node. The decoder walks Ethernet
// (up to two VLAN tags), IPv6 and its extension headers, and at most one
// level of IPv6-in-IPv6; it records the outer destination (the instance's
// first SID) and the SRH's Segment List[0] (its last SID), then reads the
// transport header and the trafgen header after it. If the walk fails (a
// malformed packet that leaked, an unknown encapsulation) the frame is
// searched for the trafgen magic.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "net.hpp"
#include "payload.hpp"

namespace cats::trafgen {

struct RxDecoded {
    TgHeader tg{};
    bool encapsulated = false;   // IPv6-in-IPv6 seen
    Ipv6Addr outer_dst{};        // valid when encapsulated
    bool has_srh = false;        // the outer packet had an SRH
    Ipv6Addr srh_last_sid{};     // its Segment List[0]
    bool by_scan = false;        // trafgen header found by searching
};

// False when the frame holds no trafgen header.
bool decode_rx(std::span<const std::uint8_t> frame, RxDecoded& out) noexcept;

}  // namespace cats::trafgen
