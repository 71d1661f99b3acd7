// SPDX-License-Identifier: BSD-3-Clause
// A main() for the fuzz targets when the compiler has no libFuzzer (GCC):
// every file named on the command line, and every file in every directory
// named there (not recursive), is passed once to LLVMFuzzerTestOneInput().
// A failed check traps, as under libFuzzer. This replays the committed
// corpus; finding new inputs needs the clang build (tests/fuzz/README.md).
//
// Arguments starting with '-' are libFuzzer flags and are ignored, so that
// the same command line works with both builds.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.hpp"

namespace fs = std::filesystem;

namespace {

// Runs one input from its own heap buffer of exactly its size, so that
// ASan (in a sanitized GCC build) sees a read past its end.
bool run_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return false;
    }
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto buf = std::make_unique<std::uint8_t[]>(std::max<std::size_t>(bytes.size(), 1));
    std::copy(bytes.begin(), bytes.end(), buf.get());
    LLVMFuzzerTestOneInput(buf.get(), bytes.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t runs = 0;
    std::vector<std::string> names;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.starts_with("-"))
            continue;
        std::error_code ec;
        std::vector<fs::path> files;
        if (fs::is_directory(arg, ec)) {
            for (const fs::directory_entry& e : fs::directory_iterator(arg, ec))
                if (e.is_regular_file())
                    files.push_back(e.path());
            // The same order on every machine.
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(arg);
        }
        for (const fs::path& f : files) {
            if (!run_file(f))
                return 1;
            ++runs;
        }
        names.push_back(arg);
    }
    if (runs == 0) {
        std::fprintf(stderr, "usage: %s DIR|FILE... (replays each input once; found no input)\n", argv[0]);
        return 1;
    }
    std::string joined;
    for (const std::string& n : names)
        joined += (joined.empty() ? "" : " ") + n;
    std::printf("replayed %zu inputs from %s: all checks held\n", runs, joined.c_str());
    std::printf("standalone replay only: fresh fuzzing needs the clang build (CC=clang CXX=clang++, see "
                "tests/fuzz/README.md)\n");
    return 0;
}
