// SPDX-License-Identifier: BSD-3-Clause
// Tests that need DPDK (rte_hash, mempools, mbufs) call ensure_eal() first.
// EAL is initialised once per process with --no-huge --no-pci and a unique
// file prefix, so tests run without hugepages or NICs.
#pragma once

namespace cats::test {
void ensure_eal();
}
