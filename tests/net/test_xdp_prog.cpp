// SPDX-License-Identifier: BSD-3-Clause
// cats_xdp.bpf.o under BPF_PROG_TEST_RUN: crafted packets of every class,
// each checked for its verdict (XDP_REDIRECT or XDP_PASS) and for the
// verdict counter that moved (exactly one class, by one packet and the
// frame's bytes).
//
// How "redirect" is seen: bpf_redirect_map() on an XSKMAP returns
// XDP_REDIRECT only when the slot holds a socket, and the fallback
// (XDP_PASS) when it is empty, so an empty map would make every class look
// passed. The test therefore puts a real AF_XDP socket in xsks_map[0]:
// bound to `lo` of a network namespace of its own (unshare(CLONE_NEWNET),
// so the host's interfaces are untouched), which is the device and queue 0
// that BPF_PROG_TEST_RUN presents the packet on. A test run does not
// deliver a redirect, it returns the verdict, so nothing reaches the
// socket. The fallback is tested too, by emptying the slot.
//
// Needs root and bpf(); without them it exits 77 (meson's "skipped") with
// one line that names what is missing.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "packet_builder.hpp"
#include "xdp_front.hpp"

namespace {

using namespace cats::test;
using cats::dp::xdp::AttachMode;
using cats::dp::xdp::XdpClass;
using cats::dp::xdp::XdpMap;
using cats::dp::xdp::XdpProgram;

// Addresses of the test's world.
const Ipv6Addr kClient = ip6("2001:db8:9::10");
const Ipv6Addr kHostAddr = ip6("2001:db8:1::1");          // the host's own
const Ipv6Addr kServiceSid = ip6("2001:db8:5::64");       // inside the /96
const Ipv6Addr kLocalSidExact = ip6("fc00:0:1::100");     // a /128 local SID
const Ipv6Addr kLocalSidInLocator = ip6("fc00:0:2:0:e::1"); // inside fc00:0:2::/48
const Ipv6Addr kTransit = ip6("2001:db8:77::1");          // nobody's
const Ipv6Addr kSeg1 = ip6("fc00:0:3::1");

cats::dp::xdp::XdpFilterConfig base_config(bool forward) {
    cats::dp::xdp::XdpFilterConfig c;
    c.service_sid_prefix = cats::wire::Ipv6Prefix{ip6("2001:db8:5::"), 96};
    c.non_cats_forward = forward;
    c.local_sids = {{kLocalSidExact, 128}, {ip6("fc00:0:2::"), 48}};
    c.host_addrs = {kHostAddr, ip6("2001:db8:1::2")};
    return c;
}

cats::wire::CatsMetadata md(std::uint32_t cs_id = 100) {
    cats::wire::CatsMetadata m;
    m.cs_id = cs_id;
    m.req.max_latency_us = 1000;
    return m;
}

// The world the tests run in: the loaded program and an AF_XDP socket in
// xsks_map[0]. Set up once by main().
struct World {
    std::optional<XdpProgram> prog;
    int xsk_fd = -1;
};
World g_world;

// An AF_XDP socket bound to queue 0 of `ifindex`, in copy mode, with the
// smallest UMEM and rings the kernel takes. -errno on failure.
int make_xsk(unsigned ifindex) {
    const int fd = socket(AF_XDP, SOCK_RAW, 0);
    if (fd < 0)
        return -errno;
    constexpr std::size_t kFrames = 64;
    constexpr std::size_t kFrameSize = 4096;
    void* area = mmap(nullptr, kFrames * kFrameSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        const int err = errno;
        close(fd);
        return -err;
    }
    xdp_umem_reg reg{};
    reg.addr = reinterpret_cast<std::uintptr_t>(area);
    reg.len = kFrames * kFrameSize;
    reg.chunk_size = kFrameSize;
    const int ring = 64;
    sockaddr_xdp sa{};
    sa.sxdp_family = AF_XDP;
    sa.sxdp_flags = XDP_COPY;
    sa.sxdp_ifindex = ifindex;
    sa.sxdp_queue_id = 0;
    if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) != 0 ||
        setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof ring) != 0 ||
        setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring, sizeof ring) != 0 ||
        setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof ring) != 0 ||
        bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        const int err = errno;
        close(fd);
        return -err;
    }
    return fd;  // the UMEM stays mapped for the life of the process
}

std::string put_xsk(int fd) {
    const std::uint32_t q = 0;
    if (const int err = bpf_map_update_elem(g_world.prog->map_fd(XdpMap::Xsks), &q, &fd, BPF_ANY); err != 0)
        return std::string("xsks_map[0] = xsk: ") + std::strerror(-err);
    return {};
}

struct Outcome {
    std::uint32_t verdict = 0;
    std::optional<XdpClass> cls;  // the one class whose counter moved
    std::string problem;          // why the counters do not say one class
};

std::vector<cats::dp::xdp::XdpCounter> counters() {
    auto r = g_world.prog->counters();
    REQUIRE(r.error == "");
    return *r.value;
}

// Run `pkt` through the program once; the verdict and which counter moved.
Outcome run(const Bytes& pkt) {
    const auto before = counters();
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(), .data_size_in = static_cast<std::uint32_t>(pkt.size()),
                .repeat = 1);
    const int err = bpf_prog_test_run_opts(g_world.prog->prog_fd(), &opts);
    REQUIRE(err == 0);
    const auto after = counters();
    Outcome o;
    o.verdict = opts.retval;
    for (std::size_t i = 0; i < after.size(); ++i) {
        const std::uint64_t dp = after[i].packets - before[i].packets;
        const std::uint64_t db = after[i].bytes - before[i].bytes;
        if (dp == 0 && db == 0)
            continue;
        if (o.cls || dp != 1 || db != pkt.size()) {
            o.problem += std::string(after[i].name) + " moved by " + std::to_string(dp) + " packets, " +
                         std::to_string(db) + " bytes; ";
            continue;
        }
        o.cls = after[i].cls;
    }
    if (!o.cls && o.problem.empty())
        o.problem = "no counter moved";
    return o;
}

// The verdict a class must get while xsks_map[0] holds a socket.
std::uint32_t expected_verdict(XdpClass c) {
    return cats::dp::xdp::redirected(c) ? XDP_REDIRECT : XDP_PASS;
}

void expect_class(const Bytes& pkt, XdpClass want) {
    const Outcome o = run(pkt);
    INFO("expected class " << cats::dp::xdp::class_name(want) << ", got "
                           << (o.cls ? cats::dp::xdp::class_name(*o.cls) : std::string_view("-")) << "; "
                           << o.problem);
    CHECK(o.problem == "");
    REQUIRE(o.cls.has_value());
    CHECK(*o.cls == want);
    CHECK(o.verdict == expected_verdict(want));
}

void configure(bool forward) {
    REQUIRE(g_world.prog->configure(base_config(forward)) == "");
}

// Frequently used builders.
PacketBuilder ipv6_to(const Ipv6Addr& dst, const EthSpec& eth = {}) {
    return PacketBuilder{}.eth(eth).ipv6({.src = kClient, .dst = dst});
}

Bytes udp_to(const Ipv6Addr& dst, std::uint16_t dport = 5000) {
    return ipv6_to(dst).udp({.sport = 4000, .dport = dport}).payload(Bytes(16, 0xAB)).build();
}

Bytes srh_cats(const Ipv6Addr& dst, std::vector<Bytes> tlvs, const EthSpec& eth = {}) {
    return ipv6_to(dst, eth)
        .srh({.segments = {kSeg1, dst}, .tlvs = std::move(tlvs)})
        .udp({.sport = 4000, .dport = 5000})
        .payload(Bytes(8, 1))
        .build();
}

}  // namespace

TEST_CASE("CATS-marked packets go to cats", "[xdp]") {
    configure(false);
    SECTION("SRH TLV 124 first, PadN after it") {
        expect_class(srh_cats(kTransit, {cats_tlv(md())}), XdpClass::CatsSrhTlv);
    }
    SECTION("SRH TLV 124 after PadN and an unknown TLV") {
        expect_class(srh_cats(kTransit, {srh_padn(4), tlv(0x7A, Bytes(6, 0)), srh_pad1(), cats_tlv(md())}),
                     XdpClass::CatsSrhTlv);
    }
    SECTION("SRH TLV 124 with a body cats will reject: still cats's to count") {
        Bytes bad = cats_tlv(md());
        bad[2] = 0x10;  // Version 1
        expect_class(srh_cats(kTransit, {bad}), XdpClass::CatsSrhTlv);
    }
    SECTION("Destination Options with option 0x1E") {
        expect_class(ipv6_to(kTransit).dst_opts({.options = {cats_option(md())}}).udp({.dport = 80}).build(),
                     XdpClass::CatsOption);
    }
    SECTION("Destination Options with option 0x1E after PadN and an unknown option") {
        expect_class(ipv6_to(kTransit)
                         .dst_opts({.options = {opt_padn(3), tlv(0x1F, Bytes(2, 0)), cats_option(md())}})
                         .tcp({.dport = 443})
                         .build(),
                     XdpClass::CatsOption);
    }
    SECTION("Hop-by-Hop with option 0x1E") {
        expect_class(ipv6_to(kTransit).hbh({.options = {cats_option(md())}}).udp({.dport = 80}).build(),
                     XdpClass::CatsOption);
    }
    SECTION("Destination Options after the SRH with option 0x1E") {
        expect_class(ipv6_to(kTransit)
                         .srh({.segments = {kSeg1, kTransit}})
                         .dst_opts({.options = {cats_option(md())}})
                         .udp({.dport = 80})
                         .build(),
                     XdpClass::CatsOption);
    }
    SECTION("both: the SRH TLV wins (SPEC.md 1)") {
        expect_class(ipv6_to(kTransit)
                         .hbh({.options = {cats_option(md(7))}})
                         .srh({.segments = {kSeg1, kTransit}, .tlvs = {cats_tlv(md())}})
                         .udp({.dport = 80})
                         .build(),
                     XdpClass::CatsSrhTlv);
    }
    SECTION("a CATS option to a host address is still cats's") {
        expect_class(ipv6_to(kHostAddr).dst_opts({.options = {cats_option(md())}}).udp({.dport = 80}).build(),
                     XdpClass::CatsOption);
    }
    SECTION("service SID destination") {
        expect_class(udp_to(kServiceSid), XdpClass::ServiceSid);
        expect_class(ipv6_to(ip6("2001:db8:5::ffff:ffff")).tcp({.dport = 80}).build(), XdpClass::ServiceSid);
    }
    SECTION("just outside the service-SID /96") {
        expect_class(udp_to(ip6("2001:db8:5:0:0:1::64")), XdpClass::TransitPassed);
    }
    SECTION("local SID: an exact /128") {
        expect_class(udp_to(kLocalSidExact), XdpClass::LocalSid);
        expect_class(udp_to(ip6("fc00:0:1::101")), XdpClass::TransitPassed);
    }
    SECTION("local SID: inside a locator /48") {
        expect_class(udp_to(kLocalSidInLocator), XdpClass::LocalSid);
        expect_class(ipv6_to(ip6("fc00:0:2::")).srh({.segments = {kSeg1, ip6("fc00:0:2::")}}).udp({}).build(),
                     XdpClass::LocalSid);
        expect_class(udp_to(ip6("fc00:0:3::1")), XdpClass::TransitPassed);
    }
}

TEST_CASE("transit follows non_cats", "[xdp]") {
    SECTION("forward: cats forwards it") {
        configure(true);
        expect_class(udp_to(kTransit), XdpClass::Transit);
        expect_class(ipv6_to(kTransit).srh({.segments = {kSeg1, kTransit}}).udp({}).build(), XdpClass::Transit);
        // The host's own traffic is still the host's.
        expect_class(udp_to(kHostAddr, 7410), XdpClass::Host);
        expect_class(udp_to(ip6("ff02::1")), XdpClass::Host);
    }
    SECTION("drop: the kernel has it") {
        configure(false);
        expect_class(udp_to(kTransit), XdpClass::TransitPassed);
    }
    SECTION("no service-SID prefix configured") {
        auto c = base_config(true);
        c.service_sid_prefix.reset();
        REQUIRE(g_world.prog->configure(c) == "");
        expect_class(udp_to(kServiceSid), XdpClass::Transit);
    }
}

TEST_CASE("NDP and the host's own traffic go to the kernel", "[xdp]") {
    configure(true);  // even with transit redirected
    const Ipv6Addr solicited = ip6("ff02::1:ff00:1");
    SECTION("NDP: RS, RA, NS, NA, Redirect") {
        expect_class(ipv6_to(ip6("ff02::2")).icmpv6({.type = 133}).build(), XdpClass::Ndp);
        expect_class(ipv6_to(ip6("ff02::1")).icmpv6({.type = 134}).build(), XdpClass::Ndp);
        expect_class(ipv6_to(solicited).icmpv6({.type = 135}).payload(Bytes(16, 0)).build(), XdpClass::Ndp);
        expect_class(ipv6_to(kHostAddr).icmpv6({.type = 136}).payload(Bytes(16, 0)).build(), XdpClass::Ndp);
        expect_class(ipv6_to(kHostAddr).icmpv6({.type = 137}).payload(Bytes(32, 0)).build(), XdpClass::Ndp);
        // Unicast NS to an address cats would otherwise take.
        expect_class(ipv6_to(kServiceSid).icmpv6({.type = 135}).payload(Bytes(16, 0)).build(), XdpClass::Ndp);
        expect_class(ipv6_to(kTransit).icmpv6({.type = 135}).payload(Bytes(16, 0)).build(), XdpClass::Ndp);
    }
    SECTION("ICMPv6 echo to a host address") {
        expect_class(ipv6_to(kHostAddr).icmpv6({.type = 128}).payload(Bytes(56, 7)).build(), XdpClass::Host);
    }
    SECTION("advertisement: UDP 7410 to a host address") {
        expect_class(udp_to(kHostAddr, 7410), XdpClass::Host);
    }
    SECTION("BGP: TCP 179 to a host address") {
        expect_class(ipv6_to(ip6("2001:db8:1::2")).tcp({.sport = 50000, .dport = 179}).build(), XdpClass::Host);
    }
    SECTION("link-local and multicast destinations") {
        expect_class(udp_to(ip6("fe80::1")), XdpClass::Host);
        expect_class(udp_to(ip6("febf::1")), XdpClass::Host);
        expect_class(udp_to(ip6("ff02::1:2"), 547), XdpClass::Host);  // DHCPv6
        expect_class(udp_to(ip6("ff05::fb")), XdpClass::Host);
        // MLDv2 report: Hop-by-Hop Router Alert (RFC 2711), ICMPv6 143.
        expect_class(ipv6_to(ip6("ff02::16"))
                         .hbh({.options = {Bytes{0x05, 0x02, 0x00, 0x00}}})
                         .icmpv6({.type = 143})
                         .build(),
                     XdpClass::Host);
        // fec0::/10 is not link-local.
        expect_class(udp_to(ip6("fec0::1")), XdpClass::Transit);
    }
    SECTION("Ethernet trailer padding is not read as headers") {
        expect_class(ipv6_to(kHostAddr).icmpv6({.type = 128}).trailer(Bytes(10, 0x3C)).build(), XdpClass::Host);
    }
}

TEST_CASE("what is not IPv6 goes to the kernel", "[xdp]") {
    configure(true);
    SECTION("IPv4") {
        Bytes v4 = PacketBuilder{}.eth({.ether_type = 0x0800}).payload(Bytes(40, 0x45)).build();
        expect_class(v4, XdpClass::NotIpv6);
    }
    SECTION("ARP") {
        expect_class(PacketBuilder{}.eth({.ether_type = 0x0806}).payload(Bytes(28, 0)).build(), XdpClass::NotIpv6);
    }
    SECTION("IPv4 under a VLAN tag") {
        expect_class(PacketBuilder{}.eth({.vlans = {{.tci = 5}}, .ether_type = 0x0800}).payload(Bytes(40, 0x45)).build(),
                     XdpClass::NotIpv6);
    }
}

TEST_CASE("VLAN tags", "[xdp]") {
    configure(false);
    SECTION("one 802.1Q tag") {
        expect_class(srh_cats(kTransit, {cats_tlv(md())}, {.vlans = {{.tci = 100}}}), XdpClass::CatsSrhTlv);
        expect_class(ipv6_to(kHostAddr, {.vlans = {{.tci = 100}}}).tcp({.dport = 179}).build(), XdpClass::Host);
    }
    SECTION("802.1ad then 802.1Q") {
        expect_class(srh_cats(kTransit, {cats_tlv(md())}, {.vlans = {{.tpid = 0x88A8, .tci = 1}, {.tci = 2}}}),
                     XdpClass::CatsSrhTlv);
    }
    SECTION("three tags: the parser's vlan_too_deep") {
        expect_class(srh_cats(kTransit, {cats_tlv(md())}, {.vlans = {{.tci = 1}, {.tci = 2}, {.tci = 3}}}),
                     XdpClass::Malformed);
    }
}

TEST_CASE("malformed IPv6 goes to the kernel", "[xdp]") {
    configure(true);
    SECTION("truncated IPv6 header") {
        Bytes p = udp_to(kTransit);
        p.resize(14 + 30);
        expect_class(p, XdpClass::Malformed);
    }
    SECTION("payload length past the frame") {
        expect_class(PacketBuilder{}
                         .eth()
                         .ipv6({.src = kClient, .dst = kTransit, .payload_length = 200})
                         .udp({})
                         .build(),
                     XdpClass::Malformed);
    }
    SECTION("version 4 in an IPv6 frame") {
        Bytes p = udp_to(kTransit);
        p[14] = 0x40;
        expect_class(p, XdpClass::Malformed);
    }
    SECTION("truncated extension header") {
        // A Destination Options header that claims 24 bytes, 8 present.
        expect_class(ipv6_to(kTransit).dst_opts({.options = {opt_padn(6)}, .hdr_ext_len = 2}).build(),
                     XdpClass::Malformed);
    }
    SECTION("an SRH whose length overruns the packet") {
        expect_class(ipv6_to(kTransit).srh({.segments = {kSeg1, kTransit}, .hdr_ext_len = 40}).build(),
                     XdpClass::Malformed);
    }
    SECTION("SRH Last Entry past its length") {
        expect_class(ipv6_to(kTransit).srh({.segments = {kSeg1, kTransit}, .last_entry = 3}).udp({}).build(),
                     XdpClass::Malformed);
    }
    SECTION("SRH Segments Left > Last Entry + 1") {
        expect_class(ipv6_to(kTransit).srh({.segments = {kSeg1, kTransit}, .segments_left = 3}).udp({}).build(),
                     XdpClass::Malformed);
    }
    SECTION("an SRH TLV that runs past the SRH, even after a CATS TLV") {
        expect_class(srh_cats(kTransit, {cats_tlv(md()), Bytes{0x7A, 0x30}}), XdpClass::Malformed);
    }
    SECTION("an option that runs past its header") {
        expect_class(ipv6_to(kTransit).dst_opts({.options = {Bytes{0x1F, 0x20}}}).udp({}).build(),
                     XdpClass::Malformed);
    }
    SECTION("two SRHs") {
        expect_class(ipv6_to(kTransit)
                         .srh({.segments = {kSeg1, kTransit}})
                         .srh({.segments = {kSeg1, kTransit}})
                         .udp({})
                         .build(),
                     XdpClass::Malformed);
    }
    SECTION("Hop-by-Hop not first") {
        expect_class(ipv6_to(kTransit).dst_opts({}).hbh({}).udp({}).build(), XdpClass::Malformed);
    }
    SECTION("routing type 0 with Segments Left (RFC 8200 4.4)") {
        expect_class(ipv6_to(kTransit).routing({.routing_type = 0, .segments_left = 1}).udp({}).build(),
                     XdpClass::Malformed);
    }
    SECTION("routing type 0 without Segments Left is skipped") {
        expect_class(ipv6_to(kTransit).routing({.routing_type = 0, .segments_left = 0}).udp({}).build(),
                     XdpClass::Transit);
    }
    SECTION("more than 8 extension headers") {
        PacketBuilder b = ipv6_to(kTransit);
        for (int i = 0; i < 9; ++i)
            b.dst_opts({});
        expect_class(b.udp({}).build(), XdpClass::Malformed);
        PacketBuilder ok = ipv6_to(kTransit);
        for (int i = 0; i < 8; ++i)
            ok.dst_opts({});
        expect_class(ok.udp({}).build(), XdpClass::Transit);
    }
    SECTION("a TCP header cut short") {
        Bytes p = ipv6_to(kTransit).raw(6, Bytes(10, 0)).build();
        expect_class(p, XdpClass::Malformed);
    }
}

TEST_CASE("fragments, AH and long option areas", "[xdp]") {
    configure(true);
    SECTION("a non-initial fragment has no upper-layer header to check") {
        expect_class(ipv6_to(kTransit).frag({.offset = 100, .id = 7}).raw(6, Bytes(4, 0)).build(), XdpClass::Transit);
        expect_class(ipv6_to(kServiceSid).frag({.offset = 100, .id = 7}).raw(6, Bytes(4, 0)).build(),
                     XdpClass::ServiceSid);
    }
    SECTION("an initial fragment and AH are walked") {
        expect_class(ipv6_to(kTransit).frag({.more = true}).dst_opts({.options = {cats_option(md())}}).udp({}).build(),
                     XdpClass::CatsOption);
        expect_class(ipv6_to(kHostAddr).ah({}).tcp({.dport = 179}).build(), XdpClass::Host);
    }
    SECTION("more options than the program walks: cats's parser decides") {
        std::vector<Bytes> pads(CATS_XDP_MAX_TLVS + 6, opt_pad1());
        expect_class(ipv6_to(kTransit).dst_opts({.options = pads}).udp({}).build(), XdpClass::WalkLimit);
        std::vector<Bytes> fits(CATS_XDP_MAX_TLVS - 2, opt_pad1());  // a 16-byte header: 14 Pad1 walked
        expect_class(ipv6_to(kTransit).dst_opts({.options = fits, .pad = false}).udp({}).build(), XdpClass::Transit);
    }
}

TEST_CASE("a queue without a socket falls back to the kernel", "[xdp]") {
    configure(true);
    const std::uint32_t q = 0;
    REQUIRE(bpf_map_delete_elem(g_world.prog->map_fd(XdpMap::Xsks), &q) == 0);
    const Outcome o = run(srh_cats(kTransit, {cats_tlv(md())}));
    REQUIRE(put_xsk(g_world.xsk_fd) == "");
    CHECK(o.problem == "");
    REQUIRE(o.cls.has_value());
    CHECK(*o.cls == XdpClass::CatsSrhTlv);  // counted as decided
    CHECK(o.verdict == XDP_PASS);           // but the kernel gets it
}

TEST_CASE("configure() checks before it writes and replaces the sets", "[xdp]") {
    configure(false);
    auto c = base_config(false);
    c.service_sid_prefix = cats::wire::Ipv6Prefix{ip6("2001:db8:6::"), 64};
    CHECK(g_world.prog->configure(c) == "service_sid_prefix: a /96 is required, got /64");
    expect_class(udp_to(kServiceSid), XdpClass::ServiceSid);  // unchanged

    // A new set of SIDs and host addresses replaces the old one.
    c = base_config(false);
    c.local_sids = {{ip6("fc00:0:9::"), 48}};
    c.host_addrs = {ip6("2001:db8:1::9")};
    REQUIRE(g_world.prog->configure(c) == "");
    expect_class(udp_to(kLocalSidExact), XdpClass::TransitPassed);
    expect_class(udp_to(ip6("fc00:0:9::5")), XdpClass::LocalSid);
    expect_class(udp_to(kHostAddr), XdpClass::TransitPassed);
    expect_class(udp_to(ip6("2001:db8:1::9")), XdpClass::Host);
}

TEST_CASE("from_ifindex() finds the attached program and its maps", "[xdp]") {
    const unsigned lo = if_nametoindex("lo");
    REQUIRE(lo != 0);
    auto none = XdpProgram::from_ifindex(lo);
    CHECK_FALSE(none);
    CHECK(none.error == "no XDP program is attached to ifindex " + std::to_string(lo));

    auto attached = XdpProgram::load_and_attach(CATS_XDP_OBJ, lo, AttachMode::Generic);
    REQUIRE(attached.error == "");
    auto found = XdpProgram::from_ifindex(lo);
    REQUIRE(found.error == "");
    CHECK(found.value->prog_id() == attached.value->prog_id());
    REQUIRE(found.value->configure(base_config(true)) == "");
    auto cs = found.value->counters();
    REQUIRE(cs.error == "");
    CHECK(cs.value->size() == cats::dp::xdp::kXdpClassCount);
    CHECK((*cs.value)[0].name == "cats_srh_tlv");

    // A second attach does not replace the first.
    auto second = XdpProgram::load_and_attach(CATS_XDP_OBJ, lo, AttachMode::Generic);
    CHECK_FALSE(second);
    CHECK(second.error.find("already attached") != std::string::npos);

    REQUIRE(attached.value->detach() == "");
    CHECK_FALSE(XdpProgram::from_ifindex(lo));
}

TEST_CASE("load() reports a missing object", "[xdp]") {
    auto r = XdpProgram::load("/nonexistent/cats_xdp.bpf.o");
    CHECK_FALSE(r);
    CHECK(r.error == "opening /nonexistent/cats_xdp.bpf.o: No such file or directory");
}

// Not run by default (hidden tag): `cats-xdp-tests "[.bench]"` prints the
// program's cost per packet as BPF_PROG_TEST_RUN measures it (repeat
// 100000; the counters move by as many).
TEST_CASE("cost per packet", "[.bench]") {
    configure(true);
    const std::pair<const char*, Bytes> cases[] = {
        {"srh_tlv", srh_cats(kTransit, {cats_tlv(md())})},
        {"option", ipv6_to(kTransit).dst_opts({.options = {cats_option(md())}}).udp({.dport = 80}).build()},
        {"service_sid", udp_to(kServiceSid)},
        {"local_sid", udp_to(kLocalSidInLocator)},
        {"host", udp_to(kHostAddr, 7410)},
        {"transit", udp_to(kTransit)},
        {"ndp", ipv6_to(ip6("ff02::1:ff00:1")).icmpv6({.type = 135}).payload(Bytes(16, 0)).build()},
    };
    for (const auto& [name, pkt] : cases) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(),
                    .data_size_in = static_cast<std::uint32_t>(pkt.size()), .repeat = 100000);
        REQUIRE(bpf_prog_test_run_opts(g_world.prog->prog_fd(), &opts) == 0);
        std::printf("%-12s %4zu bytes %5u ns/packet\n", name, pkt.size(), opts.duration);
    }
}

int main(int argc, char* argv[]) {
    if (geteuid() != 0) {
        std::puts("SKIP: needs root (CAP_BPF, CAP_NET_ADMIN) to load XDP programs");
        return 77;
    }
    // A namespace of our own: `lo` here is the test's, not the host's.
    if (unshare(CLONE_NEWNET) != 0) {
        std::printf("SKIP: unshare(CLONE_NEWNET): %s (needs CONFIG_NET_NS)\n", std::strerror(errno));
        return 77;
    }
    libbpf_set_print(nullptr);  // a failed load below is reported in one line
    auto loaded = XdpProgram::load(CATS_XDP_OBJ);
    if (!loaded) {
        const int probe = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 4, 1, nullptr);
        if (probe == -EPERM || probe == -ENOSYS) {
            std::printf("SKIP: bpf(): %s (needs CONFIG_BPF_SYSCALL and CAP_BPF)\n", std::strerror(-probe));
            return 77;
        }
        if (probe >= 0)
            close(probe);
        std::printf("FAIL: %s\n", loaded.error.c_str());
        return 1;
    }
    g_world.prog = std::move(loaded.value);
    const unsigned lo = if_nametoindex("lo");
    const int xsk = make_xsk(lo);
    if (xsk == -EAFNOSUPPORT) {
        std::puts("SKIP: socket(AF_XDP): address family not supported (needs CONFIG_XDP_SOCKETS)");
        return 77;
    }
    if (xsk < 0) {
        std::printf("FAIL: AF_XDP socket on lo: %s\n", std::strerror(-xsk));
        return 1;
    }
    g_world.xsk_fd = xsk;
    if (const std::string e = put_xsk(xsk); !e.empty()) {
        std::printf("FAIL: %s\n", e.c_str());
        return 1;
    }
    const int rc = Catch::Session().run(argc, argv);
    g_world.prog.reset();
    return rc;
}
