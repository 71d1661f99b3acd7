// SPDX-License-Identifier: BSD-3-Clause
// JSON as text for everything the dataplane prints or sends (stats on
// stdout and in --stats-file, replies on the management socket). Names are
// checked at every entry point (proto-defs/name_text.hpp), but printing
// must not depend on that: a string that is not UTF-8 is written with
// U+FFFD in place of the bad bytes instead of throwing (nlohmann's default
// throws type_error.316, which ended the process).
//
// Thread safety: pure; any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace cats::dp {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cats::dp
