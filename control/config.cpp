// SPDX-License-Identifier: BSD-3-Clause
// YAML -> typed config structs, validated in one pass (STYLE rule 12), in the
// style of dataplane/config.cpp: every check throws
// ConfigError("<yaml path>: <what is wrong>") at the first problem found, in
// document order; an unknown or repeated key is an error.
#include "config.hpp"

#include <arpa/inet.h>
#include <sys/un.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "ctl_wire.hpp"
#include "service_schema.hpp"
#include "yaml_schema.hpp"

namespace cats::control {

namespace {

using namespace cats::yaml;

std::string read_name(const YAML::Node& n, const std::string& path) {
    std::string s = read_string(n, path);
    // Printed in JSON (catsctl peer list) and logs: the names' one rule.
    if (std::string e = wire::check_name(s); !e.empty())
        fail(path, e);
    return s;
}

std::string read_socket_path(const YAML::Node& n, const std::string& path) {
    std::string s = read_string(n, path);
    constexpr std::size_t kMax = sizeof(sockaddr_un::sun_path) - 1;
    if (s.size() > kMax)
        fail(path, "a Unix socket path holds at most " + std::to_string(kMax) + " bytes, got " +
                       std::to_string(s.size()));
    if (s.find('\0') != std::string::npos)
        fail(path, "contains a NUL byte");
    return s;
}

// Hex text -> bytes (advert::parse_hex_key), or a ConfigError at `path`.
std::vector<std::uint8_t> parse_hex_key(std::string_view text, const std::string& path) {
    std::string error;
    std::optional<std::vector<std::uint8_t>> key = advert::parse_hex_key(text, error);
    if (!key)
        fail(path, error);
    return std::move(*key);
}

// ---------------------------------------------------------------------------
// Sections

std::string read_ip_literal(const YAML::Node& n, const std::string& path) {
    const std::string a = read_string(n, path);
    std::uint8_t buf[16];
    if (a.find('\0') != std::string::npos ||
        (inet_pton(AF_INET6, a.c_str(), buf) != 1 && inet_pton(AF_INET, a.c_str(), buf) != 1))
        fail(path, "'" + a + "' is not an IPv6 or IPv4 address");
    return a;
}

ListenConfig parse_listen(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"address", "port", "receive_buffer_bytes"});
    ListenConfig l;
    l.address = read_ip_literal(m.require("address"), m.path("address"));
    m.with("port", [&](const YAML::Node& v, const std::string& p) { l.port = read_int<std::uint16_t>(v, p, 1); });
    m.with("receive_buffer_bytes", [&](const YAML::Node& v, const std::string& p) {
        const auto b = read_int<std::uint64_t>(v, p, 0);
        if (b != 0 && (b < kMinReceiveBuffer || b > kMaxReceiveBuffer))
            fail(p, "must be 0 (the kernel's default) or " + std::to_string(kMinReceiveBuffer) + ".." +
                        std::to_string(kMaxReceiveBuffer) + ", got " + std::to_string(b));
        l.receive_buffer_bytes = static_cast<std::uint32_t>(b);
    });
    return l;
}

// One id or a closed range "first-last" (YAML reads `200-299` as that
// string).
IdRange read_id_range(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar() && n.Scalar().find('-', 1) != std::string::npos) {
        const std::string& s = n.Scalar();
        const std::size_t dash = s.find('-', 1);
        const std::string_view a = std::string_view(s).substr(0, dash);
        const std::string_view b = std::string_view(s).substr(dash + 1);
        const auto number = [&](std::string_view t, std::uint32_t& v) {
            const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
            return !t.empty() && ec == std::errc{} && end == t.data() + t.size();
        };
        IdRange r;
        if (!number(a, r.first) || !number(b, r.last))
            fail(path, "expected an id or a range FIRST-LAST of ids 0..4294967295, got '" + s + "'");
        if (r.first > r.last)
            fail(path, "range '" + s + "' ends before it starts");
        return r;
    }
    const auto v = read_int<std::uint32_t>(n, path, 0);
    return IdRange{v, v};
}

std::vector<IdRange> read_id_ranges(const YAML::Node& n, const std::string& path) {
    std::vector<IdRange> out;
    for_each_item(n, path, [&](const YAML::Node& v, const std::string& p) { out.push_back(read_id_range(v, p)); });
    if (out.empty())
        fail(path, "must not be empty (leave the key out to allow any id)");
    return out;
}

PeerScope parse_scope(const MapReader& m) {
    PeerScope s;
    m.with("cs_ids", [&](const YAML::Node& v, const std::string& p) { s.cs_ids = read_id_ranges(v, p); });
    m.with("instance_ids", [&](const YAML::Node& v, const std::string& p) { s.instance_ids = read_id_ranges(v, p); });
    m.with("max_instances", [&](const YAML::Node& v, const std::string& p) {
        s.max_instances = read_int<std::uint32_t>(v, p, 1, 16777216);
    });
    m.with("max_services", [&](const YAML::Node& v, const std::string& p) {
        s.max_services = read_int<std::uint32_t>(v, p, 1, 1048576);
    });
    return s;
}

PeerConfig parse_peer(const YAML::Node& n, const std::string& path, const std::string& base_dir) {
    const MapReader m(n, path,
                      {"node_id", "key_id", "key", "key_file", "name", "lifetime_cap_s", "cs_ids", "instance_ids",
                       "max_instances", "max_services"});
    PeerConfig peer;
    peer.node_id = read_int<std::uint32_t>(m.require("node_id"), m.path("node_id"), 0);
    peer.key_id = read_int<std::uint16_t>(m.require("key_id"), m.path("key_id"), 0);
    const YAML::Node* key = m.find("key");
    const YAML::Node* key_file = m.find("key_file");
    if ((key == nullptr) == (key_file == nullptr))
        fail(path, key ? "give either key or key_file, not both" : "one of key or key_file is required");
    if (key != nullptr) {
        peer.key = parse_hex_key(read_string(*key, m.path("key")), m.path("key"));
    } else {
        const std::string p = m.path("key_file");
        std::filesystem::path file = read_string(*key_file, p);
        if (file.is_relative())
            file = std::filesystem::path(base_dir) / file;
        // One hex string, as in `key`; surrounding blanks and the final
        // newline an editor adds are ignored.
        const std::string text = read_text_file(file, p);
        peer.key = parse_hex_key(trim_blanks(text), p + " (" + file.string() + ")");
    }
    peer.name = "node-" + std::to_string(peer.node_id);
    m.with("name", [&](const YAML::Node& v, const std::string& p) { peer.name = read_name(v, p); });
    m.with("lifetime_cap_s", [&](const YAML::Node& v, const std::string& p) {
        peer.lifetime_cap_s = read_int<std::uint32_t>(v, p, 1, 65535);
    });
    peer.scope = parse_scope(m);
    return peer;
}

PolicyConfig parse_policy(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path,
                      {"metric_threshold_pct", "max_pushes_per_s", "default_lifetime_cap_s", "max_services",
                       "max_instances", "default_affinity_timeout_s", "startup_hold_s"});
    PolicyConfig p;
    m.with("metric_threshold_pct", [&](const YAML::Node& v, const std::string& vp) {
        p.metric_threshold_pct = read_int<std::uint32_t>(v, vp, 0, 100);
    });
    m.with("max_pushes_per_s", [&](const YAML::Node& v, const std::string& vp) {
        p.max_pushes_per_s = read_int<std::uint32_t>(v, vp, 0, 1000);
    });
    m.with("default_lifetime_cap_s", [&](const YAML::Node& v, const std::string& vp) {
        p.default_lifetime_cap_s = read_int<std::uint32_t>(v, vp, 1, 65535);
    });
    m.with("max_services", [&](const YAML::Node& v, const std::string& vp) {
        p.max_services = read_int<std::uint32_t>(v, vp, 1, 1048576);
    });
    m.with("max_instances", [&](const YAML::Node& v, const std::string& vp) {
        p.max_instances = read_int<std::uint32_t>(v, vp, 1, 16777216);
    });
    m.with("default_affinity_timeout_s", [&](const YAML::Node& v, const std::string& vp) {
        p.default_affinity_timeout_s = read_int<std::uint32_t>(v, vp, 1, 86400);
    });
    m.with("startup_hold_s", [&](const YAML::Node& v, const std::string& vp) {
        p.startup_hold_s = read_int<std::uint32_t>(v, vp, 0, 3600);
    });
    return p;
}

MetricsConfig parse_metrics(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"address", "port"});
    MetricsConfig c;
    m.with("address", [&](const YAML::Node& v, const std::string& p) { c.address = read_ip_literal(v, p); });
    m.with("port", [&](const YAML::Node& v, const std::string& p) { c.port = read_int<std::uint16_t>(v, p, 0); });
    return c;
}

Config parse_config(const YAML::Node& root, const std::string& base_dir) {
    const MapReader m(root, "",
                      {"listen", "ctl_socket", "dataplane_socket", "peers", "policy", "services", "state_dir",
                       "metrics"});
    Config c;
    // Policy first: the limits below are checked against it, wherever the
    // policy map sits in the document.
    m.with("policy", [&](const YAML::Node& v, const std::string& p) { c.policy = parse_policy(v, p); });

    m.with("listen", [&](const YAML::Node& list, const std::string& lp) {
        c.listen.clear();
        std::map<std::pair<std::string, std::uint16_t>, std::string> seen;
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            ListenConfig l = parse_listen(v, p);
            const auto [it, fresh] = seen.emplace(std::pair{l.address, l.port}, p);
            if (!fresh)
                fail(p, "duplicate listen address " + l.address + " port " + std::to_string(l.port) +
                            " (first at " + it->second + ")");
            c.listen.push_back(std::move(l));
        });
    });
    m.with("metrics", [&](const YAML::Node& v, const std::string& p) { c.metrics = parse_metrics(v, p); });
    m.with("ctl_socket", [&](const YAML::Node& v, const std::string& p) { c.ctl_socket = read_socket_path(v, p); });
    m.with("dataplane_socket", [&](const YAML::Node& v, const std::string& p) {
        c.dataplane_socket = read_socket_path(v, p);
    });
    if (c.ctl_socket == c.dataplane_socket)
        fail("dataplane_socket", "must differ from ctl_socket (" + c.ctl_socket + ")");
    m.with("state_dir", [&](const YAML::Node& v, const std::string& p) {
        std::filesystem::path dir = read_string(v, p);
        if (dir.empty())
            fail(p, "must not be empty (leave the key out to keep replay state in memory only)");
        if (dir.string().find('\0') != std::string::npos)
            fail(p, "contains a NUL byte");
        if (dir.is_relative())
            dir = std::filesystem::path(base_dir) / dir;
        c.state_dir = dir.lexically_normal().string();
    });

    m.with("peers", [&](const YAML::Node& list, const std::string& lp) {
        std::map<std::uint16_t, std::string> key_ids;  // key_id -> path of first use
        std::map<std::uint32_t, std::size_t> nodes;    // node_id -> index of its first key
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            PeerConfig peer = parse_peer(v, p, base_dir);
            // The key id alone picks the key that verifies a datagram.
            const auto [it, fresh] = key_ids.emplace(peer.key_id, p);
            if (!fresh)
                fail(child_path(p, "key_id"),
                     "duplicate key_id " + std::to_string(peer.key_id) + " (first at " + it->second + ")");
            // The quotas count a node's instances whichever key signed them.
            const auto [first, new_node] = nodes.emplace(peer.node_id, c.peers.size());
            if (!new_node && !(c.peers[first->second].scope == peer.scope))
                fail(p, "node " + std::to_string(peer.node_id) + " has another key at " +
                            item_path(lp, first->second) +
                            " with another scope (cs_ids, instance_ids, max_instances, max_services): a node's "
                            "keys must share one");
            c.peers.push_back(std::move(peer));
        });
    });

    m.with("services", [&](const YAML::Node& list, const std::string& lp) {
        c.services = read_services<StaticService>(list, lp,
                                                  {.max_sids = mgmt::kMaxSids,
                                                   .max_instances_per_service = kMaxInstancesPerService,
                                                   .max_weight = kMaxWeight,
                                                   .limits_owner = "policy",
                                                   .max_services = c.policy.max_services,
                                                   .max_instances = c.policy.max_instances});
    });
    return c;
}

Config load_from_text(const std::string& text, const std::string& source, const std::string& base_dir) {
    const YAML::Node doc = load_one_document(text, source);
    try {
        return parse_config(doc, base_dir);
    } catch (const YAML::Exception& e) {
        // Every shape is checked before use; this net keeps anything but
        // ConfigError from leaving this file.
        throw ConfigError(source + ": " + e.what());
    }
}

}  // namespace

Config load_config_file(const std::string& path) {
    const std::string text = read_config_file(path);
    std::string dir = std::filesystem::path(path).parent_path().string();
    return load_from_text(text, path, dir.empty() ? "." : dir);
}

Config load_config_string(const std::string& yaml, const std::string& base_dir) {
    return load_from_text(yaml, "<string>", base_dir);
}

}  // namespace cats::control
