// SPDX-License-Identifier: BSD-3-Clause
// The pure packet parser (dataplane/parse.hpp) on real bytes built with
// tests/unit/packet_builder.hpp: one test per drop reason, every success
// path, the reported offsets, and a seeded mutation test that must never read
// out of bounds (run it in the ASan/UBSan build).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "packet_builder.hpp"
#include "parse.hpp"

using namespace cats::dp;
using namespace cats::test;
namespace wire = cats::wire;

namespace Catch {
template <>
struct StringMaker<DropReason> {
    static std::string convert(DropReason r) { return std::string{drop_reason_name(r)}; }
};
template <>
struct StringMaker<MetaSource> {
    static std::string convert(MetaSource s) {
        switch (s) {
        case MetaSource::None: return "None";
        case MetaSource::ServiceSid: return "ServiceSid";
        case MetaSource::Option: return "Option";
        case MetaSource::SrhTlv: return "SrhTlv";
        }
        return "?";
    }
};
}  // namespace Catch

namespace {

const Ipv6Addr kSrc = ip6("2001:db8:1::1");
const Ipv6Addr kDst = ip6("2001:db8:2::2");
const Ipv6Addr kSeg0 = ip6("fc00:2::100");  // final segment
const Ipv6Addr kSeg1 = ip6("fc00:1::100");
// In the service-SID /96 fc00:cafe::/96: asks for CS-ID 0xDEADBEEF.
const Ipv6Addr kSid = ip6("fc00:cafe::dead:beef");

ParseConfig sid_config() {
    ParseConfig c;
    const Ipv6Addr p = ip6("fc00:cafe::");
    std::memcpy(c.sid_prefix, p.data(), sizeof c.sid_prefix);
    c.sid_enabled = true;
    return c;
}

wire::CatsMetadata meta(std::uint32_t cs_id) {
    wire::CatsMetadata md;
    md.cs_id = cs_id;
    md.req.max_latency_us = 250;
    md.req.compute_type = wire::kComputeGpu;
    md.req.min_score = 6;
    md.req.strict = true;
    md.flags = wire::kFlagStrict;
    md.has_affinity_key = true;
    md.affinity_key = 0x1122334455667788ULL;
    return md;
}

// A CATS body with its own Type/Length: `type` is 124 or 0x1E.
Bytes cats_raw(std::uint8_t type, const Bytes& body) { return tlv(type, body); }
const Bytes kBodyBadVersion = {0x10, 0, 0, 0, 0, 0, 0, 1};
const Bytes kBodyTruncated = {0x00, 0, 0, 0, 0, 0};
const Bytes kBodyOverrun = {0x00, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x04, 0, 0};
const Bytes kBodyBadLength = {0x00, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x02, 0, 0};
const Bytes kBodyBadValue = {0x00, 0, 0, 0, 0, 0, 0, 1, 0x04, 0x01, 11};

struct Parsed {
    DropReason reason;
    PacketInfo info;
};

// Copy into a heap buffer of exactly the packet's size, so that ASan flags any
// read past the span (a std::vector's spare capacity would hide it).
std::unique_ptr<std::uint8_t[]> exact_copy(const Bytes& b) {
    auto buf = std::make_unique<std::uint8_t[]>(b.size());
    std::copy(b.begin(), b.end(), buf.get());
    return buf;
}

Parsed parse(const Bytes& frame, const ParseConfig& cfg = sid_config()) {
    const auto buf = exact_copy(frame);
    Parsed p{};
    p.reason = parse_packet({buf.get(), frame.size()}, cfg, p.info);
    return p;
}

Parsed parse_general(const Bytes& frame, const ParseConfig& cfg = sid_config()) {
    const auto buf = exact_copy(frame);
    Parsed p{};
    p.reason = parse_packet_general({buf.get(), frame.size()}, cfg, p.info);
    return p;
}

Parsed parse_l3(const Bytes& pkt, const ParseConfig& cfg = sid_config()) {
    const auto buf = exact_copy(pkt);
    Parsed p{};
    p.reason = parse_ipv6({buf.get(), pkt.size()}, cfg, p.info);
    return p;
}

DropReason reason(const Bytes& frame) { return parse(frame).reason; }

// Ethernet + IPv6 from kSrc to `dst`.
PacketBuilder eth_ip6(const Ipv6Addr& dst = kDst) {
    PacketBuilder b;
    b.eth().ipv6({.src = kSrc, .dst = dst});
    return b;
}

// Ethernet + IPv6 + SRH of two segments (Segments Left 1, DA = kSeg1) with
// `tlvs`.
PacketBuilder eth_ip6_srh(std::vector<Bytes> tlvs = {}) {
    PacketBuilder b = eth_ip6(kSeg1);
    b.srh({.segments = {kSeg0, kSeg1}, .tlvs = std::move(tlvs)});
    return b;
}

const UdpSpec kUdp{.sport = 40000, .dport = 443};

// The reasons parse_packet()/parse_ipv6() may return.
const std::set<DropReason> kParserReasons = {
    DropReason::EthTruncated,       DropReason::VlanTooDeep,         DropReason::Ipv4,
    DropReason::NonIp,              DropReason::Ipv6Truncated,       DropReason::Ipv6BadVersion,
    DropReason::Ipv6BadPayloadLen,  DropReason::ExtTruncated,        DropReason::ExtChainTooLong,
    DropReason::HbhNotFirst,        DropReason::OptOverrun,          DropReason::RhUnsupported,
    DropReason::SrhBadLength,       DropReason::SrhBadLastEntry,     DropReason::SrhBadSegmentsLeft,
    DropReason::SrhTlvOverrun,      DropReason::SrhDuplicate,        DropReason::CatsTruncated,
    DropReason::CatsBadVersion,     DropReason::CatsSubTlvOverrun,   DropReason::CatsSubTlvBadLength,
    DropReason::CatsBadValue,       DropReason::L4Truncated,
};

}  // namespace

// ---------------------------------------------------------------------------
// Builder sanity: the bytes the other tests rely on.
// ---------------------------------------------------------------------------

TEST_CASE("packet builder writes the headers byte for byte", "[parse][builder]") {
    const Bytes p = PacketBuilder{}
                        .eth({.vlans = {{.tci = 0x0064}}})
                        .ipv6({.src = kSrc, .dst = kSeg1, .hop_limit = 7, .flow_label = 0xABCDE})
                        .srh({.segments = {kSeg0, kSeg1}, .tag = 0x0102})
                        .udp(kUdp)
                        .payload({1, 2, 3, 4})
                        .build();
    REQUIRE(p.size() == 18 + 40 + 40 + 8 + 4);
    CHECK(p[12] == 0x81);  // TPID
    CHECK(p[13] == 0x00);
    CHECK(p[14] == 0x00);  // TCI 100
    CHECK(p[15] == 0x64);
    CHECK(p[16] == 0x86);  // inner EtherType
    CHECK(p[17] == 0xDD);
    const std::size_t ip = 18;
    CHECK(p[ip + 0] == 0x60);  // version 6, TC 0
    CHECK(p[ip + 1] == 0x0A);  // flow label 0xABCDE
    CHECK(p[ip + 2] == 0xBC);
    CHECK(p[ip + 3] == 0xDE);
    CHECK(wire::load_be16(&p[ip + 4]) == 40 + 8 + 4);  // payload length
    CHECK(p[ip + 6] == 43);                             // next: routing
    CHECK(p[ip + 7] == 7);
    const std::size_t srh = ip + 40;
    CHECK(p[srh + 0] == 17);  // next: UDP
    CHECK(p[srh + 1] == 4);   // (40 / 8) - 1
    CHECK(p[srh + 2] == 4);   // routing type SRH
    CHECK(p[srh + 3] == 1);   // segments left
    CHECK(p[srh + 4] == 1);   // last entry
    CHECK(wire::load_be16(&p[srh + 6]) == 0x0102);
    CHECK(std::equal(kSeg0.begin(), kSeg0.end(), p.begin() + srh + 8));
    const std::size_t udp = srh + 40;
    CHECK(wire::load_be16(&p[udp + 4]) == 12);  // UDP length
    // The checksum verifies against the final destination (Segment List[0]).
    CHECK(PacketBuilder::checksum(p, udp, p.size(), kSrc, kSeg0, 17) == 0);
}

TEST_CASE("packet builder nests IPv6 in IPv6 (H.Encaps shape)", "[parse][builder]") {
    const Ipv6Addr outer_src = ip6("2001:db8:ff::1");
    std::size_t inner = 0;
    const Bytes p = PacketBuilder{}
                        .eth()
                        .ipv6({.src = outer_src, .dst = kSeg1})
                        .srh({.segments = {kSeg0, kSeg1}, .tlvs = {cats_tlv(meta(1))}})
                        .mark(inner)
                        .ipv6({.src = kSrc, .dst = kDst, .hop_limit = 9})
                        .udp(kUdp)
                        .payload(Bytes(5, 0x42))
                        .build();
    const std::size_t inner_len = 40 + 8 + 5;
    REQUIRE(p.size() == inner + inner_len);
    CHECK(p[14 + 6] == 43);                                          // outer next: SRH
    CHECK(wire::load_be16(&p[14 + 4]) == p.size() - 14 - 40);        // outer payload length
    CHECK(p[14 + 40] == 41);                                         // SRH next: IPv6
    CHECK(wire::load_be16(&p[inner + 4]) == inner_len - 40);         // inner payload length
    CHECK(p[inner + 6] == 17);
    // The inner UDP checksum uses the inner addresses, not the SRH's.
    CHECK(PacketBuilder::checksum(p, inner + 40, p.size(), kSrc, kDst, 17) == 0);
}

TEST_CASE("packet builder checksums verify", "[parse][builder]") {
    SECTION("TCP") {
        const Bytes p = eth_ip6().tcp({.sport = 5, .dport = 6}).payload({1, 2, 3}).build();
        CHECK(PacketBuilder::checksum(p, 54, p.size(), kSrc, kDst, 6) == 0);
        CHECK(wire::load_be16(&p[54 + 16]) != 0);
    }
    SECTION("ICMPv6") {
        const Bytes p = eth_ip6().icmpv6({.rest = 0x00010002}).payload({9}).build();
        CHECK(PacketBuilder::checksum(p, 54, p.size(), kSrc, kDst, 58) == 0);
    }
    SECTION("override") {
        const Bytes p = eth_ip6().udp({.sport = 1, .dport = 2, .checksum = 0}).build();
        CHECK(wire::load_be16(&p[54 + 6]) == 0);
    }
}

TEST_CASE("packet builder pads options and SRH TLVs to 8 octets", "[parse][builder]") {
    SECTION("options: one byte short needs Pad1") {
        // 2 + 5 = 7 bytes of header: one Pad1.
        const Bytes p = PacketBuilder{}.hbh({.options = {tlv(0x3E, {1, 2, 3})}}).build();
        CHECK(p == Bytes{59, 0, 0x3E, 3, 1, 2, 3, 0x00});
    }
    SECTION("options: PadN") {
        const Bytes p = PacketBuilder{}.dst_opts({.options = {tlv(0x3E, {1})}}).build();
        CHECK(p == Bytes{59, 0, 0x3E, 1, 1, 0x01, 1, 0});
    }
    SECTION("SRH TLVs: PadN type 4") {
        const Bytes p = PacketBuilder{}.srh({.segments = {kSeg0}, .tlvs = {tlv(0x80, {9})}}).build();
        REQUIRE(p.size() == 32);
        CHECK(p[1] == 3);
        CHECK(Bytes(p.begin() + 24, p.end()) == Bytes{0x80, 1, 9, 0x04, 3, 0, 0, 0});
    }
}

// ---------------------------------------------------------------------------
// One test per drop reason.
// ---------------------------------------------------------------------------

TEST_CASE("eth_truncated", "[parse]") {
    const Bytes good = eth_ip6().udp(kUdp).build();
    SECTION("shorter than the Ethernet header") {
        CHECK(reason(Bytes(good.begin(), good.begin() + 13)) == DropReason::EthTruncated);
        CHECK(reason({}) == DropReason::EthTruncated);
    }
    SECTION("802.1Q tag cut short") {
        const Bytes tagged = PacketBuilder{}.eth({.vlans = {{.tci = 5}}}).build();
        REQUIRE(tagged.size() == 18);
        for (std::size_t n = 14; n < 18; ++n) {
            CAPTURE(n);
            CHECK(reason(Bytes(tagged.begin(), tagged.begin() + n)) == DropReason::EthTruncated);
        }
    }
}

TEST_CASE("vlan_too_deep", "[parse]") {
    const Bytes p = PacketBuilder{}
                        .eth({.vlans = {{.tpid = 0x88A8, .tci = 1}, {.tci = 2}, {.tci = 3}}})
                        .ipv6({.src = kSrc, .dst = kDst})
                        .udp(kUdp)
                        .build();
    CHECK(reason(p) == DropReason::VlanTooDeep);
}

TEST_CASE("ipv4", "[parse]") {
    const Bytes v4 = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    CHECK(reason(PacketBuilder{}.eth({.ether_type = 0x0800}).payload(v4).build()) == DropReason::Ipv4);
    CHECK(reason(PacketBuilder{}.eth({.vlans = {{.tci = 9}}, .ether_type = 0x0800}).payload(v4).build()) ==
          DropReason::Ipv4);
}

TEST_CASE("non_ip", "[parse]") {
    const Bytes arp(28, 0);
    CHECK(reason(PacketBuilder{}.eth({.ether_type = 0x0806}).payload(arp).build()) == DropReason::NonIp);
    CHECK(reason(PacketBuilder{}.eth({.ether_type = 0x88CC}).build()) == DropReason::NonIp);
    CHECK(reason(PacketBuilder{}.eth({.vlans = {{.tci = 9}}, .ether_type = 0x0806}).payload(arp).build()) ==
          DropReason::NonIp);
}

TEST_CASE("ipv6_truncated", "[parse]") {
    const Bytes good = eth_ip6().build();
    REQUIRE(good.size() == 54);
    for (std::size_t n : {14u, 15u, 30u, 53u}) {
        CAPTURE(n);
        CHECK(reason(Bytes(good.begin(), good.begin() + n)) == DropReason::Ipv6Truncated);
    }
    CHECK(parse_l3(Bytes(39, 0x60)).reason == DropReason::Ipv6Truncated);
}

TEST_CASE("ipv6_bad_version", "[parse]") {
    for (std::uint8_t v : {0, 4, 7, 15}) {
        CAPTURE(int{v});
        const Bytes p = PacketBuilder{}
                            .eth()
                            .ipv6({.src = kSrc, .dst = kDst, .version = v})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::Ipv6BadVersion);
    }
}

TEST_CASE("ipv6_bad_payload_len", "[parse]") {
    SECTION("longer than the frame") {
        const Bytes p = PacketBuilder{}
                            .eth()
                            .ipv6({.src = kSrc, .dst = kDst, .payload_length = 9})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::Ipv6BadPayloadLen);
    }
    SECTION("frame truncated after the IPv6 header") {
        Bytes p = eth_ip6().udp(kUdp).payload(Bytes(100, 7)).build();
        p.resize(p.size() - 1);
        CHECK(reason(p) == DropReason::Ipv6BadPayloadLen);
    }
    SECTION("zero: a jumbogram (RFC 2675) is not carried") {
        const Bytes p = PacketBuilder{}
                            .eth()
                            .ipv6({.src = kSrc, .dst = kDst, .payload_length = 0})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::Ipv6BadPayloadLen);
    }
    SECTION("0xFFFF") {
        const Bytes p = PacketBuilder{}
                            .eth()
                            .ipv6({.src = kSrc, .dst = kDst, .payload_length = 0xFFFF})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::Ipv6BadPayloadLen);
    }
}

TEST_CASE("ext_truncated", "[parse]") {
    SECTION("fewer than 8 bytes left for an extension header") {
        // Next Header = HBH but only 4 bytes of payload.
        const Bytes p = PacketBuilder{}
                            .eth()
                            .ipv6({.src = kSrc, .dst = kDst})
                            .raw(0, {59, 0, 1, 0})
                            .build();
        CHECK(reason(p) == DropReason::ExtTruncated);
    }
    SECTION("Hdr Ext Len runs past the payload") {
        const Bytes p = eth_ip6().dst_opts({.hdr_ext_len = 1}).build();
        CHECK(reason(p) == DropReason::ExtTruncated);
    }
    SECTION("SRH Hdr Ext Len runs past the payload") {
        const Bytes p = eth_ip6_srh().build();
        Bytes q = eth_ip6(kSeg1).srh({.segments = {kSeg0, kSeg1}, .hdr_ext_len = 5}).build();
        CHECK(reason(p) == DropReason::None);
        CHECK(reason(q) == DropReason::ExtTruncated);
    }
    SECTION("AH Payload Len runs past the payload") {
        const Bytes p = eth_ip6().ah({.payload_len = 7}).build();
        CHECK(reason(p) == DropReason::ExtTruncated);
    }
    SECTION("fragment header cut short") {
        const Bytes p = eth_ip6().raw(44, {17, 0, 0, 0}).build();
        CHECK(reason(p) == DropReason::ExtTruncated);
    }
    SECTION("second header of the chain") {
        const Bytes p = eth_ip6().hbh().raw(60, {59, 0, 1, 4, 0, 0}).build();
        CHECK(reason(p) == DropReason::ExtTruncated);
    }
}

TEST_CASE("ext_chain_too_long", "[parse]") {
    PacketBuilder b = eth_ip6();
    for (std::size_t i = 0; i < kMaxExtHeaders; ++i)
        b.dst_opts();
    PacketBuilder at_limit = b;
    at_limit.udp(kUdp);
    CHECK(reason(at_limit.build()) == DropReason::None);
    b.dst_opts().udp(kUdp);
    CHECK(reason(b.build()) == DropReason::ExtChainTooLong);
}

TEST_CASE("hbh_not_first", "[parse]") {
    CHECK(reason(eth_ip6().dst_opts().hbh().udp(kUdp).build()) == DropReason::HbhNotFirst);
    CHECK(reason(eth_ip6().hbh().hbh().udp(kUdp).build()) == DropReason::HbhNotFirst);
    CHECK(reason(eth_ip6_srh().hbh().udp(kUdp).build()) == DropReason::HbhNotFirst);
}

TEST_CASE("opt_overrun", "[parse]") {
    SECTION("option length past the header") {
        // 8-byte HBH: 6 bytes of options, the option claims 10.
        const Bytes p = eth_ip6().hbh({.options = {{0x3E, 10, 0, 0, 0, 0}}, .pad = false}).build();
        CHECK(reason(p) == DropReason::OptOverrun);
    }
    SECTION("CATS option length past the header") {
        Bytes opt = cats_option(meta(1));
        opt[1] = static_cast<std::uint8_t>(opt[1] + 8);
        const Bytes p = eth_ip6().dst_opts({.options = {opt}}).build();
        CHECK(reason(p) == DropReason::OptOverrun);
    }
    SECTION("lone option type byte at the end") {
        // PadN(5 total) then a non-Pad1 type with no length byte.
        const Bytes p = eth_ip6().dst_opts({.options = {opt_padn(5), {0x3E}}, .pad = false}).build();
        CHECK(reason(p) == DropReason::OptOverrun);
    }
    SECTION("PadN overrun") {
        const Bytes p = eth_ip6().hbh({.options = {{0x01, 5}}}).build();
        CHECK(reason(p) == DropReason::OptOverrun);
    }
    SECTION("a broken header counts as such even after a bad CATS option") {
        // The options are walked to the end before the CATS body error is
        // reported.
        const Bytes p = eth_ip6().dst_opts({.options = {cats_raw(0x1E, kBodyBadValue), {0x3E, 40}}}).build();
        CHECK(reason(p) == DropReason::OptOverrun);
    }
    SECTION("in a Destination Options header after the SRH") {
        const Bytes p = eth_ip6_srh().dst_opts({.options = {{0x3E, 7, 0, 0, 0, 0}}, .pad = false}).build();
        CHECK(reason(p) == DropReason::OptOverrun);
    }
}

TEST_CASE("rh_unsupported", "[parse]") {
    // RFC 8200 4.4: unrecognised Routing Type with Segments Left != 0.
    CHECK(reason(eth_ip6().routing({.routing_type = 0, .segments_left = 1, .data = Bytes(20, 0)}).build()) ==
          DropReason::RhUnsupported);
    CHECK(reason(eth_ip6().routing({.routing_type = 3, .segments_left = 2}).udp(kUdp).build()) ==
          DropReason::RhUnsupported);
    CHECK(reason(eth_ip6().routing({.routing_type = 253, .segments_left = 255}).build()) ==
          DropReason::RhUnsupported);
}

TEST_CASE("srh_bad_length", "[parse]") {
    SECTION("Hdr Ext Len 0: no room for a segment") {
        const Bytes p = eth_ip6().srh({.segments = {}, .segments_left = 0, .last_entry = 0}).udp(kUdp).build();
        REQUIRE(p[14 + 40 + 1] == 0);
        CHECK(reason(p) == DropReason::SrhBadLength);
    }
    SECTION("Hdr Ext Len 1: 16 bytes") {
        const Bytes p = eth_ip6()
                            .srh({.segments = {}, .segments_left = 0, .last_entry = 0,
                                  .tlvs = {Bytes(8, 0)}})
                            .udp(kUdp)
                            .build();
        REQUIRE(p[14 + 40 + 1] == 1);
        CHECK(reason(p) == DropReason::SrhBadLength);
    }
}

TEST_CASE("srh_bad_last_entry", "[parse]") {
    SECTION("Last Entry one past the list") {
        const Bytes p = eth_ip6(kSeg1).srh({.segments = {kSeg0, kSeg1}, .last_entry = 2}).udp(kUdp).build();
        CHECK(reason(p) == DropReason::SrhBadLastEntry);
    }
    SECTION("Last Entry 255") {
        const Bytes p = eth_ip6(kSeg1).srh({.segments = {kSeg0, kSeg1}, .last_entry = 255}).build();
        CHECK(reason(p) == DropReason::SrhBadLastEntry);
    }
    SECTION("TLV bytes do not count as a segment") {
        // One segment and 24 bytes of TLVs: a 48-byte SRH, while Last Entry 2
        // needs 8 + 3 * 16 = 56.
        const Bytes p = eth_ip6(kSeg0)
                            .srh({.segments = {kSeg0}, .segments_left = 0, .last_entry = 2,
                                  .tlvs = {srh_padn(24)}})
                            .build();
        CHECK(reason(p) == DropReason::SrhBadLastEntry);
    }
    SECTION("checked even when Segments Left is 0 (as seg6_validate_srh)") {
        const Bytes p = eth_ip6(kSeg0).srh({.segments = {kSeg0}, .segments_left = 0, .last_entry = 1}).build();
        CHECK(reason(p) == DropReason::SrhBadLastEntry);
    }
}

TEST_CASE("srh_bad_segments_left", "[parse]") {
    // RFC 8754 4.3.1.1: Segments Left > Last Entry + 1.
    CHECK(reason(eth_ip6().srh({.segments = {kSeg0, kSeg1}, .segments_left = 3}).udp(kUdp).build()) ==
          DropReason::SrhBadSegmentsLeft);
    CHECK(reason(eth_ip6().srh({.segments = {kSeg0}, .segments_left = 255}).build()) ==
          DropReason::SrhBadSegmentsLeft);
    // Last Entry + 1 is the reduced-SRH case and is fine.
    const Parsed ok = parse(eth_ip6().srh({.segments = {kSeg0, kSeg1}, .segments_left = 2}).udp(kUdp).build());
    CHECK(ok.reason == DropReason::None);
    CHECK(ok.info.segments_left == 2);
}

TEST_CASE("srh_tlv_overrun", "[parse]") {
    SECTION("TLV length past the SRH") {
        const Bytes p = eth_ip6(kSeg0)
                            .srh({.segments = {kSeg0}, .tlvs = {{0x80, 16, 0, 0, 0, 0, 0, 0}}, .pad = false})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::SrhTlvOverrun);
    }
    SECTION("lone TLV type byte at the end") {
        const Bytes p = eth_ip6(kSeg0)
                            .srh({.segments = {kSeg0}, .tlvs = {srh_padn(7), {0x81}}, .pad = false})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::SrhTlvOverrun);
    }
    SECTION("CATS TLV length past the SRH") {
        Bytes t = cats_tlv(meta(1));
        t[1] = static_cast<std::uint8_t>(t[1] + 16);
        const Bytes p = eth_ip6_srh({t}).udp(kUdp).build();
        CHECK(reason(p) == DropReason::SrhTlvOverrun);
    }
    SECTION("a broken SRH counts as such even after a bad CATS TLV") {
        // seg6_validate_srh() order: the TLV walk completes before the CATS
        // body is judged.
        const Bytes p = eth_ip6_srh({cats_raw(124, kBodyBadValue), {0x80, 40}}).udp(kUdp).build();
        CHECK(reason(p) == DropReason::SrhTlvOverrun);
    }
    SECTION("PadN past the SRH") {
        const Bytes p = eth_ip6(kSeg0).srh({.segments = {kSeg0}, .tlvs = {{0x04, 7}}}).build();
        CHECK(reason(p) == DropReason::SrhTlvOverrun);
    }
}

TEST_CASE("srh_duplicate", "[parse]") {
    const Bytes p = eth_ip6_srh().srh({.segments = {kSeg0}, .segments_left = 0}).udp(kUdp).build();
    CHECK(reason(p) == DropReason::SrhDuplicate);
}

TEST_CASE("cats errors drop wherever the CATS body is", "[parse]") {
    struct Case {
        const Bytes* body;
        DropReason want;
    };
    const Case cases[] = {
        {&kBodyTruncated, DropReason::CatsTruncated},
        {&kBodyBadVersion, DropReason::CatsBadVersion},
        {&kBodyOverrun, DropReason::CatsSubTlvOverrun},
        {&kBodyBadLength, DropReason::CatsSubTlvBadLength},
        {&kBodyBadValue, DropReason::CatsBadValue},
    };
    for (const Case& c : cases) {
        CAPTURE(c.want);
        const Bytes opt = cats_raw(wire::kOptCats, *c.body);
        const Bytes srh_tlv = cats_raw(wire::kSrhTlvCats, *c.body);
        CHECK(reason(eth_ip6_srh({srh_tlv}).udp(kUdp).build()) == c.want);
        CHECK(reason(eth_ip6().hbh({.options = {opt}}).udp(kUdp).build()) == c.want);
        CHECK(reason(eth_ip6().dst_opts({.options = {opt}}).udp(kUdp).build()) == c.want);
        CHECK(reason(eth_ip6_srh().dst_opts({.options = {opt}}).udp(kUdp).build()) == c.want);
        // Even when a valid request of higher precedence is present.
        CHECK(reason(eth_ip6_srh({cats_tlv(meta(1))}).dst_opts({.options = {opt}}).udp(kUdp).build()) ==
              c.want);
    }
}

TEST_CASE("cats_truncated", "[parse]") {
    CHECK(reason(eth_ip6_srh({cats_raw(124, {})}).udp(kUdp).build()) == DropReason::CatsTruncated);
    CHECK(reason(eth_ip6().hbh({.options = {cats_raw(0x1E, {0, 0, 0, 0, 0, 0, 0})}}).build()) ==
          DropReason::CatsTruncated);
}

TEST_CASE("cats_bad_version", "[parse]") {
    wire::CatsMetadata md = meta(5);
    md.version = 15;
    CHECK(reason(eth_ip6_srh({cats_tlv(md)}).udp(kUdp).build()) == DropReason::CatsBadVersion);
    md.version = 1;
    CHECK(reason(eth_ip6().hbh({.options = {cats_option(md)}}).udp(kUdp).build()) ==
          DropReason::CatsBadVersion);
}

TEST_CASE("cats_subtlv_overrun", "[parse]") {
    // Sub-TLV header cut: a lone type byte at the end of the body.
    const Bytes lone_type = {0, 0, 0, 0, 0, 0, 0, 1, 0x06};
    CHECK(reason(eth_ip6_srh({cats_raw(124, lone_type)}).build()) == DropReason::CatsSubTlvOverrun);
    // Sub-TLV value cut.
    CHECK(reason(eth_ip6().dst_opts({.options = {cats_raw(0x1E, kBodyOverrun)}}).build()) ==
          DropReason::CatsSubTlvOverrun);
}

TEST_CASE("cats_subtlv_bad_length", "[parse]") {
    // AFFINITY_KEY with 4 bytes instead of 8.
    const Bytes body = {0, 0, 0, 0, 0, 0, 0, 1, 0x05, 0x04, 1, 2, 3, 4};
    CHECK(reason(eth_ip6_srh({cats_raw(124, body)}).build()) == DropReason::CatsSubTlvBadLength);
    CHECK(reason(eth_ip6().hbh({.options = {cats_raw(0x1E, body)}}).build()) ==
          DropReason::CatsSubTlvBadLength);
}

TEST_CASE("cats_bad_value", "[parse]") {
    wire::CatsMetadata md = meta(5);
    md.req.compute_type = 0x10;
    CHECK(reason(eth_ip6_srh({cats_tlv(md)}).build()) == DropReason::CatsBadValue);
    md = meta(5);
    md.req.min_score = 11;
    CHECK(reason(eth_ip6().dst_opts({.options = {cats_option(md)}}).build()) == DropReason::CatsBadValue);
}

TEST_CASE("l4_truncated", "[parse]") {
    SECTION("UDP shorter than 8") {
        CHECK(reason(eth_ip6().raw(17, Bytes(7, 0)).build()) == DropReason::L4Truncated);
    }
    SECTION("TCP shorter than 20") {
        CHECK(reason(eth_ip6().raw(6, Bytes(19, 0)).build()) == DropReason::L4Truncated);
    }
    SECTION("ESP shorter than SPI + sequence") {
        CHECK(reason(eth_ip6().raw(50, Bytes(7, 0)).build()) == DropReason::L4Truncated);
    }
    SECTION("SCTP shorter than 12") {
        CHECK(reason(eth_ip6().raw(132, Bytes(11, 0)).build()) == DropReason::L4Truncated);
    }
    SECTION("no L4 byte at all after the SRH") {
        CHECK(reason(eth_ip6().srh({.segments = {kSeg0}, .next_header = 17}).build()) ==
              DropReason::L4Truncated);
    }
    SECTION("initial fragment without its UDP header") {
        CHECK(reason(eth_ip6().frag({.more = true, .next_header = 17}).build()) == DropReason::L4Truncated);
    }
    SECTION("UDP header cut by the payload length, rest in the frame") {
        // The bytes past Payload Length are Ethernet padding, not UDP.
        const Bytes p = PacketBuilder{}
                            .eth()
                            .ipv6({.src = kSrc, .dst = kDst, .payload_length = 4})
                            .udp(kUdp)
                            .build();
        CHECK(reason(p) == DropReason::L4Truncated);
    }
}

// ---------------------------------------------------------------------------
// Success paths.
// ---------------------------------------------------------------------------

TEST_CASE("plain UDP", "[parse]") {
    const Bytes p = PacketBuilder{}
                        .eth()
                        .ipv6({.src = kSrc, .dst = kDst, .hop_limit = 33})
                        .udp(kUdp)
                        .payload(Bytes(10, 0xAA))
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.ip6_off == 14);
    CHECK(info.ip6_len == 40 + 8 + 10);
    CHECK(info.vlan_count == 0);
    CHECK(info.hop_limit == 33);
    CHECK(std::equal(kSrc.begin(), kSrc.end(), info.src));
    CHECK(std::equal(kDst.begin(), kDst.end(), info.dst));
    CHECK(info.l4_proto == 17);
    CHECK(info.has_ports);
    CHECK(info.sport == 40000);
    CHECK(info.dport == 443);
    CHECK_FALSE(info.has_spi);
    CHECK_FALSE(info.is_fragment);
    CHECK(info.srh_off == 0);
    CHECK(info.segments_left == 0);
    CHECK(info.meta_source == MetaSource::None);
}

TEST_CASE("plain TCP", "[parse]") {
    const auto [r, info] = parse(eth_ip6().tcp({.sport = 1234, .dport = 80}).build());
    REQUIRE(r == DropReason::None);
    CHECK(info.l4_proto == 6);
    CHECK(info.has_ports);
    CHECK(info.sport == 1234);
    CHECK(info.dport == 80);
}

TEST_CASE("SCTP ports", "[parse]") {
    const Bytes sctp = {0x0B, 0xB8, 0x0F, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0};
    const auto [r, info] = parse(eth_ip6().raw(132, sctp).build());
    REQUIRE(r == DropReason::None);
    CHECK(info.l4_proto == 132);
    CHECK(info.has_ports);
    CHECK(info.sport == 3000);
    CHECK(info.dport == 4000);
}

TEST_CASE("ESP gives the SPI", "[parse]") {
    const auto [r, info] = parse(eth_ip6().esp({.spi = 0xC0FFEE01, .seq = 1}).payload(Bytes(32, 0x5A)).build());
    REQUIRE(r == DropReason::None);
    CHECK(info.l4_proto == 50);
    CHECK(info.has_spi);
    CHECK(info.spi == 0xC0FFEE01);
    CHECK_FALSE(info.has_ports);
}

TEST_CASE("ESP after an SRH", "[parse]") {
    const auto [r, info] = parse(eth_ip6_srh().esp({.spi = 7}).build());
    REQUIRE(r == DropReason::None);
    CHECK(info.has_spi);
    CHECK(info.spi == 7);
}

TEST_CASE("ICMPv6 and other upper layers have no ports", "[parse]") {
    SECTION("ICMPv6") {
        const auto [r, info] = parse(eth_ip6().icmpv6().payload({0, 1}).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.l4_proto == 58);
        CHECK_FALSE(info.has_ports);
        CHECK_FALSE(info.has_spi);
    }
    SECTION("No Next Header") {
        const auto [r, info] = parse(eth_ip6().hbh().build());
        REQUIRE(r == DropReason::None);
        CHECK(info.l4_proto == 59);
        CHECK_FALSE(info.has_ports);
    }
    SECTION("GRE") {
        const auto [r, info] = parse(eth_ip6().raw(47, {0, 0, 0x86, 0xDD}).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.l4_proto == 47);
        CHECK_FALSE(info.has_ports);
    }
    SECTION("IPv6 in IPv6: the inner packet is not parsed") {
        const Bytes p = eth_ip6_srh()
                            .ipv6({.src = kDst, .dst = kSrc})
                            .dst_opts({.options = {{0x3E, 99}}, .pad = false})  // broken, unseen
                            .build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.l4_proto == 41);
    }
}

TEST_CASE("802.1Q tag", "[parse]") {
    const Bytes p = PacketBuilder{}
                        .eth({.vlans = {{.tci = 0x2064}}})
                        .ipv6({.src = kSrc, .dst = kDst})
                        .udp(kUdp)
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.vlan_count == 1);
    CHECK(info.vlan_tci == 0x2064);
    CHECK(info.ip6_off == 18);
    CHECK(info.dport == 443);
}

TEST_CASE("QinQ: 802.1ad outer tag, 802.1Q inner", "[parse]") {
    const Bytes p = PacketBuilder{}
                        .eth({.vlans = {{.tpid = 0x88A8, .tci = 300}, {.tci = 400}}})
                        .ipv6({.src = kSrc, .dst = kSeg1})
                        .srh({.segments = {kSeg0, kSeg1}})
                        .udp(kUdp)
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.vlan_count == 2);
    CHECK(info.vlan_tci == 300);  // the outer tag
    CHECK(info.ip6_off == 22);
    CHECK(info.srh_off == 22 + 40);
    CHECK(info.has_ports);
}

TEST_CASE("CATS option in a Hop-by-Hop header", "[parse]") {
    const wire::CatsMetadata md = meta(0x01020304);
    const auto [r, info] = parse(eth_ip6().hbh({.options = {cats_option(md)}}).udp(kUdp).build());
    REQUIRE(r == DropReason::None);
    CHECK(info.meta_source == MetaSource::Option);
    CHECK(info.meta == md);
    CHECK(info.meta.req.strict);
    CHECK(info.has_ports);
}

TEST_CASE("CATS option among Pad1, PadN and unknown options", "[parse]") {
    const wire::CatsMetadata md = meta(77);
    const Bytes p = eth_ip6()
                        .hbh({.options = {opt_pad1(), opt_padn(3), tlv(0x3E, {1, 2}), tlv(0x3E, {0, 0, 0, 0}),
                                          cats_option(md), opt_pad1()}})
                        .udp(kUdp)
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.meta_source == MetaSource::Option);
    CHECK(info.meta == md);
}

TEST_CASE("CATS option in a Destination Options header before the SRH", "[parse]") {
    const wire::CatsMetadata md = meta(0xAABBCCDD);
    std::size_t srh_at = 0;
    const Bytes p = eth_ip6(kSeg1)
                        .dst_opts({.options = {cats_option(md)}})
                        .mark(srh_at)
                        .srh({.segments = {kSeg0, kSeg1}})
                        .udp(kUdp)
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.meta_source == MetaSource::Option);
    CHECK(info.meta == md);
    // 2 + 33-byte option padded to 40.
    CHECK(srh_at == 14 + 40 + 40);
    CHECK(info.srh_off == srh_at);
    CHECK(info.segments_left == 1);
}

TEST_CASE("CATS option in a Destination Options header after the SRH", "[parse]") {
    const wire::CatsMetadata md = meta(0x0BADCAFE);
    const Bytes p = eth_ip6_srh().dst_opts({.options = {opt_pad1(), cats_option(md)}}).udp(kUdp).build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.meta_source == MetaSource::Option);
    CHECK(info.meta == md);
    CHECK(info.srh_off == 14 + 40);
    CHECK(info.dport == 443);
}

TEST_CASE("CATS TLV in the SRH with Pad1 and PadN around it", "[parse]") {
    const wire::CatsMetadata md = meta(0x12345678);
    const Bytes p = eth_ip6_srh({srh_pad1(), srh_padn(3), cats_tlv(md), srh_pad1(), srh_padn(2)})
                        .udp(kUdp)
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.meta_source == MetaSource::SrhTlv);
    CHECK(info.meta == md);
    CHECK(info.srh_off == 14 + 40);
    CHECK(info.segments_left == 1);
    CHECK(info.has_ports);
}

TEST_CASE("unknown and HMAC SRH TLVs are skipped", "[parse]") {
    const wire::CatsMetadata md = meta(3);
    const Bytes p = eth_ip6_srh({tlv(0x80, {1, 2, 3}), tlv(wire::kSrhTlvHmac, Bytes(38, 0)), cats_tlv(md)})
                        .udp(kUdp)
                        .build();
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.meta_source == MetaSource::SrhTlv);
    CHECK(info.meta.cs_id == 3);
}

TEST_CASE("service SID: destination in the /96 gives the CS-ID", "[parse]") {
    SECTION("matched") {
        const auto [r, info] = parse(eth_ip6(kSid).udp(kUdp).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::ServiceSid);
        CHECK(info.meta.cs_id == 0xDEADBEEF);
        CHECK(info.meta.req == wire::Requirements{});
        CHECK_FALSE(info.meta.has_affinity_key);
    }
    SECTION("low 32 bits all zero") {
        const auto [r, info] = parse(eth_ip6(ip6("fc00:cafe::")).udp(kUdp).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::ServiceSid);
        CHECK(info.meta.cs_id == 0);
    }
    SECTION("outside the prefix by one bit of byte 11") {
        const auto [r, info] = parse(eth_ip6(ip6("fc00:cafe::1:dead:beef")).udp(kUdp).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::None);
    }
    SECTION("disabled") {
        const auto [r, info] = parse(eth_ip6(kSid).udp(kUdp).build(), ParseConfig{});
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::None);
    }
    SECTION("the active segment of an SRH") {
        const auto [r, info] = parse(eth_ip6(kSid).srh({.segments = {kSeg0, kSid}}).udp(kUdp).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::ServiceSid);
        CHECK(info.meta.cs_id == 0xDEADBEEF);
    }
}

TEST_CASE("precedence: SRH TLV > option > service SID", "[parse]") {
    const wire::CatsMetadata tlv_md = meta(1);
    const wire::CatsMetadata hbh_md = meta(2);
    const wire::CatsMetadata doh_md = meta(3);
    SECTION("SRH TLV beats options before and after it and the SID") {
        const Bytes p = eth_ip6(kSid)
                            .hbh({.options = {cats_option(hbh_md)}})
                            .dst_opts({.options = {cats_option(doh_md)}})
                            .srh({.segments = {kSeg0, kSid}, .tlvs = {cats_tlv(tlv_md)}})
                            .dst_opts({.options = {cats_option(meta(4))}})
                            .udp(kUdp)
                            .build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::SrhTlv);
        CHECK(info.meta == tlv_md);
    }
    SECTION("option beats the SID") {
        const auto [r, info] = parse(eth_ip6(kSid).hbh({.options = {cats_option(hbh_md)}}).udp(kUdp).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::Option);
        CHECK(info.meta == hbh_md);
    }
    SECTION("option after an SRH without a CATS TLV beats the SID") {
        const Bytes p = eth_ip6(kSid)
                            .srh({.segments = {kSeg0, kSid}})
                            .dst_opts({.options = {cats_option(doh_md)}})
                            .udp(kUdp)
                            .build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::Option);
        CHECK(info.meta == doh_md);
    }
    SECTION("SRH TLV beats the SID") {
        const auto [r, info] =
            parse(eth_ip6(kSid).srh({.segments = {kSeg0, kSid}, .tlvs = {cats_tlv(tlv_md)}}).udp(kUdp).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.meta_source == MetaSource::SrhTlv);
        CHECK(info.meta == tlv_md);
    }
    SECTION("two options of equal precedence: the first one seen is kept") {
        const Bytes p = eth_ip6()
                            .hbh({.options = {cats_option(hbh_md)}})
                            .dst_opts({.options = {cats_option(doh_md)}})
                            .udp(kUdp)
                            .build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.meta == hbh_md);
    }
}

TEST_CASE("fragments", "[parse]") {
    SECTION("initial fragment: L4 is read") {
        const Bytes p = eth_ip6().frag({.offset = 0, .more = true, .id = 0xABCD0123}).udp(kUdp).build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.is_fragment);
        CHECK_FALSE(info.non_initial_fragment);
        CHECK(info.frag_id == 0xABCD0123);
        CHECK(info.has_ports);
        CHECK(info.dport == 443);
    }
    SECTION("atomic fragment (offset 0, M 0)") {
        const auto [r, info] = parse(eth_ip6().frag({.id = 5}).tcp({.sport = 1, .dport = 2}).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.is_fragment);
        CHECK_FALSE(info.non_initial_fragment);
        CHECK(info.dport == 2);
    }
    SECTION("non-initial fragment: no L4 header, even if too short for one") {
        const Bytes p = eth_ip6(kSid).frag({.offset = 185, .more = true, .id = 42}).raw(17, {0xFF}).build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.is_fragment);
        CHECK(info.non_initial_fragment);
        CHECK(info.frag_id == 42);
        CHECK(info.l4_proto == 17);
        CHECK_FALSE(info.has_ports);
        // The service SID still applies: it comes from the IPv6 header.
        CHECK(info.meta_source == MetaSource::ServiceSid);
    }
    SECTION("non-initial last fragment: what follows is data, not headers") {
        // Fragment data that would be a broken SRH if it were parsed.
        const Bytes p = eth_ip6().frag({.offset = 1, .id = 9}).raw(43, {0, 200, 4, 9, 0xFF}).build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.non_initial_fragment);
        CHECK(info.l4_proto == 43);
        CHECK(info.srh_off == 0);
    }
    SECTION("after an SRH") {
        const auto [r, info] = parse(eth_ip6_srh({cats_tlv(meta(8))}).frag({.offset = 3}).raw(6, {1}).build());
        REQUIRE(r == DropReason::None);
        CHECK(info.non_initial_fragment);
        CHECK(info.meta_source == MetaSource::SrhTlv);
        CHECK(info.meta.cs_id == 8);
    }
}

TEST_CASE("AH is skipped", "[parse]") {
    const auto [r, info] = parse(eth_ip6().ah({.spi = 0x1234, .seq = 1}).udp(kUdp).build());
    REQUIRE(r == DropReason::None);
    CHECK(info.l4_proto == 17);
    CHECK(info.has_ports);
    CHECK(info.dport == 443);
    CHECK_FALSE(info.has_spi);  // the AH SPI is not an ESP SPI
}

TEST_CASE("unknown routing type with Segments Left 0 passes", "[parse]") {
    for (std::uint8_t type : {0, 2, 3, 253}) {
        CAPTURE(int{type});
        const auto [r, info] =
            parse(eth_ip6().routing({.routing_type = type, .segments_left = 0, .data = Bytes(20, 0xEE)})
                      .udp(kUdp)
                      .build());
        REQUIRE(r == DropReason::None);
        CHECK(info.srh_off == 0);
        CHECK(info.segments_left == 0);
        CHECK(info.has_ports);
    }
}

TEST_CASE("Ethernet trailer padding is ignored", "[parse]") {
    // A 40 + 8 byte IPv6 packet padded with garbage that would be an
    // overrunning option if the parser looked at it.
    const Bytes p = eth_ip6().hbh().trailer({0x3E, 0xFF, 0x3E, 0xFF, 0, 0, 0, 0, 0, 0}).build();
    REQUIRE(p.size() == 14 + 48 + 10);
    const auto [r, info] = parse(p);
    REQUIRE(r == DropReason::None);
    CHECK(info.ip6_len == 48);
    CHECK(info.l4_proto == 59);

    // UDP with Ethernet minimum-size padding.
    const Bytes q = eth_ip6().udp(kUdp).trailer(Bytes(6, 0)).build();
    const auto [r2, info2] = parse(q);
    REQUIRE(r2 == DropReason::None);
    CHECK(info2.ip6_len == 48);
    CHECK(info2.dport == 443);
}

TEST_CASE("offsets: ip6_off, srh_off, segments_left", "[parse]") {
    const Bytes l3 = PacketBuilder{}
                         .ipv6({.src = kSrc, .dst = kSeg1})
                         .hbh()
                         .srh({.segments = {kSeg0, kSeg1, kSid}, .segments_left = 1, .tlvs = {cats_tlv(meta(6))}})
                         .udp(kUdp)
                         .build();
    SECTION("parse_ipv6: relative to the IPv6 header") {
        const auto [r, info] = parse_l3(l3);
        REQUIRE(r == DropReason::None);
        CHECK(info.ip6_off == 0);
        CHECK(info.srh_off == 40 + 8);
        CHECK(info.segments_left == 1);
        CHECK(info.ip6_len == l3.size());
        CHECK(l3[info.srh_off + 2] == 4);
    }
    SECTION("parse_packet: relative to the frame") {
        Bytes frame = PacketBuilder{}.eth({.vlans = {{.tci = 1}}, .ether_type = 0x86DD}).build();
        frame.insert(frame.end(), l3.begin(), l3.end());
        const auto [r, info] = parse(frame);
        REQUIRE(r == DropReason::None);
        CHECK(info.ip6_off == 18);
        CHECK(info.srh_off == 18 + 40 + 8);
        CHECK(frame[info.srh_off + 2] == 4);
        CHECK(frame[info.srh_off + 3] == 1);
        CHECK(info.segments_left == 1);
        CHECK(info.meta.cs_id == 6);
    }
    SECTION("mark() agrees") {
        std::size_t ip = 0;
        std::size_t srh = 0;
        const Bytes p = PacketBuilder{}
                            .eth({.vlans = {{.tpid = 0x88A8}, {}}})
                            .mark(ip)
                            .ipv6({.src = kSrc, .dst = kSeg0})
                            .dst_opts({.options = {Bytes(20, 0)}})
                            .mark(srh)
                            .srh({.segments = {kSeg0}, .segments_left = 0})
                            .build();
        const auto [r, info] = parse(p);
        REQUIRE(r == DropReason::None);
        CHECK(info.ip6_off == ip);
        CHECK(info.srh_off == srh);
        CHECK(info.segments_left == 0);
    }
}

TEST_CASE("a PacketInfo reused across packets starts fresh", "[parse]") {
    const Bytes qinq_srh = PacketBuilder{}
                               .eth({.vlans = {{.tpid = 0x88A8, .tci = 1}, {.tci = 2}}})
                               .ipv6({.src = kSrc, .dst = kSeg1})
                               .srh({.segments = {kSeg0, kSeg1}, .tlvs = {cats_tlv(meta(11))}})
                               .esp({.spi = 1})
                               .build();
    const Bytes plain = eth_ip6().hbh({.options = {cats_option(meta(22))}}).udp(kUdp).build();
    const auto a = exact_copy(qinq_srh);
    const auto b = exact_copy(plain);
    const ParseConfig cfg = sid_config();
    PacketInfo info;
    REQUIRE(parse_packet({a.get(), qinq_srh.size()}, cfg, info) == DropReason::None);
    // The same packet again: no VlanTooDeep, no SrhDuplicate.
    REQUIRE(parse_packet({a.get(), qinq_srh.size()}, cfg, info) == DropReason::None);
    CHECK(info.vlan_count == 2);
    // Then a different one: nothing of the previous packet remains.
    REQUIRE(parse_packet({b.get(), plain.size()}, cfg, info) == DropReason::None);
    CHECK(info.vlan_count == 0);
    CHECK(info.srh_off == 0);
    CHECK_FALSE(info.has_spi);
    CHECK(info.meta_source == MetaSource::Option);
    CHECK(info.meta.cs_id == 22);
    // And from the IPv6 header.
    REQUIRE(parse_ipv6({a.get() + 22, qinq_srh.size() - 22}, cfg, info) == DropReason::None);
    REQUIRE(parse_ipv6({a.get() + 22, qinq_srh.size() - 22}, cfg, info) == DropReason::None);
    CHECK(info.vlan_count == 0);
    CHECK(info.srh_off == 40);
    CHECK(info.meta.cs_id == 11);
}

// ---------------------------------------------------------------------------
// Robustness: mutate and truncate valid packets; the parser must stay inside
// the span (ASan build) and answer None or a named parser reason.
// ---------------------------------------------------------------------------

TEST_CASE("mutated and truncated packets never read out of bounds", "[parse][robust]") {
    struct Seed {
        Bytes frame;
        std::size_t ip6_off;
    };
    const wire::CatsMetadata md = meta(0x01020304);
    std::vector<Seed> corpus;
    auto add = [&corpus](const Bytes& f, std::size_t ip6_off) { corpus.push_back({f, ip6_off}); };
    add(eth_ip6().udp(kUdp).payload(Bytes(8, 1)).build(), 14);
    add(eth_ip6().tcp({.sport = 1, .dport = 2}).build(), 14);
    add(eth_ip6().esp({.spi = 3}).payload(Bytes(8, 2)).build(), 14);
    add(eth_ip6(kSid).icmpv6().build(), 14);
    add(PacketBuilder{}.eth({.vlans = {{.tci = 1}}}).ipv6({.src = kSrc, .dst = kDst}).udp(kUdp).build(), 18);
    add(PacketBuilder{}
            .eth({.vlans = {{.tpid = 0x88A8, .tci = 1}, {.tci = 2}}})
            .ipv6({.src = kSrc, .dst = kSeg1})
            .srh({.segments = {kSeg0, kSeg1}, .tlvs = {cats_tlv(md)}})
            .udp(kUdp)
            .build(),
        22);
    add(eth_ip6().hbh({.options = {opt_pad1(), cats_option(md)}}).udp(kUdp).build(), 14);
    add(eth_ip6(kSeg1)
            .hbh({.options = {cats_option(md)}})
            .dst_opts({.options = {cats_option(md)}})
            .srh({.segments = {kSeg0, kSeg1}, .tlvs = {srh_pad1(), cats_tlv(md), srh_padn(3)}})
            .dst_opts({.options = {opt_padn(4), cats_option(md)}})
            .frag({.more = true, .id = 1})
            .ah()
            .udp(kUdp)
            .build(),
        14);
    add(eth_ip6().frag({.offset = 10, .id = 2}).raw(17, Bytes(16, 3)).build(), 14);
    add(eth_ip6().routing({.routing_type = 3, .segments_left = 0}).udp(kUdp).build(), 14);
    add(eth_ip6().raw(132, Bytes(12, 4)).build(), 14);
    // The chains parse_packet() takes in one pass.
    add(eth_ip6(kSeg1).srh({.segments = {kSeg0, kSeg1}, .tlvs = {cats_tlv(md)}}).udp(kUdp).build(), 14);
    add(eth_ip6(kSeg1).srh({.segments = {kSeg1}, .tlvs = {cats_tlv(md), srh_padn(3)}}).tcp({}).build(), 14);
    add(eth_ip6().dst_opts({.options = {cats_option(md)}}).udp(kUdp).build(), 14);
    add(eth_ip6().dst_opts({.options = {cats_option(md), opt_padn(4)}}).tcp({}).build(), 14);
    add(eth_ip6(kSeg1).srh({.segments = {kSeg0, kSeg1}}).udp(kUdp).build(), 14);
    add(eth_ip6(kSid).udp(kUdp).build(), 14);
    {
        PacketBuilder b = eth_ip6();
        for (std::size_t i = 0; i < kMaxExtHeaders; ++i)
            b.dst_opts({.options = {tlv(0x3E, {1, 2, 3})}});
        add(b.udp(kUdp).build(), 14);
    }
    for (const Seed& s : corpus)
        REQUIRE(parse(s.frame).reason == DropReason::None);

    // Bytes that steer the parser into its interesting branches.
    const std::uint8_t interesting[] = {0x00, 0x01, 0x04, 0x06, 0x08, 0x11, 0x1E, 0x2B, 0x2C, 0x32,
                                        0x33, 0x3A, 0x3B, 0x3C, 0x60, 0x7C, 0x81, 0x86, 0x88, 0xA8,
                                        0xDD, 0xFF};
    std::mt19937 rng(0xCA75);
    auto rnd = [&rng](std::size_t n) { return n == 0 ? std::size_t{0} : std::size_t{rng()} % n; };

    constexpr int kIterations = 30000;
    std::set<DropReason> seen;
    int bad = 0;
    for (int it = 0; it < kIterations && bad == 0; ++it) {
        const Seed& seed = corpus[rnd(corpus.size())];
        Bytes p = seed.frame;
        const std::size_t n_mut = 1 + rnd(4);
        for (std::size_t m = 0; m < n_mut; ++m) {
            switch (rnd(7)) {
            case 0:
                if (!p.empty())
                    p[rnd(p.size())] = static_cast<std::uint8_t>(rng());
                break;
            case 1:
                if (!p.empty())
                    p[rnd(p.size())] = interesting[rnd(sizeof interesting)];
                break;
            case 2:
                if (!p.empty())
                    p[rnd(p.size())] ^= static_cast<std::uint8_t>(1u << rnd(8));
                break;
            case 3:
                p.resize(rnd(p.size() + 1));
                break;
            case 4: {
                const std::size_t n = rnd(24);
                for (std::size_t k = 0; k < n; ++k)
                    p.push_back(static_cast<std::uint8_t>(rng()));
                break;
            }
            case 5: {  // insert bytes in the middle
                const std::size_t at = rnd(p.size() + 1);
                p.insert(p.begin() + static_cast<std::ptrdiff_t>(at), 1 + rnd(9),
                         interesting[rnd(sizeof interesting)]);
                break;
            }
            case 6: {  // cut bytes out of the middle
                if (p.empty())
                    break;
                const std::size_t at = rnd(p.size());
                const std::size_t n = std::min(p.size() - at, 1 + rnd(9));
                p.erase(p.begin() + static_cast<std::ptrdiff_t>(at),
                        p.begin() + static_cast<std::ptrdiff_t>(at + n));
                break;
            }
            }
        }
        // Half of the time make Payload Length agree with the frame, so that
        // the mutations reach the extension headers instead of stopping at
        // ipv6_bad_payload_len.
        if (rnd(2) == 0 && p.size() >= seed.ip6_off + kIpv6HdrLen) {
            const std::size_t pl = std::min<std::size_t>(p.size() - seed.ip6_off - kIpv6HdrLen, 0xFFFF);
            p[seed.ip6_off + 4] = static_cast<std::uint8_t>(pl >> 8);
            p[seed.ip6_off + 5] = static_cast<std::uint8_t>(pl);
        }

        const Parsed got = parse(p);
        seen.insert(got.reason);
        // The one-pass parser and the general one agree on every packet.
        const Parsed general = parse_general(p);
        if (got.reason != general.reason || (got.reason == DropReason::None && !(got.info == general.info))) {
            ++bad;
            INFO("iteration " << it << ": parse_packet " << drop_reason_name(got.reason)
                              << ", general parser " << drop_reason_name(general.reason));
            CHECK(got.reason == general.reason);
            CHECK((got.info == general.info));
        }
        const bool named = got.reason == DropReason::None || kParserReasons.count(got.reason) == 1;
        bool consistent = true;
        if (got.reason == DropReason::None) {
            const PacketInfo& i = got.info;
            consistent = i.ip6_off + std::size_t{i.ip6_len} <= p.size() && i.ip6_len >= kIpv6HdrLen &&
                         (i.srh_off == 0 || (i.srh_off >= i.ip6_off + kIpv6HdrLen &&
                                             i.srh_off + 24u <= i.ip6_off + std::size_t{i.ip6_len})) &&
                         (i.meta_source != MetaSource::SrhTlv || i.srh_off != 0) &&
                         !(i.has_ports && i.has_spi) &&
                         (!i.non_initial_fragment || (i.is_fragment && !i.has_ports && !i.has_spi));
        }
        // The same bytes from the IPv6 header.
        const std::size_t l3_at = std::min(p.size(), seed.ip6_off);
        const Parsed l3 = parse_l3(Bytes(p.begin() + static_cast<std::ptrdiff_t>(l3_at), p.end()));
        const bool l3_named = l3.reason == DropReason::None || kParserReasons.count(l3.reason) == 1;
        if (!named || !consistent || !l3_named) {
            ++bad;
            INFO("iteration " << it << ", reason " << drop_reason_name(got.reason) << ", size " << p.size());
            CHECK(named);
            CHECK(consistent);
            CHECK(l3_named);
        }
    }
    CHECK(bad == 0);
    // The mutations reached deep into the parser: most reasons were hit.
    INFO("distinct results: " << seen.size());
    CHECK(seen.count(DropReason::None) == 1);
    CHECK(seen.size() >= 18);
}

TEST_CASE("icmp6_type: the ICMPv6 type wherever the header is, 0 when there is none", "[parse]") {
    // Right after IPv6, after a Destination Options header, in a first fragment.
    CHECK(parse(eth_ip6().icmpv6({.type = 128}).build()).info.icmp6_type == 128);
    CHECK(parse(eth_ip6().dst_opts().icmpv6({.type = 1}).build()).info.icmp6_type == 1);
    const Parsed first = parse(eth_ip6().frag({.more = true}).icmpv6({.type = 2}).build());
    CHECK(first.info.l4_proto == kProtoIcmpv6);
    CHECK(first.info.icmp6_type == 2);
    // Not in a later fragment: what follows is not the header.
    const Parsed later =
        parse(eth_ip6().frag({.offset = 8, .next_header = kProtoIcmpv6}).payload(Bytes(16, 0x81)).build());
    CHECK(later.reason == DropReason::None);
    CHECK(later.info.icmp6_type == 0);
    // Nothing after the headers, or no ICMPv6 at all.
    CHECK(parse(eth_ip6().dst_opts().raw(kProtoIcmpv6, {}).build()).info.icmp6_type == 0);
    CHECK(parse(eth_ip6().udp(kUdp).payload({0x80}).build()).info.icmp6_type == 0);
}
