// SPDX-License-Identifier: BSD-3-Clause
// DPDK links: any PMD EAL can open (PCI devices, net_pcap, net_af_packet,
// net_ring, net_tap, ...). One RX and one TX queue per port, used by the
// RX and the TX thread of the engine respectively.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include "eal_exit.hpp"
#include "live.hpp"

namespace cats::trafgen {

namespace {

constexpr std::uint16_t kRxDesc = 1024;
constexpr std::uint16_t kTxDesc = 1024;
constexpr unsigned kPoolSize = 8191;
// Room for the largest frame the generator builds.
constexpr std::uint16_t kMbufData = static_cast<std::uint16_t>(kMaxFrame + RTE_PKTMBUF_HEADROOM);

bool g_eal_up = false;
rte_mempool* g_pool = nullptr;

class DpdkLink final : public Link {
public:
    explicit DpdkLink(std::uint16_t port) : port_(port) {
        char name[RTE_ETH_NAME_MAX_LEN] = {};
        rte_eth_dev_get_name_by_port(port, name);
        name_ = name;
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(port, &info) != 0)
            throw LinkError("DPDK port " + name_ + ": cannot read device info");
        rte_eth_conf conf{};
        int rc = rte_eth_dev_configure(port, 1, 1, &conf);
        if (rc != 0)
            throw LinkError("DPDK port " + name_ + ": configure: " + rte_strerror(-rc));
        std::uint16_t rxd = kRxDesc, txd = kTxDesc;
        rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
        const int socket = rte_eth_dev_socket_id(port);
        const unsigned sock = socket < 0 ? 0u : static_cast<unsigned>(socket);
        if ((rc = rte_eth_rx_queue_setup(port, 0, rxd, sock, nullptr, g_pool)) != 0)
            throw LinkError("DPDK port " + name_ + ": RX queue: " + rte_strerror(-rc));
        if ((rc = rte_eth_tx_queue_setup(port, 0, txd, sock, nullptr)) != 0)
            throw LinkError("DPDK port " + name_ + ": TX queue: " + rte_strerror(-rc));
        if ((rc = rte_eth_dev_start(port)) != 0)
            throw LinkError("DPDK port " + name_ + ": start: " + rte_strerror(-rc));
        rte_eth_promiscuous_enable(port);
    }
    ~DpdkLink() override {
        rte_eth_dev_stop(port_);
        rte_eth_dev_close(port_);
    }

    const std::string& name() const override { return name_; }

    std::size_t send(std::span<const std::span<const std::uint8_t>> frames) noexcept override {
        std::array<rte_mbuf*, kBurst> m{};
        const std::size_t n = std::min(frames.size(), kBurst);
        if (rte_pktmbuf_alloc_bulk(g_pool, m.data(), static_cast<unsigned>(n)) != 0)
            return 0;
        for (std::size_t i = 0; i < n; ++i) {
            char* d = rte_pktmbuf_append(m[i], static_cast<std::uint16_t>(frames[i].size()));
            if (d != nullptr)
                std::memcpy(d, frames[i].data(), frames[i].size());
        }
        const std::uint16_t sent = rte_eth_tx_burst(port_, 0, m.data(), static_cast<std::uint16_t>(n));
        for (std::size_t i = sent; i < n; ++i)
            rte_pktmbuf_free(m[i]);
        return sent;
    }

    std::size_t receive(int timeout_ms, const RxFn& f) override {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        std::size_t total = 0;
        for (;;) {
            std::array<rte_mbuf*, kBurst> m{};
            const std::uint16_t n = rte_eth_rx_burst(port_, 0, m.data(), kBurst);
            const std::uint64_t ts = now_realtime_ns();
            for (std::uint16_t i = 0; i < n; ++i) {
                // Multi-segment frames are read from their first segment only;
                // the trafgen header is near the front.
                f(std::span<const std::uint8_t>(rte_pktmbuf_mtod(m[i], const std::uint8_t*), rte_pktmbuf_data_len(m[i])),
                  ts);
                rte_pktmbuf_free(m[i]);
            }
            total += n;
            if (n == kBurst)
                continue;
            if (total > 0 || std::chrono::steady_clock::now() >= deadline)
                return total;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

private:
    std::uint16_t port_;
    std::string name_;
};

}  // namespace

void dpdk_init(const std::vector<std::string>& eal_args) {
    if (g_eal_up)
        return;
    std::vector<std::string> args = eal_args;
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0)
        throw LinkError(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));
    g_eal_up = true;
    g_pool = rte_pktmbuf_pool_create("trafgen_pool", kPoolSize, 256, 0, kMbufData, static_cast<int>(rte_socket_id()));
    if (g_pool == nullptr)
        throw LinkError(std::string("mbuf pool: ") + rte_strerror(rte_errno) + " (give EAL more memory with -m)");
}

std::uint16_t dpdk_port_by_name(const std::string& name) {
    std::uint16_t id = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec == std::errc{} && end == name.data() + name.size() && rte_eth_dev_is_valid_port(id))
        return id;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0)
        return id;
    std::string known;
    std::uint16_t p = 0;
    RTE_ETH_FOREACH_DEV(p) {
        char n[RTE_ETH_NAME_MAX_LEN] = {};
        rte_eth_dev_get_name_by_port(p, n);
        known += (known.empty() ? "" : ", ") + std::string(n);
    }
    throw LinkError("no DPDK port '" + name + "' (ports: " + (known.empty() ? "none" : known) + ")");
}

std::unique_ptr<Link> open_dpdk_port(std::uint16_t port_id) { return std::make_unique<DpdkLink>(port_id); }

void dpdk_cleanup() {
    if (g_eal_up) {
        cats::eal_exit("cats-trafgen");
        g_eal_up = false;
    }
}

}  // namespace cats::trafgen
