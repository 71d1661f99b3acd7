// SPDX-License-Identifier: BSD-3-Clause
// cats-agent's settings: a YAML file (--config) and command-line flags,
// parsed into one typed struct and validated once. Flags are applied after
// the file: a scalar flag replaces the file's value, --control and
// --service add to its lists, a metric flag sets that metric on every
// instance. Errors name the YAML path or the flag, e.g.
//   agent.yaml: instances[1].sids[0]: '2001:db8::zz' is not an IPv6 address
//   --service '100:x:2001:db8::1': instance id: expected an integer in 0..4294967295
//
// Thread safety: called once by main() before anything runs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "advert_wire.hpp"
#include "config_error.hpp"
#include "log.hpp"

namespace cats::agent {

// Bad arguments or config: cats-agent exits with code 2.
using UsageError = cats::ConfigError;
// A command line that does not parse (an unknown argument, a flag without
// its value): said with a pointer to --help.
struct ArgError : UsageError {
    using UsageError::UsageError;
};

using advert::kMaxKeyLen;
using advert::kMinKeyLen;

using Sid = std::array<std::uint8_t, 16>;

struct InstanceConfig {
    std::uint32_t cs_id = 0;
    std::uint32_t id = 0;
    std::vector<Sid> sids;      // 1..5, first segment first
    advert::Metrics metrics;    // as configured (absent: not advertised)
};

struct Controller {
    std::string text;  // as written, for logs
    std::string host;  // name or address literal, without brackets
    std::string port;
};

// Node-wide measurements, refreshed every interval.
struct MeasureConfig {
    bool enabled = false;
    bool load = true;                           // load_pct from the load average
    std::optional<std::uint32_t> max_sessions;  // free_capacity = max - current
    // Where the current session count comes from (exactly one when
    // max_sessions is set).
    std::optional<std::string> sessions_file;     // a file holding one integer
    std::optional<std::string> sessions_command;  // `sh -c` command printing one integer
    std::optional<std::uint16_t> sessions_tcp_port;  // established TCP connections to this local port
    std::optional<std::uint32_t> cpus;          // default: online CPUs
    std::string loadavg_path = "/proc/loadavg";
    std::string proc_net_dir = "/proc/net";
};

struct AgentConfig {
    std::uint32_t node_id = 0;
    std::uint16_t key_id = 0;
    std::vector<std::uint8_t> key;
    std::vector<Controller> controllers;
    double interval_s = 1.0;
    std::uint16_t lifetime_s = 3;               // default: 3 x interval, rounded up
    std::vector<InstanceConfig> instances;
    MeasureConfig measure;
    std::optional<std::string> metrics_file;   // re-read every interval
    LogLevel log_level = LogLevel::Info;        // log_level, --log-level
    bool once = false;                          // one advertisement, then exit
    bool dump = false;                          // print the datagrams as hex, send nothing
    bool help = false;
    bool version = false;
};

// Parses argv (and the --config file it names). Throws UsageError.
AgentConfig parse_args(int argc, const char* const* argv);

// The YAML config alone (for tests); `source` names it in errors and
// `base_dir` anchors a relative key_file.
AgentConfig parse_config_text(const std::string& yaml, const std::string& source, const std::string& base_dir);

// The --metrics-file: a YAML map of metric name -> value for every
// instance, and optionally "CS_ID:INSTANCE_ID" -> map of metrics for one
// instance, e.g.
//   load_pct: 40
//   "100:1": {score: 3}
// The metric names are those of the config's instances[].metrics.
struct MetricsOverride {
    advert::Metrics all;
    std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, advert::Metrics>> per_instance;
};
// Throws UsageError ("<file>: <yaml path>: what is wrong").
MetricsOverride load_metrics_file(const std::string& path);
MetricsOverride parse_metrics_text(const std::string& yaml, const std::string& source);

// Sets in `base` every metric that `top` carries.
void overlay_metrics(advert::Metrics& base, const advert::Metrics& top);

extern const char* const kUsage;

}  // namespace cats::agent
