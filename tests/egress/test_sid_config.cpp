// SPDX-License-Identifier: BSD-3-Clause
// local_sids in the dataplane YAML (dataplane/config.cpp): what loads, and
// that each error names its YAML path and what is wrong.
#include <catch2/catch.hpp>

#include <string>

#include "config.hpp"
#include "packet_builder.hpp"

using namespace cats::dp;
using Catch::Contains;
using cats::test::ip6;

namespace {

// One port with an address (so that next hops can be on-link), a static
// neighbor, and `sids` as the local_sids list.
std::string with_sids(const std::string& sids) {
    return "gateway:\n"
           "  encap_source: 2001:db8:ff::1\n"
           "ports:\n"
           "  - name: p0\n"
           "    addresses: [2001:db8:ff::1/64]\n"
           "neighbors:\n"
           "  - {address: 2001:db8:aa::1, mac: 02:00:00:00:00:a1, port: p0}\n"
           "local_sids:\n" +
           sids;
}

}  // namespace

TEST_CASE("config: configs/egress.yaml loads with its four SIDs", "[egress][config]") {
    const Config c = load_config_file(std::string(CATS_SOURCE_ROOT) + "/configs/egress.yaml");
    REQUIRE(c.local_sids.size() == 4);
    CHECK(c.local_sids[0].sid.addr == ip6("2001:db8:a3::100"));
    CHECK(c.local_sids[0].sid.len == 128);
    CHECK(c.local_sids[0].behavior == SidBehavior::EndDX6);
    CHECK(c.local_sids[0].next_hop == ip6("2001:db8:e3:1::2"));
    CHECK(c.local_sids[2].behavior == SidBehavior::EndDT6);
    CHECK(!c.local_sids[2].next_hop);
    CHECK(c.local_sids[3].behavior == SidBehavior::End);
    CHECK(c.gateway.policy_table_size == 4096);
}

TEST_CASE("config: local_sids: addresses, prefixes, behaviours in any case", "[egress][config]") {
    const Config c = load_config_string(with_sids("  - {sid: 'fc00:e::1', behavior: end}\n"
                                                  "  - {sid: 'fc00:e:1::/48', behavior: END.dt6}\n"
                                                  "  - {sid: 'fc00:e::2', behavior: End.X, next_hop: 2001:db8:aa::1}\n"
                                                  "  - {sid: 'fc00:e::3', behavior: End.DX6, next_hop: 2001:db8:ff::9}\n"));
    REQUIRE(c.local_sids.size() == 4);
    CHECK(c.local_sids[1].sid.len == 48);
    CHECK(c.local_sids[1].behavior == SidBehavior::EndDT6);
    CHECK(c.local_sids[3].next_hop == ip6("2001:db8:ff::9"));  // on-link: resolved by NDP
    CHECK(c.gateway.policy_table_size == 4096);
}

TEST_CASE("config: local_sids errors name the field", "[egress][config]") {
    const auto err = [](const std::string& sids) {
        try {
            load_config_string(with_sids(sids));
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(err("  - {sid: 'fc00:e::1', behavior: End.DX4}\n"),
               Contains("local_sids[0].behavior: 'End.DX4' is not a behavior") && Contains("IPv4"));
    CHECK_THAT(err("  - {sid: 'fc00:e::1', behavior: End.DX6}\n"),
               Contains("local_sids[0]: End.DX6 needs next_hop"));
    CHECK_THAT(err("  - {sid: 'fc00:e::1', behavior: End, next_hop: 2001:db8:aa::1}\n"),
               Contains("local_sids[0].next_hop: End takes no next_hop (End.X does)"));
    CHECK_THAT(err("  - {sid: 'fc00:e::1', behavior: End.X, next_hop: 2001:db8:bb::1}\n"),
               Contains("local_sids[0].next_hop: 2001:db8:bb::1 is neither a static neighbor nor on-link"));
    CHECK_THAT(err("  - {sid: 'fc00:e::1', behavior: End}\n  - {sid: 'fc00:e::1', behavior: End.DT6}\n"),
               Contains("local_sids[1].sid: duplicate SID fc00:e::1 (first at local_sids[0])"));
    CHECK_THAT(err("  - {sid: 'fc00:e::1/64', behavior: End}\n"), Contains("local_sids[0].sid") && Contains("host bits"));
    CHECK_THAT(err("  - {sid: 'fc00::/8', behavior: End}\n"), Contains("at least a /16"));
    CHECK_THAT(err("  - {sid: 'ff02::1', behavior: End}\n"), Contains("multicast or link-local"));
    CHECK_THAT(err("  - {sid: '2001:db8:ff::1', behavior: End}\n"),
               Contains("local_sids[0].sid: 2001:db8:ff::1 is one of the ports' addresses"));
    CHECK_THAT(err("  - {sid: 'fc00:e::1', behavior: End, color: 3}\n"), Contains("local_sids[0]") && Contains("color"));
    CHECK_THAT(err("  - {behavior: End}\n"), Contains("local_sids[0].sid"));
}
