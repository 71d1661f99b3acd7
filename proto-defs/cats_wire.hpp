// SPDX-License-Identifier: BSD-3-Clause
// CATS metadata carried in IPv6 packets, wire format version 0.
// See proto-defs/SPEC.md for byte diagrams. No DPDK, no Boost: this header is
// shared by the dataplane, the control process and the tools.
//
// Thread safety: every function here is pure (no state) and may be called
// from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace cats::wire {

// RFC 8754 SRH TLV type from the experimental range (124..126).
inline constexpr std::uint8_t kSrhTlvCats = 124;
// RFC 8754 SRH TLV types we know to skip or honour.
inline constexpr std::uint8_t kSrhTlvPad1 = 0;
inline constexpr std::uint8_t kSrhTlvPadN = 4;
inline constexpr std::uint8_t kSrhTlvHmac = 5;

// RFC 8200 option type 0x1E: action bits 00 (skip if unknown), change bit 0
// (immutable en route), RFC 4727 experimental value.
inline constexpr std::uint8_t kOptCats = 0x1E;
inline constexpr std::uint8_t kOptPad1 = 0;
inline constexpr std::uint8_t kOptPadN = 1;

inline constexpr std::uint8_t kVersion = 0;
// Flags nibble (low 4 bits of the first body byte).
inline constexpr std::uint8_t kFlagStrict = 0x08;

// Fixed part of the body: Version/Flags, Reserved, Reserved(16), CS-ID.
inline constexpr std::size_t kBodyFixedLen = 8;
// Largest body that fits in an option or TLV (8-bit length).
inline constexpr std::size_t kBodyMaxLen = 255;

enum class SubTlv : std::uint8_t {
    MaxLatencyUs = 1,      // u32
    MinBandwidthKbps = 2,  // u32
    ComputeType = 3,       // u16 bitmask
    MinScore = 4,          // u8 0..10
    AffinityKey = 5,       // u64
    Priority = 6,          // u8
};

// COMPUTE_TYPE bits.
inline constexpr std::uint16_t kComputeCpu = 1;
inline constexpr std::uint16_t kComputeGpu = 2;
inline constexpr std::uint16_t kComputeNpu = 4;
inline constexpr std::uint16_t kComputeFpga = 8;
inline constexpr std::uint16_t kComputeAll = 0x0F;

inline constexpr std::uint8_t kMaxScore = 10;

// What a flow asks for. A field that the packet did not carry keeps the
// value that means "no requirement".
struct Requirements {
    std::uint32_t max_latency_us = UINT32_MAX;
    std::uint32_t min_bandwidth_kbps = 0;
    std::uint16_t compute_type = 0;  // 0: any
    std::uint8_t min_score = 0;
    std::uint8_t priority = 0;
    bool strict = false;

    friend bool operator==(const Requirements&, const Requirements&) = default;
};

struct CatsMetadata {
    std::uint8_t version = kVersion;
    std::uint8_t flags = 0;
    std::uint32_t cs_id = 0;
    Requirements req{};
    bool has_affinity_key = false;
    std::uint64_t affinity_key = 0;

    friend bool operator==(const CatsMetadata&, const CatsMetadata&) = default;
};

// Why a CATS body was rejected. Values are stable: they index counters.
enum class BodyError : std::uint8_t {
    Ok = 0,
    Truncated,         // shorter than the 8-byte fixed part
    BadVersion,        // Version != 0
    SubTlvOverrun,     // a sub-TLV header or value runs past the body
    SubTlvBadLength,   // a known sub-TLV with the wrong length
    BadValue,          // a known sub-TLV with a value out of range
};

// Parse the body that follows an option's or TLV's Type and Length bytes.
// Checks every length before reading; unknown sub-TLVs are skipped. `out`
// is written only on success.
inline BodyError parse_body(std::span<const std::uint8_t> body, CatsMetadata& out) noexcept;

// The same checks, decoded onto `md` in place: the fixed fields always, a
// sub-TLV's field when the body carries it, the rest left as they are (so
// a default-constructed `md` gives what parse_body() gives). On an error
// `md` is partly written. For the dataplane's per-packet path, which
// starts from a fresh CatsMetadata and drops the packet on any error.
inline BodyError decode_body(std::span<const std::uint8_t> body, CatsMetadata& md) noexcept;

// Encode a body (for tools and tests). Fields left at their "no requirement"
// value are not emitted, except that every sub-TLV is emitted when
// `emit_all` is set.
std::vector<std::uint8_t> encode_body(const CatsMetadata& md, bool emit_all = false);

// Encode a complete SRH TLV (Type 124, Length, body) and a complete option
// (Type 0x1E, Length, body).
std::vector<std::uint8_t> encode_srh_tlv(const CatsMetadata& md);
std::vector<std::uint8_t> encode_option(const CatsMetadata& md);

// Byte-order helpers that read through memcpy (never an unaligned cast).
inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
           (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
    return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    store_be16(p, static_cast<std::uint16_t>(v >> 16));
    store_be16(p + 2, static_cast<std::uint16_t>(v));
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
}

inline BodyError decode_body(std::span<const std::uint8_t> body, CatsMetadata& md) noexcept {
    const std::size_t n = body.size();
    const std::uint8_t* b = body.data();
    if (n < kBodyFixedLen) [[unlikely]]
        return BodyError::Truncated;
    if ((b[0] >> 4) != kVersion) [[unlikely]]
        return BodyError::BadVersion;
    md.version = kVersion;
    md.flags = b[0] & 0x0F;
    md.cs_id = load_be32(b + 4);
    md.req.strict = (md.flags & kFlagStrict) != 0;
    for (std::size_t off = kBodyFixedLen; off < n;) {
        if (n - off < 2) [[unlikely]]
            return BodyError::SubTlvOverrun;
        const auto type = static_cast<SubTlv>(b[off]);
        const std::size_t len = b[off + 1];
        const std::uint8_t* v = b + off + 2;
        if (len > n - off - 2) [[unlikely]]
            return BodyError::SubTlvOverrun;
        off += 2 + len;
        switch (type) {
        case SubTlv::MaxLatencyUs:
            if (len != 4) [[unlikely]]
                return BodyError::SubTlvBadLength;
            md.req.max_latency_us = load_be32(v);
            break;
        case SubTlv::MinBandwidthKbps:
            if (len != 4) [[unlikely]]
                return BodyError::SubTlvBadLength;
            md.req.min_bandwidth_kbps = load_be32(v);
            break;
        case SubTlv::ComputeType:
            if (len != 2) [[unlikely]]
                return BodyError::SubTlvBadLength;
            md.req.compute_type = load_be16(v);
            if ((md.req.compute_type & ~kComputeAll) != 0) [[unlikely]]
                return BodyError::BadValue;
            break;
        case SubTlv::MinScore:
            if (len != 1) [[unlikely]]
                return BodyError::SubTlvBadLength;
            md.req.min_score = v[0];
            if (md.req.min_score > kMaxScore) [[unlikely]]
                return BodyError::BadValue;
            break;
        case SubTlv::AffinityKey:
            if (len != 8) [[unlikely]]
                return BodyError::SubTlvBadLength;
            md.affinity_key = load_be64(v);
            md.has_affinity_key = true;
            break;
        case SubTlv::Priority:
            if (len != 1) [[unlikely]]
                return BodyError::SubTlvBadLength;
            md.req.priority = v[0];
            break;
        default:  // unknown: skipped (CATS R14 spirit: be liberal)
            break;
        }
    }
    return BodyError::Ok;
}

inline BodyError parse_body(std::span<const std::uint8_t> body, CatsMetadata& out) noexcept {
    CatsMetadata md{};
    const BodyError err = decode_body(body, md);
    if (err == BodyError::Ok)
        out = md;
    return err;
}

}  // namespace cats::wire
