// SPDX-License-Identifier: BSD-3-Clause
// The flow tables' heap without hugepages (dataplane/thp_heap.hpp): an
// external rte_malloc heap on memory advised for transparent huge pages,
// big enough for the tables it is sized for, and gone again once its
// tables are.
#include <catch2/catch.hpp>

#include <rte_eal.h>
#include <rte_malloc.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "eal_fixture.hpp"
#include "flow_table.hpp"
#include "thp_heap.hpp"

using namespace cats::dp;

namespace {

// The VmFlags of the mapping that holds `p`, from /proc/self/smaps; empty
// when no mapping does.
std::string vm_flags_of(const void* p) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    std::ifstream f("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(f, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
            inside = lo <= a && a < hi;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0)
            return line.substr(8);
    }
    return {};
}

FlowKey key_of(std::uint32_t i) {
    FlowKey k;
    std::memset(&k, 0, sizeof k);
    std::memcpy(k.src, &i, sizeof i);
    k.kind = FlowKind::FiveTuple;
    return k;
}

}  // namespace

TEST_CASE("ThpHeap: without hugepages, flow tables live on memory advised for huge pages", "[thp]") {
    cats::test::ensure_eal();
    REQUIRE_FALSE(rte_eal_has_hugepages());  // the tests' EAL runs --no-huge

    constexpr std::uint32_t kCap = 4096;
    {
        ThpHeap heap("ut_thp_a", ThpHeap::flow_tables_bytes(1, kCap), 0);
        REQUIRE(heap.active());
        CHECK(heap.bytes() % ThpHeap::kPageSize == 0);
        CHECK(heap.bytes() >= ThpHeap::flow_tables_bytes(1, kCap));
        CHECK(rte_malloc_heap_socket_is_external(heap.socket()) == 1);
        CHECK(rte_malloc_heap_get_socket("ut_thp_a") == heap.socket());

        // What the heap hands out lies in a mapping marked MADV_HUGEPAGE
        // ("hg"): the advice, which the kernel follows as its THP setting
        // says ("never" keeps the flag and backs it with 4 KB pages). A
        // kernel built without THP refuses the advice; the heap works
        // the same.
        void* p = rte_malloc_socket("ut_thp_probe", 64, 64, heap.socket());
        REQUIRE(p != nullptr);
        const std::string flags = vm_flags_of(p);
        INFO("VmFlags:" << flags);
        CHECK_FALSE(flags.empty());
        if (std::filesystem::exists("/sys/kernel/mm/transparent_hugepage"))
            CHECK(flags.find(" hg") != std::string::npos);
        else
            WARN("kernel without transparent huge pages: the advice is not checked");
        rte_free(p);

        // A flow table on it works as on EAL's memory.
        FlowTable t("ut_thp_flows", kCap, heap.socket());
        for (std::uint32_t i = 0; i < 1000; ++i)
            REQUIRE(t.add(key_of(i), FlowTable::hash(key_of(i))) >= 0);
        CHECK(t.count() == 1000);
        for (std::uint32_t i = 0; i < 1000; ++i)
            CHECK(t.lookup(key_of(i), FlowTable::hash(key_of(i))) >= 0);
        CHECK(t.lookup(key_of(5000), FlowTable::hash(key_of(5000))) < 0);
        rte_malloc_socket_stats st{};
        REQUIRE(rte_malloc_get_socket_stats(heap.socket(), &st) == 0);
        CHECK(st.heap_allocsz_bytes > std::size_t{kCap} * (48 + 16));
    }
    // The table went first, then the heap: its name is free again.
    CHECK(rte_malloc_heap_get_socket("ut_thp_a") < 0);
    ThpHeap again("ut_thp_a", ThpHeap::flow_tables_bytes(1, kCap), 0);
    CHECK(again.active());
}

TEST_CASE("ThpHeap: flow_tables_bytes() holds the tables it is sized for", "[thp]") {
    cats::test::ensure_eal();
    // Powers of two (the bench), one past (buckets and rings double), in
    // between, and 1M (the bench's largest).
    for (const std::uint32_t cap : {1000u, 1024u, 65536u, 65537u, 100000u, 1u << 20, (1u << 20) + 1}) {
        for (const unsigned n_tables : {1u, 2u}) {
            INFO("capacity " << cap << ", " << n_tables << " table(s)");
            ThpHeap heap("ut_thp_size", ThpHeap::flow_tables_bytes(n_tables, cap), 0);
            REQUIRE(heap.active());
            std::vector<std::unique_ptr<FlowTable>> tables;
            for (unsigned k = 0; k < n_tables; ++k)
                REQUIRE_NOTHROW(tables.push_back(
                    std::make_unique<FlowTable>("ut_thp_t" + std::to_string(k), cap, heap.socket())));
        }
    }
}

TEST_CASE("ThpHeap: kernel_setting() is the THP setting in force", "[thp]") {
    const std::string s = ThpHeap::kernel_setting();
    const char* path = "/sys/kernel/mm/transparent_hugepage/enabled";
    if (!std::filesystem::exists(path)) {
        CHECK(s.empty());
        return;
    }
    INFO("setting '" << s << "'");
    CHECK((s == "always" || s == "madvise" || s == "never"));
    std::ifstream f(path);
    std::string line;
    REQUIRE(std::getline(f, line));
    CHECK(line.find("[" + s + "]") != std::string::npos);
}
