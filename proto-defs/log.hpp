// SPDX-License-Identifier: BSD-3-Clause
// Logging of the cats daemons (cats-dataplane, cats-control, cats-agent) to
// stderr, one line per message, the program and the level first:
//   cats-control: info: dataplane: connected to /run/cats/dataplane.sock
// Under systemd (JOURNAL_STREAM set) a line starts with the sd-daemon(3)
// priority ("<6>") instead of the program's name, so journald records the
// level (and knows the program).
//
// Thread safety: any thread; each line is written with one write(2).
// set_log_program() once, before any thread logs. Never on a per-packet
// path: a line is built in a std::string.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cats {

enum class LogLevel : std::uint8_t { Debug, Info, Warn, Error };

// --log-level: "debug", "info", "warn" or "error" (the default is info).
inline constexpr const char* kLogLevelNames = "debug, info, warn or error";
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

// "cats-dataplane": the first word of every line.
void set_log_program(const char* name) noexcept;
void set_log_level(LogLevel l) noexcept;
LogLevel log_level() noexcept;
void log(LogLevel l, std::string_view msg);
// printf-style, for code that formats with printf (the dataplane): at most
// 1 KiB of text.
void logf(LogLevel l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
inline void log_debug(std::string_view m) { log(LogLevel::Debug, m); }
inline void log_info(std::string_view m) { log(LogLevel::Info, m); }
inline void log_warn(std::string_view m) { log(LogLevel::Warn, m); }
inline void log_error(std::string_view m) { log(LogLevel::Error, m); }

// At most one line per key per interval; the next line that gets through
// says how many were held back. For what peers or clients can trigger at
// will (malformed datagrams), so that they cannot flood the log.
class LogLimiter {
public:
    explicit LogLimiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(1))
        : interval_(interval) {}
    void log(LogLevel l, const std::string& key, std::string_view msg, std::chrono::steady_clock::time_point now);

private:
    struct Slot {
        std::chrono::steady_clock::time_point last{};
        std::uint64_t held = 0;
        bool used = false;
    };
    std::chrono::steady_clock::duration interval_;
    std::map<std::string, Slot> slots_;
};

}  // namespace cats
