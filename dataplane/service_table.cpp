// SPDX-License-Identifier: BSD-3-Clause
#include "service_table.hpp"

#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace cats::dp {

void Snapshot::build_index() {
    std::size_t size = 16;
    while (size < 2 * cs_ids.size())
        size <<= 1;
    index.assign(size, IndexSlot{});
    index_mask = static_cast<std::uint32_t>(size - 1);
    for (std::size_t k = 0; k < cs_ids.size(); ++k) {
        std::uint32_t i = index_hash(cs_ids[k]) & index_mask;
        while (index[i].service != nullptr)
            i = (i + 1) & index_mask;
        index[i] = IndexSlot{cs_ids[k], services[k]};
    }
}

void validate_service(const ServiceConfig& sc) {
    const std::string where = "service " + std::to_string(sc.cs_id);
    if (sc.instances.size() > kMaxInstancesPerService)
        throw std::invalid_argument(where + ": more than " + std::to_string(kMaxInstancesPerService) +
                                    " instances");
    if (sc.affinity_timeout_s == 0 || sc.affinity_timeout_s > kMaxAffinityTimeoutS)
        throw std::invalid_argument(where + ": affinity_timeout_s must be 1.." +
                                    std::to_string(kMaxAffinityTimeoutS));
    std::set<std::uint32_t> ids;
    for (const InstanceConfig& ic : sc.instances) {
        const std::string iw = where + " instance " + std::to_string(ic.id);
        if (!ids.insert(ic.id).second)
            throw std::invalid_argument(iw + ": duplicate instance id");
        if (ic.sids.empty() || ic.sids.size() > kMaxSids)
            throw std::invalid_argument(iw + ": sids must hold 1.." + std::to_string(kMaxSids) + " SIDs");
        if (ic.metrics.score > wire::kMaxScore)
            throw std::invalid_argument(iw + ": score must be 0..10");
        if (ic.metrics.load_pct > 100)
            throw std::invalid_argument(iw + ": load_pct must be 0..100");
        if ((ic.metrics.compute_types & ~wire::kComputeAll) != 0)
            throw std::invalid_argument(iw + ": compute_types has unknown bits");
        if (ic.metrics.weight > 1000000)
            throw std::invalid_argument(iw + ": weight must be 0..1000000");
    }
}

ServiceTable::ServiceTable(EncapParams encap, const Fib& fib, std::vector<MacAddr> port_macs,
                           rte_rcu_qsbr* qsbr, std::uint32_t max_services, std::uint32_t max_instances)
    : encap_(encap), fib_(fib), port_macs_(std::move(port_macs)), qsbr_(qsbr), service_slots_(max_services),
      instance_slots_(max_instances) {
    owned_ = std::make_unique<Snapshot>();
    current_.store(owned_.get(), std::memory_order_release);
}

ServiceTable::~ServiceTable() = default;

namespace {

// SlotPool::stage()'s `live`: the slots `mark` sets, built on first use
// (SlotPool asks only once every slot has been handed out).
template <class Mark>
auto live_slots(std::uint32_t max, Mark mark) {
    return [max, mark, used = std::vector<bool>()](std::uint32_t s) mutable {
        if (used.empty()) {
            used.assign(max, false);
            mark(used);
        }
        return static_cast<bool>(used[s]);
    };
}

}  // namespace

// Slots are staged while a snapshot is built and kept only when it is
// published, so a refused update uses none. A slot the published snapshot
// does not use may go to a new key (SlotPool).
std::uint32_t ServiceTable::service_slot(std::uint32_t cs_id) {
    const auto slot = service_slots_.stage(cs_id, live_slots(service_slots_.max(), [this](std::vector<bool>& used) {
        for (const Service* sv : owned_->services)
            used[sv->slot] = true;
    }));
    if (!slot)
        throw std::invalid_argument("service " + std::to_string(cs_id) + ": gateway.max_services (" +
                                    std::to_string(service_slots_.max()) + ") reached");
    return *slot;
}

std::uint32_t ServiceTable::instance_slot(std::uint32_t cs_id, std::uint32_t id) {
    const auto slot =
        instance_slots_.stage({cs_id, id}, live_slots(instance_slots_.max(), [this](std::vector<bool>& used) {
            for (const Service* sv : owned_->services)
                for (const Instance& in : sv->instances)
                    used[in.slot] = true;
        }));
    if (!slot)
        throw std::invalid_argument("service " + std::to_string(cs_id) + " instance " + std::to_string(id) +
                                    ": gateway.max_instances (" + std::to_string(instance_slots_.max()) +
                                    ") reached");
    return *slot;
}

std::shared_ptr<const Service> ServiceTable::build(const ServiceConfig& sc) {
    auto svc = std::make_shared<Service>();
    svc->cs_id = sc.cs_id;
    svc->slot = service_slot(sc.cs_id);
    svc->affinity_timeout_ms = sc.affinity_timeout_s * 1000;
    svc->name = sc.name;
    svc->instances.reserve(sc.instances.size());
    for (const InstanceConfig& ic : sc.instances) {
        Instance in;
        in.id = ic.id;
        in.slot = instance_slot(sc.cs_id, ic.id);
        set_metrics(in, ic.metrics);
        in.seed = instance_seed(sc.cs_id, ic.id);
        in.n_sids = static_cast<std::uint8_t>(ic.sids.size());
        std::copy(ic.sids.begin(), ic.sids.end(), in.sids.begin());
        // Resolve the first SID once per table change, not per packet.
        // The neighbor's MAC as NDP knows it now: a change of it rebuilds
        // the table (rebuild()).
        const int nbr = fib_.lookup(ic.sids[0]);
        if (nbr >= 0) {
            const auto i = static_cast<std::size_t>(nbr);
            const Neighbor& n = fib_.neighbor(i);
            in.port_id = n.port_id;
            if (const std::optional<MacAddr> mac = fib_.resolved_mac(i)) {
                in.resolved = true;
                in.unresolved = Unresolved::None;
                build_encap_template(in.encap, port_macs_.at(n.port_id), *mac, encap_.source,
                                     std::span<const Ipv6Addr>(ic.sids), encap_.mode, encap_.hop_limit);
            } else {
                in.unresolved = fib_.failed(i) ? Unresolved::NeighborFailed : Unresolved::NeighborIncomplete;
                svc->neighbor_failed = true;
            }
        }
        svc->max_encap_len = std::max(svc->max_encap_len, in.encap.len);
        svc->instances.push_back(in);
    }
    set_floor(*svc);
    return svc;
}

std::uint64_t ServiceTable::publish(std::map<std::uint32_t, ServiceConfig> next,
                                    const std::set<std::uint32_t>* changed) {
    std::vector<Entry> view;
    view.reserve(next.size());
    for (const auto& [cs_id, sc] : next)
        view.push_back({cs_id, &sc, changed == nullptr || changed->contains(cs_id)});
    const std::uint64_t v = publish(view);
    configs_ = std::move(next);
    return v;
}

std::uint64_t ServiceTable::commit_changes(Changes changes) {
    for (const auto& [cs_id, sc] : changes)
        if (sc)
            validate_service(*sc);
    // The new services move into nodes of their own now, so that they join
    // configs_ after publishing without an allocation (map::merge).
    std::map<std::uint32_t, ServiceConfig> added;
    for (auto& [cs_id, sc] : changes)
        if (sc && !configs_.contains(cs_id))
            added.emplace(cs_id, std::move(*sc));
    // The table as it will be: configs_ with the changes laid over it,
    // merged in CS-ID order.
    std::vector<Entry> view;
    view.reserve(configs_.size() + added.size());
    auto c = configs_.begin();
    auto a = added.begin();
    while (c != configs_.end() || a != added.end()) {
        if (a == added.end() || (c != configs_.end() && c->first < a->first)) {
            const auto ch = changes.find(c->first);
            if (ch == changes.end())
                view.push_back({c->first, &c->second, false});
            else if (ch->second)
                view.push_back({c->first, &*ch->second, true});
            ++c;
        } else {
            view.push_back({a->first, &a->second, true});
            ++a;
        }
    }
    const std::uint64_t v = publish(view);
    // Published: the configs follow, with moves, erases and a merge only.
    for (auto& [cs_id, sc] : changes) {
        const auto it = configs_.find(cs_id);
        if (it == configs_.end())
            continue;  // in `added`
        if (sc)
            it->second = std::move(*sc);
        else
            configs_.erase(it);
    }
    configs_.merge(added);
    return v;
}

std::uint64_t ServiceTable::publish(const std::vector<Entry>& next) {
    auto snap = std::make_unique<Snapshot>();
    snap->version = version_ + 1;
    const Snapshot* old = owned_.get();
    // Build first: any throw leaves the current table (and slots) untouched.
    service_slots_.begin();
    instance_slots_.begin();
    snap->cs_ids.reserve(next.size());
    snap->services.reserve(next.size());
    snap->owners.reserve(next.size());
    for (const auto& [cs_id, sc_ptr, changed] : next) {
        const ServiceConfig& sc = *sc_ptr;
        std::shared_ptr<const Service> svc;
        if (!changed && old->find(cs_id) != nullptr) {
            // Unchanged: share it with the old snapshot (copy-on-write).
            const auto idx = static_cast<std::size_t>(
                std::lower_bound(old->cs_ids.begin(), old->cs_ids.end(), cs_id) - old->cs_ids.begin());
            svc = old->owners[idx];
        }
        if (!svc)
            svc = build(sc);
        snap->max_encap_len = std::max(snap->max_encap_len, svc->max_encap_len);
        snap->cs_ids.push_back(cs_id);
        snap->services.push_back(svc.get());
        snap->owners.push_back(std::move(svc));
    }
    snap->build_index();
    // The last allocations; from here on nothing throws.
    std::vector<std::uint32_t> reset_services, reset_instances;
    reset_services.reserve(service_slots_.staged_resets());
    reset_instances.reserve(instance_slots_.staged_resets());
    service_slots_.commit(reset_services);
    instance_slots_.commit(reset_instances);
    // Slots of gone keys: no snapshot a worker can hold uses them (the last
    // publish waited for the one before), so their counters are quiet.
    if (counter_reset_ && (!reset_services.empty() || !reset_instances.empty()))
        counter_reset_(reset_services, reset_instances);
    current_.store(snap.get(), std::memory_order_release);
    // Wait until no worker can still hold the old snapshot, then free it.
    if (qsbr_ != nullptr)
        rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    owned_ = std::move(snap);
    return ++version_;
}

std::uint64_t ServiceTable::replace_all(const std::vector<ServiceConfig>& services) {
    std::map<std::uint32_t, ServiceConfig> next;
    for (const ServiceConfig& sc : services) {
        validate_service(sc);
        if (!next.emplace(sc.cs_id, sc).second)
            throw std::invalid_argument("service " + std::to_string(sc.cs_id) + ": duplicate cs_id");
    }
    return publish(std::move(next), nullptr);
}

std::uint64_t ServiceTable::rebuild() {
    return publish(configs_, nullptr);
}

std::uint64_t ServiceTable::upsert_service(const ServiceConfig& sc) {
    validate_service(sc);
    auto next = configs_;
    next[sc.cs_id] = sc;
    const std::set<std::uint32_t> changed{sc.cs_id};
    return publish(std::move(next), &changed);
}

std::uint64_t ServiceTable::remove_service(std::uint32_t cs_id) {
    auto next = configs_;
    if (next.erase(cs_id) == 0)
        throw std::invalid_argument("service " + std::to_string(cs_id) + ": not found");
    const std::set<std::uint32_t> changed{cs_id};
    return publish(std::move(next), &changed);
}

std::uint64_t ServiceTable::commit(std::map<std::uint32_t, ServiceConfig> next,
                                   const std::set<std::uint32_t>* changed) {
    for (const auto& [cs_id, sc] : next)
        if (changed == nullptr || changed->contains(cs_id))
            validate_service(sc);
    return publish(std::move(next), changed);
}

std::uint64_t ServiceTable::upsert_instance(std::uint32_t cs_id, const InstanceConfig& inst) {
    auto it = configs_.find(cs_id);
    if (it == configs_.end())
        throw std::invalid_argument("service " + std::to_string(cs_id) + ": not found");
    ServiceConfig sc = it->second;
    auto pos = std::find_if(sc.instances.begin(), sc.instances.end(),
                            [&](const InstanceConfig& i) { return i.id == inst.id; });
    if (pos != sc.instances.end())
        *pos = inst;
    else
        sc.instances.push_back(inst);
    return upsert_service(sc);
}

std::uint64_t ServiceTable::remove_instance(std::uint32_t cs_id, std::uint32_t instance_id) {
    auto it = configs_.find(cs_id);
    if (it == configs_.end())
        throw std::invalid_argument("service " + std::to_string(cs_id) + ": not found");
    ServiceConfig sc = it->second;
    const auto before = sc.instances.size();
    std::erase_if(sc.instances, [&](const InstanceConfig& i) { return i.id == instance_id; });
    if (sc.instances.size() == before)
        throw std::invalid_argument("service " + std::to_string(cs_id) + " instance " +
                                    std::to_string(instance_id) + ": not found");
    return upsert_service(sc);
}

}  // namespace cats::dp
