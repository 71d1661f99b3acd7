// SPDX-License-Identifier: BSD-3-Clause
// The trafgen header: the first 32 bytes of the payload of every packet
// cats-trafgen sends (right after the UDP/TCP header or the 8-byte ESP
// header). It lets the receive side tell which flow and which packet of that
// flow arrived, and when it left. Network byte order:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                     Magic 0x43544731 "CTG1"                   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   Version=1   |     Flags     |  Bad kind     |   Reserved    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                            Run ID                             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                            Flow ID                            |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Sequence number (64 bits)                  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |               TX timestamp, ns since the epoch (64)           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Flags: 0x01 malformed (Bad kind says which, see malformed.hpp), 0x02 first
// packet of its flow, 0x04 last packet of its flow. Run ID: derived from the
// seed, so that packets of another run seen on the same wire are ignored.
// Sequence: 0-based per flow (per kind for malformed packets). Timestamp:
// CLOCK_REALTIME, so that pcap timestamps written by another process on the
// same host (tcpdump, DPDK's net_pcap) compare with it.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "cats_wire.hpp"

namespace cats::trafgen {

inline constexpr std::uint32_t kTgMagic = 0x43544731;  // "CTG1"
inline constexpr std::uint8_t kTgVersion = 1;
inline constexpr std::size_t kTgHdrLen = 32;

inline constexpr std::uint8_t kTgFlagMalformed = 0x01;
inline constexpr std::uint8_t kTgFlagFirst = 0x02;
inline constexpr std::uint8_t kTgFlagLast = 0x04;

// Field offsets, checked against the diagram above.
inline constexpr std::size_t kTgOffFlags = 5;
inline constexpr std::size_t kTgOffKind = 6;
inline constexpr std::size_t kTgOffRunId = 8;
inline constexpr std::size_t kTgOffFlowId = 12;
inline constexpr std::size_t kTgOffSeq = 16;
inline constexpr std::size_t kTgOffTxNs = 24;
static_assert(kTgOffTxNs + 8 == kTgHdrLen);

struct TgHeader {
    std::uint8_t flags = 0;
    std::uint8_t bad_kind = 0;
    std::uint32_t run_id = 0;
    std::uint32_t flow_id = 0;
    std::uint64_t seq = 0;
    std::uint64_t tx_ns = 0;

    friend bool operator==(const TgHeader&, const TgHeader&) = default;
};

inline void write_tg_header(std::uint8_t* p, const TgHeader& h) noexcept {
    wire::store_be32(p, kTgMagic);
    p[4] = kTgVersion;
    p[kTgOffFlags] = h.flags;
    p[kTgOffKind] = h.bad_kind;
    p[7] = 0;
    wire::store_be32(p + kTgOffRunId, h.run_id);
    wire::store_be32(p + kTgOffFlowId, h.flow_id);
    wire::store_be64(p + kTgOffSeq, h.seq);
    wire::store_be64(p + kTgOffTxNs, h.tx_ns);
}

// The header at the start of `b`, if `b` holds one (magic and version).
inline std::optional<TgHeader> read_tg_header(std::span<const std::uint8_t> b) noexcept {
    if (b.size() < kTgHdrLen || wire::load_be32(b.data()) != kTgMagic || b[4] != kTgVersion)
        return std::nullopt;
    TgHeader h;
    h.flags = b[kTgOffFlags];
    h.bad_kind = b[kTgOffKind];
    h.run_id = wire::load_be32(b.data() + kTgOffRunId);
    h.flow_id = wire::load_be32(b.data() + kTgOffFlowId);
    h.seq = wire::load_be64(b.data() + kTgOffSeq);
    h.tx_ns = wire::load_be64(b.data() + kTgOffTxNs);
    return h;
}

}  // namespace cats::trafgen
