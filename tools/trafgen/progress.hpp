// SPDX-License-Identifier: BSD-3-Clause
// The progress indicator of a live run: packets sent and received, the rate
// and the time elapsed, on stderr (stdout stays for the report, --json
// included).
//
//   Tty:   one line rewritten in place ('\r', then erase to the end of the
//          line) about 4 times a second; a newline once the run ends.
//   Lines: one newline-terminated line a second, for logs (--progress).
//
// The send loop only publishes its count (one relaxed store per burst); the
// receive thread, which wakes at least every few milliseconds anyway, calls
// tick() with the time it has already read. tick() is one comparison until a
// line is due; printing is snprintf into a fixed buffer and one write(2):
// nothing is allocated.
//
// Thread safety: a Progress is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cats::trafgen {

enum class ProgressMode { Off, Tty, Lines };

struct ProgressSample {
    bool has_tx = false;         // something is sent (not receive-only)
    bool has_rx = false;         // something is received (not send-only)
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    double rate_pps = 0;         // of what is sent, else of what is received
    double elapsed_s = 0;
    bool final = false;          // the run ended: the rate is the average
};

// The text of one progress line, without '\r' or newline, into `buf`
// (truncated to `cap`). Returns its length. Pure.
std::size_t format_progress(const ProgressSample& s, char* buf, std::size_t cap) noexcept;

class Progress {
public:
    // `start_ns`: CLOCK_MONOTONIC at the start of the run; `fd`: where to
    // write (stderr).
    Progress(ProgressMode mode, int fd, bool has_tx, bool has_rx, std::uint64_t start_ns) noexcept;

    // Print a line if one is due at `now_ns` (CLOCK_MONOTONIC).
    void tick(std::uint64_t now_ns, std::uint64_t sent, std::uint64_t received) noexcept {
        if (mode_ != ProgressMode::Off && now_ns >= next_ns_) [[unlikely]]
            print(now_ns, now_ns, sent, received, false);
    }
    // The last line, ended with a newline; its rate is the average from the
    // start to `rate_end_ns` (when sending ended: not diluted by --linger-ms).
    void finish(std::uint64_t now_ns, std::uint64_t rate_end_ns, std::uint64_t sent, std::uint64_t received) noexcept;

private:
    void print(std::uint64_t now_ns, std::uint64_t rate_end_ns, std::uint64_t sent, std::uint64_t received,
               bool final) noexcept;

    ProgressMode mode_;
    int fd_;
    bool has_tx_, has_rx_;
    std::uint64_t start_ns_;
    std::uint64_t interval_ns_;
    std::uint64_t next_ns_;
    std::uint64_t last_ns_;
    std::uint64_t last_count_ = 0;
};

}  // namespace cats::trafgen
