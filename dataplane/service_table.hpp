// SPDX-License-Identifier: BSD-3-Clause
// The service route table: CS-ID -> instances, published to the workers as
// immutable snapshots under RCU (rte_rcu_qsbr).
//
// Workers load current() once per burst (acquire) and report a quiescent
// state once per loop. The management thread is the one writer: it builds a
// new snapshot (copy-on-write per service: unchanged services are shared),
// publishes it with a release store, waits for rte_rcu_qsbr_synchronize(),
// and only then frees what the old snapshot alone held.
//
// Thread safety: current() and Snapshot reads from any registered worker;
// every other member from the management thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fib.hpp"
#include "slot_pool.hpp"
#include "steer.hpp"

struct rte_rcu_qsbr;

namespace cats::dp {

inline constexpr std::uint32_t kMaxAffinityTimeoutS = 86400;

struct Snapshot {
    std::uint64_t version = 0;
    std::vector<std::uint32_t> cs_ids;                      // sorted
    std::vector<const Service*> services;                   // parallel to cs_ids
    std::vector<std::shared_ptr<const Service>> owners;     // keeps services alive
    // The longest outer header of any instance (Service::max_encap_len):
    // how far in front of a packet H.Encaps may write, which the workers
    // prefetch before they know where each packet goes.
    std::uint16_t max_encap_len = 0;

    // nullptr when the CS-ID is unknown. One probe of an open-addressing
    // index in the common case (the per-packet lookup).
    const Service* find(std::uint32_t cs_id) const noexcept {
        for (std::uint32_t i = index_hash(cs_id) & index_mask;; i = (i + 1) & index_mask) {
            const IndexSlot& s = index[i];
            if (s.service == nullptr || s.cs_id == cs_id)
                return s.service;
        }
    }
    // Fill the index from cs_ids/services (at most half full).
    void build_index();

    struct IndexSlot {
        std::uint32_t cs_id = 0;
        const Service* service = nullptr;
    };
    std::vector<IndexSlot> index{1};
    std::uint32_t index_mask = 0;

    static constexpr std::uint32_t index_hash(std::uint32_t x) noexcept {
        x ^= x >> 16;
        x *= 0x7feb352dU;
        x ^= x >> 15;
        x *= 0x846ca68bU;
        return x ^ (x >> 16);
    }
};

struct EncapParams {
    Ipv6Addr source{};
    EncapMode mode = EncapMode::Encaps;
    std::uint8_t hop_limit = 64;
};

class ServiceTable {
public:
    // `port_macs[port_id]` is each port's MAC; `qsbr` may be null (no
    // readers yet, as in unit tests), then old snapshots are freed at once.
    ServiceTable(EncapParams encap, const Fib& fib, std::vector<MacAddr> port_macs,
                 rte_rcu_qsbr* qsbr, std::uint32_t max_services, std::uint32_t max_instances);
    ~ServiceTable();
    ServiceTable(const ServiceTable&) = delete;
    ServiceTable& operator=(const ServiceTable&) = delete;

    const Snapshot* current() const noexcept { return current_.load(std::memory_order_acquire); }

    // Writer API. Each returns the new table version or throws
    // std::invalid_argument naming what is wrong; on error nothing changes.
    std::uint64_t replace_all(const std::vector<ServiceConfig>& services);
    std::uint64_t upsert_service(const ServiceConfig& svc);
    std::uint64_t remove_service(std::uint32_t cs_id);
    std::uint64_t upsert_instance(std::uint32_t cs_id, const InstanceConfig& inst);
    std::uint64_t remove_instance(std::uint32_t cs_id, std::uint32_t instance_id);
    // Many edits as one version: `next` is the whole new table, `changed`
    // the CS-IDs that differ from configs() (nullptr: rebuild all). Every
    // changed service is validated first.
    std::uint64_t commit(std::map<std::uint32_t, ServiceConfig> next, const std::set<std::uint32_t>* changed);
    // The same for a batch of edits, copying nothing it does not touch:
    // `changes` holds each CS-ID that differs from configs(), with its new
    // config, or nullopt when the service is gone. Every changed service is
    // validated first; on error nothing changes.
    using Changes = std::map<std::uint32_t, std::optional<ServiceConfig>>;
    std::uint64_t commit_changes(Changes changes);
    // The same services built again: after a neighbor's MAC or state changed
    // (the encapsulation templates carry the next hop's MAC).
    std::uint64_t rebuild();

    // The config each service was built from (for listings and resync).
    const std::map<std::uint32_t, ServiceConfig>& configs() const noexcept { return configs_; }
    std::uint32_t max_services() const noexcept { return service_slots_.max(); }
    std::uint32_t max_instances() const noexcept { return instance_slots_.max(); }

    // Counter slots (Service::slot, Instance::slot) pass from a key that is
    // gone to a new one once every slot has been handed out (slot_pool.hpp).
    // `fn` is called with those slots, services then instances, before the
    // snapshot that uses them is published, when no worker writes them: the
    // owner of the counters zeroes them there.
    using CounterReset = std::function<void(std::span<const std::uint32_t>, std::span<const std::uint32_t>)>;
    void on_counter_reset(CounterReset fn) { counter_reset_ = std::move(fn); }

private:
    std::shared_ptr<const Service> build(const ServiceConfig& sc);
    std::uint32_t service_slot(std::uint32_t cs_id);
    std::uint32_t instance_slot(std::uint32_t cs_id, std::uint32_t id);
    // One service of the table being published; `changed`: built again,
    // otherwise shared with the current snapshot when it is there.
    struct Entry {
        std::uint32_t cs_id;
        const ServiceConfig* config;
        bool changed;
    };
    // Builds and publishes `next` (sorted by CS-ID); configs_ is the
    // caller's to update, once this has returned (nothing may throw then).
    std::uint64_t publish(const std::vector<Entry>& next);
    std::uint64_t publish(std::map<std::uint32_t, ServiceConfig> next,
                          const std::set<std::uint32_t>* changed);

    EncapParams encap_;
    const Fib& fib_;
    std::vector<MacAddr> port_macs_;
    rte_rcu_qsbr* qsbr_;
    std::atomic<const Snapshot*> current_{nullptr};
    std::unique_ptr<const Snapshot> owned_;
    std::map<std::uint32_t, ServiceConfig> configs_;
    SlotPool<std::uint32_t> service_slots_;                            // by CS-ID
    SlotPool<std::pair<std::uint32_t, std::uint32_t>> instance_slots_;  // by (CS-ID, id)
    CounterReset counter_reset_;
    std::uint64_t version_ = 0;
};

// Validate one service as the config loader does (ids unique, 1..5 SIDs);
// throws std::invalid_argument naming the field.
void validate_service(const ServiceConfig& sc);

}  // namespace cats::dp
