// SPDX-License-Identifier: BSD-3-Clause
// The per-worker affinity table (dataplane/flow_table.hpp) over a real
// rte_hash: add/lookup/remove by position, the entry array, key read-back,
// count, and what happens when the table is full.
#include <catch2/catch.hpp>

#include <rte_hash_crc.h>

#include <rte_memory.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "eal_fixture.hpp"
#include "flow_table.hpp"

using namespace cats::dp;

namespace {

// rte_hash names are global to the process (and at most 32 bytes).
std::string unique_name() {
    static std::atomic<unsigned> n{0};
    return "ut_flow_" + std::to_string(n.fetch_add(1));
}

// A distinct five-tuple key per i; pad bytes zeroed (the key is compared bytewise).
FlowKey make_key(std::uint32_t i) {
    FlowKey k{};
    std::memset(&k, 0, sizeof k);
    k.src[0] = 0x20;
    k.src[1] = 0x01;
    k.src[12] = static_cast<std::uint8_t>(i >> 24);
    k.src[13] = static_cast<std::uint8_t>(i >> 16);
    k.src[14] = static_cast<std::uint8_t>(i >> 8);
    k.src[15] = static_cast<std::uint8_t>(i);
    k.dst[0] = 0xfc;
    k.dst[15] = 1;
    k.sport = static_cast<std::uint16_t>(1024 + (i % 50000));
    k.dport = 443;
    k.proto = 17;
    k.kind = FlowKind::FiveTuple;
    return k;
}

std::int32_t add(FlowTable& t, const FlowKey& k) { return t.add(k, FlowTable::hash(k)); }

// Positions of `keys` in one bulk lookup (at most 64 keys, rte_hash's bulk limit).
std::vector<std::int32_t> lookup(const FlowTable& t, const std::vector<FlowKey>& keys) {
    REQUIRE(keys.size() <= 64);
    std::vector<const void*> ptrs;
    std::vector<std::uint32_t> sigs;
    for (const FlowKey& k : keys) {
        ptrs.push_back(&k);
        sigs.push_back(FlowTable::hash(k));
    }
    std::vector<std::int32_t> pos(keys.size(), 0x7EADBEEF);
    t.lookup_bulk(ptrs.data(), sigs.data(), static_cast<unsigned>(keys.size()), pos.data());
    return pos;
}

std::int32_t lookup_one(const FlowTable& t, const FlowKey& k) { return lookup(t, {k})[0]; }

bool same_key(const FlowKey& a, const FlowKey& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("FlowTable::hash equals rte_hash_crc over the key, which rte_hash uses itself", "[flow]") {
    for (std::uint32_t i = 0; i < 1000; ++i) {
        FlowKey k{};
        for (std::size_t b = 0; b < sizeof k.src; ++b) {
            k.src[b] = static_cast<std::uint8_t>(i * 7 + b);
            k.dst[b] = static_cast<std::uint8_t>(i * 13 + b * 3);
        }
        k.sport = static_cast<std::uint16_t>(i);
        k.dport = static_cast<std::uint16_t>(~i);
        k.proto = static_cast<std::uint8_t>(i);
        k.kind = FlowKind::FiveTuple;
        CHECK(FlowTable::hash(k) == rte_hash_crc(&k, sizeof k, 0));
    }
}

TEST_CASE("FlowTable::hash is deterministic and separates keys", "[flow]") {
    cats::test::ensure_eal();
    const FlowKey a = make_key(1);
    CHECK(FlowTable::hash(a) == FlowTable::hash(a));
    FlowKey copy;
    std::memcpy(&copy, &a, sizeof copy);
    CHECK(FlowTable::hash(copy) == FlowTable::hash(a));

    // A change in any one field changes the hash (CRC32 catches every burst
    // of up to 32 bits, so this holds for each single field below).
    std::vector<FlowKey> variants;
    FlowKey k = a;
    k.src[3] ^= 0x80;
    variants.push_back(k);
    k = a;
    k.dst[15] = 2;
    variants.push_back(k);
    k = a;
    k.sport = static_cast<std::uint16_t>(a.sport + 1);
    variants.push_back(k);
    k = a;
    k.dport = 80;
    variants.push_back(k);
    k = a;
    k.proto = 6;
    variants.push_back(k);
    k = a;
    k.kind = FlowKind::Affinity;
    variants.push_back(k);
    for (std::size_t i = 0; i < variants.size(); ++i) {
        INFO("variant " << i);
        CHECK(FlowTable::hash(variants[i]) != FlowTable::hash(a));
    }

    std::set<std::uint32_t> hashes;
    for (std::uint32_t i = 0; i < 10000; ++i)
        hashes.insert(FlowTable::hash(make_key(i)));
    CHECK(hashes.size() >= 9990);  // 32-bit hashes: collisions are rare, not impossible
}

TEST_CASE("FlowTable: add returns a position that lookup_bulk finds", "[flow]") {
    cats::test::ensure_eal();
    FlowTable t(unique_name(), 4096, SOCKET_ID_ANY);
    CHECK(t.capacity() == 4096);
    CHECK(t.count() == 0);

    // Empty table: every lookup misses.
    std::vector<FlowKey> keys;
    for (std::uint32_t i = 0; i < 32; ++i)
        keys.push_back(make_key(i));
    for (std::int32_t p : lookup(t, keys))
        CHECK(p < 0);

    // Add the even keys only.
    std::vector<std::int32_t> added(keys.size(), -1);
    std::set<std::int32_t> distinct;
    for (std::size_t i = 0; i < keys.size(); i += 2) {
        added[i] = add(t, keys[i]);
        REQUIRE(added[i] >= 0);
        CHECK(static_cast<std::uint32_t>(added[i]) < t.capacity());
        distinct.insert(added[i]);
    }
    CHECK(distinct.size() == 16);
    CHECK(t.count() == 16);

    const auto pos = lookup(t, keys);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        INFO("key " << i);
        if (i % 2 == 0)
            CHECK(pos[i] == added[i]);
        else
            CHECK(pos[i] < 0);
    }

    // The single-key lookup agrees with the bulk one.
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::int32_t p = t.lookup(keys[i], FlowTable::hash(keys[i]));
        if (i % 2 == 0)
            CHECK(p == added[i]);
        else
            CHECK(p < 0);
    }

    // Adding a key again returns its existing position and adds nothing.
    CHECK(add(t, keys[4]) == added[4]);
    CHECK(t.count() == 16);

    // A key that differs only in its kind is another flow.
    FlowKey affinity = keys[0];
    affinity.kind = FlowKind::Affinity;
    CHECK(lookup_one(t, affinity) < 0);
    const std::int32_t pa = add(t, affinity);
    REQUIRE(pa >= 0);
    CHECK(pa != added[0]);
    CHECK(lookup_one(t, affinity) == pa);
    CHECK(lookup_one(t, keys[0]) == added[0]);
    CHECK(t.count() == 17);
}

TEST_CASE("FlowTable: store_entry() and entry() are per-position storage", "[flow]") {
    cats::test::ensure_eal();
    FlowTable t(unique_name(), 1024, SOCKET_ID_ANY);
    std::vector<std::int32_t> pos;
    for (std::uint32_t i = 0; i < 100; ++i) {
        const std::int32_t p = add(t, make_key(i));
        REQUIRE(p >= 0);
        // A fresh table's entries start zeroed.
        CHECK(t.entry(p).flags == 0);
        t.store_entry(p, FlowEntry{1000 + i, 2000 + i, 3000 + i, static_cast<std::uint16_t>(i),
                                   static_cast<std::uint8_t>(kFlowValid | (i % 2 == 0 ? kFlowBestEffort : 0)), 0});
        pos.push_back(p);
    }
    const FlowTable& ct = t;
    for (std::uint32_t i = 0; i < 100; ++i) {
        const std::int32_t p = lookup_one(t, make_key(i));
        REQUIRE(p == pos[i]);
        const FlowEntry& e = ct.entry(p);
        CHECK(e.cs_id == 1000 + i);
        CHECK(e.instance_id == 2000 + i);
        CHECK(e.last_seen_ms == 3000 + i);
        CHECK(e.index_hint == i);
        CHECK(e.flags == (kFlowValid | (i % 2 == 0 ? kFlowBestEffort : 0)));
    }
    CHECK(&t.entry(pos[0]) != &t.entry(pos[1]));
}

TEST_CASE("FlowTable: key_at reads back the key stored at a position", "[flow]") {
    cats::test::ensure_eal();
    FlowTable t(unique_name(), 1024, SOCKET_ID_ANY);
    std::set<std::int32_t> used;
    for (std::uint32_t i = 0; i < 50; ++i) {
        const FlowKey k = make_key(i);
        const std::int32_t p = add(t, k);
        REQUIRE(p >= 0);
        used.insert(p);
        FlowKey out;
        std::memset(&out, 0xEE, sizeof out);
        REQUIRE(t.key_at(p, out));
        CHECK(same_key(out, k));
    }
    // A position that never held a key.
    std::int32_t unused = 0;
    while (used.count(unused) != 0)
        ++unused;
    FlowKey out{};
    CHECK_FALSE(t.key_at(unused, out));
}

TEST_CASE("FlowTable: remove frees the key and its slot", "[flow]") {
    cats::test::ensure_eal();
    FlowTable t(unique_name(), 1024, SOCKET_ID_ANY);
    std::vector<std::int32_t> pos;
    for (std::uint32_t i = 0; i < 10; ++i) {
        pos.push_back(add(t, make_key(i)));
        REQUIRE(pos.back() >= 0);
        t.store_entry(pos.back(), FlowEntry{i, 0, 0, 0, kFlowValid, 0});
    }
    REQUIRE(t.count() == 10);

    t.remove(pos[3]);
    CHECK(t.count() == 9);
    CHECK(lookup_one(t, make_key(3)) < 0);
    CHECK(t.lookup(make_key(3), FlowTable::hash(make_key(3))) < 0);
    CHECK(t.entry(pos[3]).flags == 0);
    FlowKey out{};
    CHECK_FALSE(t.key_at(pos[3], out));
    // Every other key is still there, at its position, with its entry.
    for (std::uint32_t i = 0; i < 10; ++i) {
        if (i == 3)
            continue;
        INFO("key " << i);
        CHECK(lookup_one(t, make_key(i)) == pos[i]);
        CHECK(t.entry(pos[i]).flags == kFlowValid);
        CHECK(t.entry(pos[i]).cs_id == i);
        REQUIRE(t.key_at(pos[i], out));
        CHECK(same_key(out, make_key(i)));
    }

    // Removing a free position again is harmless.
    t.remove(pos[3]);
    CHECK(t.count() == 9);

    // The key can come back; a new key can take a freed slot.
    const std::int32_t again = add(t, make_key(3));
    REQUIRE(again >= 0);
    CHECK(lookup_one(t, make_key(3)) == again);
    CHECK(t.count() == 10);
    for (std::uint32_t i = 0; i < 10; ++i)
        t.remove(lookup_one(t, make_key(i)));
    CHECK(t.count() == 0);
    for (std::uint32_t i = 0; i < 10; ++i)
        CHECK(lookup_one(t, make_key(i)) < 0);
}

TEST_CASE("FlowTable: a full table refuses new keys and keeps the old ones", "[flow]") {
    cats::test::ensure_eal();
    constexpr std::uint32_t kCap = 1024;
    FlowTable t(unique_name(), kCap, SOCKET_ID_ANY);

    std::vector<std::int32_t> pos;
    std::set<std::int32_t> distinct;
    std::int32_t refused = 0;
    std::uint32_t i = 0;
    for (; i < 4 * kCap; ++i) {
        const std::int32_t p = add(t, make_key(i));
        if (p < 0) {
            refused = p;
            break;
        }
        REQUIRE(static_cast<std::uint32_t>(p) < kCap);  // entry(p) must be in range
        pos.push_back(p);
        distinct.insert(p);
        t.store_entry(p, FlowEntry{0, i, 0, 0, 0, 0});
    }
    const auto n = static_cast<std::uint32_t>(pos.size());
    INFO("added " << n << " keys before the table refused one with " << refused);
    REQUIRE(refused < 0);
    CHECK(refused == -ENOSPC);
    // The table holds what it was sized for, then stops.
    CHECK(n == kCap);
    CHECK(distinct.size() == n);
    CHECK(t.count() == n);

    // More refusals change nothing.
    for (std::uint32_t j = 0; j < 100; ++j)
        CHECK(add(t, make_key(10 * kCap + j)) < 0);
    CHECK(t.count() == n);

    // Every key that went in is still found, with its entry.
    for (std::uint32_t base = 0; base < n; base += 64) {
        std::vector<FlowKey> keys;
        for (std::uint32_t j = base; j < std::min(n, base + 64); ++j)
            keys.push_back(make_key(j));
        const auto found = lookup(t, keys);
        for (std::size_t j = 0; j < keys.size(); ++j) {
            REQUIRE(found[j] == pos[base + j]);
            CHECK(t.entry(found[j]).instance_id == base + j);
        }
    }
    // The refused keys are not there.
    CHECK(lookup_one(t, make_key(i)) < 0);

    // An existing key is still "added" (its position) even when full.
    CHECK(add(t, make_key(7)) == pos[7]);

    // Free one slot: exactly one new key fits, in that slot.
    t.remove(pos[100]);
    CHECK(t.count() == n - 1);
    const std::int32_t p = add(t, make_key(20 * kCap));
    CHECK(p == pos[100]);
    CHECK(lookup_one(t, make_key(20 * kCap)) == p);
    CHECK(add(t, make_key(20 * kCap + 1)) < 0);
    CHECK(t.count() == n);
}

TEST_CASE("FlowTable: tables are independent and names must be unique", "[flow]") {
    cats::test::ensure_eal();
    const std::string name = unique_name();
    FlowTable a(name, 1024, SOCKET_ID_ANY);
    FlowTable b(unique_name(), 1024, SOCKET_ID_ANY);
    const std::int32_t p = add(a, make_key(1));
    REQUIRE(p >= 0);
    CHECK(lookup_one(b, make_key(1)) < 0);
    CHECK(b.count() == 0);
    // DPDK logs "RING: Cannot reserve memory" here: that is this refusal.
    CHECK_THROWS_AS(FlowTable(name, 1024, SOCKET_ID_ANY), std::runtime_error);
}

// The management thread lists flows while the worker adds, pins and
// removes them. Key i is always pinned as {cs_id i, instance i ^ 0x5A5A,
// hint i}: a row that pairs one flow's key with another's pin shows.
TEST_CASE("FlowTable: read_flow never pairs one flow's key with another flow's pin", "[flow]") {
    cats::test::ensure_eal();
    constexpr std::uint32_t kCap = 1024;
    constexpr std::uint32_t kKeys = 3000;  // more keys than slots: positions change hands all the time
    FlowTable t(unique_name(), kCap, SOCKET_ID_ANY);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> writes{0};
    std::thread writer([&] {
        std::vector<std::int32_t> at(kKeys, -1);
        std::uint64_t x = 1;
        while (!stop.load(std::memory_order_relaxed)) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const auto i = static_cast<std::uint32_t>((x >> 33) % kKeys);
            if (at[i] >= 0) {
                t.remove(at[i]);
                at[i] = -1;
            } else if (const std::int32_t p = add(t, make_key(i)); p >= 0) {
                at[i] = p;
                t.store_entry(p, FlowEntry{i, i ^ 0x5A5A, i, static_cast<std::uint16_t>(i), kFlowValid, 0});
            }
            writes.fetch_add(1, std::memory_order_relaxed);
        }
    });
    std::uint64_t rows = 0, changed = 0, wrong = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
    while (std::chrono::steady_clock::now() < until) {
        for (std::int32_t pos = 0; pos < static_cast<std::int32_t>(kCap); ++pos) {
            FlowKey k;
            FlowEntry fe;
            const FlowTable::Read r = t.read_flow(pos, k, fe);
            if (r == FlowTable::Read::Changed) {
                ++changed;
            } else if (r == FlowTable::Read::Ok) {
                ++rows;
                const std::uint32_t i = (std::uint32_t{k.src[12]} << 24) | (std::uint32_t{k.src[13]} << 16) |
                                        (std::uint32_t{k.src[14]} << 8) | k.src[15];
                if (!same_key(k, make_key(i)) || fe.cs_id != i || fe.instance_id != (i ^ 0x5A5A) ||
                    fe.index_hint != static_cast<std::uint16_t>(i))
                    ++wrong;
            }
        }
    }
    stop = true;
    writer.join();
    INFO(rows << " rows read, " << changed << " positions changed while read, " << writes.load() << " writes");
    CHECK(wrong == 0);
    CHECK(rows > 10000);
    CHECK(writes.load() > 10000);
}
