// SPDX-License-Identifier: BSD-3-Clause
// Addresses as text, for every reader of configs, flags and CLI input and
// every writer of stats and reports: IPv6 in inet_pton()'s syntax (RFC 4291
// 2.2) and nothing more, prefixes as "addr/len", MACs as
// "hh:hh:hh:hh:hh:hh". inet_pton() reads a C string, so text with an
// embedded NUL (which would hide a tail) is refused here.
//
// Thread safety: pure.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cats::wire {

using Ipv6Addr = std::array<std::uint8_t, 16>;
using MacAddr = std::array<std::uint8_t, 6>;

struct Ipv6Prefix {
    Ipv6Addr addr{};
    std::uint8_t len = 0;
    friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

inline std::optional<Ipv6Addr> parse_ipv6(const std::string& text) {
    Ipv6Addr a{};
    if (text.find('\0') != std::string::npos || inet_pton(AF_INET6, text.c_str(), a.data()) != 1)
        return std::nullopt;
    return a;
}

// RFC 5952 form (inet_ntop()).
inline std::string format_ipv6(const Ipv6Addr& a) {
    char buf[INET6_ADDRSTRLEN];
    // Cannot fail: the family is right and the buffer is large enough.
    inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
    return buf;
}

// "addr/len", len 0-128 in at most three decimal digits. Host bits are the
// caller's to check.
inline std::optional<Ipv6Prefix> parse_ipv6_prefix(const std::string& text) {
    const std::size_t slash = text.find('/');
    if (slash == std::string::npos)
        return std::nullopt;
    const std::string_view len_text = std::string_view(text).substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3 ||
        !std::all_of(len_text.begin(), len_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    unsigned len = 0;
    std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (len > 128)
        return std::nullopt;
    const std::optional<Ipv6Addr> addr = parse_ipv6(text.substr(0, slash));
    if (!addr)
        return std::nullopt;
    return Ipv6Prefix{*addr, static_cast<std::uint8_t>(len)};
}

// Exactly "hh:hh:hh:hh:hh:hh", either case.
inline std::optional<MacAddr> parse_mac(const std::string& text) {
    if (text.size() != 17)
        return std::nullopt;
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    MacAddr m{};
    for (std::size_t i = 0; i < m.size(); ++i) {
        const std::size_t off = i * 3;
        if (i > 0 && text[off - 1] != ':')
            return std::nullopt;
        const int hi = nibble(text[off]);
        const int lo = nibble(text[off + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        m[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return m;
}

// Lower case.
inline std::string format_mac(const MacAddr& m) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(17);
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (i > 0)
            out += ':';
        out += kHex[m[i] >> 4];
        out += kHex[m[i] & 0x0F];
    }
    return out;
}

}  // namespace cats::wire
