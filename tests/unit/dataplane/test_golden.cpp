// SPDX-License-Identifier: BSD-3-Clause
// Golden-packet tests of the real per-packet path, process_burst()
// (dataplane/worker.hpp), in the style of Katran's testing/fixtures: input
// frame -> expected output frame + verdict (output port or kVerdictDrop),
// plus the counters each verdict must move.
//
// The expected frames are built independently of the code under test: the
// outer Ethernet + IPv6 + SRH with tests/unit/packet_builder.hpp, followed by
// the input's IPv6 packet as it came in. The outer flow label is a hash and
// is compared apart (non-zero, equal for the packets of one flow).
//
// The network around the gateway (every instance's first SID routes to its
// own neighbor, so the output MAC and port name the instance):
//
//   port 0 (02:50::00) -- A 2001:db8:ff::a 02:aa::0a  fc00:a::/32
//   port 1 (02:50::01) -- B 2001:db8:ff::b 02:bb::0b  fc00:b::/32
//                      -- C 2001:db8:ff::c 02:cc::0c  fc00:c::/32
//                      -- D 2001:db8:ff::d 02:dd::0d  2001:db8:f::/48 (plain)
//
// Needs EAL (mempool, rte_hash, rte_fib6): cats::test::ensure_eal().
#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/hmac.h>

#include "eal_fixture.hpp"
#include "packet_builder.hpp"
#include "worker.hpp"

using namespace cats::dp;
using namespace cats::test;
namespace wire = cats::wire;

namespace {

// --- Diagnostics --------------------------------------------------------------

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

// --- The network ----------------------------------------------------------------

const MacAddr kPortMac[2] = {{0x02, 0x50, 0, 0, 0, 0x00}, {0x02, 0x50, 0, 0, 0, 0x01}};
const MacAddr kClientMac{0x02, 0xc1, 0, 0, 0, 0x01};

const Neighbor kNbrA{ip6("2001:db8:ff::a"), {0x02, 0xaa, 0, 0, 0, 0x0a}, 0};
const Neighbor kNbrB{ip6("2001:db8:ff::b"), {0x02, 0xbb, 0, 0, 0, 0x0b}, 1};
const Neighbor kNbrC{ip6("2001:db8:ff::c"), {0x02, 0xcc, 0, 0, 0, 0x0c}, 1};
const Neighbor kNbrD{ip6("2001:db8:ff::d"), {0x02, 0xdd, 0, 0, 0, 0x0d}, 1};

const Ipv6Addr kEncapSrc = ip6("2001:db8:e::1");
constexpr std::uint8_t kOuterHopLimit = 63;  // not the default 64, to see it is used
const Ipv6Addr kSidPrefix = ip6("fc00:cafe::");  // service-SID /96
const Ipv6Addr kClient = ip6("2001:db8:1::10");
const Ipv6Addr kServer = ip6("2001:db8:f::10");     // routed via D
const Ipv6Addr kNowhere = ip6("2001:db8:9999::1");  // no route
// The client's own SRH (for the SRH-TLV request): Segments Left 1.
const Ipv6Addr kCliSeg0 = ip6("2001:db8:f::20");
const Ipv6Addr kCliSeg1 = ip6("2001:db8:f::21");

constexpr std::uint32_t kCsSingle = 100;      // one instance, 3 SIDs, via A
constexpr std::uint32_t kCsMulti = 200;       // instances 1, 2, 3 via A, B, C
constexpr std::uint32_t kCsEmpty = 300;       // no instance
constexpr std::uint32_t kCsUnresolved = 400;  // one instance whose SID has no route
constexpr std::uint32_t kCsOneSid = 500;      // one instance, 1 SID, via B
constexpr std::uint32_t kCsGrow = 600;        // one instance via A (grown by tests)
constexpr std::uint32_t kTimeoutS = 10;
constexpr std::uint32_t kTimeoutMs = kTimeoutS * 1000;

const std::vector<Ipv6Addr> kSingleSids = {ip6("fc00:a::1"), ip6("fc00:e::2"), ip6("fc00:e::3")};
const std::vector<Ipv6Addr> kOneSid = {ip6("fc00:b::500")};

Ipv6Addr service_sid(std::uint32_t cs_id) {
    Ipv6Addr a = kSidPrefix;
    wire::store_be32(&a[12], cs_id);
    return a;
}

InstanceConfig instance(std::uint32_t id, std::vector<Ipv6Addr> sids, InstanceMetrics m = {}) {
    InstanceConfig ic;
    ic.id = id;
    ic.sids = std::move(sids);
    ic.metrics = m;
    return ic;
}

ServiceConfig service(std::uint32_t cs_id, std::vector<InstanceConfig> insts) {
    ServiceConfig sc;
    sc.cs_id = cs_id;
    sc.name = "svc" + std::to_string(cs_id);
    sc.affinity_timeout_s = kTimeoutS;
    sc.instances = std::move(insts);
    return sc;
}

std::vector<InstanceConfig> multi_instances(InstanceMetrics m = {}) {
    return {instance(1, {ip6("fc00:a::200")}, m), instance(2, {ip6("fc00:b::200")}, m),
            instance(3, {ip6("fc00:c::200")}, m)};
}

std::vector<ServiceConfig> default_services() {
    return {
        service(kCsSingle, {instance(1, kSingleSids)}),
        service(kCsMulti, multi_instances()),
        service(kCsEmpty, {}),
        service(kCsUnresolved, {instance(1, {ip6("fc00:dead::1")})}),
        service(kCsOneSid, {instance(1, kOneSid)}),
        service(kCsGrow, {instance(1, {ip6("fc00:a::600")})}),
    };
}

// The neighbor a first SID routes to (the FIB above, by its /32).
const Neighbor& neighbor_of(const Ipv6Addr& sid) {
    if (sid[0] == 0xfc && sid[1] == 0x00 && sid[2] == 0x00) {
        if (sid[3] == 0x0a)
            return kNbrA;
        if (sid[3] == 0x0b)
            return kNbrB;
        if (sid[3] == 0x0c)
            return kNbrC;
    }
    throw std::invalid_argument("not an instance SID");
}

// --- Input frames -------------------------------------------------------------

// Ethernet (optionally 802.1Q/802.1ad tagged) + `ip` + Ethernet trailer.
Bytes frame(const Bytes& ip, std::vector<VlanTag> vlans = {}, const Bytes& trailer = {}) {
    const Bytes eth =
        PacketBuilder{}
            .eth({.dst = kPortMac[0], .src = kClientMac, .vlans = std::move(vlans), .ether_type = 0x86DD})
            .build();
    return cat({eth, ip, trailer});
}

// The 5-tuple and IPv6 header fields of a test flow.
struct Flow {
    Ipv6Addr src = kClient;
    std::uint16_t sport = 40000;
    std::uint16_t dport = 443;
    std::uint8_t tc = 0;
    std::uint32_t flow_label = 0;
    std::uint8_t hop_limit = 64;
    std::size_t payload = 32;
    std::uint8_t fill = 0x5A;  // payload bytes: vary it to tell packets apart
};

Ipv6Spec ip_spec(const Flow& f, const Ipv6Addr& dst) {
    return {.src = f.src, .dst = dst, .hop_limit = f.hop_limit, .traffic_class = f.tc, .flow_label = f.flow_label};
}

wire::CatsMetadata md(std::uint32_t cs_id) {
    wire::CatsMetadata m;
    m.cs_id = cs_id;
    return m;
}

wire::CatsMetadata md_latency(std::uint32_t cs_id, std::uint32_t max_latency_us) {
    wire::CatsMetadata m = md(cs_id);
    m.req.max_latency_us = max_latency_us;
    return m;
}

wire::CatsMetadata md_affinity(std::uint32_t cs_id, std::uint64_t key) {
    wire::CatsMetadata m = md(cs_id);
    m.has_affinity_key = true;
    m.affinity_key = key;
    return m;
}

// Request in an SRH TLV: the client's SRH (Segments Left 1) carries it.
Bytes via_srh_tlv(const wire::CatsMetadata& m, const Flow& f = {}) {
    return PacketBuilder{}
        .ipv6(ip_spec(f, kCliSeg1))
        .srh({.segments = {kCliSeg0, kCliSeg1}, .tlvs = {cats_tlv(m)}})
        .udp({.sport = f.sport, .dport = f.dport})
        .payload(Bytes(f.payload, f.fill))
        .build();
}

// Request in a Destination Options header.
Bytes via_doh(const wire::CatsMetadata& m, const Flow& f = {}) {
    return PacketBuilder{}
        .ipv6(ip_spec(f, kServer))
        .dst_opts({.options = {cats_option(m)}})
        .udp({.sport = f.sport, .dport = f.dport})
        .payload(Bytes(f.payload, f.fill))
        .build();
}

// Request in a Hop-by-Hop header, over TCP.
Bytes via_hbh(const wire::CatsMetadata& m, const Flow& f = {}) {
    return PacketBuilder{}
        .ipv6(ip_spec(f, kServer))
        .hbh({.options = {opt_padn(4), cats_option(m)}})
        .tcp({.sport = f.sport, .dport = f.dport})
        .payload(Bytes(f.payload, f.fill))
        .build();
}

// Request by destination: the service SID of `cs_id`.
Bytes via_sid(std::uint32_t cs_id, const Flow& f = {}) {
    return PacketBuilder{}
        .ipv6(ip_spec(f, service_sid(cs_id)))
        .udp({.sport = f.sport, .dport = f.dport})
        .payload(Bytes(f.payload, f.fill))
        .build();
}

// Plain IPv6/UDP, no CATS request.
Bytes plain(const Flow& f = {}, const Ipv6Addr& dst = kServer) {
    return PacketBuilder{}
        .ipv6(ip_spec(f, dst))
        .udp({.sport = f.sport, .dport = f.dport})
        .payload(Bytes(f.payload, f.fill))
        .build();
}

// --- Expected frames ------------------------------------------------------------

// What the gateway must send for `inner` steered to an instance with `sids`:
// Ethernet to the first SID's neighbor from that neighbor's port; outer IPv6
// from the encap source to the first SID, the inner traffic class, flow label
// 0 (compared apart), hop limit from the config; an SRH (RFC 8986 5.1: the
// SIDs reversed, Segments Left n-1; 5.2 reduced: without the first SID); then
// the inner IPv6 packet byte for byte.
Bytes expected_encap(const std::vector<Ipv6Addr>& sids, EncapMode mode, std::uint8_t tc, const Bytes& inner) {
    const Neighbor& nbr = neighbor_of(sids[0]);
    PacketBuilder b;
    b.eth({.dst = nbr.mac, .src = kPortMac[nbr.port_id]});
    b.ipv6({.src = kEncapSrc, .dst = sids[0], .hop_limit = kOuterHopLimit, .traffic_class = tc});
    std::vector<Ipv6Addr> list(sids.rbegin(), sids.rend());
    if (mode == EncapMode::EncapsRed)
        list.pop_back();  // the first SID is only in the DA
    if (!list.empty())
        b.srh({.segments = list, .segments_left = static_cast<std::uint8_t>(sids.size() - 1)});
    b.raw(41, inner);
    return b.build();
}

// What the gateway must send for non-CATS `ip` forwarded to `nbr`: a new
// Ethernet header, no tag, no trailer, and `forwarded_ip` (the same packet
// with the hop limit one lower, built by the test).
Bytes expected_forward(const Neighbor& nbr, const Bytes& forwarded_ip) {
    const Bytes eth =
        PacketBuilder{}.eth({.dst = nbr.mac, .src = kPortMac[nbr.port_id], .ether_type = 0x86DD}).build();
    return cat({eth, forwarded_ip});
}

// The outer flow label (20 bits in bytes 15..17 of an encapsulated frame).
Bytes without_flow_label(Bytes b) {
    REQUIRE(b.size() >= 18);
    b[15] &= 0xF0;
    b[16] = 0;
    b[17] = 0;
    return b;
}
std::uint32_t flow_label(const Bytes& b) {
    REQUIRE(b.size() >= 18);
    return (std::uint32_t{b[15] & 0x0Fu} << 16) | (std::uint32_t{b[16]} << 8) | b[17];
}

// --- Counters ---------------------------------------------------------------------

using DropCounts = std::array<std::uint64_t, kDropReasonCount>;

DropCounts drops(const WorkerCounters& c) {
    DropCounts d{};
    for (std::size_t i = 0; i < kDropReasonCount; ++i)
        d[i] = c.drops[i].get();
    return d;
}

// "name=n ..." for every drop counter that moved, in enum order: compares
// the whole set at once and reads well when it fails.
std::string moved(const DropCounts& before, const DropCounts& after) {
    std::string s;
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        if (after[i] == before[i])
            continue;
        if (!s.empty())
            s += ' ';
        s += std::string{kDropReasonNames[i]} + "=" + std::to_string(after[i] - before[i]);
    }
    return s;
}

// --- The gateway under test ---------------------------------------------------------

unsigned next_id() {
    static unsigned n = 0;
    return n++;
}

struct PoolFree {
    void operator()(rte_mempool* mp) const noexcept { rte_mempool_free(mp); }
};

rte_mempool* make_pool() {
    ensure_eal();
    const std::string name = "gold_mp" + std::to_string(next_id());
    rte_mempool* mp =
        rte_pktmbuf_pool_create(name.c_str(), 512, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (mp == nullptr)
        throw std::runtime_error("rte_pktmbuf_pool_create failed");
    return mp;
}

struct Options {
    EncapMode mode = EncapMode::Encaps;
    NonCatsPolicy non_cats = NonCatsPolicy::Forward;
    std::uint16_t mtu = 1500;
    std::vector<ServiceConfig> services = default_services();
    std::uint32_t flow_capacity = 1024;
};

struct Out {
    std::uint16_t port = kVerdictDrop;
    Bytes bytes;  // the mbuf after process_burst (dropped ones too)
};

// The real Engine, Fib, ServiceTable (qsbr = nullptr), FlowTable and
// WorkerCounters, driven one burst at a time.
class Gateway {
public:
    explicit Gateway(const Options& o = {})
        : pool_(make_pool()),
          fib_("gold_fib" + std::to_string(next_id()), SOCKET_ID_ANY,
               {{{ip6("fc00:a::"), 32}, kNbrA.address},
                {{ip6("fc00:b::"), 32}, kNbrB.address},
                {{ip6("fc00:c::"), 32}, kNbrC.address},
                {{ip6("2001:db8:f::"), 48}, kNbrD.address}},
               {kNbrA, kNbrB, kNbrC, kNbrD}),
          table(EncapParams{kEncapSrc, o.mode, kOuterHopLimit}, fib_, {kPortMac[0], kPortMac[1]}, nullptr, 16,
                64) {
        table.replace_all(o.services);
        std::memcpy(engine.parse.sid_prefix, kSidPrefix.data(), sizeof engine.parse.sid_prefix);
        engine.parse.sid_enabled = true;
        engine.non_cats = o.non_cats;
        engine.burst = 32;
        engine.port_ids = {0, 1};
        engine.port_mtu[0] = o.mtu;
        engine.port_mtu[1] = o.mtu;
        engine.port_mac[0] = kPortMac[0];
        engine.port_mac[1] = kPortMac[1];
        engine.fib = &fib_;
        engine.services = &table;
        w.index = 0;
        w.flows = std::make_unique<FlowTable>("gold_ft" + std::to_string(next_id()), o.flow_capacity, SOCKET_ID_ANY);
        w.ctr = std::make_unique<WorkerCounters>(16, 64);
        w.engine = &engine;
    }

    // An mbuf holding `b`; `headroom` >= 0 sets the headroom before it.
    rte_mbuf* mbuf(const Bytes& b, int headroom = -1) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_.get());
        REQUIRE(m != nullptr);
        if (headroom >= 0)
            m->data_off = static_cast<std::uint16_t>(headroom);
        char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(b.size()));
        REQUIRE(p != nullptr);
        std::memcpy(p, b.data(), b.size());
        return m;
    }

    // process_burst() on `pkts` with the current snapshot; frees them.
    std::vector<Out> process(std::vector<rte_mbuf*> pkts, std::uint32_t now_ms) {
        REQUIRE(pkts.size() <= kMaxBurst);
        std::uint16_t out[kMaxBurst];
        std::fill(std::begin(out), std::end(out), std::uint16_t{0x5A5A});
        process_burst(w, engine, *table.current(), pkts.data(), static_cast<std::uint16_t>(pkts.size()), now_ms,
                      out);
        std::vector<Out> res;
        for (std::size_t i = 0; i < pkts.size(); ++i) {
            rte_mbuf* m = pkts[i];
            CHECK((out[i] == kVerdictDrop || out[i] < 2));
            const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
            res.push_back({out[i], Bytes(p, p + m->data_len)});
            if (m->nb_segs == 1)
                CHECK(m->pkt_len == m->data_len);
            if (out[i] != kVerdictDrop)
                CHECK(m->port == out[i]);
            rte_pktmbuf_free(m);
        }
        return res;
    }

    std::vector<Out> run(const std::vector<Bytes>& in, std::uint32_t now_ms, int headroom = -1) {
        std::vector<rte_mbuf*> pkts;
        for (const Bytes& b : in)
            pkts.push_back(mbuf(b, headroom));
        return process(std::move(pkts), now_ms);
    }

    Out run1(const Bytes& in, std::uint32_t now_ms, int headroom = -1) { return run({in}, now_ms, headroom)[0]; }

    // The instance of `cs_id` that `o` was steered to. The outer DA names it;
    // the Ethernet header and port must be those of its first SID's neighbor.
    std::uint32_t instance_of(const Out& o, std::uint32_t cs_id) const {
        REQUIRE(o.port != kVerdictDrop);
        REQUIRE(o.bytes.size() >= 54);
        Ipv6Addr da;
        std::copy(o.bytes.begin() + 38, o.bytes.begin() + 54, da.begin());
        const Neighbor& nbr = neighbor_of(da);
        CHECK(Bytes(o.bytes.begin(), o.bytes.begin() + 6) == Bytes(nbr.mac.begin(), nbr.mac.end()));
        CHECK(Bytes(o.bytes.begin() + 6, o.bytes.begin() + 12) ==
              Bytes(kPortMac[nbr.port_id].begin(), kPortMac[nbr.port_id].end()));
        CHECK(o.port == nbr.port_id);
        for (const InstanceConfig& ic : table.configs().at(cs_id).instances)
            if (ic.sids[0] == da)
                return ic.id;
        FAIL("outer DA is no instance's first SID");
        return 0;
    }

    const Service& svc(std::uint32_t cs_id) const {
        const Service* s = table.current()->find(cs_id);
        REQUIRE(s != nullptr);
        return *s;
    }
    const Instance& inst(std::uint32_t cs_id, std::uint32_t id) const {
        for (const Instance& in : svc(cs_id).instances)
            if (in.id == id)
                return in;
        FAIL("no instance " << id);
        return svc(cs_id).instances[0];
    }

    WorkerCounters& ctr() { return *w.ctr; }
    std::uint32_t flow_count() const { return w.flows->count(); }
    void sweep(std::uint32_t now_ms, unsigned budget = 1024) {
        sweep_idle(w, *table.current(), now_ms, budget);
    }

private:
    std::unique_ptr<rte_mempool, PoolFree> pool_;
    Fib fib_;

public:
    ServiceTable table;
    Engine engine;
    Worker w;
};

// Check `o` is `inner` encapsulated towards `sids` (all but the flow label,
// which must be non-zero); returns the flow label.
std::uint32_t check_encap(const Out& o, const std::vector<Ipv6Addr>& sids, EncapMode mode, std::uint8_t tc,
                          const Bytes& inner) {
    const Bytes want = expected_encap(sids, mode, tc, inner);
    REQUIRE(o.port == neighbor_of(sids[0]).port_id);
    CHECK(hex(without_flow_label(o.bytes)) == hex(without_flow_label(want)));
    const std::uint32_t label = flow_label(o.bytes);
    CHECK(label != 0);
    return label;
}

// Dropped, and not modified (validate fully, then modify).
void check_dropped_untouched(const Out& o, const Bytes& in) {
    CHECK(o.port == kVerdictDrop);
    CHECK(hex(o.bytes) == hex(in));
}

}  // namespace

// ===========================================================================
// Steering: each request encoding, byte for byte
// ===========================================================================

TEST_CASE("golden: a CATS request is H.Encaps'd towards the instance", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    // One request per encoding, each framed differently; the second packet
    // of each flow differs in its payload only.
    struct Case {
        const char* name;
        MetaSource source;
        Bytes ip1, ip2;
        std::vector<VlanTag> vlans;
        Bytes trailer;
        std::uint8_t tc;
    };
    std::vector<Case> cases;
    const Flow f1{.tc = 0xB8, .flow_label = 0x54321};
    const Flow f2{.tc = 0xB8, .flow_label = 0x54321, .fill = 0x33};
    cases.push_back({"SRH TLV", MetaSource::SrhTlv, via_srh_tlv(md(kCsSingle), f1), via_srh_tlv(md(kCsSingle), f2),
                     {}, {}, 0xB8});
    const Flow g1{.sport = 5000, .tc = 0x01};
    const Flow g2{.sport = 5000, .tc = 0x01, .fill = 0x44};
    cases.push_back({"DOH option, 802.1Q, trailer", MetaSource::Option, via_doh(md(kCsSingle), g1),
                     via_doh(md(kCsSingle), g2), {{.tci = 100}}, Bytes(6, 0), 0x01});
    const Flow h1{.sport = 6000, .tc = 0xFF, .flow_label = 0xFFFFF, .payload = 0};
    const Flow h2{.sport = 6000, .tc = 0xFF, .flow_label = 0xFFFFF, .payload = 7};
    cases.push_back({"HBH option over TCP, QinQ", MetaSource::Option, via_hbh(md(kCsSingle), h1),
                     via_hbh(md(kCsSingle), h2), {{.tpid = 0x88A8, .tci = 7}, {.tci = 200}}, {}, 0xFF});
    const Flow s1{.sport = 7000, .tc = 0x28, .payload = 1};
    const Flow s2{.sport = 7000, .tc = 0x28, .payload = 300};
    cases.push_back({"service SID, trailer", MetaSource::ServiceSid, via_sid(kCsSingle, s1),
                     via_sid(kCsSingle, s2), {}, Bytes(20, 0xEE), 0x28});

    for (const Case& c : cases) {
        INFO(c.name);
        const auto steered0 = gw.ctr().steered.get();
        const auto src0 = gw.ctr().by_source[static_cast<std::size_t>(c.source)].get();
        const auto new0 = gw.ctr().new_flows.get();
        const auto hits0 = gw.ctr().flow_hits.get();
        const Bytes in1 = frame(c.ip1, c.vlans, c.trailer);
        const Bytes in2 = frame(c.ip2, c.vlans, c.trailer);
        const Out o1 = gw.run1(in1, 1000);
        const Out o2 = gw.run1(in2, 1001);
        const std::uint32_t l1 = check_encap(o1, kSingleSids, EncapMode::Encaps, c.tc, c.ip1);
        const std::uint32_t l2 = check_encap(o2, kSingleSids, EncapMode::Encaps, c.tc, c.ip2);
        CHECK(o1.port == 0);
        CHECK(l1 == l2);  // one flow, one outer flow label
        CHECK(gw.ctr().steered.get() - steered0 == 2);
        CHECK(gw.ctr().by_source[static_cast<std::size_t>(c.source)].get() - src0 == 2);
        CHECK(gw.ctr().new_flows.get() - new0 == 1);
        CHECK(gw.ctr().flow_hits.get() - hits0 == 1);
    }
    const Service& s = gw.svc(kCsSingle);
    CHECK(gw.ctr().services[s.slot].packets.get() == 8);
    CHECK(gw.ctr().instances[s.instances[0].slot].packets.get() == 8);
    CHECK(gw.ctr().instances[s.instances[0].slot].new_flows.get() == 4);
    CHECK(gw.ctr().forwarded.get() == 0);
    CHECK(moved(d0, drops(gw.ctr())).empty());
}

TEST_CASE("golden: service and instance byte counters count the received frame", "[golden]") {
    Gateway gw;
    const Bytes in = frame(via_sid(kCsOneSid), {{.tci = 5}}, Bytes(4, 0));
    const Out o = gw.run1(in, 1000);
    check_encap(o, kOneSid, EncapMode::Encaps, 0, via_sid(kCsOneSid));
    const Service& s = gw.svc(kCsOneSid);
    CHECK(gw.ctr().services[s.slot].bytes.get() == in.size());
    CHECK(gw.ctr().instances[s.instances[0].slot].bytes.get() == in.size());
    CHECK(gw.ctr().services[gw.svc(kCsSingle).slot].packets.get() == 0);
}

TEST_CASE("golden: an instance given a gone instance's counter slot counts from zero", "[golden]") {
    Gateway gw;
    // What cats-dataplane's main wires: the table resets slots it hands on.
    gw.table.on_counter_reset([&gw](std::span<const std::uint32_t> svcs, std::span<const std::uint32_t> insts) {
        gw.ctr().reset_slots(svcs, insts);
    });
    constexpr std::uint32_t kCsChurn = 700;
    gw.table.upsert_service(service(kCsChurn, {}));
    // Instances come and go, one at a time, until every one of the 64 slots
    // has been handed out and new ones live on slots of gone ones.
    for (std::uint32_t id = 1; id <= 80; ++id) {
        gw.table.upsert_instance(kCsChurn, instance(id, {ip6("fc00:a::700")}));
        gw.table.remove_instance(kCsChurn, id);
    }
    // History on every slot, then one more newcomer.
    for (std::uint32_t slot = 0; slot < 64; ++slot)
        gw.ctr().instances[slot].packets.add(1000);
    gw.table.upsert_instance(kCsChurn, instance(500, {ip6("fc00:a::700")}));
    const std::uint32_t slot = gw.inst(kCsChurn, 500).slot;
    CHECK(gw.ctr().instances[slot].packets.get() == 0);

    const Bytes ip = via_sid(kCsChurn);
    gw.run({frame(ip), frame(ip)}, 1000);
    CHECK(gw.ctr().instances[slot].packets.get() == 2);
    // Instances in the table keep their counts.
    CHECK(gw.ctr().instances[gw.inst(kCsSingle, 1).slot].packets.get() == 1000);
}

TEST_CASE("golden: one SID over port 1, H.Encaps", "[golden]") {
    Gateway gw;
    const Bytes ip = via_doh(md(kCsOneSid), {.tc = 0x10});
    const Out o = gw.run1(frame(ip), 1000);
    CHECK(o.port == 1);
    check_encap(o, kOneSid, EncapMode::Encaps, 0x10, ip);
}

TEST_CASE("golden: H.Encaps.Red", "[golden]") {
    Gateway gw({.mode = EncapMode::EncapsRed});
    SECTION("1 SID: no SRH, outer Next Header 41") {
        const Bytes ip = via_srh_tlv(md(kCsOneSid), {.tc = 0x20});
        const Out o = gw.run1(frame(ip), 1000);
        CHECK(o.port == 1);
        check_encap(o, kOneSid, EncapMode::EncapsRed, 0x20, ip);
        // Independently of the builder: 14 + 40 + the inner packet, NH 41.
        CHECK(o.bytes.size() == 14 + 40 + ip.size());
        CHECK(o.bytes[14 + 6] == 41);
        CHECK(wire::load_be16(&o.bytes[14 + 4]) == ip.size());
    }
    SECTION("3 SIDs: SRH without the first SID, Last Entry 1, Segments Left 2") {
        const Bytes ip = via_sid(kCsSingle, {.tc = 0x04});
        const Out o = gw.run1(frame(ip, {{.tci = 9}}), 1000);
        CHECK(o.port == 0);
        check_encap(o, kSingleSids, EncapMode::EncapsRed, 0x04, ip);
        REQUIRE(o.bytes.size() == 14 + 40 + 40 + ip.size());
        const std::size_t srh = 14 + 40;
        CHECK(o.bytes[14 + 6] == 43);
        CHECK(o.bytes[srh + 0] == 41);
        CHECK(o.bytes[srh + 1] == 4);  // Hdr Ext Len: 2 SIDs
        CHECK(o.bytes[srh + 3] == 2);  // Segments Left
        CHECK(o.bytes[srh + 4] == 1);  // Last Entry
    }
}

TEST_CASE("golden: outer flow label: same within a flow, spread across flows", "[golden]") {
    Gateway gw;
    std::set<std::uint32_t> labels;
    for (std::uint16_t k = 0; k < 16; ++k) {
        const Flow f{.sport = static_cast<std::uint16_t>(1000 + k)};
        Flow g = f;
        g.fill = 0x11;
        const std::vector<Out> o = gw.run({frame(via_sid(kCsSingle, f)), frame(via_sid(kCsSingle, g))}, 1000);
        const std::uint32_t a = check_encap(o[0], kSingleSids, EncapMode::Encaps, 0, via_sid(kCsSingle, f));
        const std::uint32_t b = check_encap(o[1], kSingleSids, EncapMode::Encaps, 0, via_sid(kCsSingle, g));
        CHECK(a == b);
        labels.insert(a);
    }
    CHECK(labels.size() >= 12);  // a hash, not a constant
}

// ===========================================================================
// Non-CATS IPv6: FIB forwarding
// ===========================================================================

TEST_CASE("golden: non-CATS IPv6 is forwarded by the FIB", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    SECTION("untagged") {
        const Flow f{.tc = 0x2E, .flow_label = 0x12345};
        Flow fwd = f;
        fwd.hop_limit = 63;
        const Out o = gw.run1(frame(plain(f)), 1000);
        REQUIRE(o.port == kNbrD.port_id);
        CHECK(hex(o.bytes) == hex(expected_forward(kNbrD, plain(fwd))));
        CHECK(gw.ctr().forwarded.get() == 1);
    }
    SECTION("802.1Q tag and Ethernet trailer are removed") {
        Flow f{.hop_limit = 2};
        Flow fwd = f;
        fwd.hop_limit = 1;
        const Out o = gw.run1(frame(plain(f), {{.tci = 0x0123}}, Bytes(10, 0)), 1000);
        REQUIRE(o.port == kNbrD.port_id);
        CHECK(hex(o.bytes) == hex(expected_forward(kNbrD, plain(fwd))));
    }
    SECTION("an SRv6 packet without CATS metadata is plain traffic") {
        const Ipv6Addr seg = ip6("fc00:c::77");
        auto pkt = [&](std::uint8_t hl) {
            return PacketBuilder{}
                .ipv6({.src = kClient, .dst = seg, .hop_limit = hl})
                .srh({.segments = {kServer, seg}})
                .udp({.sport = 1, .dport = 2})
                .build();
        };
        const Out o = gw.run1(frame(pkt(64)), 1000);
        REQUIRE(o.port == kNbrC.port_id);
        CHECK(hex(o.bytes) == hex(expected_forward(kNbrC, pkt(63))));
    }
    SECTION("to a neighbor's own address (/128)") {
        const Flow f{.hop_limit = 255};
        Flow fwd = f;
        fwd.hop_limit = 254;
        const Out o = gw.run1(frame(plain(f, kNbrA.address)), 1000);
        REQUIRE(o.port == kNbrA.port_id);
        CHECK(hex(o.bytes) == hex(expected_forward(kNbrA, plain(fwd, kNbrA.address))));
    }
    CHECK(gw.ctr().steered.get() == 0);
    CHECK(moved(d0, drops(gw.ctr())).empty());
    CHECK(gw.flow_count() == 0);
}

TEST_CASE("golden: non-CATS drops: no_route, hop_limit_exceeded, too_big", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    SECTION("no route") {
        const Bytes in = frame(plain({}, kNowhere));
        check_dropped_untouched(gw.run1(in, 1000), in);
        CHECK(moved(d0, drops(gw.ctr())) == "no_route=1");
    }
    SECTION("hop limit 1 and 0") {
        const Bytes in1 = frame(plain({.hop_limit = 1}));
        const Bytes in0 = frame(plain({.hop_limit = 0}));
        const std::vector<Out> o = gw.run({in1, in0}, 1000);
        check_dropped_untouched(o[0], in1);
        check_dropped_untouched(o[1], in0);
        CHECK(moved(d0, drops(gw.ctr())) == "hop_limit_exceeded=2");
    }
    SECTION("larger than the port MTU; exactly the MTU passes") {
        const Bytes fits = frame(plain({.payload = 1500 - 48}));     // IPv6 length 1500
        const Bytes big = frame(plain({.payload = 1500 - 48 + 1}));  // 1501
        const std::vector<Out> o = gw.run({fits, big}, 1000);
        CHECK(o[0].port == kNbrD.port_id);
        check_dropped_untouched(o[1], big);
        CHECK(moved(d0, drops(gw.ctr())) == "too_big=1");
        CHECK(gw.ctr().forwarded.get() == 1);
    }
    CHECK(gw.ctr().steered.get() == 0);
}

TEST_CASE("golden: non_cats = drop drops plain IPv6 but still steers requests", "[golden]") {
    Gateway gw({.non_cats = NonCatsPolicy::Drop});
    const DropCounts d0 = drops(gw.ctr());
    const Bytes p = frame(plain());
    const Bytes r = frame(via_sid(kCsSingle));
    const Bytes frag = frame(PacketBuilder{}
                                 .ipv6({.src = kClient, .dst = kServer})
                                 .frag({.offset = 10, .id = 77, .next_header = 17})
                                 .payload(Bytes(16, 1))
                                 .build());
    const std::vector<Out> o = gw.run({p, r, frag}, 1000);
    check_dropped_untouched(o[0], p);
    check_encap(o[1], kSingleSids, EncapMode::Encaps, 0, via_sid(kCsSingle));
    check_dropped_untouched(o[2], frag);
    CHECK(moved(d0, drops(gw.ctr())) == "non_cats=2");
    CHECK(gw.ctr().forwarded.get() == 0);
    CHECK(gw.ctr().steered.get() == 1);
}

// ===========================================================================
// Drops on the CATS path, each with its counter
// ===========================================================================

TEST_CASE("golden: CATS drops: unknown_service, no_instance, no_eligible_instance, no_route", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    SECTION("unknown service, by TLV and by service SID") {
        const Bytes a = frame(via_srh_tlv(md(999)));
        const Bytes b = frame(via_sid(0xDEADBEEF));
        const std::vector<Out> o = gw.run({a, b}, 1000);
        check_dropped_untouched(o[0], a);
        check_dropped_untouched(o[1], b);
        CHECK(moved(d0, drops(gw.ctr())) == "unknown_service=2");
    }
    SECTION("service without instances") {
        const Bytes a = frame(via_doh(md(kCsEmpty)));
        check_dropped_untouched(gw.run1(a, 1000), a);
        CHECK(moved(d0, drops(gw.ctr())) == "no_instance=1");
    }
    SECTION("strict: no instance meets the needs; no pin is left behind") {
        wire::CatsMetadata m = md(kCsMulti);
        m.req.compute_type = wire::kComputeGpu;  // every instance is CPU only
        m.req.strict = true;
        const Bytes a = frame(via_hbh(m));
        const Bytes b = frame(via_hbh(m));
        const std::vector<Out> o = gw.run({a, b}, 1000);
        check_dropped_untouched(o[0], a);
        check_dropped_untouched(o[1], b);
        CHECK(moved(d0, drops(gw.ctr())) == "no_eligible_instance=2");
        CHECK(gw.flow_count() == 0);
        CHECK(gw.ctr().new_flows.get() == 0);
    }
    SECTION("not strict: none eligible -> best effort") {
        wire::CatsMetadata m = md(kCsMulti);
        m.req.compute_type = wire::kComputeGpu;
        const Out o = gw.run1(frame(via_hbh(m)), 1000);
        CHECK(o.port != kVerdictDrop);
        CHECK(gw.ctr().best_effort.get() == 1);
        CHECK(gw.ctr().steered.get() == 1);
        CHECK(moved(d0, drops(gw.ctr())).empty());
    }
    SECTION("the only instance's SID has no route") {
        const Bytes a = frame(via_sid(kCsUnresolved));
        check_dropped_untouched(gw.run1(a, 1000), a);
        CHECK(moved(d0, drops(gw.ctr())) == "no_route=1");
        CHECK(gw.flow_count() == 0);
    }
    CHECK(gw.ctr().forwarded.get() == 0);
}

TEST_CASE("golden: no_eligible_instance by MAX_LATENCY_US, strict", "[golden]") {
    Gateway gw({.services = {service(kCsMulti, multi_instances({.latency_us = 900}))}});
    const DropCounts d0 = drops(gw.ctr());
    auto strict = [](std::uint32_t max_us) {
        wire::CatsMetadata m = md_latency(kCsMulti, max_us);
        m.req.strict = true;
        return m;
    };
    const Bytes bad = frame(via_doh(strict(899)));
    const Bytes good = frame(via_doh(strict(900), {.sport = 2}));
    const std::vector<Out> o = gw.run({bad, good}, 1000);
    check_dropped_untouched(o[0], bad);
    CHECK(o[1].port != kVerdictDrop);  // latency == MAX_LATENCY_US meets it
    CHECK(moved(d0, drops(gw.ctr())) == "no_eligible_instance=1");
    CHECK(gw.flow_count() == 1);
}

TEST_CASE("golden: malformed packets are dropped by reason, the rest of the burst goes on", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    Bytes arp = PacketBuilder{}.eth({.ether_type = 0x0806}).build();
    arp.resize(arp.size() + 28, 0);
    Bytes ipv4 = PacketBuilder{}.eth({.ether_type = 0x0800}).build();
    ipv4.push_back(0x45);
    ipv4.resize(ipv4.size() + 19, 0);
    const Bytes good_ip = via_sid(kCsSingle);
    const std::vector<Bytes> in = {
        Bytes(10, 0xAA),                                                                      // eth_truncated
        frame(plain(), {{.tci = 1}, {.tci = 2}, {.tci = 3}}),                                 // vlan_too_deep
        ipv4,                                                                                 // ipv4
        arp,                                                                                  // non_ip
        frame(good_ip),                                                                       // steered
        frame(PacketBuilder{}.ipv6({.src = kClient, .dst = kServer, .payload_length = 999})   // bad payload len
                  .udp({.sport = 1, .dport = 2})
                  .build()),
        frame(PacketBuilder{}.ipv6({.src = kClient, .dst = kServer})                          // hbh_not_first
                  .dst_opts()
                  .hbh()
                  .udp({.sport = 1, .dport = 2})
                  .build()),
        frame(PacketBuilder{}.ipv6({.src = kClient, .dst = kCliSeg1})                         // bad SL
                  .srh({.segments = {kCliSeg0, kCliSeg1}, .segments_left = 3, .tlvs = {cats_tlv(md(kCsSingle))}})
                  .udp({.sport = 1, .dport = 2})
                  .build()),
        frame(PacketBuilder{}.ipv6({.src = kClient, .dst = kServer})                          // cats_bad_version
                  .dst_opts({.options = {tlv(wire::kOptCats, {0x10, 0, 0, 0, 0, 0, 0, 100})}})
                  .udp({.sport = 1, .dport = 2})
                  .build()),
        frame(PacketBuilder{}.ipv6({.src = kClient, .dst = service_sid(kCsSingle)})           // l4_truncated
                  .raw(17, {1, 2, 3, 4})
                  .build()),
        frame(plain({.sport = 9})),                                                           // forwarded
    };
    const std::vector<Out> o = gw.run(in, 1000);
    for (std::size_t i = 0; i < in.size(); ++i) {
        INFO("packet " << i);
        if (i == 4) {
            check_encap(o[i], kSingleSids, EncapMode::Encaps, 0, good_ip);
        } else if (i == 10) {
            CHECK(o[i].port == kNbrD.port_id);
        } else {
            check_dropped_untouched(o[i], in[i]);
        }
    }
    CHECK(moved(d0, drops(gw.ctr())) ==
          "eth_truncated=1 vlan_too_deep=1 ipv4=1 non_ip=1 ipv6_bad_payload_len=1 hbh_not_first=1 "
          "srh_bad_segments_left=1 cats_bad_version=1 l4_truncated=1");
    CHECK(gw.ctr().steered.get() == 1);
    CHECK(gw.ctr().forwarded.get() == 1);
    CHECK(gw.flow_count() == 1);
}

TEST_CASE("golden: too_big: the encapsulated packet must fit the port MTU", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    // 3 SIDs add 40 + 56 = 96 bytes: an inner packet of 1404 makes 1500.
    const Bytes fits_ip = via_sid(kCsSingle, {.payload = 1404 - 48});
    const Bytes big_ip = via_sid(kCsSingle, {.sport = 1, .payload = 1404 - 48 + 1});
    REQUIRE(fits_ip.size() == 1404);
    const Bytes big = frame(big_ip);
    const std::vector<Out> o = gw.run({frame(fits_ip), big}, 1000);
    check_encap(o[0], kSingleSids, EncapMode::Encaps, 0, fits_ip);
    CHECK(o[0].bytes.size() == 14 + 1500);
    check_dropped_untouched(o[1], big);
    CHECK(moved(d0, drops(gw.ctr())) == "too_big=1");
    CHECK(gw.ctr().steered.get() == 1);
}

TEST_CASE("golden: too_big against a smaller MTU on the instance's port", "[golden]") {
    Gateway gw({.mtu = 1280});
    const DropCounts d0 = drops(gw.ctr());
    // 1 SID adds 40 + 24 = 64: 1216 fits 1280, 1217 does not.
    const Bytes fits_ip = via_sid(kCsOneSid, {.payload = 1216 - 48});
    const Bytes big = frame(via_sid(kCsOneSid, {.sport = 1, .payload = 1216 - 48 + 1}));
    const std::vector<Out> o = gw.run({frame(fits_ip), big}, 1000);
    check_encap(o[0], kOneSid, EncapMode::Encaps, 0, fits_ip);
    check_dropped_untouched(o[1], big);
    CHECK(moved(d0, drops(gw.ctr())) == "too_big=1");
}

// --- ICMPv6 Packet Too Big ----------------------------------------------------

const Ipv6Addr kGwIcmp = ip6("2001:db8:ffff::1");

// ICMPv6 errors from kGwIcmp, `rate` per second (what main() sets from the
// config; the Gateway's default sends none).
void enable_icmp(Gateway& gw, std::uint32_t rate) {
    gw.engine.icmp_source = kGwIcmp;
    gw.w.icmp = Icmp6Limiter(rate);
}

// `frames` received on `port` (the PMD sets m->port), processed at `now_ms`.
std::vector<Out> run_on(Gateway& gw, const std::vector<Bytes>& frames, std::uint16_t port, std::uint32_t now_ms) {
    std::vector<rte_mbuf*> pkts;
    for (const Bytes& b : frames) {
        pkts.push_back(gw.mbuf(b));
        pkts.back()->port = port;
    }
    return gw.process(std::move(pkts), now_ms);
}

// What must go back for the IPv6 packet `ip` (received from kClientMac on
// `port` with `vlans`): an ICMPv6 error of `type` and `rest`, from kGwIcmp
// to the packet's source, quoting at most 1232 bytes of it (1280 in all).
Bytes expected_icmp6(const Bytes& ip, std::uint8_t type, std::uint32_t rest, std::uint16_t port,
                     std::vector<VlanTag> vlans = {}) {
    Ipv6Addr sender;
    std::copy(ip.begin() + 8, ip.begin() + 24, sender.begin());
    const std::size_t quoted = std::min<std::size_t>(ip.size(), 1232);
    return PacketBuilder{}
        .eth({.dst = kClientMac, .src = kPortMac[port], .vlans = std::move(vlans), .ether_type = 0x86DD})
        .ipv6({.src = kGwIcmp, .dst = sender, .hop_limit = 255})
        .icmpv6({.type = type, .code = 0, .rest = rest})
        .payload(Bytes(ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(quoted)))
        .build();
}

// Packet Too Big reporting `mtu`.
Bytes expected_ptb(const Bytes& ip, std::uint32_t mtu, std::uint16_t port, std::vector<VlanTag> vlans = {}) {
    return expected_icmp6(ip, 2, mtu, port, std::move(vlans));
}

TEST_CASE("golden: too big to encapsulate: a Packet Too Big goes back to the sender", "[golden]") {
    Gateway gw({.mtu = 1400});
    enable_icmp(gw, 100);
    const DropCounts d0 = drops(gw.ctr());
    // 3 SIDs add 96 bytes: 1304 is the largest packet that fits 1400.
    const Bytes fits = via_sid(kCsSingle, {.payload = 1304 - 48});
    const Bytes big = via_sid(kCsSingle, {.sport = 2, .payload = 1304 - 48 + 1});
    const Bytes huge = via_doh(md(kCsSingle), {.sport = 3, .payload = 1400});  // quoted in part
    const std::vector<VlanTag> tag{{.tci = 42}};
    const std::vector<Out> o = run_on(gw, {frame(fits, tag), frame(big, tag), frame(huge)}, 1, 1000);
    check_encap(o[0], kSingleSids, EncapMode::Encaps, 0, fits);
    CHECK(o[1].port == 1);  // back where it came from
    CHECK(hex(o[1].bytes) == hex(expected_ptb(big, 1304, 1, tag)));
    CHECK(o[2].port == 1);
    CHECK(hex(o[2].bytes) == hex(expected_ptb(huge, 1304, 1)));
    CHECK(o[2].bytes.size() == 14 + 1280);
    CHECK(moved(d0, drops(gw.ctr())) == "too_big=2");
    CHECK(gw.ctr().icmp_too_big.get() == 2);
    CHECK(gw.ctr().steered.get() == 1);
}

TEST_CASE("golden: too big to forward: a Packet Too Big with the port's MTU", "[golden]") {
    Gateway gw;
    enable_icmp(gw, 100);
    const Bytes big = plain({.payload = 1500 - 48 + 1});
    const std::vector<Out> o = run_on(gw, {frame(big)}, 0, 1000);
    CHECK(o[0].port == 0);
    CHECK(hex(o[0].bytes) == hex(expected_ptb(big, 1500, 0)));
    CHECK(gw.ctr().icmp_too_big.get() == 1);
    CHECK(gw.ctr().forwarded.get() == 0);
}

TEST_CASE("golden: hop limit 1 or 0 on the forwarding path: Time Exceeded goes back", "[golden]") {
    Gateway gw;
    enable_icmp(gw, 100);
    const DropCounts d0 = drops(gw.ctr());
    const Bytes one = plain({.hop_limit = 1});
    const Bytes zero = plain({.sport = 9, .hop_limit = 0});
    const std::vector<VlanTag> tag{{.tci = 7}};
    const std::vector<Out> o = run_on(gw, {frame(one, tag), frame(zero)}, 1, 1000);
    CHECK(o[0].port == 1);
    CHECK(hex(o[0].bytes) == hex(expected_icmp6(one, 3, 0, 1, tag)));
    CHECK(hex(o[1].bytes) == hex(expected_icmp6(zero, 3, 0, 1)));
    CHECK(moved(d0, drops(gw.ctr())) == "hop_limit_exceeded=2");
    CHECK(gw.ctr().icmp_time_exceeded.get() == 2);
    CHECK(gw.ctr().icmp_too_big.get() == 0);
    // Steered requests are tunnelled, not routed: their hop limit is not ours.
    const Bytes req = via_sid(kCsSingle, {.hop_limit = 1});
    check_encap(run_on(gw, {frame(req)}, 0, 1000)[0], kSingleSids, EncapMode::Encaps, 0, req);
}

TEST_CASE("golden: Packet Too Big: never for an ICMPv6 error or a multicast source, and rate limited", "[golden]") {
    Gateway gw;
    enable_icmp(gw, 2);
    const DropCounts d0 = drops(gw.ctr());
    auto icmp = [](std::uint8_t type, const Ipv6Addr& src) {
        return PacketBuilder{}
            .ipv6({.src = src, .dst = kServer, .hop_limit = 64})
            .icmpv6({.type = type})
            .payload(Bytes(1500, 0x77))
            .build();
    };
    SECTION("an error about an error, or for nobody, is not sent") {
        const Bytes unreachable = frame(icmp(1, kClient));          // Destination Unreachable
        const Bytes from_multicast = frame(icmp(128, ip6("ff02::1")));
        const std::vector<Out> o = run_on(gw, {unreachable, from_multicast}, 0, 1000);
        check_dropped_untouched(o[0], unreachable);
        check_dropped_untouched(o[1], from_multicast);
        CHECK(gw.ctr().icmp_too_big.get() == 0);
        CHECK(gw.ctr().icmp_limited.get() == 2);
        CHECK(moved(d0, drops(gw.ctr())) == "too_big=2");
    }
    SECTION("an echo request gets one; 2 per second at most") {
        const Bytes echo = icmp(128, kClient);
        const std::vector<Out> o = run_on(gw, {frame(echo), frame(echo), frame(echo)}, 0, 1000);
        CHECK(hex(o[0].bytes) == hex(expected_ptb(echo, 1500, 0)));
        CHECK(hex(o[1].bytes) == hex(expected_ptb(echo, 1500, 0)));
        check_dropped_untouched(o[2], frame(echo));
        CHECK(gw.ctr().icmp_too_big.get() == 2);
        CHECK(gw.ctr().icmp_limited.get() == 1);
        // Half a second later one more token; a second later, two.
        CHECK(run_on(gw, {frame(echo), frame(echo)}, 0, 1500)[1].port == kVerdictDrop);
        const std::vector<Out> later = run_on(gw, {frame(echo), frame(echo), frame(echo)}, 0, 2600);
        CHECK(later[0].port == 0);
        CHECK(later[1].port == 0);
        CHECK(later[2].port == kVerdictDrop);
        CHECK(gw.ctr().icmp_too_big.get() == 5);
    }
}

TEST_CASE("golden: no_headroom: the outer headers need headroom + Ethernet", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    // 3 SIDs: 110 bytes go where the 14-byte Ethernet header was and 96 before.
    const Bytes ip = via_sid(kCsSingle);
    const Out ok = gw.run1(frame(ip), 1000, 96);
    check_encap(ok, kSingleSids, EncapMode::Encaps, 0, ip);
    const Bytes in = frame(ip);
    check_dropped_untouched(gw.run1(in, 1001, 95), in);
    // With an 802.1Q tag the tag's 4 bytes count too.
    const Bytes tagged = frame(ip, {{.tci = 3}});
    check_encap(gw.run1(tagged, 1002, 92), kSingleSids, EncapMode::Encaps, 0, ip);
    check_dropped_untouched(gw.run1(tagged, 1003, 91), tagged);
    CHECK(moved(d0, drops(gw.ctr())) == "no_headroom=2");
}

TEST_CASE("golden: non_contiguous: a chained mbuf is dropped", "[golden]") {
    Gateway gw;
    const DropCounts d0 = drops(gw.ctr());
    const Bytes in = frame(via_sid(kCsSingle));
    rte_mbuf* head = gw.mbuf(in);
    rte_mbuf* tail = gw.mbuf(Bytes(8, 0));
    REQUIRE(rte_pktmbuf_chain(head, tail) == 0);
    const std::vector<Out> o = gw.process({head}, 1000);
    check_dropped_untouched(o[0], in);
    CHECK(moved(d0, drops(gw.ctr())) == "non_contiguous=1");
}

// ===========================================================================
// Affinity
// ===========================================================================

TEST_CASE("golden: affinity: a flow stays pinned while the best choice changes", "[golden]") {
    Gateway gw;
    // 16 flows pinned first, one packet each, then many packets each.
    std::map<std::uint16_t, std::uint32_t> pinned;
    for (std::uint16_t sp = 100; sp < 116; ++sp)
        pinned[sp] = gw.instance_of(gw.run1(frame(via_doh(md(kCsGrow), {.sport = sp})), 1000), kCsGrow);
    for (const auto& [sp, id] : pinned)
        CHECK(id == 1);  // the only instance
    CHECK(gw.ctr().new_flows.get() == 16);
    CHECK(gw.flow_count() == 16);

    // A far heavier instance appears: stateless selection would move almost
    // every flow to it; pinned flows must not move.
    gw.table.upsert_instance(kCsGrow, instance(9, {ip6("fc00:b::609")}, {.weight = 1000000}));
    for (std::uint32_t t = 0; t < 8; ++t) {
        std::vector<Bytes> burst;
        for (const auto& [sp, id] : pinned)
            burst.push_back(frame(via_doh(md(kCsGrow), {.sport = sp, .fill = static_cast<std::uint8_t>(t)})));
        const std::vector<Out> o = gw.run(burst, 2000 + t * 100);
        for (const Out& x : o)
            CHECK(gw.instance_of(x, kCsGrow) == 1);
    }
    CHECK(gw.ctr().new_flows.get() == 16);      // counted once per flow
    CHECK(gw.ctr().flow_hits.get() == 16 * 8);
    CHECK(gw.ctr().resteered.get() == 0);
    CHECK(gw.flow_count() == 16);

    // New flows do go to the heavy instance.
    unsigned to_new = 0;
    for (std::uint16_t sp = 500; sp < 516; ++sp)
        to_new += gw.instance_of(gw.run1(frame(via_doh(md(kCsGrow), {.sport = sp})), 3000), kCsGrow) == 9;
    CHECK(to_new >= 15);
}

TEST_CASE("golden: affinity: the same AFFINITY_KEY pins different 5-tuples together", "[golden]") {
    Gateway gw;
    auto pkt = [](std::uint16_t k, const wire::CatsMetadata& m) {
        Flow f{.sport = static_cast<std::uint16_t>(2000 + k), .dport = static_cast<std::uint16_t>(80 + k)};
        f.src[15] = static_cast<std::uint8_t>(k);
        return frame(via_srh_tlv(m, f));
    };
    SECTION("with a key: one flow, one instance") {
        std::vector<Bytes> burst;
        for (std::uint16_t k = 0; k < 24; ++k)
            burst.push_back(pkt(k, md_affinity(kCsMulti, 0xA11CE)));
        const std::vector<Out> o = gw.run(burst, 1000);
        const std::uint32_t first = gw.instance_of(o[0], kCsMulti);
        const std::uint32_t label = flow_label(o[0].bytes);
        for (const Out& x : o) {
            CHECK(gw.instance_of(x, kCsMulti) == first);
            CHECK(flow_label(x.bytes) == label);
        }
        CHECK(gw.ctr().new_flows.get() == 1);
        CHECK(gw.ctr().flow_hits.get() == 23);
        CHECK(gw.flow_count() == 1);
        // Another key is another flow; the same key for another service too.
        gw.run({pkt(0, md_affinity(kCsMulti, 0xB0B)), pkt(0, md_affinity(kCsSingle, 0xA11CE))}, 1001);
        CHECK(gw.flow_count() == 3);
        CHECK(gw.ctr().new_flows.get() == 3);
    }
    SECTION("without a key the same 5-tuples spread (the control)") {
        std::vector<Bytes> burst;
        for (std::uint16_t k = 0; k < 24; ++k)
            burst.push_back(pkt(k, md(kCsMulti)));
        std::set<std::uint32_t> used;
        for (const Out& x : gw.run(burst, 1000))
            used.insert(gw.instance_of(x, kCsMulti));
        CHECK(used.size() >= 2);
        CHECK(gw.ctr().new_flows.get() == 24);
        CHECK(gw.flow_count() == 24);
    }
}

TEST_CASE("golden: affinity: traffic keeps a pin alive, idleness past the timeout re-selects", "[golden]") {
    Gateway gw;
    std::vector<Bytes> flows;
    for (std::uint16_t sp = 1; sp <= 8; ++sp)
        flows.push_back(frame(via_sid(kCsGrow, {.sport = sp})));
    for (const Out& o : gw.run(flows, 1000))
        CHECK(gw.instance_of(o, kCsGrow) == 1);
    gw.table.upsert_instance(kCsGrow, instance(9, {ip6("fc00:b::609")}, {.weight = 1000000}));

    // A packet every 6 s for 30 s, timeout 10 s: never idle long enough.
    std::uint32_t t = 1000;
    for (int k = 0; k < 5; ++k) {
        t += 6000;
        for (const Out& o : gw.run(flows, t))
            CHECK(gw.instance_of(o, kCsGrow) == 1);
    }
    // Exactly the timeout since the last packet: still pinned.
    t += kTimeoutMs;
    for (const Out& o : gw.run(flows, t))
        CHECK(gw.instance_of(o, kCsGrow) == 1);
    CHECK(gw.ctr().new_flows.get() == 8);
    CHECK(gw.ctr().flow_hits.get() == 8 * 6);

    // One millisecond more than the timeout: each flow is chosen afresh
    // (and the heavy instance wins), counted as a new flow, not a resteer.
    t += kTimeoutMs + 1;
    for (const Out& o : gw.run(flows, t))
        CHECK(gw.instance_of(o, kCsGrow) == 9);
    CHECK(gw.ctr().new_flows.get() == 16);
    CHECK(gw.ctr().flow_hits.get() == 8 * 6);
    CHECK(gw.ctr().resteered.get() == 0);
    CHECK(gw.flow_count() == 8);
    // And the new pin holds.
    for (const Out& o : gw.run(flows, t + 1))
        CHECK(gw.instance_of(o, kCsGrow) == 9);
    CHECK(gw.ctr().flow_hits.get() == 8 * 7);
}

TEST_CASE("golden: affinity across the 32-bit millisecond clock wrap", "[golden]") {
    Gateway gw;
    const Bytes f = frame(via_sid(kCsGrow));
    const std::uint32_t t0 = 0xFFFFFFFFu - 1000;
    CHECK(gw.instance_of(gw.run1(f, t0), kCsGrow) == 1);
    gw.table.upsert_instance(kCsGrow, instance(9, {ip6("fc00:b::609")}, {.weight = 1000000}));
    // 3001 ms later, past the wrap: still pinned, and not swept.
    CHECK(gw.instance_of(gw.run1(f, 2000), kCsGrow) == 1);
    gw.sweep(2000);
    CHECK(gw.flow_count() == 1);
    CHECK(gw.ctr().new_flows.get() == 1);
    CHECK(gw.ctr().flow_hits.get() == 1);
}

TEST_CASE("golden: sweep_idle removes expired pins only", "[golden]") {
    Gateway gw;
    std::vector<Bytes> old_flows, new_flows;
    for (std::uint16_t sp = 1; sp <= 8; ++sp)
        old_flows.push_back(frame(via_sid(kCsMulti, {.sport = sp})));
    for (std::uint16_t sp = 101; sp <= 104; ++sp)
        new_flows.push_back(frame(via_sid(kCsMulti, {.sport = sp})));
    gw.run(old_flows, 1000);
    gw.run(new_flows, 8000);
    REQUIRE(gw.flow_count() == 12);

    gw.sweep(1000 + kTimeoutMs, 0);  // no budget: nothing looked at
    CHECK(gw.flow_count() == 12);
    gw.sweep(1000 + kTimeoutMs);  // exactly the timeout: kept
    CHECK(gw.flow_count() == 12);
    CHECK(gw.ctr().expired.get() == 0);
    gw.sweep(1000 + kTimeoutMs + 1);
    CHECK(gw.flow_count() == 4);
    CHECK(gw.ctr().expired.get() == 8);
    gw.sweep(1000 + kTimeoutMs + 1);  // idempotent
    CHECK(gw.ctr().expired.get() == 8);
    gw.sweep(8000 + kTimeoutMs + 1);
    CHECK(gw.flow_count() == 0);
    CHECK(gw.ctr().expired.get() == 12);

    // A swept flow is a new flow when it comes back.
    const auto n0 = gw.ctr().new_flows.get();
    gw.run({old_flows[0]}, 20000);
    CHECK(gw.ctr().new_flows.get() == n0 + 1);
    CHECK(gw.flow_count() == 1);

    SECTION("a small budget sweeps in steps that cover the whole table") {
        gw.run(old_flows, 20000);  // 8 pins (one existed)
        REQUIRE(gw.flow_count() == 8);
        const auto e0 = gw.ctr().expired.get();
        for (std::uint32_t k = 0; k < 1024 / 16; ++k)
            gw.sweep(20000 + kTimeoutMs + 1, 16);
        CHECK(gw.flow_count() == 0);
        CHECK(gw.ctr().expired.get() - e0 == 8);
    }
    SECTION("pins of a removed service go at the next sweep") {
        gw.table.remove_service(kCsMulti);
        gw.sweep(20001);
        CHECK(gw.flow_count() == 0);
    }
}

TEST_CASE("golden: sweep_tick looks at the whole table once a second, only when the clock ticks", "[golden]") {
    Gateway gw;  // 1024 slots: 2 positions per millisecond
    REQUIRE(gw.w.flows->capacity() == 1024);
    std::vector<Bytes> flows;
    for (std::uint16_t sp = 1; sp <= 40; ++sp)
        flows.push_back(frame(via_sid(kCsMulti, {.sport = sp})));
    gw.run(flows, 1000);
    REQUIRE(gw.flow_count() == 40);
    const Snapshot& snap = *gw.table.current();
    const std::uint32_t t0 = 1000 + kTimeoutMs + 1;  // every pin has expired

    gw.w.last_sweep_ms = t0;
    sweep_tick(gw.w, snap, t0);  // the clock has not ticked: nothing looked at
    CHECK(gw.flow_count() == 40);
    std::uint32_t ms = 0;
    while (gw.flow_count() != 0 && ms < 2000)
        sweep_tick(gw.w, snap, t0 + ++ms);
    CHECK(gw.flow_count() == 0);
    CHECK(gw.ctr().expired.get() == 40);
    // 2 positions a tick: the pins sit somewhere in the 1024 slots, and all
    // of them were reached within the second that one pass takes.
    CHECK(ms >= 40 / 2);
    CHECK(ms <= 512);

    SECTION("after a long pause one call looks at the whole table") {
        gw.run(flows, t0 + 5000);
        REQUIRE(gw.flow_count() == 40);
        sweep_tick(gw.w, snap, t0 + 5000 + kTimeoutMs + 60000);
        CHECK(gw.flow_count() == 0);
    }
}

namespace {

// Pin `n` flows of kCsMulti (DOH requests with `m`, sports from `base`);
// returns sport -> instance id.
std::map<std::uint16_t, std::uint32_t> pin_flows(Gateway& gw, const wire::CatsMetadata& m, std::uint16_t base,
                                                 unsigned n, std::uint32_t now_ms) {
    std::vector<Bytes> burst;
    for (unsigned k = 0; k < n; ++k)
        burst.push_back(frame(via_doh(m, {.sport = static_cast<std::uint16_t>(base + k)})));
    const std::vector<Out> o = gw.run(burst, now_ms);
    std::map<std::uint16_t, std::uint32_t> at;
    for (unsigned k = 0; k < n; ++k)
        at[static_cast<std::uint16_t>(base + k)] = gw.instance_of(o[k], kCsMulti);
    return at;
}

// Send one more packet of each flow; returns sport -> instance id.
std::map<std::uint16_t, std::uint32_t> resend(Gateway& gw, const wire::CatsMetadata& m,
                                              const std::map<std::uint16_t, std::uint32_t>& flows,
                                              std::uint32_t now_ms) {
    std::vector<Bytes> burst;
    for (const auto& [sp, id] : flows)
        burst.push_back(frame(via_doh(m, {.sport = sp, .fill = 0x77})));
    const std::vector<Out> o = gw.run(burst, now_ms);
    std::map<std::uint16_t, std::uint32_t> at;
    std::size_t k = 0;
    for (const auto& [sp, id] : flows)
        at[sp] = gw.instance_of(o[k++], kCsMulti);
    return at;
}

// The flows on `victim` moved (elsewhere), all others stayed, and the
// counters say so.
void check_moved_off(Gateway& gw, const std::map<std::uint16_t, std::uint32_t>& before,
                     const std::map<std::uint16_t, std::uint32_t>& after, std::uint32_t victim) {
    unsigned on_victim = 0;
    for (const auto& [sp, id] : before) {
        INFO("sport " << sp << " was on " << id);
        if (id == victim) {
            ++on_victim;
            CHECK(after.at(sp) != victim);
        } else {
            CHECK(after.at(sp) == id);
        }
    }
    REQUIRE(on_victim > 0);
    CHECK(gw.ctr().resteered.get() == on_victim);
    CHECK(gw.ctr().new_flows.get() == before.size() + on_victim);
    CHECK(gw.ctr().flow_hits.get() == before.size() - on_victim);
}

template <typename Map>
std::set<std::uint32_t> used(const Map& at) {
    std::set<std::uint32_t> s;
    for (const auto& [sp, id] : at)
        s.insert(id);
    return s;
}

}  // namespace

TEST_CASE("golden: affinity: a removed instance's flows move, the others stay", "[golden]") {
    Gateway gw;
    const wire::CatsMetadata m = md(kCsMulti);
    const auto before = pin_flows(gw, m, 1000, 32, 1000);
    REQUIRE(used(before).size() == 3);
    // Instance 1 is first in the service: removing it shifts the others'
    // indices, so the pins' index hints are stale for every flow.
    gw.table.remove_instance(kCsMulti, 1);
    const auto after = resend(gw, m, before, 2000);
    check_moved_off(gw, before, after, 1);
    // And the moved flows are pinned again.
    const auto again = resend(gw, m, before, 3000);
    CHECK(again == after);
    CHECK(gw.ctr().resteered.get() == static_cast<std::uint64_t>(std::count_if(
                                          before.begin(), before.end(), [](auto& p) { return p.second == 1; })));
}

TEST_CASE("golden: affinity: an instance at load 100 loses its flows, the others stay", "[golden]") {
    Gateway gw;
    const wire::CatsMetadata m = md(kCsMulti);
    const auto before = pin_flows(gw, m, 1000, 32, 1000);
    REQUIRE(used(before).size() == 3);
    gw.table.upsert_instance(kCsMulti, instance(2, {ip6("fc00:b::200")}, {.load_pct = 100}));
    check_moved_off(gw, before, resend(gw, m, before, 2000), 2);
}

TEST_CASE("golden: affinity: latency above the flow's MAX_LATENCY_US moves it", "[golden]") {
    Gateway gw({.services = {service(kCsMulti, multi_instances({.latency_us = 100}))}});
    const wire::CatsMetadata bounded = md_latency(kCsMulti, 500);
    const wire::CatsMetadata unbounded = md(kCsMulti);
    const auto before = pin_flows(gw, bounded, 1000, 32, 1000);
    const auto loose = pin_flows(gw, unbounded, 3000, 32, 1000);
    REQUIRE(used(before).size() == 3);
    REQUIRE(used(loose).count(3) == 1);
    gw.table.upsert_instance(kCsMulti, instance(3, {ip6("fc00:c::200")}, {.latency_us = 501}));
    // Resend the bounded flows only first: they leave instance 3...
    const auto after = resend(gw, bounded, before, 2000);
    const auto hits0 = gw.ctr().flow_hits.get();
    unsigned on3 = 0;
    for (const auto& [sp, id] : before) {
        if (id == 3) {
            ++on3;
            CHECK(after.at(sp) != 3);
        } else {
            CHECK(after.at(sp) == id);
        }
    }
    CHECK(gw.ctr().resteered.get() == on3);
    // ...while flows that ask for no latency bound stay on it.
    const auto loose_after = resend(gw, unbounded, loose, 2000);
    CHECK(loose_after == loose);
    CHECK(gw.ctr().flow_hits.get() - hits0 == loose.size());
    CHECK(gw.ctr().resteered.get() == on3);
}

TEST_CASE("golden: affinity: best-effort flows", "[golden]") {
    Gateway gw;
    wire::CatsMetadata m = md(kCsMulti);
    m.req.compute_type = wire::kComputeGpu;  // nobody has a GPU: best effort
    const auto before = pin_flows(gw, m, 1000, 32, 1000);
    CHECK(gw.ctr().best_effort.get() == 32);
    REQUIRE(used(before).size() == 3);
    // Pinned although they still do not meet the needs: the pin holds.
    const auto same = resend(gw, m, before, 1500);
    CHECK(same == before);
    CHECK(gw.ctr().flow_hits.get() == 32);
    CHECK(gw.ctr().best_effort.get() == 32);
    // The pinned instance becomes unavailable: they move, the others stay.
    gw.table.upsert_instance(kCsMulti, instance(1, {ip6("fc00:a::200")}, {.free_capacity = 0}));
    const auto after = resend(gw, m, before, 2000);
    unsigned on1 = 0;
    for (const auto& [sp, id] : before) {
        if (id == 1) {
            ++on1;
            CHECK(after.at(sp) != 1);
        } else {
            CHECK(after.at(sp) == id);
        }
    }
    CHECK(on1 > 0);
    CHECK(gw.ctr().resteered.get() == on1);
    CHECK(gw.ctr().best_effort.get() == 32 + on1);
}

TEST_CASE("golden: affinity: pinned instance no longer meets the needs and none other does", "[golden]") {
    // The flow keeps being delivered, to the same (only) instance, now as
    // best effort.
    Gateway gw({.services = {service(kCsGrow, {instance(1, {ip6("fc00:a::600")}, {.latency_us = 100})})}});
    const Bytes f = frame(via_doh(md_latency(kCsGrow, 500)));
    CHECK(gw.instance_of(gw.run1(f, 1000), kCsGrow) == 1);
    CHECK(gw.ctr().best_effort.get() == 0);
    gw.table.upsert_instance(kCsGrow, instance(1, {ip6("fc00:a::600")}, {.latency_us = 1000}));
    CHECK(gw.instance_of(gw.run1(f, 2000), kCsGrow) == 1);
    CHECK(gw.ctr().best_effort.get() == 1);
    // From then on a best-effort pin: hits, no more re-selection.
    CHECK(gw.instance_of(gw.run1(f, 3000), kCsGrow) == 1);
    CHECK(gw.ctr().best_effort.get() == 1);
    CHECK(gw.ctr().flow_hits.get() == 1);
    CHECK(gw.ctr().steered.get() == 3);
}

TEST_CASE("golden: a full flow table still steers, without a pin", "[golden]") {
    Gateway gw({.flow_capacity = 8});
    std::vector<Bytes> burst;
    for (std::uint16_t sp = 1; sp <= 12; ++sp)
        burst.push_back(frame(via_sid(kCsMulti, {.sport = sp})));
    std::vector<std::uint32_t> first;
    for (const Out& o : gw.run(burst, 1000))
        first.push_back(gw.instance_of(o, kCsMulti));
    CHECK(gw.ctr().steered.get() == 12);
    CHECK(gw.flow_count() == 8);
    CHECK(gw.ctr().new_flows.get() == 8);
    CHECK(gw.ctr().flow_table_full.get() == 4);
    // Unpinned flows are still steered consistently (same hash, same choice).
    std::size_t k = 0;
    for (const Out& o : gw.run(burst, 1001))
        CHECK(gw.instance_of(o, kCsMulti) == first[k++]);
    CHECK(gw.ctr().flow_hits.get() == 8);
    CHECK(gw.ctr().flow_table_full.get() == 8);
}

TEST_CASE("golden: two packets of one new flow in one burst", "[golden]") {
    Gateway gw;
    const Bytes a1 = frame(via_doh(md(kCsMulti), {.sport = 1}));
    const Bytes a2 = frame(via_doh(md(kCsMulti), {.sport = 1, .fill = 1}));
    const Bytes b1 = frame(via_doh(md(kCsMulti), {.sport = 2}));
    const Bytes b2 = frame(via_doh(md(kCsMulti), {.sport = 2, .fill = 2}));
    const std::vector<Out> o = gw.run({a1, b1, a2, b2, a1}, 1000);
    CHECK(gw.instance_of(o[0], kCsMulti) == gw.instance_of(o[2], kCsMulti));
    CHECK(gw.instance_of(o[0], kCsMulti) == gw.instance_of(o[4], kCsMulti));
    CHECK(gw.instance_of(o[1], kCsMulti) == gw.instance_of(o[3], kCsMulti));
    CHECK(flow_label(o[0].bytes) == flow_label(o[2].bytes));
    CHECK(gw.ctr().new_flows.get() == 2);
    CHECK(gw.ctr().flow_hits.get() == 3);
    CHECK(gw.ctr().steered.get() == 5);
    CHECK(gw.flow_count() == 2);
}

// process_burst() chooses a new flow's instance a few new flows ahead of
// steering it; the choice must still be that flow's own (its service, its
// request, its hash), wherever it sits in the burst and whatever sits
// around it.
TEST_CASE("golden: a new flow's instance does not depend on the rest of its burst", "[golden]") {
    constexpr std::uint32_t kCsOther = 700;
    // Instances that differ, so that the request decides which may be chosen.
    const std::vector<ServiceConfig> services = {
        service(kCsMulti, {instance(1, {ip6("fc00:a::200")}, {.latency_us = 100}),
                           instance(2, {ip6("fc00:b::200")}, {.latency_us = 500}),
                           instance(3, {ip6("fc00:c::200")}, {.latency_us = 900})}),
        service(kCsOther, {instance(1, {ip6("fc00:a::700")}, {.latency_us = 900}),
                           instance(2, {ip6("fc00:b::700")}, {.latency_us = 100}),
                           instance(3, {ip6("fc00:c::700")}, {.latency_us = 500})}),
        service(kCsEmpty, {}),
    };
    const auto cs_of = [&](std::uint16_t sp) { return sp % 2 == 0 ? kCsMulti : kCsOther; };
    const auto req = [&](std::uint16_t sp, std::uint8_t fill = 0) {
        static constexpr std::uint32_t kBound[] = {UINT32_MAX, 600, 1000, 200, 550};
        return frame(via_doh(md_latency(cs_of(sp), kBound[sp % 5]), {.sport = sp, .fill = fill}));
    };
    // Each flow alone, in a burst of its own, on a gateway of its own.
    std::map<std::uint16_t, std::uint32_t> alone;
    for (std::uint16_t sp = 1; sp <= 36; ++sp) {
        Gateway ref({.services = services});
        alone[sp] = ref.instance_of(ref.run1(req(sp), 1000), cs_of(sp));
    }
    REQUIRE(used(alone).size() == 3);

    // One burst: pinned flows (1..8) between new ones (9..36), unknown
    // services, services without instances, plain IPv6, a malformed
    // request, and a second packet of a flow that is new in this burst.
    Gateway gw({.services = services});
    std::vector<Bytes> pin;
    for (std::uint16_t sp = 1; sp <= 8; ++sp)
        pin.push_back(req(sp));
    gw.run(pin, 1000);
    const DropCounts d0 = drops(gw.ctr());
    std::vector<Bytes> burst;
    std::vector<std::uint16_t> sport_at;  // 0: not a request of a service with instances
    const auto add = [&](Bytes b, std::uint16_t sp) {
        burst.push_back(std::move(b));
        sport_at.push_back(sp);
    };
    for (std::uint16_t sp = 9; sp <= 36; ++sp) {
        add(req(sp), sp);
        if (sp <= 16)
            add(req(static_cast<std::uint16_t>(sp - 8), 1), static_cast<std::uint16_t>(sp - 8));
        if (sp % 5 == 0)
            add(frame(via_doh(md(999), {.sport = sp})), 0);
        if (sp % 7 == 0)
            add(frame(via_doh(md(kCsEmpty), {.sport = sp})), 0);
        if (sp % 9 == 0)
            add(frame(plain({})), 0);
    }
    Bytes bad = req(37);
    bad.resize(kEthHdrLen + kIpv6HdrLen + 2);  // cut inside the Destination Options header
    add(bad, 0);
    add(req(20, 2), 20);
    REQUIRE(burst.size() <= kMaxBurst);

    const std::vector<Out> o = gw.run(burst, 2000);
    for (std::size_t i = 0; i < burst.size(); ++i) {
        if (sport_at[i] == 0)
            continue;
        INFO("packet " << i << ", sport " << sport_at[i]);
        CHECK(gw.instance_of(o[i], cs_of(sport_at[i])) == alone.at(sport_at[i]));
    }
    CHECK(gw.ctr().new_flows.get() == 8 + 28);
    CHECK(gw.ctr().flow_hits.get() == 8 + 1);
    CHECK(gw.ctr().forwarded.get() == 4);
    CHECK(moved(d0, drops(gw.ctr())) == "ipv6_bad_payload_len=1 unknown_service=6 no_instance=4");
}

TEST_CASE("golden: ESP flows are keyed by SPI", "[golden]") {
    Gateway gw;
    auto esp = [](std::uint32_t spi, std::uint32_t seq) {
        return frame(PacketBuilder{}
                         .ipv6({.src = kClient, .dst = service_sid(kCsMulti)})
                         .esp({.spi = spi, .seq = seq})
                         .payload(Bytes(40, static_cast<std::uint8_t>(seq)))
                         .build());
    };
    std::map<std::uint32_t, std::uint32_t> at;
    for (std::uint32_t seq = 1; seq <= 4; ++seq) {
        std::vector<Bytes> burst;
        for (std::uint32_t k = 0; k < 16; ++k)
            burst.push_back(esp(0x10000 * k + 0x1001, seq));  // SPIs differ in both halves
        const std::vector<Out> o = gw.run(burst, 1000 + seq);
        for (std::uint32_t k = 0; k < 16; ++k) {
            const std::uint32_t id = gw.instance_of(o[k], kCsMulti);
            if (seq == 1)
                at[k] = id;
            else
                CHECK(at[k] == id);
        }
    }
    std::set<std::uint32_t> ids;
    for (const auto& [k, id] : at)
        ids.insert(id);
    CHECK(ids.size() >= 2);  // the SPI is in the key: the SAs spread
    CHECK(gw.flow_count() == 16);
    CHECK(gw.ctr().new_flows.get() == 16);
    CHECK(gw.ctr().flow_hits.get() == 48);
}

// ===========================================================================
// Fragments
// ===========================================================================

namespace {

// First fragment: the CATS request in a Destination Options header after the
// Fragment header (fragmentable part), then UDP.
Bytes first_frag_doh(std::uint32_t id, std::uint16_t sport) {
    return frame(PacketBuilder{}
                     .ipv6({.src = kClient, .dst = kServer})
                     .frag({.offset = 0, .more = true, .id = id})
                     .dst_opts({.options = {cats_option(md(kCsMulti))}})
                     .udp({.sport = sport, .dport = 443})
                     .payload(Bytes(64, 1))
                     .build());
}

// A later fragment: no CATS metadata, no ports.
Bytes later_frag_ip(std::uint32_t id, std::uint16_t offset, bool more, std::uint8_t hop_limit = 64) {
    return PacketBuilder{}
        .ipv6({.src = kClient, .dst = kServer, .hop_limit = hop_limit})
        .frag({.offset = offset, .more = more, .id = id, .next_header = 60})
        .payload(Bytes(48, static_cast<std::uint8_t>(offset)))
        .build();
}

// Fragments that all carry the request in the SRH (unfragmentable part).
Bytes srh_frag(std::uint32_t id, std::uint16_t offset, std::uint16_t sport) {
    PacketBuilder b;
    b.ipv6({.src = kClient, .dst = kCliSeg1})
        .srh({.segments = {kCliSeg0, kCliSeg1}, .tlvs = {cats_tlv(md(kCsMulti))}})
        .frag({.offset = offset, .more = true, .id = id, .next_header = 17});
    if (offset == 0)
        b.udp({.sport = sport, .dport = 443}).payload(Bytes(56, 2));
    else
        b.payload(Bytes(64, 3));
    return frame(b.build());
}

}  // namespace

TEST_CASE("golden: fragments follow their datagram's first fragment", "[golden]") {
    Gateway gw;
    SECTION("later fragments without CATS metadata") {
        std::map<std::uint32_t, std::uint32_t> at;
        for (std::uint32_t id = 1; id <= 16; ++id)
            at[id] = gw.instance_of(gw.run1(first_frag_doh(id, static_cast<std::uint16_t>(id)), 1000), kCsMulti);
        REQUIRE(used(at).size() >= 2);
        for (std::uint16_t off : {8, 16, 24}) {
            for (std::uint32_t id = 1; id <= 16; ++id) {
                INFO("datagram " << id << " offset " << off);
                const Bytes ip = later_frag_ip(id, off, off != 24);
                const Out o = gw.run1(frame(ip), 1100);
                CHECK(gw.instance_of(o, kCsMulti) == at[id]);
                check_encap(o, {gw.inst(kCsMulti, at[id]).sids[0]}, EncapMode::Encaps, 0, ip);
            }
        }
        CHECK(gw.ctr().steered.get() == 16 * 4);
        CHECK(gw.ctr().forwarded.get() == 0);
        CHECK(gw.ctr().by_source[static_cast<std::size_t>(MetaSource::None)].get() == 16 * 3);
    }
    SECTION("later fragments carrying the request in their SRH") {
        std::map<std::uint32_t, std::uint32_t> at;
        for (std::uint32_t id = 1; id <= 16; ++id)
            at[id] = gw.instance_of(gw.run1(srh_frag(id, 0, static_cast<std::uint16_t>(id)), 1000), kCsMulti);
        for (std::uint32_t id = 1; id <= 16; ++id) {
            INFO("datagram " << id);
            CHECK(gw.instance_of(gw.run1(srh_frag(id, 8, 0), 1100), kCsMulti) == at[id]);
            CHECK(gw.instance_of(gw.run1(srh_frag(id, 16, 0), 1200), kCsMulti) == at[id]);
        }
    }
    SECTION("a later fragment of an unknown datagram is plain traffic") {
        const DropCounts d0 = drops(gw.ctr());
        const Out o = gw.run1(frame(later_frag_ip(4242, 8, true), {{.tci = 1}}, Bytes(3, 0)), 1000);
        REQUIRE(o.port == kNbrD.port_id);
        CHECK(hex(o.bytes) == hex(expected_forward(kNbrD, later_frag_ip(4242, 8, true, 63))));
        CHECK(gw.ctr().forwarded.get() == 1);
        CHECK(gw.ctr().steered.get() == 0);
        CHECK(gw.flow_count() == 0);
        CHECK(moved(d0, drops(gw.ctr())).empty());
    }
    SECTION("a later fragment of another datagram (other id) is not pinned") {
        gw.run1(first_frag_doh(7, 7), 1000);
        const Out o = gw.run1(frame(later_frag_ip(8, 8, true)), 1001);
        CHECK(o.port == kNbrD.port_id);
        CHECK(gw.ctr().forwarded.get() == 1);
    }
}

// Fragments are sent back to back, so later fragments usually arrive in the
// same burst as their first fragment, after the burst's bulk lookup: they
// must still find the pin the first fragment made (a regression test for a
// bug where they were FIB-forwarded instead).
TEST_CASE("golden: fragments in the same burst as their first fragment follow it", "[golden]") {
    Gateway gw;
    std::vector<Bytes> burst;
    std::vector<Bytes> later_ips;
    for (std::uint32_t id = 1; id <= 4; ++id) {
        burst.push_back(first_frag_doh(id, static_cast<std::uint16_t>(id)));
        later_ips.push_back(later_frag_ip(id, 8, false));
        burst.push_back(frame(later_ips.back()));
    }
    const std::vector<Out> o = gw.run(burst, 1000);
    for (std::size_t k = 0; k < 4; ++k) {
        INFO("datagram " << k + 1);
        const std::uint32_t id = gw.instance_of(o[2 * k], kCsMulti);
        const Ipv6Addr sid = gw.inst(kCsMulti, id).sids[0];
        CHECK(o[2 * k + 1].port == neighbor_of(sid).port_id);
        CHECK(hex(without_flow_label(o[2 * k + 1].bytes)) ==
              hex(without_flow_label(expected_encap({sid}, EncapMode::Encaps, 0, later_ips[k]))));
    }
    CHECK(gw.ctr().forwarded.get() == 0);
    CHECK(gw.ctr().steered.get() == 8);
}

// ===========================================================================
// The SR domain's edge (RFC 8754 5.1, 7.1; issue 20, item 6)
// ===========================================================================

TEST_CASE("golden: sr_domain: packets from untrusted ports that address the domain are dropped", "[golden][sr_domain]") {
    Gateway gw;
    // The domain: instance A's locator and, for this test, the /64 of the
    // client SRH's segments. The service-SID /96 and the rest of
    // 2001:db8:f::/48 (routed via D) stay outside.
    const std::vector<Ipv6Prefix> domain = {{ip6("fc00:a::"), 32}, {ip6("2001:db8:f::"), 64}};
    gw.engine.sr_domain.assign(domain);
    gw.engine.port_trusted[1] = true;
    const DropCounts d0 = drops(gw.ctr());

    // An SRH whose segments are in the domain (active segment = DA).
    const Bytes srh_in = frame(via_srh_tlv(md(kCsSingle)));
    // Only the last segment (Segment List[0], visited last) is in the
    // domain: every entry is checked, not just the active one.
    const Bytes last_seg_in = frame(PacketBuilder{}
                                        .ipv6({.src = kClient, .dst = ip6("2001:db8:9::1")})
                                        .srh({.segments = {ip6("fc00:a::99"), ip6("2001:db8:9::1")}})
                                        .udp({})
                                        .build());
    // A plain packet to a SID of the domain, no SRH.
    const Bytes to_sid = frame(plain({}, ip6("fc00:a::1")));
    // Outside the domain: a service-SID request and a plain packet.
    const Bytes sid_req = frame(via_sid(kCsSingle));
    const Bytes outside = frame(plain({}, ip6("2001:db8:f:1::10")));

    SECTION("untrusted port 0: the three into the domain are dropped untouched, the rest goes on") {
        const std::vector<Out> o = run_on(gw, {srh_in, last_seg_in, to_sid, sid_req, outside}, 0, 1000);
        check_dropped_untouched(o[0], srh_in);
        check_dropped_untouched(o[1], last_seg_in);
        check_dropped_untouched(o[2], to_sid);
        check_encap(o[3], kSingleSids, EncapMode::Encaps, 0, via_sid(kCsSingle));
        CHECK(o[4].port == kNbrD.port_id);
        CHECK(moved(d0, drops(gw.ctr())) == "sr_domain=3");
        CHECK(gw.ctr().new_flows.get() == 1);  // no flow was pinned for a dropped request
    }
    SECTION("trusted port 1: the same packets are not checked") {
        const std::vector<Out> o = run_on(gw, {srh_in, to_sid}, 1, 1000);
        check_encap(o[0], kSingleSids, EncapMode::Encaps, 0, via_srh_tlv(md(kCsSingle)));
        CHECK(o[1].port != kVerdictDrop);
        CHECK(moved(d0, drops(gw.ctr())).find("sr_domain") == std::string::npos);
    }
    SECTION("no domain: nothing is checked") {
        gw.engine.sr_domain.assign({});
        const std::vector<Out> o = run_on(gw, {srh_in}, 0, 1000);
        CHECK(o[0].port != kVerdictDrop);
        CHECK(moved(d0, drops(gw.ctr())).empty());
    }
}

TEST_CASE("sr_domain: prefix matching at every length", "[sr_domain]") {
    SrDomain d;
    CHECK(d.empty());
    const std::vector<Ipv6Prefix> p = {{ip6("2001:db8::"), 32}, {ip6("fc00:0:0:1::"), 64}, {ip6("fd00::5"), 128},
                                       {ip6("fe00::"), 7}, {ip6("3fff:ffff:ffff:ffff:8000::"), 65}};
    d.assign(p);
    CHECK(d.size() == 5);
    CHECK(d.contains(ip6("2001:db8:ffff::1").data()));
    CHECK(!d.contains(ip6("2001:db9::").data()));
    CHECK(d.contains(ip6("fc00:0:0:1:ffff::").data()));
    CHECK(!d.contains(ip6("fc00:0:0:2::").data()));
    CHECK(d.contains(ip6("fd00::5").data()));
    CHECK(!d.contains(ip6("fd00::4").data()));
    CHECK(d.contains(ip6("ff00::").data()));  // fe00::/7
    CHECK(!d.contains(ip6("fc00::").data()));
    CHECK(d.contains(ip6("3fff:ffff:ffff:ffff:ffff::").data()));
    CHECK(!d.contains(ip6("3fff:ffff:ffff:ffff:7fff::").data()));
    // More than the limit: the first kMaxSrDomainPrefixes are kept.
    std::vector<Ipv6Prefix> many(kMaxSrDomainPrefixes + 4, Ipv6Prefix{ip6("2001:db8::"), 32});
    d.assign(many);
    CHECK(d.size() == kMaxSrDomainPrefixes);
}

// ===========================================================================
// SRH HMAC TLV on the new-flow path (RFC 8754 2.1.2; issue 20, item 6)
// ===========================================================================

namespace {

const Bytes kHmacKey = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};
constexpr std::uint32_t kHmacKeyId = 0x01020304;

struct HmacSpec {
    std::uint32_t key_id = kHmacKeyId;  // the TLV's Key ID
    Bytes key = kHmacKey;               // what signs it
    bool d_flag = false;
    bool corrupt = false;               // flip a bit of the HMAC
};

// The HMAC TLV for an SRH of `segments` (Last Entry = size - 1, flags 0)
// from `src`, computed with OpenSSL's one-shot HMAC() over the RFC's text:
// an implementation independent of dataplane/srh_hmac.cpp's.
Bytes hmac_tlv(const Ipv6Addr& src, const std::vector<Ipv6Addr>& segments, const HmacSpec& h) {
    Bytes text(src.begin(), src.end());
    text.push_back(static_cast<std::uint8_t>(segments.size() - 1));  // Last Entry
    text.push_back(0);                                               // Flags
    for (int shift = 24; shift >= 0; shift -= 8)
        text.push_back(static_cast<std::uint8_t>(h.key_id >> shift));
    for (const Ipv6Addr& a : segments)
        text.insert(text.end(), a.begin(), a.end());
    unsigned char mac[32];
    unsigned int mac_len = 0;
    REQUIRE(HMAC(EVP_sha256(), h.key.data(), static_cast<int>(h.key.size()), text.data(), text.size(), mac,
                 &mac_len) != nullptr);
    REQUIRE(mac_len == 32);
    if (h.corrupt)
        mac[31] ^= 1;
    Bytes tlv = {wire::kSrhTlvHmac, 38, static_cast<std::uint8_t>(h.d_flag ? 0x80 : 0), 0};
    for (int shift = 24; shift >= 0; shift -= 8)
        tlv.push_back(static_cast<std::uint8_t>(h.key_id >> shift));
    tlv.insert(tlv.end(), mac, mac + 32);
    return tlv;
}

// A CATS request in the SRH TLV with an HMAC TLV; the destination is the
// active segment unless `dst` says otherwise.
Bytes signed_request(const HmacSpec& h, const Flow& f = {}, std::optional<Ipv6Addr> dst = std::nullopt) {
    const std::vector<Ipv6Addr> segs = {kCliSeg0, kCliSeg1};
    return PacketBuilder{}
        .ipv6(ip_spec(f, dst.value_or(kCliSeg1)))
        .srh({.segments = segs, .tlvs = {cats_tlv(md(kCsSingle)), hmac_tlv(f.src, segs, h)}})
        .udp({.sport = f.sport, .dport = f.dport})
        .payload(Bytes(f.payload, f.fill))
        .build();
}

SrhHmacConfig hmac_config(bool require) {
    SrhHmacConfig c;
    c.require = require;
    c.keys.push_back({kHmacKeyId, kHmacKey});
    c.keys.push_back({99, Bytes(100, 0x77)});  // longer than a SHA-256 block: hashed first (RFC 2104)
    return c;
}

}  // namespace

TEST_CASE("srh hmac: compute() agrees with OpenSSL's HMAC() on the RFC 8754 text", "[srh_hmac]") {
    const std::vector<Ipv6Addr> segs = {kCliSeg0, kCliSeg1, kServer};
    Bytes flat;
    for (const Ipv6Addr& a : segs)
        flat.insert(flat.end(), a.begin(), a.end());
    for (const Bytes& key : {kHmacKey, Bytes(100, 0x77), Bytes(64, 0x01)}) {
        HmacSpec h{.key_id = 42, .key = key};
        const Bytes tlv = hmac_tlv(kClient, segs, h);
        std::uint8_t out[32];
        SrhHmac::compute(key, kClient.data(), 2, 0, 42, flat.data(), out);
        CHECK(hex(Bytes(out, out + 32)) == hex(Bytes(tlv.begin() + 8, tlv.end())));
    }
}

TEST_CASE("golden: srh_hmac: new flows must carry a valid HMAC; pinned flows are not re-checked", "[golden][srh_hmac]") {
    Gateway gw;
    const SrhHmac required(hmac_config(true));
    gw.engine.srh_hmac = &required;
    gw.engine.port_trusted[1] = true;
    const DropCounts d0 = drops(gw.ctr());
    const Flow f{.sport = 1111};

    SECTION("a valid HMAC: steered, counted as verified; the flow's later packets are not checked") {
        const Bytes ok = signed_request({}, f);
        const Out o = gw.run1(frame(ok), 1000);
        check_encap(o, kSingleSids, EncapMode::Encaps, 0, ok);
        CHECK(gw.ctr().srh_hmac_verified.get() == 1);
        // The pinned flow's next packet carries a broken HMAC: no choice is
        // made for it, so nothing to authenticate.
        const Bytes spoof = signed_request({.corrupt = true}, f);
        check_encap(gw.run1(frame(spoof), 1001), kSingleSids, EncapMode::Encaps, 0, spoof);
        CHECK(gw.ctr().srh_hmac_verified.get() == 1);
        CHECK(moved(d0, drops(gw.ctr())).empty());
        // With a key longer than a block (hashed first, RFC 2104).
        const Bytes long_key = signed_request({.key_id = 99, .key = Bytes(100, 0x77)}, {.sport = 2222});
        check_encap(gw.run1(frame(long_key), 1002), kSingleSids, EncapMode::Encaps, 0, long_key);
        CHECK(gw.ctr().srh_hmac_verified.get() == 2);
    }
    SECTION("bad, unknown key, missing, wrong destination: dropped untouched, no pin left") {
        const Bytes bad = frame(signed_request({.corrupt = true}, f));
        const Bytes wrong_key = frame(signed_request({.key = Bytes(32, 0xEE)}, {.sport = 3}));
        const Bytes unknown = frame(signed_request({.key_id = 5}, {.sport = 4}));
        const Bytes missing = frame(via_srh_tlv(md(kCsSingle), {.sport = 5}));
        const Bytes doh = frame(via_doh(md(kCsSingle), {.sport = 6}));
        // D flag clear and a destination that is not Segment List[SL].
        const Bytes not_active = frame(signed_request({}, {.sport = 7}, kCliSeg0));
        const std::vector<Out> o = gw.run({bad, wrong_key, unknown, missing, doh, not_active}, 1000);
        check_dropped_untouched(o[0], bad);
        check_dropped_untouched(o[1], wrong_key);
        check_dropped_untouched(o[2], unknown);
        check_dropped_untouched(o[3], missing);
        check_dropped_untouched(o[4], doh);
        check_dropped_untouched(o[5], not_active);
        CHECK(moved(d0, drops(gw.ctr())) == "srh_hmac_missing=2 srh_hmac_unknown_key=1 srh_hmac_bad=3");
        CHECK(gw.flow_count() == 0);
        CHECK(gw.ctr().new_flows.get() == 0);
        // The D flag (a reduced segment list) skips the destination check.
        const Bytes reduced = signed_request({.d_flag = true}, {.sport = 7}, kCliSeg0);
        CHECK(gw.run1(frame(reduced), 1001).port != kVerdictDrop);
    }
    SECTION("a trusted port is not checked") {
        const Bytes missing = via_srh_tlv(md(kCsSingle), {.sport = 5});
        const std::vector<Out> o = run_on(gw, {frame(missing)}, 1, 1000);
        check_encap(o[0], kSingleSids, EncapMode::Encaps, 0, missing);
        CHECK(gw.ctr().srh_hmac_verified.get() == 0);
    }
    SECTION("require: false: a request without the TLV goes on, one with a bad TLV does not") {
        const SrhHmac optional(hmac_config(false));
        gw.engine.srh_hmac = &optional;
        const Bytes missing = via_srh_tlv(md(kCsSingle), {.sport = 5});
        const Bytes bad = frame(signed_request({.corrupt = true}, f));
        const std::vector<Out> o = gw.run({frame(missing), bad}, 1000);
        check_encap(o[0], kSingleSids, EncapMode::Encaps, 0, missing);
        check_dropped_untouched(o[1], bad);
        CHECK(moved(d0, drops(gw.ctr())) == "srh_hmac_bad=1");
    }
}
