// SPDX-License-Identifier: BSD-3-Clause
#include "render.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <utility>

namespace cats::catsctl {

namespace {

std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A scalar as the operator wants to read it.
std::string text(const Json& j) {
    if (j.is_null())
        return "-";
    if (j.is_string())
        return j.get<std::string>();
    if (j.is_boolean())
        return j.get<bool>() ? "yes" : "no";
    return dump(j);
}

// A member of an object, or null.
const Json& at(const Json& j, const char* key) {
    static const Json kNull;
    if (!j.is_object())
        return kNull;
    const auto it = j.find(key);
    return it == j.end() ? kNull : *it;
}

std::string seconds_text(const Json& ms) {
    if (!ms.is_number())
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1fs", ms.get<double>() / 1000.0);
    return buf;
}

// A string the dataplane leaves empty when there is none (a MAC not yet
// learned, no kernel interface): "-".
std::string text_or_dash(const Json& j) {
    return j.is_string() && j.get<std::string>().empty() ? "-" : text(j);
}

std::string join(const Json& list, const char* sep) {
    std::string out;
    if (!list.is_array())
        return text(list);
    for (const Json& v : list)
        out += (out.empty() ? "" : sep) + text(v);
    return out.empty() ? "-" : out;
}

bool is_scalar(const Json& j) {
    return !j.is_object() && !j.is_array();
}

bool is_list_of_objects(const Json& j) {
    return j.is_array() && !j.empty() && std::all_of(j.begin(), j.end(), [](const Json& v) { return v.is_object(); });
}

// A list of objects as a table; columns in first-seen order.
std::string object_table(const Json& list) {
    std::vector<std::string> cols;
    for (const Json& o : list)
        for (auto it = o.begin(); it != o.end(); ++it)
            if (std::find(cols.begin(), cols.end(), it.key()) == cols.end())
                cols.push_back(it.key());
    std::vector<std::vector<std::string>> rows;
    for (const Json& o : list) {
        std::vector<std::string> row;
        for (const std::string& c : cols) {
            const auto it = o.find(c);
            if (it == o.end())
                row.push_back("-");
            else if (is_scalar(*it))
                row.push_back(text(*it));
            else if (it->is_array() && std::all_of(it->begin(), it->end(), is_scalar))
                row.push_back(join(*it, ","));
            else
                row.push_back(dump(*it));
        }
        rows.push_back(std::move(row));
    }
    std::vector<std::string> headers;
    for (std::string c : cols) {
        std::transform(c.begin(), c.end(), c.begin(), [](char ch) {
            return ch == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        });
        headers.push_back(std::move(c));
    }
    return render_table(headers, rows);
}

std::string indent_lines(const std::string& s, int indent) {
    std::string out;
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    std::size_t start = 0;
    while (start < s.size()) {
        const std::size_t nl = s.find('\n', start);
        const std::size_t end = nl == std::string::npos ? s.size() : nl;
        out += pad + s.substr(start, end - start) + "\n";
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(headers.size(), 0);
    for (std::size_t c = 0; c < headers.size(); ++c)
        width[c] = headers[c].size();
    for (const auto& r : rows)
        for (std::size_t c = 0; c < r.size() && c < width.size(); ++c)
            width[c] = std::max(width[c], r[c].size());
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t c = 0; c < headers.size(); ++c) {
            const std::string& cell = c < cells.size() ? cells[c] : std::string();
            out += cell;
            if (c + 1 < headers.size())
                out += std::string(width[c] - cell.size() + 2, ' ');
        }
        while (!out.empty() && out.back() == ' ')
            out.pop_back();
        return out + "\n";
    };
    std::string out = line(headers);
    for (const auto& r : rows)
        out += line(r);
    return out;
}

std::string render_services(const Json& result) {
    const Json& services = at(result, "services");
    std::vector<std::vector<std::string>> rows;
    std::size_t n_inst = 0;
    std::size_t n_unresolved = 0;
    for (const Json& s : services.is_array() ? services : Json::array()) {
        const std::string cs = text(at(s, "cs_id"));
        const std::string name = text(at(s, "name"));
        const Json& insts = at(s, "instances");
        if (!insts.is_array() || insts.empty()) {
            rows.push_back({cs, name, "-", text(at(s, "origin")), "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"});
            continue;
        }
        for (const Json& in : insts) {
            ++n_inst;
            const Json& m = at(in, "metrics");
            const Json& bw = at(m, "bandwidth_kbps");
            rows.push_back({cs,
                            name,
                            text(at(in, "id")),
                            text(at(in, "origin")),
                            text(at(in, "node_id")),
                            join(at(in, "sids"), ","),
                            text(at(m, "score")),
                            text(at(m, "load_pct")) + "%",
                            text(at(m, "free_capacity")),
                            text(at(m, "latency_us")),
                            bw.is_number() && bw.get<std::uint64_t>() == UINT32_MAX ? "max" : text(bw),
                            join(at(m, "compute_types"), ","),
                            text(at(m, "weight")),
                            seconds_text(at(in, "expires_in_ms")),
                            text(at(in, "push_state")) +
                                (at(in, "drained") == true ? std::string(", drained") : std::string()) +
                                (at(in, "resolved").is_boolean() && !at(in, "resolved").get<bool>()
                                     ? ", unresolved (" + text(at(in, "unresolved_reason")) + ")"
                                     : std::string())});
            n_unresolved += at(in, "resolved").is_boolean() && !at(in, "resolved").get<bool>();
        }
    }
    if (rows.empty())
        return "no services\n";
    return render_table({"CS-ID", "SERVICE", "INSTANCE", "ORIGIN", "NODE", "SIDS", "SCORE", "LOAD", "FREE", "LAT-US",
                         "BW-KBPS", "TYPES", "WEIGHT", "EXPIRES", "STATE"},
                        rows) +
           std::to_string(services.size()) + " services, " + std::to_string(n_inst) + " instances" +
           (n_unresolved != 0 ? ", " + std::to_string(n_unresolved) +
                                    " unresolved in the dataplane (their first SID has no usable route: no traffic)"
                              : std::string()) +
           "\n";
}

std::string render_peers(const Json& result) {
    const Json& peers = at(result, "peers");
    if (!peers.is_array() || peers.empty())
        return "no peers configured\n";
    // "12/256" of max_instances, "12" when only the policy limits the node.
    const auto holds = [](const Json& scope) {
        const Json& max = at(scope, "max_instances");
        return text(at(scope, "instances")) + (max.is_number() ? "/" + text(max) : "");
    };
    std::vector<std::vector<std::string>> rows;
    for (const Json& p : peers)
        rows.push_back({text(at(p, "name")), text(at(p, "node_id")), text(at(p, "key_id")), text(at(p, "accepted")),
                        text(at(p, "rejected")), text(at(p, "records_accepted")) + "/" + text(at(p, "records_rejected")),
                        join(at(at(p, "scope"), "cs_ids"), ","), holds(at(p, "scope")),
                        text(at(p, "last_sequence")),
                        at(p, "last_seen_ms_ago").is_number() ? seconds_text(at(p, "last_seen_ms_ago")) + " ago" : "never",
                        text_or_dash(at(p, "last_error"))});
    std::string out = render_table({"PEER", "NODE-ID", "KEY-ID", "ACCEPTED", "REJECTED", "RECORDS(OK/BAD)", "CS-IDS",
                                    "HOLDS", "LAST-SEQ", "LAST-SEEN", "LAST-ERROR"},
                                   rows);
    // Failures before authentication, by source: never a peer's.
    const Json& unauth = at(result, "unauthenticated");
    if (unauth.is_array() && !unauth.empty()) {
        rows.clear();
        for (const Json& s : unauth)
            rows.push_back({text(at(s, "source")), text(at(s, "malformed")), text(at(s, "unknown_key")),
                            text(at(s, "bad_mac")), text(at(s, "last_key_id")),
                            seconds_text(at(s, "last_seen_ms_ago")) + " ago", text_or_dash(at(s, "last_error"))});
        out += "\nunauthenticated datagrams, by source:\n" +
               render_table({"SOURCE", "MALFORMED", "UNKNOWN-KEY", "BAD-MAC", "LAST-KEY-ID", "LAST-SEEN", "LAST-ERROR"},
                            rows);
    }
    return out;
}

std::string render_instance_result(const std::string& verb, const Json& result) {
    std::string out = "cs " + text(at(result, "cs_id")) + " instance " + text(at(result, "id")) + ": ";
    if (at(result, "changed").is_boolean() && !at(result, "changed").get<bool>()) {
        out += "nothing to push";
        if (at(result, "note").is_string())
            out += " (" + at(result, "note").get<std::string>() + ")";
        return out + "\n";
    }
    out += verb;
    if (at(result, "applied").is_boolean() && at(result, "applied").get<bool>())
        out += "; the dataplane runs table version " + text(at(result, "table_version"));
    else
        out += "; not in the dataplane yet: " + text(at(result, "note"));
    out += "\n";
    if (at(result, "resolved").is_boolean() && !at(result, "resolved").get<bool>())
        out += "warning: the dataplane cannot steer to it: its first SID does not resolve (" +
               text(at(result, "unresolved_reason")) + "); it gets no traffic until it does\n";
    return out;
}

std::string render_tree(const Json& j, int indent) {
    if (is_scalar(j))
        return indent_lines(text(j), indent);
    if (j.is_array()) {
        if (is_list_of_objects(j))
            return indent_lines(object_table(j), indent);
        return indent_lines(join(j, ", "), indent);
    }
    std::size_t w = 0;
    for (auto it = j.begin(); it != j.end(); ++it)
        if (is_scalar(*it) || (it->is_array() && !is_list_of_objects(*it)))
            w = std::max(w, it.key().size());
    std::string out;
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (is_scalar(*it) || (it->is_array() && !is_list_of_objects(*it))) {
            out += pad + it.key() + std::string(w - it.key().size() + 2, ' ') +
                   (it->is_array() ? join(*it, ", ") : text(*it)) + "\n";
        } else if (it->empty()) {
            out += pad + it.key() + ": -\n";
        } else {
            out += pad + it.key() + ":\n" + render_tree(*it, indent + 2);
        }
    }
    return out;
}

namespace {

std::string proto_name(const Json& p) {
    if (!p.is_number_unsigned())
        return "-";
    switch (p.get<std::uint64_t>()) {
    case 6: return "tcp";
    case 17: return "udp";
    case 50: return "esp";
    case 58: return "icmpv6";
    case 132: return "sctp";
    default: return text(p);
    }
}

std::string hex_of(const char* prefix, const Json& v, int digits) {
    if (!v.is_number_unsigned())
        return "-";
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%s0x%0*llx", prefix, digits,
                  static_cast<unsigned long long>(v.get<std::uint64_t>()));
    return buf;
}

}  // namespace

std::string render_flows(const Json& result) {
    // The dataplane's FLOWS reply: a list of flows (dataplane/stats.cpp
    // list_flows), or an object holding it under "flows".
    const Json& flows = result.is_array() ? result : at(result, "flows");
    if (!flows.is_array())
        return render_tree(result);
    std::vector<std::vector<std::string>> rows;
    for (const Json& f : flows) {
        if (!f.is_object())
            continue;
        const std::string kind = text_or_dash(at(f, "kind"));
        std::string id = "-";
        if (at(f, "sport").is_number() || at(f, "dport").is_number())
            id = text(at(f, "sport")) + " -> " + text(at(f, "dport"));
        else if (!at(f, "spi").is_null())
            id = hex_of("spi ", at(f, "spi"), 8);
        else if (!at(f, "frag_id").is_null())
            id = hex_of("frag ", at(f, "frag_id"), 8);
        else if (!at(f, "affinity_key").is_null())
            id = hex_of("key ", at(f, "affinity_key"), 16);
        rows.push_back({text(at(f, "cs_id")), text(at(f, "instance_id")), kind, text_or_dash(at(f, "src")),
                        text_or_dash(at(f, "dst")), proto_name(at(f, "proto")), id, seconds_text(at(f, "idle_ms")),
                        text(at(f, "worker")),
                        at(f, "best_effort").is_boolean() && at(f, "best_effort").get<bool>() ? "best-effort" : "-"});
    }
    if (rows.empty())
        return "no flows\n";
    return render_table({"CS-ID", "INSTANCE", "KIND", "SOURCE", "DESTINATION", "PROTO", "PORTS/ID", "IDLE", "WORKER",
                         "FLAGS"},
                        rows) +
           std::to_string(rows.size()) + (rows.size() == 1 ? " flow\n" : " flows\n");
}

namespace {

// A number as an operator reads it: integers as they are, others to one
// decimal (uptime 13.987322345384616 -> 14.0).
std::string number_text(const Json& v) {
    if (v.is_number_float()) {
        char buf[48];
        std::snprintf(buf, sizeof(buf), "%.1f", v.get<double>());
        return buf;
    }
    return text(v);
}

bool is_zero(const Json& v) {
    return (v.is_number() && v.get<double>() == 0) || (v.is_boolean() && !v.get<bool>());
}

// An object of counters on one line, the non-zero ones ("all 0" when none;
// nested objects as "name (k v, ...)"), wrapped at 100 columns under
// `indent`.
std::string counters_line(const Json& o, std::size_t indent, const std::string& suffix = "") {
    std::vector<std::string> parts;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it->is_object()) {
            bool any = false;
            for (const Json& v : *it)
                any |= !is_zero(v);
            if (any)
                parts.push_back(it.key() + " (" + counters_line(*it, 0) + ")");
        } else if (it->is_array()) {
            parts.push_back(it.key() + " " + join(*it, ","));
        } else if (!is_zero(*it)) {
            parts.push_back(it.key() + " " + number_text(*it));
        }
    }
    if (parts.empty())
        return "all 0";
    if (!suffix.empty())
        parts.back() += " " + suffix;
    std::string out, line;
    for (const std::string& p : parts) {
        const std::string piece = line.empty() ? p : ", " + p;
        if (!line.empty() && indent + line.size() + piece.size() > 100) {
            out += line + ",\n" + std::string(indent, ' ');
            line = p;
        } else {
            line += piece;
        }
    }
    return out + line;
}

// "  name   counters" lines for each member of `o`, names padded to `w`.
std::string counter_rows(const Json& o, std::size_t w) {
    std::string out;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const std::string name = it.key() + std::string(w > it.key().size() ? w - it.key().size() : 0, ' ');
        if (it->is_object())
            out += "  " + name + "  " + counters_line(*it, w + 4) + "\n";
        else
            out += "  " + name + "  " + number_text(*it) + "\n";
    }
    return out;
}

std::string dataplane_stats(const Json& d) {
    std::string out = "dataplane (uptime " + number_text(at(d, "uptime_s")) + " s, table version " +
                      text(at(d, "table_version")) + ", " + text(at(d, "workers")) + " worker(s))\n";
    const Json& ports = at(d, "ports");
    if (ports.is_array() && !ports.empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const Json& p : ports) {
            const Json& hw = at(p, "hw");
            rows.push_back({text(at(p, "name")), text(at(p, "driver")), text(at(p, "rx_packets")),
                            text(at(p, "rx_bytes")), text(at(p, "tx_packets")), text(at(p, "tx_bytes")),
                            text(at(hw, "imissed")), text(at(hw, "rx_nombuf")),
                            text(at(hw, "ierrors")) + "/" + text(at(hw, "oerrors"))});
        }
        out += indent_lines(render_table({"PORT", "DRIVER", "RX-PKTS", "RX-BYTES", "TX-PKTS", "TX-BYTES", "MISSED",
                                          "NO-MBUF", "ERRORS(RX/TX)"},
                                         rows),
                            2);
    }
    const Json& t = at(d, "totals");
    const Json& ft = at(d, "flow_table");
    std::vector<std::pair<std::string, std::string>> lines;
    if (t.is_object()) {
        lines.push_back({"totals", "rx " + text(at(t, "rx_packets")) + ", steered " + text(at(t, "steered")) +
                                       ", forwarded " + text(at(t, "forwarded")) + ", dropped " +
                                       text(at(t, "dropped")) + ", best-effort " + text(at(t, "best_effort"))});
        lines.push_back({"flows", "new " + text(at(t, "new_flows")) + ", pinned hits " + text(at(t, "flow_hits")) +
                                      ", re-steered " + text(at(t, "resteered")) + ", table-full " +
                                      text(at(t, "flow_table_full")) + ", expired " + text(at(t, "expired")) +
                                      ", occupancy " + text(at(ft, "occupancy")) + "/" + text(at(ft, "capacity"))});
    }
    if (at(d, "encodings").is_object())
        lines.push_back({"encodings", counters_line(at(d, "encodings"), 13)});
    if (at(d, "icmp").is_object())
        lines.push_back({"icmp", counters_line(at(d, "icmp"), 13)});
    if (at(d, "drops").is_object()) {
        std::size_t zero = 0;
        for (const Json& v : at(d, "drops"))
            zero += is_zero(v);
        std::string dl = counters_line(at(d, "drops"), 13,
                                       zero != 0 ? "(" + std::to_string(zero) + " reasons at 0 not shown)" : "");
        if (dl == "all 0")
            dl = "none";
        lines.push_back({"drops", dl});
    }
    for (const auto& [k, v] : lines)
        out += "  " + k + std::string(11 - std::min<std::size_t>(k.size(), 10), ' ') + v + "\n";
    const Json& services = at(d, "services");
    if (services.is_array() && !services.empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const Json& s : services) {
            const Json& insts = at(s, "instances");
            const double total = at(s, "packets").is_number() ? at(s, "packets").get<double>() : 0;
            if (!insts.is_array() || insts.empty()) {
                rows.push_back({text(at(s, "cs_id")), text(at(s, "name")), "-", "-", text(at(s, "packets")), "-",
                                text(at(s, "new_flows")), "no instance"});
                continue;
            }
            for (const Json& in : insts) {
                char share[32] = "-";
                if (total > 0 && at(in, "packets").is_number())
                    std::snprintf(share, sizeof(share), "%.1f%%", 100.0 * at(in, "packets").get<double>() / total);
                std::string state = "ok";
                if (at(in, "resolved").is_boolean() && !at(in, "resolved").get<bool>())
                    state = "unresolved" + (at(in, "unresolved_reason").is_string() &&
                                                    !at(in, "unresolved_reason").get<std::string>().empty()
                                                ? " (" + at(in, "unresolved_reason").get<std::string>() + ")"
                                                : std::string());
                rows.push_back({text(at(s, "cs_id")), text(at(s, "name")), text(at(in, "id")), join(at(in, "sids"), ","),
                                text(at(in, "packets")), share, text(at(in, "new_flows")), state});
            }
        }
        out += indent_lines(render_table({"CS-ID", "SERVICE", "INSTANCE", "SIDS", "PACKETS", "SHARE", "NEW-FLOWS",
                                          "STATE"},
                                         rows),
                            2);
    }
    // What has a command of its own, and anything newer than this catsctl.
    static const std::vector<std::string> kShown = {"uptime_s", "table_version", "workers", "ports", "totals",
                                                    "flow_table", "encodings", "icmp", "drops", "services"};
    static const std::vector<std::pair<std::string, std::string>> kElsewhere = {
        {"neighbors", "neighbor list"}, {"held", "neighbor list"}, {"kernel_ports", "port list"},
        {"config_routes", "route list"}, {"kernel_routes", "route list"}};
    std::vector<std::string> see;
    Json rest = Json::object();
    for (auto it = d.begin(); it != d.end(); ++it) {
        if (std::find(kShown.begin(), kShown.end(), it.key()) != kShown.end())
            continue;
        const auto e = std::find_if(kElsewhere.begin(), kElsewhere.end(),
                                    [&](const auto& p) { return p.first == it.key(); });
        if (e != kElsewhere.end()) {
            if (std::find(see.begin(), see.end(), e->second) == see.end())
                see.push_back(e->second);
            continue;
        }
        rest[it.key()] = *it;
    }
    if (!rest.empty())
        out += indent_lines(render_tree(rest), 2);
    std::string also;
    for (const std::string& c : see)
        also += (also.empty() ? "" : ", ") + ("catsctl " + c);
    out += "  (" + (also.empty() ? std::string() : also + "; ") + "every counter: --json)\n";
    return out;
}

}  // namespace

std::string render_stats(const Json& result) {
    std::string out;
    const Json& control = at(result, "control");
    if (control.is_object()) {
        std::size_t w = 0;
        for (auto it = control.begin(); it != control.end(); ++it)
            w = std::max(w, it.key().size());
        out += "control\n" + counter_rows(control, w);
    }
    if (at(result, "dataplane_error").is_string())
        out += "dataplane: unavailable: " + at(result, "dataplane_error").get<std::string>() + "\n";
    else if (at(result, "dataplane").is_object())
        out += dataplane_stats(at(result, "dataplane"));
    return out;
}

std::string render_status(const Json& result) {
    const Json& link = at(result, "link");
    std::string state = text(at(link, "state"));
    if (state == "up")
        state += at(link, "in_sync").is_boolean() && at(link, "in_sync").get<bool>() ? " (in sync)" : " (resync pending)";
    std::string sync = "never";
    if (at(link, "last_sync_ms_ago").is_number()) {
        sync = seconds_text(at(link, "last_sync_ms_ago")) + " ago";
        if (at(link, "last_sync_unix_ms").is_number()) {
            const std::time_t t = static_cast<std::time_t>(at(link, "last_sync_unix_ms").get<std::int64_t>() / 1000);
            std::tm tm{};
            char buf[64];
            if (localtime_r(&t, &tm) != nullptr && std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &tm) > 0)
                sync += " (" + std::string(buf) + ")";
        }
    }
    std::vector<std::vector<std::string>> rows = {
        {"socket", text(at(link, "socket"))},
        {"link", state},
        {"table version", text(at(link, "table_version"))},
        {"last sync", sync},
        {"queued", text(at(link, "queued"))},
    };
    if (at(link, "last_error").is_string() && !at(link, "last_error").get<std::string>().empty()) {
        // With its age: an error from before the link came up is history.
        std::string e = at(link, "last_error").get<std::string>();
        if (at(link, "last_error_ms_ago").is_number())
            e += " (" + seconds_text(at(link, "last_error_ms_ago")) + " ago)";
        rows.push_back({"last error", e});
    }
    std::string out;
    std::size_t w = 0;
    for (const auto& r : rows)
        w = std::max(w, r[0].size());
    for (const auto& r : rows)
        out += r[0] + std::string(w - r[0].size() + 2, ' ') + r[1] + "\n";
    if (at(result, "dataplane_error").is_string())
        out += "dataplane: unavailable: " + at(result, "dataplane_error").get<std::string>() + "\n";
    else if (!at(result, "dataplane").is_null())
        out += "dataplane:\n" + render_tree(at(result, "dataplane"), 2);
    return out;
}

std::string render_neighbors(const Json& result) {
    const Json& neighbors = at(result, "neighbors");
    std::string out;
    if (!neighbors.is_array() || neighbors.empty()) {
        out = "no neighbors\n";
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const Json& n : neighbors) {
            const Json& age = at(n, "age_s");
            char buf[32] = "-";
            if (age.is_number())
                std::snprintf(buf, sizeof(buf), "%.1fs", age.get<double>());
            std::string state = text(at(n, "state"));
            // A dynamic neighbor the FIB cannot use (no MAC yet, or lost):
            // its instances are ineligible.
            if (at(n, "usable").is_boolean() && !at(n, "usable").get<bool>())
                state += " (unusable)";
            rows.push_back({text(at(n, "address")), state, text_or_dash(at(n, "mac")), text_or_dash(at(n, "port")),
                            text_or_dash(at(n, "interface")), buf, text(at(n, "probes"))});
        }
        out = render_table({"ADDRESS", "STATE", "MAC", "PORT", "INTERFACE", "AGE", "PROBES"}, rows) +
              std::to_string(neighbors.size()) + " neighbors\n";
    }
    const Json& held = at(result, "held");
    if (held.is_object())
        out += "held for resolution: " + text(at(held, "now")) + " packets now, " + text(at(held, "sent")) +
               " sent, " + text(at(held, "dropped")) + " dropped\n";
    return out;
}

std::string render_ports(const Json& result) {
    const Json& ports = at(result, "ports");
    if (!ports.is_array() || ports.empty())
        return "no ports\n";
    std::vector<std::vector<std::string>> rows;
    for (const Json& p : ports) {
        // The counters exist only for a port with a kernel interface of
        // its own (a TAP); an af_xdp port's kernel side is the NIC itself.
        const bool tap = at(p, "punted").is_number();
        rows.push_back({text(at(p, "port")), text(at(p, "mode")), text_or_dash(at(p, "mac")), text(at(p, "mtu")),
                        join(at(p, "addresses"), ","), text_or_dash(at(p, "kernel_interface")),
                        tap ? text(at(p, "punted")) : "-", tap ? text(at(p, "injected")) : "-",
                        tap ? text(at(p, "punt_rate_dropped")) + "/" + text(at(p, "inject_rate_dropped")) : "-"});
    }
    return render_table({"PORT", "MODE", "MAC", "MTU", "ADDRESSES", "KERNEL-IF", "PUNTED", "INJECTED",
                         "RATE-DROPPED(PUNT/INJECT)"},
                        rows);
}

std::string render_routes(const Json& result) {
    const Json& routes = at(result, "routes");
    std::string out;
    if (!routes.is_array() || routes.empty()) {
        out = "no routes\n";
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const Json& r : routes)
            rows.push_back({text(at(r, "prefix")), text(at(r, "via")), text_or_dash(at(r, "port")),
                            text_or_dash(at(r, "interface")), text(at(r, "source")),
                            at(r, "protocol").is_string() ? text(at(r, "protocol")) : "-",
                            at(r, "metric").is_number() ? text(at(r, "metric")) : "-", text(at(r, "state"))});
        out = render_table({"PREFIX", "VIA", "PORT", "INTERFACE", "SOURCE", "PROTOCOL", "METRIC", "STATE"}, rows);
    }
    const Json& k = at(result, "kernel");
    if (!k.is_object())
        return out + "kernel routes: not mirrored (gateway.kernel_routes)\n";
    out += "kernel table " + text(at(k, "table")) + ": " + text(at(k, "routes_installed")) + " of " +
           text(at(k, "routes_known")) + " installed (max " + text(at(k, "max_routes")) + " routes, " +
           text(at(k, "max_next_hops")) + " next hops)";
    if (at(k, "truncated").is_boolean() && at(k, "truncated").get<bool>())
        out += ", list truncated";
    const Json& skipped = at(k, "skipped");
    if (skipped.is_object() && !skipped.empty()) {
        out += "; not taken:";
        for (const auto& [why, n] : skipped.items())
            out += " " + why + " " + text(n);
    }
    return out + "\n";
}

namespace {

// "no_route 12, srh_bad 3, +2 more": the reasons with the most drops.
std::string top_drops(const Json& drops, std::size_t keep = 3) {
    if (!drops.is_object() || drops.empty())
        return "-";
    std::vector<std::pair<std::string, std::uint64_t>> v;
    for (const auto& [why, n] : drops.items())
        v.emplace_back(why, n.is_number_unsigned() ? n.get<std::uint64_t>() : 0);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    std::string out;
    for (std::size_t i = 0; i < v.size() && i < keep; ++i)
        out += (out.empty() ? "" : ", ") + v[i].first + " " + std::to_string(v[i].second);
    if (v.size() > keep)
        out += ", +" + std::to_string(v.size() - keep) + " more";
    return out;
}

}  // namespace

std::string render_sids(const Json& result) {
    const Json& sids = at(result, "sids");
    if (!sids.is_array() || sids.empty())
        return "no local SIDs\n";
    std::vector<std::vector<std::string>> rows;
    for (const Json& s : sids)
        rows.push_back({text(at(s, "sid")), text(at(s, "behavior")), text_or_dash(at(s, "next_hop")),
                        text(at(s, "origin")), text(at(s, "packets")), text(at(s, "bytes")), text(at(s, "dropped")),
                        top_drops(at(s, "drops"))});
    return render_table({"SID", "BEHAVIOR", "NEXT-HOP", "ORIGIN", "PACKETS", "BYTES", "DROPPED", "TOP-DROPS"}, rows) +
           std::to_string(sids.size()) + " local SIDs\n";
}

std::string render_policies(const Json& result) {
    const Json& ingress = at(result, "ingress");
    const Json& egress = at(result, "egress");
    std::vector<std::vector<std::string>> rows;
    std::size_t n_in = 0, n_eg = 0;
    for (const Json& p : ingress.is_array() ? ingress : Json::array()) {
        ++n_in;
        rows.push_back({"ingress", text(at(p, "source")), text(at(p, "sid")), text(at(p, "packets")),
                        text(at(p, "bytes")), text(at(p, "cs_id")), text(at(p, "instance")),
                        join(at(p, "segments"), ",")});
    }
    for (const Json& p : egress.is_array() ? egress : Json::array()) {
        ++n_eg;
        rows.push_back({"egress", text(at(p, "source")), text(at(p, "sid")), text(at(p, "packets")),
                        text(at(p, "bytes")), "-", "-", "-"});
    }
    std::string out = rows.empty() ? "no policies\n"
                                   : render_table({"DIRECTION", "SOURCE", "SID", "PACKETS", "BYTES", "CS-ID",
                                                   "INSTANCE", "SEGMENTS"},
                                                  rows);
    out += std::to_string(n_in) + " ingress, " + std::to_string(n_eg) + " egress policies";
    const Json& cap = at(result, "egress_capacity");
    const Json& overflow = at(result, "egress_overflow");
    if (cap.is_number() && cap.get<double>() == 0)
        out += "; egress accounting off (gateway.policy_table_size: 0)";
    else if (overflow.is_number() && overflow.get<double>() != 0)
        out += "; " + text(overflow) + " egress packets not counted (the table's " + text(cap) +
               " entries are taken)";
    return out + "\n";
}

std::string render_sid_result(const std::string& verb, const Json& result) {
    std::string out = "sid " + text(at(result, "sid")) + ": " + verb;
    if (at(result, "behavior").is_string())
        out += " (" + text(at(result, "behavior")) +
               (at(result, "next_hop").is_string() ? ", next hop " + text(at(result, "next_hop")) : std::string()) +
               ")";
    return out + "; the dataplane runs SID table version " + text(at(result, "sid_table_version")) + "\n";
}

}  // namespace cats::catsctl

namespace cats::catsctl {

namespace {

// A rate as the eye reads it: "12/s", "0.5/s", "1.2k/s".
std::string rate_text(const Json& v) {
    if (!v.is_number())
        return text(v);
    const double r = v.get<double>();
    char buf[32];
    if (r >= 10000)
        std::snprintf(buf, sizeof(buf), "%.1fk/s", r / 1000);
    else if (r >= 10 || r == static_cast<double>(static_cast<std::int64_t>(r)))
        std::snprintf(buf, sizeof(buf), "%.0f/s", r);
    else
        std::snprintf(buf, sizeof(buf), "%.1f/s", r);
    return buf;
}

std::string event_body(const std::string& type, const Json& e) {
    if (type == "instance") {
        std::string s = "cs " + text(at(e, "cs_id")) + " instance " + text(at(e, "instance")) + " " +
                        text(at(e, "state"));
        if (at(e, "why").is_string())
            s += ": " + text(at(e, "why"));
        return s;
    }
    if (type == "table") {
        if (!at(e, "refused").is_null())
            return "update refused: " + text(at(e, "refused"));
        std::string s = "version " + text(at(e, "version"));
        std::string detail;
        if (at(e, "snapshot") == true)
            detail = "full snapshot";
        else if (at(e, "ops").is_number())
            detail = text(at(e, "ops")) + " change(s)";
        if (const Json& ms = at(e, "latency_ms"); ms.is_number()) {
            char buf[32];
            std::snprintf(buf, sizeof(buf), "%.1f ms", ms.get<double>());
            detail += (detail.empty() ? "" : ", ") + std::string(buf);
        }
        return detail.empty() ? s : s + " (" + detail + ")";
    }
    if (type == "link") {
        if (at(e, "state") == "connected")
            return "connected to " + text(at(e, "socket"));
        std::string s = text(at(e, "state"));
        if (at(e, "why").is_string())
            s += ": " + text(at(e, "why"));
        return s;
    }
    if (type == "neighbor") {
        std::string s = text(at(e, "address"));
        if (const Json& p = at(e, "port"); p.is_string() && !p.get<std::string>().empty())
            s += " on " + p.get<std::string>();
        s += ": " + text(at(e, "state"));
        if (const Json& mac = at(e, "mac"); mac.is_string() && !mac.get<std::string>().empty())
            s += " " + mac.get<std::string>();
        return s + " (was " + text(at(e, "was")) + ")";
    }
    if (type == "drops") {
        std::string s = rate_text(at(e, "total_per_s"));
        std::vector<std::pair<double, std::string>> by;
        if (const Json& per = at(e, "per_s"); per.is_object())
            for (const auto& [reason, v] : per.items())
                by.emplace_back(v.is_number() ? v.get<double>() : 0.0, reason);
        std::sort(by.begin(), by.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        std::string parts;
        for (const auto& [r, reason] : by)
            parts += (parts.empty() ? "" : ", ") + reason + " " + rate_text(r);
        return parts.empty() ? s : s + ": " + parts;
    }
    if (type == "lost")
        return text(at(e, "count")) + " " + text(at(e, "what")) + " not shown (the monitor fell behind)";
    if (type == "restart")
        return text(at(e, "why")) + "; events may be missing";
    // A type this catsctl does not know: its keys as key=value.
    std::string s;
    if (e.is_object())
        for (const auto& [k, v] : e.items())
            if (k != "type" && k != "time" && k != "seq")
                s += (s.empty() ? "" : " ") + k + "=" + (v.is_structured() ? dump(v) : text(v));
    return s;
}

}  // namespace

std::string render_event(const Json& event) {
    const std::string type = at(event, "type").is_string() ? at(event, "type").get<std::string>() : "?";
    const Json& time = at(event, "time");
    std::string line = time.is_string() ? time.get<std::string>() : std::string(24, '-');
    std::string t = type;
    t.resize(std::max<std::size_t>(t.size(), 8), ' ');
    line += "  " + t + "  " + event_body(type, event);
    // One line whatever the strings hold.
    std::replace(line.begin(), line.end(), '\n', ' ');
    return line + "\n";
}

}  // namespace cats::catsctl
