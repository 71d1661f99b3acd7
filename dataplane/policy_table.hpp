// SPDX-License-Identifier: BSD-3-Clause
// Per received policy accounting at the egress (draft-lbdd-cats-dp-sr):
// packets and bytes per (outer source address, local SID), one bounded
// table per worker. What does not fit is counted (overflow), never
// dropped: accounting must not cost traffic.
//
// Bytes are those of the steered packet, the inner IPv6 packet (the
// outer headers excluded), so that they compare with the ingress's
// per-instance `ip_bytes` (stats.hpp) of the same flows.
//
// The worker is the only writer: an rte_hash (no concurrency flags, only
// its worker touches it) gives each key a position in a flat array of
// entries, whose key is written before its `valid` flag is released. The
// management thread reads the array, never the hash. Entries stay until the
// process ends (a SID that comes back keeps its counts), so a cached
// position never goes stale.
//
// Thread safety: count() from the owning worker; entries() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "stats.hpp"

struct rte_hash;

namespace cats::dp {

struct PolicyKey {
    std::uint8_t source[16];
    std::uint8_t sid[16];  // the SID's network
    std::uint8_t sid_len;
    std::uint8_t pad[3];
};
static_assert(sizeof(PolicyKey) == 36);

struct PolicyEntry {
    PolicyKey key{};
    std::atomic<std::uint8_t> valid{0};
    Counter packets;
    Counter bytes;
};

class PolicyTable {
public:
    // Throws std::runtime_error when the hash cannot be created.
    PolicyTable(const std::string& name, std::uint32_t capacity, int socket_id);
    ~PolicyTable();
    PolicyTable(const PolicyTable&) = delete;
    PolicyTable& operator=(const PolicyTable&) = delete;

    // One packet of `bytes` from `source` to the SID (network, length).
    // A direct-mapped cache of recent keys (compared as 8-byte words, no
    // call) spares the hash lookup: a burst comes from few ingresses.
    void count(const std::uint8_t* source, const std::uint8_t* sid, std::uint8_t sid_len,
               std::uint32_t bytes) noexcept {
        std::uint64_t w[4];
        std::memcpy(&w[0], source, 8);
        std::memcpy(&w[1], source + 8, 8);
        std::memcpy(&w[2], sid, 8);
        std::memcpy(&w[3], sid + 8, 8);
        const std::uint64_t mix = (w[0] ^ w[1] ^ w[3] ^ sid_len) * 0x9E3779B97F4A7C15ull;
        CacheSlot& cs = cache_[mix >> (64 - kCacheBits)];
        if (cs.w[0] != w[0] || cs.w[1] != w[1] || cs.w[2] != w[2] || cs.w[3] != w[3] || cs.len != sid_len ||
            cs.pos < 0) [[unlikely]] {
            PolicyKey k;
            std::memcpy(k.source, source, 16);
            std::memcpy(k.sid, sid, 16);
            k.sid_len = sid_len;
            k.pad[0] = k.pad[1] = k.pad[2] = 0;
            const std::int32_t pos = find_or_add(k);
            if (pos < 0) {
                overflow_.add();
                return;
            }
            std::memcpy(cs.w, w, sizeof w);
            cs.len = sid_len;
            cs.pos = pos;
        }
        PolicyEntry& e = entries_[cs.pos];
        e.packets.add();
        e.bytes.add(bytes);
    }

    std::uint32_t capacity() const noexcept { return capacity_; }
    const PolicyEntry& entry(std::uint32_t i) const noexcept { return entries_[i]; }
    // Packets not counted per policy: the table was full.
    std::uint64_t overflow() const noexcept { return overflow_.get(); }

private:
    std::int32_t find_or_add(const PolicyKey& k) noexcept;

    static constexpr unsigned kCacheBits = 6;
    struct CacheSlot {
        std::uint64_t w[4] = {};  // source, SID: as in memory
        std::uint8_t len = 0;
        std::int32_t pos = -1;    // in entries_; -1: empty
    };

    rte_hash* hash_ = nullptr;
    std::uint32_t capacity_;
    std::unique_ptr<PolicyEntry[]> entries_;
    CacheSlot cache_[1u << kCacheBits];
    Counter overflow_;
};

}  // namespace cats::dp
