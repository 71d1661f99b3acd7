// SPDX-License-Identifier: BSD-3-Clause
// The management channel decoders (proto-defs/mgmt_wire.hpp) on any bytes:
// the first 16 bytes as a header, the whole input as an UPDATE batch, an
// ack, a flows query and a SID update.
//
// Properties:
//   - decode_header() accepts only what encode_header() writes back to the
//     same bytes, with a payload length within kMaxPayload;
//   - decode_batch() and the streaming BatchReader, with one Op reused for
//     every operation (as dataplane/mgmt.cpp does), agree: the same error
//     text, the same operations;
//   - an accepted batch re-encodes to the input bytes (the reserved header
//     bytes aside) and holds at most kMaxBatchOps operations, with 1..5 SIDs
//     per instance and names of at most kMaxNameLen bytes;
//   - an accepted ack or flows query re-encodes to the input bytes (the
//     reserved bytes and the ids its flags say are absent aside);
//   - an accepted SID update is kSidOpLen bytes with a prefix length of at
//     most 128 and a known behaviour, and re-encodes to the input bytes
//     (the reserved bytes aside).
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "mgmt_wire.hpp"

using namespace cats::mgmt;

namespace {

void check_header(std::span<const std::uint8_t> in) {
    if (in.size() < kHeaderLen)
        return;
    Header h;
    if (decode_header(in.first<kHeaderLen>(), h) != HeaderError::Ok)
        return;
    FUZZ_CHECK(h.length <= kMaxPayload);
    std::uint8_t out[kHeaderLen];
    encode_header(h, out);
    FUZZ_CHECK(std::equal(out, out + kHeaderLen, in.begin()));
}

// The fields an op of its type carries (a reused Op keeps stale ones in the
// others).
bool same_op(const Op& a, const Op& b) {
    if (a.type != b.type || a.service.cs_id != b.service.cs_id)
        return false;
    switch (a.type) {
    case OpType::UpsertService: return a.service == b.service;
    case OpType::RemoveService: return true;
    case OpType::UpsertInstance: return a.instance == b.instance;
    case OpType::RemoveInstance: return a.instance.id == b.instance.id;
    }
    return false;
}

void check_batch(std::span<const std::uint8_t> in) {
    Batch batch;
    const std::string e = decode_batch(in, batch);

    // The streaming decoder, stopping at the first error as decode_batch().
    BatchReader r(in);
    std::string es = r.start();
    Op op;
    std::uint32_t read = 0;
    if (es.empty()) {
        FUZZ_CHECK(r.size() <= kMaxBatchOps);
        for (; read < r.size(); ++read) {
            es = r.next(op);
            if (!es.empty())
                break;
            FUZZ_CHECK(read < batch.ops.size());
            FUZZ_CHECK(same_op(op, batch.ops[read]));
        }
        if (es.empty())
            es = r.finish();
    }
    FUZZ_CHECK(e == es);
    if (!e.empty())
        return;
    FUZZ_CHECK(r.replace_all() == batch.replace_all);
    FUZZ_CHECK(read == batch.ops.size());
    for (const Op& o : batch.ops) {
        if (batch.replace_all)
            FUZZ_CHECK(o.type == OpType::UpsertService);
        if (o.type == OpType::UpsertService) {
            FUZZ_CHECK(o.service.name.size() <= kMaxNameLen);
            for (const InstanceRec& i : o.service.instances)
                FUZZ_CHECK(!i.sids.empty() && i.sids.size() <= kMaxSids);
        } else if (o.type == OpType::UpsertInstance) {
            FUZZ_CHECK(!o.instance.sids.empty() && o.instance.sids.size() <= kMaxSids);
        }
    }
    std::vector<std::uint8_t> enc;
    encode_batch(batch, enc);
    std::vector<std::uint8_t> want(in.begin(), in.end());
    want[1] = want[2] = want[3] = 0;  // reserved
    FUZZ_CHECK(enc == want);
    Batch back;
    FUZZ_CHECK(decode_batch(enc, back).empty() && back == batch);
}

void check_ack(std::span<const std::uint8_t> in) {
    Ack a;
    if (!decode_ack(in, a).empty())
        return;
    // encode_ack() writes at most 4096 bytes of text.
    if (a.error.size() > 4096)
        return;
    std::vector<std::uint8_t> enc;
    encode_ack(a, enc);
    std::vector<std::uint8_t> want(in.begin(), in.end());
    want[1] = 0;  // reserved
    FUZZ_CHECK(enc == want);
}

void check_flows_query(std::span<const std::uint8_t> in) {
    FlowsQuery q;
    if (!decode_flows_query(in, q).empty())
        return;
    std::vector<std::uint8_t> enc;
    encode_flows_query(q, enc);
    std::vector<std::uint8_t> want(in.begin(), in.end());
    want[1] = want[2] = want[3] = 0;  // reserved
    if (!q.cs_id)
        std::fill(want.begin() + 4, want.begin() + 8, 0);
    if (!q.instance_id)
        std::fill(want.begin() + 8, want.begin() + 12, 0);
    FUZZ_CHECK(enc == want);
    FlowsQuery back;
    FUZZ_CHECK(decode_flows_query(enc, back).empty() && back == q);
}

void check_sid_op(std::span<const std::uint8_t> in) {
    SidOp op;
    if (!decode_sid_op(in, op).empty())
        return;
    FUZZ_CHECK(in.size() == kSidOpLen);
    FUZZ_CHECK(op.prefix_len <= 128);
    FUZZ_CHECK(!sid_behavior_name(op.behavior).empty());
    FUZZ_CHECK(op.op == SidOpType::Add || (op.behavior == SidBehavior::End && !op.next_hop));
    std::vector<std::uint8_t> enc;
    encode_sid_op(op, enc);
    std::vector<std::uint8_t> want(in.begin(), in.end());
    want[3] = want[6] = want[7] = 0;  // reserved
    FUZZ_CHECK(enc == want);
    SidOp back;
    FUZZ_CHECK(decode_sid_op(enc, back).empty() && back == op);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    check_header(in);
    check_batch(in);
    check_ack(in);
    check_flows_query(in);
    check_sid_op(in);
    return 0;
}
