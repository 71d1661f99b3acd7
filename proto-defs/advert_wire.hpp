// SPDX-License-Identifier: BSD-3-Clause
// Compute-routing advertisements, version 0: how a compute node's agent
// announces the service instances it hosts, with their metrics, to
// cats-control. One UDP datagram per message (default port 7410). Soft
// state: every advertised instance carries a lifetime and is withdrawn by
// cats-control when no advertisement refreshes it in time, so an agent that
// dies or is cut off is detected within one lifetime. See ADVERT.md.
//
//   0                   1                   2                   3
//   |                 magic 'C' 'A' 'T' 'A' (0x43415441)            |
//   |  version (0)  |     type      |     length (whole message)    |
//   |            key id             |           reserved            |
//   |                        node id                                |
//   |                   sequence (64 bits)                          |
//   |                                                               |
//   |          lifetime (s)         |        record count           |
//   |  records ...                                                  |
//   |  HMAC-SHA256 over every byte before it (32 bytes)             |
//
// ADVERTISE record:
//   | CS-ID (32) | instance id (32) | n SIDs (8) | rsv (8) | metrics len (16) |
//   | SIDs (16 bytes each, first SID first) | metric TLVs (metrics len bytes) |
// WITHDRAW record: | CS-ID (32) | instance id (32) |
//
// Metric TLVs: type (8) | length (8, of the value) | value. Unknown types are
// skipped (CATS requirement R14); a known type with the wrong length, or a
// TLV that overruns, makes the whole message malformed.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cats::advert {

inline constexpr std::uint32_t kMagic = 0x43415441;  // "CATA"
inline constexpr std::uint8_t kVersion = 0;
inline constexpr std::size_t kHeaderLen = 28;
inline constexpr std::size_t kMacLen = 32;
inline constexpr std::size_t kMaxMessage = 65000;
inline constexpr std::size_t kMaxSids = 5;
inline constexpr std::uint16_t kDefaultPort = 7410;

enum class Type : std::uint8_t { Advertise = 1, Withdraw = 2 };

enum class MetricType : std::uint8_t {
    LoadPct = 1,          // u8 0..100
    FreeCapacity = 2,     // u32 sessions
    QueueDelayUs = 3,     // u32 (L0 queueing delay)
    BandwidthKbps = 4,    // u32
    L2Score = 5,          // u8 0..10 (draft-ietf-cats-metric-definition)
    ComputeTypes = 6,     // u16 bitmask 1 CPU 2 GPU 4 NPU 8 FPGA
    Weight = 7,           // u32 operator weight
    LatencyUs = 8,        // u32 network latency gateway -> instance, if known
};

// Metrics as advertised; a metric the message did not carry is nullopt.
struct Metrics {
    std::optional<std::uint8_t> load_pct;
    std::optional<std::uint32_t> free_capacity;
    std::optional<std::uint32_t> queue_delay_us;
    std::optional<std::uint32_t> bandwidth_kbps;
    std::optional<std::uint8_t> l2_score;
    std::optional<std::uint16_t> compute_types;
    std::optional<std::uint32_t> weight;
    std::optional<std::uint32_t> latency_us;
    friend bool operator==(const Metrics&, const Metrics&) = default;
};

struct Record {
    std::uint32_t cs_id = 0;
    std::uint32_t instance_id = 0;
    std::vector<std::array<std::uint8_t, 16>> sids;  // Advertise: 1..5
    Metrics metrics;
    friend bool operator==(const Record&, const Record&) = default;
};

struct Message {
    Type type = Type::Advertise;
    std::uint16_t key_id = 0;
    std::uint32_t node_id = 0;
    std::uint64_t sequence = 0;
    std::uint16_t lifetime_s = 0;  // Advertise: > 0
    std::vector<Record> records;
    friend bool operator==(const Message&, const Message&) = default;
};

// Why a datagram was rejected; values index counters.
enum class Error : std::uint8_t {
    Ok = 0,
    Truncated,        // shorter than header + MAC, or a record runs past
    BadMagic,
    BadVersion,
    BadType,
    BadLength,        // length field != datagram size, or > kMaxMessage
    UnknownKey,       // key id not configured for any peer
    BadMac,           // HMAC does not verify
    Replay,           // sequence <= last accepted from this node
    BadRecord,        // SID count, metric TLV length/range, lifetime 0
    Count
};
inline constexpr std::array<const char*, static_cast<std::size_t>(Error::Count)> kErrorNames = {
    "ok", "truncated", "bad_magic", "bad_version", "bad_type", "bad_length",
    "unknown_key", "bad_mac", "replay", "bad_record",
};

// Serialize and sign with HMAC-SHA256(key). Throws std::invalid_argument for
// a message decode() would reject (no SIDs, lifetime 0, out-of-range metric)
// and std::length_error past kMaxMessage. Withdraw sends lifetime 0.
std::vector<std::uint8_t> encode(const Message& m, std::span<const std::uint8_t> key);

// Read the fixed header only (to find the key by key id and the node's last
// sequence before the MAC is checked). Checks magic, version, type, length.
Error peek(std::span<const std::uint8_t> dgram, Message& hdr_out) noexcept;

// Verify the MAC with `key` (constant time), then decode every record.
// Replay checking is the caller's (it keeps per-node sequence state).
Error decode(std::span<const std::uint8_t> dgram, std::span<const std::uint8_t> key, Message& out,
             std::string* detail = nullptr);

// The HMAC key every side holds (cats-agent signs, cats-control checks):
// 16..128 bytes, keys shorter than 128 bits refused.
inline constexpr std::size_t kMinKeyLen = 16;
inline constexpr std::size_t kMaxKeyLen = 128;

// A key written as hex (config files, --key-hex, key files): its bytes, or
// nullopt with why not in `error` (e.g. "odd number of hex digits (33)").
std::optional<std::vector<std::uint8_t>> parse_hex_key(std::string_view text, std::string& error);

// HMAC-SHA256 (OpenSSL).
std::array<std::uint8_t, kMacLen> hmac_sha256(std::span<const std::uint8_t> key,
                                              std::span<const std::uint8_t> data);

}  // namespace cats::advert
