// SPDX-License-Identifier: BSD-3-Clause
// Kernel routes mirrored into the FIB (gateway.kernel_routes): the route
// messages as rtnetlink carries them (parse_route_message), and the FIB's
// run-time routes and neighbors (Fib::set_kernel_route, add_neighbor).
#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <rte_memory.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "addr_literal.hpp"
#include "eal_fixture.hpp"
#include "fib.hpp"
#include "neigh.hpp"

using namespace cats::dp;

using cats::test::addr;

namespace {

// An RTM_NEWROUTE as `ip -6 route add 2001:db8:b0:1::/48 via fe80::2 dev
// <7> metric 20 proto bgp table 1000` makes the kernel send (host bits in
// RTA_DST on purpose).
struct RouteBuf {
    alignas(nlmsghdr) std::array<char, 512> buf{};
    nlmsghdr* nlh;
    rtmsg* rtm;
    explicit RouteBuf(std::uint16_t type = RTM_NEWROUTE, std::uint8_t family = AF_INET6) {
        nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = type;
        rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        rtm->rtm_family = family;
        rtm->rtm_dst_len = 48;
        rtm->rtm_table = RT_TABLE_UNSPEC;  // > 255: only in RTA_TABLE
        rtm->rtm_protocol = RTPROT_BGP;
        rtm->rtm_type = RTN_UNICAST;
    }
    RouteBuf& dst(const char* a) { return put(RTA_DST, addr(a)); }
    RouteBuf& gateway(const char* a) { return put(RTA_GATEWAY, addr(a)); }
    RouteBuf& u32(std::uint16_t type, std::uint32_t v) {
        mnl_attr_put_u32(nlh, type, v);
        return *this;
    }
    RouteBuf& put(std::uint16_t type, const Ipv6Addr& a) {
        mnl_attr_put(nlh, type, 16, a.data());
        return *this;
    }
    RouteBuf& standard() { return dst("2001:db8:b0:1::").gateway("fe80::2").u32(RTA_OIF, 7).u32(RTA_PRIORITY, 20).u32(RTA_TABLE, 1000); }
};

}  // namespace

TEST_CASE("kernel routes: an IPv6 route message is read field by field", "[fib][kernel_routes]") {
    RouteBuf b;
    b.standard();
    const std::optional<KernelRouteMsg> m = parse_route_message(b.nlh);
    REQUIRE(m);
    CHECK(m->add);
    CHECK(m->prefix.addr == addr("2001:db8:b0::"));  // host bits of RTA_DST cleared
    CHECK(int(m->prefix.len) == 48);
    CHECK(m->table == 1000);  // RTA_TABLE, not rtm_table
    CHECK(m->metric == 20);
    CHECK(int(m->type) == RTN_UNICAST);
    CHECK(route_protocol_name(m->protocol) == "bgp");
    REQUIRE(m->gateway);
    CHECK(*m->gateway == addr("fe80::2"));
    CHECK(m->oif == 7);
    CHECK_FALSE(m->multipath);
    CHECK_FALSE(m->nexthop_object);
    CHECK_FALSE(m->source_specific);
    b.rtm->rtm_src_len = 64;  // `ip -6 route add ... from 2001:db8:c::/64`
    CHECK(parse_route_message(b.nlh)->source_specific);

    RouteBuf del(RTM_DELROUTE);
    del.standard();
    REQUIRE(parse_route_message(del.nlh));
    CHECK_FALSE(parse_route_message(del.nlh)->add);

    // The default route: no RTA_DST, length 0; a multipath route; a route
    // through a nexthop object.
    RouteBuf def;
    def.rtm->rtm_dst_len = 0;
    def.rtm->rtm_table = RT_TABLE_MAIN;
    def.u32(RTA_NH_ID, 5);
    mnl_attr_put(def.nlh, RTA_MULTIPATH, 4, "\0\0\0\0");
    const auto d = parse_route_message(def.nlh);
    REQUIRE(d);
    CHECK(d->prefix.addr == Ipv6Addr{});
    CHECK(int(d->prefix.len) == 0);
    CHECK(d->table == RT_TABLE_MAIN);
    CHECK(d->multipath);
    CHECK(d->nexthop_object);
    CHECK_FALSE(d->gateway);
}

TEST_CASE("kernel routes: anything else or malformed is refused", "[fib][kernel_routes]") {
    RouteBuf v4(RTM_NEWROUTE, AF_INET);
    v4.u32(RTA_DST, 0x0a000000);
    CHECK_FALSE(parse_route_message(v4.nlh));

    RouteBuf neigh(RTM_NEWNEIGH);
    neigh.standard();
    CHECK_FALSE(parse_route_message(neigh.nlh));

    RouteBuf no_dst;  // a /48 without its prefix
    no_dst.gateway("fe80::2");
    CHECK_FALSE(parse_route_message(no_dst.nlh));

    RouteBuf long_len;
    long_len.rtm->rtm_dst_len = 129;
    long_len.dst("2001:db8::");
    CHECK_FALSE(parse_route_message(long_len.nlh));

    RouteBuf short_dst;
    mnl_attr_put(short_dst.nlh, RTA_DST, 4, "\x20\x01\x0d\xb8");
    CHECK_FALSE(parse_route_message(short_dst.nlh));

    RouteBuf short_gw;
    short_gw.dst("2001:db8::");
    mnl_attr_put(short_gw.nlh, RTA_GATEWAY, 8, "\xfe\x80\0\0\0\0\0\0");
    CHECK_FALSE(parse_route_message(short_gw.nlh));

    RouteBuf short_oif;
    short_oif.dst("2001:db8::");
    mnl_attr_put_u16(short_oif.nlh, RTA_OIF, 7);
    CHECK_FALSE(parse_route_message(short_oif.nlh));

    // An attribute that claims more than the message holds.
    RouteBuf cut;
    cut.standard();
    cut.nlh->nlmsg_len -= 6;
    CHECK_FALSE(parse_route_message(cut.nlh));

    // A message shorter than its rtmsg.
    RouteBuf tiny;
    tiny.nlh->nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg)) - 1;
    CHECK_FALSE(parse_route_message(tiny.nlh));
}

TEST_CASE("kernel routes: installed in the FIB at run time, config routes win", "[fib][kernel_routes]") {
    cats::test::ensure_eal();
    const Ipv6Addr static_nbr = addr("2001:db8:f1::2");
    Fib fib("ut_kroute_fib", SOCKET_ID_ANY, {RouteConfig{Ipv6Prefix{addr("2001:db8:a1::"), 48}, static_nbr}},
            {Neighbor{static_nbr, MacAddr{2, 0, 0, 0, 0, 1}, 0}}, {addr("2001:db8:f1::1")}, false,
            KernelRouteLimits{2, 2});
    CHECK(fib.neighbor_count() == 1);
    CHECK(fib.neighbor_capacity() == 3);

    // Next hops: the configured one is found again; two more fit.
    CHECK(fib.add_neighbor(static_nbr, 0) == 0);
    const int ll = fib.add_neighbor(addr("fe80::2"), 1);
    CHECK(ll == 1);
    CHECK(fib.add_neighbor(addr("fe80::2"), 1) == 1);
    CHECK(fib.add_neighbor(addr("fe80::2"), 0) == 2);  // the same address on another port is another neighbor
    CHECK(fib.add_neighbor(addr("fe80::3"), 1) == -1);
    CHECK(fib.neighbor_count() == 3);
    CHECK(fib.neighbor(1).dynamic);
    CHECK(fib.neighbor(1).port_id == 1);
    CHECK_FALSE(fib.resolved_mac(1));  // unresolved until the kernel knows it

    const Ipv6Prefix b{addr("2001:db8:b0::"), 48};
    CHECK(fib.lookup(addr("2001:db8:b0::5")) == -1);
    CHECK(fib.set_kernel_route(b, 1) == Fib::KernelRoute::Installed);
    CHECK(fib.lookup(addr("2001:db8:b0::5")) == 1);
    CHECK(fib.kernel_route(b) == 1);
    // Changed in place.
    CHECK(fib.set_kernel_route(b, 2) == Fib::KernelRoute::Installed);
    CHECK(fib.lookup(addr("2001:db8:b0::5")) == 2);
    CHECK(fib.kernel_route_count() == 1);

    // The config's prefixes are not overridden, host bits or not; a longer
    // prefix inside one is the kernel's.
    CHECK(fib.set_kernel_route({addr("2001:db8:a1::"), 48}, 1) == Fib::KernelRoute::Shadowed);
    CHECK(fib.set_kernel_route({addr("2001:db8:f1::1"), 128}, 1) == Fib::KernelRoute::Shadowed);
    CHECK(fib.set_kernel_route({addr("2001:db8:f1::2"), 128}, 1) == Fib::KernelRoute::Shadowed);
    CHECK(fib.lookup(addr("2001:db8:a1:7::1")) == 0);
    const Ipv6Prefix a1_7{addr("2001:db8:a1:7::"), 64};
    CHECK(fib.set_kernel_route(a1_7, 1) == Fib::KernelRoute::Installed);
    CHECK(fib.lookup(addr("2001:db8:a1:7::1")) == 1);
    CHECK(fib.lookup(addr("2001:db8:a1:8::1")) == 0);

    // max_routes 2.
    CHECK(fib.set_kernel_route({addr("2001:db8:c0::"), 48}, 1) == Fib::KernelRoute::Full);
    CHECK(fib.lookup(addr("2001:db8:c0::1")) == -1);
    CHECK(fib.set_kernel_route({addr("2001:db8:c0::"), 48}, 7) == Fib::KernelRoute::Full);

    // Deleted: the covering config route applies again; nothing else moves.
    fib.delete_kernel_route(a1_7);
    CHECK(fib.lookup(addr("2001:db8:a1:7::1")) == 0);
    CHECK(fib.kernel_route(a1_7) == -1);
    fib.delete_kernel_route({addr("2001:db8:a1::"), 48});  // not a kernel route: stays
    CHECK(fib.lookup(addr("2001:db8:a1::1")) == 0);
    // Room again; a neighbor index that does not exist is refused.
    CHECK(fib.set_kernel_route({addr("2001:db8:c0::"), 48}, 7) == Fib::KernelRoute::Failed);
    CHECK(fib.set_kernel_route({addr("2001:db8:c0::"), 48}, 1) == Fib::KernelRoute::Installed);
    fib.delete_kernel_route(b);
    CHECK(fib.lookup(addr("2001:db8:b0::5")) == -1);
    CHECK(fib.kernel_route_count() == 1);
}
