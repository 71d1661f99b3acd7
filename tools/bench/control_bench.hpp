// SPDX-License-Identifier: BSD-3-Clause
// The control half of cats-bench: a real cats-control process fed with
// signed advertisements over UDP, connected to an engine in this process
// (management channel, service table, a worker forwarding net_pcap input).
//
//   ingest:   advertisements sent as fast as one socket can, and how many
//             cats-control accepted per second (its own peer counters);
//   latency:  from sending one advertisement that changes a metric to the
//             dataplane's published table holding the new value (what the
//             workers run from their next burst), p50 / p99 / max;
//   updates:  packets lost while metric updates arrive at a given rate
//             during forwarding.
//
// Thread safety: run from the EAL main lcore, which becomes the worker.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace cats::bench {

struct ControlOptions {
    std::string control_bin;         // path of cats-control
    std::string tmpdir = "/tmp";
    std::uint32_t services = 10;     // of 8 instances each, all advertised
    std::uint32_t flows = 10000;     // forwarded during the run
    std::uint32_t ingest_messages = 100000;
    std::uint32_t latency_samples = 1000;
    std::uint32_t update_rate = 10000;  // advertisements per second
    double update_s = 2.0;
};

struct ControlResults {
    std::uint64_t ingest_sent = 0, ingest_accepted = 0;
    double ingest_seconds = 0, ingest_per_s = 0;
    std::uint64_t ingest_socket_drops = 0;  // by the kernel, cats-control's receive buffer full
    std::uint32_t latency_samples = 0, latency_timeouts = 0;
    double latency_p50_us = 0, latency_p99_us = 0, latency_max_us = 0;
    std::uint64_t updates_sent = 0, table_versions = 0;
    double updates_seconds = 0;
    std::uint64_t rx = 0, tx = 0, dropped = 0, lost = 0;  // during the updates
};

// Throws std::runtime_error when cats-control or the engine cannot start.
ControlResults run_control_bench(const ControlOptions& o);

nlohmann::json to_json(const ControlResults& r);
std::string render_control(const ControlResults& r);

}  // namespace cats::bench
