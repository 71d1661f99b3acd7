// SPDX-License-Identifier: BSD-3-Clause
#include "plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

// Set by meson (tools/trafgen/meson.build).
#ifndef CATS_PLOT_SOURCE
#error "CATS_PLOT_SOURCE: the path of tools/trafgen/cats-plot.py in the source tree"
#endif
#ifndef CATS_PLOT_INSTALLED
#error "CATS_PLOT_INSTALLED: where meson install puts cats-plot.py"
#endif
#ifndef CATS_TRAFGEN_BUILD_DIR
#error "CATS_TRAFGEN_BUILD_DIR: the build directory of cats-trafgen"
#endif

namespace cats::trafgen {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

std::string find_script() {
    if (const char* env = std::getenv("CATS_PLOT"); env != nullptr && *env != '\0') {
        if (!is_file(env))
            throw PlotError(std::string("CATS_PLOT=") + env + ": no such file");
        return env;
    }
    // Run from the build tree: the source tree's script, so that an edit
    // needs no install; installed: the installed one.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::error_code ec2;
    const bool in_build = !ec && exe.parent_path() == fs::weakly_canonical(CATS_TRAFGEN_BUILD_DIR, ec2);
    const std::array<const char*, 2> order = in_build ? std::array{CATS_PLOT_SOURCE, CATS_PLOT_INSTALLED}
                                                      : std::array{CATS_PLOT_INSTALLED, CATS_PLOT_SOURCE};
    for (const char* p : order)
        if (is_file(p))
            return p;
    throw PlotError(std::string("cats-plot.py not found (neither ") + order[0] + " nor " + order[1] +
                    "); set CATS_PLOT to its path");
}

// Run `kPython args...` with stdout and stderr captured (stdout may be the
// --json report's); returns the exit status and what it printed.
std::pair<int, std::string> run_python(const std::vector<std::string>& args) {
    if (::access(kPython, X_OK) != 0)
        throw PlotError(std::string("needs ") + kPython + " (Debian package python3)");
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0)
        throw PlotError(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
    std::vector<std::string> argv_s{kPython};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, kPython, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(pipefd[1]);
    if (rc != 0) {
        ::close(pipefd[0]);
        throw PlotError(std::string("cannot run ") + kPython + ": " + std::strerror(rc));
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, out};
}

// The script's last line (a Python traceback ends with the exception),
// without its own "cats-plot: " prefix.
std::string last_line(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    const std::size_t nl = text.rfind('\n');
    std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
    constexpr std::string_view kPrefix = "cats-plot: ";
    if (line.starts_with(kPrefix))
        line.remove_prefix(kPrefix.size());
    return std::string(line);
}

void run_script(const std::vector<std::string>& args) {
    const auto [code, out] = run_python(args);
    if (code != 0) {
        const std::string msg = last_line(out);
        throw PlotError(msg.empty() ? "cats-plot.py exited with status " + std::to_string(code) : msg);
    }
}

// A temporary file removed when it goes out of scope.
class TempFile {
public:
    TempFile() {
        path_ = (fs::temp_directory_path() / "cats-trafgen-report-XXXXXX.json").string();
        fd_ = ::mkstemps(path_.data(), 5);
        if (fd_ < 0)
            throw PlotError(path_ + ": " + std::strerror(errno));
    }
    ~TempFile() {
        if (fd_ >= 0)
            ::close(fd_);
        ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }
    void write_all(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::write(fd_, data.data(), data.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                throw PlotError(path_ + ": " + std::strerror(errno));
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        ::close(fd_);
        fd_ = -1;
    }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace

void check_plot_name(const std::string& out) {
    std::string ext = fs::path(out).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext != ".png" && ext != ".svg")
        throw PlotError("--plot " + out + ": the file name must end in .png or .svg");
}

void check_plot_ready() {
    try {
        run_script({find_script(), "--check"});
    } catch (const PlotError& e) {
        throw PlotError(std::string("--plot: ") + e.what());
    }
}

void plot_report(const nlohmann::json& report, const std::string& out) {
    try {
        const std::string script = find_script();
        TempFile tmp;
        tmp.write_all(report.dump());
        run_script({script, tmp.path(), out});
    } catch (const PlotError& e) {
        throw PlotError("--plot " + out + ": " + e.what());
    }
}

}  // namespace cats::trafgen
