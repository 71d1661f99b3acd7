// SPDX-License-Identifier: BSD-3-Clause
// cats-control's YAML config loader (control/config.hpp, load_config_string)
// on any text: it returns a Config or throws ConfigError, nothing else
// (config_target.hpp).
//
// peers[].key_file makes the loader read a file. Relative names resolve
// under a directory that does not exist, so they fail cleanly; an input
// that names /dev or /proc is skipped (/dev/zero never ends, /dev/stdin
// blocks: reading them says nothing about the parser). YAML escapes could
// still spell such a path; no run has been seen to.
#include <string>
#include <string_view>

#include "config.hpp"
#include "config_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (const std::string_view risky : {"/dev", "/proc"})
        if (text.find(risky) != std::string::npos)
            return 0;
    cats::fuzz::run_config_loader(text, [](const std::string& t) {
        return cats::control::load_config_string(t, "/nonexistent/cats-fuzz");
    });
    return 0;
}
