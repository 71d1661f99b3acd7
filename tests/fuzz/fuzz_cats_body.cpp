// SPDX-License-Identifier: BSD-3-Clause
// The CATS body codec (proto-defs/cats_wire.hpp) on any bytes: the input is
// one body (what follows an option's or SRH TLV's Type and Length).
//
// Properties:
//   - parse_body() and decode_body() onto a fresh CatsMetadata give the same
//     error, and on success the same metadata;
//   - parse_body() leaves its output untouched on an error;
//   - a decoded body's fields are in range (version 0, strict == the flag,
//     score <= 10, compute type within the known bits);
//   - encode_body() of what was decoded decodes to the same metadata (with
//     emit_all, an absent affinity key comes back as key 0), and encoding
//     is canonical: encoding the result again gives the same bytes;
//   - the SRH TLV and option wrappers carry that body after Type/Length.
#include <algorithm>
#include <span>
#include <vector>

#include "cats_wire.hpp"
#include "fuzz_check.hpp"

using namespace cats::wire;

namespace {

CatsMetadata sentinel() {
    CatsMetadata md;
    md.flags = 0x5;
    md.cs_id = 0xA5A5A5A5;
    md.req.max_latency_us = 17;
    md.req.priority = 3;
    md.has_affinity_key = true;
    md.affinity_key = 0x0102030405060708ULL;
    return md;
}

CatsMetadata decode_ok(std::span<const std::uint8_t> body) {
    CatsMetadata md;
    FUZZ_CHECK(parse_body(body, md) == BodyError::Ok);
    return md;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> body(data, size);

    CatsMetadata parsed = sentinel();
    const BodyError ep = parse_body(body, parsed);
    CatsMetadata decoded;
    const BodyError ed = decode_body(body, decoded);
    FUZZ_CHECK(ep == ed);
    if (ep != BodyError::Ok) {
        FUZZ_CHECK(parsed == sentinel());
        FUZZ_CHECK(ep <= BodyError::BadValue);
        return 0;
    }
    FUZZ_CHECK(parsed == decoded);
    FUZZ_CHECK(size >= kBodyFixedLen);
    FUZZ_CHECK(parsed.version == kVersion);
    FUZZ_CHECK(parsed.flags <= 0x0F);
    FUZZ_CHECK(parsed.req.strict == ((parsed.flags & kFlagStrict) != 0));
    FUZZ_CHECK(parsed.req.min_score <= kMaxScore);
    FUZZ_CHECK((parsed.req.compute_type & ~kComputeAll) == 0);
    FUZZ_CHECK(parsed.cs_id == load_be32(data + 4));

    for (const bool emit_all : {false, true}) {
        const std::vector<std::uint8_t> enc = encode_body(parsed, emit_all);
        FUZZ_CHECK(enc.size() <= kBodyMaxLen);
        const CatsMetadata back = decode_ok(enc);
        // emit_all writes the affinity key even when there is none: it
        // comes back as a key of 0.
        CatsMetadata want = parsed;
        if (emit_all)
            want.has_affinity_key = true;
        FUZZ_CHECK(back == want);
        FUZZ_CHECK(encode_body(back, emit_all) == enc);
    }

    const std::vector<std::uint8_t> plain = encode_body(parsed);
    for (const auto& [wrapped, type] : {std::pair{encode_srh_tlv(parsed), kSrhTlvCats},
                                        std::pair{encode_option(parsed), kOptCats}}) {
        FUZZ_CHECK(wrapped.size() == plain.size() + 2);
        FUZZ_CHECK(wrapped[0] == type && wrapped[1] == plain.size());
        FUZZ_CHECK(std::equal(plain.begin(), plain.end(), wrapped.begin() + 2));
    }
    return 0;
}
