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
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "ctl_wire.hpp"
#include "yaml_schema.hpp"

namespace cats::control {

namespace {

using namespace cats::yaml;

std::string read_name(const YAML::Node& n, const std::string& path) {
    std::string s = read_string(n, path);
    // The management channel carries at most mgmt::kMaxNameLen bytes.
    if (s.size() > mgmt::kMaxNameLen)
        fail(path, "at most " + std::to_string(mgmt::kMaxNameLen) + " bytes, got " + std::to_string(s.size()));
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

std::array<std::uint8_t, 16> read_ipv6(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const auto a = ctl::parse_sid(s);
    if (!a)
        fail(path, "'" + s + "' is not an IPv6 address");
    return *a;
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

ListenConfig parse_listen(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"address", "port", "receive_buffer_bytes"});
    ListenConfig l;
    l.address = read_string(m.require("address"), m.path("address"));
    std::uint8_t buf[16];
    if (l.address.find('\0') != std::string::npos ||
        (inet_pton(AF_INET6, l.address.c_str(), buf) != 1 && inet_pton(AF_INET, l.address.c_str(), buf) != 1))
        fail(m.path("address"), "'" + l.address + "' is not an IPv6 or IPv4 address");
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

PeerConfig parse_peer(const YAML::Node& n, const std::string& path, const std::string& base_dir) {
    const MapReader m(n, path, {"node_id", "key_id", "key", "key_file", "name", "lifetime_cap_s"});
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

std::uint16_t read_compute_types(const YAML::Node& n, const std::string& path) {
    if (list_size(n, path) == 0)
        fail(path, "must list at least one of cpu, gpu, npu, fpga");
    std::uint16_t bits = 0;
    for_each_item(n, path, [&](const YAML::Node& v, const std::string& p) {
        const auto bit = v.IsScalar() ? ctl::parse_compute_types(v.Scalar()) : std::nullopt;
        if (!bit || v.Scalar().find(',') != std::string::npos)
            fail(p, "must be one of cpu | gpu | npu | fpga, got " + describe(v));
        if ((bits & *bit) != 0)
            fail(p, "'" + v.Scalar() + "' is listed twice");
        bits = static_cast<std::uint16_t>(bits | *bit);
    });
    return bits;
}

mgmt::Metrics parse_metrics(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path,
                      {"score", "load_pct", "free_capacity", "latency_us", "bandwidth_kbps", "compute_types",
                       "weight"});
    mgmt::Metrics x;
    m.with("score", [&](const YAML::Node& v, const std::string& p) { x.score = read_int<std::uint8_t>(v, p, 0, 10); });
    m.with("load_pct", [&](const YAML::Node& v, const std::string& p) {
        x.load_pct = read_int<std::uint8_t>(v, p, 0, 100);
    });
    m.with("free_capacity", [&](const YAML::Node& v, const std::string& p) {
        x.free_capacity = read_int<std::uint32_t>(v, p, 0);
    });
    m.with("latency_us", [&](const YAML::Node& v, const std::string& p) {
        x.latency_us = read_int<std::uint32_t>(v, p, 0);
    });
    m.with("bandwidth_kbps", [&](const YAML::Node& v, const std::string& p) {
        x.bandwidth_kbps = read_int<std::uint32_t>(v, p, 0);
    });
    m.with("compute_types", [&](const YAML::Node& v, const std::string& p) {
        x.compute_types = read_compute_types(v, p);
    });
    m.with("weight", [&](const YAML::Node& v, const std::string& p) {
        x.weight = read_int<std::uint32_t>(v, p, 0, kMaxWeight);
    });
    return x;
}

mgmt::InstanceRec parse_instance(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"id", "sids", "metrics"});
    mgmt::InstanceRec inst;
    inst.id = read_int<std::uint32_t>(m.require("id"), m.path("id"), 0);
    const YAML::Node& sids = m.require("sids");
    const std::string sids_path = m.path("sids");
    const std::size_t count = list_size(sids, sids_path);
    if (count < 1 || count > mgmt::kMaxSids)
        fail(sids_path, "must have 1.." + std::to_string(mgmt::kMaxSids) + " SIDs, got " + std::to_string(count));
    for_each_item(sids, sids_path, [&](const YAML::Node& v, const std::string& p) {
        inst.sids.push_back(read_ipv6(v, p));
    });
    m.with("metrics", [&](const YAML::Node& v, const std::string& p) { inst.metrics = parse_metrics(v, p); });
    return inst;
}

StaticService parse_service(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"cs_id", "name", "affinity_timeout_s", "instances"});
    StaticService svc;
    svc.cs_id = read_int<std::uint32_t>(m.require("cs_id"), m.path("cs_id"), 0);
    svc.name = read_name(m.require("name"), m.path("name"));
    m.with("affinity_timeout_s", [&](const YAML::Node& v, const std::string& p) {
        svc.affinity_timeout_s = read_int<std::uint32_t>(v, p, 1, 86400);
    });
    m.with("instances", [&](const YAML::Node& v, const std::string& p) {
        const std::size_t count = list_size(v, p);
        if (count > kMaxInstancesPerService)
            fail(p, "at most " + std::to_string(kMaxInstancesPerService) + " instances per service, got " +
                        std::to_string(count));
        std::map<std::uint32_t, std::string> ids;  // id -> path of first use
        for_each_item(v, p, [&](const YAML::Node& item, const std::string& ip) {
            mgmt::InstanceRec inst = parse_instance(item, ip);
            const auto [it, fresh] = ids.emplace(inst.id, ip);
            if (!fresh)
                fail(child_path(ip, "id"),
                     "duplicate instance id " + std::to_string(inst.id) + " (first at " + it->second + ")");
            svc.instances.push_back(std::move(inst));
        });
    });
    return svc;
}

Config parse_config(const YAML::Node& root, const std::string& base_dir) {
    const MapReader m(root, "", {"listen", "ctl_socket", "dataplane_socket", "peers", "policy", "services"});
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
    m.with("ctl_socket", [&](const YAML::Node& v, const std::string& p) { c.ctl_socket = read_socket_path(v, p); });
    m.with("dataplane_socket", [&](const YAML::Node& v, const std::string& p) {
        c.dataplane_socket = read_socket_path(v, p);
    });
    if (c.ctl_socket == c.dataplane_socket)
        fail("dataplane_socket", "must differ from ctl_socket (" + c.ctl_socket + ")");

    m.with("peers", [&](const YAML::Node& list, const std::string& lp) {
        std::map<std::uint16_t, std::string> key_ids;  // key_id -> path of first use
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            PeerConfig peer = parse_peer(v, p, base_dir);
            // The key id alone picks the key that verifies a datagram.
            const auto [it, fresh] = key_ids.emplace(peer.key_id, p);
            if (!fresh)
                fail(child_path(p, "key_id"),
                     "duplicate key_id " + std::to_string(peer.key_id) + " (first at " + it->second + ")");
            c.peers.push_back(std::move(peer));
        });
    });

    std::map<std::uint32_t, std::string> cs_ids;  // cs_id -> path of first use
    std::size_t total_instances = 0;
    m.with("services", [&](const YAML::Node& list, const std::string& lp) {
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            StaticService svc = parse_service(v, p);
            const auto [it, fresh] = cs_ids.emplace(svc.cs_id, p);
            if (!fresh)
                fail(child_path(p, "cs_id"),
                     "duplicate cs_id " + std::to_string(svc.cs_id) + " (first at " + it->second + ")");
            total_instances += svc.instances.size();
            c.services.push_back(std::move(svc));
        });
        if (c.services.size() > c.policy.max_services)
            fail(lp, std::to_string(c.services.size()) + " services exceed policy.max_services (" +
                         std::to_string(c.policy.max_services) + ")");
        if (total_instances > c.policy.max_instances)
            fail(lp, std::to_string(total_instances) + " instances exceed policy.max_instances (" +
                         std::to_string(c.policy.max_instances) + ")");
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
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw ConfigError(path + ": cannot read: is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        throw ConfigError(path + ": cannot read: I/O error");
    std::string dir = std::filesystem::path(path).parent_path().string();
    return load_from_text(text.str(), path, dir.empty() ? "." : dir);
}

Config load_config_string(const std::string& yaml, const std::string& base_dir) {
    return load_from_text(yaml, "<string>", base_dir);
}

}  // namespace cats::control
