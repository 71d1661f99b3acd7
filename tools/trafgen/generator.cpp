// SPDX-License-Identifier: BSD-3-Clause
#include "generator.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

namespace cats::trafgen {

namespace {

using wire::store_be16;
using wire::store_be32;

// Stream ids of the seeded Rng: flows use 1 + flow id, the schedule and the
// filler these.
constexpr std::uint64_t kStreamSchedule = 0xC0FFEE00000000ULL;
constexpr std::uint64_t kStreamFiller = 0xF111E700000000ULL;
// Each flow starts at its own offset in the filler.
constexpr std::size_t kFillerSpread = 4096;

void put(std::vector<std::uint8_t>& v, std::initializer_list<std::uint8_t> b) { v.insert(v.end(), b); }
void put(std::vector<std::uint8_t>& v, std::span<const std::uint8_t> b) { v.insert(v.end(), b.begin(), b.end()); }

// Pad an option area (RFC 8200 4.2: Pad1 = 0, PadN = 1) or an SRH TLV area
// (RFC 8754 2.1.1: Pad1 = 0, PadN = 4) of `used` bytes to a multiple of 8.
void pad8(std::uint8_t* p, std::size_t used, std::uint8_t padn_type, std::size_t& len) noexcept {
    const std::size_t pad = (8 - used % 8) % 8;
    if (pad == 1) {
        p[0] = 0;
    } else if (pad >= 2) {
        p[0] = padn_type;
        p[1] = static_cast<std::uint8_t>(pad - 2);
        std::memset(p + 2, 0, pad - 2);
    }
    len = pad;
}

// Ethernet + IPv6 header; payload length and next header left to the caller.
std::size_t write_eth_ip6(std::uint8_t* p, const Profile& pr, const FlowSpec& f, const Ipv6Addr& dst,
                          std::uint8_t nh) noexcept {
    std::memcpy(p, pr.dst_mac.data(), 6);
    std::memcpy(p + 6, pr.src_mac.data(), 6);
    store_be16(p + 12, kEtherTypeIpv6);
    std::uint8_t* ip = p + kEthHdrLen;
    store_be32(ip, (6u << 28) | (f.flow_label & 0xFFFFF));
    store_be16(ip + 4, 0);
    ip[6] = nh;
    ip[7] = pr.hop_limit;
    std::memcpy(ip + 8, f.src.data(), 16);
    std::memcpy(ip + 24, dst.data(), 16);
    return kEthHdrLen + kIpv6HdrLen;
}

// An options header (HBH or DOH) holding one option of `type` with `body`.
std::size_t write_opt_hdr(std::uint8_t* p, std::uint8_t nh, std::uint8_t type,
                          std::span<const std::uint8_t> body) noexcept {
    p[0] = nh;
    p[2] = type;
    p[3] = static_cast<std::uint8_t>(body.size());
    std::memcpy(p + 4, body.data(), body.size());
    std::size_t pad = 0;
    pad8(p + 4 + body.size(), 4 + body.size(), wire::kOptPadN, pad);
    const std::size_t total = 4 + body.size() + pad;
    p[1] = static_cast<std::uint8_t>(total / 8 - 1);
    return total;
}

// An SRH (RFC 8754 2) with one segment, Segments Left 0, and one TLV of
// `type` with `body`, padded to a multiple of 8.
std::size_t write_srh(std::uint8_t* p, std::uint8_t nh, const Ipv6Addr& seg, std::uint8_t type,
                      std::span<const std::uint8_t> body) noexcept {
    p[0] = nh;
    p[2] = 4;  // routing type: SRH
    p[3] = 0;  // segments left
    p[4] = 0;  // last entry
    p[5] = 0;
    store_be16(p + 6, 0);
    std::memcpy(p + 8, seg.data(), 16);
    p[24] = type;
    p[25] = static_cast<std::uint8_t>(body.size());
    std::memcpy(p + 26, body.data(), body.size());
    std::size_t pad = 0;
    pad8(p + 26 + body.size(), 26 + body.size(), wire::kSrhTlvPadN, pad);
    const std::size_t total = 26 + body.size() + pad;
    p[1] = static_cast<std::uint8_t>(total / 8 - 1);
    return total;
}

std::uint8_t proto_of(Transport t) noexcept {
    switch (t) {
    case Transport::Tcp: return kProtoTcp;
    case Transport::Esp: return kProtoEsp;
    case Transport::Udp:
    case Transport::Count: break;
    }
    return kProtoUdp;
}

}  // namespace

Generator::Generator(const Profile& profile) : profile_(profile), sched_(profile.seed, kStreamSchedule) {
    run_id_ = static_cast<std::uint32_t>(Rng::mix(profile_.seed ^ 0x7472616667656E00ULL));
    // Payload bytes: one random buffer for the run, so that a flow costs its
    // headers only, however large the packets.
    filler_.resize(kMaxFrame + kFillerSpread);
    Rng fr(profile_.seed, kStreamFiller);
    for (std::uint8_t& b : filler_)
        b = static_cast<std::uint8_t>(fr.next());
    make_flows();
    rewind();
}

void Generator::make_flows() {
    const Profile& pr = profile_;
    std::vector<double> service_w;
    for (const ServiceSpec& s : pr.services)
        service_w.push_back(s.share);
    // Open affinity group per (set, service): index and members so far.
    std::map<std::pair<std::size_t, std::size_t>, std::pair<std::uint32_t, std::uint32_t>> open_groups;

    flows_.resize(pr.flows);
    for (std::uint32_t id = 0; id < pr.flows; ++id) {
        FlowSpec& f = flows_[id];
        Rng r(pr.seed, 1 + std::uint64_t{id});
        f.id = id;
        f.service = static_cast<std::uint16_t>(r.weighted(service_w));
        const ServiceSpec& svc = pr.services[f.service];

        std::vector<double> set_w;
        for (const RequirementSet& rs : pr.requirement_sets) {
            const bool applies =
                rs.services.empty() || std::find(rs.services.begin(), rs.services.end(), svc.cs_id) != rs.services.end();
            set_w.push_back(applies ? rs.share : 0.0);
        }
        f.set = static_cast<std::uint16_t>(r.weighted(set_w));
        const RequirementSet& rs = pr.requirement_sets[f.set];

        // A service SID carries no requirements (SPEC 1.4): flows that have
        // some use one of the other encodings.
        std::array<double, kEncodingCount> enc_w = pr.encodings;
        if (rs.has_requirements())
            enc_w[static_cast<std::size_t>(Encoding::ServiceSid)] = 0;
        f.encoding = static_cast<Encoding>(r.weighted(enc_w));
        f.transport = static_cast<Transport>(r.weighted(pr.transports));

        f.src = pr.src_prefix.addr;
        store_be32(f.src.data() + 12, id + 1);
        if (f.encoding == Encoding::ServiceSid) {
            f.dst = pr.service_sid_prefix->addr;
            store_be32(f.dst.data() + 12, svc.cs_id);
        } else {
            f.dst = pr.app_dst;
        }
        f.sport = static_cast<std::uint16_t>(r.between(1024, 65535));
        f.dport = f.transport == Transport::Tcp ? pr.tcp_dport : pr.udp_dport;
        f.spi = static_cast<std::uint32_t>(r.between(256, UINT32_MAX));  // 1..255 reserved, RFC 4303 2.1
        f.flow_label = static_cast<std::uint32_t>(r.between(1, 0xFFFFF));
        f.tcp_isn = static_cast<std::uint32_t>(r.next());

        f.meta.cs_id = svc.cs_id;
        f.meta.req = rs.req;
        f.meta.flags = rs.req.strict ? wire::kFlagStrict : 0;
        if (rs.affinity_group > 1) {
            auto& [index, members] = open_groups.try_emplace({f.set, f.service}, kNoGroup, 0).first->second;
            if (index == kNoGroup || members == rs.affinity_group) {
                index = groups_++;
                members = 0;
            }
            ++members;
            f.group = index;
            f.meta.has_affinity_key = true;
            f.meta.affinity_key = Rng::mix(pr.seed ^ (0xAFF1000000000000ULL + index));
        }
        f.body = wire::encode_body(f.meta);
        f.filler_off = static_cast<std::uint16_t>(r.below(kFillerSpread));
        make_template(f);
    }
}

void Generator::make_template(FlowSpec& f) {
    const Profile& pr = profile_;
    std::vector<std::uint8_t> v(kEthHdrLen + kIpv6HdrLen);
    const std::uint8_t l4 = proto_of(f.transport);
    std::uint8_t first_nh = l4;
    std::uint8_t ext[8 + 16 + 2 + 255 + 8] = {};
    std::size_t ext_len = 0;
    switch (f.encoding) {
    case Encoding::SrhTlv: {
        // The TLV bytes come from the shared codec (proto-defs/cats_wire.hpp).
        const std::vector<std::uint8_t> tlv = wire::encode_srh_tlv(f.meta);
        ext_len = write_srh(ext, l4, f.dst, tlv[0], std::span(tlv).subspan(2));
        first_nh = kProtoRouting;
        break;
    }
    case Encoding::DestOpt:
    case Encoding::HopByHop: {
        const std::vector<std::uint8_t> opt = wire::encode_option(f.meta);
        ext_len = write_opt_hdr(ext, l4, opt[0], std::span(opt).subspan(2));
        first_nh = f.encoding == Encoding::DestOpt ? kProtoDstOpts : kProtoHopByHop;
        break;
    }
    case Encoding::ServiceSid:
    case Encoding::Count:
        break;
    }
    write_eth_ip6(v.data(), pr, f, f.dst, first_nh);
    put(v, std::span<const std::uint8_t>(ext, ext_len));
    f.l4_off = static_cast<std::uint16_t>(v.size());
    switch (f.transport) {
    case Transport::Tcp:
        put(v, {static_cast<std::uint8_t>(f.sport >> 8), static_cast<std::uint8_t>(f.sport),
                static_cast<std::uint8_t>(f.dport >> 8), static_cast<std::uint8_t>(f.dport), 0, 0, 0, 0, 0, 0, 0,
                0, 5 << 4, 0, 0xFF, 0xFF, 0, 0, 0, 0});
        break;
    case Transport::Esp:
        put(v, {static_cast<std::uint8_t>(f.spi >> 24), static_cast<std::uint8_t>(f.spi >> 16),
                static_cast<std::uint8_t>(f.spi >> 8), static_cast<std::uint8_t>(f.spi), 0, 0, 0, 0});
        break;
    case Transport::Udp:
    case Transport::Count:
        put(v, {static_cast<std::uint8_t>(f.sport >> 8), static_cast<std::uint8_t>(f.sport),
                static_cast<std::uint8_t>(f.dport >> 8), static_cast<std::uint8_t>(f.dport), 0, 0, 0, 0});
        break;
    }
    f.tg_off = static_cast<std::uint16_t>(v.size());
    f.min_frame = static_cast<std::uint16_t>(v.size() + kTgHdrLen);
    f.bytes = std::move(v);
}

void Generator::rewind() noexcept {
    sched_ = Rng(profile_.seed, kStreamSchedule);
    order_.resize(flows_.size());
    tcp_next_.resize(flows_.size());
    for (std::size_t i = 0; i < flows_.size(); ++i)
        tcp_next_[i] = flows_[i].tcp_isn;
    round_ = 0;
    pos_ = 0;
    index_ = 0;
    bad_seq_.fill(0);
}

bool Generator::next(Slot& out) noexcept {
    const Profile& pr = profile_;
    if (round_ >= pr.packets_per_flow || flows_.empty())
        return false;
    out = Slot{};
    out.index = index_++;
    if (pr.malformed_share > 0 && sched_.unit() < pr.malformed_share) {
        out.bad = static_cast<BadKind>(sched_.weighted(pr.malformed_kinds));
        out.flow = static_cast<std::uint32_t>(sched_.below(flows_.size()));
        out.seq = bad_seq_[static_cast<std::size_t>(out.bad)]++;
        out.tg_flags = kTgFlagMalformed;
        return true;
    }
    if (pos_ == 0) {
        // A new round: every flow once, in a fresh random order (Fisher-Yates).
        for (std::uint32_t i = 0; i < order_.size(); ++i)
            order_[i] = i;
        for (std::size_t i = order_.size() - 1; i > 0; --i)
            std::swap(order_[i], order_[sched_.below(i + 1)]);
    }
    const FlowSpec& f = flows_[order_[pos_]];
    out.flow = f.id;
    out.seq = round_;
    std::uint16_t len = pr.size_min == pr.size_max ? pr.size_min
                                                   : static_cast<std::uint16_t>(sched_.between(pr.size_min, pr.size_max));
    out.frame_len = std::max(len, f.min_frame);
    const bool first = round_ == 0;
    const bool last = round_ + 1 == pr.packets_per_flow;
    out.tg_flags = static_cast<std::uint8_t>((first ? kTgFlagFirst : 0) | (last ? kTgFlagLast : 0));
    if (f.transport == Transport::Tcp) {
        // SYN opens, FIN closes (a one-packet flow is a lone SYN); SYN and
        // FIN each take one sequence number (RFC 9293 3.4). Every segment
        // carries data, the SYN included, so that each has a trafgen header.
        out.tcp_flags = first ? kTcpSyn : static_cast<std::uint8_t>(kTcpAck | (last ? kTcpFin : kTcpPsh));
        out.tcp_seq = tcp_next_[f.id];
        const std::uint32_t data = out.frame_len - f.l4_off - kTcpHdrLen;
        tcp_next_[f.id] += data + (first ? 1 : 0) + ((out.tcp_flags & kTcpFin) ? 1 : 0);
    }
    if (++pos_ == flows_.size()) {
        pos_ = 0;
        ++round_;
    }
    return true;
}

std::size_t Generator::build(const Slot& s, std::uint64_t tx_ns, std::span<std::uint8_t> buf) const noexcept {
    if (s.bad != BadKind::None)
        return build_malformed(s, tx_ns, buf);
    const FlowSpec& f = flows_[s.flow];
    // frame_len is at least min_frame and at most 9000 (profile limits).
    const std::size_t len = std::clamp<std::size_t>(s.frame_len, f.min_frame, std::min(buf.size(), kMaxFrame));
    std::uint8_t* p = buf.data();
    std::memcpy(p, f.bytes.data(), f.tg_off);
    std::memcpy(p + f.tg_off + kTgHdrLen, filler_.data() + f.filler_off, len - f.tg_off - kTgHdrLen);
    store_be16(p + kEthHdrLen + 4, static_cast<std::uint16_t>(len - kEthHdrLen - kIpv6HdrLen));
    write_tg_header(p + f.tg_off, TgHeader{.flags = s.tg_flags, .bad_kind = 0, .run_id = run_id_,
                                           .flow_id = f.id, .seq = s.seq, .tx_ns = tx_ns});
    std::uint8_t* l4 = p + f.l4_off;
    const std::span<const std::uint8_t> l4_span(l4, len - f.l4_off);
    switch (f.transport) {
    case Transport::Udp:
    case Transport::Count:
        store_be16(l4 + 4, static_cast<std::uint16_t>(l4_span.size()));
        store_be16(l4 + 6, 0);
        store_be16(l4 + 6, l4_checksum(f.src, f.dst, kProtoUdp, l4_span));
        break;
    case Transport::Tcp: {
        store_be32(l4 + 4, s.tcp_seq);
        // The peer's ISN is not known; ACK segments acknowledge 1.
        store_be32(l4 + 8, (s.tcp_flags & kTcpAck) ? 1 : 0);
        l4[13] = s.tcp_flags;
        store_be16(l4 + 16, 0);
        // A TCP checksum of 0 is sent as is (only UDP maps 0 to 0xFFFF), but
        // 0xFFFF and 0 are the same one's-complement value, so this is valid.
        store_be16(l4 + 16, l4_checksum(f.src, f.dst, kProtoTcp, l4_span));
        break;
    }
    case Transport::Esp:
        // ESP sequence numbers start at 1 (RFC 4303 3.3.3).
        store_be32(l4 + 4, static_cast<std::uint32_t>(s.seq + 1));
        break;
    }
    return len;
}

std::size_t Generator::build_malformed(const Slot& s, std::uint64_t tx_ns, std::span<std::uint8_t> buf) const noexcept {
    const Profile& pr = profile_;
    const FlowSpec& f = flows_[s.flow];
    std::uint8_t* p = buf.data();
    const Ipv6Addr& dst = pr.app_dst;
    std::size_t off = write_eth_ip6(p, pr, f, dst, kProtoUdp);
    std::uint8_t* ip = p + kEthHdrLen;
    auto ext = [&](std::uint8_t nh) {
        ip[6] = nh;
        return p + off;
    };

    // A CATS body broken as the kind says, in the flow's own carrier.
    std::uint8_t body[64];
    std::size_t body_len = std::min<std::size_t>(f.body.size(), 40);
    std::memcpy(body, f.body.data(), body_len);
    auto append = [&](std::initializer_list<std::uint8_t> b) {
        std::copy(b.begin(), b.end(), body + body_len);
        body_len += b.size();
    };
    bool cats = true;
    switch (s.bad) {
    case BadKind::CatsTruncated: body_len = 4; break;
    case BadKind::CatsBadVersion: body[0] = static_cast<std::uint8_t>(0x10 | (body[0] & 0x0F)); break;
    case BadKind::CatsSubTlvOverrun: append({1, 9, 0, 0, 0, 1}); break;
    case BadKind::CatsSubTlvBadLength: append({4, 2, 1, 1}); break;
    case BadKind::CatsBadValue: append({4, 1, 11}); break;
    default: cats = false; break;
    }

    if (cats) {
        const std::span<const std::uint8_t> b(body, body_len);
        if (f.encoding == Encoding::SrhTlv)
            off += write_srh(ext(kProtoRouting), kProtoUdp, dst, wire::kSrhTlvCats, b);
        else
            off += write_opt_hdr(ext(f.encoding == Encoding::HopByHop ? kProtoHopByHop : kProtoDstOpts), kProtoUdp,
                                 wire::kOptCats, b);
    } else {
        switch (s.bad) {
        case BadKind::Ipv6Truncated:
            // 20 of the 40 header bytes (on a wire shorter than 60 bytes
            // the NIC pads the frame: see README).
            return kEthHdrLen + 20;
        case BadKind::ExtTruncated: {
            // Hdr Ext Len 30: 248 bytes, far past the payload.
            std::uint8_t* h = ext(kProtoDstOpts);
            const std::uint8_t d[8] = {kProtoUdp, 30, wire::kOptPadN, 4, 0, 0, 0, 0};
            std::memcpy(h, d, 8);
            off += 8;
            break;
        }
        case BadKind::HbhNotFirst: {
            std::uint8_t* h = ext(kProtoDstOpts);
            const std::uint8_t d[16] = {kProtoHopByHop, 0, wire::kOptPadN, 4, 0, 0, 0, 0,
                                        kProtoUdp,      0, wire::kOptPadN, 4, 0, 0, 0, 0};
            std::memcpy(h, d, 16);
            off += 16;
            break;
        }
        case BadKind::OptOverrun: {
            // The CATS option claims 10 bytes; 4 remain in the header.
            std::uint8_t* h = ext(kProtoDstOpts);
            const std::uint8_t d[8] = {kProtoUdp, 0, wire::kOptCats, 10, 0, 0, 0, 0};
            std::memcpy(h, d, 8);
            off += 8;
            break;
        }
        case BadKind::SrhBadLastEntry:
        case BadKind::SrhBadSegmentsLeft:
        case BadKind::SrhTlvOverrun: {
            std::uint8_t* h = ext(kProtoRouting);
            std::memset(h, 0, 32);
            h[0] = kProtoUdp;
            h[1] = 2;  // 24 bytes: room for one segment
            h[2] = 4;
            std::memcpy(h + 8, dst.data(), 16);
            if (s.bad == BadKind::SrhBadLastEntry) {
                h[4] = 3;  // four segments in a header that holds one
            } else if (s.bad == BadKind::SrhBadSegmentsLeft) {
                h[3] = 5;  // Last Entry 0: at most 1
            } else {
                h[1] = 3;  // 32 bytes: a TLV area of 8
                h[24] = wire::kSrhTlvCats;
                h[25] = 20;  // 6 bytes remain
            }
            off += (h[1] + 1u) * 8;
            break;
        }
        case BadKind::L4Truncated: {
            std::uint8_t* u = p + off;
            store_be16(u, f.sport);
            store_be16(u + 2, pr.udp_dport);
            off += 4;
            store_be16(ip + 4, 4);
            return off;
        }
        default:
            break;
        }
    }

    // UDP + trafgen header.
    std::uint8_t* u = p + off;
    store_be16(u, f.sport);
    store_be16(u + 2, pr.udp_dport);
    store_be16(u + 4, static_cast<std::uint16_t>(kUdpHdrLen + kTgHdrLen));
    store_be16(u + 6, 0);
    write_tg_header(u + kUdpHdrLen, TgHeader{.flags = s.tg_flags, .bad_kind = static_cast<std::uint8_t>(s.bad),
                                             .run_id = run_id_, .flow_id = f.id, .seq = s.seq, .tx_ns = tx_ns});
    store_be16(u + 6, l4_checksum(f.src, dst, kProtoUdp, std::span<const std::uint8_t>(u, kUdpHdrLen + kTgHdrLen)));
    off += kUdpHdrLen + kTgHdrLen;
    std::uint16_t plen = static_cast<std::uint16_t>(off - kEthHdrLen - kIpv6HdrLen);
    if (s.bad == BadKind::Ipv6BadPayloadLen)
        plen = static_cast<std::uint16_t>(plen + 1000);
    store_be16(ip + 4, plen);
    if (s.bad == BadKind::Ipv6BadVersion)
        ip[0] = static_cast<std::uint8_t>(0x50 | (ip[0] & 0x0F));
    return off;
}

}  // namespace cats::trafgen
