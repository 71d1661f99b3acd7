// SPDX-License-Identifier: BSD-3-Clause
#include "eal_fixture.hpp"

#include <rte_eal.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "eal_exit.hpp"

namespace cats::test {

void ensure_eal() {
    static bool done = false;
    if (done)
        return;
    std::string prefix = "cats-unit-" + std::to_string(::getpid());
    std::vector<std::string> args = {"cats-unit-tests", "--no-huge", "-m", "1024", "--no-pci",
                                     "--file-prefix", prefix, "-l", "0", "--log-level", "lib.eal:error",
                                     "--no-telemetry"};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0)
        throw std::runtime_error("rte_eal_init failed");
    done = true;
    // The tests leave nothing behind: not EAL's runtime directory either.
    std::atexit([] { cats::eal_exit("cats-unit-tests"); });
}

}  // namespace cats::test
