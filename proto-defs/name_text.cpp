// SPDX-License-Identifier: BSD-3-Clause
#include "name_text.hpp"

#include <cstdint>
#include <cstdio>

namespace cats::wire {

std::size_t utf8_error_offset(std::string_view s) noexcept {
    // RFC 3629 section 4, the well-formed byte sequences:
    //   00..7F
    //   C2..DF 80..BF
    //   E0     A0..BF 80..BF      (E0 80..9F would be overlong)
    //   E1..EC 80..BF 80..BF
    //   ED     80..9F 80..BF      (ED A0..BF would be a surrogate)
    //   EE..EF 80..BF 80..BF
    //   F0     90..BF 80..BF 80..BF   (F0 80..8F would be overlong)
    //   F1..F3 80..BF 80..BF 80..BF
    //   F4     80..8F 80..BF 80..BF   (F4 90.. would pass U+10FFFF)
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    std::size_t i = 0;
    while (i < s.size()) {
        const std::uint8_t b = byte(i);
        if (b < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
        if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            if (b == 0xE0)
                lo = 0xA0;
            else if (b == 0xED)
                hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            if (b == 0xF0)
                lo = 0x90;
            else if (b == 0xF4)
                hi = 0x8F;
        } else {
            return i;  // 80..C1 (a continuation or overlong lead) or F5..FF
        }
        for (std::size_t k = 1; k < len; ++k) {
            if (i + k >= s.size())
                return i + k;
            const std::uint8_t c = byte(i + k);
            const std::uint8_t min = k == 1 ? lo : 0x80;
            const std::uint8_t max = k == 1 ? hi : 0xBF;
            if (c < min || c > max)
                return i + k;
        }
        i += len;
    }
    return std::string_view::npos;
}

std::string check_name(std::string_view name) {
    if (name.size() > kMaxNameLen)
        return "at most " + std::to_string(kMaxNameLen) + " bytes, got " + std::to_string(name.size());
    if (const std::size_t at = utf8_error_offset(name); at != std::string_view::npos) {
        if (at >= name.size())
            return "not valid UTF-8 (a sequence is cut off at the end)";
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<std::uint8_t>(name[at])));
        return "not valid UTF-8 (byte " + std::to_string(at) + " is " + hex + ")";
    }
    return {};
}

}  // namespace cats::wire
