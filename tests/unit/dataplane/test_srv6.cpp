// SPDX-License-Identifier: BSD-3-Clause
// The H.Encaps / H.Encaps.Red rewrite (dataplane/srv6.hpp): the template that
// build_encap_template() precomputes and what write_encap() lays down per
// packet, checked against byte arrays written out by hand from RFC 8200 3,
// RFC 8754 2 and RFC 8986 5.1/5.2 (not recomputed with the code under test),
// plus the flow-label derivation (RFC 6437 3). Pure: no EAL.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "srv6.hpp"

using namespace cats::dp;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Hex dump, 16 bytes a line, so that a mismatch shows where it is.
std::string hex(const std::uint8_t* p, std::size_t n) {
    std::string s;
    char buf[4];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", p[i]);
        s += buf;
        s += (i % 16 == 15 || i + 1 == n) ? '\n' : ' ';
    }
    return s;
}
std::string hex(const Bytes& b) { return hex(b.data(), b.size()); }
std::string hex(const EncapTemplate& t) { return hex(t.bytes.data(), t.len); }

// Neighbor (Ethernet destination) and port (Ethernet source) MACs.
const MacAddr kNbrMac{0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
const MacAddr kPortMac{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
// 2001:db8::1
const Ipv6Addr kSource{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
// fc00:k::k for k = 1..5; kSids[0] is the first SID (the first to visit).
const std::array<Ipv6Addr, 5> kSids = {{
    {0xfc, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
    {0xfc, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02},
    {0xfc, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03},
    {0xfc, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04},
    {0xfc, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05},
}};
constexpr std::uint8_t kHopLimit = 63;

EncapTemplate make(std::size_t n_sids, EncapMode mode) {
    EncapTemplate t;
    build_encap_template(t, kPortMac, kNbrMac, kSource,
                         std::span<const Ipv6Addr>(kSids.data(), n_sids), mode, kHopLimit);
    return t;
}

// Run write_encap() into a buffer that holds the template and a sentinel
// after it; returns the t.len bytes written and checks the sentinel survived.
Bytes write(const EncapTemplate& t, std::uint16_t inner_len, std::uint8_t tc, std::uint32_t label,
            std::size_t misalign = 0) {
    constexpr std::uint8_t kSentinel = 0xEE;
    Bytes buf(misalign + kMaxEncapLen + 32, kSentinel);
    write_encap(buf.data() + misalign, t, inner_len, tc, label);
    for (std::size_t i = 0; i < misalign; ++i)
        CHECK(buf[i] == kSentinel);
    for (std::size_t i = misalign + t.len; i < buf.size(); ++i)
        CHECK(buf[i] == kSentinel);
    return Bytes(buf.begin() + static_cast<std::ptrdiff_t>(misalign),
                 buf.begin() + static_cast<std::ptrdiff_t>(misalign + t.len));
}

// --- The expected bytes, by hand ------------------------------------------------
// Ethernet: dst = neighbor, src = port, 0x86DD.
// IPv6 as the template holds it: version 6, TC 0, flow label 0, payload
// length 0 (all four patched per packet), Next Header, Hop Limit 63,
// SA = 2001:db8::1, DA = fc00:1::1 (the first SID, in every case).
// SRH (RFC 8754 2): Next Header 41, Hdr Ext Len, Routing Type 4, Segments
// Left, Last Entry, Flags 0, Tag 0, Segment List[0..Last Entry].

// H.Encaps, 1 SID: SRH of 24 bytes, Hdr Ext Len 2, SL 0, LE 0.
const Bytes kEncaps1 = {
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x3f,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x29, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

// H.Encaps, 3 SIDs: SRH of 56 bytes, Hdr Ext Len 6, SL 2, LE 2; the list
// reversed: [0] = fc00:3::3, [1] = fc00:2::2, [2] = fc00:1::1.
const Bytes kEncaps3 = {
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x3f,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x29, 0x06, 0x04, 0x02, 0x02, 0x00, 0x00, 0x00,
    0xfc, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0xfc, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

// H.Encaps, 5 SIDs (kMaxSids): SRH of 88 bytes, Hdr Ext Len 10, SL 4, LE 4.
const Bytes kEncaps5 = {
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x3f,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x29, 0x0a, 0x04, 0x04, 0x04, 0x00, 0x00, 0x00,
    0xfc, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0xfc, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
    0xfc, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0xfc, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

// H.Encaps.Red, 1 SID: no SRH at all; the outer Next Header is 41 (IPv6).
const Bytes kRed1 = {
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x3f,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

// H.Encaps.Red, 2 SIDs: the SRH holds only fc00:2::2; Hdr Ext Len 2, SL 1,
// LE 0.
const Bytes kRed2 = {
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x3f,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x29, 0x02, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00,
    0xfc, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
};

// H.Encaps.Red, 3 SIDs: the SRH holds fc00:3::3, fc00:2::2 (not the first
// SID, which is only in the DA); Hdr Ext Len 4, SL 2 (= n - 1), LE 1 (= n - 2).
const Bytes kRed3 = {
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x3f,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xfc, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x29, 0x04, 0x04, 0x02, 0x01, 0x00, 0x00, 0x00,
    0xfc, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0xfc, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
};

// `base` with its outer IPv6 first word and payload length replaced (the
// four bytes at 14 and the two at 18), given by hand.
Bytes patched(Bytes base, std::array<std::uint8_t, 4> vtf, std::array<std::uint8_t, 2> plen) {
    std::copy(vtf.begin(), vtf.end(), base.begin() + 14);
    std::copy(plen.begin(), plen.end(), base.begin() + 18);
    return base;
}

}  // namespace

// ---------------------------------------------------------------------------
// build_encap_template
// ---------------------------------------------------------------------------

TEST_CASE("H.Encaps template, 1 SID", "[srv6]") {
    const EncapTemplate t = make(1, EncapMode::Encaps);
    REQUIRE(t.len == 78);     // 14 + 40 + 8 + 16
    CHECK(t.ip_len == 64);    // 40 + 24
    CHECK(hex(t) == hex(kEncaps1));
}

TEST_CASE("H.Encaps template, 3 SIDs: Segment List reversed", "[srv6]") {
    const EncapTemplate t = make(3, EncapMode::Encaps);
    REQUIRE(t.len == 110);    // 14 + 40 + 8 + 48
    CHECK(t.ip_len == 96);
    CHECK(hex(t) == hex(kEncaps3));
}

TEST_CASE("H.Encaps template, 5 SIDs fills kMaxEncapLen", "[srv6]") {
    const EncapTemplate t = make(5, EncapMode::Encaps);
    REQUIRE(t.len == kMaxEncapLen);
    REQUIRE(t.len == 142);
    CHECK(t.ip_len == 128);
    CHECK(hex(t) == hex(kEncaps5));
}

TEST_CASE("H.Encaps.Red template, 1 SID: no SRH, outer Next Header 41", "[srv6]") {
    const EncapTemplate t = make(1, EncapMode::EncapsRed);
    REQUIRE(t.len == 54);
    CHECK(t.ip_len == 40);
    CHECK(hex(t) == hex(kRed1));
}

TEST_CASE("H.Encaps.Red template, 2 SIDs: SRH with the second SID only", "[srv6]") {
    const EncapTemplate t = make(2, EncapMode::EncapsRed);
    REQUIRE(t.len == 78);
    CHECK(t.ip_len == 64);
    CHECK(hex(t) == hex(kRed2));
}

TEST_CASE("H.Encaps.Red template, 3 SIDs: first SID left out, Last Entry n-2", "[srv6]") {
    const EncapTemplate t = make(3, EncapMode::EncapsRed);
    REQUIRE(t.len == 94);
    CHECK(t.ip_len == 80);
    CHECK(hex(t) == hex(kRed3));
}

TEST_CASE("rebuilding a template in place leaves nothing of the old one", "[srv6]") {
    EncapTemplate t = make(5, EncapMode::Encaps);
    build_encap_template(t, kPortMac, kNbrMac, kSource, std::span<const Ipv6Addr>(kSids.data(), 1),
                         EncapMode::EncapsRed, kHopLimit);
    REQUIRE(t.len == 54);
    CHECK(t.ip_len == 40);
    CHECK(hex(t) == hex(kRed1));
    // What write_encap copies is exactly the new 54 bytes.
    CHECK(hex(write(t, 60, 0, 1)) == hex(patched(kRed1, {0x60, 0x00, 0x00, 0x01}, {0x00, 0x3c})));
}

// ---------------------------------------------------------------------------
// write_encap: template + payload length, traffic class, flow label
// ---------------------------------------------------------------------------

TEST_CASE("write_encap patches payload length, traffic class and flow label", "[srv6]") {
    SECTION("H.Encaps, 1 SID") {
        // 6 << 28 | 0xB8 << 20 | 0x12345 = 0x6B812345; 24 + 100 = 124.
        const Bytes out = write(make(1, EncapMode::Encaps), 100, 0xB8, 0x12345);
        CHECK(hex(out) == hex(patched(kEncaps1, {0x6b, 0x81, 0x23, 0x45}, {0x00, 0x7c})));
    }
    SECTION("H.Encaps, 3 SIDs") {
        // TC 0, flow label all ones; 56 + 1000 = 1056 = 0x0420.
        const Bytes out = write(make(3, EncapMode::Encaps), 1000, 0x00, 0xFFFFF);
        CHECK(hex(out) == hex(patched(kEncaps3, {0x60, 0x0f, 0xff, 0xff}, {0x04, 0x20})));
    }
    SECTION("H.Encaps, 5 SIDs") {
        // TC all ones, flow label 1; 88 + 40 = 128.
        const Bytes out = write(make(5, EncapMode::Encaps), 40, 0xFF, 0x00001);
        CHECK(hex(out) == hex(patched(kEncaps5, {0x6f, 0xf0, 0x00, 0x01}, {0x00, 0x80})));
    }
    SECTION("H.Encaps.Red, 1 SID: payload length is the inner packet alone") {
        // 6 << 28 | 0x28 << 20 | 0xABCDE = 0x628ABCDE; 0 + 60.
        const Bytes out = write(make(1, EncapMode::EncapsRed), 60, 0x28, 0xABCDE);
        CHECK(hex(out) == hex(patched(kRed1, {0x62, 0x8a, 0xbc, 0xde}, {0x00, 0x3c})));
    }
    SECTION("H.Encaps.Red, 3 SIDs") {
        // 6 << 28 | 0x04 << 20 | 0x10 = 0x60400010; 40 + 200 = 240.
        const Bytes out = write(make(3, EncapMode::EncapsRed), 200, 0x04, 0x00010);
        CHECK(hex(out) == hex(patched(kRed3, {0x60, 0x40, 0x00, 0x10}, {0x00, 0xf0})));
    }
    SECTION("largest payload length: 65535") {
        // 88 (SRH) + 65447 = 65535 = 0xFFFF.
        const Bytes out = write(make(5, EncapMode::Encaps), 65447, 0, 1);
        CHECK(hex(out) == hex(patched(kEncaps5, {0x60, 0x00, 0x00, 0x01}, {0xff, 0xff})));
    }
}

TEST_CASE("write_encap keeps the flow label to 20 bits", "[srv6]") {
    // Bits above 20 must not leak into the traffic class or version.
    const Bytes out = write(make(1, EncapMode::Encaps), 100, 0x00, 0xFFF00001u);
    CHECK(hex(out) == hex(patched(kEncaps1, {0x60, 0x00, 0x00, 0x01}, {0x00, 0x7c})));
    const Bytes all = write(make(1, EncapMode::Encaps), 100, 0x00, 0xFFFFFFFFu);
    CHECK(hex(all) == hex(patched(kEncaps1, {0x60, 0x0f, 0xff, 0xff}, {0x00, 0x7c})));
}

TEST_CASE("write_encap leaves the template untouched and overwrites stale bytes", "[srv6]") {
    const EncapTemplate t = make(3, EncapMode::Encaps);
    Bytes buf(t.len, 0xFF);  // the previous packet's leftovers
    write_encap(buf.data(), t, 10, 0xFF, 0xFFFFF);
    write_encap(buf.data(), t, 20, 0x00, 0x00001);
    // 56 + 20 = 76.
    CHECK(hex(buf) == hex(patched(kEncaps3, {0x60, 0x00, 0x00, 0x01}, {0x00, 0x4c})));
    // The template itself still has TC, flow label and payload length 0.
    CHECK(hex(t) == hex(kEncaps3));
}

TEST_CASE("write_encap at an odd address (headroom is not aligned)", "[srv6]") {
    // Run under UBSan: the patch must not use misaligned word stores.
    const Bytes out = write(make(3, EncapMode::Encaps), 1000, 0x00, 0xFFFFF, 1);
    CHECK(hex(out) == hex(patched(kEncaps3, {0x60, 0x0f, 0xff, 0xff}, {0x04, 0x20})));
    const Bytes out3 = write(make(5, EncapMode::Encaps), 40, 0xFF, 0x00001, 3);
    CHECK(hex(out3) == hex(patched(kEncaps5, {0x6f, 0xf0, 0x00, 0x01}, {0x00, 0x80})));
}

// ---------------------------------------------------------------------------
// flow_label_from_hash (RFC 6437 3: 20 bits, 0 means "no label")
// ---------------------------------------------------------------------------

// It is constexpr: these hold at compile time too.
static_assert(flow_label_from_hash(0) == 1);
static_assert(flow_label_from_hash(0x12345) == 0x12345);
static_assert(flow_label_from_hash(0xFFFFF) == 0xFFFFF);

TEST_CASE("flow_label_from_hash: known values", "[srv6]") {
    CHECK(flow_label_from_hash(0) == 1);
    CHECK(flow_label_from_hash(0x12345) == 0x12345);
    // 0x100001 ^ (0x100001 >> 20) = 0x100000: folds to 0, which must become 1.
    CHECK(flow_label_from_hash(0x100001) == 1);
    // 1 << 40 folds to 1 through the >> 40 term.
    CHECK(flow_label_from_hash(std::uint64_t{1} << 40) == 1);
    CHECK(flow_label_from_hash(UINT64_MAX) == 0xFFFFF);
    // High bits take part: two hashes equal in their low 20 bits differ.
    CHECK(flow_label_from_hash(0x0000000000012345ULL) != flow_label_from_hash(0x0000000100012345ULL));
    CHECK(flow_label_from_hash(0x0000000000012345ULL) != flow_label_from_hash(0x0001000000012345ULL));
}

TEST_CASE("flow_label_from_hash is never 0 and fits in 20 bits", "[srv6]") {
    std::mt19937_64 rng(0xCA75);
    std::uint32_t seen_bits = 0;
    std::set<std::uint32_t> distinct;
    auto check = [&](std::uint64_t h) {
        const std::uint32_t v = flow_label_from_hash(h);
        if (v == 0 || v > 0xFFFFF)
            FAIL("flow_label_from_hash(" << h << ") = " << v);
        seen_bits |= v;
        distinct.insert(v);
    };
    for (int i = 0; i < 100000; ++i)
        check(rng());
    // Non-zero hashes whose three 20-bit folds cancel (h ^ h>>20 ^ h>>40 has
    // zero low 20 bits): each must still give a label, 1.
    for (std::uint64_t a = 1; a < 256; ++a) {
        for (const std::uint64_t h : {a | (a << 20), (a << 20) | (a << 40), a | (a << 40)}) {
            CHECK(flow_label_from_hash(h) == 1);
            check(h);
        }
    }
    CHECK(seen_bits == 0xFFFFF);           // every one of the 20 bits is used
    CHECK(distinct.size() > 95000);        // and the values spread
}
