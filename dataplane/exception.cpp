// SPDX-License-Identifier: BSD-3-Clause
#include "exception.hpp"

#include <net/if.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <stdexcept>

#include "ndp_check.hpp"

namespace cats::dp {

namespace {

constexpr unsigned kBurst = 32;
constexpr std::uint16_t kTapDesc = 512;

void check(int rc, const std::string& what) {
    if (rc < 0)
        throw std::runtime_error(what + ": " + rte_strerror(-rc));
}

}  // namespace

bool RateLimit::take(std::uint64_t now_us) noexcept {
    if (pps_ == 0)
        return true;
    if (last_us_ != 0)
        tokens_ = std::min<double>(pps_, tokens_ + static_cast<double>(now_us - last_us_) * pps_ / 1e6);
    last_us_ = now_us;
    if (tokens_ < 1.0)
        return false;
    tokens_ -= 1.0;
    return true;
}

ExceptionPath::ExceptionPath(const Config& cfg, const std::vector<PortState>& ports, rte_mempool* pool,
                             const Fib& fib, std::uint32_t rate_pps)
    : fib_(fib), held_by_nbr_(fib.neighbor_capacity()) {
    for (const PortState& p : ports) {
        if (p.port_id >= kMaxPorts)
            continue;
        const std::string ring = "cats_inject" + std::to_string(p.port_id);
        inject_[p.port_id] = rte_ring_create(ring.c_str(), kInjectRingSize, SOCKET_ID_ANY,
                                             RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (inject_[p.port_id] == nullptr)
            throw std::runtime_error(p.name + ": inject ring: " + rte_strerror(rte_errno));
    }
    for (std::size_t i = 0; i < cfg.ports.size() && i < ports.size(); ++i) {
        const PortConfig& pc = cfg.ports[i];
        // A port the kernel owns (net_af_xdp) is its own kernel interface:
        // the XDP program passes the host's traffic to it.
        if (pc.kernel_interface.empty() || ports[i].driver == "net_af_xdp")
            continue;
        const std::string at = "ports[" + std::to_string(i) + "].kernel_interface";
        Link l;
        l.port_id = ports[i].port_id;
        l.mtu = ports[i].mtu;
        l.ifname = pc.kernel_interface;
        l.to_kernel = RateLimit(rate_pps);
        l.from_kernel = RateLimit(rate_pps);
        // net_tap: the kernel interface, with the port's MAC so that the
        // kernel's NDP answers for the port.
        const std::string vdev = "net_tap_cats" + std::to_string(ports[i].port_id);
        const std::string args = "iface=" + l.ifname + ",mac=" + format_mac(ports[i].mac);
        check(rte_eal_hotplug_add("vdev", vdev.c_str(), args.c_str()), at + ": cannot create TAP '" + l.ifname + "' (" + args + ")");
        check(rte_eth_dev_get_port_by_name(vdev.c_str(), &l.tap_id), at + ": " + vdev);
        rte_eth_conf conf{};
        check(rte_eth_dev_configure(l.tap_id, 1, 1, &conf), at + ": configure TAP");
        check(rte_eth_rx_queue_setup(l.tap_id, 0, kTapDesc, static_cast<unsigned>(rte_eth_dev_socket_id(l.tap_id)),
                                     nullptr, pool),
              at + ": TAP RX queue");
        check(rte_eth_tx_queue_setup(l.tap_id, 0, kTapDesc, static_cast<unsigned>(rte_eth_dev_socket_id(l.tap_id)),
                                     nullptr),
              at + ": TAP TX queue");
        check(rte_eth_dev_set_mtu(l.tap_id, l.mtu), at + ": TAP MTU " + std::to_string(l.mtu));
        check(rte_eth_dev_start(l.tap_id), at + ": start TAP");
        l.ifindex = if_nametoindex(l.ifname.c_str());
        if (l.ifindex == 0)
            throw std::runtime_error(at + ": TAP '" + l.ifname + "' has no interface index");
        const std::string ring = "cats_punt" + std::to_string(l.port_id);
        l.punt = rte_ring_create(ring.c_str(), kPuntRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
        if (l.punt == nullptr)
            throw std::runtime_error(at + ": punt ring: " + rte_strerror(rte_errno));
        links_.push_back(std::move(l));
    }
    if (!links_.empty()) {
        held_ = rte_ring_create("cats_held", kHeldRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
        if (held_ == nullptr)
            throw std::runtime_error("held-packet ring: " + std::string(rte_strerror(rte_errno)));
    }
}

ExceptionPath::~ExceptionPath() {
    rte_mbuf* m[kBurst];
    for (Link& l : links_) {
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(l.punt, reinterpret_cast<void**>(m), kBurst, nullptr)) != 0)
            rte_pktmbuf_free_bulk(m, n);
        rte_ring_free(l.punt);
        rte_eth_dev_stop(l.tap_id);
        rte_eth_dev_close(l.tap_id);
        rte_eal_hotplug_remove("vdev", ("net_tap_cats" + std::to_string(l.port_id)).c_str());
    }
    if (held_ != nullptr) {
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(held_, reinterpret_cast<void**>(m), kBurst, nullptr)) != 0)
            rte_pktmbuf_free_bulk(m, n);
        rte_ring_free(held_);
    }
    for (rte_ring* r : inject_) {
        if (r == nullptr)
            continue;
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(m), kBurst, nullptr)) != 0)
            rte_pktmbuf_free_bulk(m, n);
        rte_ring_free(r);
    }
    for (HeldQueue& q : held_by_nbr_)
        for (unsigned k = 0; k < q.n; ++k)
            rte_pktmbuf_free(q.q[(q.head + k) % kHeldPerNeighbor].m);
}

std::atomic<std::uint64_t>* ExceptionPath::inject_tx_full(std::uint16_t port_id) noexcept {
    for (Link& l : links_)
        if (l.port_id == port_id)
            return &l.ctr->port_tx_full;
    return &other_tx_full_;
}

unsigned ExceptionPath::inject(std::uint16_t port_id, rte_mbuf** m, unsigned n) noexcept {
    rte_ring* r = inject_ring(port_id);
    return r == nullptr ? 0 : rte_ring_sp_enqueue_burst(r, reinterpret_cast<void**>(m), n, nullptr);
}

rte_ring* ExceptionPath::punt_ring(std::uint16_t port_id) const noexcept {
    const Link* l = link(port_id);
    return l ? l->punt : nullptr;
}

const ExceptionPath::Link* ExceptionPath::link(std::uint16_t port_id) const noexcept {
    for (const Link& l : links_)
        if (l.port_id == port_id)
            return &l;
    return nullptr;
}

unsigned ExceptionPath::poll(std::uint64_t now_us) noexcept {
    unsigned moved = 0;
    rte_mbuf* m[kBurst];
    rte_mbuf* pass[kBurst];
    for (Link& l : links_) {
        KernelPortCounters& c = *l.ctr;
        // Port -> kernel.
        unsigned n = rte_ring_sc_dequeue_burst(l.punt, reinterpret_cast<void**>(m), kBurst, nullptr);
        unsigned k = 0;
        for (unsigned i = 0; i < n; ++i) {
            std::atomic<std::uint64_t>* bad = nullptr;
            if (m[i]->pkt_len > static_cast<std::uint32_t>(l.mtu) + 14u)
                bad = &c.punt_oversize;
            else
                switch (check_ndp(rte_pktmbuf_mtod(m[i], const std::uint8_t*), m[i]->data_len)) {
                case NdpCheck::HopLimit: bad = &c.ndp_hop_limit; break;
                case NdpCheck::Code: bad = &c.ndp_code; break;
                case NdpCheck::Truncated: bad = &c.ndp_truncated; break;
                case NdpCheck::BadOption: bad = &c.ndp_bad_option; break;
                case NdpCheck::NotNdp:
                case NdpCheck::Ok: break;
                }
            if (bad == nullptr && !l.to_kernel.take(now_us))
                bad = &c.punt_rate_dropped;
            if (bad == nullptr) {
                pass[k++] = m[i];
            } else {
                rte_pktmbuf_free(m[i]);
                bad->fetch_add(1, std::memory_order_relaxed);
            }
        }
        if (k != 0) {
            const std::uint16_t sent = rte_eth_tx_burst(l.tap_id, 0, pass, static_cast<std::uint16_t>(k));
            c.punted.fetch_add(sent, std::memory_order_relaxed);
            if (sent < k) {
                c.tap_tx_full.fetch_add(k - sent, std::memory_order_relaxed);
                rte_pktmbuf_free_bulk(pass + sent, k - sent);
            }
        }
        moved += n;
        // Kernel -> port.
        n = rte_eth_rx_burst(l.tap_id, 0, m, kBurst);
        k = 0;
        for (unsigned i = 0; i < n; ++i) {
            if (m[i]->pkt_len > static_cast<std::uint32_t>(l.mtu) + 14u) {
                rte_pktmbuf_free(m[i]);
                c.inject_oversize.fetch_add(1, std::memory_order_relaxed);
            } else if (l.from_kernel.take(now_us)) {
                pass[k++] = m[i];
            } else {
                rte_pktmbuf_free(m[i]);
                c.inject_rate_dropped.fetch_add(1, std::memory_order_relaxed);
            }
        }
        if (k != 0) {
            const unsigned sent = inject(l.port_id, pass, k);
            c.injected.fetch_add(sent, std::memory_order_relaxed);
            if (sent < k) {
                c.port_tx_full.fetch_add(k - sent, std::memory_order_relaxed);
                rte_pktmbuf_free_bulk(pass + sent, k - sent);
            }
        }
        moved += n;
    }
    if (held_ != nullptr)
        moved += poll_held(now_us);
    return moved;
}

// Packets a worker forwarded to a next hop without a MAC: the Ethernet
// header is written but for the destination, the neighbor index is in
// hash.usr.
unsigned ExceptionPath::poll_held(std::uint64_t now_us) noexcept {
    rte_mbuf* m[kBurst];
    const unsigned n = rte_ring_sc_dequeue_burst(held_, reinterpret_cast<void**>(m), kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        const std::uint32_t nbr = m[i]->hash.usr;
        if (nbr >= held_by_nbr_.size()) {
            rte_pktmbuf_free(m[i]);
            held_dropped_.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        HeldQueue& q = held_by_nbr_[nbr];
        if (q.n == kHeldPerNeighbor) {
            // Full: the oldest goes, as the kernel's unres_qlen does.
            rte_pktmbuf_free(q.q[q.head].m);
            q.head = (q.head + 1) % kHeldPerNeighbor;
            --q.n;
            held_dropped_.fetch_add(1, std::memory_order_relaxed);
            held_count_.fetch_sub(1, std::memory_order_relaxed);
        }
        q.q[(q.head + q.n) % kHeldPerNeighbor] = Held{m[i], now_us};
        ++q.n;
        held_count_.fetch_add(1, std::memory_order_relaxed);
    }
    if (held_count_.load(std::memory_order_relaxed) == 0)
        return n;
    for (std::size_t nbr = 0; nbr < held_by_nbr_.size(); ++nbr) {
        HeldQueue& q = held_by_nbr_[nbr];
        if (q.n == 0)
            continue;
        const std::uint64_t word = fib_.mac_word(nbr);
        while (q.n != 0) {
            Held& h = q.q[q.head];
            if (word & kMacValid) {
                const MacAddr mac = unpack_mac(word);
                std::copy(mac.begin(), mac.end(), rte_pktmbuf_mtod(h.m, std::uint8_t*));
                const std::uint16_t port = fib_.neighbor(nbr).port_id;
                if (inject(port, &h.m, 1) == 1)
                    held_sent_.fetch_add(1, std::memory_order_relaxed);
                else {
                    rte_pktmbuf_free(h.m);
                    held_dropped_.fetch_add(1, std::memory_order_relaxed);
                }
            } else if ((word & kMacFailed) || now_us - h.since_us > kHeldMaxMs * 1000) {
                rte_pktmbuf_free(h.m);
                held_dropped_.fetch_add(1, std::memory_order_relaxed);
            } else {
                break;  // still resolving: the rest are younger
            }
            q.head = (q.head + 1) % kHeldPerNeighbor;
            --q.n;
            held_count_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    return n;
}

}  // namespace cats::dp
