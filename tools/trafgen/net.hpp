// SPDX-License-Identifier: BSD-3-Clause
// Addresses, header constants and checksums used by the generator and the
// receive-side decoder. No DPDK: these are plain functions over bytes.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "addr_text.hpp"

namespace cats::trafgen {

using Ipv6Addr = wire::Ipv6Addr;
using MacAddr = wire::MacAddr;
using Ipv6Prefix = wire::Ipv6Prefix;

inline constexpr std::size_t kEthHdrLen = 14;
inline constexpr std::size_t kIpv6HdrLen = 40;
inline constexpr std::size_t kUdpHdrLen = 8;
inline constexpr std::size_t kTcpHdrLen = 20;
inline constexpr std::size_t kEspHdrLen = 8;  // SPI + sequence number (RFC 4303 2)

inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88A8;

// IANA protocol numbers.
inline constexpr std::uint8_t kProtoHopByHop = 0;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIpv6 = 41;
inline constexpr std::uint8_t kProtoRouting = 43;
inline constexpr std::uint8_t kProtoFragment = 44;
inline constexpr std::uint8_t kProtoEsp = 50;
inline constexpr std::uint8_t kProtoAh = 51;
inline constexpr std::uint8_t kProtoNoNext = 59;
inline constexpr std::uint8_t kProtoDstOpts = 60;

// TCP flags (RFC 9293 3.1).
inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;

// Text forms (proto-defs/addr_text.hpp); prefixes' host bits are checked
// by the profile loader.
inline std::optional<Ipv6Addr> parse_ipv6_addr(const std::string& s) { return wire::parse_ipv6(s); }
using wire::format_ipv6;
using wire::format_mac;
using wire::parse_ipv6_prefix;
using wire::parse_mac;

// The Internet checksum (RFC 1071) of an upper-layer packet over IPv6
// (RFC 8200 8.1 pseudo-header: source, final destination, upper-layer
// length, next header). `l4` is the whole upper-layer packet with its
// checksum field zero. Returns the value to store (0 becomes 0xFFFF for UDP,
// RFC 8200 8.1: a zero UDP checksum is not allowed over IPv6).
std::uint16_t l4_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t proto,
                          std::span<const std::uint8_t> l4) noexcept;

}  // namespace cats::trafgen
