// SPDX-License-Identifier: BSD-3-Clause
// cats-agent's YAML config and flags -> AgentConfig (STYLE rule 12). The
// YAML readers follow dataplane/config.cpp: a strict schema (unknown or
// repeated keys are errors) and errors that name the path.
#include "options.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "addr_text.hpp"
#include "yaml_schema.hpp"

namespace cats::agent {

const char* const kUsage = R"(usage: cats-agent [--config FILE] [options]

Advertises the service instances of this compute node to cats-control
(proto-defs/ADVERT.md): one signed ADVERTISE per interval to every
controller; a WITHDRAW of every instance on SIGINT/SIGTERM.

  --config FILE            YAML config (flags below override or add to it)
  --control HOST:PORT      a controller (repeatable; [v6addr]:port; port default 7410)
  --node-id N              this node's id (0..4294967295)
  --key-id N               the key's id (0..65535)
  --key-hex HEX            HMAC-SHA256 key, 32..256 hex digits
  --key-file FILE          a file holding the key as hex
  --interval S             seconds between advertisements (default 1; 0.05..3600)
  --lifetime S             advertised lifetime, seconds (default 3 x interval)
  --service CS_ID:INSTANCE_ID:SID[,SID...]
                           an instance and its segment list (repeatable, 1..5 SIDs)
Metrics (set on every instance):
  --load PCT  --free-capacity N  --queue-delay-us N  --bandwidth-kbps N
  --score 0..10  --compute-types cpu,gpu,npu,fpga  --weight N  --latency-us N
Measured metrics:
  --measure                load_pct from /proc/loadavg (1-min load / CPUs x 100)
  --max-sessions N         free_capacity = N - current sessions, counted by one of
  --sessions-file FILE       a file holding the count
  --sessions-command CMD     a shell command printing the count
  --sessions-tcp-port PORT   established TCP connections to a local port
  --metrics-file FILE      YAML metric name -> value, re-read every interval
  --log-level LEVEL        least severe message logged: debug (every measurement
                           and round), info (default), warn or error
Modes:
  --once                   send one advertisement and exit
  --dump                   print the datagrams as hex (one per line) and exit
  --version
  --help

Exit status: 0 done (or stopped by a signal), 1 runtime failure, 2 bad
arguments or config.
)";

namespace {

using namespace cats::yaml;

// ---------------------------------------------------------------------------
// Scalars, from YAML or from a flag's text

LogLevel parse_level(const std::string& s, const std::string& where) {
    const std::optional<LogLevel> l = parse_log_level(s);
    if (!l)
        throw UsageError(where + ": '" + s + "' is not " + kLogLevelNames);
    return *l;
}

// A plain decimal integer in [lo, hi]: no sign, hex or fraction.
std::uint64_t parse_uint(std::string_view s, const std::string& where, std::uint64_t lo, std::uint64_t hi) {
    const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
    const bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
        fail(where, "expected an integer in " + range + ", got '" + std::string(s) + "'");
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi)
        fail(where, "must be " + range + ", got " + std::string(s));
    return v;
}

template <class T>
T to_int(std::string_view s, const std::string& where, std::uint64_t lo = 0,
         std::uint64_t hi = std::numeric_limits<T>::max()) {
    return static_cast<T>(parse_uint(s, where, lo, hi));
}

std::string scalar(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar())
        fail(path, "expected a value, got " + describe(n));
    return n.Scalar();
}

template <class T>
T read_int(const YAML::Node& n, const std::string& path, std::uint64_t lo = 0,
           std::uint64_t hi = std::numeric_limits<T>::max()) {
    return to_int<T>(scalar(n, path), path, lo, hi);
}

std::string read_string(const YAML::Node& n, const std::string& path) {
    const std::string s = scalar(n, path);
    if (s.empty())
        fail(path, "must not be empty");
    if (s.find('\0') != std::string::npos)
        fail(path, "contains a NUL byte");
    return s;
}

bool read_bool(const YAML::Node& n, const std::string& path) {
    const std::string s = scalar(n, path);
    if (s == "true")
        return true;
    if (s == "false")
        return false;
    fail(path, "expected true or false, got '" + s + "'");
}

// Seconds, possibly with a fraction ("0.5").
double parse_seconds(const std::string& s, const std::string& where, double lo, double hi) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
        fail(where, "expected a number of seconds, got '" + s + "'");
    if (v < lo || v > hi) {
        std::ostringstream range;
        range << lo << ".." << hi;
        fail(where, "must be " + range.str() + " seconds, got " + s);
    }
    return v;
}

Sid parse_sid(const std::string& s, const std::string& where) {
    const std::optional<Sid> a = wire::parse_ipv6(s);
    if (!a)
        fail(where, "'" + s + "' is not an IPv6 address");
    return *a;
}

// Hex text -> bytes (advert::parse_hex_key), or a ConfigError at `where`.
std::vector<std::uint8_t> parse_hex_key(std::string_view text, const std::string& where) {
    std::string error;
    std::optional<std::vector<std::uint8_t>> key = advert::parse_hex_key(text, error);
    if (!key)
        fail(where, error);
    return std::move(*key);
}

// The key file holds the hex key; surrounding blanks and newlines are ignored.
std::vector<std::uint8_t> read_key_file(const std::string& name, const std::string& base_dir, const std::string& where) {
    std::filesystem::path file = name;
    if (file.is_relative() && !base_dir.empty())
        file = std::filesystem::path(base_dir) / file;
    const std::string text = read_text_file(file, where);
    return parse_hex_key(trim_blanks(text), where + " (" + file.string() + ")");
}

// HOST:PORT, [V6]:PORT, HOST, [V6] or a bare IPv6 literal; port default 7410.
Controller parse_controller(const std::string& s, const std::string& where) {
    Controller c;
    c.text = s;
    std::string port;
    if (!s.empty() && s.front() == '[') {
        const std::size_t close = s.find(']');
        if (close == std::string::npos)
            fail(where, "'" + s + "': missing ']'");
        c.host = s.substr(1, close - 1);
        const std::string rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                fail(where, "'" + s + "': expected ':' and a port after ']'");
            port = rest.substr(1);
        }
    } else if (std::count(s.begin(), s.end(), ':') > 1) {
        c.host = s;  // a bare IPv6 literal
    } else if (const std::size_t colon = s.find(':'); colon != std::string::npos) {
        c.host = s.substr(0, colon);
        port = s.substr(colon + 1);
    } else {
        c.host = s;
    }
    if (c.host.empty())
        fail(where, "'" + s + "': no host (expected HOST:PORT or [IPV6]:PORT)");
    c.port = std::to_string(port.empty() ? advert::kDefaultPort : to_int<std::uint16_t>(port, where + ": port", 1));
    return c;
}

std::uint16_t compute_bit(std::string_view name) {
    if (name == "cpu") return 1;
    if (name == "gpu") return 2;
    if (name == "npu") return 4;
    if (name == "fpga") return 8;
    return 0;
}

std::uint16_t parse_compute_list(const std::vector<std::string>& names, const std::string& where) {
    if (names.empty())
        fail(where, "must list at least one of cpu, gpu, npu, fpga");
    std::uint16_t bits = 0;
    for (const std::string& n : names) {
        const std::uint16_t b = compute_bit(n);
        if (b == 0)
            fail(where, "'" + n + "' is not one of cpu, gpu, npu, fpga");
        if ((bits & b) != 0)
            fail(where, "'" + n + "' is listed twice");
        bits = static_cast<std::uint16_t>(bits | b);
    }
    return bits;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t at = s.find(sep, start);
        out.push_back(s.substr(start, at - start));
        if (at == std::string::npos)
            return out;
        start = at + 1;
    }
}

// ---------------------------------------------------------------------------
// Metrics: one table of names for the config, the flags and the metrics file

const std::initializer_list<std::string_view> kMetricNames = {
    "load_pct", "free_capacity", "queue_delay_us", "bandwidth_kbps", "score", "compute_types", "weight", "latency_us"};

// Sets metric `name` from its text form (compute types: "cpu,gpu").
void set_metric(advert::Metrics& m, std::string_view name, const std::string& v, const std::string& where) {
    if (name == "load_pct")
        m.load_pct = to_int<std::uint8_t>(v, where, 0, 100);
    else if (name == "free_capacity")
        m.free_capacity = to_int<std::uint32_t>(v, where);
    else if (name == "queue_delay_us")
        m.queue_delay_us = to_int<std::uint32_t>(v, where);
    else if (name == "bandwidth_kbps")
        m.bandwidth_kbps = to_int<std::uint32_t>(v, where);
    else if (name == "score")
        m.l2_score = to_int<std::uint8_t>(v, where, 0, 10);
    else if (name == "compute_types")
        m.compute_types = parse_compute_list(split(v, ','), where);
    else if (name == "weight")
        m.weight = to_int<std::uint32_t>(v, where, 0, 1000000);
    else if (name == "latency_us")
        m.latency_us = to_int<std::uint32_t>(v, where);
}

void read_metric(advert::Metrics& m, std::string_view name, const YAML::Node& v, const std::string& path) {
    if (name == "compute_types") {
        std::vector<std::string> names;
        for_each_item(v, path, [&](const YAML::Node& item, const std::string& ip) { names.push_back(read_string(item, ip)); });
        m.compute_types = parse_compute_list(names, path);
        return;
    }
    set_metric(m, name, scalar(v, path), path);
}

advert::Metrics parse_metrics(const YAML::Node& n, const std::string& path) {
    const MapReader r(n, path, kMetricNames);
    advert::Metrics m;
    for (const auto& [k, v] : r.entries())
        read_metric(m, k, v, r.path(k));
    return m;
}

// ---------------------------------------------------------------------------
// Sections

InstanceConfig parse_instance(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"cs_id", "id", "sids", "metrics"});
    InstanceConfig in;
    in.cs_id = read_int<std::uint32_t>(m.require("cs_id"), m.path("cs_id"));
    in.id = read_int<std::uint32_t>(m.require("id"), m.path("id"));
    const std::string sp = m.path("sids");
    const YAML::Node& sids = m.require("sids");
    const std::size_t count = list_size(sids, sp);
    if (count < 1 || count > advert::kMaxSids)
        fail(sp, "must have 1.." + std::to_string(advert::kMaxSids) + " SIDs, got " + std::to_string(count));
    for_each_item(sids, sp, [&](const YAML::Node& v, const std::string& p) { in.sids.push_back(read_ipv6(v, p)); });
    m.with("metrics", [&](const YAML::Node& v, const std::string& p) { in.metrics = parse_metrics(v, p); });
    return in;
}

void parse_measure(const YAML::Node& n, const std::string& path, MeasureConfig& mc) {
    const MapReader m(n, path,
                      {"load", "max_sessions", "sessions_file", "sessions_command", "sessions_tcp_port", "cpus",
                       "loadavg_path", "proc_net_dir"});
    mc.enabled = true;
    m.with("load", [&](const YAML::Node& v, const std::string& p) { mc.load = read_bool(v, p); });
    m.with("max_sessions", [&](const YAML::Node& v, const std::string& p) { mc.max_sessions = read_int<std::uint32_t>(v, p); });
    m.with("sessions_file", [&](const YAML::Node& v, const std::string& p) { mc.sessions_file = read_string(v, p); });
    m.with("sessions_command", [&](const YAML::Node& v, const std::string& p) { mc.sessions_command = read_string(v, p); });
    m.with("sessions_tcp_port", [&](const YAML::Node& v, const std::string& p) {
        mc.sessions_tcp_port = read_int<std::uint16_t>(v, p, 1);
    });
    m.with("cpus", [&](const YAML::Node& v, const std::string& p) { mc.cpus = read_int<std::uint32_t>(v, p, 1, 65536); });
    m.with("loadavg_path", [&](const YAML::Node& v, const std::string& p) { mc.loadavg_path = read_string(v, p); });
    m.with("proc_net_dir", [&](const YAML::Node& v, const std::string& p) { mc.proc_net_dir = read_string(v, p); });
}

// What the file and the flags set, before defaults and cross-checks.
struct Draft {
    AgentConfig cfg;
    std::optional<std::uint32_t> node_id;
    std::optional<std::uint16_t> key_id;
    std::optional<std::uint16_t> lifetime_s;
    std::string key_source;  // where the key came from, for errors
};

void parse_yaml_root(const YAML::Node& root, const std::string& base_dir, Draft& d) {
    const MapReader m(root, "",
                      {"node_id", "key_id", "key", "key_file", "controllers", "interval_s", "lifetime_s", "instances",
                       "measure", "metrics_file", "log_level"});
    AgentConfig& c = d.cfg;
    m.with("node_id", [&](const YAML::Node& v, const std::string& p) { d.node_id = read_int<std::uint32_t>(v, p); });
    m.with("key_id", [&](const YAML::Node& v, const std::string& p) { d.key_id = read_int<std::uint16_t>(v, p); });
    if (m.find("key") != nullptr && m.find("key_file") != nullptr)
        fail("key_file", "give either key or key_file, not both");
    m.with("key", [&](const YAML::Node& v, const std::string& p) {
        c.key = parse_hex_key(read_string(v, p), p);
        d.key_source = p;
    });
    m.with("key_file", [&](const YAML::Node& v, const std::string& p) {
        c.key = read_key_file(read_string(v, p), base_dir, p);
        d.key_source = p;
    });
    m.with("controllers", [&](const YAML::Node& list, const std::string& lp) {
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            c.controllers.push_back(parse_controller(read_string(v, p), p));
        });
    });
    m.with("interval_s", [&](const YAML::Node& v, const std::string& p) {
        c.interval_s = parse_seconds(scalar(v, p), p, 0.05, 3600);
    });
    m.with("lifetime_s", [&](const YAML::Node& v, const std::string& p) { d.lifetime_s = read_int<std::uint16_t>(v, p, 1); });
    m.with("instances", [&](const YAML::Node& list, const std::string& lp) {
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) { c.instances.push_back(parse_instance(v, p)); });
    });
    m.with("measure", [&](const YAML::Node& v, const std::string& p) { parse_measure(v, p, c.measure); });
    m.with("metrics_file", [&](const YAML::Node& v, const std::string& p) { c.metrics_file = read_string(v, p); });
    m.with("log_level", [&](const YAML::Node& v, const std::string& p) { c.log_level = parse_level(read_string(v, p), p); });
}

// Runs `f`, prefixing any UsageError (or stray yaml-cpp error) with `source`.
template <class F>
void in_source(const std::string& source, F&& f) {
    try {
        f();
    } catch (const UsageError& e) {
        throw UsageError(source + ": " + e.what());
    } catch (const YAML::Exception& e) {
        throw UsageError(source + ": " + e.what());
    }
}

// --service CS_ID:INSTANCE_ID:SID[,SID...]; SIDs contain colons, so only
// the first two colons separate fields.
InstanceConfig parse_service_flag(const std::string& s) {
    const std::string where = "--service '" + s + "'";
    const std::size_t c1 = s.find(':');
    const std::size_t c2 = c1 == std::string::npos ? c1 : s.find(':', c1 + 1);
    if (c2 == std::string::npos)
        fail(where, "expected CS_ID:INSTANCE_ID:SID[,SID...]");
    InstanceConfig in;
    in.cs_id = to_int<std::uint32_t>(s.substr(0, c1), where + ": cs id");
    in.id = to_int<std::uint32_t>(s.substr(c1 + 1, c2 - c1 - 1), where + ": instance id");
    const std::vector<std::string> sids = split(s.substr(c2 + 1), ',');
    if (sids.size() > advert::kMaxSids)
        fail(where, "must have 1.." + std::to_string(advert::kMaxSids) + " SIDs, got " + std::to_string(sids.size()));
    for (std::size_t i = 0; i < sids.size(); ++i)
        in.sids.push_back(parse_sid(sids[i], where + ": SID " + std::to_string(i + 1)));
    return in;
}

struct FlagSpec {
    std::string_view name;
    bool takes_value;
};
constexpr FlagSpec kFlags[] = {
    {"config", true},         {"control", true},        {"node-id", true},          {"key-id", true},
    {"key-hex", true},        {"key-file", true},       {"interval", true},         {"lifetime", true},
    {"service", true},        {"load", true},           {"free-capacity", true},    {"queue-delay-us", true},
    {"bandwidth-kbps", true}, {"score", true},          {"compute-types", true},    {"weight", true},
    {"latency-us", true},     {"measure", false},       {"max-sessions", true},     {"sessions-file", true},
    {"sessions-command", true}, {"sessions-tcp-port", true}, {"metrics-file", true}, {"once", false},
    {"dump", false},          {"help", false},          {"version", false},     {"log-level", true},
};

// Flag name (without --) -> metric name.
std::optional<std::string_view> metric_of_flag(std::string_view flag) {
    static constexpr std::pair<std::string_view, std::string_view> kMap[] = {
        {"load", "load_pct"},         {"free-capacity", "free_capacity"}, {"queue-delay-us", "queue_delay_us"},
        {"bandwidth-kbps", "bandwidth_kbps"}, {"score", "score"},         {"compute-types", "compute_types"},
        {"weight", "weight"},         {"latency-us", "latency_us"},
    };
    for (const auto& [f, m] : kMap)
        if (f == flag)
            return m;
    return std::nullopt;
}

}  // namespace

void overlay_metrics(advert::Metrics& base, const advert::Metrics& top) {
    if (top.load_pct) base.load_pct = top.load_pct;
    if (top.free_capacity) base.free_capacity = top.free_capacity;
    if (top.queue_delay_us) base.queue_delay_us = top.queue_delay_us;
    if (top.bandwidth_kbps) base.bandwidth_kbps = top.bandwidth_kbps;
    if (top.l2_score) base.l2_score = top.l2_score;
    if (top.compute_types) base.compute_types = top.compute_types;
    if (top.weight) base.weight = top.weight;
    if (top.latency_us) base.latency_us = top.latency_us;
}

namespace {

// Defaults and the checks that involve several settings.
AgentConfig finish(Draft d, const std::string& source) {
    AgentConfig& c = d.cfg;
    const auto need = [&](bool ok, const std::string& yaml_key, const std::string& flag) {
        if (!ok)
            throw UsageError(source + "missing " + yaml_key + " (or " + flag + ")");
    };
    need(d.node_id.has_value(), "node_id", "--node-id");
    need(d.key_id.has_value(), "key_id", "--key-id");
    need(!c.key.empty(), "key or key_file", "--key-hex or --key-file");
    need(!c.instances.empty(), "instances", "--service");
    if (!c.dump)
        need(!c.controllers.empty(), "controllers", "--control");
    c.node_id = *d.node_id;
    c.key_id = *d.key_id;

    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    for (const InstanceConfig& in : c.instances)
        if (!seen.insert({in.cs_id, in.id}).second)
            throw UsageError(source + "instance " + std::to_string(in.cs_id) + ":" + std::to_string(in.id) +
                             " is given twice");
    if (c.instances.size() > UINT16_MAX)
        throw UsageError(source + "at most 65535 instances");

    // Lifetime: by default three intervals, so that two lost datagrams in a
    // row do not withdraw anything (ADVERT.md section 1).
    if (d.lifetime_s) {
        c.lifetime_s = *d.lifetime_s;
    } else {
        const double l = std::ceil(3 * c.interval_s);
        c.lifetime_s = static_cast<std::uint16_t>(std::clamp(l, 1.0, 65535.0));
    }
    if (c.lifetime_s <= c.interval_s)
        throw UsageError(source + "lifetime " + std::to_string(c.lifetime_s) +
                         " s must be longer than the interval, or every instance expires between refreshes");

    const MeasureConfig& mc = c.measure;
    const int sources = (mc.sessions_file ? 1 : 0) + (mc.sessions_command ? 1 : 0) + (mc.sessions_tcp_port ? 1 : 0);
    if (sources > 1)
        throw UsageError(source + "measure: give one of sessions_file, sessions_command, sessions_tcp_port");
    if (mc.max_sessions && sources == 0)
        throw UsageError(source +
                         "measure.max_sessions needs a session count: sessions_file, sessions_command or "
                         "sessions_tcp_port");
    if (!mc.max_sessions && sources != 0)
        throw UsageError(source + "measure: a session count source needs max_sessions");
    if (!mc.enabled && (mc.max_sessions || sources != 0))
        throw UsageError(source + "session counting needs --measure (or a measure: section)");
    return c;
}

}  // namespace

AgentConfig parse_config_text(const std::string& yaml, const std::string& source, const std::string& base_dir) {
    Draft d;
    in_source(source, [&] { parse_yaml_root(load_one_document(yaml, ""), base_dir, d); });
    return finish(std::move(d), source + ": ");
}

AgentConfig parse_args(int argc, const char* const* argv) {
    // Split into (flag, value) first, so that --config is read before the
    // other flags apply whatever their order.
    std::vector<std::pair<std::string, std::string>> flags;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0)
            throw ArgError("unknown argument '" + arg + "'");
        std::string name = arg.substr(2);
        std::optional<std::string> value;
        if (const std::size_t eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const auto spec = std::find_if(std::begin(kFlags), std::end(kFlags), [&](const FlagSpec& f) { return f.name == name; });
        if (spec == std::end(kFlags))
            throw ArgError("unknown argument '--" + name + "'");
        if (spec->takes_value && !value) {
            if (i + 1 >= argc)
                throw ArgError("--" + name + " needs a value");
            value = argv[++i];
        } else if (!spec->takes_value && value) {
            throw ArgError("--" + name + " takes no value");
        }
        flags.emplace_back(name, value.value_or(""));
    }

    Draft d;
    if (std::any_of(flags.begin(), flags.end(), [](const auto& f) { return f.first == "help"; })) {
        d.cfg.help = true;
        return d.cfg;
    }
    if (std::any_of(flags.begin(), flags.end(), [](const auto& f) { return f.first == "version"; })) {
        d.cfg.version = true;
        return d.cfg;
    }
    std::string source;
    for (const auto& [name, value] : flags) {
        if (name != "config")
            continue;
        if (!source.empty())
            throw UsageError("--config given twice");
        source = value;
        const std::string text = read_text_file(value, "--config");
        const std::string base_dir = std::filesystem::path(value).parent_path().string();
        in_source(value, [&] { parse_yaml_root(load_one_document(text, ""), base_dir, d); });
    }
    AgentConfig& c = d.cfg;
    advert::Metrics flag_metrics;
    std::vector<InstanceConfig> flag_instances;
    for (const auto& [name, v] : flags) {
        const std::string where = "--" + name;
        if (const auto metric = metric_of_flag(name)) {
            set_metric(flag_metrics, *metric, v, where);
        } else if (name == "control") {
            c.controllers.push_back(parse_controller(v, where));
        } else if (name == "node-id") {
            d.node_id = to_int<std::uint32_t>(v, where);
        } else if (name == "key-id") {
            d.key_id = to_int<std::uint16_t>(v, where);
        } else if (name == "key-hex") {
            c.key = parse_hex_key(v, where);
        } else if (name == "key-file") {
            c.key = read_key_file(v, "", where);
        } else if (name == "log-level") {
            c.log_level = parse_level(v, where);
        } else if (name == "interval") {
            c.interval_s = parse_seconds(v, where, 0.05, 3600);
        } else if (name == "lifetime") {
            d.lifetime_s = to_int<std::uint16_t>(v, where, 1);
        } else if (name == "service") {
            c.instances.push_back(parse_service_flag(v));
        } else if (name == "measure") {
            c.measure.enabled = true;
            c.measure.load = true;
        } else if (name == "max-sessions") {
            c.measure.max_sessions = to_int<std::uint32_t>(v, where);
        } else if (name == "sessions-file") {
            c.measure.sessions_file = v;
        } else if (name == "sessions-command") {
            c.measure.sessions_command = v;
        } else if (name == "sessions-tcp-port") {
            c.measure.sessions_tcp_port = to_int<std::uint16_t>(v, where, 1);
        } else if (name == "metrics-file") {
            c.metrics_file = v;
        } else if (name == "once") {
            c.once = true;
        } else if (name == "dump") {
            c.dump = true;
        }
    }
    for (InstanceConfig& in : c.instances)
        overlay_metrics(in.metrics, flag_metrics);
    return finish(std::move(d), source.empty() ? std::string() : source + ": ");
}

MetricsOverride parse_metrics_text(const std::string& yaml, const std::string& source) {
    MetricsOverride out;
    in_source(source, [&] {
        const YAML::Node root = load_one_document(yaml, "");
        const MapReader m(root, "", {});  // any key: metric names or "CS:ID"
        for (const auto& [k, v] : m.entries()) {
            const std::string p = m.path(k);
            if (std::find(kMetricNames.begin(), kMetricNames.end(), k) != kMetricNames.end()) {
                read_metric(out.all, k, v, p);
                continue;
            }
            const std::size_t colon = k.find(':');
            if (colon == std::string::npos)
                fail(p, "unknown key (expected a metric name: " + join(kMetricNames) + ", or CS_ID:INSTANCE_ID)");
            const auto cs = to_int<std::uint32_t>(std::string_view(k).substr(0, colon), p + ": cs id");
            const auto id = to_int<std::uint32_t>(std::string_view(k).substr(colon + 1), p + ": instance id");
            out.per_instance.push_back({{cs, id}, parse_metrics(v, p)});
        }
    });
    return out;
}

MetricsOverride load_metrics_file(const std::string& path) {
    const std::string text = read_text_file(path, "--metrics-file");
    return parse_metrics_text(text, path);
}

}  // namespace cats::agent
