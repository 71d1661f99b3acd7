// SPDX-License-Identifier: BSD-3-Clause
// cats-control's YAML config, parsed into typed structs and validated once
// (STYLE rule 12). An error names the YAML path and what is wrong, e.g.
//   peers[1].key: 'zz' is not hex (expected 32..256 hex digits)
// Every key is documented in control/README.md and configs/control.yaml.
//
// Thread safety: load_config_*() are called once by the main thread at start.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "advert_wire.hpp"
#include "config_error.hpp"
#include "mgmt_wire.hpp"

namespace cats::control {

inline constexpr std::uint16_t kDefaultAdvertPort = 7410;
inline constexpr const char* kDefaultConfigPath = "/etc/cats/control.yaml";
inline constexpr const char* kDefaultCtlSocket = "/run/cats/control.sock";
inline constexpr const char* kDefaultDataplaneSocket = "/run/cats/dataplane.sock";
// As the dataplane's config (dataplane/config.hpp): a service holds at most
// this many instances.
inline constexpr std::size_t kMaxInstancesPerService = 1024;
inline constexpr std::uint32_t kMaxWeight = 1000000;
using advert::kMaxKeyLen;
using advert::kMinKeyLen;

// The advertisement socket's receive buffer: what a burst of datagrams
// waits in while cats-control works through them (each takes its size
// plus about 600 bytes of kernel overhead). 0 keeps the kernel's default.
inline constexpr std::uint32_t kDefaultReceiveBuffer = 16u << 20;
inline constexpr std::uint32_t kMinReceiveBuffer = 64u << 10;
inline constexpr std::uint32_t kMaxReceiveBuffer = 512u << 20;  // the kernel's own limit is 1 GiB - 1

struct ListenConfig {
    std::string address = "::1";  // an IPv6 or IPv4 literal
    std::uint16_t port = kDefaultAdvertPort;
    std::uint32_t receive_buffer_bytes = kDefaultReceiveBuffer;
};

// Closed ranges of ids, e.g. cs_ids: [100, 200-299].
struct IdRange {
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    bool operator==(const IdRange&) const = default;
};

// What one node may put in the table (issue 20, item 5): without a scope, a
// node's key could fill every slot or claim another node's (CS-ID,
// instance). A record outside its node's scope is refused (`out_of_scope`),
// one over a quota too (`node_quota`), and both are counted per peer.
// A node's scope is the same on all its keys (checked by load_config).
struct PeerScope {
    std::vector<IdRange> cs_ids;        // empty: any CS-ID
    std::vector<IdRange> instance_ids;  // empty: any instance id
    std::uint32_t max_instances = 0;    // instances the node holds at once; 0: policy.max_instances only
    std::uint32_t max_services = 0;     // services it has instances in; 0: policy.max_services only
    bool operator==(const PeerScope&) const = default;

    bool unrestricted() const noexcept { return cs_ids.empty() && instance_ids.empty() && max_instances == 0; }
    bool allows_cs(std::uint32_t cs_id) const noexcept { return in(cs_ids, cs_id); }
    bool allows_instance(std::uint32_t id) const noexcept { return in(instance_ids, id); }

private:
    static bool in(const std::vector<IdRange>& ranges, std::uint32_t v) noexcept {
        if (ranges.empty())
            return true;
        for (const IdRange& r : ranges)
            if (v >= r.first && v <= r.last)
                return true;
        return false;
    }
};

// One key of one compute node. A node that rotates keys appears twice, with
// the same node_id and two key_ids; replay state and scope are per node.
struct PeerConfig {
    std::uint32_t node_id = 0;
    std::uint16_t key_id = 0;              // unique over all peers
    std::vector<std::uint8_t> key;         // HMAC-SHA256 key, kMinKeyLen..kMaxKeyLen bytes
    std::string name;                      // label for logs and `catsctl peer list`
    std::uint32_t lifetime_cap_s = 0;      // 0: policy.default_lifetime_cap_s
    PeerScope scope;
};

// Rate control of metric churn (CATS R11) and table limits.
struct PolicyConfig {
    // A metric change smaller than this percentage of the value the
    // dataplane has (at least 1) is not pushed. 0: push every change.
    std::uint32_t metric_threshold_pct = 5;
    // Pushes per instance per second; a faster change waits and goes out
    // when the rate allows, with the latest value. 0: no limit.
    std::uint32_t max_pushes_per_s = 2;
    // Advertised lifetimes above this are cut to it (per peer override:
    // peers[].lifetime_cap_s).
    std::uint32_t default_lifetime_cap_s = 300;
    // Limits over static, CLI and advertised entries together; keep them at
    // or below the dataplane's gateway.max_services / max_instances.
    std::uint32_t max_services = 4096;
    std::uint32_t max_instances = 65536;
    // Affinity timeout of a service created for an advertised CS-ID that is
    // not configured.
    std::uint32_t default_affinity_timeout_s = 30;
    // After cats-control starts, wait this long before the first full
    // snapshot so that agents can re-advertise: the snapshot replaces the
    // dataplane's whole table. Not applied when no peer is configured.
    std::uint32_t startup_hold_s = 5;
};

struct StaticService {
    std::uint32_t cs_id = 0;
    std::string name;                       // 1..mgmt::kMaxNameLen bytes
    std::uint32_t affinity_timeout_s = 30;  // 1..86400
    std::vector<mgmt::InstanceRec> instances;
};

// The Prometheus endpoint (metrics.hpp): GET /metrics over HTTP.
inline constexpr std::uint16_t kDefaultMetricsPort = 9741;
struct MetricsConfig {
    std::string address = "::1";  // an IPv6 or IPv4 literal
    std::uint16_t port = kDefaultMetricsPort;  // 0: any free port (tests)
};

struct Config {
    std::vector<ListenConfig> listen{ListenConfig{}};
    std::optional<MetricsConfig> metrics;  // absent: no endpoint
    std::string ctl_socket = kDefaultCtlSocket;
    std::string dataplane_socket = kDefaultDataplaneSocket;
    std::vector<PeerConfig> peers;
    PolicyConfig policy;
    std::vector<StaticService> services;
    // Where the last accepted sequence of each node is kept across restarts
    // (replay_state.hpp). Empty: in memory only, and cats-control says so
    // at start.
    std::string state_dir;
};

using cats::ConfigError;  // configs/config_error.hpp

// Parse and validate. Throws ConfigError naming the YAML path. A relative
// key_file is read relative to `base_dir` (the config file's directory).
Config load_config_file(const std::string& path);
Config load_config_string(const std::string& yaml, const std::string& base_dir = ".");

}  // namespace cats::control
