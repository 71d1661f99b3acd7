// SPDX-License-Identifier: BSD-3-Clause
// Profile loading: the example config, defaults, and errors that name the
// YAML path of the bad field.
#include <catch2/catch.hpp>

#include <string>

#include "helpers.hpp"

using namespace cats::trafgen;
using namespace cats::trafgen::test;

namespace {

// The error message of loading `yaml`, or "" if it loads.
std::string error_of(const std::string& yaml) {
    try {
        load_profile_string(yaml);
    } catch (const ProfileError& e) {
        return e.what();
    }
    return "";
}

const std::string kServices = R"(
services:
  - cs_id: 100
    instances:
      - {name: a, sids: [2001:db8:a1::100]}
)";

}  // namespace

TEST_CASE("configs/trafgen-lab.yaml loads", "[trafgen][profile]") {
    const Profile p = load_profile_file(CATS_SOURCE_ROOT "/configs/trafgen-lab.yaml");
    CHECK(p.flows == 240);
    CHECK(p.services.size() == 4);
    CHECK(p.services[0].instances.size() == 3);
    CHECK(p.services[0].instances[2].sids.size() == 3);
    CHECK(p.requirement_sets.size() == 7);
    CHECK(p.requirement_sets[1].req.strict);
    CHECK(p.requirement_sets[1].req.max_latency_us == 1000);
    CHECK(p.requirement_sets[4].expect_drop);
    CHECK(p.malformed_share == Approx(0.04));
    CHECK(p.size_min == 128);
    CHECK(p.size_max == 600);
    // It generates.
    Generator gen(p);
    Slot s;
    std::size_t n = 0;
    while (gen.next(s))
        ++n;
    CHECK(n >= 240 * 5);
}

TEST_CASE("defaults of a minimal profile", "[trafgen][profile]") {
    const Profile p = load_profile_string(kServices);
    CHECK(p.seed == 1);
    CHECK(p.flows == 16);
    CHECK(p.packets_per_flow == 4);
    CHECK(p.requirement_sets.size() == 1);
    CHECK(p.requirement_sets[0].name == "any");
    CHECK(p.services[0].name == "cs-100");
    CHECK(p.transports[0] == 1);
    CHECK(p.transports[1] == 0);
}

TEST_CASE("duration_s derives packets per flow from the rate", "[trafgen][profile]") {
    const Profile p = load_profile_string("flows: 10\nrate_pps: 1000\nduration_s: 2\n" + kServices);
    CHECK(p.packets_per_flow == 200);
}

TEST_CASE("profile errors name the YAML path", "[trafgen][profile]") {
    struct Case {
        std::string yaml;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"services:\n  - cs_id: 100\n    instances:\n      - {name: a, sids: [2001:db8::1]}\n"
         "      - {name: b, sids: ['2001:db8::zz']}\n",
         "services[0].instances[1].sids[0]: '2001:db8::zz' is not an IPv6 address"},
        {"flows: 0\n" + kServices, "flows: must be 1..16777216, got 0"},
        {"flows: many\n" + kServices, "flows: expected an integer"},
        {"flwos: 3\n" + kServices, "flwos: unknown key"},
        {"seed: 1\nseed: 2\n" + kServices, "seed: duplicate key"},
        {"flows: 4\n", "services: required key is missing"},
        {"services: []\n", "services: at least one service is required"},
        {kServices + "  - cs_id: 100\n", "services[1].cs_id: CS-ID 100 is listed twice"},
        {kServices + "  - cs_id: 200\n    instances: [{name: a, sids: ['2001:db8::1']}]\n",
         "services[1].instances[0].name: instance name 'a' is used twice"},
        {"services:\n  - cs_id: 1\n    instances: [{name: a, sids: []}]\n", "services[0].instances[0].sids: must have 1..5 SIDs, got 0"},
        {"services:\n  - cs_id: 1\n    instances: [{name: a, sids: ['::1'], weight: -1}]\n",
         "services[0].instances[0].weight: must be in"},
        {"packet_size: {min: 300, max: 200}\n" + kServices, "packet_size.max: must be >= min (300)"},
        {"packet_size: 20\n" + kServices, "packet_size: must be 64..9000, got 20"},
        {"duration_s: 3\n" + kServices, "duration_s: needs rate_pps > 0"},
        {"encodings: {srh_tlv: 1, smoke: 2}\n" + kServices, "encodings.smoke: unknown name 'smoke'"},
        {"encodings: {srh_tlv: 0}\n" + kServices, "encodings: at least one weight must be positive"},
        {"transports: [udp, udp]\n" + kServices, "transports[1]: 'udp' is listed twice"},
        {"addressing: {src_mac: 02:00:00:00:00}\n" + kServices, "addressing.src_mac: '02:00:00:00:00' is not a MAC address"},
        {"addressing: {service_sid_prefix: 2001:db8:5::/64}\n" + kServices,
         "addressing.service_sid_prefix: must be a /96"},
        {"addressing: {src_prefix: 2001:db8:c::1/64}\n" + kServices, "addressing.src_prefix: 2001:db8:c::1/64 has host bits set"},
        {kServices + "requirement_sets:\n  - {name: x, instances: [zz]}\n",
         "requirement_sets[0].instances[0]: no instance is called 'zz'"},
        {kServices + "requirement_sets:\n  - {name: x, services: [5]}\n",
         "requirement_sets[0].services[0]: CS-ID 5 is not in services"},
        {kServices + "requirement_sets:\n  - {name: x, min_score: 11}\n", "requirement_sets[0].min_score: must be 0..10, got 11"},
        {kServices + "requirement_sets:\n  - {name: x, compute_types: [cpu, tpu]}\n",
         "requirement_sets[0].compute_types[1]: must be one of cpu | gpu | npu | fpga, got 'tpu'"},
        {kServices + "requirement_sets:\n  - {name: x, expect: maybe}\n", "requirement_sets[0].expect: must be one of steer | drop"},
        {kServices + "requirement_sets:\n  - {name: x, strict: yes}\n", "requirement_sets[0].strict: expected true or false"},
        {kServices + "requirement_sets:\n  - {name: x, drop_reason: no_route}\n",
         "requirement_sets[0].drop_reason: only meaningful with expect: drop"},
        {"encodings: [service_sid]\n" + kServices + "requirement_sets:\n  - {name: x, max_latency_us: 5}\n",
         "requirement_sets[0]: asks for requirements, but the only encoding is service_sid"},
        {"encodings: [service_sid]\naddressing: {service_sid_prefix: 2001:db8::/96}\n" + kServices,
         ""},  // fine
        {kServices + "malformed: {share: 0.95}\n", "malformed.share: must be in 0..0.9, got 0.95"},
        {kServices + "malformed: {share: 0.1, kinds: {cats_bad_flavour: 1}}\n",
         "malformed.kinds.cats_bad_flavour: unknown name 'cats_bad_flavour'"},
        {kServices + "analysis: {allow_moves_from: [b]}\n", "analysis.allow_moves_from[0]: no instance is called 'b'"},
        {"services:\n  - cs_id: 1\n  - cs_id: 2\nrequirement_sets:\n  - {name: x, services: [1]}\n",
         "services[1]: no requirement set with share > 0 applies to CS-ID 2"},
        {"services: [\n", "YAML syntax error at line"},
        {kServices + "---\n" + kServices, "expected one YAML document, found 2"},
        {"- 1\n- 2\n", "(root): expected a map, got a list"},
    };
    for (const Case& c : cases) {
        INFO(c.yaml);
        const std::string err = error_of(c.yaml);
        if (c.error.empty())
            CHECK(err.empty());
        else
            CHECK_THAT(err, Catch::Contains(c.error));
    }
}

TEST_CASE("command-line weights", "[trafgen][profile]") {
    const auto w = parse_weights("--encodings", "srh_tlv=2,service_sid", kEncodingNames);
    CHECK(w == std::vector<double>{2, 0, 0, 1});
    CHECK_THROWS_WITH(parse_weights("--encodings", "srh=1", kEncodingNames),
                      Catch::Contains("--encodings: unknown name 'srh'"));
    CHECK_THROWS_WITH(parse_weights("--transports", "udp=x", kTransportNames),
                      Catch::Contains("--transports: bad weight 'x' for 'udp'"));
    CHECK_THROWS_WITH(parse_weights("--malformed-kinds", "none", kBadKindNames, 1),
                      Catch::Contains("unknown name 'none'"));
    CHECK_THROWS_WITH(parse_weights("--transports", "udp=0", kTransportNames),
                      Catch::Contains("at least one weight must be positive"));
}

TEST_CASE("a profile file that does not exist is named", "[trafgen][profile]") {
    CHECK_THROWS_WITH(load_profile_file("/nonexistent/p.yaml"), Catch::Contains("/nonexistent/p.yaml: cannot open"));
}
