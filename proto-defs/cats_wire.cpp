// SPDX-License-Identifier: BSD-3-Clause
#include "cats_wire.hpp"

namespace cats::wire {

namespace {

// Expected value length of a known sub-TLV, 0 for an unknown type.
constexpr std::size_t known_length(std::uint8_t type) noexcept {
    switch (static_cast<SubTlv>(type)) {
    case SubTlv::MaxLatencyUs: return 4;
    case SubTlv::MinBandwidthKbps: return 4;
    case SubTlv::ComputeType: return 2;
    case SubTlv::MinScore: return 1;
    case SubTlv::AffinityKey: return 8;
    case SubTlv::Priority: return 1;
    }
    return 0;
}

void put_sub(std::vector<std::uint8_t>& out, SubTlv type, std::uint64_t v, std::size_t len) {
    out.push_back(static_cast<std::uint8_t>(type));
    out.push_back(static_cast<std::uint8_t>(len));
    for (std::size_t i = len; i-- > 0;)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

BodyError parse_body(std::span<const std::uint8_t> body, CatsMetadata& out) noexcept {
    if (body.size() < kBodyFixedLen) [[unlikely]]
        return BodyError::Truncated;
    CatsMetadata md{};
    md.version = body[0] >> 4;
    md.flags = body[0] & 0x0F;
    if (md.version != kVersion) [[unlikely]]
        return BodyError::BadVersion;
    md.cs_id = load_be32(&body[4]);
    md.req.strict = (md.flags & kFlagStrict) != 0;

    std::size_t off = kBodyFixedLen;
    while (off < body.size()) {
        if (body.size() - off < 2) [[unlikely]]
            return BodyError::SubTlvOverrun;
        const std::uint8_t type = body[off];
        const std::size_t len = body[off + 1];
        off += 2;
        if (len > body.size() - off) [[unlikely]]
            return BodyError::SubTlvOverrun;
        const std::size_t want = known_length(type);
        if (want == 0) {  // unknown: skip (CATS R14 spirit: be liberal)
            off += len;
            continue;
        }
        if (len != want) [[unlikely]]
            return BodyError::SubTlvBadLength;
        const std::uint8_t* v = &body[off];
        switch (static_cast<SubTlv>(type)) {
        case SubTlv::MaxLatencyUs: md.req.max_latency_us = load_be32(v); break;
        case SubTlv::MinBandwidthKbps: md.req.min_bandwidth_kbps = load_be32(v); break;
        case SubTlv::ComputeType:
            md.req.compute_type = load_be16(v);
            if ((md.req.compute_type & ~kComputeAll) != 0) [[unlikely]]
                return BodyError::BadValue;
            break;
        case SubTlv::MinScore:
            md.req.min_score = v[0];
            if (md.req.min_score > kMaxScore) [[unlikely]]
                return BodyError::BadValue;
            break;
        case SubTlv::AffinityKey:
            md.affinity_key = load_be64(v);
            md.has_affinity_key = true;
            break;
        case SubTlv::Priority: md.req.priority = v[0]; break;
        }
        off += len;
    }
    out = md;
    return BodyError::Ok;
}

std::vector<std::uint8_t> encode_body(const CatsMetadata& md, bool emit_all) {
    std::vector<std::uint8_t> out(kBodyFixedLen, 0);
    std::uint8_t flags = md.flags & 0x0F;
    if (md.req.strict)
        flags |= kFlagStrict;
    out[0] = static_cast<std::uint8_t>((md.version << 4) | flags);
    store_be32(&out[4], md.cs_id);
    const Requirements none{};
    if (emit_all || md.req.max_latency_us != none.max_latency_us)
        put_sub(out, SubTlv::MaxLatencyUs, md.req.max_latency_us, 4);
    if (emit_all || md.req.min_bandwidth_kbps != none.min_bandwidth_kbps)
        put_sub(out, SubTlv::MinBandwidthKbps, md.req.min_bandwidth_kbps, 4);
    if (emit_all || md.req.compute_type != none.compute_type)
        put_sub(out, SubTlv::ComputeType, md.req.compute_type, 2);
    if (emit_all || md.req.min_score != none.min_score)
        put_sub(out, SubTlv::MinScore, md.req.min_score, 1);
    if (emit_all || md.has_affinity_key)
        put_sub(out, SubTlv::AffinityKey, md.affinity_key, 8);
    if (emit_all || md.req.priority != none.priority)
        put_sub(out, SubTlv::Priority, md.req.priority, 1);
    return out;
}

namespace {
std::vector<std::uint8_t> wrap(std::uint8_t type, const CatsMetadata& md) {
    std::vector<std::uint8_t> body = encode_body(md);
    std::vector<std::uint8_t> out;
    out.reserve(body.size() + 2);
    out.push_back(type);
    out.push_back(static_cast<std::uint8_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}
}  // namespace

std::vector<std::uint8_t> encode_srh_tlv(const CatsMetadata& md) { return wrap(kSrhTlvCats, md); }
std::vector<std::uint8_t> encode_option(const CatsMetadata& md) { return wrap(kOptCats, md); }

}  // namespace cats::wire
