// SPDX-License-Identifier: BSD-3-Clause
// The affinity table: flow -> pinned instance, one table per worker.
//
// Each worker owns its table (RSS keeps a flow on one queue, see README
// "Affinity and RSS"), so the worker is the table's only writer and the fast
// path takes no lock. The table is an rte_hash created with
// RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF so that the management thread may
// read it (flow listings) while the worker writes. Entries live in a flat
// array indexed by the rte_hash key position.
//
// Thread safety: add/expire/lookup only from the owning worker; count() and
// snapshot reads from any thread.
#pragma once

#include <rte_hash_crc.h>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

struct rte_hash;

namespace cats::dp {

enum class FlowKind : std::uint8_t { FiveTuple = 1, Affinity = 2, Fragment = 3 };

// 40 bytes. FiveTuple: addresses, ports (ESP: SPI split in two), protocol.
// Affinity: src = AFFINITY_KEY (8 bytes BE) + CS-ID (4 bytes BE), rest zero.
// Fragment: addresses, Identification split in two, protocol 44.
struct FlowKey {
    std::uint8_t src[16];
    std::uint8_t dst[16];
    std::uint16_t sport;
    std::uint16_t dport;
    std::uint8_t proto;
    FlowKind kind;
    std::uint16_t pad;
};
static_assert(sizeof(FlowKey) == 40);

inline constexpr std::uint8_t kFlowValid = 1;
inline constexpr std::uint8_t kFlowBestEffort = 2;

// 16 bytes of state per flow besides the rte_hash key slot.
struct FlowEntry {
    std::uint32_t cs_id;
    std::uint32_t instance_id;
    std::uint32_t last_seen_ms;  // engine clock, wraps after 49 days
    std::uint16_t index_hint;    // index in Service::instances when pinned
    std::uint8_t flags;
    std::uint8_t gen;            // odd while store_entry() writes; FlowTable's own (see read_flow())
};
static_assert(sizeof(FlowEntry) == 16);

class FlowTable {
public:
    // Throws std::runtime_error when the hash cannot be created.
    FlowTable(const std::string& name, std::uint32_t capacity, int socket_id);
    ~FlowTable();
    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    // rte_hash_crc(&k, sizeof k, 0): what rte_hash computes itself (in
    // rte_hash_del_key) for the signature we pass on lookups and adds.
    static std::uint32_t hash(const FlowKey& k) noexcept {
        std::uint64_t w[sizeof(FlowKey) / 8];
        static_assert(sizeof w == sizeof k);
        std::memcpy(w, &k, sizeof w);
        return hash_words(w[0], w[1], w[2], w[3], w[4]);
    }
    // The same from the key's five 8-byte words (native byte order), for a
    // caller that builds the key in registers: no reload of what it stored.
    static std::uint32_t hash_words(std::uint64_t w0, std::uint64_t w1, std::uint64_t w2,
                                    std::uint64_t w3, std::uint64_t w4) noexcept {
        std::uint32_t h = crc32c(w0, 0);
        h = crc32c(w1, h);
        h = crc32c(w2, h);
        h = crc32c(w3, h);
        return crc32c(w4, h);
    }

    // One 8-byte CRC32C step. rte_hash_crc_8byte() computes the same but
    // checks at run time, on every call, which instruction set to use; the
    // build targets SSE4.2 (DPDK's x86 baseline) and says so here.
    static std::uint32_t crc32c(std::uint64_t w, std::uint32_t h) noexcept {
#if defined(__SSE4_2__)
        return static_cast<std::uint32_t>(_mm_crc32_u64(h, w));
#else
        return rte_hash_crc_8byte(w, h);
#endif
    }

    // positions[i] >= 0 on a hit, negative on a miss.
    void lookup_bulk(const void** keys, const std::uint32_t* sigs, unsigned n,
                     std::int32_t* positions) const noexcept;
    // Position of the key, negative on a miss.
    std::int32_t lookup(const FlowKey& k, std::uint32_t sig) const noexcept;
    // Position of the (new or existing) key, negative when full.
    std::int32_t add(const FlowKey& k, std::uint32_t sig) noexcept;
    // Delete by position (the key is read back from the table).
    void remove(std::int32_t pos) noexcept;
    // Delete by key; false when the key is not there.
    bool remove(const FlowKey& k, std::uint32_t sig) noexcept;

    // The owning worker reads entries directly; it writes them only
    // through store_entry() and touch(), because the management thread
    // reads them meanwhile (read_flow()): store_entry() is the writer side
    // of a sequence lock on the entry's `gen` (its stores are relaxed
    // atomics, plain moves on x86-64 and arm64), touch() one atomic store
    // of last_seen_ms, which a reader needs in no relation to the rest.
    const FlowEntry& entry(std::int32_t pos) const noexcept { return entries_[pos]; }
    const FlowEntry* entry_addr(std::int32_t pos) const noexcept { return &entries_[pos]; }
    void store_entry(std::int32_t pos, const FlowEntry& fe) noexcept { store(entries_[pos], fe); }
    // A pinned packet: the flow was seen now.
    void touch(std::int32_t pos, std::uint32_t now_ms) noexcept {
        std::atomic_ref<std::uint32_t>(entries_[pos].last_seen_ms).store(now_ms, std::memory_order_relaxed);
    }
    // Reads the key stored at pos; false when none. The owning worker only
    // (another thread: read_flow()).
    bool key_at(std::int32_t pos, FlowKey& out) const noexcept;

    // From any thread while the owning worker adds, pins and removes: the
    // key and the entry of the flow at `pos`, both of one flow. The entry
    // is read whole (its `gen` even and the same before and after), then
    // the key, and `gen` must not have moved since: a removal rewrites the
    // entry before it frees the key's slot, and so does every new pin. Empty: no
    // pinned flow there; Changed: it changed meanwhile (the caller may try
    // again). `gen` has 8 bits: a reader held up while the same position
    // is rewritten 128 times could take a torn entry for a whole one.
    enum class Read : std::uint8_t { Ok, Empty, Changed };
    Read read_flow(std::int32_t pos, FlowKey& key, FlowEntry& fe) const noexcept;

    std::uint32_t capacity() const noexcept { return capacity_; }
    std::uint32_t count() const noexcept;
    // Next position the idle sweep will look at.
    std::uint32_t& sweep_cursor() noexcept { return sweep_cursor_; }

private:
    // Sequence-lock writer (the owning worker only): gen odd, the fields,
    // gen even again.
    static void store(FlowEntry& to, const FlowEntry& from) noexcept {
        constexpr auto r = std::memory_order_relaxed;
        std::atomic_ref<std::uint8_t> gen(to.gen);
        const std::uint8_t g = gen.load(r);
        gen.store(static_cast<std::uint8_t>(g + 1), r);
        std::atomic_thread_fence(std::memory_order_release);
        std::atomic_ref<std::uint32_t>(to.cs_id).store(from.cs_id, r);
        std::atomic_ref<std::uint32_t>(to.instance_id).store(from.instance_id, r);
        std::atomic_ref<std::uint32_t>(to.last_seen_ms).store(from.last_seen_ms, r);
        std::atomic_ref<std::uint16_t>(to.index_hint).store(from.index_hint, r);
        std::atomic_ref<std::uint8_t>(to.flags).store(from.flags, r);
        gen.store(static_cast<std::uint8_t>(g + 2), std::memory_order_release);
    }
    // Sequence-lock reader: the entry at pos and its (even) gen; false when
    // it was being written.
    bool load(std::int32_t pos, FlowEntry& out, std::uint8_t& gen) const noexcept;

    rte_hash* h_ = nullptr;
    FlowEntry* entries_ = nullptr;
    std::uint32_t capacity_ = 0;
    std::uint32_t sweep_cursor_ = 0;
};

}  // namespace cats::dp
