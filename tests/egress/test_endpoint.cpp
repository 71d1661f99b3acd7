// SPDX-License-Identifier: BSD-3-Clause
// Golden packets for the SRv6 endpoint behaviours (dataplane/endpoint.hpp,
// sid_table.hpp) through the real per-packet path, process_burst().
//
// Each expected frame is the input with the bytes RFC 8754 4.3.1 and RFC
// 8986 4 change written out by hand at their offsets (Ethernet addresses,
// hop limit, destination, Segments Left), or, for a decapsulation, the
// input's inner packet as the test built it behind a new Ethernet header.
//
// The network (port 0: towards the ingress; port 1: the compute site):
//
//   port 0 (02:50::00) -- A 2001:db8:ff::a 02:aa::0a  fc00:a::/32
//   port 1 (02:50::01) -- B 2001:db8:ff::b 02:bb::0b  fc00:b::/32
//                      -- C 2001:db8:ff::c 02:cc::0c  (End.X's next hop)
//                      -- H 2001:db8:ff::d 02:dd::0d  2001:db8:f::/48 (the app)
//
// Local SIDs: fc00:e::1 End, fc00:e::2 End.X via C, fc00:e::d6 End.DX6 via
// H, fc00:e::d7 End.DT6, fc00:e:1::/48 End.DT6 (a locator prefix).
#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "eal_fixture.hpp"
#include "packet_builder.hpp"
#include "worker.hpp"

using namespace cats::dp;
using namespace cats::test;
namespace wire = cats::wire;

namespace {

std::string hex(const Bytes& b) {
    std::string s;
    char buf[4];
    for (std::size_t i = 0; i < b.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", b[i]);
        s += buf;
        s += (i % 16 == 15 || i + 1 == b.size()) ? '\n' : ' ';
    }
    return s;
}

const MacAddr kPortMac[2] = {{0x02, 0x50, 0, 0, 0, 0x00}, {0x02, 0x50, 0, 0, 0, 0x01}};
const MacAddr kPrevHopMac{0x02, 0xaa, 0, 0, 0, 0x0a};  // A: the ingress side
const Neighbor kNbrA{ip6("2001:db8:ff::a"), kPrevHopMac, 0};
const Neighbor kNbrB{ip6("2001:db8:ff::b"), {0x02, 0xbb, 0, 0, 0, 0x0b}, 1};
const Neighbor kNbrC{ip6("2001:db8:ff::c"), {0x02, 0xcc, 0, 0, 0, 0x0c}, 1};
const Neighbor kNbrH{ip6("2001:db8:ff::d"), {0x02, 0xdd, 0, 0, 0, 0x0d}, 1};

const Ipv6Addr kIcmpSrc = ip6("2001:db8:e::1");
const Ipv6Addr kIngress = ip6("2001:db8:e::100");  // the ingress gateway's encap source
const Ipv6Addr kClient = ip6("2001:db8:1::10");
const Ipv6Addr kApp = ip6("2001:db8:f::10");        // behind H
const Ipv6Addr kEnd = ip6("fc00:e::1");
const Ipv6Addr kEndX = ip6("fc00:e::2");
const Ipv6Addr kDx6 = ip6("fc00:e::d6");
const Ipv6Addr kDt6 = ip6("fc00:e::d7");
const Ipv6Addr kDt6Locator = ip6("fc00:e:1::");
const Ipv6Addr kNext = ip6("fc00:b::9");  // a SID beyond, routed via B

std::vector<LocalSidConfig> default_sids() {
    return {{{kEnd, 128}, SidBehavior::End, std::nullopt},
            {{kEndX, 128}, SidBehavior::EndX, kNbrC.address},
            {{kDx6, 128}, SidBehavior::EndDX6, kNbrH.address},
            {{kDt6, 128}, SidBehavior::EndDT6, std::nullopt},
            {{kDt6Locator, 48}, SidBehavior::EndDT6, std::nullopt}};
}

unsigned next_id() {
    static unsigned n = 0;
    return n++;
}

struct PoolFree {
    void operator()(rte_mempool* mp) const noexcept { rte_mempool_free(mp); }
};

rte_mempool* make_pool() {
    ensure_eal();
    const std::string name = "egr_mp" + std::to_string(next_id());
    rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), 256, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (mp == nullptr)
        throw std::runtime_error("rte_pktmbuf_pool_create failed");
    return mp;
}

struct Out {
    std::uint16_t port = kVerdictDrop;
    Bytes bytes;
};

// The real Engine, Fib, SidTable (qsbr = nullptr), ServiceTable (empty),
// WorkerCounters and PolicyTable, driven one burst at a time.
class Egress {
public:
    explicit Egress(std::uint32_t policy_capacity = 64)
        : pool_(make_pool()),
          fib_("egr_fib" + std::to_string(next_id()), SOCKET_ID_ANY,
               {{{ip6("fc00:a::"), 32}, kNbrA.address},
                {{ip6("fc00:b::"), 32}, kNbrB.address},
                {{ip6("2001:db8:f::"), 48}, kNbrH.address}},
               {kNbrA, kNbrB, kNbrC, kNbrH}),
          services(EncapParams{kIcmpSrc, EncapMode::Encaps, 64}, fib_, {kPortMac[0], kPortMac[1]}, nullptr, 4, 4),
          sids(fib_, nullptr, 16) {
        sids.replace_all(default_sids());
        engine.port_ids = {0, 1};
        for (int p = 0; p < 2; ++p) {
            engine.port_mtu[p] = 1500;
            engine.port_mac[p] = kPortMac[p];
        }
        engine.icmp_source = kIcmpSrc;
        engine.fib = &fib_;
        engine.services = &services;
        engine.local_sids = &sids;
        w.flows = std::make_unique<FlowTable>("egr_ft" + std::to_string(next_id()), 1024, SOCKET_ID_ANY);
        w.ctr = std::make_unique<WorkerCounters>(4, 4, 16);
        w.policies = std::make_unique<PolicyTable>("egr_pol" + std::to_string(next_id()), policy_capacity,
                                                   SOCKET_ID_ANY);
        w.icmp = Icmp6Limiter(1000);
        w.engine = &engine;
    }

    std::vector<Out> run(const std::vector<Bytes>& in, std::uint32_t now_ms = 1000) {
        std::vector<rte_mbuf*> pkts;
        for (const Bytes& b : in) {
            rte_mbuf* m = rte_pktmbuf_alloc(pool_.get());
            REQUIRE(m != nullptr);
            std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(b.size())), b.data(), b.size());
            m->port = 0;
            pkts.push_back(m);
        }
        std::uint16_t out[kMaxBurst];
        process_burst(w, engine, *services.current(), pkts.data(), static_cast<std::uint16_t>(pkts.size()), now_ms,
                      out);
        std::vector<Out> res;
        for (std::size_t i = 0; i < pkts.size(); ++i) {
            rte_mbuf* m = pkts[i];
            const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
            CHECK(m->pkt_len == m->data_len);
            res.push_back({out[i], Bytes(p, p + m->data_len)});
            rte_pktmbuf_free(m);
        }
        return res;
    }
    Out run1(const Bytes& in) { return run({in})[0]; }

    const SidCounters& sid_ctr(const Ipv6Addr& a, std::uint8_t len = 128) {
        const std::int64_t slot = sids.slot_of({a, len});
        REQUIRE(slot >= 0);
        return w.ctr->sids[static_cast<std::size_t>(slot)];
    }
    std::uint64_t drops(DropReason r) const { return w.ctr->drops[static_cast<std::size_t>(r)].get(); }

private:
    std::unique_ptr<rte_mempool, PoolFree> pool_;
    Fib fib_;

public:
    ServiceTable services;
    SidTable sids;
    Engine engine;
    Worker w;
};

// --- Packets --------------------------------------------------------------------

// The steered packet: IPv6/UDP from the client to the app.
Bytes inner_packet(std::uint8_t hop_limit = 64, const Ipv6Addr& dst = kApp) {
    return PacketBuilder{}
        .ipv6({.src = kClient, .dst = dst, .hop_limit = hop_limit, .traffic_class = 0x28, .flow_label = 0x12345})
        .udp({.sport = 40000, .dport = 443})
        .payload(Bytes(24, 0x5A))
        .build();
}

// Outer IPv6 (from the ingress, to `da`, hop limit `hl`) + SRH `segs`
// (Segment List order, Segments Left `sl`, Last Entry `le`) + `inner`.
Bytes srv6(const Ipv6Addr& da, std::vector<Ipv6Addr> segs, std::uint8_t sl, const Bytes& inner,
           std::uint8_t hl = 63, std::optional<std::uint8_t> le = std::nullopt) {
    PacketBuilder b;
    b.eth({.dst = kPortMac[0], .src = kPrevHopMac});
    b.ipv6({.src = kIngress, .dst = da, .hop_limit = hl});
    if (!segs.empty())
        b.srh({.segments = std::move(segs), .segments_left = sl, .last_entry = le});
    b.raw(41, inner);
    return b.build();
}

// The expected frame after an End or End.X: Ethernet to `mac` from port
// 1, hop limit - 1, Segments Left - 1 and the destination the segment
// it now points at. Offsets: IPv6 at 14 (hop limit 21, DA 38), SRH at 54
// (Segments Left 57, Segment List from 62).
Bytes after_end(Bytes in, const MacAddr& mac) {
    std::copy(mac.begin(), mac.end(), in.begin());
    std::copy(kPortMac[1].begin(), kPortMac[1].end(), in.begin() + 6);
    in[21] = static_cast<std::uint8_t>(in[21] - 1);
    const std::uint8_t sl = --in[57];
    std::copy(in.begin() + 62 + 16 * sl, in.begin() + 62 + 16 * (sl + 1), in.begin() + 38);
    return in;
}

// The expected frame after a decapsulation to `mac`: a new Ethernet header
// from port 1, then `inner` with its hop limit one lower (byte 7).
Bytes after_decap(Bytes inner, const MacAddr& mac) {
    inner[7] = static_cast<std::uint8_t>(inner[7] - 1);
    Bytes eth(mac.begin(), mac.end());
    eth.insert(eth.end(), kPortMac[1].begin(), kPortMac[1].end());
    eth.push_back(0x86);
    eth.push_back(0xDD);
    return cat({eth, inner});
}

// An ICMPv6 error sent back out of port 0 to the previous hop: type, code
// and the 32-bit parameter; the destination the offending packet's source.
void check_icmp(const Out& o, std::uint8_t type, std::uint8_t code, std::uint32_t param, const Ipv6Addr& to,
                const Bytes& quoted_from) {
    REQUIRE(o.port == 0);
    const Bytes& b = o.bytes;
    REQUIRE(b.size() >= 14 + 48);
    CHECK(Bytes(b.begin(), b.begin() + 6) == Bytes(kPrevHopMac.begin(), kPrevHopMac.end()));
    CHECK(Bytes(b.begin() + 6, b.begin() + 12) == Bytes(kPortMac[0].begin(), kPortMac[0].end()));
    CHECK(b[20] == 58);
    CHECK(Bytes(b.begin() + 22, b.begin() + 38) == Bytes(kIcmpSrc.begin(), kIcmpSrc.end()));
    CHECK(Bytes(b.begin() + 38, b.begin() + 54) == Bytes(to.begin(), to.end()));
    CHECK(b[54] == type);
    CHECK(b[55] == code);
    CHECK(wire::load_be32(&b[58]) == param);
    // The offending packet follows, from its IPv6 header.
    const std::size_t n = std::min(quoted_from.size(), b.size() - 62);
    CHECK(hex(Bytes(b.begin() + 62, b.begin() + 62 + static_cast<long>(n))) ==
          hex(Bytes(quoted_from.begin(), quoted_from.begin() + static_cast<long>(n))));
}

Bytes ip_of(const Bytes& frame) { return Bytes(frame.begin() + 14, frame.end()); }

}  // namespace

TEST_CASE("egress: the SID table finds the longest SID holding a destination", "[egress]") {
    Egress g;
    const SidSnapshot& s = *g.sids.current();
    REQUIRE(s.lengths.size() == 2);
    CHECK(s.lengths[0].len == 128);
    CHECK(s.lengths[1].len == 48);
    CHECK(s.find(kEnd.data())->behavior == SidBehavior::End);
    CHECK(s.find(kDx6.data())->behavior == SidBehavior::EndDX6);
    CHECK(s.find(ip6("fc00:e:1:abcd::42").data())->len == 48);
    CHECK(s.find(ip6("fc00:e:2::").data()) == nullptr);
    CHECK(s.find(ip6("fc00:e::3").data()) == nullptr);
    // A /128 inside the locator wins over it.
    g.sids.upsert({{ip6("fc00:e:1::5"), 128}, SidBehavior::End, std::nullopt});
    CHECK(g.sids.current()->find(ip6("fc00:e:1::5").data())->behavior == SidBehavior::End);
    CHECK(g.sids.current()->find(ip6("fc00:e:1::6").data())->behavior == SidBehavior::EndDT6);
}

TEST_CASE("egress: the SID table refuses what it cannot run, naming it, and keeps what it has", "[egress]") {
    Egress g;
    const std::uint64_t v = g.sids.current()->version;
    CHECK_THROWS_WITH(g.sids.upsert({{ip6("fc00:e::9"), 128}, SidBehavior::EndDX6, std::nullopt}),
                      Catch::Contains("sid fc00:e::9: End.DX6 needs a next_hop"));
    CHECK_THROWS_WITH(g.sids.upsert({{ip6("fc00:e::9"), 128}, SidBehavior::EndDX6, ip6("2001:db8:99::1")}),
                      Catch::Contains("no neighbor the FIB reaches"));
    CHECK_THROWS_WITH(g.sids.upsert({{ip6("fc00:e::9"), 128}, SidBehavior::EndDT6, kNbrH.address}),
                      Catch::Contains("End.DT6 takes no next_hop"));
    CHECK_THROWS_WITH(g.sids.upsert({{ip6("fc00:e::"), 16}, SidBehavior::End, std::nullopt}),
                      Catch::Contains("host bits set"));
    CHECK_THROWS_WITH(g.sids.remove({ip6("fc00:e::9"), 128}), Catch::Contains("not found"));
    CHECK(g.sids.current()->version == v);
    CHECK(g.sids.configs().size() == 5);
}

TEST_CASE("egress: End, Segments Left > 0, full SRH: next segment, FIB lookup", "[egress]") {
    Egress g;
    const Bytes in = srv6(kEnd, {kNext, kEnd}, 1, inner_packet());
    const Out o = g.run1(in);
    REQUIRE(o.port == 1);
    CHECK(hex(o.bytes) == hex(after_end(in, kNbrB.mac)));
    // Written out: DA fc00:b::9, Segments Left 0, hop limit 62.
    CHECK(o.bytes[21] == 62);
    CHECK(o.bytes[57] == 0);
    CHECK(Bytes(o.bytes.begin() + 38, o.bytes.begin() + 54) == Bytes(kNext.begin(), kNext.end()));
    CHECK(g.sid_ctr(kEnd).packets.get() == 1);
    CHECK(g.sid_ctr(kEnd).bytes.get() == in.size());
    CHECK(g.w.ctr->endpoint.get() == 1);
    CHECK(g.w.ctr->forwarded.get() == 0);
}

TEST_CASE("egress: End on a reduced SRH (the first SID only in the DA)", "[egress]") {
    Egress g;
    // H.Encaps.Red of <fc00:e::1, fc00:b::9>: Last Entry 0, Segments Left 1.
    const Bytes in = srv6(kEnd, {kNext}, 1, inner_packet(), 63, 0);
    const Out o = g.run1(in);
    REQUIRE(o.port == 1);
    CHECK(hex(o.bytes) == hex(after_end(in, kNbrB.mac)));
}

TEST_CASE("egress: End.X goes to its next hop, not the FIB's", "[egress]") {
    Egress g;
    const Bytes in = srv6(kEndX, {kNext, kEndX}, 1, inner_packet());
    const Out o = g.run1(in);
    REQUIRE(o.port == 1);
    CHECK(hex(o.bytes) == hex(after_end(in, kNbrC.mac)));
}

TEST_CASE("egress: End with Segments Left 0 or no SRH: Parameter Problem, SR upper-layer header", "[egress]") {
    Egress g;
    // The upper-layer header (the inner IPv6) starts after 40 + 24 bytes.
    const Bytes sl0 = srv6(kEnd, {kEnd}, 0, inner_packet());
    const Out a = g.run1(sl0);
    check_icmp(a, 4, 4, 64, kIngress, ip_of(sl0));
    const Bytes no_srh = srv6(kEnd, {}, 0, inner_packet());
    const Out b = g.run1(no_srh);
    check_icmp(b, 4, 4, 40, kIngress, ip_of(no_srh));
    CHECK(g.drops(DropReason::SidUpperLayer) == 2);
    CHECK(g.sid_ctr(kEnd).drops[static_cast<std::size_t>(DropReason::SidUpperLayer)].get() == 2);
    CHECK(g.w.ctr->icmp_param_problem.get() == 2);
    CHECK(g.sid_ctr(kEnd).packets.get() == 0);
}

TEST_CASE("egress: End with hop limit 1: Time Exceeded, the packet quoted unchanged", "[egress]") {
    Egress g;
    const Bytes in = srv6(kEnd, {kNext, kEnd}, 1, inner_packet(), 1);
    const Out o = g.run1(in);
    check_icmp(o, 3, 0, 0, kIngress, ip_of(in));
    CHECK(g.drops(DropReason::HopLimitExceeded) == 1);
    CHECK(g.sid_ctr(kEnd).drops[static_cast<std::size_t>(DropReason::HopLimitExceeded)].get() == 1);
}

TEST_CASE("egress: End.DX6, Segments Left 0: the inner packet to the next hop", "[egress]") {
    Egress g;
    const Bytes inner = inner_packet();
    SECTION("full SRH of one SID") {
        const Out o = g.run1(srv6(kDx6, {kDx6}, 0, inner));
        REQUIRE(o.port == 1);
        CHECK(hex(o.bytes) == hex(after_decap(inner, kNbrH.mac)));
    }
    SECTION("full SRH of two SIDs, the last one ours") {
        const Out o = g.run1(srv6(kDx6, {kDx6, ip6("fc00:a::1")}, 0, inner));
        REQUIRE(o.port == 1);
        CHECK(hex(o.bytes) == hex(after_decap(inner, kNbrH.mac)));
    }
    SECTION("reduced: no SRH at all") {
        const Out o = g.run1(srv6(kDx6, {}, 0, inner));
        REQUIRE(o.port == 1);
        CHECK(hex(o.bytes) == hex(after_decap(inner, kNbrH.mac)));
    }
    SECTION("an Ethernet trailer and a VLAN tag do not follow the inner packet") {
        Bytes in = srv6(kDx6, {kDx6}, 0, inner);
        in.insert(in.begin() + 12, {0x81, 0x00, 0x00, 0x64});
        in.insert(in.end(), {0, 0, 0, 0, 0, 0});
        const Out o = g.run1(in);
        REQUIRE(o.port == 1);
        CHECK(hex(o.bytes) == hex(after_decap(inner, kNbrH.mac)));
    }
    CHECK(g.sid_ctr(kDx6).packets.get() == 1);
    CHECK(g.drops(DropReason::None) == 0);
}

TEST_CASE("egress: End.DX6 with Segments Left > 0: Parameter Problem at Segments Left", "[egress]") {
    Egress g;
    const Bytes in = srv6(kDx6, {ip6("fc00:a::1"), kDx6}, 1, inner_packet());
    const Out o = g.run1(in);
    check_icmp(o, 4, 0, 43, kIngress, ip_of(in));
    CHECK(g.drops(DropReason::SidSegmentsLeft) == 1);
    CHECK(g.sid_ctr(kDx6).drops[static_cast<std::size_t>(DropReason::SidSegmentsLeft)].get() == 1);
}

TEST_CASE("egress: End.DX6 and End.DT6 take only an inner IPv6 packet", "[egress]") {
    Egress g;
    const Bytes udp = PacketBuilder{}
                          .eth({.dst = kPortMac[0], .src = kPrevHopMac})
                          .ipv6({.src = kIngress, .dst = kDt6})
                          .srh({.segments = {kDt6}, .segments_left = 0})
                          .udp({.sport = 1, .dport = 2})
                          .payload(Bytes(8, 1))
                          .build();
    check_icmp(g.run1(udp), 4, 4, 64, kIngress, ip_of(udp));
    CHECK(g.drops(DropReason::SidUpperLayer) == 1);

    // What is inside is no whole IPv6 packet: too short, not version 6, a
    // payload length past the end.
    Bytes bad_version = inner_packet();
    bad_version[0] = 0x45;
    Bytes too_long = inner_packet();
    too_long[5] = static_cast<std::uint8_t>(too_long[5] + 1);
    const auto r = g.run({srv6(kDt6, {kDt6}, 0, Bytes(39, 0x60)), srv6(kDt6, {kDt6}, 0, bad_version),
                          srv6(kDx6, {}, 0, too_long)});
    for (const Out& o : r)
        CHECK(o.port == kVerdictDrop);
    CHECK(g.drops(DropReason::DecapInnerBad) == 3);

    // A fragment of an encapsulated packet: no reassembly here.
    const Bytes frag = PacketBuilder{}
                           .eth({.dst = kPortMac[0], .src = kPrevHopMac})
                           .ipv6({.src = kIngress, .dst = kDt6})
                           .frag({.offset = 0, .more = true, .id = 7})
                           .raw(41, inner_packet())
                           .build();
    CHECK(g.run1(frag).port == kVerdictDrop);
    CHECK(g.drops(DropReason::SidFragment) == 1);
    CHECK(g.w.ctr->endpoint.get() == 0);
}

TEST_CASE("egress: End.DT6: decapsulate, then the FIB routes the inner packet", "[egress]") {
    Egress g;
    const Bytes inner = inner_packet();
    const Out o = g.run1(srv6(kDt6, {kDt6}, 0, inner));
    REQUIRE(o.port == 1);
    CHECK(hex(o.bytes) == hex(after_decap(inner, kNbrH.mac)));
    // A locator prefix: the bits past /48 are the SID's arguments.
    const Out l = g.run1(srv6(ip6("fc00:e:1:0:0:0:0:42"), {}, 0, inner));
    REQUIRE(l.port == 1);
    CHECK(hex(l.bytes) == hex(after_decap(inner, kNbrH.mac)));
    CHECK(g.sid_ctr(kDt6Locator, 48).packets.get() == 1);
    // No route for the inner destination.
    const Out n = g.run1(srv6(kDt6, {kDt6}, 0, inner_packet(64, ip6("2001:db8:99::1"))));
    CHECK(n.port == kVerdictDrop);
    CHECK(g.drops(DropReason::NoRoute) == 1);
    CHECK(g.sid_ctr(kDt6).drops[static_cast<std::size_t>(DropReason::NoRoute)].get() == 1);
}

TEST_CASE("egress: decapsulated with inner hop limit 1: Time Exceeded to the inner source", "[egress]") {
    Egress g;
    const Bytes inner = inner_packet(1);
    const Out o = g.run1(srv6(kDx6, {kDx6}, 0, inner));
    // The error is about the inner packet: to the client, quoting it.
    check_icmp(o, 3, 0, 0, kClient, inner);
    CHECK(g.drops(DropReason::HopLimitExceeded) == 1);
}

TEST_CASE("egress: an unknown SID is plain IPv6 to the FIB", "[egress]") {
    Egress g;
    const Out o = g.run1(srv6(ip6("fc00:e::99"), {ip6("fc00:e::99")}, 0, inner_packet()));
    CHECK(o.port == kVerdictDrop);
    CHECK(g.drops(DropReason::NoRoute) == 1);
    CHECK(g.w.ctr->endpoint.get() == 0);
}

TEST_CASE("egress: a malformed SRH to a local SID is dropped, counted for it, never forwarded", "[egress]") {
    Egress g;
    // Segments Left 3 > Last Entry + 1: Parameter Problem at Segments Left.
    const Bytes bad_sl = srv6(kEnd, {kNext, kEnd}, 3, inner_packet());
    check_icmp(g.run1(bad_sl), 4, 0, 43, kIngress, ip_of(bad_sl));
    CHECK(g.drops(DropReason::SrhBadSegmentsLeft) == 1);
    // Last Entry past the header.
    const Bytes bad_le = srv6(kEnd, {kNext, kEnd}, 1, inner_packet(), 63, 5);
    check_icmp(g.run1(bad_le), 4, 0, 43, kIngress, ip_of(bad_le));
    CHECK(g.drops(DropReason::SrhBadLastEntry) == 1);
    // A TLV that runs past the SRH: dropped and counted, no error.
    const Bytes tlv = PacketBuilder{}
                          .eth({.dst = kPortMac[0], .src = kPrevHopMac})
                          .ipv6({.src = kIngress, .dst = kEnd})
                          .srh({.segments = {kNext, kEnd}, .tlvs = {{0x80, 0x10, 0, 0, 0, 0, 0, 0}}, .pad = false})
                          .raw(41, inner_packet())
                          .build();
    CHECK(g.run1(tlv).port == kVerdictDrop);
    CHECK(g.drops(DropReason::SrhTlvOverrun) == 1);
    const SidCounters& c = g.sid_ctr(kEnd);
    CHECK(c.drops[static_cast<std::size_t>(DropReason::SrhBadSegmentsLeft)].get() == 1);
    CHECK(c.drops[static_cast<std::size_t>(DropReason::SrhBadLastEntry)].get() == 1);
    CHECK(c.drops[static_cast<std::size_t>(DropReason::SrhTlvOverrun)].get() == 1);
    CHECK(c.packets.get() == 0);
}

TEST_CASE("egress: per received policy: packets and inner bytes per (outer source, SID), bounded", "[egress]") {
    Egress g(2);
    const Bytes inner = inner_packet();
    const Bytes a = srv6(kDx6, {kDx6}, 0, inner);
    Bytes b = srv6(kDt6, {kDt6}, 0, inner);
    g.run({a, a, b});
    // A third policy: another source. The table holds two.
    Bytes c = a;
    c[14 + 8 + 15] ^= 1;
    g.run({c});
    const PolicyTable& t = *g.w.policies;
    std::uint64_t n = 0;
    for (std::uint32_t i = 0; i < t.capacity(); ++i) {
        const PolicyEntry& e = t.entry(i);
        if (!e.valid.load())
            continue;
        ++n;
        CHECK(Bytes(e.key.source, e.key.source + 16) == Bytes(kIngress.begin(), kIngress.end()));
        const bool dx6 = Bytes(e.key.sid, e.key.sid + 16) == Bytes(kDx6.begin(), kDx6.end());
        CHECK(e.packets.get() == (dx6 ? 2u : 1u));
        CHECK(e.bytes.get() == e.packets.get() * inner.size());
    }
    CHECK(n == 2);
    CHECK(t.overflow() == 1);
}
