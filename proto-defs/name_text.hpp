// SPDX-License-Identifier: BSD-3-Clause
// Service and peer names: the one definition of what a name may hold, used
// at every place a name enters either process (the dataplane's YAML, the
// control's YAML, the management batch decoder, the catsctl request
// decoder). A name ends up in JSON (stats, catsctl replies) and in logs, and
// JSON strings must be UTF-8: a name that is not is refused where it comes
// in, with the field it came in by, instead of failing later where it is
// printed.
//
// A name is at most kMaxNameLen bytes (the management channel's one-byte
// length field carries it, mgmt_wire.hpp) and valid UTF-8 (RFC 3629 section
// 4: no overlong forms, no surrogates U+D800..U+DFFF, nothing above
// U+10FFFF). Whether a name may be empty is each schema's rule.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cats::wire {

inline constexpr std::size_t kMaxNameLen = 64;

// The offset of the first byte that does not start or continue a valid
// UTF-8 sequence, or std::string_view::npos when `s` is valid UTF-8.
std::size_t utf8_error_offset(std::string_view s) noexcept;

inline bool is_valid_utf8(std::string_view s) noexcept {
    return utf8_error_offset(s) == std::string_view::npos;
}

// "" when `name` is a valid name, else what is wrong, for the caller to put
// after the field's path: "not valid UTF-8 (byte 3 is 0xff)", "at most 64
// bytes, got 70".
std::string check_name(std::string_view name);

}  // namespace cats::wire
