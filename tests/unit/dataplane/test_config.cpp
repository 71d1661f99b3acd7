// SPDX-License-Identifier: BSD-3-Clause
// dataplane/config: the sample config loads with the values it states, and
// every validation error names its YAML path. (The text forms of addresses:
// tests/unit/proto/test_addr_text.cpp.)
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "addr_literal.hpp"
#include "cats_wire.hpp"
#include "config.hpp"

using namespace cats::dp;
using Catch::Contains;
using Catch::StartsWith;

using cats::test::addr;

namespace {

MacAddr mac(const std::string& s) {
    const auto m = parse_mac(s);
    REQUIRE(m.has_value());
    return *m;
}

// A valid config with `gateway_extra` appended inside the gateway map and
// `rest` appended after the single port. Indentation is the caller's.
std::string cfg(const std::string& gateway_extra, const std::string& rest = "") {
    return "gateway:\n"
           "  encap_source: 2001:db8:ff::1\n" +
           gateway_extra +
           "ports:\n"
           "  - name: p0\n" +
           rest;
}

// A valid config with one neighbor, whose `services` list is `services`.
std::string with_services(const std::string& services) {
    return cfg("",
               "neighbors:\n"
               "  - {address: 2001:db8:ff::a1, mac: 02:00:00:00:00:a1, port: p0}\n"
               "services:\n" +
               services);
}

// A valid config whose single service has one instance with `instance_extra`
// keys (indented for the instance map).
std::string with_instance(const std::string& sids, const std::string& instance_extra = "") {
    return with_services("  - cs_id: 1\n"
                         "    name: s\n"
                         "    instances:\n"
                         "      - id: 1\n"
                         "        sids: " +
                         sids + "\n" + instance_extra);
}

std::string with_metrics(const std::string& metrics_line) {
    return with_instance("[2001:db8::1]", "        metrics:\n          " + metrics_line + "\n");
}

}  // namespace

// ---------------------------------------------------------------------------
// The sample config

TEST_CASE("config: configs/gateway.yaml loads with the values it states", "[config]") {
    const Config c = load_config_file(std::string(CATS_SOURCE_ROOT) + "/configs/gateway.yaml");

    const GatewayConfig& g = c.gateway;
    CHECK(g.encap_source == addr("2001:db8:ff::1"));
    REQUIRE(g.service_sid_prefix.has_value());
    CHECK(g.service_sid_prefix->addr == addr("2001:db8:5::"));
    CHECK(g.service_sid_prefix->len == 96);
    CHECK(g.encap_mode == EncapMode::Encaps);
    CHECK(g.hop_limit == 64);
    CHECK(g.flow_table_size == 65536);
    CHECK(g.max_services == 4096);
    CHECK(g.max_instances == 65536);
    CHECK(g.non_cats == NonCatsPolicy::Forward);
    CHECK(g.rss == RssMode::L3);
    CHECK(g.burst == 32);
    CHECK(g.icmp_rate == 100);

    REQUIRE(c.ports.size() == 1);
    CHECK(c.ports[0].name == "net_pcap0");
    CHECK(c.ports[0].mtu == 1500);
    CHECK(c.ports[0].rx_desc == 1024);
    CHECK(c.ports[0].tx_desc == 1024);
    CHECK_FALSE(c.ports[0].mac.has_value());

    REQUIRE(c.neighbors.size() == 3);
    const char* const suffixes[] = {"a1", "a2", "a3"};
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(c.neighbors[i].address == addr(std::string("2001:db8:ff::") + suffixes[i]));
        CHECK(c.neighbors[i].mac == mac(std::string("02:00:00:00:00:") + suffixes[i]));
        CHECK(c.neighbors[i].port == "net_pcap0");
    }

    REQUIRE(c.routes.size() == 4);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(c.routes[i].prefix.addr == addr(std::string("2001:db8:") + suffixes[i] + "::"));
        CHECK(c.routes[i].prefix.len == 48);
        CHECK(c.routes[i].via == addr(std::string("2001:db8:ff::") + suffixes[i]));
    }
    CHECK(c.routes[3].prefix.addr == addr("2001:db8:100::"));
    CHECK(c.routes[3].prefix.len == 40);
    CHECK(c.routes[3].via == addr("2001:db8:ff::a1"));

    REQUIRE(c.services.size() == 3);

    const ServiceConfig& video = c.services[0];
    CHECK(video.cs_id == 100);
    CHECK(video.name == "video-analytics");
    CHECK(video.affinity_timeout_s == 30);
    REQUIRE(video.instances.size() == 3);
    CHECK(video.instances[0].id == 1);
    CHECK(video.instances[0].sids == std::vector<Ipv6Addr>{addr("2001:db8:a1::100")});
    CHECK(video.instances[0].metrics == InstanceMetrics{9, 20, 500, 200, 10000000, cats::wire::kComputeCpu, 100});
    CHECK(video.instances[1].id == 2);
    CHECK(video.instances[1].sids == std::vector<Ipv6Addr>{addr("2001:db8:a2::100")});
    CHECK(video.instances[1].metrics == InstanceMetrics{7, 55, 200, 800, 1000000, cats::wire::kComputeCpu, 100});
    CHECK(video.instances[2].id == 3);
    CHECK(video.instances[2].sids ==
          std::vector<Ipv6Addr>{addr("2001:db8:a3::1"), addr("2001:db8:a3::2"), addr("2001:db8:a3::100")});
    CHECK(video.instances[2].metrics ==
          InstanceMetrics{10, 10, 1000, 3000, 40000000,
                          cats::wire::kComputeCpu | cats::wire::kComputeGpu, 200});

    const ServiceConfig& llm = c.services[1];
    CHECK(llm.cs_id == 200);
    CHECK(llm.name == "llm-inference");
    CHECK(llm.affinity_timeout_s == 300);
    REQUIRE(llm.instances.size() == 2);
    CHECK(llm.instances[0].id == 1);
    CHECK(llm.instances[0].sids == std::vector<Ipv6Addr>{addr("2001:db8:a2::200")});
    CHECK(llm.instances[0].metrics == InstanceMetrics{8, 70, 16, 900, 25000000, cats::wire::kComputeGpu, 100});
    CHECK(llm.instances[1].id == 2);
    CHECK(llm.instances[1].sids == std::vector<Ipv6Addr>{addr("2001:db8:a3::200")});
    CHECK(llm.instances[1].metrics ==
          InstanceMetrics{10, 30, 64, 2500, 100000000,
                          cats::wire::kComputeGpu | cats::wire::kComputeNpu, 300});

    const ServiceConfig& empty = c.services[2];
    CHECK(empty.cs_id == 300);
    CHECK(empty.name == "empty-service");
    CHECK(empty.affinity_timeout_s == 30);
    CHECK(empty.instances.empty());
}

// ---------------------------------------------------------------------------
// Defaults

TEST_CASE("config: defaults are applied to omitted keys", "[config]") {
    const Config c = load_config_string(with_services("  - cs_id: 7\n"
                                                      "    name: svc\n"
                                                      "    instances:\n"
                                                      "      - id: 4\n"
                                                      "        sids: [2001:db8::1]\n"
                                                      "      - id: 5\n"
                                                      "        sids: [2001:db8::2]\n"
                                                      "        metrics: {latency_us: 9}\n"));
    const GatewayConfig def;
    CHECK(c.gateway.encap_source == addr("2001:db8:ff::1"));
    CHECK_FALSE(c.gateway.service_sid_prefix.has_value());
    CHECK(c.gateway.encap_mode == def.encap_mode);
    CHECK(c.gateway.hop_limit == 64);
    CHECK(c.gateway.flow_table_size == 65536);
    CHECK(c.gateway.max_services == 4096);
    CHECK(c.gateway.max_instances == 65536);
    CHECK(c.gateway.non_cats == NonCatsPolicy::Forward);
    CHECK(c.gateway.rss == RssMode::L3);
    CHECK(c.gateway.burst == 32);

    REQUIRE(c.ports.size() == 1);
    CHECK(c.ports[0].mtu == 1500);
    CHECK(c.ports[0].rx_desc == 1024);
    CHECK(c.ports[0].tx_desc == 1024);
    CHECK_FALSE(c.ports[0].mac.has_value());
    CHECK(c.routes.empty());

    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].affinity_timeout_s == 30);
    REQUIRE(c.services[0].instances.size() == 2);
    const InstanceMetrics dm;
    CHECK(c.services[0].instances[0].metrics == dm);
    CHECK(dm.score == 10);
    CHECK(dm.load_pct == 0);
    CHECK(dm.free_capacity == 1);
    CHECK(dm.latency_us == 0);
    CHECK(dm.bandwidth_kbps == UINT32_MAX);
    CHECK(dm.compute_types == cats::wire::kComputeCpu);
    CHECK(dm.weight == 100);
    InstanceMetrics partial;
    partial.latency_us = 9;
    CHECK(c.services[0].instances[1].metrics == partial);
}

TEST_CASE("config: minimal config has empty optional sections", "[config]") {
    const Config c = load_config_string(cfg(""));
    CHECK(c.neighbors.empty());
    CHECK(c.routes.empty());
    CHECK(c.services.empty());
}

TEST_CASE("config: a key with no value is an empty list or map", "[config]") {
    const Config c = load_config_string(cfg("", "neighbors:\nroutes:\nservices:\n"
                                                "  - cs_id: 1\n"
                                                "    name: s\n"
                                                "    instances:\n"));
    CHECK(c.neighbors.empty());
    CHECK(c.routes.empty());
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].instances.empty());

    const Config m = load_config_string(with_instance("[2001:db8::1]", "        metrics:\n"));
    CHECK(m.services[0].instances[0].metrics == InstanceMetrics{});
}

TEST_CASE("config: every gateway key and port key is read", "[config]") {
    const Config c = load_config_string(cfg("  service_sid_prefix: 2001:db8:5::/96\n"
                                            "  encap_mode: encaps_red\n"
                                            "  hop_limit: 255\n"
                                            "  flow_table_size: 16777216\n"
                                            "  max_services: 1048576\n"
                                            "  max_instances: 16777216\n"
                                            "  non_cats: drop\n"
                                            "  rss: l3l4\n"
                                            "  burst: 64\n"
                                            "  icmp_rate: 0\n",
                                            "  - name: p1\n"
                                            "    mtu: 9600\n"
                                            "    rx_desc: 64\n"
                                            "    tx_desc: 16384\n"
                                            "    mac: 02:AB:cd:00:00:01\n"));
    CHECK(c.gateway.service_sid_prefix->len == 96);
    CHECK(c.gateway.encap_mode == EncapMode::EncapsRed);
    CHECK(c.gateway.hop_limit == 255);
    CHECK(c.gateway.flow_table_size == 16777216);
    CHECK(c.gateway.max_services == 1048576);
    CHECK(c.gateway.max_instances == 16777216);
    CHECK(c.gateway.non_cats == NonCatsPolicy::Drop);
    CHECK(c.gateway.rss == RssMode::L3L4);
    CHECK(c.gateway.burst == 64);
    CHECK(c.gateway.icmp_rate == 0);
    REQUIRE(c.ports.size() == 2);
    CHECK(c.ports[1].name == "p1");
    CHECK(c.ports[1].mtu == 9600);
    CHECK(c.ports[1].rx_desc == 64);
    CHECK(c.ports[1].tx_desc == 16384);
    REQUIRE(c.ports[1].mac.has_value());
    CHECK(format_mac(*c.ports[1].mac) == "02:ab:cd:00:00:01");
}

TEST_CASE("config: range bounds and u32 extremes are accepted", "[config]") {
    const Config c = load_config_string(with_services("  - cs_id: 4294967295\n"
                                                      "    name: s\n"
                                                      "    affinity_timeout_s: 86400\n"
                                                      "    instances:\n"
                                                      "      - id: 0\n"
                                                      "        sids: [1::1, 1::2, 1::3, 1::4, 1::5]\n"
                                                      "        metrics:\n"
                                                      "          score: 0\n"
                                                      "          load_pct: 100\n"
                                                      "          free_capacity: 0\n"
                                                      "          latency_us: 4294967295\n"
                                                      "          bandwidth_kbps: 0\n"
                                                      "          compute_types: [fpga, npu, gpu, cpu]\n"
                                                      "          weight: 1000000\n"
                                                      "  - cs_id: 0\n"
                                                      "    name: zero\n"
                                                      "    affinity_timeout_s: 1\n"));
    REQUIRE(c.services.size() == 2);
    CHECK(c.services[0].cs_id == UINT32_MAX);
    CHECK(c.services[0].affinity_timeout_s == 86400);
    const InstanceConfig& i = c.services[0].instances[0];
    CHECK(i.id == 0);
    CHECK(i.sids.size() == kMaxSids);
    CHECK(i.sids[0] == addr("1::1"));
    CHECK(i.sids[4] == addr("1::5"));
    CHECK(i.metrics == InstanceMetrics{0, 100, 0, UINT32_MAX, 0, cats::wire::kComputeAll, 1000000});
    CHECK(c.services[1].cs_id == 0);
    CHECK(c.services[1].affinity_timeout_s == 1);
}

// ---------------------------------------------------------------------------
// Errors: shape and keys

TEST_CASE("config: unknown keys are errors naming the key path", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "servics: []\n")), StartsWith("servics: unknown key"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limt: 8\n")), StartsWith("gateway.hop_limt: unknown key"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - name: p1\n    mut: 1500\n")),
                        StartsWith("ports[1].mut: unknown key"));
    REQUIRE_THROWS_WITH(
        load_config_string(cfg("", "neighbors:\n  - {address: 1::1, mac: 02:00:00:00:00:01, port: p0, vlan: 3}\n")),
        StartsWith("neighbors[0].vlan: unknown key"));
    REQUIRE_THROWS_WITH(
        load_config_string(cfg("", "neighbors:\n  - {address: 1::1, mac: 02:00:00:00:00:01, port: p0}\n"
                                   "routes:\n  - {prefix: ::/0, via: 1::1, metric: 5}\n")),
        StartsWith("routes[0].metric: unknown key"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 1, name: s, timeout: 5}\n")),
                        StartsWith("services[0].timeout: unknown key"));
    REQUIRE_THROWS_WITH(load_config_string(with_instance("[1::1]", "        weight: 5\n")),
                        StartsWith("services[0].instances[0].weight: unknown key"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("latency: 5")),
                        StartsWith("services[0].instances[0].metrics.latency: unknown key"));
    // The message lists what would have been accepted.
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limt: 8\n")), Contains("hop_limit"));
}

TEST_CASE("config: a repeated key is an error", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: 8\n  hop_limit: 9\n")),
                        StartsWith("gateway.hop_limit: duplicate key"));
}

TEST_CASE("config: required keys and sections", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string("ports:\n  - name: p0\n"), StartsWith("gateway: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string("gateway: {encap_source: 1::1}\n"),
                        StartsWith("ports: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string("gateway: {hop_limit: 3}\nports: [{name: p0}]\n"),
                        StartsWith("gateway.encap_source: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(""), StartsWith("gateway: required key is missing"));
}

TEST_CASE("config: wrong shapes name the path", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string("- a\n- b\n"), StartsWith("(root): expected a map, got a list"));
    REQUIRE_THROWS_WITH(load_config_string("gateway: [1, 2]\nports: [{name: p0}]\n"),
                        StartsWith("gateway: expected a map, got a list"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "services: {cs_id: 1}\n")),
                        StartsWith("services: expected a list, got a map"));
    REQUIRE_THROWS_WITH(load_config_string(with_instance("2001:db8::1")),
                        StartsWith("services[0].instances[0].sids: expected a list, got '2001:db8::1'"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: [1]\n")),
                        StartsWith("gateway.hop_limit: expected an integer in 1..255, got a list"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit:\n")),
                        StartsWith("gateway.hop_limit: expected an integer in 1..255, got nothing"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 1, name: {a: b}}\n")),
                        StartsWith("services[0].name: expected a string, got a map"));
}

// ---------------------------------------------------------------------------
// Errors: integers

TEST_CASE("config: integers out of range state the range", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: 300\n")),
                        Catch::Equals("gateway.hop_limit: must be 1..255, got 300"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: 0\n")),
                        Catch::Equals("gateway.hop_limit: must be 1..255, got 0"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  flow_table_size: 1023\n")),
                        Contains("gateway.flow_table_size: must be 1024..16777216, got 1023"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  flow_table_size: 16777217\n")),
                        Contains("gateway.flow_table_size: must be 1024..16777216"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  max_services: 0\n")),
                        Contains("gateway.max_services: must be 1..1048576"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  max_services: 1048577\n")),
                        Contains("gateway.max_services: must be 1..1048576"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  max_instances: 0\n")),
                        Contains("gateway.max_instances: must be 1..16777216"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  max_instances: 16777217\n")),
                        Contains("gateway.max_instances: must be 1..16777216"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  burst: 0\n")), Contains("gateway.burst: must be 1..64"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  burst: 65\n")), Contains("gateway.burst: must be 1..64, got 65"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  icmp_rate: 1000001\n")),
                        Contains("gateway.icmp_rate: must be 0..1000000, got 1000001"));
    // Larger than any integer type: still a range error, not an overflow.
    REQUIRE_THROWS_WITH(load_config_string(cfg("  burst: 99999999999999999999999\n")),
                        Contains("gateway.burst: must be 1..64, got 99999999999999999999999"));
}

TEST_CASE("config: negative integers are rejected", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: -1\n")),
                        Catch::Equals("gateway.hop_limit: must be 1..255, got -1"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: -5, name: s}\n")),
                        Contains("services[0].cs_id: must be 0..4294967295, got -5"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("free_capacity: -1")),
                        Contains("services[0].instances[0].metrics.free_capacity: must be 0..4294967295, got -1"));
}

TEST_CASE("config: non-numbers are rejected", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: lots\n")),
                        Catch::Equals("gateway.hop_limit: expected an integer in 1..255, got 'lots'"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: 6.5\n")), Contains("gateway.hop_limit: expected an integer"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: 0x40\n")), Contains("gateway.hop_limit: expected an integer"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: +5\n")), Contains("gateway.hop_limit: expected an integer"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  hop_limit: 1e2\n")), Contains("gateway.hop_limit: expected an integer"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("bandwidth_kbps: fast")),
                        Contains("services[0].instances[0].metrics.bandwidth_kbps: expected an integer in 0..4294967295"));
}

// ---------------------------------------------------------------------------
// Errors: gateway

TEST_CASE("config: gateway.encap_source must be a unicast IPv6 address", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string("gateway: {encap_source: 10.0.0.1}\nports: [{name: p0}]\n"),
                        Catch::Equals("gateway.encap_source: '10.0.0.1' is not an IPv6 address"));
    REQUIRE_THROWS_WITH(load_config_string("gateway: {encap_source: '::'}\nports: [{name: p0}]\n"),
                        StartsWith("gateway.encap_source: :: is not a unicast address"));
    REQUIRE_THROWS_WITH(load_config_string("gateway: {encap_source: 'ff02::1'}\nports: [{name: p0}]\n"),
                        StartsWith("gateway.encap_source: ff02::1 is not a unicast address"));
}

TEST_CASE("config: gateway.service_sid_prefix must be a valid /96", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("  service_sid_prefix: 2001:db8:5::/64\n")),
                        StartsWith("gateway.service_sid_prefix: must be a /96"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  service_sid_prefix: '2001:db8:5::'\n")),
                        StartsWith("gateway.service_sid_prefix: '2001:db8:5::' is not an IPv6 prefix"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  service_sid_prefix: 2001:db8:5::1:0/96\n")),
                        StartsWith("gateway.service_sid_prefix: 2001:db8:5::1:0/96 has host bits set"));
}

TEST_CASE("config: gateway enums list their values", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("  encap_mode: insert\n")),
                        Catch::Equals("gateway.encap_mode: must be one of encaps | encaps_red, got 'insert'"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  non_cats: reject\n")),
                        Catch::Equals("gateway.non_cats: must be one of forward | drop, got 'reject'"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  rss: l4\n")),
                        Catch::Equals("gateway.rss: must be one of l3 | l3l4, got 'l4'"));
    // Case matters: the values are keywords.
    REQUIRE_THROWS_WITH(load_config_string(cfg("  rss: L3\n")), StartsWith("gateway.rss: must be one of"));
}

// ---------------------------------------------------------------------------
// Errors: ports

TEST_CASE("config: at least one port", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string("gateway: {encap_source: 1::1}\nports: []\n"),
                        Catch::Equals("ports: at least one port is required"));
    REQUIRE_THROWS_WITH(load_config_string("gateway: {encap_source: 1::1}\nports:\n"),
                        Catch::Equals("ports: at least one port is required"));
}

TEST_CASE("config: port names are required, non-empty and unique", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - mtu: 1500\n")),
                        Catch::Equals("ports[1].name: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - name: ''\n")), Catch::Equals("ports[1].name: must not be empty"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - name: p0\n")),
                        Catch::Equals("ports[1].name: duplicate port name 'p0' (first at ports[0])"));
}

TEST_CASE("config: port mtu and descriptor counts", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, mtu: 1279}\n")),
                        Catch::Equals("ports[1].mtu: must be 1280..9600, got 1279"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, mtu: 9601}\n")),
                        Catch::Equals("ports[1].mtu: must be 1280..9600, got 9601"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, rx_desc: 1000}\n")),
                        Catch::Equals("ports[1].rx_desc: must be a power of two in 64..16384, got 1000"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, rx_desc: 32}\n")),
                        Catch::Equals("ports[1].rx_desc: must be a power of two in 64..16384, got 32"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, tx_desc: 32768}\n")),
                        Catch::Equals("ports[1].tx_desc: must be a power of two in 64..16384, got 32768"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, tx_desc: 1536}\n")),
                        Contains("ports[1].tx_desc: must be a power of two"));
}

TEST_CASE("config: port mac must be a MAC address", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("", "  - {name: p1, mac: '02-00-00-00-00-01'}\n")),
                        Catch::Equals("ports[1].mac: '02-00-00-00-00-01' is not a MAC address (expected aa:bb:cc:dd:ee:ff)"));
}

// ---------------------------------------------------------------------------
// Errors: neighbors

namespace {

std::string neighbors(const std::string& list) {
    return cfg("", "neighbors:\n" + list);
}

}  // namespace

TEST_CASE("config: neighbor address", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {address: 1::zz, mac: 02:00:00:00:00:01, port: p0}\n")),
                        Catch::Equals("neighbors[0].address: '1::zz' is not an IPv6 address"));
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {mac: 02:00:00:00:00:01, port: p0}\n")),
                        Catch::Equals("neighbors[0].address: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {address: 1::1, mac: 02:00:00:00:00:01, port: p0}\n"
                                                     "  - {address: '1:0::1', mac: 02:00:00:00:00:02, port: p0}\n")),
                        Catch::Equals("neighbors[1].address: duplicate neighbor 1::1 (first at neighbors[0])"));
}

TEST_CASE("config: neighbor mac", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {address: 1::1, mac: 02:00:00:00:00, port: p0}\n")),
                        StartsWith("neighbors[0].mac: '02:00:00:00:00' is not a MAC address"));
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {address: 1::1, port: p0}\n")),
                        Catch::Equals("neighbors[0].mac: required key is missing"));
}

TEST_CASE("config: neighbor port must name a port", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {address: 1::1, mac: 02:00:00:00:00:01, port: p0}\n"
                                                     "  - {address: 1::2, mac: 02:00:00:00:00:02, port: p0}\n"
                                                     "  - {address: 1::3, mac: 02:00:00:00:00:03, port: eth9}\n")),
                        Catch::Equals("neighbors[2].port: 'eth9' is not in ports"));
    REQUIRE_THROWS_WITH(load_config_string(neighbors("  - {address: 1::1, mac: 02:00:00:00:00:01}\n")),
                        Catch::Equals("neighbors[0].port: required key is missing"));
}

// ---------------------------------------------------------------------------
// Errors: routes

namespace {

std::string routes(const std::string& list) {
    return cfg("", "neighbors:\n"
                   "  - {address: 2001:db8::1, mac: 02:00:00:00:00:01, port: p0}\n"
                   "routes:\n" +
                       list);
}

}  // namespace

TEST_CASE("config: route prefix syntax", "[config]") {
    for (const char* bad : {"2001:db8::", "2001:db8::/129", "2001:db8::/", "/48", "2001:db8::/4x", "2001:db8::/-1",
                            "2001:db8:zz::/48", "10.0.0.0/8", "2001:db8::/48/1"}) {
        CAPTURE(bad);
        REQUIRE_THROWS_WITH(load_config_string(routes(std::string("  - {prefix: '") + bad + "', via: 2001:db8::1}\n")),
                            Catch::Equals(std::string("routes[0].prefix: '") + bad +
                                          "' is not an IPv6 prefix (expected addr/len, len 0..128)"));
    }
}

TEST_CASE("config: route prefix host bits must be zero", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '2001:db8:a1::1/48', via: 2001:db8::1}\n")),
                        Catch::Equals("routes[0].prefix: 2001:db8:a1::1/48 has host bits set "
                                      "(did you mean 2001:db8:a1::/48?)"));
    // A bit inside the byte that holds the boundary.
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '2001:db8:1c0::/41', via: 2001:db8::1}\n")),
                        Contains("did you mean 2001:db8:180::/41?"));
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '::1/0', via: 2001:db8::1}\n")),
                        Contains("routes[0].prefix: ::1/0 has host bits set"));
    // The boundaries themselves are fine.
    const Config c = load_config_string(routes("  - {prefix: '::/0', via: 2001:db8::1}\n"
                                               "  - {prefix: '2001:db8:180::/42', via: 2001:db8::1}\n"
                                               "  - {prefix: '2001:db8::5/128', via: 2001:db8::1}\n"));
    REQUIRE(c.routes.size() == 3);
    CHECK(c.routes[0].prefix.len == 0);
    CHECK(c.routes[1].prefix.len == 42);
    CHECK(c.routes[2].prefix.addr == addr("2001:db8::5"));
    CHECK(c.routes[2].prefix.len == 128);
}

TEST_CASE("config: route via must be a neighbor address", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '::/0', via: '2001:db8:0::9'}\n")),
                        Catch::Equals("routes[0].via: 2001:db8::9 is neither a static neighbor nor on-link on a port (ports[].addresses)"));
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '::/0', via: 'fe80::1%eth0'}\n")),
                        Catch::Equals("routes[0].via: 'fe80::1%eth0' is not an IPv6 address"));
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '::/0'}\n")),
                        Catch::Equals("routes[0].via: required key is missing"));
}

TEST_CASE("config: sections may come in any order", "[config]") {
    const Config c = load_config_string("routes: [{prefix: '::/0', via: '1::1'}]\n"
                                        "neighbors: [{address: '1::1', mac: '02:00:00:00:00:01', port: p0}]\n"
                                        "ports: [{name: p0}]\n"
                                        "gateway: {encap_source: '1::2'}\n");
    REQUIRE(c.routes.size() == 1);
    CHECK(c.routes[0].via == addr("1::1"));
}

TEST_CASE("config: an unquoted address ending in :: is a YAML syntax error", "[config]") {
    // Documented in configs/README.md: such addresses must be quoted.
    REQUIRE_THROWS_WITH(load_config_string(cfg("  service_sid_prefix: 2001:db8:5::\n")),
                        StartsWith("<string>: YAML syntax error at line 3"));
}

TEST_CASE("config: duplicate route prefixes are rejected", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(routes("  - {prefix: '2001:db8::/32', via: 2001:db8::1}\n"
                                                  "  - {prefix: '2001:0db8::/32', via: 2001:db8::1}\n")),
                        Catch::Equals("routes[1].prefix: duplicate route 2001:db8::/32 (first at routes[0])"));
}

// ---------------------------------------------------------------------------
// Errors: services

TEST_CASE("config: service cs_id", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {name: s}\n")),
                        Catch::Equals("services[0].cs_id: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 4294967296, name: s}\n")),
                        Catch::Equals("services[0].cs_id: must be 0..4294967295, got 4294967296"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 100, name: a}\n"
                                                         "  - {cs_id: 200, name: b}\n"
                                                         "  - {cs_id: 100, name: c}\n")),
                        Catch::Equals("services[2].cs_id: duplicate cs_id 100 (first at services[0])"));
}

TEST_CASE("config: service name", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 1}\n")),
                        Catch::Equals("services[0].name: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 1, name: ''}\n")),
                        Catch::Equals("services[0].name: must not be empty"));
}

TEST_CASE("config: service affinity_timeout_s", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 1, name: s, affinity_timeout_s: 0}\n")),
                        Catch::Equals("services[0].affinity_timeout_s: must be 1..86400, got 0"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - {cs_id: 1, name: s, affinity_timeout_s: 86401}\n")),
                        Catch::Equals("services[0].affinity_timeout_s: must be 1..86400, got 86401"));
}

TEST_CASE("config: at most kMaxInstancesPerService instances per service", "[config]") {
    const auto service_with = [](std::size_t n) {
        std::string s = "  - cs_id: 1\n    name: big\n    instances:\n";
        for (std::size_t i = 0; i < n; ++i)
            s += "      - {id: " + std::to_string(i) + ", sids: ['2001:db8::1']}\n";
        return with_services(s);
    };
    const Config c = load_config_string(service_with(kMaxInstancesPerService));
    CHECK(c.services[0].instances.size() == kMaxInstancesPerService);
    REQUIRE_THROWS_WITH(load_config_string(service_with(kMaxInstancesPerService + 1)),
                        Catch::Equals("services[0].instances: at most 1024 instances per service, got 1025"));
}

TEST_CASE("config: services and instances must fit the counter slots", "[config]") {
    const std::string two_services = "  - {cs_id: 1, name: a}\n  - {cs_id: 2, name: b}\n";
    REQUIRE_THROWS_WITH(
        load_config_string(cfg("  max_services: 1\n", "services:\n" + two_services)),
        Catch::Equals("services: 2 services exceed gateway.max_services (1)"));
    const std::string three_instances = "  - cs_id: 1\n    name: a\n    instances:\n"
                                        "      - {id: 1, sids: ['1::1']}\n"
                                        "      - {id: 2, sids: ['1::2']}\n"
                                        "  - cs_id: 2\n    name: b\n    instances:\n"
                                        "      - {id: 1, sids: ['1::3']}\n";
    REQUIRE_THROWS_WITH(load_config_string(cfg("  max_instances: 2\n", "services:\n" + three_instances)),
                        Catch::Equals("services: 3 instances exceed gateway.max_instances (2)"));
    CHECK(load_config_string(cfg("  max_instances: 3\n  max_services: 2\n", "services:\n" + three_instances))
              .services.size() == 2);
}

TEST_CASE("config: instance id", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - cs_id: 1\n    name: s\n    instances:\n"
                                                         "      - {sids: ['1::1']}\n")),
                        Catch::Equals("services[0].instances[0].id: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - cs_id: 1\n    name: s\n    instances:\n"
                                                         "      - {id: 7, sids: ['1::1']}\n"
                                                         "      - {id: 7, sids: ['1::2']}\n")),
                        Catch::Equals("services[0].instances[1].id: duplicate instance id 7 "
                                      "(first at services[0].instances[0])"));
    // Ids need only be unique within one service.
    const Config c = load_config_string(with_services("  - cs_id: 1\n    name: a\n    instances:\n"
                                                      "      - {id: 7, sids: ['1::1']}\n"
                                                      "  - cs_id: 2\n    name: b\n    instances:\n"
                                                      "      - {id: 7, sids: ['1::2']}\n"));
    CHECK(c.services[1].instances[0].id == 7);
}

TEST_CASE("config: instance sids", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - cs_id: 1\n    name: s\n    instances:\n"
                                                         "      - {id: 1}\n")),
                        Catch::Equals("services[0].instances[0].sids: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(with_instance("[]")),
                        Catch::Equals("services[0].instances[0].sids: must have 1..5 SIDs, got 0"));
    REQUIRE_THROWS_WITH(load_config_string(with_instance("[1::1, 1::2, 1::3, 1::4, 1::5, 1::6]")),
                        Catch::Equals("services[0].instances[0].sids: must have 1..5 SIDs, got 6"));
}

TEST_CASE("config: a bad SID names its index", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(with_services("  - cs_id: 1\n    name: s\n    instances:\n"
                                                         "      - {id: 1, sids: ['2001:db8::1']}\n"
                                                         "      - {id: 2, sids: ['2001:db8::zz', '2001:db8::2']}\n")),
                        Catch::Equals("services[0].instances[1].sids[0]: '2001:db8::zz' is not an IPv6 address"));
    REQUIRE_THROWS_WITH(load_config_string(with_instance("['2001:db8::1', '2001:db8::2', '2001:db8::3::']")),
                        Catch::Equals("services[0].instances[0].sids[2]: '2001:db8::3::' is not an IPv6 address"));
}

TEST_CASE("config: metrics ranges", "[config]") {
    const std::string m = "services[0].instances[0].metrics.";
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("score: 11")), Catch::Equals(m + "score: must be 0..10, got 11"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("load_pct: 101")),
                        Catch::Equals(m + "load_pct: must be 0..100, got 101"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("free_capacity: 4294967296")),
                        Catch::Equals(m + "free_capacity: must be 0..4294967295, got 4294967296"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("latency_us: 4294967296")),
                        Catch::Equals(m + "latency_us: must be 0..4294967295, got 4294967296"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("bandwidth_kbps: 4294967296")),
                        Catch::Equals(m + "bandwidth_kbps: must be 0..4294967295, got 4294967296"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("weight: 1000001")),
                        Catch::Equals(m + "weight: must be 0..1000000, got 1000001"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("weight: -3")),
                        Catch::Equals(m + "weight: must be 0..1000000, got -3"));
    REQUIRE_THROWS_WITH(load_config_string(with_instance("['1::1']", "        metrics: [1]\n")),
                        Catch::Equals("services[0].instances[0].metrics: expected a map, got a list"));
}

TEST_CASE("config: metrics compute_types", "[config]") {
    const std::string m = "services[0].instances[0].metrics.compute_types";
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("compute_types: []")),
                        Catch::Equals(m + ": must list at least one of cpu, gpu, npu, fpga"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("compute_types: [cpu, tpu]")),
                        Catch::Equals(m + "[1]: must be one of cpu | gpu | npu | fpga, got 'tpu'"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("compute_types: [gpu, gpu]")),
                        Catch::Equals(m + "[1]: 'gpu' is listed twice"));
    REQUIRE_THROWS_WITH(load_config_string(with_metrics("compute_types: gpu")),
                        Catch::Equals(m + ": expected a list, got 'gpu'"));
    const Config c = load_config_string(with_metrics("compute_types: [npu, fpga]"));
    CHECK(c.services[0].instances[0].metrics.compute_types == (cats::wire::kComputeNpu | cats::wire::kComputeFpga));
}

// ---------------------------------------------------------------------------
// Errors: files and YAML syntax

TEST_CASE("config: a missing file is an error naming it", "[config]") {
    const std::string path = "/nonexistent/cats/gateway.yaml";
    REQUIRE_THROWS_AS(load_config_file(path), ConfigError);
    REQUIRE_THROWS_WITH(load_config_file(path), StartsWith(path + ": cannot read"));
    REQUIRE_THROWS_WITH(load_config_file(std::string(CATS_SOURCE_ROOT) + "/configs"),
                        Contains("/configs: cannot read"));
}

TEST_CASE("config: a YAML syntax error names the file and the line", "[config]") {
    const std::string path = "/tmp/cats-test-config-syntax.yaml";
    {
        std::ofstream out(path);
        out << "gateway:\n  encap_source: 1::1\nports: [{name: p0}\n";
    }
    REQUIRE_THROWS_AS(load_config_file(path), ConfigError);
    REQUIRE_THROWS_WITH(load_config_file(path), StartsWith(path + ": YAML syntax error at line 4"));
    std::remove(path.c_str());

    REQUIRE_THROWS_WITH(load_config_string("gateway:\n  encap_source: 1::1\n  bad: [\n"),
                        StartsWith("<string>: YAML syntax error at line"));
}

TEST_CASE("config: a file with two YAML documents is an error", "[config]") {
    REQUIRE_THROWS_WITH(load_config_string(cfg("") + "---\n" + cfg("")),
                        Catch::Equals("<string>: expected one YAML document, found 2"));
    // yaml-cpp 0.7 reads a stray comma as endless empty documents: an error,
    // not a hang that eats memory (found by tests/fuzz).
    REQUIRE_THROWS_WITH(load_config_string(","), Catch::StartsWith("<string>: expected one YAML document, found 16 or more"));
}

TEST_CASE("config: every error is a ConfigError", "[config]") {
    REQUIRE_THROWS_AS(load_config_string(cfg("  hop_limit: 300\n")), ConfigError);
    REQUIRE_THROWS_AS(load_config_string("{"), ConfigError);
    REQUIRE_THROWS_AS(load_config_string("? [a, b]\n: c\n"), ConfigError);
}

// ---------------------------------------------------------------------------
// Port addresses and kernel interfaces (issue 17)

namespace {

std::string addressed(const std::string& port_keys, const std::string& rest = "") {
    return "gateway:\n"
           "  encap_source: 2001:db8:ff::1\n"
           "ports:\n"
           "  - {name: p0" +
           port_keys + "}\n" + rest;
}

}  // namespace

TEST_CASE("config: port addresses, and next hops on-link on them", "[config]") {
    const Config c = load_config_string(addressed(", addresses: ['2001:db8:f1::1/64', '2001:db8:ff::1/128']",
                                                  "routes:\n  - {prefix: '2001:db8:a1::/48', via: '2001:db8:f1::2'}\n"));
    REQUIRE(c.ports[0].addresses.size() == 2);
    CHECK(c.ports[0].addresses[0].addr == addr("2001:db8:f1::1"));
    CHECK(c.ports[0].addresses[0].len == 64);
    CHECK(c.ports[0].kernel_interface == "cats0");  // the default, once there are addresses
    CHECK(c.neighbors.empty());                     // no static MAC needed
    CHECK(on_link_port(c.ports, addr("2001:db8:f1::2")) == 0);
    CHECK(on_link_port(c.ports, addr("2001:db8:f2::2")) == -1);
    // No addresses: no kernel interface unless one is named.
    CHECK(load_config_string(addressed("")).ports[0].kernel_interface.empty());
    CHECK(load_config_string(addressed(", kernel_interface: uplink0")).ports[0].kernel_interface == "uplink0");
}

TEST_CASE("config: bad port addresses name the field", "[config]") {
    using Catch::Equals;
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['2001:db8::1']")),
                        Equals("ports[0].addresses[0]: '2001:db8::1' is not an interface address (expected addr/len, "
                               "e.g. 2001:db8:1::1/64)"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['fe80::1/64']")),
                        Contains("ports[0].addresses[0]: fe80::1/64 is link-local"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['ff02::1/64']")),
                        Contains("is not a unicast address"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['2001:db8::1/0']")),
                        Contains("the prefix length must be 1..128"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['2001:db8:1::1/64', '2001:db8:1::1/64']")),
                        Contains("ports[0].addresses[1]: duplicate address 2001:db8:1::1 (first at "
                                 "ports[0].addresses[0])"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", kernel_interface: 'a-name-far-too-long'")),
                        Contains("ports[0].kernel_interface: 'a-name-far-too-long': an interface name is 1..15"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", kernel_interface: 'bad/name'")),
                        Contains("ports[0].kernel_interface: 'bad/name': an interface name has only"));
    // A route via the gateway's own address.
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['2001:db8:f1::1/64']",
                                                     "routes:\n  - {prefix: '::/0', via: '2001:db8:f1::1'}\n")),
                        Contains("routes[0].via: 2001:db8:f1::1 is the gateway's own address"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  exception_rate: -1\n")), Contains("gateway.exception_rate"));
    // encap_source on a port's link but not the gateway's address there.
    REQUIRE_THROWS_WITH(load_config_string(addressed(", addresses: ['2001:db8:ff::2/64']")),
                        Equals("gateway.encap_source: 2001:db8:ff::1 is on the link of ports[0] but is not one of its "
                               "addresses: use one of them, or a loopback address of the gateway outside the ports' "
                               "prefixes"));
    // One of the port's addresses, or outside every link (a loopback): fine.
    CHECK_NOTHROW(load_config_string(addressed(", addresses: ['2001:db8:ff::1/64']")));
    CHECK_NOTHROW(load_config_string(addressed(", addresses: ['2001:db8:f1::1/64']")));
}

TEST_CASE("config: the real-network sample has no static MAC", "[config]") {
    const Config c = load_config_file(std::string(CATS_SOURCE_ROOT) + "/configs/gateway-network.yaml");
    CHECK(c.neighbors.empty());
    REQUIRE(c.ports.size() == 2);
    CHECK(c.ports[0].kernel_interface == "cats0");
    CHECK(c.ports[1].kernel_interface == "cats-core");
    for (const RouteConfig& r : c.routes)
        CHECK(on_link_port(c.ports, r.via) == 1);
    REQUIRE(c.gateway.kernel_routes);
    CHECK(c.gateway.kernel_routes->table == 254);
}

TEST_CASE("config: sr_domain and trusted ports (issue 20, item 6)", "[config][sr_domain]") {
    using Catch::Equals;
    const Config c = load_config_string(
        "gateway:\n  encap_source: 2001:db8:ff::1\n  service_sid_prefix: 2001:db8:5::/96\n"
        "  sr_domain: [2001:db8:a0::/44, 'fc00::/16']\n"
        "ports:\n  - {name: p0}\n  - {name: p1, trusted: true}\n");
    REQUIRE(c.gateway.sr_domain.size() == 2);
    CHECK(c.gateway.sr_domain[0].addr == addr("2001:db8:a0::"));
    CHECK(c.gateway.sr_domain[0].len == 44);
    CHECK(!c.ports[0].trusted);
    CHECK(c.ports[1].trusted);
    CHECK(load_config_string(addressed("")).gateway.sr_domain.empty());

    REQUIRE_THROWS_WITH(load_config_string(cfg("  sr_domain: ['::/0']\n")),
                        Equals("gateway.sr_domain[0]: ::/0 would take every address into the domain"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  sr_domain: ['2001:db8::1/32']\n")),
                        Contains("gateway.sr_domain[0]: 2001:db8::1/32 has host bits set"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  sr_domain: 2001:db8::/32\n")),
                        Contains("gateway.sr_domain: expected a list"));
    std::string many = "  sr_domain: [";
    for (int i = 0; i < 17; ++i)
        many += (i ? ", " : "") + std::string("'fc00:") + std::to_string(i + 1) + "::/32'";
    REQUIRE_THROWS_WITH(load_config_string(cfg(many + "]\n")), Equals("gateway.sr_domain: at most 16 prefixes"));
    // The service SIDs are how clients reach services: never in the domain.
    REQUIRE_THROWS_WITH(
        load_config_string("gateway:\n  encap_source: 2001:db8:ff::1\n  service_sid_prefix: 2001:db8:5::/96\n"
                           "  sr_domain: ['fc00::/16', '2001:db8:5::64/128']\nports: [{name: p0}]\n"),
        Equals("gateway.sr_domain[1]: 2001:db8:5::64/128 overlaps service_sid_prefix 2001:db8:5::/96: clients' "
               "packets to service SIDs would be dropped"));
    REQUIRE_THROWS_WITH(load_config_string(addressed(", trusted: yes")),
                        Equals("ports[0].trusted: must be one of true | false, got 'yes'"));
}

TEST_CASE("config: srh_hmac keys (issue 20, item 6)", "[config][srh_hmac]") {
    using Catch::Equals;
    const std::string key = "000102030405060708090a0b0c0d0e0f";
    const Config c = load_config_string(cfg("  srh_hmac:\n    require: true\n    keys:\n      - {key_id: 7, key: " + key +
                                            "}\n      - {key_id: 4294967295, key: " + key + key + "}\n"));
    CHECK(c.gateway.srh_hmac.require);
    REQUIRE(c.gateway.srh_hmac.keys.size() == 2);
    CHECK(c.gateway.srh_hmac.keys[0].key_id == 7);
    CHECK(c.gateway.srh_hmac.keys[0].key.size() == 16);
    CHECK(c.gateway.srh_hmac.keys[0].key[15] == 0x0f);
    CHECK(c.gateway.srh_hmac.keys[1].key.size() == 32);
    CHECK(!load_config_string(cfg("")).gateway.srh_hmac.enabled());

    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {require: true}\n")),
                        Equals("gateway.srh_hmac: require: true needs at least one key in keys"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {keys: [{key_id: 0, key: " + key + "}]}\n")),
                        Equals("gateway.srh_hmac.keys[0].key_id: must be 1..4294967295, got 0"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {keys: [{key_id: 1, key: " + key + "}, {key_id: 1, key: " +
                                               key + "}]}\n")),
                        Equals("gateway.srh_hmac.keys[1].key_id: duplicate key_id 1 (first at gateway.srh_hmac.keys[0])"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {keys: [{key_id: 1, key: 0011}]}\n")),
                        Contains("gateway.srh_hmac.keys[0].key: key of 2 bytes"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {keys: [{key_id: 1}]}\n")),
                        Equals("gateway.srh_hmac.keys[0].key: required key is missing"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {require: maybe}\n")),
                        Equals("gateway.srh_hmac.require: must be one of true | false, got 'maybe'"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  srh_hmac: {algorithm: sha1}\n")),
                        Contains("gateway.srh_hmac.algorithm: unknown key"));
}

TEST_CASE("config: kernel_routes (issue 17)", "[config][kernel_routes]") {
    using Catch::Equals;
    const std::string port = "ports:\n  - {name: p0, addresses: [2001:db8:f1::1/64]}\n";
    auto with = [&](const std::string& kr) {
        return "gateway:\n  encap_source: 2001:db8:ff::1\n  kernel_routes: " + kr + "\n" + port;
    };
    CHECK(!load_config_string(addressed(", addresses: [2001:db8:f1::1/64]")).gateway.kernel_routes);
    const Config d = load_config_string(with("{}"));
    REQUIRE(d.gateway.kernel_routes);
    CHECK(d.gateway.kernel_routes->table == 254);
    CHECK(d.gateway.kernel_routes->max_routes == 4096);
    CHECK(d.gateway.kernel_routes->max_next_hops == 64);
    CHECK(load_config_string(with("{table: main}")).gateway.kernel_routes->table == 254);
    const Config c = load_config_string(with("{table: 1000, max_routes: 10, max_next_hops: 2}"));
    CHECK(c.gateway.kernel_routes->table == 1000);
    CHECK(c.gateway.kernel_routes->max_routes == 10);
    CHECK(c.gateway.kernel_routes->max_next_hops == 2);

    REQUIRE_THROWS_WITH(load_config_string(with("{table: 255}")),
                        Equals("gateway.kernel_routes.table: 255 is the local table (the gateway's own addresses), "
                               "not one to route by"));
    REQUIRE_THROWS_WITH(load_config_string(with("{table: 0}")),
                        Equals("gateway.kernel_routes.table: must be 1..4294967295, got 0"));
    REQUIRE_THROWS_WITH(load_config_string(with("{table: local}")),
                        Contains("gateway.kernel_routes.table: "));
    REQUIRE_THROWS_WITH(load_config_string(with("{max_routes: 0}")),
                        Equals("gateway.kernel_routes.max_routes: must be 1..65536, got 0"));
    REQUIRE_THROWS_WITH(load_config_string(with("{max_next_hops: 5000}")),
                        Equals("gateway.kernel_routes.max_next_hops: must be 1..4096, got 5000"));
    REQUIRE_THROWS_WITH(load_config_string(with("{protocols: [bgp]}")),
                        Contains("gateway.kernel_routes.protocols: unknown key"));
    REQUIRE_THROWS_WITH(load_config_string(cfg("  kernel_routes: {}\n")),
                        Equals("gateway.kernel_routes: no port has a kernel interface to learn routes on (give a "
                               "port addresses)"));
}
