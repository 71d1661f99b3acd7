// SPDX-License-Identifier: BSD-3-Clause
#include "net.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

#include "ipv6_text.hpp"

namespace cats::trafgen {

std::optional<Ipv6Addr> parse_ipv6_addr(const std::string& s) { return wire::parse_ipv6(s); }

std::optional<Ipv6Prefix> parse_ipv6_prefix(const std::string& s) {
    const std::size_t slash = s.find('/');
    if (slash == std::string::npos)
        return std::nullopt;
    const std::optional<Ipv6Addr> a = parse_ipv6_addr(s.substr(0, slash));
    if (!a)
        return std::nullopt;
    const std::string len_s = s.substr(slash + 1);
    unsigned len = 0;
    const auto [end, ec] = std::from_chars(len_s.data(), len_s.data() + len_s.size(), len);
    if (len_s.empty() || ec != std::errc{} || end != len_s.data() + len_s.size() || len > 128)
        return std::nullopt;
    return Ipv6Prefix{*a, static_cast<std::uint8_t>(len)};
}

std::optional<MacAddr> parse_mac(const std::string& s) {
    MacAddr m{};
    if (s.size() != 17)
        return std::nullopt;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0 && s[i * 3 - 1] != ':')
            return std::nullopt;
        const char* p = s.data() + i * 3;
        const auto [end, ec] = std::from_chars(p, p + 2, m[i], 16);
        if (ec != std::errc{} || end != p + 2)
            return std::nullopt;
    }
    return m;
}

std::string format_ipv6(const Ipv6Addr& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
    return buf;
}

std::string format_mac(const MacAddr& m) {
    char buf[18];
    std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

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
