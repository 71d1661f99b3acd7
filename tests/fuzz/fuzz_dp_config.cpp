// SPDX-License-Identifier: BSD-3-Clause
// The dataplane's YAML config loader (dataplane/config.hpp,
// load_config_string) on any text: it returns a Config or throws
// ConfigError, nothing else (config_target.hpp).
#include <string>

#include "config.hpp"
#include "config_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    cats::fuzz::run_config_loader(text, [](const std::string& t) { return cats::dp::load_config_string(t); });
    return 0;
}
