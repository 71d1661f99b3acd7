// SPDX-License-Identifier: BSD-3-Clause
#include "rib.hpp"

#include <algorithm>
#include <utility>

namespace cats::control {

namespace {

using Json = nlohmann::json;

std::string key_text(std::uint32_t cs_id, std::uint32_t id) {
    return "cs " + std::to_string(cs_id) + " instance " + std::to_string(id);
}

std::string owner_text(Origin o, std::uint32_t node_id) {
    if (o == Origin::Advert)
        return "advertised by node " + std::to_string(node_id);
    return std::string("a ") + origin_name(o) + " instance";
}

Json metrics_json(const mgmt::Metrics& m) {
    return Json{{"score", m.score},
                {"load_pct", m.load_pct},
                {"free_capacity", m.free_capacity},
                {"latency_us", m.latency_us},
                {"bandwidth_kbps", m.bandwidth_kbps},
                {"compute_types", ctl::compute_types_to_json(m.compute_types)},
                {"weight", m.weight}};
}

void apply(const ctl::MetricArgs& a, mgmt::Metrics& m) {
    if (a.score) m.score = *a.score;
    if (a.load_pct) m.load_pct = *a.load_pct;
    if (a.free_capacity) m.free_capacity = *a.free_capacity;
    if (a.latency_us) m.latency_us = *a.latency_us;
    if (a.bandwidth_kbps) m.bandwidth_kbps = *a.bandwidth_kbps;
    if (a.compute_types) m.compute_types = *a.compute_types;
    if (a.weight) m.weight = *a.weight;
}

}  // namespace

const char* origin_name(Origin o) noexcept {
    switch (o) {
    case Origin::Static: return "static";
    case Origin::Cli: return "cli";
    case Origin::Advert: return "advert";
    }
    return "?";
}

mgmt::Metrics to_dataplane_metrics(const advert::Metrics& a) noexcept {
    mgmt::Metrics m;  // the dataplane's defaults
    if (a.l2_score) m.score = std::min<std::uint8_t>(*a.l2_score, 10);
    if (a.load_pct) m.load_pct = std::min<std::uint8_t>(*a.load_pct, 100);
    if (a.free_capacity) m.free_capacity = *a.free_capacity;
    if (a.bandwidth_kbps) m.bandwidth_kbps = *a.bandwidth_kbps;
    if (a.compute_types) m.compute_types = *a.compute_types;
    if (a.weight) m.weight = std::min(*a.weight, kMaxWeight);
    // What a flow's MAX_LATENCY_US bounds is the time to a result: the
    // network latency plus the time a request waits in the instance's queue.
    const std::uint64_t lat = std::uint64_t{a.latency_us.value_or(0)} + a.queue_delay_us.value_or(0);
    m.latency_us = static_cast<std::uint32_t>(std::min<std::uint64_t>(lat, UINT32_MAX));
    return m;
}

bool eligibility_changed(const mgmt::Metrics& b, const mgmt::Metrics& a) noexcept {
    // What makes an instance's effective weight 0 or not (dataplane/steer.hpp),
    // and what a COMPUTE_TYPE requirement matches against.
    return (b.load_pct >= 100) != (a.load_pct >= 100) || (b.free_capacity == 0) != (a.free_capacity == 0) ||
           (b.weight == 0) != (a.weight == 0) || b.compute_types != a.compute_types;
}

bool significant_change(const mgmt::Metrics& b, const mgmt::Metrics& a, std::uint32_t pct) noexcept {
    // |new - old| >= max(old * pct / 100, 1), in integers: a nonzero diff
    // with diff * 100 >= old * pct (diff >= 1 covers old * pct <= 100).
    const auto sig = [pct](std::uint64_t before, std::uint64_t after) {
        const std::uint64_t diff = before > after ? before - after : after - before;
        return diff != 0 && diff * 100 >= before * pct;
    };
    return sig(b.score, a.score) || sig(b.load_pct, a.load_pct) || sig(b.free_capacity, a.free_capacity) ||
           sig(b.latency_us, a.latency_us) || sig(b.bandwidth_kbps, a.bandwidth_kbps) || sig(b.weight, a.weight);
}

Rib::Rib(const PolicyConfig& policy) : policy_(policy) {
    if (policy_.max_pushes_per_s > 0)
        push_interval_ = std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(1'000'000'000)) /
                         policy_.max_pushes_per_s;
}

void Rib::load_static(const std::vector<StaticService>& services) {
    for (const StaticService& s : services) {
        Svc& svc = services_[s.cs_id];
        svc.name = s.name;
        svc.affinity_timeout_s = s.affinity_timeout_s;
        svc.configured = true;
        for (const mgmt::InstanceRec& r : s.instances) {
            Inst in;
            in.origin = Origin::Static;
            in.sids = r.sids;
            in.metrics = r.metrics;
            if (svc.instances.emplace(r.id, std::move(in)).second)
                ++n_instances_;
        }
    }
}

RecordError Rib::check_room(const Svc* svc) const noexcept {
    if (svc == nullptr && services_.size() >= policy_.max_services)
        return RecordError::TooManyServices;
    if (n_instances_ >= policy_.max_instances)
        return RecordError::TooManyInstances;
    if (svc != nullptr && svc->instances.size() >= kMaxInstancesPerService)
        return RecordError::ServiceFull;
    return RecordError::Ok;
}

Rib::Svc& Rib::create_service(std::uint32_t cs_id, std::string name) {
    Svc& svc = services_[cs_id];
    svc.name = std::move(name);
    svc.affinity_timeout_s = policy_.default_affinity_timeout_s;
    svc.configured = false;
    return svc;
}

Rib::Inst& Rib::create_instance(std::uint32_t cs_id, Svc& svc, bool svc_is_new, std::uint32_t id, Inst in,
                                Time now, std::vector<mgmt::Op>& ops) {
    Inst& slot = svc.instances[id] = std::move(in);
    ++n_instances_;
    // A new instance is an eligibility change: pushed at once.
    slot.published = true;
    slot.pub_sids = slot.sids;
    slot.pub_metrics = effective(slot);
    slot.last_push = now;
    ++counters_.pushes;
    ++counters_.pushes_immediate;
    mgmt::Op op;
    if (svc_is_new) {
        op.type = mgmt::OpType::UpsertService;
        op.service = to_rec(cs_id, svc);
    } else {
        op.type = mgmt::OpType::UpsertInstance;
        op.service.cs_id = cs_id;
        op.instance = to_rec(id, slot);
    }
    ops.push_back(std::move(op));
    return slot;
}

void Rib::cancel_pending(Key k, Inst& in) {
    if (in.pending_due) {
        pending_.erase({*in.pending_due, k});
        in.pending_due.reset();
    }
}

void Rib::set_expiry(Key k, Inst& in, std::optional<Time> when) {
    if (in.expires)
        expiries_.erase({*in.expires, k});
    in.expires = when;
    if (when)
        expiries_.emplace(*when, k);
}

void Rib::push_now(Key k, Inst& in, Time now, std::vector<mgmt::Op>& ops) {
    cancel_pending(k, in);
    in.published = true;
    in.pub_sids = in.sids;
    in.pub_metrics = effective(in);
    in.last_push = now;
    ++counters_.pushes;
    mgmt::Op op;
    op.type = mgmt::OpType::UpsertInstance;
    op.service.cs_id = k.cs_id;
    op.instance = to_rec(k.id, in);
    ops.push_back(std::move(op));
}

void Rib::update(Key k, Inst& in, std::vector<Sid> sids, const mgmt::Metrics& m, bool operator_change, Time now,
                 std::vector<mgmt::Op>& ops) {
    in.sids = std::move(sids);
    in.metrics = m;
    if (!in.published) {
        // Not in the dataplane yet (before the first snapshot): the
        // snapshot will carry it.
        return;
    }
    const mgmt::Metrics eff = effective(in);
    if (in.sids == in.pub_sids && eff == in.pub_metrics) {
        cancel_pending(k, in);  // back to what the dataplane has
        return;
    }
    if (operator_change || in.sids != in.pub_sids || eligibility_changed(in.pub_metrics, eff)) {
        ++counters_.pushes_immediate;
        push_now(k, in, now, ops);
        return;
    }
    if (!significant_change(in.pub_metrics, eff, policy_.metric_threshold_pct)) {
        cancel_pending(k, in);
        ++counters_.suppressed;
        return;
    }
    if (push_interval_ == Clock::duration::zero() || !in.last_push || now >= *in.last_push + push_interval_) {
        push_now(k, in, now, ops);
        return;
    }
    ++counters_.dampened;
    if (!in.pending_due) {
        in.pending_due = *in.last_push + push_interval_;
        pending_.emplace(*in.pending_due, k);
    }
}

void Rib::remove(SvcMap::iterator svc, std::map<std::uint32_t, Inst>::iterator inst, std::vector<mgmt::Op>& ops) {
    const Key k{svc->first, inst->first};
    cancel_pending(k, inst->second);
    set_expiry(k, inst->second, std::nullopt);
    if (inst->second.origin == Origin::Advert)
        count_node(inst->second.node_id, k.cs_id, -1);
    svc->second.instances.erase(inst);
    --n_instances_;
    mgmt::Op op;
    op.service.cs_id = k.cs_id;
    if (!svc->second.configured && svc->second.instances.empty()) {
        op.type = mgmt::OpType::RemoveService;
        services_.erase(svc);
    } else {
        op.type = mgmt::OpType::RemoveInstance;
        op.instance.id = k.id;
    }
    ops.push_back(std::move(op));
}

void Rib::count_node(std::uint32_t node_id, std::uint32_t cs_id, int delta) {
    auto& per_cs = node_use_[node_id];
    std::uint32_t& n = per_cs[cs_id];
    n = static_cast<std::uint32_t>(static_cast<std::int64_t>(n) + delta);
    if (n == 0) {
        per_cs.erase(cs_id);
        if (per_cs.empty())
            node_use_.erase(node_id);
    }
}

std::size_t Rib::node_instances(std::uint32_t node_id) const noexcept {
    const auto it = node_use_.find(node_id);
    std::size_t n = 0;
    if (it != node_use_.end())
        for (const auto& [cs, count] : it->second)
            n += count;
    return n;
}

std::size_t Rib::node_services(std::uint32_t node_id) const noexcept {
    const auto it = node_use_.find(node_id);
    return it == node_use_.end() ? 0 : it->second.size();
}

RecordError Rib::advertise(const advert::Record& r, std::uint32_t node_id, const PeerScope& scope,
                           std::chrono::seconds lifetime, Time now, std::vector<mgmt::Op>& ops, std::string& why) {
    if (r.sids.empty() || r.sids.size() > mgmt::kMaxSids) {
        why = std::to_string(r.sids.size()) + " SIDs, want 1.." + std::to_string(mgmt::kMaxSids);
        return RecordError::BadRecord;
    }
    if (lifetime.count() <= 0) {
        why = "lifetime 0";
        return RecordError::BadRecord;
    }
    // The scope before anything else: a record outside it must not learn
    // (through `conflict`) what others hold, nor count against a limit.
    if (!scope.allows_cs(r.cs_id)) {
        why = "node " + std::to_string(node_id) + " may not advertise cs " + std::to_string(r.cs_id) +
              " (peers[].cs_ids)";
        return RecordError::OutOfScope;
    }
    if (!scope.allows_instance(r.instance_id)) {
        why = "node " + std::to_string(node_id) + " may not use instance id " + std::to_string(r.instance_id) +
              " (peers[].instance_ids)";
        return RecordError::OutOfScope;
    }
    const Key k{r.cs_id, r.instance_id};
    const Time expires = now + lifetime;
    const mgmt::Metrics m = to_dataplane_metrics(r.metrics);
    auto svc = services_.find(r.cs_id);
    if (svc != services_.end()) {
        const auto inst = svc->second.instances.find(r.instance_id);
        if (inst != svc->second.instances.end()) {
            Inst& in = inst->second;
            if (in.origin != Origin::Advert || in.node_id != node_id) {
                why = "already " + owner_text(in.origin, in.node_id);
                return RecordError::Conflict;
            }
            set_expiry(k, in, expires);
            update(k, in, r.sids, m, false, now, ops);
            return RecordError::Ok;
        }
    }
    if (scope.max_instances != 0 && node_instances(node_id) >= scope.max_instances) {
        why = "node " + std::to_string(node_id) + " holds " + std::to_string(scope.max_instances) +
              " instances (peers[].max_instances)";
        return RecordError::NodeQuota;
    }
    if (scope.max_services != 0 && node_services(node_id) >= scope.max_services) {
        const auto use = node_use_.find(node_id);
        if (use == node_use_.end() || !use->second.contains(r.cs_id)) {
            why = "node " + std::to_string(node_id) + " has instances in " + std::to_string(scope.max_services) +
                  " services (peers[].max_services)";
            return RecordError::NodeQuota;
        }
    }
    const Svc* existing = svc == services_.end() ? nullptr : &svc->second;
    if (const RecordError e = check_room(existing); e != RecordError::Ok) {
        why = kRecordErrorNames[static_cast<std::size_t>(e)];
        return e;
    }
    const bool svc_is_new = svc == services_.end();
    Svc& s = svc_is_new ? create_service(r.cs_id, "cs-" + std::to_string(r.cs_id)) : svc->second;
    Inst in;
    in.origin = Origin::Advert;
    in.node_id = node_id;
    in.sids = r.sids;
    in.metrics = m;
    Inst& slot = create_instance(r.cs_id, s, svc_is_new, r.instance_id, std::move(in), now, ops);
    set_expiry(k, slot, expires);
    count_node(node_id, r.cs_id, +1);
    std::string sids;
    for (const Sid& x : r.sids)
        sids += (sids.empty() ? "" : ",") + ctl::format_sid(x);
    note_event({r.cs_id, r.instance_id, true, node_id, "advertised by node " + std::to_string(node_id) + ", SIDs " + sids});
    return RecordError::Ok;
}

RecordError Rib::withdraw(const advert::Record& r, std::uint32_t node_id, std::vector<mgmt::Op>& ops,
                          std::string& why) {
    const auto svc = services_.find(r.cs_id);
    if (svc == services_.end() || !svc->second.instances.contains(r.instance_id)) {
        why = "no such instance";
        return RecordError::UnknownInstance;
    }
    const auto inst = svc->second.instances.find(r.instance_id);
    if (inst->second.origin != Origin::Advert || inst->second.node_id != node_id) {
        why = "it is " + owner_text(inst->second.origin, inst->second.node_id);
        return RecordError::NotOwner;
    }
    remove(svc, inst, ops);
    note_event({r.cs_id, r.instance_id, false, node_id, "withdrawn by node " + std::to_string(node_id)});
    return RecordError::Ok;
}

Rib::IngestResult Rib::ingest(const advert::Message& m, std::chrono::seconds lifetime, Time now,
                              const PeerScope& scope) {
    IngestResult res;
    for (std::size_t i = 0; i < m.records.size(); ++i) {
        const advert::Record& r = m.records[i];
        std::string why;
        const RecordError e = m.type == advert::Type::Withdraw ? withdraw(r, m.node_id, res.ops, why)
                                                                : advertise(r, m.node_id, scope, lifetime, now, res.ops, why);
        if (e == RecordError::Ok) {
            ++res.accepted;
            if (m.type == advert::Type::Withdraw)
                ++counters_.withdrawn;
            else
                ++counters_.records_accepted;
            continue;
        }
        ++res.rejected;
        ++res.rejected_by[static_cast<std::size_t>(e)];
        ++counters_.rejected[static_cast<std::size_t>(e)];
        if (res.first_error.empty())
            res.first_error = "record " + std::to_string(i) + " (" + key_text(r.cs_id, r.instance_id) + "): " +
                              kRecordErrorNames[static_cast<std::size_t>(e)] + ": " + why;
    }
    return res;
}

std::vector<mgmt::Op> Rib::expire(Time now) {
    std::vector<mgmt::Op> ops;
    while (!expiries_.empty() && expiries_.begin()->first <= now) {
        const Key k = expiries_.begin()->second;
        const auto svc = services_.find(k.cs_id);
        // The sets mirror the table; a missing entry would be a bug here,
        // but never loop on it.
        if (svc == services_.end() || !svc->second.instances.contains(k.id)) {
            expiries_.erase(expiries_.begin());
            continue;
        }
        const std::uint32_t node = svc->second.instances.find(k.id)->second.node_id;
        remove(svc, svc->second.instances.find(k.id), ops);
        ++counters_.expired;
        note_event({k.cs_id, k.id, false, node,
                    "expired, node " + std::to_string(node) + " did not refresh it within its lifetime"});
    }
    return ops;
}

std::vector<mgmt::Op> Rib::flush(Time now) {
    std::vector<mgmt::Op> ops;
    while (!pending_.empty() && pending_.begin()->first <= now) {
        const Key k = pending_.begin()->second;
        const auto svc = services_.find(k.cs_id);
        if (svc == services_.end() || !svc->second.instances.contains(k.id)) {
            pending_.erase(pending_.begin());
            continue;
        }
        push_now(k, svc->second.instances.find(k.id)->second, now, ops);
        ++counters_.flushed;
    }
    return ops;
}

std::optional<Time> Rib::next_deadline() const {
    std::optional<Time> t;
    if (!expiries_.empty())
        t = expiries_.begin()->first;
    if (!pending_.empty() && (!t || pending_.begin()->first < *t))
        t = pending_.begin()->first;
    return t;
}

mgmt::InstanceRec Rib::to_rec(std::uint32_t id, const Inst& in) {
    mgmt::InstanceRec r;
    r.id = id;
    r.sids = in.sids;
    r.metrics = effective(in);
    return r;
}

mgmt::ServiceRec Rib::to_rec(std::uint32_t cs_id, const Svc& s) {
    mgmt::ServiceRec r;
    r.cs_id = cs_id;
    r.affinity_timeout_s = s.affinity_timeout_s;
    r.name = s.name;
    r.instances.reserve(s.instances.size());
    for (const auto& [id, in] : s.instances)
        r.instances.push_back(to_rec(id, in));
    return r;
}

mgmt::Batch Rib::snapshot() {
    mgmt::Batch b;
    b.replace_all = true;
    b.ops.reserve(services_.size());
    pending_.clear();
    for (auto& [cs_id, svc] : services_) {
        for (auto& [id, in] : svc.instances) {
            in.pending_due.reset();
            in.published = true;
            in.pub_sids = in.sids;
            in.pub_metrics = effective(in);
        }
        mgmt::Op op;
        op.type = mgmt::OpType::UpsertService;
        op.service = to_rec(cs_id, svc);
        b.ops.push_back(std::move(op));
    }
    ++counters_.snapshots;
    return b;
}

std::string Rib::cli_add(const ctl::InstanceArgs& a, Time now, std::vector<mgmt::Op>& ops) {
    if (a.sids.empty() || a.sids.size() > mgmt::kMaxSids)
        return "an instance needs 1.." + std::to_string(mgmt::kMaxSids) + " SIDs";
    const auto svc = services_.find(a.cs_id);
    if (svc != services_.end()) {
        if (const auto inst = svc->second.instances.find(a.id); inst != svc->second.instances.end())
            return key_text(a.cs_id, a.id) + " exists (" + owner_text(inst->second.origin, inst->second.node_id) +
                   "); use instance set to change it";
    }
    const Svc* existing = svc == services_.end() ? nullptr : &svc->second;
    if (const RecordError e = check_room(existing); e != RecordError::Ok) {
        ++counters_.rejected[static_cast<std::size_t>(e)];
        switch (e) {
        case RecordError::TooManyServices:
            return "policy.max_services (" + std::to_string(policy_.max_services) + ") reached";
        case RecordError::TooManyInstances:
            return "policy.max_instances (" + std::to_string(policy_.max_instances) + ") reached";
        default:
            return "service " + std::to_string(a.cs_id) + " already has " +
                   std::to_string(kMaxInstancesPerService) + " instances";
        }
    }
    const bool svc_is_new = svc == services_.end();
    Svc& s = svc_is_new ? create_service(a.cs_id, a.name.value_or("cs-" + std::to_string(a.cs_id))) : svc->second;
    Inst in;
    in.origin = Origin::Cli;
    in.sids = a.sids;
    apply(a.metrics, in.metrics);
    create_instance(a.cs_id, s, svc_is_new, a.id, std::move(in), now, ops);
    return {};
}

std::string Rib::cli_set(const ctl::InstanceArgs& a, Time now, std::vector<mgmt::Op>& ops) {
    const auto svc = services_.find(a.cs_id);
    if (svc == services_.end() || !svc->second.instances.contains(a.id))
        return key_text(a.cs_id, a.id) + " does not exist";
    Inst& in = svc->second.instances.find(a.id)->second;
    if (in.origin == Origin::Advert)
        return key_text(a.cs_id, a.id) + " is " + owner_text(in.origin, in.node_id) +
               ": its SIDs and metrics come from its adverts";
    std::vector<Sid> sids = a.sids.empty() ? in.sids : a.sids;
    mgmt::Metrics m = in.metrics;
    apply(a.metrics, m);
    update(Key{a.cs_id, a.id}, in, std::move(sids), m, true, now, ops);
    return {};
}

std::string Rib::cli_drain(std::uint32_t cs_id, std::uint32_t id, bool drain, Time now, std::vector<mgmt::Op>& ops) {
    const auto svc = services_.find(cs_id);
    if (svc == services_.end() || !svc->second.instances.contains(id))
        return key_text(cs_id, id) + " does not exist";
    Inst& in = svc->second.instances.find(id)->second;
    if (in.drained == drain)
        return {};
    in.drained = drain;
    update(Key{cs_id, id}, in, in.sids, in.metrics, true, now, ops);
    return {};
}

std::string Rib::Event::text() const {
    return key_text(cs_id, id) + (up ? " up: " : " down: ") + why;
}

void Rib::note_event(Event e) {
    // Bounded: a table-sized burst keeps its first events and a count.
    if (events_.list.size() < kMaxEvents)
        events_.list.push_back(std::move(e));
    else
        ++events_.left_out;
}

Rib::Events Rib::take_events() {
    return std::exchange(events_, Events{});
}

mgmt::Metrics Rib::effective(const Inst& in) noexcept {
    mgmt::Metrics m = in.metrics;
    if (in.drained)
        m.weight = 0;  // no new flows; pinned ones stay until they end
    return m;
}

std::string Rib::cli_del(std::uint32_t cs_id, std::uint32_t id, Time /*now*/, std::vector<mgmt::Op>& ops) {
    const auto svc = services_.find(cs_id);
    if (svc == services_.end() || !svc->second.instances.contains(id))
        return key_text(cs_id, id) + " does not exist";
    const auto inst = svc->second.instances.find(id);
    if (inst->second.origin == Origin::Advert)
        return key_text(cs_id, id) + " is " + owner_text(inst->second.origin, inst->second.node_id) +
               ": it goes when the node withdraws it or stops refreshing it";
    remove(svc, inst, ops);
    return {};
}

Json Rib::to_json(Time now) const {
    ctl::ServiceListArgs all;
    all.limit = UINT32_MAX;
    return to_json(now, all);
}

Json Rib::to_json(Time now, const ctl::ServiceListArgs& page) const {
    Json services = Json::array();
    std::size_t n_insts = 0;
    Json next = nullptr;
    auto it = page.after ? services_.upper_bound(*page.after) : services_.begin();
    for (; it != services_.end(); ++it) {
        const auto& [cs_id, svc] = *it;
        // Whole services only; one bigger than the page comes alone.
        if (!services.empty() && n_insts + svc.instances.size() > page.limit) {
            next = services.back()["cs_id"];
            break;
        }
        n_insts += svc.instances.size();
        Json insts = Json::array();
        for (const auto& [id, in] : svc.instances) {
            Json sids = Json::array();
            for (const Sid& s : in.sids)
                sids.push_back(ctl::format_sid(s));
            const char* state = "in_sync";
            if (!in.published)
                state = "not_pushed";
            else if (in.pending_due)
                state = "dampened";
            else if (in.sids != in.pub_sids || effective(in) != in.pub_metrics)
                state = "below_threshold";
            Json j = {{"id", id},
                      {"origin", origin_name(in.origin)},
                      {"sids", sids},
                      {"metrics", metrics_json(in.metrics)},
                      {"push_state", state}};
            if (in.origin == Origin::Advert)
                j["node_id"] = in.node_id;
            if (in.drained)
                j["drained"] = true;
            if (in.expires)
                j["expires_in_ms"] =
                    std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(*in.expires - now).count());
            insts.push_back(std::move(j));
        }
        services.push_back({{"cs_id", cs_id},
                            {"name", svc.name},
                            {"affinity_timeout_s", svc.affinity_timeout_s},
                            {"origin", svc.configured ? "static" : "dynamic"},
                            {"instances", std::move(insts)}});
    }
    return Json{{"services", std::move(services)},
                {"next", std::move(next)},
                {"total_services", services_.size()},
                {"total_instances", n_instances_}};
}

Json Rib::counters_json() const {
    Json rejected = Json::object();
    for (std::size_t i = 1; i < kRecordErrorNames.size(); ++i)
        rejected[kRecordErrorNames[i]] = counters_.rejected[i];
    return Json{{"services", services_.size()},
                {"instances", n_instances_},
                {"records_accepted", counters_.records_accepted},
                {"withdrawn", counters_.withdrawn},
                {"expired", counters_.expired},
                {"pushes", counters_.pushes},
                {"pushes_immediate", counters_.pushes_immediate},
                {"suppressed", counters_.suppressed},
                {"dampened", counters_.dampened},
                {"flushed", counters_.flushed},
                {"snapshots", counters_.snapshots},
                {"records_rejected", std::move(rejected)}};
}

}  // namespace cats::control
