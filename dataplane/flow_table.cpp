// SPDX-License-Identifier: BSD-3-Clause
#include "flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#include <cstring>
#include <stdexcept>

namespace cats::dp {

FlowTable::FlowTable(const std::string& name, std::uint32_t capacity, int socket_id)
    : capacity_(capacity) {
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = capacity;
    p.key_len = sizeof(FlowKey);
    p.hash_func = rte_hash_crc;
    p.hash_func_init_val = 0;
    p.socket_id = socket_id;
    // Lock-free readers (management thread) beside one writer (the worker).
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    h_ = rte_hash_create(&p);
    if (h_ == nullptr)
        throw std::runtime_error("flow table " + name + ": rte_hash_create: " + rte_strerror(rte_errno));
    entries_ = static_cast<FlowEntry*>(
        rte_zmalloc_socket("flow_entries", sizeof(FlowEntry) * capacity, 64, socket_id));
    if (entries_ == nullptr) {
        rte_hash_free(h_);
        throw std::runtime_error("flow table " + name + ": out of memory for " +
                                 std::to_string(capacity) + " entries");
    }
}

FlowTable::~FlowTable() {
    rte_free(entries_);
    rte_hash_free(h_);
}

void FlowTable::lookup_bulk(const void** keys, const std::uint32_t* sigs, unsigned n,
                            std::int32_t* positions) const noexcept {
    rte_hash_lookup_with_hash_bulk(h_, keys, const_cast<std::uint32_t*>(sigs), n, positions);
}

std::int32_t FlowTable::lookup(const FlowKey& k, std::uint32_t sig) const noexcept {
    return rte_hash_lookup_with_hash(h_, &k, sig);
}

std::int32_t FlowTable::add(const FlowKey& k, std::uint32_t sig) noexcept {
    const std::int32_t pos = rte_hash_add_key_with_hash(h_, &k, sig);
    // rte_hash sizes its key store to a power of two and more; positions past
    // our entry array cannot be pinned.
    if (pos >= 0 && static_cast<std::uint32_t>(pos) >= capacity_) [[unlikely]] {
        rte_hash_del_key_with_hash(h_, &k, sig);
        rte_hash_free_key_with_position(h_, pos);
        return -ENOSPC;
    }
    return pos;
}

void FlowTable::remove(std::int32_t pos) noexcept {
    store_entry(pos, FlowEntry{});
    FlowKey k;
    if (!key_at(pos, k))
        return;
    // The signature the key was added with (hash() is rte_hash_crc()'s
    // value): rte_hash_del_key() would compute it once more, choosing its
    // CRC implementation at run time for each 8 bytes. (key_at() has
    // rte_hash hash it once already, to check the position.)
    const std::int32_t r = rte_hash_del_key_with_hash(h_, &k, hash(k));
    // With RW_CONCURRENCY_LF the slot is freed by us, not by the delete; the
    // owning worker is the only reader that looks keys up, and read_flow()
    // tells a reused slot by the entry rewritten above.
    if (r >= 0)
        rte_hash_free_key_with_position(h_, r);
}

bool FlowTable::remove(const FlowKey& k, std::uint32_t sig) noexcept {
    const std::int32_t r = rte_hash_del_key_with_hash(h_, &k, sig);
    if (r < 0)
        return false;
    store_entry(r, FlowEntry{});
    rte_hash_free_key_with_position(h_, r);
    return true;
}

bool FlowTable::key_at(std::int32_t pos, FlowKey& out) const noexcept {
    void* key = nullptr;
    if (rte_hash_get_key_with_position(h_, pos, &key) != 0 || key == nullptr)
        return false;
    std::memcpy(&out, key, sizeof out);
    return true;
}

bool FlowTable::load(std::int32_t pos, FlowEntry& out, std::uint8_t& gen) const noexcept {
    // atomic_ref<const T> comes with C++26; these only load.
    FlowEntry& e = entries_[pos];
    constexpr auto r = std::memory_order_relaxed;
    gen = std::atomic_ref<std::uint8_t>(e.gen).load(std::memory_order_acquire);
    out.cs_id = std::atomic_ref<std::uint32_t>(e.cs_id).load(r);
    out.instance_id = std::atomic_ref<std::uint32_t>(e.instance_id).load(r);
    out.last_seen_ms = std::atomic_ref<std::uint32_t>(e.last_seen_ms).load(r);
    out.index_hint = std::atomic_ref<std::uint16_t>(e.index_hint).load(r);
    out.flags = std::atomic_ref<std::uint8_t>(e.flags).load(r);
    out.gen = gen;
    std::atomic_thread_fence(std::memory_order_acquire);
    return (gen & 1) == 0 && std::atomic_ref<std::uint8_t>(e.gen).load(r) == gen;
}

FlowTable::Read FlowTable::read_flow(std::int32_t pos, FlowKey& key, FlowEntry& fe) const noexcept {
    std::uint8_t gen = 0;
    if (!load(pos, fe, gen))
        return Read::Changed;
    if (!(fe.flags & kFlowValid))
        return Read::Empty;
    // The key read may race with the slot's reuse by another flow. A
    // removal rewrites the entry before it frees the key's slot, so a key
    // read while `gen` stays put is this entry's.
    if (!key_at(pos, key))
        return Read::Changed;
    std::atomic_thread_fence(std::memory_order_acquire);
    return std::atomic_ref<std::uint8_t>(entries_[pos].gen).load(std::memory_order_relaxed) == gen ? Read::Ok
                                                                                                  : Read::Changed;
}

std::uint32_t FlowTable::count() const noexcept {
    const std::int32_t c = rte_hash_count(h_);
    return c < 0 ? 0 : static_cast<std::uint32_t>(c);
}

}  // namespace cats::dp
