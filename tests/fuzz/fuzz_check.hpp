// SPDX-License-Identifier: BSD-3-Clause
// What every fuzz target shares: the check that stops the run when a
// property the code promises does not hold. A failed check prints what was
// expected, then traps, so that libFuzzer (or the standalone replay driver,
// standalone_main.cpp) reports the input as a crash and keeps it.
//
// Thread safety: the targets are called from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

// libFuzzer's entry point, defined by each target.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) [[unlikely]] {                                                           \
            std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            __builtin_trap();                                                                 \
        }                                                                                     \
    } while (0)
