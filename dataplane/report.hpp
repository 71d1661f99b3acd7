// SPDX-License-Identifier: BSD-3-Clause
// The stats report: every counter of every worker summed, per port, per
// service and instance, drops by reason, flow-table occupancy. As JSON (for
// scripts) and as a text table (for people).
//
// Thread safety: management or main thread; reads worker counters with
// relaxed loads while workers run.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "port.hpp"
#include "service_table.hpp"
#include "worker.hpp"

namespace cats::dp {

nlohmann::json build_report(const std::vector<std::unique_ptr<Worker>>& workers, const Snapshot& snap,
                            const std::vector<PortState>& ports, double uptime_s);

std::string render_text(const nlohmann::json& report);

}  // namespace cats::dp
