// SPDX-License-Identifier: BSD-3-Clause
// cats-trafgen's generator: the bytes it writes, decoded by the gateway's own
// parser (dataplane/parse.hpp), and its reproducibility.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <set>

#include "helpers.hpp"
#include "net.hpp"
#include "payload.hpp"
#include "rx.hpp"

using namespace cats::trafgen;
using namespace cats::trafgen::test;
namespace dp = cats::dp;
namespace wire = cats::wire;

namespace {

dp::MetaSource source_of(Encoding e) {
    switch (e) {
    case Encoding::SrhTlv: return dp::MetaSource::SrhTlv;
    case Encoding::DestOpt:
    case Encoding::HopByHop: return dp::MetaSource::Option;
    case Encoding::ServiceSid:
    case Encoding::Count: break;
    }
    return dp::MetaSource::ServiceSid;
}

std::uint8_t proto_of(Transport t) {
    return t == Transport::Tcp ? kProtoTcp : t == Transport::Esp ? kProtoEsp : kProtoUdp;
}

}  // namespace

TEST_CASE("every generated packet parses as the flow says", "[trafgen][generator]") {
    const Profile p = load_profile_string(kSmallProfile);
    Generator gen(p);
    std::vector<Slot> slots;
    const std::vector<Bytes> pkts = all_packets(gen, &slots);
    REQUIRE(pkts.size() == std::size_t{64} * 3);
    const dp::ParseConfig cfg = parse_config(p);
    std::set<Encoding> encodings;
    std::set<Transport> transports;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const Slot& s = slots[i];
        const FlowSpec& f = gen.flows()[s.flow];
        INFO("packet " << i << " flow " << f.id << " " << name_of(f.encoding) << "/" << name_of(f.transport));
        encodings.insert(f.encoding);
        transports.insert(f.transport);
        dp::PacketInfo info;
        REQUIRE(dp::parse_packet(pkts[i], cfg, info) == dp::DropReason::None);
        // Sizes and lengths.
        CHECK(pkts[i].size() == s.frame_len);
        CHECK(pkts[i].size() >= p.size_min);
        CHECK(pkts[i].size() <= std::max<std::size_t>(p.size_max, f.min_frame));
        CHECK(info.ip6_len == pkts[i].size() - kEthHdrLen);
        // The CATS request.
        REQUIRE(info.meta_source == source_of(f.encoding));
        CHECK(info.meta.cs_id == p.services[f.service].cs_id);
        if (f.encoding != Encoding::ServiceSid) {
            CHECK(info.meta == f.meta);
            CHECK(info.meta.req == p.requirement_sets[f.set].req);
        } else {
            CHECK_FALSE(p.requirement_sets[f.set].has_requirements());
        }
        CHECK(std::memcmp(info.src, f.src.data(), 16) == 0);
        CHECK(std::memcmp(info.dst, f.dst.data(), 16) == 0);
        // Transport.
        CHECK(info.l4_proto == proto_of(f.transport));
        if (f.transport == Transport::Esp) {
            CHECK(info.has_spi);
            CHECK(info.spi == f.spi);
        } else {
            CHECK(info.has_ports);
            CHECK(info.sport == f.sport);
            CHECK(info.dport == (f.transport == Transport::Tcp ? p.tcp_dport : p.udp_dport));
        }
        // The trafgen header.
        const auto tg = read_tg_header(std::span(pkts[i]).subspan(f.tg_off));
        REQUIRE(tg);
        CHECK(tg->flow_id == f.id);
        CHECK(tg->seq == s.seq);
        CHECK(tg->tx_ns == 1000 + s.index);
        CHECK(tg->run_id == gen.run_id());
        CHECK(((tg->flags & kTgFlagFirst) != 0) == (s.seq == 0));
        CHECK(((tg->flags & kTgFlagLast) != 0) == (s.seq == p.packets_per_flow - 1));
        // A valid L4 checksum sums to 0xFFFF (returned as is by l4_checksum).
        if (f.transport != Transport::Esp) {
            Ipv6Addr src{}, dst{};
            std::memcpy(src.data(), info.src, 16);
            std::memcpy(dst.data(), info.dst, 16);
            const auto l4 = std::span<const std::uint8_t>(pkts[i]).subspan(f.l4_off);
            CHECK(l4_checksum(src, dst, proto_of(f.transport), l4) == 0xFFFF);
        }
    }
    CHECK(encodings.size() == kEncodingCount);
    CHECK(transports.size() == kTransportCount);
}

TEST_CASE("the SRH TLV and option bytes are the shared codec's", "[trafgen][generator]") {
    Profile p = load_profile_string(kSmallProfile);
    for (const Encoding e : {Encoding::SrhTlv, Encoding::DestOpt, Encoding::HopByHop}) {
        p.encodings.fill(0);
        p.encodings[static_cast<std::size_t>(e)] = 1;
        Generator gen(p);
        const FlowSpec& f = gen.flows()[0];
        const Bytes want = e == Encoding::SrhTlv ? wire::encode_srh_tlv(f.meta) : wire::encode_option(f.meta);
        const std::size_t ext = kEthHdrLen + kIpv6HdrLen;
        const Bytes& b = f.bytes;
        INFO(name_of(e));
        const int want_nh = e == Encoding::SrhTlv ? 43 : e == Encoding::DestOpt ? 60 : 0;
        CHECK(b[kEthHdrLen + 6] == want_nh);
        const std::size_t at = e == Encoding::SrhTlv ? ext + 24 : ext + 2;
        REQUIRE(b.size() >= at + want.size());
        CHECK(Bytes(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + want.size())) == want);
        // Padded to a multiple of 8, the pad reaching the L4 header exactly.
        CHECK((f.l4_off - ext) % 8 == 0);
        CHECK(f.l4_off - ext == (b[ext + 1] + 1u) * 8);
        if (e == Encoding::SrhTlv) {
            CHECK(b[ext + 2] == 4);  // routing type
            CHECK(b[ext + 3] == 0);  // segments left
            CHECK(b[ext + 4] == 0);  // last entry
            CHECK(std::memcmp(&b[ext + 8], p.app_dst.data(), 16) == 0);
        }
    }
}

TEST_CASE("TCP flows open with SYN and close with FIN, sequence numbers follow the data", "[trafgen][generator]") {
    Profile p = load_profile_string(kSmallProfile);
    p.transports = {0, 1, 0};
    p.packets_per_flow = 4;
    p.malformed_share = 0;
    Generator gen(p);
    std::vector<Slot> slots;
    const std::vector<Bytes> pkts = all_packets(gen, &slots);
    std::map<std::uint32_t, std::uint32_t> next_seq;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const FlowSpec& f = gen.flows()[slots[i].flow];
        const std::uint8_t* tcp = pkts[i].data() + f.l4_off;
        const std::uint8_t flags = tcp[13];
        const std::uint32_t seq = wire::load_be32(tcp + 4);
        const std::uint32_t data = static_cast<std::uint32_t>(pkts[i].size() - f.l4_off - kTcpHdrLen);
        if (slots[i].seq == 0) {
            CHECK(flags == kTcpSyn);
            CHECK(seq == f.tcp_isn);
        } else {
            CHECK(seq == next_seq[f.id]);
            CHECK(flags == (slots[i].seq == 3 ? (kTcpFin | kTcpAck) : (kTcpPsh | kTcpAck)));
        }
        next_seq[f.id] = seq + data + ((flags & (kTcpSyn | kTcpFin)) ? 1 : 0);
    }
}

TEST_CASE("each malformed kind is dropped by the gateway's parser under its own name", "[trafgen][generator]") {
    Profile p = load_profile_string(kSmallProfile);
    p.malformed_share = 0.5;
    p.malformed_kinds.fill(1);
    p.malformed_kinds[0] = 0;
    p.packets_per_flow = 20;
    Generator gen(p);
    std::vector<Slot> slots;
    const std::vector<Bytes> pkts = all_packets(gen, &slots);
    const dp::ParseConfig cfg = parse_config(p);
    std::map<BadKind, std::set<Encoding>> seen;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        if (slots[i].bad == BadKind::None)
            continue;
        const BadKind k = slots[i].bad;
        seen[k].insert(gen.flows()[slots[i].flow].encoding);
        dp::PacketInfo info;
        const dp::DropReason r = dp::parse_packet(pkts[i], cfg, info);
        INFO("kind " << name_of(k) << " carried like " << name_of(gen.flows()[slots[i].flow].encoding));
        CHECK(dp::drop_reason_name(r) == name_of(k));
        // Where there is a trafgen header, it says malformed and which kind.
        RxDecoded d;
        if (k != BadKind::Ipv6Truncated && k != BadKind::L4Truncated) {
            REQUIRE(decode_rx(pkts[i], d));
            CHECK((d.tg.flags & kTgFlagMalformed) != 0);
            CHECK(d.tg.bad_kind == static_cast<std::uint8_t>(k));
        }
    }
    CHECK(seen.size() == kBadKindCount - 1);
    // The CATS body errors were tried in every carrier.
    CHECK(seen[BadKind::CatsBadVersion].size() >= 3);
}

TEST_CASE("the same seed gives the same bytes; another seed does not", "[trafgen][generator]") {
    Profile p = load_profile_string(kSmallProfile);
    p.malformed_share = 0.1;
    p.malformed_kinds.fill(1);
    Generator a(p), b(p);
    const auto pa = all_packets(a);
    CHECK(pa == all_packets(b));
    CHECK(pa == all_packets(a));  // after rewind, again
    p.seed = 8;
    Generator c(p);
    const auto pc = all_packets(c);
    CHECK(pa != pc);
    CHECK(a.run_id() != c.run_id());
    // Flows do not depend on the number of packets.
    p.seed = 7;
    p.packets_per_flow = 9;
    Generator d(p);
    for (std::size_t i = 0; i < a.flows().size(); ++i) {
        CHECK(a.flows()[i].src == d.flows()[i].src);
        CHECK(a.flows()[i].sport == d.flows()[i].sport);
        CHECK(a.flows()[i].meta == d.flows()[i].meta);
    }
}

TEST_CASE("affinity groups share a key and a service; mixes follow the weights", "[trafgen][generator]") {
    Profile p = load_profile_string(kSmallProfile);
    p.flows = 3000;
    Generator gen(p);
    std::map<std::uint32_t, std::vector<const FlowSpec*>> groups;
    std::map<std::uint16_t, std::size_t> by_service, by_set;
    std::array<std::size_t, kEncodingCount> by_enc{};
    for (const FlowSpec& f : gen.flows()) {
        ++by_service[f.service];
        ++by_set[f.set];
        ++by_enc[static_cast<std::size_t>(f.encoding)];
        if (f.group != kNoGroup)
            groups[f.group].push_back(&f);
        CHECK((f.group != kNoGroup) == (p.requirement_sets[f.set].name == "grouped"));
    }
    REQUIRE(!groups.empty());
    std::set<std::uint64_t> keys;
    for (const auto& [g, members] : groups) {
        CHECK(members.size() <= 4);
        keys.insert(members.front()->meta.affinity_key);
        for (const FlowSpec* f : members) {
            CHECK(f->meta.has_affinity_key);
            CHECK(f->meta.affinity_key == members.front()->meta.affinity_key);
            CHECK(f->service == members.front()->service);
            CHECK((f->src != members.front()->src || f == members.front()));
        }
    }
    CHECK(keys.size() == groups.size());
    // Services 1 : 0.5; sets for service 100: any 3, strict 1, grouped 1.
    CHECK(by_service[0] == Approx(2000).margin(120));
    CHECK(by_set[0] == Approx(2000 * 0.6 + 1000).margin(120));
    // Flows with requirements never use the service SID.
    for (const FlowSpec& f : gen.flows())
        if (p.requirement_sets[f.set].has_requirements())
            CHECK(f.encoding != Encoding::ServiceSid);
}
