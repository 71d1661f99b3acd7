// SPDX-License-Identifier: BSD-3-Clause
// Advertisement codec, version 0 (layout in advert_wire.hpp, rules in
// ADVERT.md). decode() is the only code that reads bytes from a peer: it
// checks the header, then the MAC, then every record, reading nothing it has
// not bounds-checked and allocating no more than the datagram can describe.
#include "advert_wire.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "byte_io.hpp"
#include "cats_wire.hpp"

namespace cats::advert {

namespace {

using wire::load_be16;
using wire::load_be32;
using wire::load_be64;

// Header field offsets (see the diagram in advert_wire.hpp).
constexpr std::size_t kOffMagic = 0;
constexpr std::size_t kOffVersion = 4;
constexpr std::size_t kOffType = 5;
constexpr std::size_t kOffLength = 6;
constexpr std::size_t kOffKeyId = 8;
constexpr std::size_t kOffReserved = 10;
constexpr std::size_t kOffNodeId = 12;
constexpr std::size_t kOffSequence = 16;
constexpr std::size_t kOffLifetime = 24;
constexpr std::size_t kOffCount = 26;
static_assert(kOffCount + 2 == kHeaderLen);
static_assert(kOffReserved + 2 == kOffNodeId);

// ADVERTISE record: CS-ID, instance id, n SIDs, reserved, metrics length.
constexpr std::size_t kAdvFixedLen = 12;
constexpr std::size_t kSidLen = 16;
constexpr std::size_t kWithdrawRecordLen = 8;
constexpr std::uint16_t kComputeMask = 0x0F;  // CPU | GPU | NPU | FPGA
constexpr std::uint8_t kMaxLoadPct = 100;
constexpr std::uint8_t kMaxL2Score = 10;

using Writer = wire::ByteWriter;
using Reader = wire::ByteReader;

void set_detail(std::string* detail, std::string what) {
    if (detail != nullptr)
        *detail = std::move(what);
}

std::string hex16(std::uint16_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "0x";
    for (int shift = 12; shift >= 0; shift -= 4)
        out += kHex[(v >> shift) & 0xF];
    return out;
}

std::string record_name(std::size_t i, const Record& r) {
    return "record " + std::to_string(i) + " (cs " + std::to_string(r.cs_id) + " instance " +
           std::to_string(r.instance_id) + ")";
}

// Whether `m` is one decode() accepts; empty if so, else what is wrong.
// encode() refuses to sign anything else.
std::string invalid_reason(const Message& m) {
    if (m.type != Type::Advertise && m.type != Type::Withdraw)
        return "unknown type " + std::to_string(static_cast<unsigned>(m.type));
    if (m.records.size() > UINT16_MAX)
        return std::to_string(m.records.size()) + " records, at most 65535";
    if (m.type == Type::Withdraw) {
        for (std::size_t i = 0; i < m.records.size(); ++i)
            if (!m.records[i].sids.empty() || m.records[i].metrics != Metrics{})
                return record_name(i, m.records[i]) + ": a withdrawal carries no SIDs or metrics";
        return {};
    }
    if (m.lifetime_s == 0)
        return "an advertisement needs a lifetime > 0";
    for (std::size_t i = 0; i < m.records.size(); ++i) {
        const Record& r = m.records[i];
        if (r.sids.empty() || r.sids.size() > kMaxSids)
            return record_name(i, r) + ": " + std::to_string(r.sids.size()) + " SIDs, want 1.." +
                   std::to_string(kMaxSids);
        const Metrics& mt = r.metrics;
        if (mt.load_pct && *mt.load_pct > kMaxLoadPct)
            return record_name(i, r) + ": load " + std::to_string(*mt.load_pct) + "%, at most 100";
        if (mt.l2_score && *mt.l2_score > kMaxL2Score)
            return record_name(i, r) + ": L2 score " + std::to_string(*mt.l2_score) + ", at most 10";
        if (mt.compute_types && (*mt.compute_types & ~kComputeMask) != 0)
            return record_name(i, r) + ": compute types " + hex16(*mt.compute_types) + " has bits outside 0x0F";
    }
    return {};
}

template <class T>
void put_tlv(Writer& w, MetricType t, const std::optional<T>& v) {
    if (!v)
        return;
    w.u8(static_cast<std::uint8_t>(t));
    w.u8(sizeof(T));
    if constexpr (sizeof(T) == 1)
        w.u8(*v);
    else if constexpr (sizeof(T) == 2)
        w.u16(*v);
    else
        w.u32(*v);
}

void put_metrics(Writer& w, const Metrics& m) {
    put_tlv(w, MetricType::LoadPct, m.load_pct);
    put_tlv(w, MetricType::FreeCapacity, m.free_capacity);
    put_tlv(w, MetricType::QueueDelayUs, m.queue_delay_us);
    put_tlv(w, MetricType::BandwidthKbps, m.bandwidth_kbps);
    put_tlv(w, MetricType::L2Score, m.l2_score);
    put_tlv(w, MetricType::ComputeTypes, m.compute_types);
    put_tlv(w, MetricType::Weight, m.weight);
    put_tlv(w, MetricType::LatencyUs, m.latency_us);
}

// The length a known metric's value must have, or 0 for an unknown type.
constexpr std::size_t known_len(std::uint8_t type) {
    switch (static_cast<MetricType>(type)) {
    case MetricType::LoadPct:
    case MetricType::L2Score: return 1;
    case MetricType::ComputeTypes: return 2;
    case MetricType::FreeCapacity:
    case MetricType::QueueDelayUs:
    case MetricType::BandwidthKbps:
    case MetricType::Weight:
    case MetricType::LatencyUs: return 4;
    }
    return 0;
}

// Walks the metric TLVs of one record. Unknown types are skipped (CATS
// R14); a repeated known type: the last one wins.
std::string get_metrics(std::span<const std::uint8_t> tlvs, Metrics& m) {
    Reader r(tlvs);
    while (r.left() != 0) {
        std::uint8_t type = 0, len = 0;
        std::span<const std::uint8_t> v;
        if (!r.u8(type) || !r.u8(len) || !r.sub(len, v))
            return "metric TLV overruns the metrics";
        const std::size_t want = known_len(type);
        if (want == 0)
            continue;
        if (len != want)
            return "metric type " + std::to_string(type) + " of length " + std::to_string(len) + ", want " +
                   std::to_string(want);
        const std::uint8_t* p = v.data();
        switch (static_cast<MetricType>(type)) {
        case MetricType::LoadPct:
            if (p[0] > kMaxLoadPct)
                return "load " + std::to_string(p[0]) + "%, at most 100";
            m.load_pct = p[0];
            break;
        case MetricType::L2Score:
            if (p[0] > kMaxL2Score)
                return "L2 score " + std::to_string(p[0]) + ", at most 10";
            m.l2_score = p[0];
            break;
        case MetricType::ComputeTypes: {
            const std::uint16_t bits = load_be16(p);
            if ((bits & ~kComputeMask) != 0)
                return "compute types " + hex16(bits) + " has bits outside 0x0F";
            m.compute_types = bits;
            break;
        }
        case MetricType::FreeCapacity: m.free_capacity = load_be32(p); break;
        case MetricType::QueueDelayUs: m.queue_delay_us = load_be32(p); break;
        case MetricType::BandwidthKbps: m.bandwidth_kbps = load_be32(p); break;
        case MetricType::Weight: m.weight = load_be32(p); break;
        case MetricType::LatencyUs: m.latency_us = load_be32(p); break;
        }
    }
    return {};
}

// One ADVERTISE record. Truncated when it runs past the records area,
// BadRecord when its content is wrong.
Error get_advertise(Reader& r, std::size_t i, Record& rec, std::string* detail) {
    std::uint8_t n = 0, rsv = 0;
    std::uint16_t mlen = 0;
    if (!r.u32(rec.cs_id) || !r.u32(rec.instance_id) || !r.u8(n) || !r.u8(rsv) || !r.u16(mlen)) {
        set_detail(detail, "record " + std::to_string(i) + ": truncated");
        return Error::Truncated;
    }
    if (n < 1 || n > kMaxSids) {
        set_detail(detail, record_name(i, rec) + ": " + std::to_string(n) + " SIDs, want 1.." +
                               std::to_string(kMaxSids));
        return Error::BadRecord;
    }
    if (std::size_t{n} * kSidLen + mlen > r.left()) {
        set_detail(detail, record_name(i, rec) + ": SIDs and metrics run past the message");
        return Error::Truncated;
    }
    rec.sids.resize(n);
    for (auto& s : rec.sids)
        r.bytes(s.data(), kSidLen);  // cannot fail: checked above
    std::span<const std::uint8_t> tlvs;
    r.sub(mlen, tlvs);
    if (std::string e = get_metrics(tlvs, rec.metrics); !e.empty()) {
        set_detail(detail, record_name(i, rec) + ": " + e);
        return Error::BadRecord;
    }
    return Error::Ok;
}

// What peek() found wrong, in words.
std::string header_detail(Error e, std::span<const std::uint8_t> dgram) {
    const std::string size = std::to_string(dgram.size()) + " bytes";
    switch (e) {
    case Error::Truncated: return "datagram of " + size + ", shorter than header + MAC (" +
                                  std::to_string(kHeaderLen + kMacLen) + ")";
    case Error::BadMagic: return "bad magic";
    case Error::BadVersion: return "version " + std::to_string(dgram[kOffVersion]) + ", want 0";
    case Error::BadType: return "unknown type " + std::to_string(dgram[kOffType]);
    case Error::BadLength: return "length field " + std::to_string(load_be16(&dgram[kOffLength])) +
                                  ", datagram of " + size + " (at most " + std::to_string(kMaxMessage) + ")";
    default: break;
    }
    return kErrorNames[static_cast<std::size_t>(e)];
}

}  // namespace

std::array<std::uint8_t, kMacLen> hmac_sha256(std::span<const std::uint8_t> key,
                                              std::span<const std::uint8_t> data) {
    // OpenSSL wants non-null pointers even for empty inputs.
    static constexpr std::uint8_t kEmpty = 0;
    std::array<std::uint8_t, kMacLen> mac{};
    unsigned int len = 0;
    if (key.size() > static_cast<std::size_t>(INT32_MAX))
        throw std::length_error("hmac_sha256: key too long");
    if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
             data.empty() ? &kEmpty : data.data(), data.size(), mac.data(), &len) == nullptr ||
        len != kMacLen)
        throw std::runtime_error("hmac_sha256: OpenSSL HMAC failed");
    return mac;
}

std::vector<std::uint8_t> encode(const Message& m, std::span<const std::uint8_t> key) {
    if (std::string e = invalid_reason(m); !e.empty())
        throw std::invalid_argument("advert::encode: " + e);
    std::vector<std::uint8_t> out;
    Writer w(out);
    w.u32(kMagic);
    w.u8(kVersion);
    w.u8(static_cast<std::uint8_t>(m.type));
    w.u16(0);  // length, patched below
    w.u16(m.key_id);
    w.u16(0);  // reserved
    w.u32(m.node_id);
    w.u64(m.sequence);
    w.u16(m.lifetime_s);
    w.u16(static_cast<std::uint16_t>(m.records.size()));
    for (const Record& r : m.records) {
        w.u32(r.cs_id);
        w.u32(r.instance_id);
        if (m.type == Type::Withdraw)
            continue;  // a withdrawal names the instance, nothing more
        w.u8(static_cast<std::uint8_t>(r.sids.size()));
        w.u8(0);
        const std::size_t mlen_at = out.size();
        w.u16(0);  // metrics length, patched below
        for (const auto& s : r.sids)
            w.bytes(s.data(), s.size());
        const std::size_t tlv_start = out.size();
        put_metrics(w, r.metrics);
        wire::store_be16(&out[mlen_at], static_cast<std::uint16_t>(out.size() - tlv_start));
        if (out.size() + kMacLen > kMaxMessage)
            break;  // reported below; stop before growing further
    }
    const std::size_t total = out.size() + kMacLen;
    if (total > kMaxMessage)
        throw std::length_error("advert::encode: message of more than " + std::to_string(kMaxMessage) +
                                " bytes; split the records");
    wire::store_be16(&out[kOffLength], static_cast<std::uint16_t>(total));
    const auto mac = hmac_sha256(key, out);
    out.insert(out.end(), mac.begin(), mac.end());
    return out;
}

Error peek(std::span<const std::uint8_t> dgram, Message& hdr_out) noexcept {
    if (dgram.size() < kHeaderLen)
        return Error::Truncated;
    const std::uint8_t* p = dgram.data();
    if (load_be32(p + kOffMagic) != kMagic)
        return Error::BadMagic;
    if (p[kOffVersion] != kVersion)
        return Error::BadVersion;
    const std::uint8_t type = p[kOffType];
    if (type != static_cast<std::uint8_t>(Type::Advertise) && type != static_cast<std::uint8_t>(Type::Withdraw))
        return Error::BadType;
    const std::size_t length = load_be16(p + kOffLength);
    if (length > kMaxMessage || length != dgram.size())
        return Error::BadLength;
    if (dgram.size() < kHeaderLen + kMacLen)
        return Error::Truncated;
    hdr_out.type = static_cast<Type>(type);
    hdr_out.key_id = load_be16(p + kOffKeyId);
    hdr_out.node_id = load_be32(p + kOffNodeId);
    hdr_out.sequence = load_be64(p + kOffSequence);
    hdr_out.lifetime_s = load_be16(p + kOffLifetime);
    hdr_out.records.clear();
    return Error::Ok;
}

Error decode(std::span<const std::uint8_t> dgram, std::span<const std::uint8_t> key, Message& out,
             std::string* detail) {
    Message m;
    if (const Error e = peek(dgram, m); e != Error::Ok) {
        if (detail != nullptr)
            *detail = header_detail(e, dgram);
        return e;
    }
    // Authenticate before looking at anything the sender chose freely.
    const std::span<const std::uint8_t> signed_part = dgram.first(dgram.size() - kMacLen);
    const auto want = hmac_sha256(key, signed_part);
    if (CRYPTO_memcmp(want.data(), dgram.data() + signed_part.size(), kMacLen) != 0) {
        set_detail(detail, "HMAC-SHA256 does not verify with key " + std::to_string(m.key_id));
        return Error::BadMac;
    }
    if (m.type == Type::Advertise && m.lifetime_s == 0) {
        set_detail(detail, "an advertisement with lifetime 0");
        return Error::BadRecord;
    }
    const std::size_t count = load_be16(dgram.data() + kOffCount);
    Reader r(signed_part.subspan(kHeaderLen));
    // Cap the allocation by what the datagram can hold. The fixed part is
    // the bound (not fixed part + one SID) so that a record with 0 SIDs is
    // reported as the bad record it is, not as a truncation.
    const std::size_t min_len = m.type == Type::Advertise ? kAdvFixedLen : kWithdrawRecordLen;
    if (count * min_len > r.left()) {
        set_detail(detail, std::to_string(count) + " records do not fit in " + std::to_string(r.left()) + " bytes");
        return Error::Truncated;
    }
    m.records.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        Record& rec = m.records[i];
        if (m.type == Type::Withdraw) {
            r.u32(rec.cs_id);  // cannot fail: count * 8 bytes checked above
            r.u32(rec.instance_id);
            continue;
        }
        if (const Error e = get_advertise(r, i, rec, detail); e != Error::Ok)
            return e;
    }
    if (r.left() != 0) {
        set_detail(detail, std::to_string(r.left()) + " bytes after the last of " + std::to_string(count) +
                               " records");
        return Error::BadLength;
    }
    out = std::move(m);
    return Error::Ok;
}

std::optional<std::vector<std::uint8_t>> parse_hex_key(std::string_view text, std::string& error) {
    const std::string range = std::to_string(2 * kMinKeyLen) + ".." + std::to_string(2 * kMaxKeyLen) + " hex digits";
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (!std::all_of(text.begin(), text.end(), [&](char c) { return nibble(c) >= 0; })) {
        error = "is not hex (expected " + range + ")";
        return std::nullopt;
    }
    if (text.size() % 2 != 0) {
        error = "odd number of hex digits (" + std::to_string(text.size()) + ")";
        return std::nullopt;
    }
    if (text.size() < 2 * kMinKeyLen || text.size() > 2 * kMaxKeyLen) {
        error = "key of " + std::to_string(text.size() / 2) + " bytes; expected " + range +
                " (HMAC-SHA256 keys shorter than 128 bits are refused)";
        return std::nullopt;
    }
    std::vector<std::uint8_t> key(text.size() / 2);
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<std::uint8_t>((nibble(text[2 * i]) << 4) | nibble(text[2 * i + 1]));
    return key;
}

}  // namespace cats::advert
