// SPDX-License-Identifier: BSD-3-Clause
// Around EAL: the application's options before it starts, and leaving it
// without leaving files behind.
//
// rte_eal_cleanup() releases memory but keeps the primary process's runtime
// directory (/var/run/dpdk/<file-prefix>: its config and fbarray files, 6-9 MB
// with --no-huge). Every run with its own --file-prefix, as tests and labs
// use, would add one. A primary process owns its directory (EAL refuses a
// second primary with the same prefix, and secondaries cannot attach once
// the primary is gone), so it removes it when it exits. Not with
// --in-memory or --no-shconf: then there is no shared config, nothing stops
// another process from using the same prefix, and the directory stays.
//
// Thread safety: call once, from the main thread, after every lcore and
// every DPDK object is done.
#pragma once

#include <rte_eal.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace cats {

// The application's part of a DPDK command line, to check before EAL
// starts (a typo then costs no EAL start-up): argv[0], the words after
// "--", then `extra` words of EAL's part that are the application's too
// (--help), and a null. Points into `argv`.
inline std::vector<char*> app_args(int argc, char** argv, std::vector<std::string_view> extra = {}) {
    int i = 1;
    while (i < argc && std::string_view(argv[i]) != "--")
        ++i;
    std::vector<char*> out{argv[0]};
    for (int j = i + 1; j < argc; ++j)
        out.push_back(argv[j]);
    for (int j = 1; j < i; ++j)
        for (const std::string_view w : extra)
            if (argv[j] == w)
                out.push_back(argv[j]);
    out.push_back(nullptr);
    return out;
}

// rte_eal_cleanup(), then the runtime directory's removal when this is the
// primary process. A directory that cannot be removed is a warning on
// stderr, prefixed with `program`; nothing else fails.
inline void eal_exit(const char* program) {
    const bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
    const std::string dir = rte_eal_get_runtime_dir() != nullptr ? rte_eal_get_runtime_dir() : "";
    rte_eal_cleanup();
    // EAL makes it <runtime base>/dpdk/<prefix>, with the shared config
    // that only one primary can hold: never touch anything else.
    const std::filesystem::path p(dir);
    std::error_code ec;
    if (!primary || dir.empty() || p.parent_path().filename() != "dpdk" ||
        !std::filesystem::exists(p / "config", ec))
        return;
    std::filesystem::remove_all(p, ec);
    if (ec)
        std::fprintf(stderr, "%s: cannot remove the DPDK runtime directory %s: %s\n", program, dir.c_str(),
                     ec.message().c_str());
}

}  // namespace cats
