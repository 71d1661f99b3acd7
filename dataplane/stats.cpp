// SPDX-License-Identifier: BSD-3-Clause
#include <rte_ethdev.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include "icmp6.hpp"
#include "report.hpp"

namespace cats::dp {

namespace {

using nlohmann::json;

template <typename F>
std::uint64_t sum(const std::vector<std::unique_ptr<Worker>>& ws, F f) {
    std::uint64_t s = 0;
    for (const auto& w : ws)
        s += f(*w->ctr).get();
    return s;
}

std::string pct(std::uint64_t part, std::uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) /
                                                                   static_cast<double>(whole));
    return buf;
}

}  // namespace

json build_report(const std::vector<std::unique_ptr<Worker>>& ws, const Snapshot& snap,
                  const std::vector<PortState>& ports, double uptime_s) {
    json r;
    r["table_version"] = snap.version;
    r["workers"] = ws.size();
    r["uptime_s"] = uptime_s;

    json jp = json::array();
    for (const PortState& p : ports) {
        rte_eth_stats hw{};
        rte_eth_stats_get(p.port_id, &hw);
        const auto id = p.port_id;
        jp.push_back({{"name", p.name},
                      {"port_id", id},
                      {"driver", p.driver},
                      {"rx_queues", p.rx_queues},
                      {"rss", p.rss},
                      {"rx_packets", sum(ws, [id](auto& c) -> auto& { return c.port_rx[id]; })},
                      {"rx_bytes", sum(ws, [id](auto& c) -> auto& { return c.port_rx_bytes[id]; })},
                      {"tx_packets", sum(ws, [id](auto& c) -> auto& { return c.port_tx[id]; })},
                      {"tx_bytes", sum(ws, [id](auto& c) -> auto& { return c.port_tx_bytes[id]; })},
                      {"hw", {{"ipackets", hw.ipackets},
                              {"opackets", hw.opackets},
                              {"imissed", hw.imissed},
                              {"ierrors", hw.ierrors},
                              {"oerrors", hw.oerrors},
                              {"rx_nombuf", hw.rx_nombuf}}}});
    }
    r["ports"] = jp;

    std::uint64_t dropped = 0;
    json drops = json::object();
    for (std::size_t i = 1; i < kDropReasonCount; ++i) {
        const std::uint64_t v = sum(ws, [i](auto& c) -> auto& { return c.drops[i]; });
        drops[std::string(kDropReasonNames[i])] = v;
        dropped += v;
    }
    r["totals"] = {
        {"rx_packets", sum(ws, [](auto& c) -> auto& { return c.rx_packets; })},
        {"rx_bytes", sum(ws, [](auto& c) -> auto& { return c.rx_bytes; })},
        {"tx_packets", sum(ws, [](auto& c) -> auto& { return c.tx_packets; })},
        {"tx_bytes", sum(ws, [](auto& c) -> auto& { return c.tx_bytes; })},
        {"steered", sum(ws, [](auto& c) -> auto& { return c.steered; })},
        {"forwarded", sum(ws, [](auto& c) -> auto& { return c.forwarded; })},
        {"endpoint", sum(ws, [](auto& c) -> auto& { return c.endpoint; })},
        {"dropped", dropped},
        {"best_effort", sum(ws, [](auto& c) -> auto& { return c.best_effort; })},
        {"flow_hits", sum(ws, [](auto& c) -> auto& { return c.flow_hits; })},
        {"new_flows", sum(ws, [](auto& c) -> auto& { return c.new_flows; })},
        {"resteered", sum(ws, [](auto& c) -> auto& { return c.resteered; })},
        {"srh_hmac_verified", sum(ws, [](auto& c) -> auto& { return c.srh_hmac_verified; })},
        {"flow_table_full", sum(ws, [](auto& c) -> auto& { return c.flow_table_full; })},
        {"expired", sum(ws, [](auto& c) -> auto& { return c.expired; })},
    };
    r["icmp"] = {
        {"too_big_sent", sum(ws, [](auto& c) -> auto& { return c.icmp_too_big; })},
        {"time_exceeded_sent", sum(ws, [](auto& c) -> auto& { return c.icmp_time_exceeded; })},
        {"param_problem_sent", sum(ws, [](auto& c) -> auto& { return c.icmp_param_problem; })},
        {"not_sent", sum(ws, [](auto& c) -> auto& { return c.icmp_limited; })},
    };
    r["encodings"] = {
        {"srh_tlv", sum(ws, [](auto& c) -> auto& { return c.by_source[static_cast<int>(MetaSource::SrhTlv)]; })},
        {"option", sum(ws, [](auto& c) -> auto& { return c.by_source[static_cast<int>(MetaSource::Option)]; })},
        {"service_sid",
         sum(ws, [](auto& c) -> auto& { return c.by_source[static_cast<int>(MetaSource::ServiceSid)]; })},
    };
    r["drops"] = drops;

    std::array<std::uint16_t, kMaxPorts> mtu{};
    for (const PortState& p : ports)
        if (p.port_id < kMaxPorts)
            mtu[p.port_id] = p.mtu;
    json svcs = json::array();
    for (const Service* s : snap.services) {
        const auto ss = s->slot;
        json insts = json::array();
        for (const Instance& in : s->instances) {
            const auto is = in.slot;
            json sids = json::array();
            for (std::size_t k = 0; k < in.n_sids; ++k)
                sids.push_back(format_ipv6(in.sids[k]));
            insts.push_back({{"id", in.id},
                             {"sids", sids},
                             {"resolved", in.resolved},
                             {"unresolved_reason", unresolved_name(in.unresolved)},
                             // 0 until resolved (no port yet).
                             {"max_inner_len", in.resolved && in.port_id < kMaxPorts
                                                   ? max_inner_len(in, mtu[in.port_id])
                                                   : 0},
                             {"weight", in.weight},
                             {"packets", sum(ws, [is](auto& c) -> auto& { return c.instances[is].packets; })},
                             {"bytes", sum(ws, [is](auto& c) -> auto& { return c.instances[is].bytes; })},
                             {"ip_bytes", sum(ws, [is](auto& c) -> auto& { return c.instances[is].ip_bytes; })},
                             {"new_flows", sum(ws, [is](auto& c) -> auto& { return c.instances[is].new_flows; })}});
        }
        svcs.push_back({{"cs_id", s->cs_id},
                        {"name", s->name},
                        {"affinity_timeout_s", s->affinity_timeout_ms / 1000},
                        {"packets", sum(ws, [ss](auto& c) -> auto& { return c.services[ss].packets; })},
                        {"bytes", sum(ws, [ss](auto& c) -> auto& { return c.services[ss].bytes; })},
                        {"new_flows", sum(ws, [ss](auto& c) -> auto& { return c.services[ss].new_flows; })},
                        {"instances", insts}});
    }
    r["services"] = svcs;

    std::uint64_t occ = 0, cap = 0;
    json per = json::array();
    for (const auto& w : ws) {
        occ += w->flows->count();
        cap += w->flows->capacity();
        per.push_back(w->flows->count());
    }
    r["flow_table"] = {{"occupancy", occ}, {"capacity", cap}, {"per_worker", per}};
    return r;
}

json sid_report(const std::vector<std::unique_ptr<Worker>>& ws, const SidTable& table) {
    json out = json::array();
    const SidSnapshot& snap = *table.current();
    for (const auto& [key, c] : table.configs()) {
        std::int64_t slot = -1;
        for (const LocalSid& ls : snap.sids)
            if (ls.sid == key.first && ls.len == key.second)
                slot = ls.slot;
        if (slot < 0)
            continue;
        const auto sl = static_cast<std::uint32_t>(slot);
        json drops = json::object();
        std::uint64_t dropped = 0;
        for (std::size_t i = 1; i < kDropReasonCount; ++i) {
            const std::uint64_t v = sum(ws, [sl, i](auto& w) -> auto& { return w.sids[sl].drops[i]; });
            if (v != 0)
                drops[std::string(kDropReasonNames[i])] = v;
            dropped += v;
        }
        out.push_back({{"sid", format_sid(c.sid)},
                       {"behavior", sid_behavior_name(c.behavior)},
                       {"next_hop", c.next_hop ? format_ipv6(*c.next_hop) : ""},
                       {"packets", sum(ws, [sl](auto& w) -> auto& { return w.sids[sl].packets; })},
                       {"bytes", sum(ws, [sl](auto& w) -> auto& { return w.sids[sl].bytes; })},
                       {"dropped", dropped},
                       {"drops", drops}});
    }
    return out;
}

json policy_report(const std::vector<std::unique_ptr<Worker>>& ws, const Snapshot& snap, const Ipv6Addr& encap_source) {
    // Ingress: each instance is one segment list from the encapsulation
    // source; its policy ends at its last SID.
    json ingress = json::array();
    const std::string source = format_ipv6(encap_source);
    for (const Service* s : snap.services)
        for (const Instance& in : s->instances) {
            if (in.n_sids == 0)
                continue;
            const auto is = in.slot;
            json segs = json::array();
            for (std::size_t k = 0; k < in.n_sids; ++k)
                segs.push_back(format_ipv6(in.sids[k]));
            ingress.push_back({{"source", source},
                               {"sid", format_ipv6(in.sids[in.n_sids - 1])},
                               {"segments", segs},
                               {"cs_id", s->cs_id},
                               {"instance", in.id},
                               {"packets", sum(ws, [is](auto& c) -> auto& { return c.instances[is].packets; })},
                               {"bytes", sum(ws, [is](auto& c) -> auto& { return c.instances[is].ip_bytes; })}});
        }
    // Egress: every worker's table, summed by key.
    std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>> egress;
    std::uint64_t overflow = 0, capacity = 0;
    for (const auto& w : ws) {
        if (!w->policies)
            continue;
        const PolicyTable& t = *w->policies;
        overflow += t.overflow();
        capacity += t.capacity();
        for (std::uint32_t i = 0; i < t.capacity(); ++i) {
            const PolicyEntry& pe = t.entry(i);
            if (pe.valid.load(std::memory_order_acquire) == 0)
                continue;
            Ipv6Addr src, sid;
            std::memcpy(src.data(), pe.key.source, 16);
            std::memcpy(sid.data(), pe.key.sid, 16);
            auto& v = egress[{format_ipv6(src), format_sid({sid, pe.key.sid_len})}];
            v.first += pe.packets.get();
            v.second += pe.bytes.get();
        }
    }
    json eg = json::array();
    for (const auto& [k, v] : egress)
        eg.push_back({{"source", k.first}, {"sid", k.second}, {"packets", v.first}, {"bytes", v.second}});
    return {{"ingress", ingress}, {"egress", eg}, {"egress_overflow", overflow}, {"egress_capacity", capacity}};
}

std::string render_text(const json& r) {
    std::ostringstream o;
    o << "cats-dataplane: table version " << r["table_version"] << ", " << r["workers"] << " worker(s)\n";
    o << "ports:\n";
    for (const auto& p : r["ports"])
        o << "  " << p["name"].get<std::string>() << "  rx " << p["rx_packets"] << " pkts " << p["rx_bytes"]
          << " B  tx " << p["tx_packets"] << " pkts " << p["tx_bytes"] << " B  (hw missed "
          << p["hw"]["imissed"] << ", errors " << p["hw"]["ierrors"] << "/" << p["hw"]["oerrors"] << ")\n";
    const auto& t = r["totals"];
    const std::uint64_t rx = t["rx_packets"];
    o << "totals: rx " << rx << "  steered " << t["steered"] << "  forwarded " << t["forwarded"]
      << "  dropped " << t["dropped"] << "  best-effort " << t["best_effort"] << "\n";
    o << "flows: new " << t["new_flows"] << "  pinned hits " << t["flow_hits"] << "  re-steered "
      << t["resteered"] << "  table-full " << t["flow_table_full"] << "  expired " << t["expired"]
      << "  occupancy " << r["flow_table"]["occupancy"] << "/" << r["flow_table"]["capacity"] << "\n";
    o << "icmp: packet-too-big sent " << r["icmp"]["too_big_sent"] << "  time-exceeded sent "
      << r["icmp"]["time_exceeded_sent"] << "  not sent " << r["icmp"]["not_sent"] << "\n";
    const auto& e = r["encodings"];
    o << "by encoding: srh_tlv " << e["srh_tlv"] << "  option " << e["option"] << "  service_sid "
      << e["service_sid"] << "\n";
    o << "services:\n";
    for (const auto& s : r["services"]) {
        const std::uint64_t sp = s["packets"];
        o << "  " << s["cs_id"] << " " << s["name"].get<std::string>() << ": " << sp << " pkts, "
          << s["new_flows"] << " flows\n";
        for (const auto& in : s["instances"]) {
            std::string sids;
            for (const auto& x : in["sids"])
                sids += (sids.empty() ? "" : ",") + x.get<std::string>();
            o << "    instance " << in["id"] << " [" << sids << "]: " << in["packets"] << " pkts ("
              << pct(in["packets"], sp) << "), " << in["new_flows"] << " flows"
              << (in["resolved"].get<bool>() ? "" : "  UNRESOLVED");
            const std::uint32_t inner = in["max_inner_len"];
            if (in["resolved"].get<bool>() && inner < kIpv6MinMtu)
                o << "  MTU: inner packets above " << inner << " bytes are dropped (IPv6 senders go no lower than "
                  << kIpv6MinMtu << ")";
            o << "\n";
        }
    }
    o << "drops:";
    bool any = false;
    for (const auto& [k, v] : r["drops"].items()) {
        if (v.get<std::uint64_t>() == 0)
            continue;
        o << "\n  " << k << " " << v;
        any = true;
    }
    o << (any ? "\n" : " none\n");
    return o.str();
}

json unresolved_instances(const Snapshot& snap, std::size_t max, std::size_t& total) {
    json out = json::array();
    total = 0;
    for (const Service* s : snap.services)
        for (const Instance& in : s->instances) {
            if (in.resolved)
                continue;
            if (++total <= max)
                out.push_back({{"cs_id", s->cs_id}, {"id", in.id}, {"reason", unresolved_name(in.unresolved)}});
        }
    return out;
}

json list_flows(const std::vector<std::unique_ptr<Worker>>& ws, std::uint32_t now_ms,
                std::optional<std::uint32_t> cs_id, std::optional<std::uint32_t> instance_id,
                std::uint32_t limit) {
    json out = json::array();
    for (const auto& w : ws) {
        const FlowTable& ft = *w->flows;
        for (std::uint32_t pos = 0; pos < ft.capacity(); ++pos) {
            // The worker pins and removes meanwhile: a position that changes
            // while it is read is read again (a busy slot twice more), so
            // that a row never pairs one flow's key with another's pin.
            FlowEntry fe;
            FlowKey k;
            FlowTable::Read read = FlowTable::Read::Changed;
            for (int attempt = 0; attempt < 3 && read == FlowTable::Read::Changed; ++attempt)
                read = ft.read_flow(static_cast<std::int32_t>(pos), k, fe);
            if (read != FlowTable::Read::Ok || (cs_id && fe.cs_id != *cs_id) ||
                (instance_id && fe.instance_id != *instance_id))
                continue;
            if (out.size() >= limit)
                return out;
            Ipv6Addr src, dst;
            std::memcpy(src.data(), k.src, 16);
            std::memcpy(dst.data(), k.dst, 16);
            json f = {{"worker", w->index},
                      {"cs_id", fe.cs_id},
                      {"instance_id", fe.instance_id},
                      {"idle_ms", now_ms - fe.last_seen_ms},
                      {"best_effort", (fe.flags & kFlowBestEffort) != 0}};
            switch (k.kind) {
            case FlowKind::Affinity:
                f["kind"] = "affinity";
                f["affinity_key"] = wire::load_be64(k.src);
                break;
            case FlowKind::Fragment:
                f["kind"] = "fragment";
                f["src"] = format_ipv6(src);
                f["dst"] = format_ipv6(dst);
                f["frag_id"] = (std::uint32_t{k.sport} << 16) | k.dport;
                break;
            case FlowKind::FiveTuple:
            default:
                f["kind"] = "5tuple";
                f["src"] = format_ipv6(src);
                f["dst"] = format_ipv6(dst);
                f["proto"] = k.proto;
                if (k.proto == kProtoEsp) {
                    f["spi"] = (std::uint32_t{k.sport} << 16) | k.dport;
                } else {
                    f["sport"] = k.sport;
                    f["dport"] = k.dport;
                }
                break;
            }
            out.push_back(std::move(f));
        }
    }
    return out;
}

}  // namespace cats::dp
