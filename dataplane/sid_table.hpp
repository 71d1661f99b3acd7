// SPDX-License-Identifier: BSD-3-Clause
// The local SID table: the SRv6 endpoint behaviours of RFC 8986 4 that this
// engine runs for packets addressed to one of its SIDs (the egress side of
// a CATS path, draft-lbdd-cats-dp-sr). A SID is a /128, or a locator and
// function as a shorter prefix (any destination inside it, the bits past it
// being arguments); the longest SID that holds a destination wins.
//
//   End      SL > 0: next segment, FIB lookup      (RFC 8986 4.1)
//   End.X    SL > 0: next segment, to a next hop   (4.2)
//   End.DX6  SL = 0: decapsulate, to a next hop    (4.4)
//   End.DT6  SL = 0: decapsulate, FIB lookup       (4.6; the one FIB)
//
// No IPv4 forwarding exists here, so End.DX4 and End.DT4 do not either.
// A SID's next hop is a neighbor of the FIB (its /128: a static neighbor,
// or one on-link that NDP resolves), read per packet as the FIB's are.
//
// Published to the workers as immutable snapshots under RCU, as the
// service table is (service_table.hpp): a worker loads current() once per
// burst; the management thread builds a new snapshot, publishes it, waits
// for rte_rcu_qsbr_synchronize() and frees the old one.
//
// Thread safety: current() and SidSnapshot reads from any registered
// worker; every other member from the management thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "slot_pool.hpp"

struct rte_rcu_qsbr;

namespace cats::dp {

class Fib;

// What a worker reads of a SID: one line.
struct alignas(64) LocalSid {
    Ipv6Addr sid{};               // the prefix's network
    std::uint8_t len = 128;
    SidBehavior behavior = SidBehavior::End;
    std::uint32_t slot = 0;       // counter slot (SidCounters)
    std::uint64_t next_hop = 0;   // End.X, End.DX6: a Fib next hop (neighbor index + 1)
};

struct SidSnapshot {
    std::uint64_t version = 0;
    std::vector<LocalSid> sids;       // sorted by (address, length)
    // The SIDs' distinct lengths, longest first, with their masks of each
    // 8-byte half (in memory order).
    struct Length {
        std::uint64_t mask_hi, mask_lo;
        std::uint8_t len;
    };
    std::vector<Length> lengths;

    bool empty() const noexcept { return sids.empty(); }

    // The SID holding `dst`, longest first, or nullptr. One probe of an
    // open-addressing index per distinct SID length (usually one: /128s).
    const LocalSid* find(const std::uint8_t* dst) const noexcept {
        std::uint64_t hi, lo;
        std::memcpy(&hi, dst, 8);
        std::memcpy(&lo, dst + 8, 8);
        for (const Length& ln : lengths) {
            const std::uint64_t h = hi & ln.mask_hi, l = lo & ln.mask_lo;
            const std::uint8_t len = ln.len;
            for (std::uint32_t i = hash(h, l, len) & index_mask;; i = (i + 1) & index_mask) {
                const IndexSlot& s = index[i];
                if (s.sid == nullptr)
                    break;
                if (s.hi == h && s.lo == l && s.len == len)
                    return s.sid;
            }
        }
        return nullptr;
    }

    // Fill the index from `sids` (at most half full).
    void build_index();

    struct IndexSlot {
        std::uint64_t hi = 0, lo = 0;  // the SID's words, in memory order
        const LocalSid* sid = nullptr;
        std::uint8_t len = 0;
    };
    std::vector<IndexSlot> index{1};
    std::uint32_t index_mask = 0;

    // The first `len` bits of each 8-byte half, in memory order (the
    // address's first byte is the word's low byte on a little-endian host).
    static std::uint64_t mask_hi(std::uint8_t len) noexcept { return prefix_mask(len >= 64 ? 64 : len); }
    static std::uint64_t mask_lo(std::uint8_t len) noexcept { return prefix_mask(len <= 64 ? 0 : len - 64); }
    static std::uint64_t prefix_mask(unsigned bits) noexcept {
        if (bits == 0)
            return 0;
        const std::uint64_t be = ~std::uint64_t{0} << (64 - bits);  // big-endian value
        return __builtin_bswap64(be);
    }
    static std::uint32_t hash(std::uint64_t hi, std::uint64_t lo, std::uint8_t len) noexcept {
        std::uint64_t x = hi ^ (lo * 0x9E3779B97F4A7C15ull) ^ len;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        return static_cast<std::uint32_t>(x);
    }
};

class SidTable {
public:
    // `qsbr` may be null (no readers, as in unit tests): old snapshots are
    // then freed at once. The FIB resolves next hops.
    SidTable(const Fib& fib, rte_rcu_qsbr* qsbr, std::uint32_t max_sids = kMaxLocalSids);
    ~SidTable();
    SidTable(const SidTable&) = delete;
    SidTable& operator=(const SidTable&) = delete;

    const SidSnapshot* current() const noexcept { return current_.load(std::memory_order_acquire); }

    // Writer API: each returns the new version or throws
    // std::invalid_argument naming what is wrong; on error nothing changes.
    std::uint64_t replace_all(const std::vector<LocalSidConfig>& sids);
    // Adds a SID or replaces the one with the same prefix.
    std::uint64_t upsert(const LocalSidConfig& sid);
    std::uint64_t remove(const Ipv6Prefix& sid);

    using Key = std::pair<Ipv6Addr, std::uint8_t>;
    const std::map<Key, LocalSidConfig>& configs() const noexcept { return configs_; }
    std::uint32_t max_sids() const noexcept { return slots_.max(); }
    // The counter slot of a SID in the current snapshot, or -1.
    std::int64_t slot_of(const Ipv6Prefix& sid) const noexcept;

    // As ServiceTable::on_counter_reset(): slots that pass from a gone SID
    // to a new one, before the snapshot that uses them is published.
    using CounterReset = std::function<void(std::span<const std::uint32_t>)>;
    void on_counter_reset(CounterReset fn) { counter_reset_ = std::move(fn); }

private:
    void validate(const LocalSidConfig& c) const;
    std::uint64_t publish(std::map<Key, LocalSidConfig> next);

    const Fib& fib_;
    rte_rcu_qsbr* qsbr_;
    std::atomic<const SidSnapshot*> current_{nullptr};
    std::unique_ptr<const SidSnapshot> owned_;
    std::map<Key, LocalSidConfig> configs_;
    SlotPool<Key> slots_;
    CounterReset counter_reset_;
    std::uint64_t version_ = 0;
};

}  // namespace cats::dp
