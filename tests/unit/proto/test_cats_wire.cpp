// SPDX-License-Identifier: BSD-3-Clause
// CATS metadata wire format v0 (proto-defs/cats_wire.hpp): encoder and parser
// on hand-written bytes. Body layout:
//
//   0                   1                   2                   3
//   |Version| Flags |   Reserved    |           Reserved            |
//   |                            CS-ID                              |
//   |  Sub-TLV Type | Sub-TLV Len   |  Value ...                    |
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "cats_wire.hpp"

using namespace cats::wire;
using Bytes = std::vector<std::uint8_t>;

namespace {

// The fixed 8 bytes: version 0, given flags, CS-ID 0x0A0B0C0D.
Bytes fixed_part(std::uint8_t first = 0x00) { return {first, 0, 0, 0, 0x0A, 0x0B, 0x0C, 0x0D}; }

Bytes with(Bytes b, std::initializer_list<std::uint8_t> more) {
    b.insert(b.end(), more.begin(), more.end());
    return b;
}

BodyError parse(const Bytes& b, CatsMetadata& md) { return parse_body(b, md); }

CatsMetadata full_metadata() {
    CatsMetadata md;
    md.flags = kFlagStrict;
    md.cs_id = 0xDEADBEEF;
    md.req.max_latency_us = 5000;
    md.req.min_bandwidth_kbps = 100000;
    md.req.compute_type = kComputeGpu | kComputeNpu;
    md.req.min_score = 7;
    md.req.priority = 3;
    md.req.strict = true;
    md.has_affinity_key = true;
    md.affinity_key = 0x0102030405060708ULL;
    return md;
}

// A sentinel that a failed parse must leave untouched.
CatsMetadata sentinel() {
    CatsMetadata md;
    md.cs_id = 0x5555AAAA;
    md.req.priority = 99;
    return md;
}

}  // namespace

TEST_CASE("encode_body writes the exact v0 layout, every sub-TLV big-endian", "[wire]") {
    const Bytes body = encode_body(full_metadata());
    const Bytes want = {
        0x08, 0x00, 0x00, 0x00,                                // V=0 S=1, reserved
        0xDE, 0xAD, 0xBE, 0xEF,                                // CS-ID
        0x01, 0x04, 0x00, 0x00, 0x13, 0x88,                    // MAX_LATENCY_US 5000
        0x02, 0x04, 0x00, 0x01, 0x86, 0xA0,                    // MIN_BANDWIDTH 100000
        0x03, 0x02, 0x00, 0x06,                                // COMPUTE_TYPE GPU|NPU
        0x04, 0x01, 0x07,                                      // MIN_SCORE 7
        0x05, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // AFFINITY_KEY
        0x06, 0x01, 0x03,                                      // PRIORITY 3
    };
    CHECK(body == want);
}

TEST_CASE("round trip with every sub-TLV", "[wire]") {
    const CatsMetadata md = full_metadata();
    CatsMetadata got;
    REQUIRE(parse(encode_body(md), got) == BodyError::Ok);
    CHECK(got == md);
    CHECK(got.version == kVersion);
}

TEST_CASE("round trip of each sub-TLV alone", "[wire]") {
    CatsMetadata md;
    md.cs_id = 42;
    SECTION("max latency") { md.req.max_latency_us = 1; }
    SECTION("max latency zero") { md.req.max_latency_us = 0; }
    SECTION("min bandwidth") { md.req.min_bandwidth_kbps = UINT32_MAX; }
    SECTION("compute type all") { md.req.compute_type = kComputeAll; }
    SECTION("compute type cpu") { md.req.compute_type = kComputeCpu; }
    SECTION("compute type fpga") { md.req.compute_type = kComputeFpga; }
    SECTION("min score max") { md.req.min_score = kMaxScore; }
    SECTION("affinity key zero still carried") { md.has_affinity_key = true; }
    SECTION("affinity key") {
        md.has_affinity_key = true;
        md.affinity_key = UINT64_MAX;
    }
    SECTION("priority") { md.req.priority = 255; }
    const Bytes body = encode_body(md);
    // Exactly one sub-TLV after the fixed part.
    REQUIRE(body.size() > kBodyFixedLen);
    CHECK(body.size() == kBodyFixedLen + 2 + body[kBodyFixedLen + 1]);
    CatsMetadata got;
    REQUIRE(parse(body, got) == BodyError::Ok);
    CHECK(got == md);
}

TEST_CASE("no requirement: only the fixed part is emitted and parses to defaults", "[wire]") {
    CatsMetadata md;
    md.cs_id = 0x01020304;
    const Bytes body = encode_body(md);
    CHECK(body == Bytes{0x00, 0, 0, 0, 0x01, 0x02, 0x03, 0x04});
    CatsMetadata got = sentinel();
    REQUIRE(parse(body, got) == BodyError::Ok);
    CHECK(got == md);
    CHECK(got.req == Requirements{});
    CHECK_FALSE(got.has_affinity_key);
}

TEST_CASE("emit_all writes every sub-TLV even at its default", "[wire]") {
    CatsMetadata md;
    md.cs_id = 9;
    const Bytes body = encode_body(md, true);
    // 8 fixed + (2+4) + (2+4) + (2+2) + (2+1) + (2+8) + (2+1)
    REQUIRE(body.size() == 40);
    std::vector<std::uint8_t> types;
    for (std::size_t off = kBodyFixedLen; off < body.size(); off += 2 + body[off + 1])
        types.push_back(body[off]);
    CHECK(types == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
    CatsMetadata got;
    REQUIRE(parse(body, got) == BodyError::Ok);
    CHECK(got.req == md.req);
    CHECK(got.cs_id == 9);
    // An emitted AFFINITY_KEY is a carried key, even when zero.
    CHECK(got.has_affinity_key);
    CHECK(got.affinity_key == 0);
}

TEST_CASE("encode_srh_tlv and encode_option wrap the body with Type and Length", "[wire]") {
    const CatsMetadata md = full_metadata();
    const Bytes body = encode_body(md);
    const Bytes t = encode_srh_tlv(md);
    const Bytes o = encode_option(md);
    REQUIRE(t.size() == body.size() + 2);
    REQUIRE(o.size() == body.size() + 2);
    CHECK(t[0] == 124);
    CHECK(o[0] == 0x1E);
    CHECK(t[1] == body.size());
    CHECK(o[1] == body.size());
    CHECK(Bytes(t.begin() + 2, t.end()) == body);
    CHECK(Bytes(o.begin() + 2, o.end()) == body);
    // Option type 0x1E: action 00 (skip if unknown), change-en-route bit 0.
    CHECK((o[0] & 0xC0) == 0);
    CHECK((o[0] & 0x20) == 0);

    CatsMetadata got;
    REQUIRE(parse_body(std::span<const std::uint8_t>(t).subspan(2), got) == BodyError::Ok);
    CHECK(got == md);
    REQUIRE(parse_body(std::span<const std::uint8_t>(o).subspan(2), got) == BodyError::Ok);
    CHECK(got == md);
}

TEST_CASE("strict flag is bit 0x08 of the first byte", "[wire]") {
    CatsMetadata got;
    SECTION("S set") {
        REQUIRE(parse(fixed_part(0x08), got) == BodyError::Ok);
        CHECK(got.req.strict);
        CHECK(got.flags == 0x08);
    }
    SECTION("S set with other flags") {
        REQUIRE(parse(fixed_part(0x0F), got) == BodyError::Ok);
        CHECK(got.req.strict);
        CHECK(got.flags == 0x0F);
    }
    SECTION("other flags only") {
        REQUIRE(parse(fixed_part(0x07), got) == BodyError::Ok);
        CHECK_FALSE(got.req.strict);
        CHECK(got.flags == 0x07);
    }
    SECTION("encoder sets S from req.strict") {
        CatsMetadata md;
        md.req.strict = true;
        CHECK(encode_body(md)[0] == 0x08);
        md.req.strict = false;
        CHECK(encode_body(md)[0] == 0x00);
    }
}

TEST_CASE("CS-ID is read big-endian, reserved bytes are ignored", "[wire]") {
    CatsMetadata got;
    REQUIRE(parse(Bytes{0x00, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x01}, got) == BodyError::Ok);
    CHECK(got.cs_id == 0x80000001u);
    CHECK(got.flags == 0);
    CHECK(encode_body(got)[1] == 0);  // reserved sent as zero
}

TEST_CASE("Truncated: fewer than 8 bytes", "[wire]") {
    const Bytes full = fixed_part();
    for (std::size_t n = 0; n < kBodyFixedLen; ++n) {
        CAPTURE(n);
        CatsMetadata got = sentinel();
        CHECK(parse_body(std::span<const std::uint8_t>(full).first(n), got) == BodyError::Truncated);
        CHECK(got == sentinel());
    }
}

TEST_CASE("BadVersion: any version but 0", "[wire]") {
    for (std::uint8_t v = 1; v < 16; ++v) {
        CAPTURE(v);
        CatsMetadata got = sentinel();
        CHECK(parse(fixed_part(static_cast<std::uint8_t>(v << 4)), got) == BodyError::BadVersion);
        CHECK(got == sentinel());
    }
    // Version is checked before sub-TLVs: a bad version with good sub-TLVs.
    CatsMetadata md = full_metadata();
    md.version = 1;
    CatsMetadata got;
    CHECK(parse(encode_body(md), got) == BodyError::BadVersion);
}

TEST_CASE("SubTlvOverrun: sub-TLV header runs past the body", "[wire]") {
    CatsMetadata got = sentinel();
    SECTION("lone type byte") {
        CHECK(parse(with(fixed_part(), {0x01}), got) == BodyError::SubTlvOverrun);
    }
    SECTION("lone type byte after a good sub-TLV") {
        CHECK(parse(with(fixed_part(), {0x06, 0x01, 0x02, 0x04}), got) == BodyError::SubTlvOverrun);
    }
    SECTION("lone unknown type byte") {
        CHECK(parse(with(fixed_part(), {0x99}), got) == BodyError::SubTlvOverrun);
    }
    CHECK(got == sentinel());
}

TEST_CASE("SubTlvOverrun: sub-TLV value runs past the body", "[wire]") {
    CatsMetadata got = sentinel();
    SECTION("known type, value cut short") {
        CHECK(parse(with(fixed_part(), {0x01, 0x04, 0x00, 0x00, 0x13}), got) ==
              BodyError::SubTlvOverrun);
    }
    SECTION("known type, no value at all") {
        CHECK(parse(with(fixed_part(), {0x05, 0x08}), got) == BodyError::SubTlvOverrun);
    }
    SECTION("unknown type claims more than is left") {
        CHECK(parse(with(fixed_part(), {0x77, 0x03, 0xAA, 0xBB}), got) == BodyError::SubTlvOverrun);
    }
    SECTION("length 255") {
        CHECK(parse(with(fixed_part(), {0x02, 0xFF, 0, 0, 0, 1}), got) == BodyError::SubTlvOverrun);
    }
    CHECK(got == sentinel());
}

TEST_CASE("SubTlvBadLength: each known type with a wrong length", "[wire]") {
    struct Case {
        std::uint8_t type;
        std::uint8_t good_len;
    };
    const Case cases[] = {{1, 4}, {2, 4}, {3, 2}, {4, 1}, {5, 8}, {6, 1}};
    for (const Case& c : cases) {
        for (int len : {0, c.good_len - 1, c.good_len + 1, 16}) {
            if (len < 0 || len == c.good_len)
                continue;
            CAPTURE(int{c.type}, len);
            Bytes b = with(fixed_part(), {c.type, static_cast<std::uint8_t>(len)});
            b.resize(b.size() + static_cast<std::size_t>(len), 0x00);
            CatsMetadata got = sentinel();
            CHECK(parse(b, got) == BodyError::SubTlvBadLength);
            CHECK(got == sentinel());
        }
        // And the right length is accepted (value 0 is in range for all).
        Bytes ok = with(fixed_part(), {c.type, c.good_len});
        ok.resize(ok.size() + c.good_len, 0x00);
        CatsMetadata got;
        CHECK(parse(ok, got) == BodyError::Ok);
    }
}

TEST_CASE("BadValue: compute type bits outside CPU|GPU|NPU|FPGA", "[wire]") {
    for (std::uint16_t v : {0x0010, 0x0020, 0x0100, 0x8000, 0xFFFF, 0x001F}) {
        CAPTURE(v);
        CatsMetadata got = sentinel();
        const Bytes b = with(fixed_part(), {0x03, 0x02, static_cast<std::uint8_t>(v >> 8),
                                            static_cast<std::uint8_t>(v)});
        CHECK(parse(b, got) == BodyError::BadValue);
        CHECK(got == sentinel());
    }
    // Boundaries that are fine: 0 (any) and all four bits.
    CatsMetadata got;
    REQUIRE(parse(with(fixed_part(), {0x03, 0x02, 0x00, 0x00}), got) == BodyError::Ok);
    CHECK(got.req.compute_type == 0);
    REQUIRE(parse(with(fixed_part(), {0x03, 0x02, 0x00, 0x0F}), got) == BodyError::Ok);
    CHECK(got.req.compute_type == kComputeAll);
}

TEST_CASE("BadValue: min score above 10", "[wire]") {
    for (std::uint8_t v : {11, 12, 128, 255}) {
        CAPTURE(int{v});
        CatsMetadata got = sentinel();
        CHECK(parse(with(fixed_part(), {0x04, 0x01, v}), got) == BodyError::BadValue);
        CHECK(got == sentinel());
    }
    CatsMetadata got;
    REQUIRE(parse(with(fixed_part(), {0x04, 0x01, 10}), got) == BodyError::Ok);
    CHECK(got.req.min_score == 10);
    REQUIRE(parse(with(fixed_part(), {0x04, 0x01, 0}), got) == BodyError::Ok);
    CHECK(got.req.min_score == 0);
}

TEST_CASE("unknown sub-TLVs are skipped", "[wire]") {
    // Unknown types 0, 7, 200, 255 with lengths 0, 1, 3 and 20, interleaved
    // with known ones: the known ones still count.
    Bytes b = with(fixed_part(0x08), {0x00, 0x00});              // type 0, empty
    b = with(b, {0x01, 0x04, 0x00, 0x00, 0x03, 0xE8});          // latency 1000
    b = with(b, {0x07, 0x01, 0xFF});                            // type 7
    b = with(b, {0xC8, 0x03, 0x04, 0x01, 0x63});                // type 200 hiding a "min score 99"
    b = with(b, {0x06, 0x01, 0x09});                            // priority 9
    b = with(b, {0xFF, 0x14});                                  // type 255, 20 bytes
    b.resize(b.size() + 20, 0x04);
    CatsMetadata got;
    REQUIRE(parse(b, got) == BodyError::Ok);
    CatsMetadata want;
    want.flags = kFlagStrict;
    want.cs_id = 0x0A0B0C0D;
    want.req.strict = true;
    want.req.max_latency_us = 1000;
    want.req.priority = 9;
    CHECK(got == want);
}

TEST_CASE("unknown sub-TLV exactly filling the body", "[wire]") {
    Bytes b = with(fixed_part(), {0x10, 0x05, 1, 2, 3, 4, 5});
    CatsMetadata got;
    REQUIRE(parse(b, got) == BodyError::Ok);
    CHECK(got.req == Requirements{});
}

TEST_CASE("an error after a good sub-TLV leaves the output untouched", "[wire]") {
    const Bytes b = with(fixed_part(), {0x01, 0x04, 0, 0, 0, 1, 0x04, 0x01, 50});
    CatsMetadata got = sentinel();
    CHECK(parse(b, got) == BodyError::BadValue);
    CHECK(got == sentinel());
}

TEST_CASE("parser reads only its span", "[wire]") {
    // A body cut out of a larger buffer: bytes after the span are a valid
    // sub-TLV that must not be seen.
    const Bytes buf = with(fixed_part(), {0x06, 0x01, 0x05});
    CatsMetadata got;
    REQUIRE(parse_body(std::span<const std::uint8_t>(buf).first(kBodyFixedLen), got) == BodyError::Ok);
    CHECK(got.req.priority == 0);
    // Every strict prefix longer than the fixed part is an overrun.
    for (std::size_t n = kBodyFixedLen + 1; n < buf.size(); ++n) {
        CAPTURE(n);
        CHECK(parse_body(std::span<const std::uint8_t>(buf).first(n), got) == BodyError::SubTlvOverrun);
    }
}

TEST_CASE("decode_body onto a fresh CatsMetadata gives what parse_body gives, errors included", "[wire]") {
    const std::vector<Bytes> bodies = {
        fixed_part(),
        encode_body(full_metadata()),
        encode_body(full_metadata(), true),
        with(fixed_part(kFlagStrict), {1, 4, 0, 0, 0x27, 0x10, 0x63, 1, 9, 6, 1, 2}),  // unknown 0x63 skipped
        {0x00, 0, 0},                               // Truncated
        with(fixed_part(0x10), {}),                 // BadVersion
        with(fixed_part(), {1, 4, 0, 0}),           // SubTlvOverrun
        with(fixed_part(), {2, 3, 0, 0, 1}),        // SubTlvBadLength
        with(fixed_part(), {3, 2, 0x01, 0x00}),     // BadValue
        with(fixed_part(), {1, 4, 0, 0, 0, 1, 4}),  // good sub-TLV, then an overrun
    };
    for (const Bytes& b : bodies) {
        CatsMetadata parsed, decoded;
        const BodyError pe = parse(b, parsed);
        const BodyError de = decode_body(b, decoded);
        INFO("body of " << b.size() << " bytes");
        CHECK(de == pe);
        if (pe == BodyError::Ok)
            CHECK(decoded == parsed);
    }
}

TEST_CASE("decode_body keeps the fields the body does not carry", "[wire]") {
    CatsMetadata md;
    md.req.min_score = 5;
    md.req.max_latency_us = 1;
    md.affinity_key = 42;
    md.has_affinity_key = true;
    REQUIRE(decode_body(with(fixed_part(), {1, 4, 0, 0, 0x03, 0xE8}), md) == BodyError::Ok);
    CHECK(md.cs_id == 0x0A0B0C0D);
    CHECK(md.req.max_latency_us == 1000);  // carried: replaced
    CHECK(md.req.min_score == 5);          // not carried: kept
    CHECK(md.affinity_key == 42);
    CHECK(md.has_affinity_key);
}
