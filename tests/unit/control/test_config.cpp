// SPDX-License-Identifier: BSD-3-Clause
// control/config: every error names its YAML path; the sample loads.
#include "config.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace cats::control;

namespace {

std::string error_of(const std::string& yaml, const std::string& base_dir = ".") {
    try {
        load_config_string(yaml, base_dir);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

const std::string kKey = "00112233445566778899aabbccddeeff";  // 16 bytes

}  // namespace

TEST_CASE("control config: the sample loads", "[config]") {
    const Config c = load_config_file(std::string(CATS_SOURCE_ROOT) + "/configs/control.yaml");
    REQUIRE(c.metrics);
    CHECK(c.metrics->address == "::1");
    CHECK(c.metrics->port == 9741);
    REQUIRE(c.listen.size() == 1);
    CHECK(c.listen[0].address == "::1");
    CHECK(c.listen[0].port == 7410);
    CHECK(c.listen[0].receive_buffer_bytes == 32u << 20);
    CHECK(c.ctl_socket == "/run/cats/control.sock");
    CHECK(c.dataplane_socket == "/run/cats/dataplane.sock");
    CHECK(c.state_dir == "/var/lib/cats-control");
    REQUIRE(c.peers.size() == 2);
    CHECK(c.peers[0].node_id == 1);
    CHECK(c.peers[0].key_id == 1);
    CHECK(c.peers[0].name == "site-a1");
    CHECK(c.peers[0].key.size() == 32);
    CHECK(c.peers[0].key[1] == 0x01);
    CHECK(c.peers[1].lifetime_cap_s == 120);
    CHECK(c.peers[0].scope.cs_ids == std::vector<IdRange>{{100, 100}, {200, 299}});
    CHECK(c.peers[0].scope.instance_ids == std::vector<IdRange>{{1000, 1999}});
    CHECK(c.peers[0].scope.max_instances == 256);
    CHECK(c.peers[0].scope.max_services == 16);
    CHECK(c.peers[1].scope.unrestricted());
    CHECK(c.policy.metric_threshold_pct == 5);
    CHECK(c.policy.max_pushes_per_s == 2);
    REQUIRE(c.services.size() == 2);
    CHECK(c.services[0].cs_id == 100);
    REQUIRE(c.services[0].instances.size() == 1);
    CHECK(c.services[0].instances[0].metrics.score == 9);
    CHECK(c.services[0].instances[0].metrics.bandwidth_kbps == 10000000);
    CHECK(c.services[1].instances.empty());
}

TEST_CASE("control config: defaults", "[config]") {
    const Config c = load_config_string("");
    REQUIRE(c.listen.size() == 1);
    CHECK(c.listen[0].address == "::1");
    CHECK(c.listen[0].port == kDefaultAdvertPort);
    CHECK(c.listen[0].receive_buffer_bytes == kDefaultReceiveBuffer);
    CHECK(c.ctl_socket == kDefaultCtlSocket);
    CHECK(c.dataplane_socket == kDefaultDataplaneSocket);
    CHECK(c.peers.empty());
    CHECK(c.services.empty());
    CHECK(c.policy.metric_threshold_pct == 5);
    CHECK(c.policy.max_pushes_per_s == 2);
    CHECK(c.policy.default_lifetime_cap_s == 300);
    CHECK(c.policy.startup_hold_s == 5);
    CHECK(load_config_string("listen: []").listen.empty());
    const Config p = load_config_string("peers: [{node_id: 3, key_id: 4, key: " + kKey + "}]");
    CHECK(p.peers[0].name == "node-3");
    CHECK(p.peers[0].lifetime_cap_s == 0);
}

TEST_CASE("control config: every error names its YAML path", "[config]") {
    const std::string peer = "peers:\n  - node_id: 1\n    key_id: 1\n";
    const std::pair<std::string, std::string> cases[] = {
        {"bogus: 1", "bogus: unknown key (expected one of: listen, ctl_socket, dataplane_socket, peers, policy, services, state_dir, metrics)"},
        {"listen: 5", "listen: expected a list, got '5'"},
        {"listen: [{port: 1}]", "listen[0].address: required key is missing"},
        {"listen: [{address: 'fe80::zz'}]", "listen[0].address: 'fe80::zz' is not an IPv6 or IPv4 address"},
        {"listen: [{address: '::1', port: 0}]", "listen[0].port: must be 1..65535, got 0"},
        {"listen: [{address: '::1', port: 70000}]", "listen[0].port: must be 1..65535, got 70000"},
        {"listen: [{address: '::1', receive_buffer_bytes: 4096}]",
         "listen[0].receive_buffer_bytes: must be 0 (the kernel's default) or 65536..536870912, got 4096"},
        {"listen: [{address: '::1', receive_buffer_bytes: 2147483648}]",
         "listen[0].receive_buffer_bytes: must be 0 (the kernel's default) or 65536..536870912, got 2147483648"},
        {"listen: [{address: '::1', receive_buffer_bytes: -1}]",
         "listen[0].receive_buffer_bytes: must be 0..18446744073709551615, got -1"},
        {"listen: [{address: '::1', receive_buffer_bytes: 16M}]",
         "listen[0].receive_buffer_bytes: expected an integer in 0..18446744073709551615, got '16M'"},
        {"listen: [{address: '::1'}, {address: '::1', port: 7410}]",
         "listen[1]: duplicate listen address ::1 port 7410 (first at listen[0])"},
        {"ctl_socket: ''", "ctl_socket: must not be empty"},
        {"ctl_socket: /" + std::string(120, 'x'), "ctl_socket: a Unix socket path holds at most 107 bytes, got 121"},
        {"ctl_socket: /a\ndataplane_socket: /a", "dataplane_socket: must differ from ctl_socket (/a)"},
        {"peers: {}", "peers: expected a list, got a map"},
        {"peers: [{key_id: 1, key: " + kKey + "}]", "peers[0].node_id: required key is missing"},
        {"peers: [{node_id: 1, key: " + kKey + "}]", "peers[0].key_id: required key is missing"},
        {"peers: [{node_id: 1, key_id: 65536, key: " + kKey + "}]", "peers[0].key_id: must be 0..65535, got 65536"},
        {peer, "peers[0]: one of key or key_file is required"},
        {peer + "    key: " + kKey + "\n    key_file: k\n", "peers[0]: give either key or key_file, not both"},
        {peer + "    key: xyz\n", "peers[0].key: is not hex (expected 32..256 hex digits)"},
        {peer + "    key: abc\n", "peers[0].key: odd number of hex digits (3)"},
        {peer + "    key: 0011\n",
         "peers[0].key: key of 2 bytes; expected 32..256 hex digits (HMAC-SHA256 keys shorter than 128 bits are refused)"},
        {peer + "    key: " + kKey + "\n    name: " + std::string(65, 'n') + "\n", "peers[0].name: at most 64 bytes, got 65"},
        {peer + "    key: " + kKey + "\n    name: \"bad\xff\xfe\"\n", "peers[0].name: not valid UTF-8 (byte 3 is 0xff)"},
        {peer + "    key: " + kKey + "\n    lifetime_cap_s: 0\n", "peers[0].lifetime_cap_s: must be 1..65535, got 0"},
        {peer + "    key: " + kKey + "\n    cs_ids: []\n", "peers[0].cs_ids: must not be empty (leave the key out to allow any id)"},
        {peer + "    key: " + kKey + "\n    cs_ids: [100, 300-200]\n", "peers[0].cs_ids[1]: range '300-200' ends before it starts"},
        {peer + "    key: " + kKey + "\n    cs_ids: [1-x]\n",
         "peers[0].cs_ids[0]: expected an id or a range FIRST-LAST of ids 0..4294967295, got '1-x'"},
        {peer + "    key: " + kKey + "\n    instance_ids: [-5]\n", "peers[0].instance_ids[0]: must be 0..4294967295, got -5"},
        {peer + "    key: " + kKey + "\n    instance_ids: 7\n", "peers[0].instance_ids: expected a list, got '7'"},
        {peer + "    key: " + kKey + "\n    max_instances: 0\n", "peers[0].max_instances: must be 1..16777216, got 0"},
        {peer + "    key: " + kKey + "\n    max_services: 2000000\n", "peers[0].max_services: must be 1..1048576, got 2000000"},
        {peer + "    key: " + kKey + "\n  - {node_id: 1, key_id: 2, key: " + kKey + ", max_instances: 5}\n",
         "peers[1]: node 1 has another key at peers[0] with another scope (cs_ids, instance_ids, max_instances, "
         "max_services): a node's keys must share one"},
        {peer + "    key: " + kKey + "\n    colour: red\n",
         "peers[0].colour: unknown key (expected one of: node_id, key_id, key, key_file, name, lifetime_cap_s, "
         "cs_ids, instance_ids, max_instances, max_services)"},
        {peer + "    key: " + kKey + "\n  - {node_id: 2, key_id: 1, key: " + kKey + "}\n",
         "peers[1].key_id: duplicate key_id 1 (first at peers[0])"},
        {"policy: {metric_threshold_pct: 101}", "policy.metric_threshold_pct: must be 0..100, got 101"},
        {"policy: {metric_threshold_pct: -1}", "policy.metric_threshold_pct: must be 0..100, got -1"},
        {"policy: {metric_threshold_pct: 2.5}", "policy.metric_threshold_pct: expected an integer in 0..100, got '2.5'"},
        {"policy: {max_pushes_per_s: 1001}", "policy.max_pushes_per_s: must be 0..1000, got 1001"},
        {"policy: {default_lifetime_cap_s: 0}", "policy.default_lifetime_cap_s: must be 1..65535, got 0"},
        {"policy: {max_services: 0}", "policy.max_services: must be 1..1048576, got 0"},
        {"policy: {max_instances: 0}", "policy.max_instances: must be 1..16777216, got 0"},
        {"policy: {default_affinity_timeout_s: 0}", "policy.default_affinity_timeout_s: must be 1..86400, got 0"},
        {"policy: {startup_hold_s: 3601}", "policy.startup_hold_s: must be 0..3600, got 3601"},
        {"policy: {max_push: 1}", "policy.max_push: unknown key (expected one of: metric_threshold_pct, max_pushes_per_s, "
                                  "default_lifetime_cap_s, max_services, max_instances, default_affinity_timeout_s, "
                                  "startup_hold_s)"},
        {"policy: {max_services: 1, max_services: 2}", "policy.max_services: duplicate key"},
        {"services: [{name: a}]", "services[0].cs_id: required key is missing"},
        {"services: [{cs_id: 1}]", "services[0].name: required key is missing"},
        {"services: [{cs_id: 1, name: " + std::string(65, 'n') + "}]", "services[0].name: at most 64 bytes, got 65"},
        {"services: [{cs_id: 1, name: \"bad\xff\xfe\"}]", "services[0].name: not valid UTF-8 (byte 3 is 0xff)"},
        {"services: [{cs_id: 1, name: a, affinity_timeout_s: 0}]",
         "services[0].affinity_timeout_s: must be 1..86400, got 0"},
        {"services: [{cs_id: 1, name: a}, {cs_id: 1, name: b}]",
         "services[1].cs_id: duplicate cs_id 1 (first at services[0])"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1}]}]", "services[0].instances[0].sids: required key is missing"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: []}]}]",
         "services[0].instances[0].sids: must have 1..5 SIDs, got 0"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1','::2','::3','::4','::5','::6']}]}]",
         "services[0].instances[0].sids: must have 1..5 SIDs, got 6"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['2001:db8::zz']}]}]",
         "services[0].instances[0].sids[0]: '2001:db8::zz' is not an IPv6 address"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1']}, {id: 1, sids: ['::2']}]}]",
         "services[0].instances[1].id: duplicate instance id 1 (first at services[0].instances[0])"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {score: 11}}]}]",
         "services[0].instances[0].metrics.score: must be 0..10, got 11"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {load_pct: 101}}]}]",
         "services[0].instances[0].metrics.load_pct: must be 0..100, got 101"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {weight: 1000001}}]}]",
         "services[0].instances[0].metrics.weight: must be 0..1000000, got 1000001"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {compute_types: [tpu]}}]}]",
         "services[0].instances[0].metrics.compute_types[0]: must be one of cpu | gpu | npu | fpga, got 'tpu'"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {compute_types: [cpu, cpu]}}]}]",
         "services[0].instances[0].metrics.compute_types[1]: 'cpu' is listed twice"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {compute_types: []}}]}]",
         "services[0].instances[0].metrics.compute_types: must list at least one of cpu, gpu, npu, fpga"},
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1'], metrics: {speed: 1}}]}]",
         "services[0].instances[0].metrics.speed: unknown key (expected one of: score, load_pct, free_capacity, "
         "latency_us, bandwidth_kbps, compute_types, weight)"},
        {"policy: {max_services: 1}\nservices: [{cs_id: 1, name: a}, {cs_id: 2, name: b}]",
         "services: 2 services exceed policy.max_services (1)"},
        // The limits apply wherever the policy is written.
        {"services: [{cs_id: 1, name: a, instances: [{id: 1, sids: ['::1']}, {id: 2, sids: ['::1']}]}]\n"
         "policy: {max_instances: 1}",
         "services: 2 instances exceed policy.max_instances (1)"},
        {"metrics: {address: localhost}", "metrics.address: 'localhost' is not an IPv6 or IPv4 address"},
        {"metrics: {port: 65536}", "metrics.port: must be 0..65535, got 65536"},
        {"metrics: {path: /m}", "metrics.path: unknown key (expected one of: address, port)"},
        {"metrics: 9741", "metrics: expected a map, got '9741'"},
        {"listen: [", "<string>: YAML syntax error at line 1, column 1: end of sequence flow not found"},
        {"a: 1\n---\nb: 2", "<string>: expected one YAML document, found 2"},
        // yaml-cpp 0.7 reads a stray comma as endless empty documents: an
        // error now, not a hang (found by tests/fuzz).
        {",", "<string>: expected one YAML document, found 16 or more (a stray ',' outside [] or {} reads as "
              "endless empty documents)"},
        {"peers: []\n,\n", "<string>: YAML syntax error at line 2, column 1: end of map not found"},
    };
    for (const auto& [yaml, want] : cases) {
        INFO(yaml);
        CHECK(error_of(yaml) == want);
    }
}

TEST_CASE("control config: key_file", "[config]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("cats-control-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    {
        std::ofstream(dir / "good.key") << "  " << kKey << "\n\n";
        std::ofstream(dir / "bad.key") << "not hex\n";
    }
    const Config c = load_config_string("peers: [{node_id: 1, key_id: 1, key_file: good.key}]", dir.string());
    REQUIRE(c.peers[0].key.size() == 16);
    CHECK(c.peers[0].key[0] == 0x00);
    CHECK(c.peers[0].key[15] == 0xff);
    const Config abs = load_config_string("peers: [{node_id: 1, key_id: 1, key_file: " + (dir / "good.key").string() + "}]");
    CHECK(abs.peers[0].key == c.peers[0].key);
    CHECK(error_of("peers: [{node_id: 1, key_id: 1, key_file: bad.key}]", dir.string()) ==
          "peers[0].key_file (" + (dir / "bad.key").string() + "): is not hex (expected 32..256 hex digits)");
    CHECK(error_of("peers: [{node_id: 1, key_id: 1, key_file: missing.key}]", dir.string()) ==
          "peers[0].key_file: cannot read " + (dir / "missing.key").string() + ": No such file or directory");
    CHECK(error_of("peers: [{node_id: 1, key_id: 1, key_file: .}]", dir.string()) ==
          "peers[0].key_file: cannot read " + (dir / ".").string() + ": is a directory");
    fs::remove_all(dir);
}

TEST_CASE("control config: file errors", "[config]") {
    CHECK_THROWS_WITH(load_config_file("/nonexistent/control.yaml"),
                      "/nonexistent/control.yaml: cannot read: No such file or directory");
    CHECK_THROWS_WITH(load_config_file("/"), "/: cannot read: is a directory");
}

TEST_CASE("control config: state_dir", "[config]") {
    CHECK(load_config_string("listen: []\n").state_dir.empty());
    CHECK(load_config_string("listen: []\nstate_dir: /var/lib/x/\n").state_dir == "/var/lib/x/");
    CHECK(load_config_string("listen: []\nstate_dir: st\n", "/etc/cats").state_dir == "/etc/cats/st");
    REQUIRE_THROWS_WITH(load_config_string("listen: []\nstate_dir: ''\n"), Catch::Contains("state_dir: must not be empty"));
    REQUIRE_THROWS_WITH(load_config_string("listen: []\nstate_dir: [a]\n"), Catch::Contains("state_dir"));
}
