// SPDX-License-Identifier: BSD-3-Clause
#include "analyzer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace cats::trafgen {

using nlohmann::json;

TxCounts plan_tx(Generator& gen, std::uint64_t start_ns) {
    TxCounts tx(gen.flows().size());
    std::vector<std::uint8_t> buf(kMaxFrame);
    gen.rewind();
    Slot s;
    while (gen.next(s)) {
        const std::uint64_t ts = schedule_ns(gen.profile(), start_ns, s.index);
        const std::size_t len = s.bad == BadKind::None ? s.frame_len : gen.build(s, ts, buf);
        tx.add(s, len, ts);
    }
    gen.rewind();
    return tx;
}

std::uint64_t schedule_ns(const Profile& p, std::uint64_t start_ns, std::uint64_t index) noexcept {
    // Without a rate, a pcap is stamped at 1 Mpps.
    const double gap = p.rate_pps > 0 ? 1e9 / p.rate_pps : 1000.0;
    return start_ns + static_cast<std::uint64_t>(std::llround(static_cast<double>(index) * gap));
}

Analyzer::Analyzer(const Generator& gen) : gen_(gen), tx_(gen.flows().size()) {
    const Profile& pr = gen.profile();
    for (std::size_t s = 0; s < pr.services.size(); ++s) {
        for (const InstanceSpec& inst : pr.services[s].instances) {
            const auto k = static_cast<std::int32_t>(inst_name_.size());
            inst_name_.push_back(inst.name);
            inst_service_.push_back(s);
            inst_weight_.push_back(inst.weight);
            by_first_sid_.try_emplace(inst.sids.front(), k);
            by_last_sid_.try_emplace(inst.sids.back(), k);
        }
    }
    allow_move_.assign(inst_name_.size(), false);
    for (const std::string& name : pr.allow_moves_from)
        if (const std::int32_t k = instance_by_name(name); k >= 0)
            allow_move_[static_cast<std::size_t>(k)] = true;
}

std::int32_t Analyzer::instance_by_name(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < inst_name_.size(); ++i)
        if (inst_name_[i] == name)
            return static_cast<std::int32_t>(i);
    return kUnknownInstance;
}

std::int32_t Analyzer::instance_of(const RxDecoded& d) const noexcept {
    if (!d.encapsulated)
        return kUnknownInstance;
    if (const auto it = by_first_sid_.find(d.outer_dst); it != by_first_sid_.end())
        return it->second;
    if (d.has_srh)
        if (const auto it = by_last_sid_.find(d.srh_last_sid); it != by_last_sid_.end())
            return it->second;
    // Reduced encapsulation with one SID, or captured past the first SID.
    if (const auto it = by_last_sid_.find(d.outer_dst); it != by_last_sid_.end())
        return it->second;
    return kUnknownInstance;
}

void Analyzer::add_frame(std::span<const std::uint8_t> frame, std::uint64_t rx_ns, std::int32_t instance) {
    ++rx_frames_;
    rx_bytes_ += frame.size();
    RxDecoded d;
    if (!decode_rx(frame, d)) {
        ++foreign_;
        return;
    }
    if (d.tg.run_id != gen_.run_id() || d.tg.flow_id >= gen_.flows().size()) {
        ++other_run_;
        return;
    }
    if (d.tg.flags & kTgFlagMalformed) {
        // An unknown kind (another trafgen version) is counted as "none".
        ++bad_rx_[d.tg.bad_kind < kBadKindCount ? d.tg.bad_kind : 0];
        return;
    }
    if (instance == kUnknownInstance)
        instance = instance_of(d);
    rx_.push_back(RxPacket{.instance = instance, .flow = d.tg.flow_id, .seq = d.tg.seq, .tx_ns = d.tg.tx_ns,
                           .rx_ns = rx_ns, .len = static_cast<std::uint32_t>(frame.size())});
}

namespace {

double round3(double x) { return std::round(x * 1000.0) / 1000.0; }

double rate(std::uint64_t n, std::uint64_t first_ns, std::uint64_t last_ns) {
    if (last_ns <= first_ns)
        return 0;
    return static_cast<double>(n) * 1e9 / static_cast<double>(last_ns - first_ns);
}

// Nearest-rank percentile of sorted samples.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p) {
    if (sorted.empty())
        return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

struct FlowStat {
    std::uint64_t received = 0;     // unique sequence numbers
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0;
    std::uint64_t unexpected = 0;   // sequence number past what was sent
    std::uint64_t moves = 0;        // instance changes in sequence order
    bool violation = false;
    bool planned_move = false;
    std::int32_t first_instance = kUnknownInstance;
    std::int32_t last_instance = kUnknownInstance;
    std::vector<std::int32_t> instances;  // distinct, in order of first use
};

// Per instance, the latency (us) at each of kCdfPercents: enough points to
// draw a CDF whatever the number of samples.
constexpr std::array<double, 103> kCdfPercents = [] {
    std::array<double, 103> a{};
    for (std::size_t i = 0; i < 100; ++i)
        a[i] = static_cast<double>(i);
    a[100] = 99.5;
    a[101] = 99.9;
    a[102] = 100;
    return a;
}();

json latency_cdf(const std::vector<std::string>& names, std::vector<std::vector<std::int64_t>>& samples) {
    json insts = json::array();
    for (std::size_t k = 0; k < names.size(); ++k) {
        std::vector<std::int64_t>& v = samples[k];
        std::sort(v.begin(), v.end());
        json us = json::array();
        for (std::size_t i = 0; !v.empty() && i < kCdfPercents.size(); ++i)
            us.push_back(round3(static_cast<double>(percentile(v, kCdfPercents[i])) / 1000.0));
        insts.push_back({{"name", names[k]}, {"samples", v.size()}, {"us", us}});
    }
    return {{"percent", kCdfPercents}, {"instances", insts}};
}

// Received packets of this run per time bin, in total and per instance. The
// bin is the smallest of kBinsNs that keeps the series within kMaxBins
// points, so a pcap replayed in a millisecond and an hour-long live run
// both plot.
json rx_timeline(const std::vector<RxPacket>& rx, const std::vector<std::string>& names, std::uint64_t first_ns,
                 std::uint64_t last_ns) {
    constexpr std::array<std::uint64_t, 10> kBinsNs{10000ULL,         100000ULL,        1000000ULL,     10000000ULL,
                                                    100000000ULL,       1000000000ULL,    10000000000ULL, 60000000000ULL,
                                                    600000000000ULL,    3600000000000ULL};
    constexpr std::uint64_t kMaxBins = 120;
    const std::uint64_t span = last_ns > first_ns ? last_ns - first_ns : 0;
    std::uint64_t bin = kBinsNs.back();
    for (const std::uint64_t b : kBinsNs)
        if (span / b + 1 <= kMaxBins) {
            bin = b;
            break;
        }
    const std::size_t n = rx.empty() ? 0 : static_cast<std::size_t>(span / bin + 1);
    std::vector<std::uint64_t> total(n, 0);
    std::vector<std::vector<std::uint64_t>> per(names.size(), std::vector<std::uint64_t>(n, 0));
    for (const RxPacket& p : rx) {
        const auto i = static_cast<std::size_t>((p.rx_ns - first_ns) / bin);
        ++total[i];
        if (p.instance >= 0)
            ++per[static_cast<std::size_t>(p.instance)][i];
    }
    json insts = json::array();
    for (std::size_t k = 0; k < names.size(); ++k)
        insts.push_back({{"name", names[k]}, {"received", per[k]}});
    return {{"start_ns", first_ns}, {"bin_s", static_cast<double>(bin) / 1e9}, {"received", total},
            {"instances", insts}};
}

}  // namespace

json Analyzer::report(const ReportOptions& opt) const {
    const Profile& pr = gen_.profile();
    const std::vector<FlowSpec>& flows = gen_.flows();
    const std::size_t n_flows = flows.size();
    std::vector<FlowStat> fs(n_flows);

    // Reordering is judged in arrival order: a packet is late if a higher
    // sequence number of its flow arrived before it. Only the first copy of
    // a sequence number counts (a duplicate is not also a reordering).
    struct Rx {
        RxPacket p;
        bool late;
    };
    std::vector<Rx> rx;
    rx.reserve(rx_.size());
    for (const RxPacket& p : rx_)
        rx.push_back(Rx{p, false});
    std::stable_sort(rx.begin(), rx.end(), [](const Rx& a, const Rx& b) { return a.p.rx_ns < b.p.rx_ns; });
    {
        std::vector<std::uint64_t> next_seq(n_flows, 0);
        for (Rx& r : rx) {
            r.late = r.p.seq < next_seq[r.p.flow];
            next_seq[r.p.flow] = std::max(next_seq[r.p.flow], r.p.seq + 1);
        }
    }
    // Everything else in sequence order, per flow (first arrival first).
    std::stable_sort(rx.begin(), rx.end(), [](const Rx& a, const Rx& b) {
        return a.p.flow != b.p.flow ? a.p.flow < b.p.flow : a.p.seq < b.p.seq;
    });
    std::vector<std::int64_t> latency;
    latency.reserve(rx.size());
    std::vector<std::vector<std::int64_t>> inst_latency(inst_name_.size());
    std::uint64_t negative_latency = 0;
    std::vector<std::uint64_t> inst_packets(inst_name_.size(), 0);
    std::vector<std::uint64_t> inst_flows(inst_name_.size(), 0);
    std::vector<std::uint64_t> svc_unidentified(pr.services.size(), 0);
    for (std::size_t i = 0; i < rx.size(); ++i) {
        const RxPacket& p = rx[i].p;
        FlowStat& f = fs[p.flow];
        const bool dup = i > 0 && rx[i - 1].p.flow == p.flow && rx[i - 1].p.seq == p.seq;
        if (dup) {
            ++f.duplicates;
            continue;
        }
        if (rx[i].late)
            ++f.reordered;
        if (p.seq >= tx_.flow_packets[p.flow])
            ++f.unexpected;
        ++f.received;
        const bool drop_expected = pr.requirement_sets[flows[p.flow].set].expect_drop;
        if (!drop_expected) {
            const auto lat = static_cast<std::int64_t>(p.rx_ns - p.tx_ns);
            latency.push_back(lat);
            if (lat < 0)
                ++negative_latency;
        }
        if (p.instance == kUnknownInstance) {
            ++svc_unidentified[flows[p.flow].service];
        } else if (!drop_expected) {
            ++inst_packets[static_cast<std::size_t>(p.instance)];
            inst_latency[static_cast<std::size_t>(p.instance)].push_back(latency.back());
        }
        if (f.received == 1) {
            f.first_instance = p.instance;
            f.last_instance = p.instance;
            f.instances.push_back(p.instance);
        } else if (p.instance != f.last_instance) {
            ++f.moves;
            f.last_instance = p.instance;
            if (std::find(f.instances.begin(), f.instances.end(), p.instance) == f.instances.end())
                f.instances.push_back(p.instance);
        }
    }

    // Affinity.
    std::uint64_t violations = 0;
    std::uint64_t planned = 0;
    std::map<std::uint32_t, std::set<std::int32_t>> group_first;
    for (std::size_t id = 0; id < n_flows; ++id) {
        FlowStat& f = fs[id];
        if (f.instances.empty())
            continue;
        if (f.first_instance >= 0 && !pr.requirement_sets[flows[id].set].expect_drop)
            ++inst_flows[static_cast<std::size_t>(f.first_instance)];
        if (flows[id].group != kNoGroup)
            group_first[flows[id].group].insert(f.first_instance);
        if (f.moves == 0)
            continue;
        if (f.moves == 1 && f.instances.size() == 2 && f.first_instance >= 0 &&
            allow_move_[static_cast<std::size_t>(f.first_instance)]) {
            f.planned_move = true;
            ++planned;
        } else {
            f.violation = true;
            ++violations;
        }
    }
    std::uint64_t group_violations = 0;
    for (const auto& [g, insts] : group_first)
        if (insts.size() > 1)
            ++group_violations;

    // Per service, per set, per instance.
    struct Agg {
        std::uint64_t flows = 0, sent = 0, received = 0, lost = 0, duplicates = 0, reordered = 0;
        std::uint64_t drop_sent = 0, drop_received = 0;
    };
    std::vector<Agg> svc(pr.services.size()), set(pr.requirement_sets.size());
    Agg total;
    std::vector<double> expected(inst_name_.size(), 0.0);
    json problem_flows = json::array();
    std::size_t listed = 0;
    for (std::size_t id = 0; id < n_flows; ++id) {
        const FlowSpec& fl = flows[id];
        const FlowStat& f = fs[id];
        const RequirementSet& rs = pr.requirement_sets[fl.set];
        const std::uint64_t sent = tx_.flow_packets[id];
        const std::uint64_t lost = sent > f.received ? sent - f.received : 0;
        for (Agg* a : {&svc[fl.service], &set[fl.set], &total}) {
            ++a->flows;
            if (rs.expect_drop) {
                a->drop_sent += sent;
                a->drop_received += f.received;
                continue;
            }
            a->sent += sent;
            a->received += f.received;
            a->lost += lost;
            a->duplicates += f.duplicates;
            a->reordered += f.reordered;
        }
        if (!rs.expect_drop) {
            // The expected instance: one of those the set allows, in
            // proportion to their weights.
            double sum = 0;
            for (std::size_t k = 0; k < inst_name_.size(); ++k)
                if (inst_service_[k] == fl.service &&
                    (rs.instances.empty() || std::find(rs.instances.begin(), rs.instances.end(), inst_name_[k]) != rs.instances.end()))
                    sum += inst_weight_[k];
            for (std::size_t k = 0; sum > 0 && k < inst_name_.size(); ++k)
                if (inst_service_[k] == fl.service &&
                    (rs.instances.empty() || std::find(rs.instances.begin(), rs.instances.end(), inst_name_[k]) != rs.instances.end()))
                    expected[k] += static_cast<double>(sent) * inst_weight_[k] / sum;
        }
        const bool problem = (!rs.expect_drop && lost > 0) || f.duplicates > 0 || f.violation || f.unexpected > 0 ||
                             (rs.expect_drop && f.received > 0);
        if ((opt.all_flows || problem) && listed < (opt.all_flows ? SIZE_MAX : opt.max_flows_listed)) {
            ++listed;
            json insts = json::array();
            for (const std::int32_t k : f.instances)
                insts.push_back(k >= 0 ? inst_name_[static_cast<std::size_t>(k)] : std::string("?"));
            problem_flows.push_back({{"id", id},
                                     {"service", pr.services[fl.service].cs_id},
                                     {"set", rs.name},
                                     {"encoding", name_of(fl.encoding)},
                                     {"transport", name_of(fl.transport)},
                                     {"src", format_ipv6(fl.src)},
                                     {"sport", fl.sport},
                                     {"sent", sent},
                                     {"received", f.received},
                                     {"lost", rs.expect_drop ? 0 : lost},
                                     {"duplicates", f.duplicates},
                                     {"reordered", f.reordered},
                                     {"instances", insts},
                                     {"affinity_violation", f.violation},
                                     {"planned_move", f.planned_move}});
        }
    }

    auto agg_json = [](const Agg& a) {
        return json{{"flows", a.flows},
                    {"sent", a.sent},
                    {"received", a.received},
                    {"lost", a.lost},
                    {"loss_pct", a.sent ? round3(100.0 * static_cast<double>(a.lost) / static_cast<double>(a.sent)) : 0.0},
                    {"duplicates", a.duplicates},
                    {"reordered", a.reordered},
                    {"expected_drop_sent", a.drop_sent},
                    {"expected_drop_received", a.drop_received}};
    };

    bool shares_ok = true;
    json services = json::array();
    for (std::size_t s = 0; s < pr.services.size(); ++s) {
        json j = agg_json(svc[s]);
        j["cs_id"] = pr.services[s].cs_id;
        j["name"] = pr.services[s].name;
        j["unidentified"] = svc_unidentified[s];
        std::uint64_t got = 0;
        double want = 0;
        for (std::size_t k = 0; k < inst_name_.size(); ++k)
            if (inst_service_[k] == s) {
                got += inst_packets[k];
                want += expected[k];
            }
        json insts = json::array();
        for (std::size_t k = 0; k < inst_name_.size(); ++k) {
            if (inst_service_[k] != s)
                continue;
            const double share = got ? static_cast<double>(inst_packets[k]) / static_cast<double>(got) : 0.0;
            const double exp_share = want > 0 ? expected[k] / want : 0.0;
            const bool ok = got == 0 || std::fabs(share - exp_share) <= pr.share_tolerance;
            shares_ok = shares_ok && ok;
            insts.push_back({{"name", inst_name_[k]},
                             {"packets", inst_packets[k]},
                             {"flows", inst_flows[k]},
                             {"share", round3(share)},
                             {"expected_share", round3(exp_share)},
                             {"within_tolerance", ok}});
        }
        j["instances"] = insts;
        services.push_back(j);
    }
    json sets = json::array();
    for (std::size_t r = 0; r < pr.requirement_sets.size(); ++r) {
        json j = agg_json(set[r]);
        j["name"] = pr.requirement_sets[r].name;
        j["expect"] = pr.requirement_sets[r].expect_drop ? "drop" : "steer";
        if (!pr.requirement_sets[r].drop_reason.empty())
            j["drop_reason"] = pr.requirement_sets[r].drop_reason;
        sets.push_back(j);
    }

    std::sort(latency.begin(), latency.end());
    double mean = 0;
    for (const std::int64_t l : latency)
        mean += static_cast<double>(l);
    mean = latency.empty() ? 0 : mean / static_cast<double>(latency.size());
    auto us = [](std::int64_t ns) { return round3(static_cast<double>(ns) / 1000.0); };
    json lat = {{"samples", latency.size()},
                {"min", us(latency.empty() ? 0 : latency.front())},
                {"p50", us(percentile(latency, 50))},
                {"p90", us(percentile(latency, 90))},
                {"p99", us(percentile(latency, 99))},
                {"p999", us(percentile(latency, 99.9))},
                {"max", us(latency.empty() ? 0 : latency.back())},
                {"mean", round3(mean / 1000.0)},
                {"negative", negative_latency}};
    // TX times of a generated pcap are the plan's (gen --start-ns), not when
    // the packets were really sent: against the receiver's clock they mean
    // nothing. Flag what cannot be a one-way delay on one host.
    constexpr std::int64_t kPlausibleNs = 60LL * 1000000000LL;
    lat["plausible"] = !latency.empty() && negative_latency == 0 && percentile(latency, 50) < kPlausibleNs;
    const json lat_cdf = latency_cdf(inst_name_, inst_latency);

    json bad_sent = json::object(), bad_recv = json::object();
    std::uint64_t bad_sent_total = 0, bad_recv_total = 0;
    for (std::size_t k = 0; k < kBadKindCount; ++k) {
        if (k > 0 && (tx_.bad[k] > 0 || pr.malformed_kinds[k] > 0))
            bad_sent[std::string(kBadKindNames[k])] = tx_.bad[k];
        if (bad_rx_[k] > 0)
            bad_recv[std::string(kBadKindNames[k])] = bad_rx_[k];
        bad_sent_total += tx_.bad[k];
        bad_recv_total += bad_rx_[k];
    }

    std::uint64_t rx_trafgen = 0;
    std::uint64_t rx_dups = 0, rx_reorder = 0, unidentified = 0;
    for (std::size_t id = 0; id < n_flows; ++id) {
        rx_trafgen += fs[id].received + fs[id].duplicates;
        rx_dups += fs[id].duplicates;
        rx_reorder += fs[id].reordered;
    }
    for (const std::uint64_t u : svc_unidentified)
        unidentified += u;
    const double tx_s = tx_.last_ns > tx_.first_ns ? static_cast<double>(tx_.last_ns - tx_.first_ns) / 1e9 : 0.0;
    // Receive throughput over this run's packets only (foreign frames, such
    // as neighbour discovery before the run, would stretch the window).
    std::uint64_t tg_first = UINT64_MAX, tg_last = 0, tg_bytes = 0;
    for (const RxPacket& p : rx_) {
        tg_first = std::min(tg_first, p.rx_ns);
        tg_last = std::max(tg_last, p.rx_ns);
        tg_bytes += p.len;
    }
    if (rx_.empty())
        tg_first = 0;
    const json timeline = rx_timeline(rx_, inst_name_, tg_first, tg_last);
    const double rx_s = tg_last > tg_first ? static_cast<double>(tg_last - tg_first) / 1e9 : 0.0;
    std::uint64_t good_sent = 0;
    for (const std::uint64_t n : tx_.flow_packets)
        good_sent += n;

    json out = {
        {"run", {{"seed", pr.seed}, {"run_id", gen_.run_id()}, {"flows", n_flows}, {"packets_per_flow", pr.packets_per_flow},
                 {"affinity_groups", gen_.group_count()}}},
        {"tx", {{"packets", tx_.packets}, {"bytes", tx_.bytes}, {"good_packets", good_sent},
                {"malformed_packets", bad_sent_total}, {"duration_s", round3(tx_s)},
                {"pps", round3(rate(tx_.packets, tx_.first_ns, tx_.last_ns))},
                {"mbps", round3(rate(tx_.bytes * 8, tx_.first_ns, tx_.last_ns) / 1e6)}}},
        {"rx", {{"frames", rx_frames_}, {"bytes", rx_bytes_}, {"trafgen_packets", rx_trafgen},
                {"foreign", foreign_}, {"other_run", other_run_}, {"unidentified_instance", unidentified},
                {"duplicates", rx_dups}, {"reordered", rx_reorder}, {"duration_s", round3(rx_s)},
                {"pps", round3(rate(rx_.size(), tg_first, tg_last))},
                {"mbps", round3(rate(tg_bytes * 8, tg_first, tg_last) / 1e6)}}},
        {"totals", agg_json(total)},
        {"services", services},
        {"requirement_sets", sets},
        {"affinity", {{"violations", violations}, {"planned_moves", planned}, {"group_violations", group_violations}}},
        {"latency_us", lat},
        {"latency_cdf_us", lat_cdf},
        {"timeline", timeline},
        {"share_tolerance", {{"value", pr.share_tolerance}, {"from", pr.share_tolerance_from}}},
        {"malformed", {{"sent", bad_sent}, {"received", bad_recv}, {"sent_total", bad_sent_total},
                       {"received_total", bad_recv_total}}},
        {"flows", problem_flows},
    };
    out["checks"] = {{"no_loss", total.lost == 0},
                     {"no_duplicates", total.duplicates == 0},
                     {"expected_drops_dropped", total.drop_received == 0},
                     {"shares_within_tolerance", shares_ok},
                     {"share_tolerance", pr.share_tolerance},
                     {"affinity_ok", violations == 0 && group_violations == 0},
                     {"malformed_dropped", bad_recv_total == 0},
                     {"all_identified", unidentified == 0}};
    bool pass = true;
    for (const auto& [k, v] : out["checks"].items())
        if (v.is_boolean())
            pass = pass && v.get<bool>();
    out["checks"]["pass"] = pass;
    return out;
}

namespace {

std::string fmt(const char* f, auto... args) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), f, args...);
    return buf;
}

}  // namespace

std::string render_text(const json& r) {
    std::ostringstream o;
    const json& tx = r["tx"];
    const json& rx = r["rx"];
    const json& t = r["totals"];
    o << fmt("run: seed %llu, run id %08x, %llu flows x %llu packets, %llu affinity groups\n",
             r["run"]["seed"].get<unsigned long long>(), r["run"]["run_id"].get<unsigned>(),
             r["run"]["flows"].get<unsigned long long>(), r["run"]["packets_per_flow"].get<unsigned long long>(),
             r["run"]["affinity_groups"].get<unsigned long long>());
    o << fmt("tx: %llu packets (%llu good, %llu malformed), %llu bytes, %.3f s, %.1f pps, %.3f Mbit/s\n",
             tx["packets"].get<unsigned long long>(), tx["good_packets"].get<unsigned long long>(),
             tx["malformed_packets"].get<unsigned long long>(), tx["bytes"].get<unsigned long long>(),
             tx["duration_s"].get<double>(), tx["pps"].get<double>(), tx["mbps"].get<double>());
    o << fmt("rx: %llu frames (%llu trafgen, %llu foreign, %llu other run); trafgen %.3f s, %.1f pps, %.3f Mbit/s\n",
             rx["frames"].get<unsigned long long>(), rx["trafgen_packets"].get<unsigned long long>(),
             rx["foreign"].get<unsigned long long>(), rx["other_run"].get<unsigned long long>(),
             rx["duration_s"].get<double>(), rx["pps"].get<double>(), rx["mbps"].get<double>());
    o << fmt("totals: sent %llu  received %llu  lost %llu (%.3f%%)  dup %llu  reordered %llu  "
             "expected drops %llu (received %llu)\n",
             t["sent"].get<unsigned long long>(), t["received"].get<unsigned long long>(),
             t["lost"].get<unsigned long long>(), t["loss_pct"].get<double>(), t["duplicates"].get<unsigned long long>(),
             t["reordered"].get<unsigned long long>(), t["expected_drop_sent"].get<unsigned long long>(),
             t["expected_drop_received"].get<unsigned long long>());

    const json& tol = r["share_tolerance"];
    o << fmt("\nservices (share tolerance \u00b1%.3g, from %s):\n", tol["value"].get<double>(),
             tol["from"].get<std::string>().c_str());
    o << fmt("  %-8s %-22s %6s %9s %9s %7s %6s %8s\n", "cs_id", "name", "flows", "sent", "received", "lost", "dup",
             "unident");
    for (const json& s : r["services"]) {
        o << fmt("  %-8u %-22s %6llu %9llu %9llu %7llu %6llu %8llu\n", s["cs_id"].get<unsigned>(),
                 s["name"].get<std::string>().c_str(), s["flows"].get<unsigned long long>(),
                 s["sent"].get<unsigned long long>(), s["received"].get<unsigned long long>(),
                 s["lost"].get<unsigned long long>(), s["duplicates"].get<unsigned long long>(),
                 s["unidentified"].get<unsigned long long>());
        for (const json& i : s["instances"])
            o << fmt("      instance %-18s %9llu pkts %6llu flows  share %6.1f%%  expected %6.1f%%  %s\n",
                     i["name"].get<std::string>().c_str(), i["packets"].get<unsigned long long>(),
                     i["flows"].get<unsigned long long>(), 100 * i["share"].get<double>(),
                     100 * i["expected_share"].get<double>(), i["within_tolerance"].get<bool>() ? "ok" : "OFF");
    }
    o << "\nrequirement sets:\n";
    o << fmt("  %-22s %-6s %6s %9s %9s %7s %12s\n", "name", "expect", "flows", "sent", "received", "lost", "drop rx");
    for (const json& s : r["requirement_sets"])
        o << fmt("  %-22s %-6s %6llu %9llu %9llu %7llu %12llu\n", s["name"].get<std::string>().c_str(),
                 s["expect"].get<std::string>().c_str(), s["flows"].get<unsigned long long>(),
                 s["sent"].get<unsigned long long>() + s["expected_drop_sent"].get<unsigned long long>(),
                 s["received"].get<unsigned long long>() + s["expected_drop_received"].get<unsigned long long>(),
                 s["lost"].get<unsigned long long>(), s["expected_drop_received"].get<unsigned long long>());
    const json& a = r["affinity"];
    o << fmt("\naffinity: %llu violations, %llu planned moves, %llu group violations\n",
             a["violations"].get<unsigned long long>(), a["planned_moves"].get<unsigned long long>(),
             a["group_violations"].get<unsigned long long>());
    const json& l = r["latency_us"];
    if (l["plausible"].get<bool>() || l["samples"].get<unsigned long long>() == 0)
        o << fmt("latency (us, %llu samples): min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f\n",
                 l["samples"].get<unsigned long long>(), l["min"].get<double>(), l["p50"].get<double>(),
                 l["p90"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>(), l["max"].get<double>(),
                 l["mean"].get<double>());
    else
        o << fmt("latency: not meaningful (%llu negative samples, p50 %.0f us): the TX times are not from the "
                 "receiver's clock (a generated pcap, or a capture stamped by another clock)\n",
                 l["negative"].get<unsigned long long>(), l["p50"].get<double>());
    const json& m = r["malformed"];
    o << fmt("\nmalformed: sent %llu, received %llu\n", m["sent_total"].get<unsigned long long>(),
             m["received_total"].get<unsigned long long>());
    for (const auto& [k, v] : m["sent"].items()) {
        const unsigned long long got = m["received"].contains(k) ? m["received"][k].get<unsigned long long>() : 0;
        o << fmt("  %-24s sent %8llu  received %8llu\n", k.c_str(), v.get<unsigned long long>(), got);
    }
    if (!r["flows"].empty()) {
        o << fmt("\nflows listed: %zu\n", r["flows"].size());
        o << fmt("  %8s %-8s %-16s %-11s %-4s %7s %7s %5s %4s  %s\n", "id", "cs_id", "set", "encoding", "l4", "sent",
                 "recv", "lost", "dup", "instances");
        for (const json& f : r["flows"]) {
            std::string insts;
            for (const json& i : f["instances"])
                insts += (insts.empty() ? "" : ",") + i.get<std::string>();
            o << fmt("  %8llu %-8u %-16s %-11s %-4s %7llu %7llu %5llu %4llu  %s%s\n", f["id"].get<unsigned long long>(),
                     f["service"].get<unsigned>(), f["set"].get<std::string>().c_str(),
                     f["encoding"].get<std::string>().c_str(), f["transport"].get<std::string>().c_str(),
                     f["sent"].get<unsigned long long>(), f["received"].get<unsigned long long>(),
                     f["lost"].get<unsigned long long>(), f["duplicates"].get<unsigned long long>(), insts.c_str(),
                     f["affinity_violation"].get<bool>() ? "  AFFINITY" : "");
        }
    }
    o << "\nchecks:";
    for (const auto& [k, v] : r["checks"].items())
        if (v.is_boolean())
            o << " " << k << "=" << (v.get<bool>() ? "yes" : "NO");
    o << "\n";
    return o.str();
}

}  // namespace cats::trafgen
