// SPDX-License-Identifier: BSD-3-Clause
// wire::parse_ipv6, the one IPv6 text reader of every config, flag and CLI.
#include <catch2/catch.hpp>

#include <string>

#include "ipv6_text.hpp"

using cats::wire::parse_ipv6;

TEST_CASE("parse_ipv6 reads inet_pton's forms", "[wire][ipv6]") {
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

TEST_CASE("parse_ipv6 refuses what is not one IPv6 address", "[wire][ipv6]") {
    for (const char* bad : {"", "192.0.2.1", "2001:db8::1/64", "2001:db8::1%eth0", "2001:db8:::1", " 2001:db8::1",
                            "2001:db8::1 ", "fc00::g"})
        CHECK_FALSE(parse_ipv6(bad));
    // A NUL would end the C string inet_pton reads, hiding the tail.
    CHECK_FALSE(parse_ipv6(std::string("2001:db8::1\0garbage", 19)));
    CHECK_FALSE(parse_ipv6(std::string("2001:db8::1\0", 12)));
}
