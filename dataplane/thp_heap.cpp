// SPDX-License-Identifier: BSD-3-Clause
#include "thp_heap.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace cats::dp {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

}  // namespace

std::size_t ThpHeap::flow_tables_bytes(unsigned n_tables, std::size_t capacity) noexcept {
    // Per slot: 48 bytes of key store (8 + 40, 16-aligned), 8 of buckets and
    // 8 of extendable buckets (64-byte buckets of 8), up to 8 of free-slot
    // ring (4-byte elements, a power of two above capacity), up to 1 of the
    // extendable buckets' ring, 16 of FlowEntry: 89. 128 leaves room for
    // capacities just past a power of two; 8 MB per table for headers,
    // alignment and the fixed parts.
    return n_tables * (capacity * 128 + (std::size_t{8} << 20));
}

ThpHeap::ThpHeap(const std::string& name, std::size_t bytes, int eal_socket) : name_(name), socket_(eal_socket) {
    if (rte_eal_has_hugepages())
        return;
    const std::size_t len = round_up(bytes, kHugePage);
    // Mapped with one huge page to spare, to start the heap on a 2 MB
    // boundary: THP backs only aligned 2 MB ranges.
    void* raw = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    if (raw == MAP_FAILED)
        throw std::runtime_error("flow table memory: mmap of " + std::to_string(len) + " bytes: " +
                                 std::strerror(errno));
    auto* start = static_cast<std::uint8_t*>(raw);
    auto* aligned = reinterpret_cast<std::uint8_t*>(round_up(reinterpret_cast<std::uintptr_t>(start), kHugePage));
    if (aligned != start)
        munmap(start, static_cast<std::size_t>(aligned - start));
    if (const std::size_t tail = static_cast<std::size_t>(start + len + kHugePage - (aligned + len)); tail != 0)
        munmap(aligned + len, tail);
    // A kernel without THP (or with it "never") refuses: the heap still
    // works, in 4 KB pages, as EAL's own memory would.
    madvise(aligned, len, MADV_HUGEPAGE);

    const auto fail = [&](const char* what) {
        const std::string msg = "flow table memory: " + std::string(what) + ": " + rte_strerror(rte_errno);
        munmap(aligned, len);
        return std::runtime_error(msg);
    };
    if (rte_malloc_heap_create(name_.c_str()) != 0)
        throw fail("rte_malloc_heap_create");
    // No IOVA: nothing is ever DMA'd from these tables.
    if (rte_malloc_heap_memory_add(name_.c_str(), aligned, len, nullptr, static_cast<unsigned>(len / kHugePage),
                                   kHugePage) != 0) {
        const auto ex = fail("rte_malloc_heap_memory_add");
        rte_malloc_heap_destroy(name_.c_str());
        throw ex;
    }
    base_ = aligned;
    len_ = len;
    socket_ = rte_malloc_heap_get_socket(name_.c_str());
}

ThpHeap::~ThpHeap() {
    if (base_ == nullptr)
        return;
    // Fails (EBUSY) while anything is still allocated from the heap: then
    // the memory stays mapped rather than be pulled from under its user.
    if (rte_malloc_heap_memory_remove(name_.c_str(), base_, len_) != 0)
        return;
    rte_malloc_heap_destroy(name_.c_str());
    munmap(base_, len_);
}

}  // namespace cats::dp
