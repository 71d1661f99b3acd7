// SPDX-License-Identifier: BSD-3-Clause
// catsctl's human output: aligned tables in the style of `ip` and `gobgp`,
// made from the JSON results of cats-control (proto-defs/ctl_wire.hpp).
// `--json` prints the result itself instead.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cats::catsctl {

using Json = nlohmann::json;

// Columns padded to their widest cell, two spaces apart; no trailing blanks.
std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

std::string render_services(const Json& result);
std::string render_peers(const Json& result);
std::string render_instance_result(const std::string& verb, const Json& result);
std::string render_flows(const Json& result);
std::string render_stats(const Json& result);
std::string render_status(const Json& result);
// neighbor.list: one row per neighbor, then what waits for resolution.
std::string render_neighbors(const Json& result);
// port.list: one row per port with its kernel interface and its counters.
std::string render_ports(const Json& result);
// route list: {"routes":[...],"kernel":{...}|null} (ctl::route_list_result).
std::string render_routes(const Json& result);
// sid.list: one row per local SID, its top drop reasons last.
std::string render_sids(const Json& result);
// policy.list: ingress and egress policies in one table, keyed alike
// (direction, source, SID), then the egress table's fill.
std::string render_policies(const Json& result);
// sid.add / sid.del: "sid fc00:e::d6: added (End.DX6, next hop ...); ...".
std::string render_sid_result(const std::string& verb, const Json& result);
// One event of `catsctl monitor` (control/events.hpp) as one line ending
// in '\n': "2026-12-07T21:40:01.123Z  instance  cs 100 instance 1 up: ...".
std::string render_event(const Json& event);
// Any JSON as an indented tree (objects), tables (lists of objects) and
// comma lists (lists of scalars): for dataplane replies whose shape
// catsctl does not know.
std::string render_tree(const Json& j, int indent = 0);

}  // namespace cats::catsctl
