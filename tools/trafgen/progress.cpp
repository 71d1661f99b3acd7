// SPDX-License-Identifier: BSD-3-Clause
#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>

namespace cats::trafgen {

namespace {

constexpr std::uint64_t kTtyIntervalNs = 250000000ULL;    // 4 times a second
constexpr std::uint64_t kLinesIntervalNs = 1000000000ULL;  // once a second
// Erase from the cursor to the end of the line (ECMA-48 EL), so that a
// shorter line leaves nothing of the longer one before it.
constexpr char kEraseToEol[] = "\x1b[K";

// Append with snprintf semantics, never past `cap`.
void append(char* buf, std::size_t cap, std::size_t& len, const char* f, auto... args) noexcept {
    if (len >= cap)
        return;
    const int n = std::snprintf(buf + len, cap - len, f, args...);
    if (n > 0)
        len = std::min(cap - 1, len + static_cast<std::size_t>(n));
}

}  // namespace

std::size_t format_progress(const ProgressSample& s, char* buf, std::size_t cap) noexcept {
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    std::size_t len = 0;
    append(buf, cap, len, "cats-trafgen:");
    if (s.has_tx)
        append(buf, cap, len, " sent %llu ", static_cast<unsigned long long>(s.sent));
    if (s.has_rx)
        append(buf, cap, len, " received %llu ", static_cast<unsigned long long>(s.received));
    append(buf, cap, len, " rate %.0f pps%s  elapsed %.1f s", s.rate_pps, s.final ? " (average)" : "", s.elapsed_s);
    return len;
}

Progress::Progress(ProgressMode mode, int fd, bool has_tx, bool has_rx, std::uint64_t start_ns) noexcept
    : mode_(mode),
      fd_(fd),
      has_tx_(has_tx),
      has_rx_(has_rx),
      start_ns_(start_ns),
      interval_ns_(mode == ProgressMode::Tty ? kTtyIntervalNs : kLinesIntervalNs),
      next_ns_(start_ns + interval_ns_),
      last_ns_(start_ns) {}

void Progress::finish(std::uint64_t now_ns, std::uint64_t rate_end_ns, std::uint64_t sent,
                      std::uint64_t received) noexcept {
    if (mode_ != ProgressMode::Off)
        print(now_ns, rate_end_ns, sent, received, true);
}

void Progress::print(std::uint64_t now_ns, std::uint64_t rate_end_ns, std::uint64_t sent, std::uint64_t received,
                     bool final) noexcept {
    const std::uint64_t count = has_tx_ ? sent : received;
    // While running, the rate over the last interval; at the end, the
    // average over the run.
    const std::uint64_t since_ns = final ? start_ns_ : last_ns_;
    const std::uint64_t since_count = final ? 0 : last_count_;
    const double dt = static_cast<double>(rate_end_ns - std::min(rate_end_ns, since_ns)) / 1e9;
    ProgressSample s;
    s.has_tx = has_tx_;
    s.has_rx = has_rx_;
    s.sent = sent;
    s.received = received;
    s.rate_pps = dt > 0 ? static_cast<double>(count - std::min(count, since_count)) / dt : 0.0;
    s.elapsed_s = static_cast<double>(now_ns - std::min(now_ns, start_ns_)) / 1e9;
    s.final = final;

    char buf[256];
    std::size_t len = 0;
    if (mode_ == ProgressMode::Tty)
        buf[len++] = '\r';
    len += format_progress(s, buf + len, sizeof(buf) - len - sizeof(kEraseToEol) - 1);
    if (mode_ == ProgressMode::Tty)
        for (const char c : std::string_view(kEraseToEol))
            buf[len++] = c;
    if (mode_ == ProgressMode::Lines || final)
        buf[len++] = '\n';
    // Best effort: a full pipe or a closed terminal must not stop the run.
    std::size_t off = 0;
    while (off < len) {
        const ssize_t n = ::write(fd_, buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += static_cast<std::size_t>(n);
    }
    last_ns_ = now_ns;
    last_count_ = count;
    // The next line a whole interval from now, not from when it was due:
    // a stalled loop does not print a burst of lines to catch up.
    next_ns_ = now_ns + interval_ns_;
}

}  // namespace cats::trafgen
