// SPDX-License-Identifier: BSD-3-Clause
#include "cats_wire.hpp"

namespace cats::wire {

namespace {

void put_sub(std::vector<std::uint8_t>& out, SubTlv type, std::uint64_t v, std::size_t len) {
    out.push_back(static_cast<std::uint8_t>(type));
    out.push_back(static_cast<std::uint8_t>(len));
    for (std::size_t i = len; i-- > 0;)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

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
