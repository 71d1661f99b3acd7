// SPDX-License-Identifier: BSD-3-Clause
#include "net.hpp"

namespace cats::trafgen {

namespace {

std::uint32_t sum_bytes(std::span<const std::uint8_t> b, std::uint32_t acc) noexcept {
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2)
        acc += static_cast<std::uint32_t>((b[i] << 8) | b[i + 1]);
    if (i < b.size())
        acc += static_cast<std::uint32_t>(b[i] << 8);
    // Fold early so that packets of any size cannot overflow.
    return (acc & 0xFFFF) + (acc >> 16);
}

}  // namespace

std::uint16_t l4_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t proto,
                          std::span<const std::uint8_t> l4) noexcept {
    std::uint32_t acc = 0;
    acc = sum_bytes(src, acc);
    acc = sum_bytes(dst, acc);
    const std::uint32_t len = static_cast<std::uint32_t>(l4.size());
    acc += (len >> 16) + (len & 0xFFFF) + proto;
    acc = sum_bytes(l4, acc);
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    const auto sum = static_cast<std::uint16_t>(~acc & 0xFFFF);
    return sum == 0 ? 0xFFFF : sum;
}

}  // namespace cats::trafgen
