// SPDX-License-Identifier: BSD-3-Clause
// proto-defs/addr_text.hpp: the one reader and writer of IPv6 addresses,
// prefixes and MACs as text for every config, flag, CLI and report.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "addr_text.hpp"

using cats::wire::format_ipv6;
using cats::wire::format_mac;
using cats::wire::Ipv6Addr;
using cats::wire::MacAddr;
using cats::wire::parse_ipv6;
using cats::wire::parse_ipv6_prefix;
using cats::wire::parse_mac;

TEST_CASE("parse_ipv6 reads inet_pton's forms", "[wire][addr]") {
    const auto a = parse_ipv6("2001:db8::1");
    REQUIRE(a);
    CHECK((*a)[0] == 0x20);
    CHECK((*a)[1] == 0x01);
    CHECK((*a)[2] == 0x0d);
    CHECK((*a)[3] == 0xb8);
    CHECK((*a)[15] == 0x01);
    const auto v4 = parse_ipv6("::ffff:192.0.2.1");
    REQUIRE(v4);
    CHECK((*v4)[10] == 0xff);
    CHECK((*v4)[12] == 192);
    CHECK((*v4)[15] == 1);
    CHECK(parse_ipv6("::") == std::array<std::uint8_t, 16>{});
}

TEST_CASE("parse_ipv6 refuses what is not one IPv6 address", "[wire][addr]") {
    for (const char* bad : {"", "192.0.2.1", "2001:db8::1/64", "2001:db8::1%eth0", "2001:db8:::1", " 2001:db8::1",
                            "2001:db8::1 ", "fc00::g", "1:2:3:4:5:6:7:8:9", "[::1]"})
        CHECK_FALSE(parse_ipv6(bad));
    // A NUL would end the C string inet_pton reads, hiding the tail.
    CHECK_FALSE(parse_ipv6(std::string("2001:db8::1\0garbage", 19)));
    CHECK_FALSE(parse_ipv6(std::string("2001:db8::1\0", 12)));
}

TEST_CASE("format_ipv6 writes RFC 5952 form, which parse_ipv6 reads back", "[wire][addr]") {
    const std::pair<const char*, const char*> cases[] = {
        {"2001:db8::1", "2001:db8::1"},
        {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  // first longest run
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // no :: for one group
        {"::", "::"},
        {"::1", "::1"},
        {"fe80::", "fe80::"},
        {"2001:db8:ff::a1", "2001:db8:ff::a1"},
    };
    for (const auto& [in, out] : cases) {
        CAPTURE(in);
        const auto a = parse_ipv6(in);
        REQUIRE(a.has_value());
        CHECK(format_ipv6(*a) == out);
        CHECK(parse_ipv6(format_ipv6(*a)) == a);
    }
    const Ipv6Addr loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(parse_ipv6("::1") == loopback);
    const Ipv6Addr doc{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00};
    CHECK(parse_ipv6("2001:db8::100") == doc);
}

TEST_CASE("parse_ipv6_prefix reads addr/len, len 0-128", "[wire][addr]") {
    const auto p = parse_ipv6_prefix("2001:db8:a1::/48");
    REQUIRE(p.has_value());
    CHECK(p->addr == parse_ipv6("2001:db8:a1::"));
    CHECK(p->len == 48);
    CHECK(parse_ipv6_prefix("::/0")->len == 0);
    CHECK(parse_ipv6_prefix("::1/128")->len == 128);
    // Parsing is syntax only; host bits are checked where a prefix is used.
    CHECK(parse_ipv6_prefix("2001:db8::1/32").has_value());
    for (const char* bad : {"2001:db8::", "2001:db8::/129", "2001:db8::/", "/48", "2001:db8::/4x", "2001:db8::/-1",
                            "2001:db8::/+4", "2001:db8::/ 4", "2001:db8::/1000", "1.2.3.0/24", "2001:db8::/48/2"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_ipv6_prefix(bad).has_value());
    }
}

TEST_CASE("MAC addresses: hh:hh:hh:hh:hh:hh in either case, written in lower case", "[wire][addr]") {
    const auto m = parse_mac("02:00:00:00:00:A1");
    REQUIRE(m.has_value());
    CHECK(*m == MacAddr{0x02, 0, 0, 0, 0, 0xa1});
    CHECK(format_mac(*m) == "02:00:00:00:00:a1");
    CHECK(format_mac(MacAddr{0xff, 0xee, 0x0d, 0xc0, 0x01, 0x9a}) == "ff:ee:0d:c0:01:9a");
    CHECK(parse_mac("Ff:eE:0d:C0:01:9a") == MacAddr{0xff, 0xee, 0x0d, 0xc0, 0x01, 0x9a});
    for (const char* bad : {"", "02-00-00-00-00-a1", "2:0:0:0:0:a1", "02:00:00:00:00", "02:00:00:00:00:a1:ff",
                            "02:00:00:00:00:g1", "0200.0000.00a1", "02:00:00:00:00:a1 ", "02:00:00:00:00::1",
                            "02:00:00:00:0:0a1"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_mac(bad).has_value());
    }
}
