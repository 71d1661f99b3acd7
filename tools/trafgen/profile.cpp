// SPDX-License-Identifier: BSD-3-Clause
// YAML -> Profile, validated in one pass, in the manner of
// dataplane/config.cpp: strict schema (unknown or repeated keys are errors),
// every error "<yaml path>: <what is wrong>".
#include "profile.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "yaml_schema.hpp"

namespace cats::trafgen {

namespace {

using namespace cats::yaml;

template <class Names>
std::string join(const Names& words, std::size_t first = 0) {
    std::string out;
    for (std::size_t i = first; i < std::size(words); ++i) {
        if (!out.empty())
            out += ", ";
        out += words[i];
    }
    return out;
}

std::uint64_t read_uint(const YAML::Node& n, const std::string& path, std::uint64_t lo, std::uint64_t hi) {
    const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
    if (!n.IsScalar())
        fail(path, "expected an integer in " + range + ", got " + describe(n));
    const std::string& s = n.Scalar();
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size())
        fail(path, "expected an integer in " + range + ", got '" + s + "'");
    if (ec != std::errc{} || v < lo || v > hi)
        fail(path, "must be " + range + ", got " + s);
    return v;
}

template <class T>
T read_int(const YAML::Node& n, const std::string& path, std::uint64_t lo,
           std::uint64_t hi = std::numeric_limits<T>::max()) {
    return static_cast<T>(read_uint(n, path, lo, hi));
}

// A finite decimal number in [lo, hi].
double read_double(const YAML::Node& n, const std::string& path, double lo, double hi) {
    std::ostringstream range;
    range << lo << ".." << hi;
    if (!n.IsScalar())
        fail(path, "expected a number in " + range.str() + ", got " + describe(n));
    const std::string& s = n.Scalar();
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
        fail(path, "expected a number in " + range.str() + ", got '" + s + "'");
    if (v < lo || v > hi)
        fail(path, "must be in " + range.str() + ", got " + s);
    return v;
}

bool read_bool(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false"))
        return n.Scalar() == "true";
    fail(path, "expected true or false, got " + describe(n));
}

Ipv6Prefix read_prefix(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const std::optional<Ipv6Prefix> p = parse_ipv6_prefix(s);
    if (!p)
        fail(path, "'" + s + "' is not an IPv6 prefix (expected addr/len, len 0..128)");
    for (std::size_t bit = p->len; bit < 128; ++bit)
        if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
            fail(path, s + " has host bits set");
    return *p;
}

MacAddr read_mac(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const std::optional<MacAddr> m = parse_mac(s);
    if (!m)
        fail(path, "'" + s + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
    return *m;
}

// A map {name: weight} over a fixed set of names (from index `first`), or a
// list of names (weight 1 each). Names left out weigh 0.
std::vector<double> read_weights(const YAML::Node& n, const std::string& path,
                                 std::span<const std::string_view> names, std::size_t first = 0) {
    std::vector<double> w(names.size(), 0.0);
    auto index_of = [&](const YAML::Node& key, const std::string& p) {
        for (std::size_t i = first; i < names.size(); ++i)
            if (key.IsScalar() && key.Scalar() == names[i])
                return i;
        fail(p, "unknown name " + describe(key) + " (expected one of: " + join(names, first) + ")");
    };
    if (n.IsSequence()) {
        for_each_item(n, path, [&](const YAML::Node& v, const std::string& p) {
            const std::size_t i = index_of(v, p);
            if (w[i] != 0)
                fail(p, "'" + v.Scalar() + "' is listed twice");
            w[i] = 1;
        });
    } else if (n.IsMap()) {
        std::set<std::string> seen;
        for (const auto& kv : n) {
            const std::string p = child_path(path, kv.first.IsScalar() ? kv.first.Scalar() : "?");
            const std::size_t i = index_of(kv.first, p);
            if (!seen.insert(kv.first.Scalar()).second)
                fail(p, "duplicate key");
            w[i] = read_double(kv.second, p, 0, 1e9);
        }
    } else {
        fail(path, "expected a map of name: weight or a list of names, got " + describe(n));
    }
    double total = 0;
    for (const double x : w)
        total += x;
    if (total <= 0)
        fail(path, "at least one weight must be positive");
    return w;
}

template <std::size_t N>
void read_weights_into(const YAML::Node& n, const std::string& path, const std::array<std::string_view, N>& names,
                       std::array<double, N>& out, std::size_t first = 0) {
    const std::vector<double> w = read_weights(n, path, names, first);
    std::copy(w.begin(), w.end(), out.begin());
}

std::uint16_t read_compute_types(const YAML::Node& n, const std::string& path) {
    if (list_size(n, path) == 0)
        fail(path, "must list at least one of cpu, gpu, npu, fpga");
    std::uint16_t bits = 0;
    for_each_item(n, path, [&](const YAML::Node& v, const std::string& p) {
        static constexpr std::pair<std::string_view, std::uint16_t> kTypes[] = {
            {"cpu", wire::kComputeCpu}, {"gpu", wire::kComputeGpu}, {"npu", wire::kComputeNpu},
            {"fpga", wire::kComputeFpga}};
        for (const auto& [name, bit] : kTypes) {
            if (v.IsScalar() && v.Scalar() == name) {
                if (bits & bit)
                    fail(p, "'" + v.Scalar() + "' is listed twice");
                bits = static_cast<std::uint16_t>(bits | bit);
                return;
            }
        }
        fail(p, "must be one of cpu | gpu | npu | fpga, got " + describe(v));
    });
    return bits;
}

// ---------------------------------------------------------------------------
// Sections

void parse_addressing(const YAML::Node& n, const std::string& path, Profile& pr) {
    const MapReader m(n, path,
                      {"src_mac", "dst_mac", "src_prefix", "app_dst", "service_sid_prefix", "udp_dport",
                       "tcp_dport", "hop_limit"});
    m.with("src_mac", [&](const YAML::Node& v, const std::string& p) { pr.src_mac = read_mac(v, p); });
    m.with("dst_mac", [&](const YAML::Node& v, const std::string& p) { pr.dst_mac = read_mac(v, p); });
    m.with("src_prefix", [&](const YAML::Node& v, const std::string& p) {
        pr.src_prefix = read_prefix(v, p);
        // The flow index goes in the low 32 bits.
        if (pr.src_prefix.len > 96)
            fail(p, "must be /96 or shorter (the flow index takes the low 32 bits)");
    });
    m.with("app_dst", [&](const YAML::Node& v, const std::string& p) { pr.app_dst = read_ipv6(v, p); });
    m.with("service_sid_prefix", [&](const YAML::Node& v, const std::string& p) {
        const Ipv6Prefix pfx = read_prefix(v, p);
        if (pfx.len != 96)
            fail(p, "must be a /96 (the low 32 bits carry the CS-ID), got /" + std::to_string(pfx.len));
        pr.service_sid_prefix = pfx;
    });
    m.with("udp_dport", [&](const YAML::Node& v, const std::string& p) { pr.udp_dport = read_int<std::uint16_t>(v, p, 1); });
    m.with("tcp_dport", [&](const YAML::Node& v, const std::string& p) { pr.tcp_dport = read_int<std::uint16_t>(v, p, 1); });
    m.with("hop_limit", [&](const YAML::Node& v, const std::string& p) { pr.hop_limit = read_int<std::uint8_t>(v, p, 2, 255); });
}

InstanceSpec parse_instance(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"name", "sids", "weight"});
    InstanceSpec inst;
    inst.name = read_string(m.require("name"), m.path("name"));
    const YAML::Node& sids = m.require("sids");
    const std::size_t count = list_size(sids, m.path("sids"));
    if (count < 1 || count > 5)
        fail(m.path("sids"), "must have 1..5 SIDs, got " + std::to_string(count));
    for_each_item(sids, m.path("sids"), [&](const YAML::Node& v, const std::string& p) {
        inst.sids.push_back(read_ipv6(v, p));
    });
    m.with("weight", [&](const YAML::Node& v, const std::string& p) { inst.weight = read_double(v, p, 0, 1e9); });
    return inst;
}

ServiceSpec parse_service(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"cs_id", "name", "share", "instances"});
    ServiceSpec s;
    s.cs_id = read_int<std::uint32_t>(m.require("cs_id"), m.path("cs_id"), 0);
    m.with("name", [&](const YAML::Node& v, const std::string& p) { s.name = read_string(v, p); });
    if (s.name.empty())
        s.name = "cs-" + std::to_string(s.cs_id);
    m.with("share", [&](const YAML::Node& v, const std::string& p) { s.share = read_double(v, p, 0, 1e9); });
    m.with("instances", [&](const YAML::Node& v, const std::string& p) {
        for_each_item(v, p, [&](const YAML::Node& it, const std::string& ip) {
            s.instances.push_back(parse_instance(it, ip));
        });
    });
    return s;
}

RequirementSet parse_set(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path,
                      {"name", "share", "strict", "max_latency_us", "min_bandwidth_kbps", "compute_types",
                       "min_score", "priority", "affinity_group", "services", "instances", "expect",
                       "drop_reason"});
    RequirementSet r;
    r.name = read_string(m.require("name"), m.path("name"));
    m.with("share", [&](const YAML::Node& v, const std::string& p) { r.share = read_double(v, p, 0, 1e9); });
    m.with("strict", [&](const YAML::Node& v, const std::string& p) { r.req.strict = read_bool(v, p); });
    m.with("max_latency_us", [&](const YAML::Node& v, const std::string& p) {
        r.req.max_latency_us = read_int<std::uint32_t>(v, p, 0);
    });
    m.with("min_bandwidth_kbps", [&](const YAML::Node& v, const std::string& p) {
        r.req.min_bandwidth_kbps = read_int<std::uint32_t>(v, p, 0);
    });
    m.with("compute_types", [&](const YAML::Node& v, const std::string& p) {
        r.req.compute_type = read_compute_types(v, p);
    });
    m.with("min_score", [&](const YAML::Node& v, const std::string& p) {
        r.req.min_score = read_int<std::uint8_t>(v, p, 0, wire::kMaxScore);
    });
    m.with("priority", [&](const YAML::Node& v, const std::string& p) { r.req.priority = read_int<std::uint8_t>(v, p, 0); });
    m.with("affinity_group", [&](const YAML::Node& v, const std::string& p) {
        r.affinity_group = read_int<std::uint32_t>(v, p, 1, 65536);
    });
    m.with("services", [&](const YAML::Node& v, const std::string& p) {
        if (list_size(v, p) == 0)
            fail(p, "must list at least one CS-ID (leave the key out for every service)");
        for_each_item(v, p, [&](const YAML::Node& it, const std::string& ip) {
            r.services.push_back(read_int<std::uint32_t>(it, ip, 0));
        });
    });
    m.with("instances", [&](const YAML::Node& v, const std::string& p) {
        if (list_size(v, p) == 0)
            fail(p, "must list at least one instance name (leave the key out for every instance)");
        for_each_item(v, p, [&](const YAML::Node& it, const std::string& ip) {
            r.instances.push_back(read_string(it, ip));
        });
    });
    m.with("expect", [&](const YAML::Node& v, const std::string& p) {
        if (v.IsScalar() && (v.Scalar() == "steer" || v.Scalar() == "drop"))
            r.expect_drop = v.Scalar() == "drop";
        else
            fail(p, "must be one of steer | drop, got " + describe(v));
    });
    m.with("drop_reason", [&](const YAML::Node& v, const std::string& p) {
        r.drop_reason = read_string(v, p);
        if (!r.expect_drop)
            fail(p, "only meaningful with expect: drop");
    });
    return r;
}

void parse_malformed(const YAML::Node& n, const std::string& path, Profile& pr) {
    const MapReader m(n, path, {"share", "kinds"});
    m.with("share", [&](const YAML::Node& v, const std::string& p) { pr.malformed_share = read_double(v, p, 0, 0.9); });
    m.with("kinds", [&](const YAML::Node& v, const std::string& p) {
        read_weights_into(v, p, kBadKindNames, pr.malformed_kinds, 1);
    });
}

void parse_analysis(const YAML::Node& n, const std::string& path, Profile& pr) {
    const MapReader m(n, path, {"allow_moves_from", "share_tolerance"});
    m.with("allow_moves_from", [&](const YAML::Node& v, const std::string& p) {
        for_each_item(v, p, [&](const YAML::Node& it, const std::string& ip) {
            pr.allow_moves_from.push_back(read_string(it, ip));
        });
    });
    m.with("share_tolerance", [&](const YAML::Node& v, const std::string& p) {
        pr.share_tolerance = read_double(v, p, 0, 1);
        pr.share_tolerance_from = "profile " + p;
    });
}

Profile parse_root(const YAML::Node& root) {
    const MapReader m(root, "",
                      {"seed", "flows", "packets_per_flow", "duration_s", "rate_pps", "packet_size", "addressing",
                       "encodings", "transports", "services", "requirement_sets", "malformed", "analysis"});
    Profile pr;
    pr.src_prefix = *parse_ipv6_prefix("2001:db8:c::/64");
    pr.app_dst = *parse_ipv6_addr("2001:db8:5::64");
    pr.service_sid_prefix = parse_ipv6_prefix("2001:db8:5::/96");

    m.with("seed", [&](const YAML::Node& v, const std::string& p) {
        pr.seed = read_uint(v, p, 0, std::numeric_limits<std::uint64_t>::max());
    });
    m.with("flows", [&](const YAML::Node& v, const std::string& p) { pr.flows = read_int<std::uint32_t>(v, p, 1, 1u << 24); });
    m.with("packets_per_flow", [&](const YAML::Node& v, const std::string& p) {
        pr.packets_per_flow = read_int<std::uint32_t>(v, p, 1, 1u << 30);
    });
    m.with("rate_pps", [&](const YAML::Node& v, const std::string& p) { pr.rate_pps = read_double(v, p, 0, 1e9); });
    m.with("duration_s", [&](const YAML::Node& v, const std::string& p) {
        if (m.find("packets_per_flow") != nullptr)
            fail(p, "give packets_per_flow or duration_s, not both");
        if (pr.rate_pps <= 0)
            fail(p, "needs rate_pps > 0 (packets = rate_pps x duration_s)");
        const double d = read_double(v, p, 0.001, 86400 * 7);
        const double per_flow = std::ceil(pr.rate_pps * d / pr.flows);
        if (per_flow > double(1u << 30))
            fail(p, "rate_pps x duration_s is too many packets");
        pr.packets_per_flow = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(per_flow));
    });
    m.with("packet_size", [&](const YAML::Node& v, const std::string& p) {
        if (v.IsScalar()) {
            pr.size_min = pr.size_max = read_int<std::uint16_t>(v, p, 64, 9000);
            return;
        }
        const MapReader s(v, p, {"min", "max"});
        pr.size_min = read_int<std::uint16_t>(s.require("min"), s.path("min"), 64, 9000);
        pr.size_max = read_int<std::uint16_t>(s.require("max"), s.path("max"), 64, 9000);
        if (pr.size_max < pr.size_min)
            fail(s.path("max"), "must be >= min (" + std::to_string(pr.size_min) + ")");
    });
    m.with("addressing", [&](const YAML::Node& v, const std::string& p) { parse_addressing(v, p, pr); });
    m.with("encodings", [&](const YAML::Node& v, const std::string& p) {
        read_weights_into(v, p, kEncodingNames, pr.encodings);
    });
    m.with("transports", [&](const YAML::Node& v, const std::string& p) {
        read_weights_into(v, p, kTransportNames, pr.transports);
    });
    const YAML::Node& services = m.require("services");
    for_each_item(services, m.path("services"), [&](const YAML::Node& v, const std::string& p) {
        pr.services.push_back(parse_service(v, p));
    });
    m.with("requirement_sets", [&](const YAML::Node& v, const std::string& p) {
        for_each_item(v, p, [&](const YAML::Node& it, const std::string& ip) {
            pr.requirement_sets.push_back(parse_set(it, ip));
        });
    });
    m.with("malformed", [&](const YAML::Node& v, const std::string& p) { parse_malformed(v, p, pr); });
    m.with("analysis", [&](const YAML::Node& v, const std::string& p) { parse_analysis(v, p, pr); });
    validate_profile(pr);
    return pr;
}

}  // namespace

std::optional<std::pair<std::size_t, std::size_t>> Profile::find_instance(std::string_view name) const {
    for (std::size_t s = 0; s < services.size(); ++s)
        for (std::size_t i = 0; i < services[s].instances.size(); ++i)
            if (services[s].instances[i].name == name)
                return std::pair{s, i};
    return std::nullopt;
}

void validate_profile(Profile& p) {
    if (p.services.empty())
        fail("services", "at least one service is required");
    if (p.size_max < p.size_min)
        fail("packet_size", "max must be >= min");
    std::set<std::uint32_t> cs_ids;
    std::set<std::string> names;
    for (std::size_t s = 0; s < p.services.size(); ++s) {
        const std::string sp = item_path("services", s);
        if (!cs_ids.insert(p.services[s].cs_id).second)
            fail(sp + ".cs_id", "CS-ID " + std::to_string(p.services[s].cs_id) + " is listed twice");
        for (std::size_t i = 0; i < p.services[s].instances.size(); ++i)
            if (!names.insert(p.services[s].instances[i].name).second)
                fail(item_path(sp + ".instances", i) + ".name",
                     "instance name '" + p.services[s].instances[i].name + "' is used twice");
    }
    if (p.requirement_sets.empty()) {
        RequirementSet any;
        any.name = "any";
        p.requirement_sets.push_back(any);
    }
    const bool only_sid = p.encodings[static_cast<std::size_t>(Encoding::ServiceSid)] > 0 &&
                          std::count_if(p.encodings.begin(), p.encodings.end(), [](double w) { return w > 0; }) == 1;
    if (p.encodings[static_cast<std::size_t>(Encoding::ServiceSid)] > 0 && !p.service_sid_prefix)
        fail("encodings.service_sid", "needs addressing.service_sid_prefix");
    std::set<std::string> set_names;
    for (std::size_t r = 0; r < p.requirement_sets.size(); ++r) {
        const RequirementSet& rs = p.requirement_sets[r];
        const std::string rp = item_path("requirement_sets", r);
        if (!set_names.insert(rs.name).second)
            fail(rp + ".name", "set name '" + rs.name + "' is used twice");
        for (std::size_t k = 0; k < rs.services.size(); ++k)
            if (!cs_ids.contains(rs.services[k]))
                fail(item_path(rp + ".services", k), "CS-ID " + std::to_string(rs.services[k]) + " is not in services");
        for (std::size_t k = 0; k < rs.instances.size(); ++k) {
            const auto where = p.find_instance(rs.instances[k]);
            if (!where)
                fail(item_path(rp + ".instances", k), "no instance is called '" + rs.instances[k] + "'");
            if (!rs.services.empty() &&
                std::find(rs.services.begin(), rs.services.end(), p.services[where->first].cs_id) == rs.services.end())
                fail(item_path(rp + ".instances", k),
                     "'" + rs.instances[k] + "' belongs to a service this set does not apply to");
        }
        if (rs.has_requirements() && only_sid && rs.share > 0)
            fail(rp, "asks for requirements, but the only encoding is service_sid, which carries none");
    }
    // Every service with flows must have a set that applies to it.
    for (std::size_t s = 0; s < p.services.size(); ++s) {
        if (p.services[s].share <= 0)
            continue;
        const bool covered = std::any_of(p.requirement_sets.begin(), p.requirement_sets.end(), [&](const RequirementSet& rs) {
            return rs.share > 0 && (rs.services.empty() || std::find(rs.services.begin(), rs.services.end(),
                                                                     p.services[s].cs_id) != rs.services.end());
        });
        if (!covered)
            fail(item_path("services", s), "no requirement set with share > 0 applies to CS-ID " +
                                               std::to_string(p.services[s].cs_id));
    }
    if (std::none_of(p.services.begin(), p.services.end(), [](const ServiceSpec& s) { return s.share > 0; }))
        fail("services", "at least one service needs share > 0");
    if (p.malformed_share > 0 &&
        std::all_of(p.malformed_kinds.begin() + 1, p.malformed_kinds.end(), [](double w) { return w <= 0; }))
        std::fill(p.malformed_kinds.begin() + 1, p.malformed_kinds.end(), 1.0);
    for (std::size_t k = 0; k < p.allow_moves_from.size(); ++k)
        if (!p.find_instance(p.allow_moves_from[k]))
            fail(item_path("analysis.allow_moves_from", k), "no instance is called '" + p.allow_moves_from[k] + "'");
}

Profile load_profile_string(const std::string& yaml) {
    // No source in front: load_profile_file() puts the file name before
    // every error.
    const YAML::Node root = load_one_document(yaml, "");
    if (!root.IsMap())
        throw ProfileError("(root): expected a map, got " + describe(root));
    return parse_root(root);
}

Profile load_profile_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw ProfileError(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return load_profile_string(ss.str());
    } catch (const ProfileError& e) {
        throw ProfileError(path + ": " + e.what());
    }
}

std::vector<double> parse_weights(const std::string& flag, const std::string& text,
                                  std::span<const std::string_view> names, std::size_t first) {
    std::vector<double> w(names.size(), 0.0);
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, comma - pos);
        const std::size_t eq = item.find('=');
        const std::string name = item.substr(0, eq);
        double weight = 1;
        if (eq != std::string::npos) {
            const std::string ws = item.substr(eq + 1);
            const auto [end, ec] = std::from_chars(ws.data(), ws.data() + ws.size(), weight);
            if (ws.empty() || ec != std::errc{} || end != ws.data() + ws.size() || !(weight >= 0) || !std::isfinite(weight))
                throw ProfileError(flag + ": bad weight '" + ws + "' for '" + name + "'");
        }
        std::size_t i = first;
        while (i < names.size() && names[i] != name)
            ++i;
        if (i == names.size())
            throw ProfileError(flag + ": unknown name '" + name + "' (expected one of: " + join(names, first) + ")");
        w[i] = weight;
        pos = comma + 1;
    }
    if (std::all_of(w.begin(), w.end(), [](double x) { return x <= 0; }))
        throw ProfileError(flag + ": at least one weight must be positive");
    return w;
}

}  // namespace cats::trafgen
