// SPDX-License-Identifier: BSD-3-Clause
// What the two YAML config targets share: run a loader on the input and
// accept only what the loaders promise, a Config or a ConfigError (both
// loaders turn yaml-cpp's exceptions into ConfigError). Any other exception
// is reported with its type and message, then traps.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <typeinfo>

#include "config_error.hpp"
#include "fuzz_check.hpp"

namespace cats::fuzz {

// yaml-cpp 0.7 (Debian 12) never finishes YAML::LoadAll() on some inputs,
// a lone "," the shortest (jbeder/yaml-cpp#1040, fixed upstream by PR
// #1319 in 2024): its parser reports an empty document without consuming
// the token, forever, and LoadAll() stores each one until memory runs out.
// Both loaders call LoadAll() (configs/yaml_schema.hpp, load_one_document),
// so such an input would only find that bug again: count the documents
// with yaml-cpp's event parser first and skip an input with kManyDocs of
// them (a config has one; more are refused anyway).
class DocCounter : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

inline bool endless_documents(const std::string& text) {
    constexpr int kManyDocs = 64;
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocCounter events;
    try {
        for (int n = 0; n < kManyDocs; ++n)
            if (!parser.HandleNextDocument(events))
                return false;
    } catch (const YAML::Exception&) {
        return false;  // the loader will say why, as a ConfigError
    }
    return true;
}

template <class Load>
void run_config_loader(const std::string& text, Load&& load) {
    if (endless_documents(text))
        return;
    try {
        (void)load(text);
    } catch (const ConfigError& e) {
        // The documented outcome for a bad config; its message names where.
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
