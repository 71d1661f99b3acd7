// SPDX-License-Identifier: BSD-3-Clause
// Management channel codec (proto-defs/mgmt_wire.hpp): round trips, the
// layout checked against bytes written out by hand, and every decode error
// produced from real bytes.
//
// Payload layouts (all big-endian):
//   Batch:    flags (8, bit 0 replace_all) | rsv (8) | rsv (16) | op count (32) | ops
//   op:       type (8) | body
//     UpsertService:  cs_id (32) | affinity_timeout_s (32) | name len (8) | name
//                     | instance count (16) | instances
//     RemoveService:  cs_id (32)
//     UpsertInstance: cs_id (32) | instance
//     RemoveInstance: cs_id (32) | instance id (32)
//   instance: id (32) | n SIDs (8) | SIDs (16 each) | score (8) | load (8)
//             | compute types (16) | free (32) | latency (32) | bandwidth (32) | weight (32)
//   Ack:      status (8) | rsv (8) | text len (16) | table version (64) | text
//   FlowsQuery: flags (8: 1 cs_id, 2 instance_id) | rsv (8) | rsv (16) | cs_id | instance id | limit
//   SidOp:    op (8: 1 add, 2 del) | flags (8: 1 next hop) | prefix len (8) | rsv (8)
//             | behavior (16, IANA) | rsv (16) | SID (128) | next hop (128)
#include <catch2/catch.hpp>

#include <string>

#include "mgmt_wire.hpp"

using namespace cats::mgmt;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Sid = std::array<std::uint8_t, 16>;

Sid sid(std::uint8_t last) {
    Sid s{0x20, 0x01, 0x0d, 0xb8};
    s[15] = last;
    return s;
}

void be(Bytes& b, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Hand-written payload pieces, independent of the encoder.
Bytes batch_head(std::uint8_t flags, std::uint32_t n_ops) {
    Bytes b{flags, 0, 0, 0};
    be(b, n_ops, 4);
    return b;
}

Bytes raw_instance(std::uint32_t id, std::size_t n_sids) {
    Bytes b;
    be(b, id, 4);
    b.push_back(static_cast<std::uint8_t>(n_sids));
    for (std::size_t i = 0; i < n_sids; ++i) {
        const Sid s = sid(static_cast<std::uint8_t>(i + 1));
        b.insert(b.end(), s.begin(), s.end());
    }
    const Bytes metrics = {10, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 100};
    b.insert(b.end(), metrics.begin(), metrics.end());
    return b;
}

// An UpsertService op with `name` and the given instance bytes.
Bytes raw_upsert_service(std::uint32_t cs, const std::string& name, std::uint16_t count, const Bytes& insts) {
    Bytes b{1};
    be(b, cs, 4);
    be(b, 30, 4);
    b.push_back(static_cast<std::uint8_t>(name.size()));
    b.insert(b.end(), name.begin(), name.end());
    be(b, count, 2);
    b.insert(b.end(), insts.begin(), insts.end());
    return b;
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

InstanceRec instance(std::uint32_t id, std::size_t n_sids) {
    InstanceRec in;
    in.id = id;
    for (std::size_t i = 0; i < n_sids; ++i)
        in.sids.push_back(sid(static_cast<std::uint8_t>(id + i)));
    in.metrics.score = static_cast<std::uint8_t>(id % 11);
    in.metrics.load_pct = static_cast<std::uint8_t>(id % 101);
    in.metrics.compute_types = 0x0A;
    in.metrics.free_capacity = 0xFFFFFFF0 + id;
    in.metrics.latency_us = 123456;
    in.metrics.bandwidth_kbps = 0;
    in.metrics.weight = 1000000;
    return in;
}

Batch every_op() {
    Batch b;
    Op up;
    up.type = OpType::UpsertService;
    up.service.cs_id = 100;
    up.service.affinity_timeout_s = 86400;
    up.service.name = std::string(kMaxNameLen, 'n');
    up.service.instances = {instance(1, 1), instance(2, 5), instance(3, 2)};
    Op empty_svc;
    empty_svc.type = OpType::UpsertService;
    empty_svc.service.cs_id = 0xFFFFFFFF;
    empty_svc.service.name = "";
    Op rm;
    rm.type = OpType::RemoveService;
    rm.service.cs_id = 7;
    Op ui;
    ui.type = OpType::UpsertInstance;
    ui.service.cs_id = 100;
    ui.instance = instance(9, 3);
    Op ri;
    ri.type = OpType::RemoveInstance;
    ri.service.cs_id = 100;
    ri.instance.id = 2;
    b.ops = {up, empty_svc, rm, ui, ri};
    return b;
}

std::string decode(const Bytes& in, Batch& out) { return decode_batch(in, out); }
std::string decode_err(const Bytes& in) {
    Batch b;
    return decode_batch(in, b);
}
bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("mgmt header round trip and layout", "[mgmt]") {
    const Header h{kMagic, kVersion, MsgType::Flows, kMaxPayload, 0xDEADBEEF};
    std::uint8_t buf[kHeaderLen];
    encode_header(h, buf);
    const Bytes want = {0x43, 0x41, 0x54, 0x4D, 0, 0, 0, 8, 0x02, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF};
    CHECK(Bytes(buf, buf + kHeaderLen) == want);
    Header out;
    REQUIRE(decode_header(std::span<const std::uint8_t, kHeaderLen>(buf, kHeaderLen), out) == HeaderError::Ok);
    CHECK(out.type == MsgType::Flows);
    CHECK(out.length == kMaxPayload);
    CHECK(out.seq == 0xDEADBEEF);

    for (std::uint16_t t = 1; t <= 10; ++t) {
        encode_header(Header{kMagic, kVersion, static_cast<MsgType>(t), 0, t}, buf);
        REQUIRE(decode_header(std::span<const std::uint8_t, kHeaderLen>(buf, kHeaderLen), out) == HeaderError::Ok);
        CHECK(static_cast<std::uint16_t>(out.type) == t);
    }

    const Bytes payload = {1, 2, 3};
    const Bytes msg = make_message(MsgType::Update, 5, payload);
    REQUIRE(msg.size() == kHeaderLen + 3);
    REQUIRE(decode_header(std::span<const std::uint8_t, kHeaderLen>(msg.data(), kHeaderLen), out) == HeaderError::Ok);
    CHECK(out.type == MsgType::Update);
    CHECK(out.length == 3);
    CHECK(out.seq == 5);
    CHECK(Bytes(msg.begin() + kHeaderLen, msg.end()) == payload);
}

TEST_CASE("mgmt header errors", "[mgmt]") {
    auto check = [](Bytes b) {
        Header out;
        return decode_header(std::span<const std::uint8_t, kHeaderLen>(b.data(), kHeaderLen), out);
    };
    const Bytes good = make_message(MsgType::StatusReq, 1, {});
    REQUIRE(check(good) == HeaderError::Ok);
    Bytes b = good;
    b[3] = 'X';
    CHECK(check(b) == HeaderError::BadMagic);
    b = good;
    b[5] = 1;
    CHECK(check(b) == HeaderError::BadVersion);
    b = good;
    b[4] = 1;  // version 256: the high byte counts too
    CHECK(check(b) == HeaderError::BadVersion);
    for (std::uint16_t t : {0, 11, 0x0103, 0xFFFF}) {
        b = good;
        b[6] = static_cast<std::uint8_t>(t >> 8);
        b[7] = static_cast<std::uint8_t>(t);
        CHECK(check(b) == HeaderError::BadType);
    }
    b = good;
    const std::uint32_t too_long = kMaxPayload + 1;
    b[8] = static_cast<std::uint8_t>(too_long >> 24);
    b[9] = static_cast<std::uint8_t>(too_long >> 16);
    b[10] = static_cast<std::uint8_t>(too_long >> 8);
    b[11] = static_cast<std::uint8_t>(too_long);
    CHECK(check(b) == HeaderError::TooLong);
    b[8] = b[9] = b[10] = b[11] = 0xFF;
    CHECK(check(b) == HeaderError::TooLong);
}

TEST_CASE("batch round trip: every op type", "[mgmt]") {
    const Batch b = every_op();
    Bytes wire;
    encode_batch(b, wire);
    Batch out;
    REQUIRE(decode(wire, out) == "");
    CHECK(out == b);

    // Appends: a second batch after the first leaves the first intact.
    Bytes two = wire;
    Batch empty;
    encode_batch(empty, two);
    CHECK(Bytes(two.begin(), two.begin() + static_cast<std::ptrdiff_t>(wire.size())) == wire);
    REQUIRE(decode(Bytes(two.begin() + static_cast<std::ptrdiff_t>(wire.size()), two.end()), out) == "");
    CHECK(out == empty);
}

TEST_CASE("batch round trip: replace_all", "[mgmt]") {
    Batch b;
    b.replace_all = true;
    for (std::uint32_t cs : {1u, 2u, 3u}) {
        Op op;
        op.service.cs_id = cs;
        op.service.name = "svc" + std::to_string(cs);
        op.service.instances = {instance(cs, cs)};
        b.ops.push_back(op);
    }
    Bytes wire;
    encode_batch(b, wire);
    CHECK(wire[0] == 1);
    Batch out;
    REQUIRE(decode(wire, out) == "");
    CHECK(out == b);

    // An empty snapshot (remove everything) is legal.
    b.ops.clear();
    wire.clear();
    encode_batch(b, wire);
    REQUIRE(decode(wire, out) == "");
    CHECK(out == b);
}

TEST_CASE("batch encoding matches the hand-written layout", "[mgmt]") {
    Batch b;
    Op up;
    up.service.cs_id = 100;
    up.service.name = "web";
    InstanceRec in;
    in.id = 7;
    in.sids = {sid(1), sid(2)};
    up.service.instances = {in};
    Op rm;
    rm.type = OpType::RemoveInstance;
    rm.service.cs_id = 100;
    rm.instance.id = 7;
    b.ops = {up, rm};
    Bytes wire;
    encode_batch(b, wire);
    Bytes want = batch_head(0, 2);
    want = cat(want, raw_upsert_service(100, "web", 1, raw_instance(7, 2)));
    want = cat(want, {4, 0, 0, 0, 100, 0, 0, 0, 7});
    CHECK(wire == want);
}

TEST_CASE("batch truncated at every length: an error each time", "[mgmt]") {
    Bytes wire;
    encode_batch(every_op(), wire);
    for (std::size_t n = 0; n < wire.size(); ++n) {
        INFO("cut to " << n << " of " << wire.size());
        CHECK(decode_err(Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n))) != "");
    }
}

TEST_CASE("batch decode errors from real bytes", "[mgmt]") {
    SECTION("unknown op type") {
        for (std::uint8_t t : {0, 5, 255}) {
            const std::string e = decode_err(cat(batch_head(0, 1), {t, 0, 0, 0, 1}));
            CHECK(contains(e, "op 0: unknown operation type " + std::to_string(t)));
        }
        // Second op bad: the index is named.
        CHECK(contains(decode_err(cat(batch_head(0, 2), {2, 0, 0, 0, 1, 9, 0, 0, 0, 1})), "op 1:"));
    }
    SECTION("unknown batch flags") {
        CHECK(contains(decode_err(batch_head(2, 0)), "flags"));
        CHECK(decode_err(batch_head(0, 0)) == "");
    }
    SECTION("0 or 6 SIDs") {
        for (std::size_t n : {0, 6, 255}) {
            INFO(n << " SIDs");
            const std::string e1 = decode_err(cat(batch_head(0, 1), raw_upsert_service(1, "a", 1, raw_instance(5, n))));
            CHECK(contains(e1, std::to_string(n) + " SIDs"));
            CHECK(contains(e1, "instance 5"));
            Bytes ui = {3, 0, 0, 0, 1};
            const std::string e2 = decode_err(cat(batch_head(0, 1), cat(ui, raw_instance(5, n))));
            CHECK(contains(e2, std::to_string(n) + " SIDs"));
        }
        CHECK(decode_err(cat(batch_head(0, 1), raw_upsert_service(1, "a", 1, raw_instance(5, 5)))) == "");
    }
    SECTION("name too long") {
        CHECK(decode_err(cat(batch_head(0, 1), raw_upsert_service(1, std::string(64, 'x'), 0, {}))) == "");
        const std::string e = decode_err(cat(batch_head(0, 1), raw_upsert_service(1, std::string(65, 'x'), 0, {})));
        CHECK(contains(e, "name of 65 bytes"));
        // The longest a length byte can say, with the bytes present.
        CHECK(decode_err(cat(batch_head(0, 1), raw_upsert_service(1, std::string(255, 'x'), 0, {}))) != "");
    }
    SECTION("instance count larger than the payload can hold") {
        // 65535 instances claimed, one present: refused before the vector
        // of 65535 instances is allocated.
        const std::string e =
            decode_err(cat(batch_head(0, 1), raw_upsert_service(1, "a", 65535, raw_instance(1, 1))));
        CHECK(contains(e, "65535 instances do not fit"));
        // Two claimed, one present, by the smallest margin.
        CHECK(decode_err(cat(batch_head(0, 1), raw_upsert_service(1, "a", 2, raw_instance(1, 1)))) != "");
    }
    SECTION("op count larger than the payload can hold") {
        const std::string e = decode_err(cat(batch_head(0, kMaxBatchOps), {2, 0, 0, 0, 1}));
        CHECK(contains(e, std::to_string(kMaxBatchOps) + " operations do not fit"));
        CHECK(decode_err(cat(batch_head(0, 2), {2, 0, 0, 0, 1})) != "");
    }
    SECTION("op count over the per-batch cap: refused by the count alone") {
        // Issue 20: an 8 MiB batch of 1.7M RemoveService ops decoded into
        // 243 MB. The count field is refused before any op is read, and
        // the error names it.
        for (const std::uint32_t n : {kMaxBatchOps + 1, 0xFFFFFFFFu}) {
            const Bytes head = batch_head(0, n);
            Bytes wire = head;
            wire.resize(head.size() + std::size_t{kMaxBatchOps + 1} * 5);
            for (std::size_t k = head.size(); k < wire.size(); k += 5)
                wire[k] = 2;  // RemoveService, cs_id 0
            const std::string e = decode_err(wire);
            CHECK(e == "operation count " + std::to_string(n) + " exceeds " + std::to_string(kMaxBatchOps) +
                           " per batch");
        }
        // At the cap: decoded.
        Bytes wire = batch_head(0, kMaxBatchOps);
        const std::size_t head = wire.size();
        wire.resize(head + std::size_t{kMaxBatchOps} * 5);
        for (std::size_t k = head; k < wire.size(); k += 5)
            wire[k] = 2;
        Batch b;
        CHECK(decode(wire, b) == "");
        CHECK(b.ops.size() == kMaxBatchOps);
    }
    SECTION("trailing bytes") {
        Bytes wire;
        encode_batch(every_op(), wire);
        wire.push_back(0);
        CHECK(contains(decode_err(wire), "1 trailing bytes"));
        CHECK(contains(decode_err(cat(batch_head(0, 0), {0, 0, 0})), "3 trailing bytes"));
    }
    SECTION("replace_all with anything but service upserts") {
        for (const Bytes& op : {Bytes{2, 0, 0, 0, 1}, cat({3, 0, 0, 0, 1}, raw_instance(2, 1)),
                                Bytes{4, 0, 0, 0, 1, 0, 0, 0, 2}}) {
            const Bytes b = cat(cat(batch_head(1, 2), raw_upsert_service(1, "a", 0, {})), op);
            CHECK(contains(decode_err(b), "op 1: a replace-all batch holds only service upserts"));
            // The same ops without replace_all are fine.
            Bytes inc = b;
            inc[0] = 0;
            CHECK(decode_err(inc) == "");
        }
    }
}

TEST_CASE("the payload bound holds the largest table, the op cap rewrites it", "[mgmt]") {
    // kMaxPayload is what a replace_all of the largest table needs: every
    // service and instance record at its longest.
    Batch one;
    one.replace_all = true;
    Op svc;
    svc.type = OpType::UpsertService;
    svc.service.name = std::string(kMaxNameLen, 'n');
    InstanceRec in;
    in.sids.resize(kMaxSids);
    svc.service.instances = {in};
    one.ops = {svc};
    Bytes wire;
    encode_batch(one, wire);
    CHECK(wire.size() == 8 + kMaxServiceOpLen + kMaxInstanceRecLen);
    CHECK(kMaxSnapshotLen <= kMaxPayload);
    CHECK(kMaxPayload < (64u << 20));  // lowered from 64 MiB (issue 20)
    CHECK(kMaxBatchOps >= kMaxTableServices + kMaxTableInstances);
}

TEST_CASE("BatchReader: one op at a time, the same ops and errors as decode_batch", "[mgmt]") {
    Bytes wire;
    encode_batch(every_op(), wire);
    BatchReader r(wire);
    REQUIRE(r.start() == "");
    CHECK_FALSE(r.replace_all());
    REQUIRE(r.size() == every_op().ops.size());
    Op op;  // reused
    for (std::uint32_t i = 0; i < r.size(); ++i) {
        REQUIRE(r.next(op) == "");
        CHECK(op.type == every_op().ops[i].type);
        CHECK(op.service.cs_id == every_op().ops[i].service.cs_id);
    }
    CHECK(r.finish() == "");
    // Stopping early is reported by finish(), trailing bytes too.
    BatchReader early(wire);
    REQUIRE(early.start() == "");
    REQUIRE(early.next(op) == "");
    CHECK(early.finish() == std::to_string(every_op().ops.size() - 1) + " operations not read");
    Bytes trailing = wire;
    trailing.push_back(0);
    BatchReader t(trailing);
    REQUIRE(t.start() == "");
    for (std::uint32_t i = 0; i < t.size(); ++i)
        REQUIRE(t.next(op) == "");
    CHECK(t.finish() == "1 trailing bytes");
}

TEST_CASE("ack round trip and errors", "[mgmt]") {
    for (const Ack& a : {Ack{Status::Ok, 0, ""}, Ack{Status::Malformed, 1, "op 3: instance 7: 6 SIDs"},
                         Ack{Status::Rejected, UINT64_MAX, std::string(4096, 'e')},
                         Ack{Status::Unsupported, 42, "x"}}) {
        Bytes wire;
        encode_ack(a, wire);
        REQUIRE(wire.size() == 12 + a.error.size());
        Ack out;
        REQUIRE(decode_ack(wire, out) == "");
        CHECK(out == a);
        for (std::size_t n = 0; n < wire.size(); ++n) {
            Ack cut;
            CHECK(decode_ack(Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n)), cut) != "");
        }
        wire.push_back(0);
        CHECK(contains(decode_ack(wire, out), "trailing"));
    }
    const Bytes want = {2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 'h', 'i'};
    Bytes wire;
    encode_ack(Ack{Status::Rejected, 256, "hi"}, wire);
    CHECK(wire == want);

    Ack out;
    CHECK(contains(decode_ack(Bytes{4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, out), "unknown status 4"));
    // A text length past the payload.
    CHECK(contains(decode_ack(Bytes{0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 'a'}, out), "truncated"));
}

TEST_CASE("flows query round trip and errors", "[mgmt]") {
    for (const FlowsQuery& q : {FlowsQuery{}, FlowsQuery{100, std::nullopt, 5}, FlowsQuery{std::nullopt, 7, 0},
                                FlowsQuery{0xFFFFFFFF, 0, UINT32_MAX}}) {
        Bytes wire;
        encode_flows_query(q, wire);
        REQUIRE(wire.size() == 16);
        FlowsQuery out;
        REQUIRE(decode_flows_query(wire, out) == "");
        CHECK(out == q);
        for (std::size_t n = 0; n < wire.size(); ++n) {
            FlowsQuery cut;
            CHECK(decode_flows_query(Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n)), cut) != "");
        }
        wire.push_back(0);
        CHECK(contains(decode_flows_query(wire, out), "trailing"));
    }
    Bytes wire;
    encode_flows_query(FlowsQuery{100, 7, 10}, wire);
    CHECK(wire == Bytes{3, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 7, 0, 0, 0, 10});
}

TEST_CASE("a whole UPDATE message: header then batch", "[mgmt]") {
    Bytes payload;
    encode_batch(every_op(), payload);
    const Bytes msg = make_message(MsgType::Update, 77, payload);
    Header h;
    REQUIRE(decode_header(std::span<const std::uint8_t, kHeaderLen>(msg.data(), kHeaderLen), h) == HeaderError::Ok);
    REQUIRE(h.length == msg.size() - kHeaderLen);
    Batch out;
    REQUIRE(decode_batch(std::span<const std::uint8_t>(msg).subspan(kHeaderLen, h.length), out) == "");
    CHECK(out == every_op());
}

TEST_CASE("SID update: layout, round trip, a del carries no behaviour", "[mgmt][sid]") {
    SidOp add;
    add.op = SidOpType::Add;
    add.sid = sid(0xd6);
    add.prefix_len = 128;
    add.behavior = SidBehavior::EndDX6;
    add.next_hop = sid(0x0d);
    Bytes wire;
    encode_sid_op(add, wire);
    REQUIRE(wire.size() == kSidOpLen);
    Bytes want = {1, 1, 128, 0, 0, 16, 0, 0};
    const Sid s = sid(0xd6), nh = sid(0x0d);
    want.insert(want.end(), s.begin(), s.end());
    want.insert(want.end(), nh.begin(), nh.end());
    CHECK(wire == want);
    SidOp out;
    REQUIRE(decode_sid_op(wire, out) == "");
    CHECK(out == add);

    // Every behaviour, with and without a next hop, and a short prefix:
    // the decoder takes the layout; what the table takes is not its to say.
    for (const SidBehavior b : kSidBehaviors)
        for (const bool with_nh : {false, true}) {
            SidOp op;
            op.sid = sid(1);
            op.prefix_len = 64;
            op.behavior = b;
            if (with_nh)
                op.next_hop = sid(2);
            Bytes w;
            encode_sid_op(op, w);
            SidOp back;
            REQUIRE(decode_sid_op(w, back) == "");
            CHECK(back == op);
        }

    // A del: behaviour 0 and no next hop on the wire, whatever the struct held.
    SidOp del = add;
    del.op = SidOpType::Del;
    del.prefix_len = 64;
    wire.clear();
    encode_sid_op(del, wire);
    want = {2, 0, 64, 0, 0, 0, 0, 0};
    want.insert(want.end(), s.begin(), s.end());
    want.resize(kSidOpLen, 0);
    CHECK(wire == want);
    REQUIRE(decode_sid_op(wire, out) == "");
    CHECK(out.op == SidOpType::Del);
    CHECK(out.sid == s);
    CHECK(out.prefix_len == 64);
    CHECK(out.behavior == SidBehavior::End);
    CHECK_FALSE(out.next_hop);

    // Appends.
    Bytes alone, two = {9};
    encode_sid_op(add, alone);
    encode_sid_op(add, two);
    CHECK(two[0] == 9);
    CHECK(Bytes(two.begin() + 1, two.end()) == alone);
}

TEST_CASE("SID update: decode errors from real bytes", "[mgmt][sid]") {
    SidOp add;
    add.sid = sid(0xd6);
    add.behavior = SidBehavior::EndX;
    add.next_hop = sid(1);
    Bytes good;
    encode_sid_op(add, good);
    SidOp out;
    REQUIRE(decode_sid_op(good, out) == "");
    auto err = [](Bytes b) {
        SidOp o;
        return decode_sid_op(b, o);
    };
    // Every length but the one: refused before a field is read.
    for (std::size_t n = 0; n < kSidOpLen; ++n)
        CHECK(err(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n))) ==
              "SID update of " + std::to_string(n) + " bytes, want 40");
    Bytes b = good;
    b.push_back(0);
    CHECK(err(b) == "SID update of 41 bytes, want 40");
    for (const std::uint8_t op : {0, 3, 255}) {
        b = good;
        b[0] = op;
        CHECK(err(b) == "op: unknown SID operation " + std::to_string(op) + " (1 add, 2 del)");
    }
    b = good;
    b[1] = 3;
    CHECK(err(b) == "flags: unknown bits 2");
    b = good;
    b[2] = 129;
    CHECK(err(b) == "prefix_length: 129, at most 128");
    // End.DX4 (17) and End.DT4 (19) are IANA's, not ours; 0 is reserved.
    for (const std::uint16_t code : {0, 2, 17, 19, 0x0110}) {
        b = good;
        b[4] = static_cast<std::uint8_t>(code >> 8);
        b[5] = static_cast<std::uint8_t>(code);
        CHECK(err(b) == "behavior: unknown code point " + std::to_string(code) +
                            " (End 1, End.X 5, End.DX6 16, End.DT6 18)");
    }
    // A next hop's bytes without its flag.
    b = good;
    b[1] = 0;
    CHECK(err(b) == "next_hop: bytes set without the next-hop flag");
    // A del with a behaviour or a next hop.
    b = good;
    b[0] = 2;
    CHECK(err(b) == "behavior: 5 in a del (want 0)");
    b[4] = b[5] = 0;
    CHECK(err(b) == "flags: a next hop in a del");
    // Reserved bytes are not read.
    b = good;
    b[3] = b[6] = b[7] = 0xFF;
    REQUIRE(err(b) == "");
}

TEST_CASE("SID behaviours: IANA code points and RFC 8986 names", "[mgmt][sid]") {
    CHECK(static_cast<int>(SidBehavior::End) == 1);
    CHECK(static_cast<int>(SidBehavior::EndX) == 5);
    CHECK(static_cast<int>(SidBehavior::EndDX6) == 16);
    CHECK(static_cast<int>(SidBehavior::EndDT6) == 18);
    for (const SidBehavior b : kSidBehaviors) {
        const std::string_view name = sid_behavior_name(b);
        REQUIRE_FALSE(name.empty());
        CHECK(parse_sid_behavior(name) == b);
    }
    CHECK(sid_behavior_name(SidBehavior::EndDX6) == "End.DX6");
    CHECK(parse_sid_behavior("end.dx6") == SidBehavior::EndDX6);
    CHECK(parse_sid_behavior("END.X") == SidBehavior::EndX);
    CHECK_FALSE(parse_sid_behavior("End.DX4"));
    CHECK_FALSE(parse_sid_behavior("End "));
    CHECK_FALSE(parse_sid_behavior(""));
    CHECK(sid_behavior_name(static_cast<SidBehavior>(17)).empty());
    CHECK(sid_behavior_list() == "End, End.X, End.DX6, End.DT6");
    CHECK(sid_needs_next_hop(SidBehavior::EndX));
    CHECK(sid_needs_next_hop(SidBehavior::EndDX6));
    CHECK_FALSE(sid_needs_next_hop(SidBehavior::End));
    CHECK_FALSE(sid_needs_next_hop(SidBehavior::EndDT6));
}

TEST_CASE("a whole SID_UPDATE message: header then the SID op", "[mgmt][sid]") {
    SidOp op;
    op.op = SidOpType::Del;
    op.sid = sid(7);
    Bytes payload;
    encode_sid_op(op, payload);
    const Bytes msg = make_message(MsgType::SidUpdate, 3, payload);
    CHECK(msg[6] == 0);
    CHECK(msg[7] == 10);
    Header h;
    REQUIRE(decode_header(std::span<const std::uint8_t, kHeaderLen>(msg.data(), kHeaderLen), h) == HeaderError::Ok);
    CHECK(h.type == MsgType::SidUpdate);
    SidOp out;
    REQUIRE(decode_sid_op(std::span<const std::uint8_t>(msg).subspan(kHeaderLen, h.length), out) == "");
    CHECK(out == op);
}
