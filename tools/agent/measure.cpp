// SPDX-License-Identifier: BSD-3-Clause
#include "measure.hpp"

#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace cats::agent {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back()))
        s.remove_suffix(1);
    return s;
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    while (true) {
        while (!line.empty() && is_blank(line.front()))
            line.remove_prefix(1);
        if (line.empty())
            return out;
        std::size_t n = 0;
        while (n < line.size() && !is_blank(line[n]))
            ++n;
        out.push_back(line.substr(0, n));
        line.remove_prefix(n);
    }
}

// Closes a file descriptor on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

}  // namespace

std::optional<double> parse_loadavg(std::string_view text) {
    const auto f = fields(text);
    if (f.empty())
        return std::nullopt;
    double v = 0;
    const auto [end, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), v, std::chars_format::fixed);
    if (ec != std::errc{} || end != f[0].data() + f[0].size() || !std::isfinite(v) || v < 0)
        return std::nullopt;
    return v;
}

std::uint8_t load_percent(double load1, unsigned cpus) {
    const double pct = std::round(load1 / std::max(cpus, 1u) * 100.0);
    return static_cast<std::uint8_t>(std::clamp(pct, 0.0, 100.0));
}

std::optional<std::uint32_t> parse_count(std::string_view text) {
    const std::string_view t = trim(text);
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc{} || end != t.data() + t.size())
        return std::nullopt;
    return v;
}

std::optional<std::uint32_t> count_established(std::string_view text, std::uint16_t port) {
    constexpr std::string_view kEstablished = "01";
    std::uint32_t n = 0;
    bool header = true;
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        const auto f = fields(line);
        if (header) {  // "  sl  local_address rem_address   st ..."
            if (f.size() < 4 || f[1] != "local_address")
                return std::nullopt;
            header = false;
            continue;
        }
        if (f.size() < 4)
            continue;
        // local_address is ADDR:PORT, both hex.
        const std::size_t colon = f[1].rfind(':');
        if (colon == std::string_view::npos)
            return std::nullopt;
        const std::string_view p = f[1].substr(colon + 1);
        unsigned local_port = 0;
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), local_port, 16);
        if (ec != std::errc{} || end != p.data() + p.size())
            return std::nullopt;
        if (local_port == port && f[3] == kEstablished)
            ++n;
    }
    if (header)
        return std::nullopt;
    return n;
}

std::string run_command(const std::string& command, int timeout_ms) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    Fd rd{pipe_fds[0]};
    Fd wr{pipe_fds[1]};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr.fd, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // The command's complaints would repeat every interval; the agent logs
    // the failure once instead.
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so that a timeout kills what it started too.
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw std::runtime_error(std::string("cannot run /bin/sh: ") + std::strerror(rc));
    ::close(wr.fd);
    wr.fd = -1;

    std::string out;
    bool timed_out = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{rd.fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            timed_out = n == 0;
            break;
        }
        char buf[512];
        const ssize_t got = ::read(rd.fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;  // EOF: the command closed its output
        if (out.size() < 4096)
            out.append(buf, static_cast<std::size_t>(std::min<ssize_t>(got, static_cast<ssize_t>(4096 - out.size()))));
    }
    if (timed_out)
        ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        throw std::runtime_error("timed out after " + std::to_string(timeout_ms) + " ms");
    if (WIFSIGNALED(status))
        throw std::runtime_error("killed by signal " + std::to_string(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("exit status " + std::to_string(WEXITSTATUS(status)));
    return out;
}

Reading Measurer::load() const {
    Reading r;
    const auto text = read_file(cfg_.loadavg_path, r.error);
    if (!text)
        return r;
    const auto l = parse_loadavg(*text);
    if (!l) {
        r.error = cfg_.loadavg_path + ": not a load average";
        return r;
    }
    const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    const unsigned cpus = cfg_.cpus ? *cfg_.cpus : static_cast<unsigned>(std::max(online, 1L));
    r.value = load_percent(*l, cpus);
    char buf[96];
    std::snprintf(buf, sizeof buf, "1-min load %.2f over %u CPUs", *l, cpus);
    r.detail = buf;
    return r;
}

Reading Measurer::sessions() const {
    Reading r;
    if (cfg_.sessions_file) {
        const auto text = read_file(*cfg_.sessions_file, r.error);
        if (!text)
            return r;
        r.value = parse_count(*text);
        if (!r.value)
            r.error = *cfg_.sessions_file + ": expected one non-negative integer";
    } else if (cfg_.sessions_command) {
        try {
            const std::string out = run_command(*cfg_.sessions_command, kCommandTimeoutMs);
            r.value = parse_count(out);
            if (!r.value)
                r.error = "sessions_command: printed '" + std::string(trim(out).substr(0, 40)) +
                          "', expected one non-negative integer";
        } catch (const std::exception& e) {
            r.error = "sessions_command: " + std::string(e.what());
        }
    } else if (cfg_.sessions_tcp_port) {
        // IPv4 and IPv6 sockets; a machine without IPv6 has no tcp6.
        std::uint32_t total = 0;
        int read_ok = 0;
        for (const char* name : {"tcp", "tcp6"}) {
            std::string err;
            const std::string path = cfg_.proc_net_dir + "/" + name;
            const auto text = read_file(path, err);
            if (!text)
                continue;
            const auto n = count_established(*text, *cfg_.sessions_tcp_port);
            if (!n) {
                r.error = path + ": unexpected format";
                return r;
            }
            total += *n;
            ++read_ok;
        }
        if (read_ok == 0) {
            r.error = cfg_.proc_net_dir + "/tcp{,6}: cannot read";
            return r;
        }
        r.value = total;
    }
    if (r.value)
        r.detail = std::to_string(*r.value) + " sessions";
    return r;
}

advert::Metrics Measurer::measure(std::vector<std::string>& errors, std::string* detail) const {
    advert::Metrics m;
    if (!cfg_.enabled)
        return m;
    std::string d;
    if (cfg_.load) {
        const Reading r = load();
        if (r.value) {
            m.load_pct = static_cast<std::uint8_t>(*r.value);
            d = "load_pct " + std::to_string(*r.value) + " (" + r.detail + ", capped at 100)";
        } else {
            errors.push_back("load: " + r.error);
        }
    }
    if (cfg_.max_sessions) {
        const Reading r = sessions();
        if (r.value) {
            m.free_capacity = *r.value >= *cfg_.max_sessions ? 0 : *cfg_.max_sessions - *r.value;
            d += (d.empty() ? "" : ", ") + std::string("free_capacity ") + std::to_string(*m.free_capacity) + " (" +
                 r.detail + " of " + std::to_string(*cfg_.max_sessions) + ")";
        } else {
            errors.push_back("sessions: " + r.error);
        }
    }
    if (detail != nullptr)
        *detail = d;
    return m;
}

}  // namespace cats::agent
