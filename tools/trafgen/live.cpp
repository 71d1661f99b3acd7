// SPDX-License-Identifier: BSD-3-Clause
#include "live.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace cats::trafgen {

std::uint64_t now_realtime_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

namespace {

std::uint64_t now_mono_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

class AfPacketLink final : public Link {
public:
    AfPacketLink(const std::string& iface, bool rx) : name_(iface) {
        const unsigned ifindex = if_nametoindex(iface.c_str());
        if (ifindex == 0)
            throw LinkError("interface '" + iface + "': " + std::strerror(errno));
        // A TX-only socket binds with protocol 0 so that it receives nothing.
        const int proto = rx ? htons(ETH_P_ALL) : 0;
        fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, proto);
        if (fd_ < 0)
            throw LinkError("AF_PACKET socket for '" + iface + "': " + std::strerror(errno) +
                            (errno == EPERM ? " (needs root or CAP_NET_RAW)" : ""));
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = static_cast<unsigned short>(proto);
        sll.sll_ifindex = static_cast<int>(ifindex);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sll), sizeof(sll)) != 0)
            fail("bind");
        if (rx) {
            const int one = 1;
            // Our own transmissions on this interface are not traffic received.
            if (::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0)
                fail("PACKET_IGNORE_OUTGOING");
            // The gateway addresses its neighbors' MACs, not ours.
            packet_mreq mr{};
            mr.mr_ifindex = static_cast<int>(ifindex);
            mr.mr_type = PACKET_MR_PROMISC;
            if (::setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0)
                fail("promiscuous mode");
            const int buf = 8 << 20;
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
            // Kernel receive timestamps (CLOCK_REALTIME, taken when the
            // frame reached the socket layer), not when we got round to
            // reading it; user-space time is the fallback.
            kernel_ts_ = ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == 0;
            for (std::size_t i = 0; i < kBurst; ++i) {
                iov_[i] = {rxbuf_[i].data(), rxbuf_[i].size()};
                msgs_[i].msg_hdr.msg_iov = &iov_[i];
                msgs_[i].msg_hdr.msg_iovlen = 1;
            }
        } else {
            const int buf = 4 << 20;
            ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
        }
    }
    ~AfPacketLink() override { ::close(fd_); }

    const std::string& name() const override { return name_; }

    std::size_t send(std::span<const std::span<const std::uint8_t>> frames) noexcept override {
        std::array<mmsghdr, kBurst> m{};
        std::array<iovec, kBurst> iov{};
        const std::size_t n = std::min(frames.size(), kBurst);
        for (std::size_t i = 0; i < n; ++i) {
            iov[i] = {const_cast<std::uint8_t*>(frames[i].data()), frames[i].size()};
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        const int rc = ::sendmmsg(fd_, m.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
        return rc > 0 ? static_cast<std::size_t>(rc) : 0;
    }

    std::size_t receive(int timeout_ms, const RxFn& f) override {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, timeout_ms) <= 0)
            return 0;
        std::size_t total = 0;
        for (;;) {
            for (std::size_t i = 0; i < kBurst; ++i) {
                msgs_[i].msg_len = 0;
                msgs_[i].msg_hdr.msg_control = kernel_ts_ ? ctrl_[i].b : nullptr;
                msgs_[i].msg_hdr.msg_controllen = kernel_ts_ ? sizeof(ctrl_[i].b) : 0;
            }
            const int rc = ::recvmmsg(fd_, msgs_.data(), kBurst, MSG_DONTWAIT, nullptr);
            if (rc <= 0)
                break;
            const std::uint64_t now = now_realtime_ns();
            for (std::size_t i = 0; i < static_cast<std::size_t>(rc); ++i)
                f(std::span<const std::uint8_t>(rxbuf_[i].data(), std::min<std::size_t>(msgs_[i].msg_len, kMaxFrame)),
                  kernel_ts_ ? rx_time(msgs_[i].msg_hdr, now) : now);
            total += static_cast<std::size_t>(rc);
            if (static_cast<std::size_t>(rc) < kBurst)
                break;
        }
        return total;
    }

private:
    // The SCM_TIMESTAMPNS of a received message, or `fallback`.
    static std::uint64_t rx_time(msghdr& h, std::uint64_t fallback) noexcept {
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
                c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
                timespec ts{};
                std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
                return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
            }
        }
        return fallback;
    }

    [[noreturn]] void fail(const char* what) {
        const int e = errno;
        ::close(fd_);
        throw LinkError("AF_PACKET on '" + name_ + "': " + what + ": " + std::strerror(e));
    }

    std::string name_;
    int fd_ = -1;
    std::array<std::array<std::uint8_t, kMaxFrame>, kBurst> rxbuf_{};
    std::array<iovec, kBurst> iov_{};
    std::array<mmsghdr, kBurst> msgs_{};
    // Control buffers must be aligned for cmsghdr (CMSG_FIRSTHDR).
    struct alignas(cmsghdr) Ctrl {
        std::uint8_t b[CMSG_SPACE(sizeof(timespec))];
    };
    std::array<Ctrl, kBurst> ctrl_{};
    bool kernel_ts_ = false;
};

}  // namespace

std::unique_ptr<Link> open_af_packet(const std::string& iface, bool rx) {
    return std::make_unique<AfPacketLink>(iface, rx);
}

TxCounts run_live(Generator& gen, Analyzer& an, const RunOptions& opt) {
    TxCounts tx(gen.flows().size());
    an.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(gen.profile().total_good_packets(), 1u << 24)));
    std::atomic<bool> tx_done{opt.tx == nullptr};
    std::atomic<std::uint64_t> tx_done_at{0};
    // What the TX thread has sent so far, published once per burst for the
    // progress line (relaxed: a count to show, nothing is ordered by it).
    std::atomic<std::uint64_t> sent_so_far{0};
    std::uint64_t received = 0;  // frames, written by the RX thread only
    const std::uint64_t started = now_mono_ns();
    Progress progress(opt.progress, STDERR_FILENO, opt.tx != nullptr, !opt.rx.empty(), started);

    std::thread rx_thread([&] {
        const int per_link_ms = opt.rx.size() > 1 ? 1 : 10;
        for (;;) {
            std::size_t got = 0;
            for (const auto& [link, inst] : opt.rx) {
                const std::int32_t instance = inst;
                got += link->receive(per_link_ms, [&](std::span<const std::uint8_t> fr, std::uint64_t ts) {
                    an.add_frame(fr, ts, instance);
                });
            }
            if (opt.rx.empty())
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            const std::uint64_t now = now_mono_ns();
            received += got;
            progress.tick(now, sent_so_far.load(std::memory_order_relaxed), received);
            if (opt.stop != nullptr && opt.stop->load() && (opt.tx == nullptr || tx_done.load()))
                break;
            if (tx_done.load() && opt.tx != nullptr && got == 0 &&
                now - tx_done_at.load() >= static_cast<std::uint64_t>(opt.linger_ms) * 1000000ULL)
                break;
            if (opt.tx == nullptr && opt.rx_timeout_s > 0 && now - started >= static_cast<std::uint64_t>(opt.rx_timeout_s * 1e9))
                break;
            if (opt.tx == nullptr && opt.rx.empty())
                break;
        }
    });

    if (opt.tx != nullptr) {
        // Frames are built into these buffers; nothing is allocated below.
        std::vector<std::uint8_t> store(kBurst * kMaxFrame);
        std::array<std::span<const std::uint8_t>, kBurst> frames{};
        std::array<Slot, kBurst> slots{};
        const double rate = gen.profile().rate_pps;
        const double gap_ns = rate > 0 ? 1e9 / rate : 0;
        // Token bucket: at most one burst of credit, so a stall is not
        // followed by a burst above the rate.
        const std::uint64_t start = now_mono_ns();
        std::uint64_t sent_slots = 0;
        gen.rewind();
        bool more = true;
        while (more && !(opt.stop != nullptr && opt.stop->load())) {
            std::size_t want = kBurst;
            if (rate > 0) {
                const double due = static_cast<double>(now_mono_ns() - start) / gap_ns;
                const double credit = due - static_cast<double>(sent_slots);
                if (credit < 1) {
                    const auto wait_ns = static_cast<std::uint64_t>((1 - credit) * gap_ns);
                    if (wait_ns > 50000)
                        std::this_thread::sleep_for(std::chrono::nanoseconds(wait_ns - 20000));
                    continue;
                }
                want = std::min<std::size_t>(kBurst, static_cast<std::size_t>(credit));
            }
            std::size_t n = 0;
            for (; n < want; ++n)
                if (!gen.next(slots[n])) {
                    more = false;
                    break;
                }
            const std::uint64_t ts = now_realtime_ns();
            for (std::size_t i = 0; i < n; ++i) {
                const std::span<std::uint8_t> buf(store.data() + i * kMaxFrame, kMaxFrame);
                frames[i] = std::span<const std::uint8_t>(buf.data(), gen.build(slots[i], ts, buf));
            }
            std::size_t done = 0;
            int idle = 0;
            while (done < n) {
                const std::size_t k = opt.tx->send(std::span(frames).subspan(done, n - done));
                for (std::size_t i = done; i < done + k; ++i)
                    tx.add(slots[i], frames[i].size(), ts);
                done += k;
                if (k == 0) {
                    // TX ring full: back off a little, give up after ~1 s.
                    if (++idle > 10000 || (opt.stop != nullptr && opt.stop->load()))
                        break;
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
                }
            }
            sent_slots += n;
            sent_so_far.store(tx.packets, std::memory_order_relaxed);
        }
        tx_done_at.store(now_mono_ns());
        tx_done.store(true);
    }
    rx_thread.join();
    const std::uint64_t end = now_mono_ns();
    progress.finish(end, opt.tx != nullptr ? tx_done_at.load() : end, tx.packets, received);
    return tx;
}

}  // namespace cats::trafgen
