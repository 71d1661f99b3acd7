// SPDX-License-Identifier: BSD-3-Clause
// The one error every config, profile and command-line reader throws:
// "<where>: <what is wrong>", where <where> is the YAML path (or the flag,
// or the file). Each program exits with its usage status on it.
#pragma once

#include <stdexcept>

namespace cats {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace cats
