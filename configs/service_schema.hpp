// SPDX-License-Identifier: BSD-3-Clause
// The static service list (`services:`), which cats-dataplane's and
// cats-control's configs both take: one schema, read into either side's
// own types (dp::ServiceConfig, control's StaticService), which name their
// fields alike:
//
//   services:
//     - cs_id: 100                 # unique in the list
//       name: video                # non-empty UTF-8, at most wire::kMaxNameLen bytes
//       affinity_timeout_s: 30     # 1..86400
//       instances:                 # at most max_instances_per_service
//         - id: 1                  # unique in the service
//           sids: [fc00:a::1]      # 1..max_sids IPv6 addresses, first SID first
//           metrics: {score: 10, load_pct: 0, free_capacity: 1, latency_us: 0,
//                     bandwidth_kbps: 4294967295, compute_types: [cpu], weight: 100}
//
// Every metric is optional (the type's default stays). Errors name the
// YAML path, as yaml_schema.hpp's readers do.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cats_wire.hpp"
#include "name_text.hpp"
#include "yaml_schema.hpp"

namespace cats::yaml {

struct ServiceSchema {
    std::size_t max_sids = 0;                   // per instance
    std::size_t max_instances_per_service = 0;
    std::uint32_t max_weight = 0;
    // What the list's size limits are checked against ("gateway", "policy"),
    // for the message.
    std::string_view limits_owner;
    std::size_t max_services = 0;
    std::size_t max_instances = 0;              // over every service
};

// A non-empty list of compute types, each once: wire::kCompute* bits.
inline std::uint16_t read_compute_types(const YAML::Node& n, const std::string& path) {
    if (list_size(n, path) == 0)
        fail(path, "must list at least one of cpu, gpu, npu, fpga");
    std::uint16_t bits = 0;
    for_each_item(n, path, [&](const YAML::Node& v, const std::string& p) {
        const std::uint16_t bit = read_enum<std::uint16_t>(
            v, p,
            {{"cpu", wire::kComputeCpu}, {"gpu", wire::kComputeGpu}, {"npu", wire::kComputeNpu},
             {"fpga", wire::kComputeFpga}});
        if ((bits & bit) != 0)
            fail(p, "'" + v.Scalar() + "' is listed twice");
        bits = static_cast<std::uint16_t>(bits | bit);
    });
    return bits;
}

template <class Metrics>
Metrics read_metrics(const YAML::Node& n, const std::string& path, const ServiceSchema& s) {
    const MapReader m(n, path,
                      {"score", "load_pct", "free_capacity", "latency_us", "bandwidth_kbps", "compute_types",
                       "weight"});
    Metrics x;
    m.with("score", [&](const YAML::Node& v, const std::string& p) {
        x.score = read_int<std::uint8_t>(v, p, 0, wire::kMaxScore);
    });
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
        x.weight = read_int<std::uint32_t>(v, p, 0, s.max_weight);
    });
    return x;
}

template <class Instance>
Instance read_instance(const YAML::Node& n, const std::string& path, const ServiceSchema& s) {
    const MapReader m(n, path, {"id", "sids", "metrics"});
    Instance inst;
    inst.id = read_int<std::uint32_t>(m.require("id"), m.path("id"), 0);
    const YAML::Node& sids = m.require("sids");
    const std::string sids_path = m.path("sids");
    const std::size_t count = list_size(sids, sids_path);
    if (count < 1 || count > s.max_sids)
        fail(sids_path, "must have 1.." + std::to_string(s.max_sids) + " SIDs, got " + std::to_string(count));
    for_each_item(sids, sids_path, [&](const YAML::Node& v, const std::string& p) {
        inst.sids.push_back(read_ipv6(v, p));
    });
    m.with("metrics", [&](const YAML::Node& v, const std::string& p) {
        inst.metrics = read_metrics<decltype(inst.metrics)>(v, p, s);
    });
    return inst;
}

template <class Service>
Service read_service(const YAML::Node& n, const std::string& path, const ServiceSchema& s) {
    const MapReader m(n, path, {"cs_id", "name", "affinity_timeout_s", "instances"});
    Service svc;
    svc.cs_id = read_int<std::uint32_t>(m.require("cs_id"), m.path("cs_id"), 0);
    svc.name = read_string(m.require("name"), m.path("name"));
    // Both processes print names in JSON and carry them over the
    // management channel: one rule for either config (name_text.hpp).
    if (std::string e = wire::check_name(svc.name); !e.empty())
        fail(m.path("name"), e);
    m.with("affinity_timeout_s", [&](const YAML::Node& v, const std::string& p) {
        svc.affinity_timeout_s = read_int<std::uint32_t>(v, p, 1, 86400);
    });
    m.with("instances", [&](const YAML::Node& v, const std::string& p) {
        const std::size_t count = list_size(v, p);
        if (count > s.max_instances_per_service)
            fail(p, "at most " + std::to_string(s.max_instances_per_service) + " instances per service, got " +
                        std::to_string(count));
        std::map<std::uint32_t, std::string> ids;  // id -> path of first use
        for_each_item(v, p, [&](const YAML::Node& item, const std::string& ip) {
            auto inst = read_instance<typename decltype(svc.instances)::value_type>(item, ip, s);
            const auto [it, fresh] = ids.emplace(inst.id, ip);
            if (!fresh)
                fail(child_path(ip, "id"),
                     "duplicate instance id " + std::to_string(inst.id) + " (first at " + it->second + ")");
            svc.instances.push_back(std::move(inst));
        });
    });
    return svc;
}

// The list at `path`: services with unique CS-IDs, within the limits.
template <class Service>
std::vector<Service> read_services(const YAML::Node& list, const std::string& path, const ServiceSchema& s) {
    std::vector<Service> out;
    std::map<std::uint32_t, std::string> cs_ids;  // cs_id -> path of first use
    std::size_t total_instances = 0;
    for_each_item(list, path, [&](const YAML::Node& v, const std::string& p) {
        Service svc = read_service<Service>(v, p, s);
        const auto [it, fresh] = cs_ids.emplace(svc.cs_id, p);
        if (!fresh)
            fail(child_path(p, "cs_id"),
                 "duplicate cs_id " + std::to_string(svc.cs_id) + " (first at " + it->second + ")");
        total_instances += svc.instances.size();
        out.push_back(std::move(svc));
    });
    const std::string owner(s.limits_owner);
    if (out.size() > s.max_services)
        fail(path, std::to_string(out.size()) + " services exceed " + owner + ".max_services (" +
                       std::to_string(s.max_services) + ")");
    if (total_instances > s.max_instances)
        fail(path, std::to_string(total_instances) + " instances exceed " + owner + ".max_instances (" +
                       std::to_string(s.max_instances) + ")");
    return out;
}

}  // namespace cats::yaml
