// SPDX-License-Identifier: BSD-3-Clause
// cats-control-tests: the control process's unit tests. No DPDK.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
