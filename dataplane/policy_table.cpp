// SPDX-License-Identifier: BSD-3-Clause
#include "policy_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <algorithm>
#include <stdexcept>

namespace cats::dp {

PolicyTable::PolicyTable(const std::string& name, std::uint32_t capacity, int socket_id)
    : capacity_(capacity), entries_(std::make_unique<PolicyEntry[]>(capacity)) {
    rte_hash_parameters p{};
    p.name = name.c_str();
    // rte_hash wants a bucket's worth at least; positions past `capacity`
    // are refused below.
    p.entries = std::max<std::uint32_t>(capacity, 8);
    p.key_len = sizeof(PolicyKey);
    p.hash_func = rte_hash_crc;
    p.socket_id = socket_id;
    // One thread adds and looks up (the worker); no concurrency flags.
    hash_ = rte_hash_create(&p);
    if (hash_ == nullptr)
        throw std::runtime_error("policy table " + name + ": rte_hash_create: " + rte_strerror(rte_errno));
}

PolicyTable::~PolicyTable() { rte_hash_free(hash_); }

std::int32_t PolicyTable::find_or_add(const PolicyKey& k) noexcept {
    const std::int32_t pos = rte_hash_lookup(hash_, &k);
    if (pos >= 0)
        return pos;
    const std::int32_t added = rte_hash_add_key(hash_, &k);
    if (added < 0)
        return -1;
    // rte_hash rounds its key store up: positions past our array stay out.
    if (static_cast<std::uint32_t>(added) >= capacity_) [[unlikely]] {
        rte_hash_del_key(hash_, &k);
        return -1;
    }
    PolicyEntry& e = entries_[static_cast<std::uint32_t>(added)];
    e.key = k;
    e.valid.store(1, std::memory_order_release);
    return added;
}

}  // namespace cats::dp
