// SPDX-License-Identifier: BSD-3-Clause
// Port bring-up: one RX and one TX queue per worker on every configured port,
// RSS over the RX queues when there is more than one worker, offloads only
// where the device has them.
//
// Thread safety: main thread only, before workers start and after they stop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"

struct rte_mempool;

namespace cats::dp {

struct PortState {
    std::uint16_t port_id = 0;
    std::string name;
    MacAddr mac{};
    std::uint16_t mtu = 1500;
    std::uint16_t rx_queues = 0;
    std::string driver;
    bool rss = false;
    unsigned if_index = 0;    // the kernel's interface, for ports the kernel owns (net_af_xdp)
};

// Packet buffer pool sized for every queue of every port. Throws on failure.
rte_mempool* create_mbuf_pool(const Config& cfg, unsigned n_queues, int socket_id);

// Configure and start every port; throws std::runtime_error naming the
// ports[i] entry that failed.
std::vector<PortState> start_ports(const Config& cfg, unsigned n_queues, rte_mempool* pool);

void stop_ports(const std::vector<PortState>& ports);

}  // namespace cats::dp
