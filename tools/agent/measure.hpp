// SPDX-License-Identifier: BSD-3-Clause
// Metrics measured on the node, read afresh every interval:
//   load_pct      = 1-minute load average / CPUs x 100, capped at 100
//   free_capacity = max_sessions - current sessions (0 when over), the
//                   current count read from a file, printed by a command,
//                   or counted as established TCP connections to a local
//                   port in /proc/net/tcp and /proc/net/tcp6.
// The text parsers are pure and exposed for tests.
//
// Thread safety: none; the agent calls it from its one thread. A session
// command runs synchronously (killed after kCommandTimeoutMs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "advert_wire.hpp"
#include "options.hpp"

namespace cats::agent {

inline constexpr int kCommandTimeoutMs = 2000;

// A value, or why there is none.
struct Reading {
    std::optional<std::uint32_t> value;
    std::string error;
    std::string detail;  // what it was made from: "1-min load 3.26 over 2 CPUs"
};

// The 1-minute load average, the first field of /proc/loadavg.
std::optional<double> parse_loadavg(std::string_view text);
std::uint8_t load_percent(double load1, unsigned cpus);
// One non-negative integer, blanks around it allowed.
std::optional<std::uint32_t> parse_count(std::string_view text);
// Connections in state ESTABLISHED (01) whose local port is `port`, in the
// text of /proc/net/tcp or /proc/net/tcp6; nullopt if it is not that format.
std::optional<std::uint32_t> count_established(std::string_view proc_net_tcp, std::uint16_t port);

class Measurer {
public:
    explicit Measurer(MeasureConfig cfg) : cfg_(std::move(cfg)) {}

    // The measured metrics (only those configured and readable). Each
    // failure is appended to `errors` as one line of text.
    advert::Metrics measure(std::vector<std::string>& errors, std::string* detail = nullptr) const;

private:
    Reading load() const;
    Reading sessions() const;
    MeasureConfig cfg_;
};

// Runs `sh -c command`, returns its standard output (at most 4 KiB), or
// throws std::runtime_error if it cannot run, times out or fails.
std::string run_command(const std::string& command, int timeout_ms);

}  // namespace cats::agent
