// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"
#include "thp_heap.hpp"

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include <sys/mman.h>

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace cats::dp {

std::size_t ThpHeap::flow_tables_bytes(unsigned n_tables, std::size_t capacity) noexcept {
    // What rte_hash_create() takes for FlowTable's parameters (DPDK 22.11:
    // 40-byte keys, RW_CONCURRENCY_LF | EXT_TABLE), and the entries:
    //   key store           capacity + 1 slots of 48 bytes (8 + 40, to 16)
    //   buckets             bit_ceil(capacity) / 8 of 64 bytes, and as many
    //                       extendable ones
    //   free-slot ring      bit_ceil(capacity + 1) of 4 bytes
    //   extendable buckets' ring  bit_ceil(buckets + 1) of 4 bytes
    //   FlowEntry           capacity of 16 bytes
    // 89 bytes per entry at a power of two, 106 just past one. (The list
    // of extendable buckets to free, 4 bytes per entry, rte_hash takes
    // from EAL's heap whatever the socket.) 1 MB more per table for
    // rte_malloc's headers and alignment and the fixed parts. The tests
    // hold real tables to it.
    const std::size_t buckets = std::bit_ceil(capacity) / 8;
    const std::size_t table = (capacity + 1) * 48 + 2 * buckets * 64 + std::bit_ceil(capacity + 1) * 4 +
                              std::bit_ceil(buckets + 1) * 4 + capacity * 16;
    return n_tables * (table + (std::size_t{1} << 20));
}

std::string ThpHeap::kernel_setting() {
    // One line, the setting in force in brackets: "always [madvise] never".
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string line;
    std::getline(f, line);
    const std::size_t open = line.find('[');
    const std::size_t close = line.find(']', open);
    if (open == std::string::npos || close == std::string::npos)
        return {};
    return line.substr(open + 1, close - open - 1);
}

ThpHeap::ThpHeap(const std::string& name, std::size_t bytes, int eal_socket) : name_(name), socket_(eal_socket) {
    if (rte_eal_has_hugepages())
        return;
    const std::size_t len = RTE_ALIGN_CEIL(bytes, kPageSize);
    // Mapped with one huge page to spare, to start the heap on a 2 MB
    // boundary: THP backs only aligned 2 MB ranges.
    void* raw = mmap(nullptr, len + kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        throw std::runtime_error("heap " + name_ + ": mmap of " + std::to_string(len) + " bytes: " +
                                 std::strerror(errno));
    auto* start = static_cast<std::uint8_t*>(raw);
    auto* aligned = static_cast<std::uint8_t*>(RTE_PTR_ALIGN_CEIL(start, kPageSize));
    if (aligned != start)
        munmap(start, static_cast<std::size_t>(aligned - start));
    if (const std::size_t tail = static_cast<std::size_t>(start + len + kPageSize - (aligned + len)); tail != 0)
        munmap(aligned + len, tail);
    // A kernel without THP (or with it "never") refuses: the heap still
    // works, in 4 KB pages, as EAL's own memory would.
    madvise(aligned, len, MADV_HUGEPAGE);

    const auto fail = [&](const char* what) {
        const std::string msg = "heap " + name_ + ": " + what + ": " + rte_strerror(rte_errno);
        munmap(aligned, len);
        return std::runtime_error(msg);
    };
    if (rte_malloc_heap_create(name_.c_str()) != 0)
        throw fail("rte_malloc_heap_create");
    // No IOVA: nothing is ever DMA'd from these tables.
    if (rte_malloc_heap_memory_add(name_.c_str(), aligned, len, nullptr, static_cast<unsigned>(len / kPageSize),
                                   kPageSize) != 0) {
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
    if (rte_malloc_heap_memory_remove(name_.c_str(), base_, len_) != 0) {
        cats::logf(cats::LogLevel::Warn, "heap %s: still in use (%s), left mapped", name_.c_str(), rte_strerror(rte_errno));
        return;
    }
    rte_malloc_heap_destroy(name_.c_str());
    munmap(base_, len_);
}

}  // namespace cats::dp
