// SPDX-License-Identifier: BSD-3-Clause
// Memory for the flow tables when EAL runs without hugepages (--no-huge:
// containers, test machines): an external malloc heap (rte_malloc_heap_*)
// on anonymous memory marked MADV_HUGEPAGE, which the kernel backs with 2 MB
// transparent huge pages when its THP setting is "madvise" or "always".
// EAL's own memory under --no-huge comes in 4 KB pages (a memfd, and shmem
// THP is usually off), so that nearly every access to a table of many
// megabytes misses the TLB and walks the page tables. With hugepages EAL's
// memory is used as it is.
//
// Only for memory no device reads: the heap has no IOVA (a NIC could not
// DMA to mbufs in it).
//
// Nothing here is on the per-packet path. Thread safety: create and destroy
// from the main thread; socket() from any thread.
#pragma once

#include <cstddef>
#include <string>

namespace cats::dp {

class ThpHeap {
public:
    // The heap's page: the unit it is sized, aligned and described to DPDK
    // in (so no mempool object crosses one), and a transparent huge page.
    static constexpr std::size_t kPageSize = std::size_t{2} << 20;

    // Without hugepages: creates heap `name` of `bytes` (rounded up to 2 MB)
    // and socket() is its socket id. All of it is resident from the start:
    // rte_malloc_heap_memory_add() zeroes what it is given. With
    // hugepages: nothing is created and socket() is `eal_socket`. Throws
    // std::runtime_error when the memory or the heap cannot be had.
    ThpHeap(const std::string& name, std::size_t bytes, int eal_socket);
    // Every allocation from the heap must be freed before this.
    ~ThpHeap();
    ThpHeap(const ThpHeap&) = delete;
    ThpHeap& operator=(const ThpHeap&) = delete;

    // Where the tables go: the socket id to pass to rte_*_create/_socket().
    int socket() const noexcept { return socket_; }
    // Whether the heap exists (EAL has no hugepages).
    bool active() const noexcept { return base_ != nullptr; }
    std::size_t bytes() const noexcept { return len_; }

    // The size of heap that `n_tables` flow tables of `capacity` flows
    // each take: rte_hash's key store, buckets, extendable buckets and
    // rings, and the entries beside them (89 to 106 bytes per flow), with
    // room for rte_malloc's element headers and alignment.
    static std::size_t flow_tables_bytes(unsigned n_tables, std::size_t capacity) noexcept;

    // The kernel's THP setting for anonymous memory: "always", "madvise"
    // or "never" (the heap gets huge pages with the first two), empty when
    // the kernel has no THP.
    static std::string kernel_setting();

private:
    std::string name_;
    void* base_ = nullptr;
    std::size_t len_ = 0;
    int socket_ = -1;
};

}  // namespace cats::dp
