// SPDX-License-Identifier: BSD-3-Clause
#include "parse.hpp"

#include <cstring>

namespace cats::dp {

namespace {

using wire::load_be16;
using wire::load_be32;

// Take the CATS body at `body` if no request of equal or higher precedence was
// seen yet. A malformed body drops the packet wherever it stands.
DropReason take_meta(std::span<const std::uint8_t> body, MetaSource src, PacketInfo& out) noexcept {
    if (out.meta_source < src) {
        // Straight into place: parse_body() leaves it untouched on error.
        const wire::BodyError err = wire::parse_body(body, out.meta);
        if (err != wire::BodyError::Ok) [[unlikely]]
            return body_error_reason(err);
        out.meta_source = src;
        return DropReason::None;
    }
    // Outranked, but a malformed body still drops the packet.
    wire::CatsMetadata md;
    return body_error_reason(wire::parse_body(body, md));
}

// Walk the options of a Hop-by-Hop or Destination Options header (RFC 8200
// 4.2). `opts` is the header after its Next Header and Hdr Ext Len bytes.
DropReason walk_options(std::span<const std::uint8_t> opts, PacketInfo& out) noexcept {
    // The option layout is checked to the end before a CATS body error is
    // reported, so a header that is itself broken counts as opt_overrun
    // whatever CATS option came before the break.
    DropReason cats = DropReason::None;
    std::size_t off = 0;
    while (off < opts.size()) {
        const std::uint8_t type = opts[off];
        if (type == wire::kOptPad1) {
            ++off;
            continue;
        }
        if (opts.size() - off < 2) [[unlikely]]
            return DropReason::OptOverrun;
        const std::size_t len = opts[off + 1];
        if (len > opts.size() - off - 2) [[unlikely]]
            return DropReason::OptOverrun;
        if (type == wire::kOptCats && cats == DropReason::None)
            cats = take_meta(opts.subspan(off + 2, len), MetaSource::Option, out);
        // PadN and unknown options are skipped: this gateway is not the
        // destination, so their action bits are not ours to apply.
        off += 2 + len;
    }
    return cats;
}

// Validate an SRH the way Linux seg6_validate_srh() does, then walk its TLVs
// (RFC 8754 2.1). `srh` is the whole header, (Hdr Ext Len + 1) * 8 bytes.
//
//   0                   1                   2                   3
//   | Next Header   |  Hdr Ext Len  | Routing Type  | Segments Left |
//   |  Last Entry   |     Flags     |              Tag              |
//   |            Segment List[0] .. [Last Entry] (128 bits each)    |
//   |                    Optional TLVs                              |
DropReason walk_srh(std::span<const std::uint8_t> srh, PacketInfo& out) noexcept {
    const std::size_t hdr_len = srh.size();
    if (const DropReason r = detail::srh_layout_error(srh.data(), hdr_len); r != DropReason::None)
        return r;

    // As seg6_validate_srh(), the whole TLV area is walked before anything
    // inside a TLV is judged: a CATS body error is reported only once the SRH
    // itself is known to be well formed (validate the SRH, then the TLVs, then
    // our sub-TLVs), so a broken SRH counts as srh_tlv_overrun.
    DropReason cats = DropReason::None;
    std::size_t off = detail::srh_tlv_offset(srh.data());
    while (off < hdr_len) {
        const std::uint8_t type = srh[off];
        if (type == wire::kSrhTlvPad1) {
            ++off;
            continue;
        }
        if (hdr_len - off < 2) [[unlikely]]
            return DropReason::SrhTlvOverrun;
        const std::size_t len = srh[off + 1];
        if (len > hdr_len - off - 2) [[unlikely]]
            return DropReason::SrhTlvOverrun;
        if (type == wire::kSrhTlvCats && cats == DropReason::None)
            cats = take_meta(srh.subspan(off + 2, len), MetaSource::SrhTlv, out);
        off += 2 + len;
    }
    if (cats != DropReason::None) [[unlikely]]
        return cats;
    out.segments_left = srh[3];
    return DropReason::None;
}

// parse_ipv6() without resetting `out` (parse_packet() has already filled
// the Ethernet fields).
DropReason parse_ipv6_fields(std::span<const std::uint8_t> pkt, const ParseConfig& cfg,
                             PacketInfo& out) noexcept {
    if (pkt.size() < kIpv6HdrLen) [[unlikely]]
        return DropReason::Ipv6Truncated;
    if ((pkt[0] >> 4) != 6) [[unlikely]]
        return DropReason::Ipv6BadVersion;
    // The addresses first: a packet dropped for its payload length is
    // still counted for the local SID it was sent to (worker.cpp).
    out.hop_limit = pkt[7];
    std::memcpy(out.src, &pkt[8], 16);
    std::memcpy(out.dst, &pkt[24], 16);
    const std::size_t payload_len = load_be16(&pkt[4]);
    // Payload length 0 means a jumbogram (RFC 2675), which we do not carry.
    if (payload_len == 0 || kIpv6HdrLen + payload_len > pkt.size()) [[unlikely]]
        return DropReason::Ipv6BadPayloadLen;
    // Bytes past the IPv6 packet (Ethernet padding) are not ours to parse.
    const std::span<const std::uint8_t> ip = pkt.first(kIpv6HdrLen + payload_len);
    out.ip6_len = static_cast<std::uint16_t>(ip.size());

    std::uint8_t nh = ip[6];
    std::size_t off = kIpv6HdrLen;
    std::size_t n_ext = 0;
    bool done = false;
    while (!done) {
        switch (nh) {
        case kProtoHopByHop:
        case kProtoDstOpts:
        case kProtoRouting:
        case kProtoFragment:
        case kProtoAh: {
            if (++n_ext > kMaxExtHeaders) [[unlikely]]
                return DropReason::ExtChainTooLong;
            if (nh == kProtoHopByHop && off != kIpv6HdrLen) [[unlikely]]
                return DropReason::HbhNotFirst;
            if (ip.size() - off < 8) [[unlikely]]
                return DropReason::ExtTruncated;
            std::size_t len;
            if (nh == kProtoFragment)
                len = 8;
            else if (nh == kProtoAh)
                len = (std::size_t{ip[off + 1]} + 2) * 4;  // RFC 4302 2.2
            else
                len = (std::size_t{ip[off + 1]} + 1) * 8;
            if (len > ip.size() - off) [[unlikely]]
                return DropReason::ExtTruncated;
            const std::span<const std::uint8_t> h = ip.subspan(off, len);
            DropReason r = DropReason::None;
            if (nh == kProtoHopByHop || nh == kProtoDstOpts) {
                r = walk_options(h.subspan(2), out);
            } else if (nh == kProtoRouting) {
                if (h[2] == kRoutingTypeSrh) {
                    if (out.srh_off != 0) [[unlikely]]
                        return DropReason::SrhDuplicate;
                    out.srh_off = static_cast<std::uint16_t>(off);
                    r = walk_srh(h, out);
                } else if (h[3] != 0) [[unlikely]] {
                    // RFC 8200 4.4: an unrecognised type with segments left.
                    r = DropReason::RhUnsupported;
                }
            } else if (nh == kProtoFragment) {
                const std::uint16_t off_flags = load_be16(&h[2]);
                out.is_fragment = true;
                out.frag_id = load_be32(&h[4]);
                if ((off_flags & 0xFFF8) != 0) {
                    // Non-initial fragment: what follows is fragment data.
                    out.non_initial_fragment = true;
                    done = true;
                }
            }
            if (r != DropReason::None) [[unlikely]]
                return r;
            nh = h[0];
            off += len;
            break;
        }
        default:
            done = true;
            break;
        }
    }
    out.l4_proto = nh;
    out.l4_off = static_cast<std::uint16_t>(off);

    if (!out.non_initial_fragment) {
        if (nh == kProtoIcmpv6 && ip.size() > off)
            out.icmp6_type = ip[off];
        const std::size_t need = detail::l4_min_len(nh);
        if (need != 0) {
            if (ip.size() - off < need) [[unlikely]]
                return DropReason::L4Truncated;
            if (nh == kProtoEsp) {
                out.spi = load_be32(&ip[off]);
                out.has_spi = true;
            } else {
                set_ports(out, &ip[off]);
                out.has_ports = true;
            }
        }
    }

    detail::take_service_sid(cfg, out);
    return DropReason::None;
}

}  // namespace

// Both entry points start from a fresh PacketInfo: the code above
// accumulates into `out` (vlan_count, srh_off for SrhDuplicate, meta_source
// for precedence, has_ports, ...), so a PacketInfo reused across packets
// (e.g. one array per burst) would otherwise carry the previous packet's
// state into this one: a spurious VlanTooDeep or SrhDuplicate, or the last
// packet's CATS request winning the precedence check.
DropReason parse_ipv6(std::span<const std::uint8_t> pkt, const ParseConfig& cfg,
                      PacketInfo& out) noexcept {
    out = PacketInfo{};
    return parse_ipv6_fields(pkt, cfg, out);
}

DropReason parse_packet_general(std::span<const std::uint8_t> frame, const ParseConfig& cfg,
                                PacketInfo& out) noexcept {
    out = PacketInfo{};
    if (frame.size() < kEthHdrLen) [[unlikely]]
        return DropReason::EthTruncated;
    std::size_t off = 12;
    std::uint16_t type = load_be16(&frame[off]);
    while (type == kEtherTypeVlan || type == kEtherTypeQinQ) {
        if (out.vlan_count == 2) [[unlikely]]
            return DropReason::VlanTooDeep;
        if (frame.size() - off < 2 + kVlanHdrLen) [[unlikely]]
            return DropReason::EthTruncated;
        if (out.vlan_count == 0)
            out.vlan_tci = load_be16(&frame[off + 2]);
        ++out.vlan_count;
        off += kVlanHdrLen;
        type = load_be16(&frame[off]);
    }
    off += 2;
    if (type != kEtherTypeIpv6) [[unlikely]]
        return type == kEtherTypeIpv4 ? DropReason::Ipv4 : DropReason::NonIp;
    out.ip6_off = static_cast<std::uint16_t>(off);
    DropReason r = parse_ipv6_fields(frame.subspan(off), cfg, out);
    if (r == DropReason::None) {
        if (out.srh_off != 0)
            out.srh_off = static_cast<std::uint16_t>(out.srh_off + off);
        out.l4_off = static_cast<std::uint16_t>(out.l4_off + off);
    }
    return r;
}

}  // namespace cats::dp
