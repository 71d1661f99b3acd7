// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace cats::control {

namespace {

std::atomic<LogLevel> g_level{LogLevel::Info};

bool under_journald() {
    static const bool yes = std::getenv("JOURNAL_STREAM") != nullptr;
    return yes;
}

}  // namespace

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
    if (under_journald())
        line += kPrio[i];
    line += kName[i];
    // One line per message: a newline inside (from a peer's text) would
    // forge a second log line.
    for (const char c : msg)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    // Best effort: nowhere to report a failing stderr.
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

void LogLimiter::log(LogLevel l, const std::string& key, std::string_view msg,
                     std::chrono::steady_clock::time_point now) {
    Slot& s = slots_[key];
    if (s.used && now - s.last < interval_) {
        ++s.held;
        return;
    }
    if (s.held > 0)
        control::log(l, std::string(msg) + " (and " + std::to_string(s.held) + " more like it)");
    else
        control::log(l, msg);
    s.used = true;
    s.last = now;
    s.held = 0;
}

}  // namespace cats::control
