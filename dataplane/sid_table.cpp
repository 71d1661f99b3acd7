// SPDX-License-Identifier: BSD-3-Clause
#include "sid_table.hpp"

#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <bit>
#include <set>
#include <stdexcept>

#include "fib.hpp"

namespace cats::dp {

void SidSnapshot::build_index() {
    const std::size_t size = std::bit_ceil(std::max<std::size_t>(2 * sids.size(), 2));
    index.assign(size, IndexSlot{});
    index_mask = static_cast<std::uint32_t>(size - 1);
    std::set<std::uint8_t, std::greater<>> lens;
    for (const LocalSid& s : sids) {
        lens.insert(s.len);
        IndexSlot slot;
        std::memcpy(&slot.hi, s.sid.data(), 8);
        std::memcpy(&slot.lo, s.sid.data() + 8, 8);
        slot.len = s.len;
        slot.sid = &s;
        std::uint32_t i = hash(slot.hi, slot.lo, s.len) & index_mask;
        while (index[i].sid != nullptr)
            i = (i + 1) & index_mask;
        index[i] = slot;
    }
    lengths.clear();
    for (const std::uint8_t len : lens)
        lengths.push_back({mask_hi(len), mask_lo(len), len});
}

SidTable::SidTable(const Fib& fib, rte_rcu_qsbr* qsbr, std::uint32_t max_sids)
    : fib_(fib), qsbr_(qsbr), slots_(max_sids) {
    auto empty = std::make_unique<SidSnapshot>();
    empty->build_index();
    current_.store(empty.get(), std::memory_order_release);
    owned_ = std::move(empty);
}

SidTable::~SidTable() = default;

std::int64_t SidTable::slot_of(const Ipv6Prefix& sid) const noexcept {
    for (const LocalSid& s : current()->sids)
        if (s.sid == sid.addr && s.len == sid.len)
            return s.slot;
    return -1;
}

void SidTable::validate(const LocalSidConfig& c) const {
    const std::string name = "sid " + format_sid(c.sid);
    if (network_of(c.sid) != c.sid.addr)
        throw std::invalid_argument(name + ": host bits set (did you mean " +
                                    format_sid({network_of(c.sid), c.sid.len}) + "?)");
    if (c.sid.len < 16)
        throw std::invalid_argument(name + ": a SID is at least a /16 (a locator and a function)");
    if (c.sid.addr[0] == 0xFF || (c.sid.addr[0] == 0xFE && (c.sid.addr[1] & 0xC0) == 0x80))
        throw std::invalid_argument(name + ": a SID is a global or unique-local address, not multicast or link-local");
    const std::string_view b = sid_behavior_name(c.behavior);
    if (needs_next_hop(c.behavior)) {
        if (!c.next_hop)
            throw std::invalid_argument(name + ": " + std::string(b) + " needs a next_hop");
        if (fib_.lookup(*c.next_hop) < 0)
            throw std::invalid_argument(name + ": next_hop " + format_ipv6(*c.next_hop) +
                                        " is no neighbor the FIB reaches (a static neighbor, or a route's "
                                        "next hop)");
    } else if (c.next_hop) {
        throw std::invalid_argument(name + ": " + std::string(b) + " takes no next_hop (" +
                                    (c.behavior == SidBehavior::End ? "End.X" : "End.DX6") + " does)");
    }
}

std::uint64_t SidTable::replace_all(const std::vector<LocalSidConfig>& sids) {
    std::map<Key, LocalSidConfig> next;
    for (const LocalSidConfig& c : sids) {
        validate(c);
        if (!next.emplace(Key{c.sid.addr, c.sid.len}, c).second)
            throw std::invalid_argument("sid " + format_sid(c.sid) + ": duplicate");
    }
    return publish(std::move(next));
}

std::uint64_t SidTable::upsert(const LocalSidConfig& c) {
    validate(c);
    auto next = configs_;
    next[Key{c.sid.addr, c.sid.len}] = c;
    return publish(std::move(next));
}

std::uint64_t SidTable::remove(const Ipv6Prefix& sid) {
    auto next = configs_;
    if (next.erase(Key{sid.addr, sid.len}) == 0)
        throw std::invalid_argument("sid " + format_sid(sid) + ": not found");
    return publish(std::move(next));
}

std::uint64_t SidTable::publish(std::map<Key, LocalSidConfig> next) {
    if (next.size() > slots_.max())
        throw std::invalid_argument(std::to_string(next.size()) + " SIDs, at most " + std::to_string(slots_.max()));
    auto snap = std::make_unique<SidSnapshot>();
    snap->version = version_ + 1;
    const SidSnapshot* old = owned_.get();
    slots_.begin();
    snap->sids.reserve(next.size());
    for (const auto& [key, c] : next) {
        const auto slot = slots_.stage(key, [old](std::uint32_t s) {
            return std::any_of(old->sids.begin(), old->sids.end(), [s](const LocalSid& l) { return l.slot == s; });
        });
        if (!slot)
            throw std::invalid_argument("sid " + format_sid(c.sid) + ": no counter slot left");
        LocalSid s;
        s.sid = c.sid.addr;
        s.len = c.sid.len;
        s.behavior = c.behavior;
        s.slot = *slot;
        if (c.next_hop)
            s.next_hop = static_cast<std::uint64_t>(fib_.lookup(*c.next_hop)) + 1;
        snap->sids.push_back(s);
    }
    snap->build_index();
    std::vector<std::uint32_t> reset;
    reset.reserve(slots_.staged_resets());
    slots_.commit(reset);
    if (counter_reset_ && !reset.empty())
        counter_reset_(reset);
    current_.store(snap.get(), std::memory_order_release);
    if (qsbr_ != nullptr)
        rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    owned_ = std::move(snap);
    configs_ = std::move(next);
    return ++version_;
}

}  // namespace cats::dp
