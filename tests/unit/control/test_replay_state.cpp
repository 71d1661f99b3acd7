// SPDX-License-Identifier: BSD-3-Clause
// The replay state file (replay_state.hpp): round trip, atomic replace,
// and every way a file can be bad, each named by file and line.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "replay_state.hpp"

using namespace cats::control;
namespace fs = std::filesystem;

namespace {

struct TmpDir {
    fs::path p = fs::temp_directory_path() / ("cats-replay-" + std::to_string(::getpid()));
    TmpDir() {
        fs::remove_all(p);
        ensure_state_dir(p.string());
    }
    ~TmpDir() { fs::remove_all(p); }
};

void write(const fs::path& f, const std::string& text) {
    std::ofstream(f) << text;
}

}  // namespace

TEST_CASE("replay state: round trip, replace, absent file", "[replay]") {
    TmpDir d;
    const std::string f = (d.p / kReplayStateFile).string();
    CHECK(load_replay_state(f).empty());  // no file yet: nothing known
    std::map<std::uint32_t, std::uint64_t> s = {{7, 1733567000000001ull}, {UINT32_MAX, UINT64_MAX}, {0, 0}};
    save_replay_state(f, s);
    CHECK(load_replay_state(f) == s);
    s[7] = 1733567000000002ull;
    s.erase(0);
    save_replay_state(f, s);
    CHECK(load_replay_state(f) == s);
    CHECK_FALSE(fs::exists(f + ".tmp"));
    CHECK((fs::status(d.p).permissions() & fs::perms::all) == fs::perms::owner_all);
    CHECK((fs::status(f).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("replay state: a bad file is an error naming file and line", "[replay]") {
    TmpDir d;
    const fs::path f = d.p / kReplayStateFile;
    const std::string name = f.string();
    write(f, "");
    CHECK_THROWS_WITH(load_replay_state(name), Catch::Contains(name + ":0: empty file"));
    write(f, "something else\n1 2\n");
    CHECK_THROWS_WITH(load_replay_state(name), Catch::Contains(name + ":1: not a cats-control replay state file"));
    for (const char* bad : {"1\n", "1 x\n", "x 1\n", "1  2\n", "-1 2\n", "1 -2\n", "4294967296 1\n",
                            "1 18446744073709551616\n", " 1 2\n", "1 2 \n"}) {
        INFO(bad);
        write(f, std::string("cats-control replay state 1\n") + bad);
        CHECK_THROWS_WITH(load_replay_state(name), Catch::Contains(name + ":2: expected '<node_id> <sequence>'"));
    }
    write(f, "cats-control replay state 1\n5 1\n5 2\n");
    CHECK_THROWS_WITH(load_replay_state(name), Catch::Contains(name + ":3: node 5 appears twice"));
    // A state_dir that is a file.
    CHECK_THROWS_WITH(ensure_state_dir(name), Catch::Contains("not a directory"));
}
