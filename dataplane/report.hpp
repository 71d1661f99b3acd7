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
#include <optional>
#include <string>
#include <vector>

#include "port.hpp"
#include "service_table.hpp"
#include "worker.hpp"

namespace cats::dp {

nlohmann::json build_report(const std::vector<std::unique_ptr<Worker>>& workers, const Snapshot& snap,
                            const std::vector<PortState>& ports, double uptime_s);

std::string render_text(const nlohmann::json& report);

// The local SIDs with their counters: [{"sid","behavior","next_hop",
// "packets","bytes","dropped","drops":{reason: n}}] (only reasons seen).
nlohmann::json sid_report(const std::vector<std::unique_ptr<Worker>>& workers, const SidTable& table);

// Per policy accounting, both ends under the same keys (source, sid,
// packets, bytes), bytes being those of the steered IPv6 packet:
// {"ingress": [{source, sid (the last), segments, cs_id, instance, ...}],
//  "egress": [{source, sid, packets, bytes}], "egress_overflow",
//  "egress_capacity"}.
nlohmann::json policy_report(const std::vector<std::unique_ptr<Worker>>& workers, const Snapshot& snap,
                             const Ipv6Addr& encap_source);

// The instances of the table that get no traffic because their first SID
// does not resolve (no route, neighbor incomplete or failed), at most
// `max` of them: [{"cs_id","id","reason"}]. For STATUS, so that
// cats-control can say so where an instance is added and listed.
nlohmann::json unresolved_instances(const Snapshot& snap, std::size_t max, std::size_t& total);

// Pinned flows of every worker matching the filter, at most q.limit. A
// best-effort view: workers keep changing their tables while it is read.
nlohmann::json list_flows(const std::vector<std::unique_ptr<Worker>>& workers, std::uint32_t now_ms,
                          std::optional<std::uint32_t> cs_id, std::optional<std::uint32_t> instance_id,
                          std::uint32_t limit);

}  // namespace cats::dp
