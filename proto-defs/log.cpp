// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace cats {

namespace {

std::atomic<LogLevel> g_level{LogLevel::Info};
const char* g_program = nullptr;

bool under_journald() {
    static const bool yes = [] {
        const char* v = std::getenv("JOURNAL_STREAM");
        return v != nullptr && *v != '\0';
    }();
    return yes;
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
    if (name == "debug") return LogLevel::Debug;
    if (name == "info") return LogLevel::Info;
    if (name == "warn" || name == "warning") return LogLevel::Warn;
    if (name == "error") return LogLevel::Error;
    return std::nullopt;
}

void set_log_program(const char* name) noexcept {
    g_program = name;
}

void set_log_level(LogLevel l) noexcept {
    g_level.store(l, std::memory_order_relaxed);
}

LogLevel log_level() noexcept {
    return g_level.load(std::memory_order_relaxed);
}

void log(LogLevel l, std::string_view msg) {
    if (l < log_level())
        return;
    // sd-daemon(3) priorities: 7 debug, 6 info, 4 warning, 3 err.
    static constexpr const char* kPrio[] = {"<7>", "<6>", "<4>", "<3>"};
    static constexpr const char* kName[] = {"debug: ", "info: ", "warn: ", "error: "};
    const auto i = static_cast<std::size_t>(l);
    std::string line;
    line.reserve(msg.size() + 16);
    if (under_journald()) {
        line += kPrio[i];
    } else if (g_program != nullptr) {
        line += g_program;
        line += ": ";
    }
    line += kName[i];
    // One line per message: a newline inside (from a peer's text) would
    // forge a second log line.
    for (const char c : msg)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    // Best effort: nowhere to report a failing stderr.
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

void logf(LogLevel l, const char* fmt, ...) {
    if (l < log_level())
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n >= 0)
        log(l, std::string_view(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1)));
}

void LogLimiter::log(LogLevel l, const std::string& key, std::string_view msg,
                     std::chrono::steady_clock::time_point now) {
    Slot& s = slots_[key];
    if (s.used && now - s.last < interval_) {
        ++s.held;
        return;
    }
    if (s.held > 0)
        cats::log(l, std::string(msg) + " (and " + std::to_string(s.held) + " more like it)");
    else
        cats::log(l, msg);
    s.used = true;
    s.last = now;
    s.held = 0;
}

}  // namespace cats
