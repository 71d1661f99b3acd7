// SPDX-License-Identifier: BSD-3-Clause
// The neighbor MAC words the workers read (fib.hpp).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "fib.hpp"

TEST_CASE("fib: a MAC word writes the MAC's bytes in order", "[fib]") {
    const cats::dp::MacAddr m = {0x02, 0x11, 0x22, 0x33, 0x44, 0xfe};
    const std::uint64_t w = cats::dp::pack_mac(m) | cats::dp::kMacValid;
    std::uint8_t buf[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb};
    cats::dp::write_mac(buf, w);
    CHECK(std::vector<std::uint8_t>(buf, buf + 8) ==
          std::vector<std::uint8_t>{0x02, 0x11, 0x22, 0x33, 0x44, 0xfe, 0xbb, 0xbb});  // 6 bytes, no more
    CHECK(cats::dp::unpack_mac(w) == m);
}
