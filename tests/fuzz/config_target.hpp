// SPDX-License-Identifier: BSD-3-Clause
// What the two YAML config targets share: run a loader on the input and
// accept only what the loaders promise, a Config or a ConfigError (both
// loaders turn yaml-cpp's exceptions into ConfigError). Any other exception
// is reported with its type and message, then traps.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <exception>
#include <string>
#include <typeinfo>

#include "config_error.hpp"
#include "fuzz_check.hpp"

namespace cats::fuzz {

template <class Load>
void run_config_loader(const std::string& text, Load&& load) {
    try {
        (void)load(text);
    } catch (const ConfigError& e) {
        // The documented outcome for a bad config, with a message that
        // says something: control bytes the user wrote are escaped.
        FUZZ_CHECK(e.what()[0] != '\0');
    } catch (const YAML::Exception& e) {
        std::fprintf(stderr, "a yaml-cpp exception left the loader: %s\n", e.what());
        FUZZ_CHECK(!"only ConfigError may leave a config loader");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "exception %s left the loader: %s\n", typeid(e).name(), e.what());
        FUZZ_CHECK(!"only ConfigError may leave a config loader");
    }
}

}  // namespace cats::fuzz
