// SPDX-License-Identifier: BSD-3-Clause
// Advertisement codec (proto-defs/advert_wire.hpp). Bad inputs are built as
// real bytes by a small builder that follows the header's diagram on its
// own (it does not call encode()), then signed, so each test reaches the
// check it names rather than failing earlier on the MAC.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "advert_wire.hpp"

using namespace cats::advert;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Sid = std::array<std::uint8_t, 16>;

const Bytes kKey = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0xff};
const Bytes kOtherKey = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0xfe};

Bytes from_hex(const std::string& h) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
    return out;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

Sid sid(std::uint8_t last) {
    Sid s{0x20, 0x01, 0x0d, 0xb8};
    s[15] = last;
    return s;
}

void be(Bytes& b, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Builds a datagram byte by byte, as the diagram in advert_wire.hpp draws it.
struct Raw {
    std::uint8_t version = 0;
    std::uint8_t type = 1;
    std::uint16_t key_id = 7;
    std::uint32_t node_id = 42;
    std::uint64_t sequence = 1000;
    std::uint16_t lifetime = 3;
    std::uint16_t count = 0;  // set by add_*() unless overridden afterwards
    Bytes records;

    // An ADVERTISE record with `n_sids` SIDs and these metric TLV bytes.
    Raw& adv(std::uint32_t cs, std::uint32_t inst, std::size_t n_sids, const Bytes& tlvs = {}) {
        be(records, cs, 4);
        be(records, inst, 4);
        records.push_back(static_cast<std::uint8_t>(n_sids));
        records.push_back(0);
        be(records, tlvs.size(), 2);
        for (std::size_t i = 0; i < n_sids; ++i) {
            const Sid s = sid(static_cast<std::uint8_t>(i + 1));
            records.insert(records.end(), s.begin(), s.end());
        }
        records.insert(records.end(), tlvs.begin(), tlvs.end());
        ++count;
        return *this;
    }
    Raw& wd(std::uint32_t cs, std::uint32_t inst) {
        be(records, cs, 4);
        be(records, inst, 4);
        ++count;
        return *this;
    }

    // Header + records, with the length field counting the MAC to come.
    Bytes unsigned_bytes() const {
        Bytes b;
        be(b, kMagic, 4);
        b.push_back(version);
        b.push_back(type);
        be(b, kHeaderLen + records.size() + kMacLen, 2);
        be(b, key_id, 2);
        be(b, 0, 2);
        be(b, node_id, 4);
        be(b, sequence, 8);
        be(b, lifetime, 2);
        be(b, count, 2);
        b.insert(b.end(), records.begin(), records.end());
        return b;
    }
    Bytes sign(const Bytes& key = kKey) const { return signed_bytes(unsigned_bytes(), key); }

    static Bytes signed_bytes(Bytes b, const Bytes& key = kKey) {
        const auto mac = hmac_sha256(key, b);
        b.insert(b.end(), mac.begin(), mac.end());
        return b;
    }
};

// Rewrites the length field to the size the datagram will have once signed,
// then signs: a well-formed envelope around whatever `b` holds.
Bytes resign(Bytes b, const Bytes& key = kKey) {
    const std::size_t total = b.size() + kMacLen;
    b[6] = static_cast<std::uint8_t>(total >> 8);
    b[7] = static_cast<std::uint8_t>(total);
    return Raw::signed_bytes(std::move(b), key);
}

Error decode_err(const Bytes& d, const Bytes& key = kKey, std::string* detail = nullptr) {
    Message m;
    return decode(d, key, m, detail);
}

Bytes tlv(std::uint8_t type, const Bytes& value) {
    Bytes b{type, static_cast<std::uint8_t>(value.size())};
    b.insert(b.end(), value.begin(), value.end());
    return b;
}

Message full_advert() {
    Message m;
    m.type = Type::Advertise;
    m.key_id = 0xBEEF;
    m.node_id = 0xA1B2C3D4;
    m.sequence = 0x0102030405060708ull;
    m.lifetime_s = 65535;
    Record a;
    a.cs_id = 0xFFFFFFFF;
    a.instance_id = 1;
    a.sids = {sid(1), sid(2), sid(3), sid(4), sid(5)};
    a.metrics.load_pct = 100;
    a.metrics.free_capacity = 0xFFFFFFFF;
    a.metrics.queue_delay_us = 1234;
    a.metrics.bandwidth_kbps = 10000000;
    a.metrics.l2_score = 10;
    a.metrics.compute_types = 0x0F;
    a.metrics.weight = 0;
    a.metrics.latency_us = 77;
    Record b;  // no metrics at all
    b.cs_id = 100;
    b.instance_id = 0;
    b.sids = {sid(9)};
    Record c;  // some metrics, at their low ends
    c.cs_id = 0;
    c.instance_id = 0xFFFFFFFF;
    c.sids = {sid(7), sid(8)};
    c.metrics.load_pct = 0;
    c.metrics.l2_score = 0;
    c.metrics.compute_types = 0;
    m.records = {a, b, c};
    return m;
}

// How a receiver is meant to use peek/decode: find the key by key id,
// verify, then check the sequence against the last one accepted from the
// node (ADVERT.md, "Replay"). Counts every outcome by Error.
struct Receiver {
    std::map<std::uint16_t, Bytes> keys;
    std::map<std::uint32_t, std::uint64_t> last_seq;
    std::array<unsigned, static_cast<std::size_t>(Error::Count)> counters{};

    Error accept(const Bytes& d) {
        const Error e = accept_inner(d);
        ++counters[static_cast<std::size_t>(e)];
        return e;
    }

private:
    Error accept_inner(const Bytes& d) {
        Message hdr;
        if (const Error e = peek(d, hdr); e != Error::Ok)
            return e;
        const auto key = keys.find(hdr.key_id);
        if (key == keys.end())
            return Error::UnknownKey;
        Message m;
        if (const Error e = decode(d, key->second, m); e != Error::Ok)
            return e;
        if (const auto it = last_seq.find(m.node_id); it != last_seq.end() && m.sequence <= it->second)
            return Error::Replay;
        last_seq[m.node_id] = m.sequence;
        return Error::Ok;
    }
};

}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[advert]") {
    // Test case 2: a key shorter than the block.
    CHECK(hmac_sha256(bytes_of("Jefe"), bytes_of("what do ya want for nothing?")) ==
          [] {
              std::array<std::uint8_t, kMacLen> a{};
              const Bytes b = from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
              std::copy(b.begin(), b.end(), a.begin());
              return a;
          }());
    // Test case 1: key 0x0b x 20, "Hi There".
    const auto mac1 = hmac_sha256(Bytes(20, 0x0b), bytes_of("Hi There"));
    CHECK(Bytes(mac1.begin(), mac1.end()) ==
          from_hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    // Empty inputs are legal.
    CHECK_NOTHROW(hmac_sha256({}, {}));
}

TEST_CASE("advertise round trip carries every field and metric", "[advert]") {
    const Message m = full_advert();
    const Bytes d = encode(m, kKey);
    // TLVs: five u32 (6 bytes each), two u8 (3), one u16 (4).
    REQUIRE(d.size() == kHeaderLen + (12 + 5 * 16 + 5 * 6 + 2 * 3 + 4) + (12 + 16) + (12 + 32 + 3 + 3 + 4) +
                            kMacLen);
    Message out;
    std::string detail;
    REQUIRE(decode(d, kKey, out, &detail) == Error::Ok);
    CHECK(detail.empty());
    CHECK(out == m);

    Message hdr;
    REQUIRE(peek(d, hdr) == Error::Ok);
    CHECK(hdr.type == Type::Advertise);
    CHECK(hdr.key_id == 0xBEEF);
    CHECK(hdr.node_id == 0xA1B2C3D4);
    CHECK(hdr.sequence == 0x0102030405060708ull);
    CHECK(hdr.lifetime_s == 65535);
    CHECK(hdr.records.empty());
}

TEST_CASE("withdraw round trip: 8-byte records", "[advert]") {
    Message m;
    m.type = Type::Withdraw;
    m.key_id = 1;
    m.node_id = 2;
    m.sequence = 3;
    m.records = {Record{100, 1, {}, {}}, Record{200, 0xFFFFFFFF, {}, {}}};
    const Bytes d = encode(m, kKey);
    CHECK(d.size() == kHeaderLen + 2 * 8 + kMacLen);
    Message out;
    REQUIRE(decode(d, kKey, out) == Error::Ok);
    CHECK(out == m);

    // A withdrawal needs no lifetime; an empty one is well formed.
    m.records.clear();
    REQUIRE(decode(encode(m, kKey), kKey, out) == Error::Ok);
    CHECK(out == m);
}

TEST_CASE("encode follows the diagram byte for byte", "[advert]") {
    Message m;
    m.key_id = 7;
    m.node_id = 42;
    m.sequence = 1000;
    m.lifetime_s = 3;
    Record r;
    r.cs_id = 100;
    r.instance_id = 5;
    r.sids = {sid(1), sid(2)};
    r.metrics.load_pct = 40;
    r.metrics.l2_score = 9;
    m.records = {r};
    const Bytes want = Raw{}.adv(100, 5, 2, [] {
                                Bytes t = tlv(1, {40});
                                const Bytes s = tlv(5, {9});
                                t.insert(t.end(), s.begin(), s.end());
                                return t;
                            }())
                           .sign();
    CHECK(encode(m, kKey) == want);
    // The first 28 bytes spelled out.
    CHECK(Bytes(want.begin(), want.begin() + kHeaderLen) ==
          from_hex("43415441"           // magic
                   "00" "01"            // version, type
                   "006e"               // length: 28 + 12 + 32 + 6 + 32 = 110
                   "0007" "0000"        // key id, reserved
                   "0000002a"           // node id
                   "00000000000003e8"   // sequence
                   "0003" "0001"));     // lifetime, record count
}

TEST_CASE("encode refuses what decode would reject", "[advert]") {
    Message m = full_advert();
    m.records[0].sids.push_back(sid(6));
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.records[1].sids.clear();
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.records[0].metrics.load_pct = 101;
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.records[0].metrics.l2_score = 11;
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.records[0].metrics.compute_types = 0x10;
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.lifetime_s = 0;
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.type = Type::Withdraw;  // withdrawals carry no SIDs
    CHECK_THROWS_AS(encode(m, kKey), std::invalid_argument);
    m = full_advert();
    m.records.assign(2000, m.records[0]);  // 2000 x 136 bytes > kMaxMessage
    CHECK_THROWS_AS(encode(m, kKey), std::length_error);
}

TEST_CASE("truncated at every length: none crashes, none passes", "[advert]") {
    Message m = full_advert();
    const Bytes adv = encode(m, kKey);
    m.type = Type::Withdraw;
    m.lifetime_s = 0;
    for (Record& r : m.records)
        r = Record{r.cs_id, r.instance_id, {}, {}};
    const Bytes wd = encode(m, kKey);

    for (const Bytes* full : {&adv, &wd}) {
        for (std::size_t n = 0; n < full->size(); ++n) {
            INFO("cut to " << n << " of " << full->size());
            const Bytes cut(full->begin(), full->begin() + static_cast<std::ptrdiff_t>(n));
            Message out;
            const Error e = decode(cut, kKey, out);
            CHECK(e != Error::Ok);
            CHECK(e == (n < kHeaderLen ? Error::Truncated : Error::BadLength));
            Message hdr;
            CHECK(peek(cut, hdr) != Error::Ok);

            // The same cut in a valid envelope (length fixed, MAC recomputed)
            // reaches the record parser, which must refuse it too.
            if (n < kHeaderLen)
                continue;
            const Bytes body(full->begin(), full->begin() + static_cast<std::ptrdiff_t>(std::min(n, full->size() - kMacLen)));
            if (body.size() == full->size() - kMacLen)
                continue;  // that one is the intact message
            const Error e2 = decode_err(resign(body));
            CHECK(e2 != Error::Ok);
            CHECK((e2 == Error::Truncated || e2 == Error::BadRecord || e2 == Error::BadLength));
        }
    }
}

TEST_CASE("header errors", "[advert]") {
    const Bytes good = Raw{}.adv(1, 1, 1).sign();
    REQUIRE(decode_err(good) == Error::Ok);

    Bytes d = good;
    d[0] = 'X';
    CHECK(decode_err(d) == Error::BadMagic);
    Raw r;
    r.version = 1;
    CHECK(decode_err(r.adv(1, 1, 1).sign()) == Error::BadVersion);
    for (std::uint8_t t : {0, 3, 255}) {
        Raw bad;
        bad.type = t;
        CHECK(decode_err(bad.adv(1, 1, 1).sign()) == Error::BadType);
    }
    // Length field one more, one less than the datagram.
    d = good;
    ++d[7];
    CHECK(decode_err(d) == Error::BadLength);
    d = good;
    --d[7];
    CHECK(decode_err(d) == Error::BadLength);
    // A datagram larger than kMaxMessage, its length field saying so as far
    // as 16 bits can.
    d = Raw{}.unsigned_bytes();
    d.resize(kMaxMessage + 1 - kMacLen, 0);
    d[6] = static_cast<std::uint8_t>((kMaxMessage + 1) >> 8);
    d[7] = static_cast<std::uint8_t>(kMaxMessage + 1);
    d = Raw::signed_bytes(d);
    REQUIRE(d.size() == kMaxMessage + 1);
    CHECK(decode_err(d) == Error::BadLength);
    // Shorter than header + MAC although the length field agrees.
    d = Raw{}.unsigned_bytes();
    d.resize(kHeaderLen + kMacLen - 1);
    d[6] = 0;
    d[7] = static_cast<std::uint8_t>(d.size());
    CHECK(decode_err(d) == Error::Truncated);

    std::string detail;
    d = good;
    ++d[7];
    decode_err(d, kKey, &detail);
    CHECK(detail.find("length field") != std::string::npos);
}

TEST_CASE("one flipped bit anywhere fails the MAC (or an earlier check)", "[advert]") {
    const Bytes good = encode(full_advert(), kKey);
    for (std::size_t i = 0; i < good.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            Bytes d = good;
            d[i] ^= static_cast<std::uint8_t>(1u << bit);
            INFO("byte " << i << " bit " << bit);
            const Error e = decode_err(d);
            if (i >= 8)  // past magic, version, type and length
                CHECK(e == Error::BadMac);
            else
                CHECK(e != Error::Ok);
        }
}

TEST_CASE("MAC with a different key, and a missing MAC", "[advert]") {
    const Bytes good = encode(full_advert(), kKey);
    std::string detail;
    CHECK(decode_err(good, kOtherKey, &detail) == Error::BadMac);
    CHECK(detail.find("HMAC") != std::string::npos);
    CHECK(decode_err(good, {}) == Error::BadMac);

    // The datagram cut by 32 bytes: the length field no longer matches.
    const Bytes cut(good.begin(), good.end() - kMacLen);
    CHECK(decode_err(cut) == Error::BadLength);
    // A sender that never signs (length field counting no MAC): the last 32
    // record bytes are read as a MAC and do not verify.
    Bytes nomac = cut;
    nomac[6] = static_cast<std::uint8_t>(nomac.size() >> 8);
    nomac[7] = static_cast<std::uint8_t>(nomac.size());
    CHECK(decode_err(nomac) == Error::BadMac);
    // An unsigned message with no records is shorter than header + MAC.
    Bytes bare = Raw{}.unsigned_bytes();
    bare[7] = static_cast<std::uint8_t>(kHeaderLen);
    CHECK(decode_err(bare) == Error::Truncated);
}

TEST_CASE("bad records", "[advert]") {
    std::string detail;
    SECTION("0 or 6 SIDs") {
        CHECK(decode_err(Raw{}.adv(1, 1, 0).sign(), kKey, &detail) == Error::BadRecord);
        CHECK(detail.find("0 SIDs") != std::string::npos);
        CHECK(decode_err(Raw{}.adv(1, 1, 6).sign(), kKey, &detail) == Error::BadRecord);
        CHECK(detail.find("6 SIDs") != std::string::npos);
        CHECK(decode_err(Raw{}.adv(1, 1, 5).sign()) == Error::Ok);
    }
    SECTION("known metric with the wrong length") {
        const std::pair<std::uint8_t, std::size_t> known[] = {{1, 1}, {2, 4}, {3, 4}, {4, 4},
                                                              {5, 1}, {6, 2}, {7, 4}, {8, 4}};
        for (const auto& [type, len] : known) {
            INFO("metric type " << int(type));
            CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(type, Bytes(len, 0))).sign()) == Error::Ok);
            CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(type, Bytes(len + 1, 0))).sign()) == Error::BadRecord);
            CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(type, Bytes(len - 1, 0))).sign()) == Error::BadRecord);
        }
    }
    SECTION("values out of range") {
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(1, {100})).sign()) == Error::Ok);
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(1, {101})).sign(), kKey, &detail) == Error::BadRecord);
        CHECK(detail.find("load 101") != std::string::npos);
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(5, {10})).sign()) == Error::Ok);
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(5, {11})).sign()) == Error::BadRecord);
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(6, {0x00, 0x0F})).sign()) == Error::Ok);
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(6, {0x00, 0x10})).sign()) == Error::BadRecord);
        CHECK(decode_err(Raw{}.adv(1, 1, 1, tlv(6, {0x80, 0x01})).sign()) == Error::BadRecord);
    }
    SECTION("lifetime 0") {
        Raw r;
        r.lifetime = 0;
        CHECK(decode_err(r.adv(1, 1, 1).sign(), kKey, &detail) == Error::BadRecord);
        CHECK(detail.find("lifetime") != std::string::npos);
        Raw w;  // a withdrawal does not need one
        w.type = 2;
        w.lifetime = 0;
        CHECK(decode_err(w.wd(1, 1).sign()) == Error::Ok);
    }
    SECTION("metric TLV overruns the record's metrics") {
        // Header says 4 bytes of value, 2 are there (the record's metrics
        // length is right, so only the TLV walk can catch it).
        CHECK(decode_err(Raw{}.adv(1, 1, 1, {2, 4, 0, 0}).sign()) == Error::BadRecord);
        // A lone type byte.
        CHECK(decode_err(Raw{}.adv(1, 1, 1, {200}).sign()) == Error::BadRecord);
        // An unknown type overrunning is still an overrun.
        CHECK(decode_err(Raw{}.adv(1, 1, 1, {200, 9, 1}).sign()) == Error::BadRecord);
    }
    SECTION("a later bad record rejects the whole message") {
        CHECK(decode_err(Raw{}.adv(1, 1, 1).adv(1, 2, 1).adv(1, 3, 0).sign()) == Error::BadRecord);
    }
}

TEST_CASE("record count must match the records exactly", "[advert]") {
    SECTION("more records claimed than present") {
        Raw r;
        r.adv(1, 1, 1);
        r.count = 2;
        CHECK(decode_err(r.sign()) == Error::Truncated);
        Raw w;
        w.type = 2;
        w.wd(1, 1);
        w.count = 2;
        CHECK(decode_err(w.sign()) == Error::Truncated);
    }
    SECTION("a huge count is refused before any allocation") {
        Raw r;
        r.adv(1, 1, 1);
        r.count = 65535;
        std::string detail;
        CHECK(decode_err(r.sign(), kKey, &detail) == Error::Truncated);
        CHECK(detail.find("65535 records") != std::string::npos);
    }
    SECTION("fewer records claimed than present: trailing bytes") {
        Raw r;
        r.adv(1, 1, 1).adv(1, 2, 1);
        r.count = 1;
        CHECK(decode_err(r.sign()) == Error::BadLength);
        Raw w;
        w.type = 2;
        w.wd(1, 1).wd(1, 2);
        w.count = 1;
        CHECK(decode_err(w.sign()) == Error::BadLength);
        Raw z;
        z.type = 2;
        z.records = {0, 0, 0};
        CHECK(decode_err(z.sign()) == Error::BadLength);
    }
    SECTION("a record's SIDs or metrics run past the message") {
        Raw r;
        r.adv(1, 1, 1, tlv(1, {5}));
        r.records[11] = 200;  // metrics length 200, 3 bytes there
        CHECK(decode_err(r.sign()) == Error::Truncated);
        Raw s;
        s.adv(1, 1, 2);
        s.records.resize(s.records.size() - 1);
        CHECK(decode_err(s.sign()) == Error::Truncated);
    }
}

TEST_CASE("unknown metric TLVs are skipped; a repeated one: last wins", "[advert]") {
    Bytes tlvs = tlv(200, {1, 2, 3, 4, 5, 6, 7});
    for (const Bytes& t : {tlv(0, {}), tlv(1, {30}), tlv(255, Bytes(255, 0xEE)), tlv(1, {60}), tlv(9, {1}),
                           tlv(5, {4})}) {
        tlvs.insert(tlvs.end(), t.begin(), t.end());
    }
    Message m;
    std::string detail;
    REQUIRE(decode(Raw{}.adv(1, 1, 1, tlvs).sign(), kKey, m, &detail) == Error::Ok);
    REQUIRE(m.records.size() == 1);
    Metrics want;
    want.load_pct = 60;
    want.l2_score = 4;
    CHECK(m.records[0].metrics == want);
    CHECK(m.records[0].sids == std::vector<Sid>{sid(1)});
}

TEST_CASE("decode leaves its output untouched on error", "[advert]") {
    Message out = full_advert();
    const Message before = out;
    CHECK(decode(Raw{}.adv(1, 1, 1).adv(2, 2, 6).sign(), kKey, out) == Error::BadRecord);
    CHECK(out == before);
}

TEST_CASE("a receiver counts unknown keys and replays from real bytes", "[advert]") {
    Receiver rx;
    rx.keys[7] = kKey;
    auto msg = [](std::uint16_t key_id, std::uint32_t node, std::uint64_t seq, const Bytes& key = kKey) {
        Raw r;
        r.key_id = key_id;
        r.node_id = node;
        r.sequence = seq;
        return r.adv(1, 1, 1).sign(key);
    };
    CHECK(rx.accept(msg(7, 1, 100)) == Error::Ok);
    CHECK(rx.accept(msg(7, 1, 100)) == Error::Replay);  // the same datagram again
    CHECK(rx.accept(msg(7, 1, 99)) == Error::Replay);   // older
    CHECK(rx.accept(msg(7, 2, 5)) == Error::Ok);        // per node
    CHECK(rx.accept(msg(7, 1, 101)) == Error::Ok);
    CHECK(rx.accept(msg(8, 1, 102)) == Error::UnknownKey);
    CHECK(rx.accept(msg(7, 1, 103, kOtherKey)) == Error::BadMac);
    // A forged packet does not advance the sequence: 102 is still fresh.
    CHECK(rx.accept(msg(7, 1, 102)) == Error::Ok);
    CHECK(rx.counters[static_cast<std::size_t>(Error::Ok)] == 4);
    CHECK(rx.counters[static_cast<std::size_t>(Error::Replay)] == 2);
    CHECK(rx.counters[static_cast<std::size_t>(Error::UnknownKey)] == 1);
    CHECK(rx.counters[static_cast<std::size_t>(Error::BadMac)] == 1);
}

TEST_CASE("every error has a name", "[advert]") {
    CHECK(kErrorNames.size() == static_cast<std::size_t>(Error::Count));
    CHECK(std::string(kErrorNames[static_cast<std::size_t>(Error::Replay)]) == "replay");
    CHECK(std::string(kErrorNames[static_cast<std::size_t>(Error::BadRecord)]) == "bad_record");
    for (const char* n : kErrorNames)
        CHECK(std::string(n).size() > 0);
}
