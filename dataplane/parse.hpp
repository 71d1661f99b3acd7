// SPDX-License-Identifier: BSD-3-Clause
// Pure packet parser: Ethernet (802.1Q/802.1ad), IPv6 and its extension
// header chain (HBH, DOH, SRH with TLVs, Fragment, AH), inner TCP/UDP/SCTP
// ports and ESP SPI, and the CATS metadata in whichever encoding carries it.
//
// It reads only the bytes it is given, checks every length before reading and
// writes nothing but `out`. It does not need EAL. Thread safety: pure, may be
// called from any thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "cats_wire.hpp"
#include "drop_reason.hpp"

namespace cats::dp {

inline constexpr std::size_t kMaxExtHeaders = 8;
inline constexpr std::size_t kEthHdrLen = 14;
inline constexpr std::size_t kVlanHdrLen = 4;
inline constexpr std::size_t kIpv6HdrLen = 40;

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
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
inline constexpr std::uint8_t kProtoIcmpv6 = 58;
inline constexpr std::uint8_t kProtoNoNext = 59;
inline constexpr std::uint8_t kProtoDstOpts = 60;
inline constexpr std::uint8_t kProtoSctp = 132;

inline constexpr std::uint8_t kRoutingTypeSrh = 4;

// Where the CATS request came from, in order of precedence (highest last).
enum class MetaSource : std::uint8_t {
    None = 0,
    ServiceSid,  // destination inside the service-SID /96
    Option,      // option 0x1E in a Hop-by-Hop or Destination Options header
    SrhTlv,      // TLV 124 in the SRH
};

struct ParseConfig {
    // The service-SID prefix: a packet whose destination's first 12 bytes
    // equal this asks for CS-ID = low 32 bits. Disabled when !sid_enabled.
    std::uint8_t sid_prefix[12] = {};
    bool sid_enabled = false;
};

struct PacketInfo {
    std::uint16_t ip6_off = 0;        // offset of the IPv6 header in the frame
    std::uint16_t ip6_len = 0;        // 40 + payload length
    std::uint16_t vlan_tci = 0;       // outer tag's TCI when tagged
    std::uint8_t vlan_count = 0;
    std::uint8_t hop_limit = 0;
    std::uint8_t src[16] = {};
    std::uint8_t dst[16] = {};

    std::uint8_t l4_proto = 0;        // last Next Header of the chain
    std::uint8_t icmp6_type = 0;      // ICMPv6 type when l4_proto is 58 and its first byte is here
    std::uint16_t sport = 0;          // TCP/UDP/SCTP ports, host order
    std::uint16_t dport = 0;
    std::uint32_t spi = 0;            // ESP SPI, host order
    bool has_ports = false;
    bool has_spi = false;

    bool is_fragment = false;
    bool non_initial_fragment = false;  // offset != 0: no L4 header here
    std::uint32_t frag_id = 0;

    std::uint16_t srh_off = 0;        // offset of the SRH, 0 if none
    std::uint8_t segments_left = 0;
    // Offset of the upper-layer header (what follows the last extension
    // header; an inner IPv6 header when l4_proto is 41), in the frame.
    std::uint16_t l4_off = 0;

    MetaSource meta_source = MetaSource::None;
    wire::CatsMetadata meta{};

    friend bool operator==(const PacketInfo&, const PacketInfo&) = default;
};

// What set_ports(), ports_word() and parse_fast()'s reset rely on.
static_assert(std::is_trivially_copyable_v<PacketInfo> && std::is_standard_layout_v<PacketInfo>);

// sport and dport as one 32-bit word, sport in its low half: their memory
// order on a little-endian host, which is how the flow key holds them. Both
// parsers store them with set_ports() and make_key() loads them with
// ports_word(), one store and one load of the same 4 bytes: a load that
// spans two narrower stores cannot take its data from the store buffer and
// waits for both to reach the cache (a store-forwarding stall, on every
// packet).
inline void set_ports(PacketInfo& out, const std::uint8_t* l4) noexcept {
    static_assert(std::endian::native == std::endian::little);
    static_assert(offsetof(PacketInfo, dport) == offsetof(PacketInfo, sport) + 2);
    const std::uint32_t be = wire::load_be32(l4);  // sport << 16 | dport
    const std::uint32_t word = (be >> 16) | (be << 16);
    std::memcpy(reinterpret_cast<std::uint8_t*>(&out) + offsetof(PacketInfo, sport), &word, sizeof word);
}

inline std::uint32_t ports_word(const PacketInfo& pi) noexcept {
    std::uint32_t word;
    std::memcpy(&word, reinterpret_cast<const std::uint8_t*>(&pi) + offsetof(PacketInfo, sport), sizeof word);
    return word;
}

// Parse `frame` (starting at the Ethernet header). Returns DropReason::None
// and fills `out` on success; otherwise the reason the packet must be dropped.
// Inline (defined below): it runs once per packet.
inline DropReason parse_packet(std::span<const std::uint8_t> frame, const ParseConfig& cfg,
                               PacketInfo& out) noexcept;

// parse_packet() tries a one-pass parser for the common chains first
// (untagged Ethernet; IPv6; nothing, or an SRH whose TLVs are one CATS TLV
// and padding, or a Destination Options header of one CATS option and
// padding; then TCP or UDP) and falls back to this general one for
// everything else, malformed packets included. Exposed so that the tests
// can hold the two to the same results.
DropReason parse_packet_general(std::span<const std::uint8_t> frame, const ParseConfig& cfg,
                                PacketInfo& out) noexcept;

// The same from the IPv6 header (no Ethernet); `out.ip6_off` is 0.
DropReason parse_ipv6(std::span<const std::uint8_t> pkt, const ParseConfig& cfg,
                      PacketInfo& out) noexcept;

// Map a CATS body error to the drop reason that counts it.
constexpr DropReason body_error_reason(wire::BodyError e) noexcept {
    switch (e) {
    case wire::BodyError::Ok: return DropReason::None;
    case wire::BodyError::Truncated: return DropReason::CatsTruncated;
    case wire::BodyError::BadVersion: return DropReason::CatsBadVersion;
    case wire::BodyError::SubTlvOverrun: return DropReason::CatsSubTlvOverrun;
    case wire::BodyError::SubTlvBadLength: return DropReason::CatsSubTlvBadLength;
    case wire::BodyError::BadValue: return DropReason::CatsBadValue;
    }
    return DropReason::CatsTruncated;
}

namespace detail {

// Minimum upper-layer header we accept, 0 for protocols whose header we do
// not read.
constexpr std::size_t l4_min_len(std::uint8_t proto) noexcept {
    switch (proto) {
    case kProtoTcp: return 20;
    case kProtoUdp: return 8;
    case kProtoSctp: return 12;
    case kProtoEsp: return 8;  // SPI + sequence number
    default: return 0;
    }
}

// The SRH's own layout, as seg6_validate_srh() checks it, on the `len`
// bytes its Hdr Ext Len gives (already known to be there): None, or why it
// is malformed. The TLV area starts at srh_tlv_offset().
constexpr DropReason srh_layout_error(const std::uint8_t* srh, std::size_t len) noexcept {
    if (len < 8 + 16) [[unlikely]]
        return DropReason::SrhBadLength;
    const std::size_t last_entry = srh[4];
    if (8 + (last_entry + 1) * 16 > len) [[unlikely]]
        return DropReason::SrhBadLastEntry;
    // RFC 8754 4.3.1.1: Segments Left > Last Entry + 1 is an error.
    if (srh[3] > last_entry + 1) [[unlikely]]
        return DropReason::SrhBadSegmentsLeft;
    return DropReason::None;
}

constexpr std::size_t srh_tlv_offset(const std::uint8_t* srh) noexcept {
    return 8 + (std::size_t{srh[4]} + 1) * 16;
}

// The first 12 bytes of `dst` against the service-SID /96, as one 8- and
// one 4-byte compare: a 12-byte memcmp() is a library call, on every packet.
inline bool in_sid_prefix(const ParseConfig& cfg, const std::uint8_t* dst) noexcept {
    std::uint64_t a, b;
    std::uint32_t c, d;
    std::memcpy(&a, dst, 8);
    std::memcpy(&b, cfg.sid_prefix, 8);
    std::memcpy(&c, dst + 8, 4);
    std::memcpy(&d, cfg.sid_prefix + 8, 4);
    return ((a ^ b) | (c ^ d)) == 0;
}

// No request in the headers and the destination inside the service-SID
// /96: the request is the CS-ID in the destination's low 32 bits.
inline void take_service_sid(const ParseConfig& cfg, PacketInfo& out) noexcept {
    if (out.meta_source == MetaSource::None && cfg.sid_enabled && in_sid_prefix(cfg, out.dst)) {
        out.meta = wire::CatsMetadata{};
        out.meta.cs_id = wire::load_be32(&out.dst[12]);
        out.meta_source = MetaSource::ServiceSid;
    }
}

// An SRH TLV area or an options area (`a`, `n` bytes) that holds nothing
// but padding, or one CATS TLV/option (`cats_type`) first and padding after
// it: take the CATS body and return true. False for anything else, a
// malformed body included (the general parser then names the reason).
inline bool take_single_cats(const std::uint8_t* a, std::size_t n, std::uint8_t cats_type,
                             std::uint8_t padn_type, MetaSource src, PacketInfo& out) noexcept {
    static_assert(wire::kSrhTlvPad1 == 0 && wire::kOptPad1 == 0);
    std::size_t t = 0;
    if (n >= 2 && a[0] == cats_type) {
        const std::size_t len = a[1];
        // out.meta is fresh (parse_fast() reset `out`), so decoding onto it
        // gives what parse_body() gives.
        if (len > n - 2 || wire::decode_body({a + 2, len}, out.meta) != wire::BodyError::Ok)
            return false;
        out.meta_source = src;
        t = 2 + len;
    }
    while (t < n) {
        if (a[t] == 0) {
            ++t;
            continue;
        }
        // One PadN that ends exactly at the end of the area.
        return a[t] == padn_type && n - t >= 2 && a[t + 1] == n - t - 2;
    }
    return true;
}

// The one-pass parser for the common chains (see parse_packet_general()).
// Returns false, with `out` in any state, for everything it does not
// handle; never for a packet it handled.
inline bool parse_fast(std::span<const std::uint8_t> frame, const ParseConfig& cfg, PacketInfo& out) noexcept {
    const std::uint8_t* f = frame.data();
    const std::size_t size = frame.size();
    if (size < kEthHdrLen + kIpv6HdrLen || wire::load_be16(f + 12) != kEtherTypeIpv6)
        return false;
    const std::uint8_t* ip = f + kEthHdrLen;
    const std::size_t payload_len = wire::load_be16(ip + 4);
    if ((ip[0] >> 4) != 6 || payload_len == 0 || payload_len > size - kEthHdrLen - kIpv6HdrLen)
        return false;
    const std::size_t ip_len = kIpv6HdrLen + payload_len;

    // Copied from a constant: `out = PacketInfo{}` compiles to `rep stos`,
    // whose start-up costs more than the rest of this function, and whose
    // stores the loads that follow cannot take from the store buffer.
    static constexpr PacketInfo kFresh{};
    std::memcpy(&out, &kFresh, sizeof out);
    out.ip6_off = kEthHdrLen;
    out.ip6_len = static_cast<std::uint16_t>(ip_len);
    out.hop_limit = ip[7];
    std::memcpy(out.src, ip + 8, 16);
    std::memcpy(out.dst, ip + 24, 16);

    std::uint8_t nh = ip[6];
    std::size_t off = kIpv6HdrLen;
    if (nh == kProtoRouting || nh == kProtoDstOpts) {
        if (ip_len - off < 8)
            return false;
        const std::uint8_t* h = ip + off;
        const std::size_t len = (std::size_t{h[1]} + 1) * 8;
        if (len > ip_len - off)
            return false;
        if (nh == kProtoRouting) {
            if (h[2] != kRoutingTypeSrh || srh_layout_error(h, len) != DropReason::None)
                return false;
            const std::size_t tlv_off = srh_tlv_offset(h);
            if (!take_single_cats(h + tlv_off, len - tlv_off, wire::kSrhTlvCats, wire::kSrhTlvPadN,
                                  MetaSource::SrhTlv, out))
                return false;
            out.srh_off = static_cast<std::uint16_t>(kEthHdrLen + off);
            out.segments_left = h[3];
        } else if (!take_single_cats(h + 2, len - 2, wire::kOptCats, wire::kOptPadN, MetaSource::Option,
                                     out)) {
            return false;
        }
        nh = h[0];
        off += len;
    }
    out.l4_off = static_cast<std::uint16_t>(kEthHdrLen + off);
    out.l4_proto = nh;
    if (nh == kProtoIpv6) {
        // SRv6 encapsulation: the inner packet is not parsed here (a local
        // SID that decapsulates checks it).
        take_service_sid(cfg, out);
        return true;
    }
    if ((nh != kProtoUdp && nh != kProtoTcp) || ip_len - off < l4_min_len(nh))
        return false;
    set_ports(out, ip + off);
    out.has_ports = true;
    take_service_sid(cfg, out);
    return true;
}

}  // namespace detail

inline DropReason parse_packet(std::span<const std::uint8_t> frame, const ParseConfig& cfg,
                               PacketInfo& out) noexcept {
    if (detail::parse_fast(frame, cfg, out)) [[likely]]
        return DropReason::None;
    return parse_packet_general(frame, cfg, out);
}

}  // namespace cats::dp
