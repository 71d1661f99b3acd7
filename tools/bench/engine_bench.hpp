// SPDX-License-Identifier: BSD-3-Clause
// The dataplane half of cats-bench: for each workload, the I/O floor, the
// l3fwd baseline and the CATS paths on the same input, the same port and
// the same lcores, then the same again fed from memory without a PMD.
//
// Thread safety: run from the EAL main lcore; it launches the other lcores.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "workload.hpp"

namespace cats::bench {

struct EngineOptions {
    std::vector<std::uint32_t> flows{1000, 64000, 1000000};
    std::vector<std::uint32_t> services{10, 1000};
    std::vector<unsigned> workers{1, 2};
    std::vector<Encoding> encodings{Encoding::SrhTlv, Encoding::DestOpt, Encoding::ServiceSid};
    double duration_s = 0.5;         // measured window of each run
    double warmup_s = 0.1;           // at least; the fast path also waits for every pin
    // Which runs: io (memory: restore), l3fwd, cats (1 and 3 SIDs), newflow,
    // end.dx6 (the egress: the srv6_1sid and srv6_3sid workloads, with io
    // and l3fwd on the same input; services do not matter to it, so only
    // the first count of `services` runs).
    bool run_io = true, run_l3fwd = true, run_cats = true, run_newflow = true, run_dx6 = true;
    bool pmd = true;                 // runs through net_pcap
    bool memory = true;              // runs from prepared mbufs
    std::uint16_t payload = 32;
    std::string tmpdir = "/tmp";
};

struct RunResult {
    std::string io;                  // "pcap" or "memory"
    std::string mode;                // io, l3fwd, cats, cats-newflow (memory: restore instead of io)
    Encoding encoding = Encoding::SrhTlv;
    std::uint32_t flows = 0;
    std::uint32_t services = 0;
    unsigned workers = 0;
    unsigned sids = 0;               // 0 for the baselines
    // 5 windows, interleaved with those of the other modes of the same
    // engine (see run_modes()); the figures are those of the
    // window with the median cost (min and max show the spread).
    std::uint64_t packets = 0;       // in that window, all workers
    double seconds = 0;
    double mpps = 0;                 // all workers
    double mpps_per_worker = 0;
    double cycles_per_packet = 0;    // TSC cycles per packet, mean over workers
    double cycles_min = 0, cycles_max = 0;
    double floor_mpps = 0;           // the io floor in windows interleaved with this run's (0: not run)
    std::uint64_t dropped = 0;       // processing drops in all its windows (must be 0)
    std::uint64_t flows_pinned = 0;  // flow-table occupancy at the end (0 for the baselines)
};

struct MemoryFigures {
    std::uint32_t flows = 0;
    std::uint64_t table_bytes = 0;   // rte_malloc'd by one worker's flow table
    std::uint32_t table_capacity = 0;
    double bytes_per_flow = 0;       // table_bytes / flows
    std::uint64_t rss_bytes = 0;     // resident (VmRSS + hugepages) with the table full
    std::uint64_t input_bytes = 0;   // of that, the mbufs holding the input
};

struct EngineResults {
    std::vector<RunResult> runs;
    std::vector<MemoryFigures> memory;
};

// Throws std::runtime_error on a setup failure (ports, memory, lcores).
EngineResults run_engine_bench(const EngineOptions& o);

nlohmann::json to_json(const EngineResults& r);
// The human table, with the ratios to the baselines of the same input.
std::string render_engine(const EngineResults& r);

}  // namespace cats::bench
