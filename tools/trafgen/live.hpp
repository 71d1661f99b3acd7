// SPDX-License-Identifier: BSD-3-Clause
// Live traffic: links (AF_PACKET sockets or DPDK ports) and the send/receive
// engine that drives them.
//
// The engine runs one TX thread (the generator, a token bucket on
// CLOCK_MONOTONIC, bursts of up to 32 frames, the trafgen timestamp taken
// from CLOCK_REALTIME just before the burst is handed to the link) and one RX
// thread polling every receive link and feeding the Analyzer. Nothing is
// allocated per packet on the TX side: frames are built into buffers made
// once.
//
// Thread safety: a Link is used by one thread at a time (TX and RX of the
// same AF_PACKET interface use two sockets; a DPDK port's RX and TX queues
// are separate).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyzer.hpp"
#include "generator.hpp"
#include "progress.hpp"

namespace cats::trafgen {

class LinkError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kBurst = 32;

using RxFn = std::function<void(std::span<const std::uint8_t>, std::uint64_t rx_ns)>;

class Link {
public:
    virtual ~Link() = default;
    virtual const std::string& name() const = 0;
    // Send frames[0..n); returns how many were taken (the rest may be
    // retried).
    virtual std::size_t send(std::span<const std::span<const std::uint8_t>> frames) noexcept = 0;
    // Deliver what has arrived, waiting up to `timeout_ms` for the first
    // frame. Returns the number of frames delivered.
    virtual std::size_t receive(int timeout_ms, const RxFn& f) = 0;
};

// An AF_PACKET socket bound to `iface`. `rx`: promiscuous, ignores what this
// host sends (PACKET_IGNORE_OUTGOING). Throws LinkError (needs CAP_NET_RAW).
std::unique_ptr<Link> open_af_packet(const std::string& iface, bool rx);

// DPDK: initialise EAL with `eal_args` (argv[0] included) once, then open
// port `port_id` with one RX and one TX queue, promiscuous.
void dpdk_init(const std::vector<std::string>& eal_args);
std::unique_ptr<Link> open_dpdk_port(std::uint16_t port_id);
// Port id by DPDK device name ("net_pcap0") or decimal id.
std::uint16_t dpdk_port_by_name(const std::string& name);
void dpdk_cleanup();

struct RunOptions {
    Link* tx = nullptr;                        // null: receive only
    std::vector<std::pair<Link*, std::int32_t>> rx;  // link, instance (kUnknownInstance: from the packet)
    int linger_ms = 500;                       // keep receiving after the last packet sent
    double rx_timeout_s = 0;                   // receive only: stop after this long (0: until stopped)
    const std::atomic<bool>* stop = nullptr;   // set by a signal handler
    ProgressMode progress = ProgressMode::Off;  // on stderr, printed by the RX thread
};

// Send the generator's schedule on `tx` (if any) while receiving on every
// link of `rx` into `an`; returns what was sent. The analyzer must not be
// used by anyone else meanwhile.
TxCounts run_live(Generator& gen, Analyzer& an, const RunOptions& opt);

std::uint64_t now_realtime_ns() noexcept;

}  // namespace cats::trafgen
