// SPDX-License-Identifier: BSD-3-Clause
// Logging to stderr, one line per message with a level prefix:
//   info: dataplane: connected to /run/cats/dataplane.sock
// Under systemd (JOURNAL_STREAM set) each line also starts with the
// sd-daemon(3) priority ("<6>"), so journald records the level.
//
// Thread safety: any thread; each line is written with one write(2).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace cats::control {

enum class LogLevel : std::uint8_t { Debug, Info, Warn, Error };

void set_log_level(LogLevel l) noexcept;
LogLevel log_level() noexcept;
void log(LogLevel l, std::string_view msg);
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

}  // namespace cats::control
