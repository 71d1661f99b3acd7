// SPDX-License-Identifier: BSD-3-Clause
#include "port.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <stdexcept>

#include "stats.hpp"

namespace cats::dp {

namespace {

std::string at(std::size_t i) { return "ports[" + std::to_string(i) + "]"; }

std::string available_ports() {
    std::string s;
    std::uint16_t pid;
    RTE_ETH_FOREACH_DEV(pid) {
        char name[RTE_ETH_NAME_MAX_LEN];
        if (rte_eth_dev_get_name_by_port(pid, name) == 0)
            s += (s.empty() ? "" : ", ") + std::string(name);
    }
    return s.empty() ? "none: pass --vdev or a PCI device to EAL" : s;
}

void check(int rc, const std::string& what) {
    if (rc < 0)
        throw std::runtime_error(what + ": " + rte_strerror(-rc));
}

}  // namespace

rte_mempool* create_mbuf_pool(const Config& cfg, unsigned n_queues, int socket_id) {
    std::uint32_t per_port = 0;
    std::uint16_t max_mtu = 0;
    for (const PortConfig& p : cfg.ports) {
        per_port += (p.rx_desc + p.tx_desc) * n_queues;
        max_mtu = std::max(max_mtu, p.mtu);
    }
    // Queues full, plus a burst in flight per worker and per-lcore caches.
    const std::uint32_t n = std::max<std::uint32_t>(8191, per_port + n_queues * (2 * kMaxPorts * 64 + 512));
    const std::uint32_t room = std::max<std::uint32_t>(
        RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + max_mtu + 14 + 8 + 4);
    rte_mempool* mp = rte_pktmbuf_pool_create("cats_mbufs", n, 256, 0, static_cast<std::uint16_t>(room), socket_id);
    if (mp == nullptr)
        throw std::runtime_error("mbuf pool of " + std::to_string(n) + " buffers: " + rte_strerror(rte_errno) +
                                 " (give EAL more memory with -m, or hugepages)");
    return mp;
}

std::vector<PortState> start_ports(const Config& cfg, unsigned n_queues, rte_mempool* pool) {
    std::vector<PortState> out;
    for (std::size_t i = 0; i < cfg.ports.size(); ++i) {
        const PortConfig& pc = cfg.ports[i];
        PortState ps;
        ps.name = pc.name;
        if (rte_eth_dev_get_port_by_name(pc.name.c_str(), &ps.port_id) != 0)
            throw std::runtime_error(at(i) + ".name: no DPDK port named '" + pc.name +
                                     "' (available: " + available_ports() + ")");
        if (ps.port_id >= kMaxPorts)
            throw std::runtime_error(at(i) + ": port id " + std::to_string(ps.port_id) + " >= " +
                                     std::to_string(kMaxPorts));
        rte_eth_dev_info info{};
        check(rte_eth_dev_info_get(ps.port_id, &info), at(i) + ": rte_eth_dev_info_get");
        ps.driver = info.driver_name ? info.driver_name : "";
        ps.if_index = info.if_index;
        if (info.max_rx_queues < n_queues || info.max_tx_queues < n_queues)
            throw std::runtime_error(at(i) + ": " + pc.name + " has " + std::to_string(info.max_rx_queues) +
                                     " RX / " + std::to_string(info.max_tx_queues) + " TX queues, " +
                                     std::to_string(n_queues) + " workers need one each");

        rte_eth_conf conf{};
        if (n_queues > 1) {
            // L3 mode hashes on the IPv6 addresses only, so that fragments and
            // ESP of a flow reach the same worker as its first packet.
            std::uint64_t hf = RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER;
            if (cfg.gateway.rss == RssMode::L3L4)
                hf |= RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP;
            hf &= info.flow_type_rss_offloads;
            if (hf != 0) {
                conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
                conf.rx_adv_conf.rss_conf.rss_hf = hf;
                ps.rss = true;
            }
        }
        if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
            conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
        check(rte_eth_dev_configure(ps.port_id, static_cast<std::uint16_t>(n_queues),
                                    static_cast<std::uint16_t>(n_queues), &conf),
              at(i) + ": rte_eth_dev_configure");
        std::uint16_t nb_rx = pc.rx_desc, nb_tx = pc.tx_desc;
        check(rte_eth_dev_adjust_nb_rx_tx_desc(ps.port_id, &nb_rx, &nb_tx), at(i) + ": descriptors");
        const int socket = rte_eth_dev_socket_id(ps.port_id);
        for (unsigned q = 0; q < n_queues; ++q) {
            rte_eth_txconf txc = info.default_txconf;
            txc.offloads = conf.txmode.offloads;
            check(rte_eth_rx_queue_setup(ps.port_id, static_cast<std::uint16_t>(q), nb_rx,
                                         static_cast<unsigned>(socket), nullptr, pool),
                  at(i) + ": RX queue " + std::to_string(q));
            check(rte_eth_tx_queue_setup(ps.port_id, static_cast<std::uint16_t>(q), nb_tx,
                                         static_cast<unsigned>(socket), &txc),
                  at(i) + ": TX queue " + std::to_string(q));
        }
        // Not every vdev can change its MTU; the engine enforces the
        // configured MTU on output either way.
        const int mrc = rte_eth_dev_set_mtu(ps.port_id, pc.mtu);
        if (mrc < 0 && mrc != -ENOTSUP && mrc != -EINVAL)
            throw std::runtime_error(at(i) + ".mtu: " + rte_strerror(-mrc));
        ps.mtu = pc.mtu;
        if (pc.mac) {
            rte_ether_addr a;
            std::copy(pc.mac->begin(), pc.mac->end(), a.addr_bytes);
            check(rte_eth_dev_default_mac_addr_set(ps.port_id, &a), at(i) + ".mac");
        }
        check(rte_eth_dev_start(ps.port_id), at(i) + ": rte_eth_dev_start");
        rte_eth_promiscuous_enable(ps.port_id);  // not every vdev supports it
        rte_ether_addr a;
        check(rte_eth_macaddr_get(ps.port_id, &a), at(i) + ": MAC address");
        std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), ps.mac.begin());
        ps.rx_queues = static_cast<std::uint16_t>(n_queues);
        out.push_back(ps);
    }
    return out;
}

void stop_ports(const std::vector<PortState>& ports) {
    for (const PortState& p : ports) {
        rte_eth_dev_stop(p.port_id);
        rte_eth_dev_close(p.port_id);
    }
}

}  // namespace cats::dp
