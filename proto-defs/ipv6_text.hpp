// SPDX-License-Identifier: BSD-3-Clause
// IPv6 addresses as text, for every reader of configs, flags and CLI input:
// inet_pton()'s syntax (RFC 4291 2.2) and nothing more. inet_pton() reads a
// C string, so text with an embedded NUL (which would hide a tail) is
// refused here.
//
// Thread safety: pure.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace cats::wire {

inline std::optional<std::array<std::uint8_t, 16>> parse_ipv6(const std::string& text) {
    std::array<std::uint8_t, 16> a{};
    if (text.find('\0') != std::string::npos || inet_pton(AF_INET6, text.c_str(), a.data()) != 1)
        return std::nullopt;
    return a;
}

}  // namespace cats::wire
