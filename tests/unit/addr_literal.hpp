// SPDX-License-Identifier: BSD-3-Clause
// IPv6 address literals in tests: a typo throws instead of giving ::.
#pragma once

#include <stdexcept>
#include <string>

#include "addr_text.hpp"

namespace cats::test {

inline wire::Ipv6Addr addr(const std::string& text) {
    const auto a = wire::parse_ipv6(text);
    if (!a)
        throw std::invalid_argument("bad IPv6 literal in test: " + text);
    return *a;
}

}  // namespace cats::test
