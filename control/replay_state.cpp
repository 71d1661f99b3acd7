// SPDX-License-Identifier: BSD-3-Clause
#include "replay_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cats::control {

namespace {

constexpr const char* kHeader = "cats-control replay state 1";

std::string errno_text(int e) {
    return std::strerror(e);
}

template <class T>
bool parse_uint(std::string_view s, T& out) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

// write(2) all of `s`, or throw.
void write_all(int fd, const std::string& s, const std::string& what) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(what + ": write: " + errno_text(errno));
        }
        off += static_cast<std::size_t>(n);
    }
}

}  // namespace

void ensure_state_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("state_dir " + dir + ": " + errno_text(errno));
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::runtime_error("state_dir " + dir + ": not a directory");
}

std::map<std::uint32_t, std::uint64_t> load_replay_state(const std::string& path) {
    std::map<std::uint32_t, std::uint64_t> out;
    std::ifstream f(path);
    if (!f) {
        if (errno == ENOENT || !std::filesystem::exists(path))
            return out;
        throw std::runtime_error(path + ": cannot read: " + errno_text(errno));
    }
    std::string line;
    std::size_t no = 0;
    auto bad = [&](const std::string& why) {
        return std::runtime_error(path + ":" + std::to_string(no) + ": " + why +
                                  " (remove the file to start without replay state)");
    };
    while (std::getline(f, line)) {
        ++no;
        if (no == 1) {
            if (line != kHeader)
                throw bad("not a cats-control replay state file (expected '" + std::string(kHeader) + "')");
            continue;
        }
        const std::size_t sp = line.find(' ');
        std::uint32_t node = 0;
        std::uint64_t seq = 0;
        if (sp == std::string::npos || !parse_uint(std::string_view(line).substr(0, sp), node) ||
            !parse_uint(std::string_view(line).substr(sp + 1), seq))
            throw bad("expected '<node_id> <sequence>', got '" + line.substr(0, 80) + "'");
        if (!out.emplace(node, seq).second)
            throw bad("node " + std::to_string(node) + " appears twice");
    }
    if (no == 0)
        throw bad("empty file");
    return out;
}

void save_replay_state(const std::string& path, const std::map<std::uint32_t, std::uint64_t>& seqs) {
    std::ostringstream text;
    text << kHeader << "\n";
    for (const auto& [node, seq] : seqs)
        text << node << " " << seq << "\n";
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error(tmp + ": " + errno_text(errno));
    try {
        write_all(fd, text.str(), tmp);
        if (::fsync(fd) != 0)
            throw std::runtime_error(tmp + ": fsync: " + errno_text(errno));
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error(path + ": rename: " + errno_text(e));
    }
    // The rename itself must reach the disk too.
    const std::string dir = std::filesystem::path(path).parent_path().string();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace cats::control
