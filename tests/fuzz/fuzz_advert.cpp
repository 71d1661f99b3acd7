// SPDX-License-Identifier: BSD-3-Clause
// The advertisement decoder (proto-defs/advert_wire.hpp): advert::peek() and
// advert::decode() on any datagram, with a fixed key.
//
// Input: byte 0 is the mode, the rest the datagram. A random datagram never
// carries a valid HMAC, so in the re-signing modes the target first makes
// it authentic, as a peer holding the key would (layout in ADVERT.md: the
// MAC is HMAC-SHA256 over every byte before it, in the last 32 bytes):
//   bit 0 set: overwrite the last 32 bytes with the MAC of the rest;
//   bit 1 set: also set the length field to the datagram's size first.
//
// Properties:
//   - peek() and decode() return a named error, and decode() the same one
//     as peek() when the header is wrong; detail is set on every error;
//   - the header peek() reads is the one decode() returns;
//   - an accepted message obeys the rules decode() enforces (lifetime > 0
//     and 1..5 SIDs per advertise record, metric ranges; withdrawals carry
//     nothing but the ids), with the record count of the header;
//   - encode() of an accepted message does not throw, is no longer than the
//     datagram, decodes to the same message, and re-encodes to the same
//     bytes; the same datagram with another key is refused as BadMac.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "advert_wire.hpp"
#include "cats_wire.hpp"
#include "fuzz_check.hpp"

using namespace cats::advert;
using cats::wire::load_be16;
using cats::wire::load_be32;
using cats::wire::load_be64;

namespace {

// The key of tests/unit/proto/test_advert_wire.cpp.
const std::vector<std::uint8_t> kKey = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
                                        0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0xff};
const std::vector<std::uint8_t> kOtherKey(32, 0x42);

bool named(Error e) { return e < Error::Count; }

void check_rules(const Message& m) {
    if (m.type == Type::Withdraw) {
        for (const Record& r : m.records)
            FUZZ_CHECK(r.sids.empty() && r.metrics == Metrics{});
        return;
    }
    FUZZ_CHECK(m.type == Type::Advertise);
    FUZZ_CHECK(m.lifetime_s > 0);
    for (const Record& r : m.records) {
        FUZZ_CHECK(!r.sids.empty() && r.sids.size() <= kMaxSids);
        const Metrics& mt = r.metrics;
        FUZZ_CHECK(!mt.load_pct || *mt.load_pct <= 100);
        FUZZ_CHECK(!mt.l2_score || *mt.l2_score <= 10);
        FUZZ_CHECK(!mt.compute_types || (*mt.compute_types & ~0x0Fu) == 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::uint8_t mode = data[0];
    std::vector<std::uint8_t> dgram(data + 1, data + size);
    if ((mode & 2) != 0 && dgram.size() >= kHeaderLen && dgram.size() <= UINT16_MAX)
        cats::wire::store_be16(&dgram[6], static_cast<std::uint16_t>(dgram.size()));
    if ((mode & 1) != 0 && dgram.size() >= kMacLen) {
        const std::size_t body = dgram.size() - kMacLen;
        const auto mac = hmac_sha256(kKey, std::span<const std::uint8_t>(dgram.data(), body));
        std::copy(mac.begin(), mac.end(), dgram.begin() + static_cast<std::ptrdiff_t>(body));
    }
    // Exactly the datagram's size, so that ASan sees a read past it.
    const auto buf = std::make_unique<std::uint8_t[]>(std::max<std::size_t>(dgram.size(), 1));
    std::copy(dgram.begin(), dgram.end(), buf.get());
    const std::span<const std::uint8_t> in(buf.get(), dgram.size());

    Message hdr;
    const Error ep = peek(in, hdr);
    FUZZ_CHECK(named(ep));
    if (ep == Error::Ok) {
        FUZZ_CHECK(in.size() >= kHeaderLen + kMacLen && in.size() <= kMaxMessage);
        FUZZ_CHECK(load_be16(&in[6]) == in.size());
        FUZZ_CHECK(hdr.key_id == load_be16(&in[8]) && hdr.node_id == load_be32(&in[12]) &&
                   hdr.sequence == load_be64(&in[16]) && hdr.lifetime_s == load_be16(&in[24]));
        FUZZ_CHECK(hdr.records.empty());
    }

    Message m;
    std::string detail;
    const Error ed = decode(in, kKey, m, &detail);
    FUZZ_CHECK(named(ed) && ed != Error::UnknownKey && ed != Error::Replay);
    Message quiet;
    FUZZ_CHECK(decode(in, kKey, quiet) == ed);
    if (ep != Error::Ok)
        FUZZ_CHECK(ed == ep);
    if (ed != Error::Ok) {
        FUZZ_CHECK(!detail.empty());
        return 0;
    }
    FUZZ_CHECK(quiet == m);
    FUZZ_CHECK(m.type == hdr.type && m.key_id == hdr.key_id && m.node_id == hdr.node_id &&
               m.sequence == hdr.sequence && m.lifetime_s == hdr.lifetime_s);
    FUZZ_CHECK(m.records.size() == load_be16(&in[26]));
    check_rules(m);

    Message other;
    FUZZ_CHECK(decode(in, kOtherKey, other) == Error::BadMac);

    std::vector<std::uint8_t> enc;
    try {
        enc = encode(m, kKey);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "encode() refused a message decode() accepted: %s\n", e.what());
        FUZZ_CHECK(false);
    }
    FUZZ_CHECK(enc.size() <= in.size());
    Message back;
    FUZZ_CHECK(decode(enc, kKey, back) == Error::Ok);
    FUZZ_CHECK(back == m);
    FUZZ_CHECK(encode(back, kKey) == enc);
    return 0;
}
