// SPDX-License-Identifier: BSD-3-Clause
// The packet parser (dataplane/parse.hpp) on any bytes.
//
// Input: byte 0 picks the ParseConfig (below), the rest is the frame from
// its Ethernet header. Properties checked, beyond "no out-of-bounds read,
// no undefined behaviour":
//   - parse_packet() (one-pass parse_fast() with the general fallback) and
//     parse_packet_general() return the same DropReason and the same
//     PacketInfo, field for field (PacketInfo's operator==, as in
//     tests/unit/dataplane/test_parse.cpp); parse_packet() starts from a
//     PacketInfo full of another packet's fields, as a reused burst array is;
//   - whenever parse_fast() takes a packet, the general parser accepts it
//     with the same fields;
//   - a drop reason is one of the parser's own;
//   - an accepted packet's fields are consistent with the frame (offsets
//     inside it, SRH where srh_off says, service SID only when configured);
//   - parse_ipv6() on the same bytes from the IPv6 header agrees.
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "parse.hpp"

using namespace cats::dp;
namespace wire = cats::wire;

namespace {

// A PacketInfo with every field away from its default: what a reused
// PacketInfo holds from the packet before.
PacketInfo stale_info() {
    PacketInfo p;
    p.ip6_off = 22;
    p.ip6_len = 1234;
    p.vlan_tci = 0x0ABC;
    p.vlan_count = 2;
    p.hop_limit = 3;
    std::memset(p.src, 0x11, sizeof p.src);
    std::memset(p.dst, 0x22, sizeof p.dst);
    p.l4_proto = kProtoEsp;
    p.icmp6_type = 129;
    p.sport = 1;
    p.dport = 2;
    p.spi = 0xDEADBEEF;
    p.has_ports = true;
    p.has_spi = true;
    p.is_fragment = true;
    p.non_initial_fragment = true;
    p.frag_id = 77;
    p.srh_off = 62;
    p.segments_left = 9;
    p.meta_source = MetaSource::SrhTlv;
    p.meta.flags = wire::kFlagStrict;
    p.meta.cs_id = 4242;
    p.meta.req.max_latency_us = 5;
    p.meta.req.min_score = 7;
    p.meta.req.strict = true;
    p.meta.has_affinity_key = true;
    p.meta.affinity_key = 99;
    return p;
}

// Byte 0 & 3: 0 no service SID; 1 fc00:cafe::/96 (as the unit tests); 2 the
// all-zero /96 (so that ::x destinations match); 3 the /96 of this frame's
// own destination when untagged, so that the fuzzer reaches the SID path
// without guessing 12 bytes.
ParseConfig config_for(std::uint8_t sel, std::span<const std::uint8_t> frame) {
    ParseConfig c;
    switch (sel & 3) {
    case 0: break;
    case 1: {
        static constexpr std::uint8_t kCafe[12] = {0xfc, 0x00, 0xca, 0xfe};
        std::memcpy(c.sid_prefix, kCafe, sizeof c.sid_prefix);
        c.sid_enabled = true;
        break;
    }
    case 2: c.sid_enabled = true; break;
    case 3:
        if (frame.size() >= kEthHdrLen + kIpv6HdrLen)
            std::memcpy(c.sid_prefix, frame.data() + kEthHdrLen + 24, sizeof c.sid_prefix);
        c.sid_enabled = true;
        break;
    }
    return c;
}

bool ethernet_passed(DropReason r) {
    return r != DropReason::EthTruncated && r != DropReason::VlanTooDeep && r != DropReason::Ipv4 &&
           r != DropReason::NonIp;
}

// What an accepted packet's fields must say about its frame.
void check_accepted(std::span<const std::uint8_t> f, const ParseConfig& cfg, const PacketInfo& i) {
    FUZZ_CHECK(i.vlan_count <= 2);
    FUZZ_CHECK(i.ip6_off == kEthHdrLen + kVlanHdrLen * std::size_t{i.vlan_count});
    FUZZ_CHECK(i.ip6_len >= kIpv6HdrLen);
    FUZZ_CHECK(i.ip6_off + std::size_t{i.ip6_len} <= f.size());
    const std::uint8_t* ip = f.data() + i.ip6_off;
    FUZZ_CHECK(wire::load_be16(ip + 4) + kIpv6HdrLen == i.ip6_len);
    FUZZ_CHECK(i.hop_limit == ip[7]);
    FUZZ_CHECK(std::memcmp(i.src, ip + 8, 16) == 0);
    FUZZ_CHECK(std::memcmp(i.dst, ip + 24, 16) == 0);
    if (i.vlan_count == 0)
        FUZZ_CHECK(i.vlan_tci == 0);
    if (i.srh_off != 0) {
        FUZZ_CHECK(i.srh_off >= i.ip6_off + kIpv6HdrLen);
        FUZZ_CHECK(i.srh_off + 24u <= i.ip6_off + std::size_t{i.ip6_len});
        FUZZ_CHECK(f[i.srh_off + 2] == kRoutingTypeSrh);
        FUZZ_CHECK(i.segments_left == f[i.srh_off + 3]);
    } else {
        FUZZ_CHECK(i.segments_left == 0);
        FUZZ_CHECK(i.meta_source != MetaSource::SrhTlv);
    }
    FUZZ_CHECK(!(i.has_ports && i.has_spi));
    FUZZ_CHECK(!i.non_initial_fragment || (i.is_fragment && !i.has_ports && !i.has_spi && i.icmp6_type == 0));
    if (!i.is_fragment)
        FUZZ_CHECK(i.frag_id == 0);
    if (i.has_ports)
        FUZZ_CHECK(i.l4_proto == kProtoTcp || i.l4_proto == kProtoUdp || i.l4_proto == kProtoSctp);
    else
        FUZZ_CHECK(i.sport == 0 && i.dport == 0);
    if (i.has_spi)
        FUZZ_CHECK(i.l4_proto == kProtoEsp);
    else
        FUZZ_CHECK(i.spi == 0);
    if (i.icmp6_type != 0)
        FUZZ_CHECK(i.l4_proto == kProtoIcmpv6);
    switch (i.meta_source) {
    case MetaSource::None: FUZZ_CHECK(i.meta == wire::CatsMetadata{}); break;
    case MetaSource::ServiceSid:
        FUZZ_CHECK(cfg.sid_enabled && std::memcmp(i.dst, cfg.sid_prefix, sizeof cfg.sid_prefix) == 0);
        FUZZ_CHECK(i.meta.cs_id == wire::load_be32(i.dst + 12));
        break;
    case MetaSource::Option:
    case MetaSource::SrhTlv:
        FUZZ_CHECK(i.meta.version == wire::kVersion);
        FUZZ_CHECK(i.meta.req.strict == ((i.meta.flags & wire::kFlagStrict) != 0));
        FUZZ_CHECK(i.meta.req.min_score <= wire::kMaxScore);
        FUZZ_CHECK((i.meta.req.compute_type & ~wire::kComputeAll) == 0);
        break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    // The frame ends where the input ends: a read past it is an ASan report.
    const std::span<const std::uint8_t> frame(data + 1, size - 1);
    const ParseConfig cfg = config_for(data[0], frame);

    PacketInfo general;
    const DropReason rg = parse_packet_general(frame, cfg, general);
    FUZZ_CHECK(rg < DropReason::UnknownService);  // a parser reason (EthTruncated..L4Truncated) or None

    PacketInfo info = stale_info();
    const DropReason r = parse_packet(frame, cfg, info);
    FUZZ_CHECK(r == rg);
    FUZZ_CHECK(info == general);

    PacketInfo fast = stale_info();
    if (detail::parse_fast(frame, cfg, fast)) {
        FUZZ_CHECK(rg == DropReason::None);
        FUZZ_CHECK(fast == general);
    }

    // The adapter hands the parser one mbuf segment, at most 65535 bytes; a
    // longer span is outside the contract (ip6_len is 16 bits).
    if (rg == DropReason::None && frame.size() <= UINT16_MAX)
        check_accepted(frame, cfg, general);

    // From the IPv6 header: the same verdict, the same fields but the
    // Ethernet ones and offsets relative to the IPv6 header.
    if (ethernet_passed(rg)) {
        PacketInfo l3 = stale_info();
        const DropReason r3 = parse_ipv6(frame.subspan(general.ip6_off), cfg, l3);
        FUZZ_CHECK(r3 == rg);
        if (r3 == DropReason::None) {
            FUZZ_CHECK(l3.ip6_off == 0 && l3.vlan_count == 0 && l3.vlan_tci == 0);
            l3.ip6_off = general.ip6_off;
            l3.vlan_count = general.vlan_count;
            l3.vlan_tci = general.vlan_tci;
            if (l3.srh_off != 0)
                l3.srh_off = static_cast<std::uint16_t>(l3.srh_off + general.ip6_off);
            l3.l4_off = static_cast<std::uint16_t>(l3.l4_off + general.ip6_off);
            FUZZ_CHECK(l3 == general);
        }
    }
    return 0;
}
