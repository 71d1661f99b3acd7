// SPDX-License-Identifier: BSD-3-Clause
#include "mgmt_wire.hpp"

#include <algorithm>
#include <cstring>

#include "byte_io.hpp"
#include "cats_wire.hpp"

namespace cats::mgmt {

namespace {

using wire::load_be16;
using wire::load_be32;
using wire::load_be64;

using Writer = wire::ByteWriter;
using Reader = wire::ByteReader;

constexpr std::size_t kMetricsLen = 20;
// Without a SID: an instance with 0 SIDs must reach the SID count check
// and be reported as such, not as "instances do not fit".
constexpr std::size_t kMinInstanceLen = 4 + 1 + kMetricsLen;

void put_instance(Writer& w, const InstanceRec& in) {
    w.u32(in.id);
    w.u8(static_cast<std::uint8_t>(in.sids.size()));
    for (const auto& s : in.sids)
        w.bytes(s.data(), 16);
    const Metrics& m = in.metrics;
    w.u8(m.score);
    w.u8(m.load_pct);
    w.u16(m.compute_types);
    w.u32(m.free_capacity);
    w.u32(m.latency_us);
    w.u32(m.bandwidth_kbps);
    w.u32(m.weight);
}

std::string get_instance(Reader& r, InstanceRec& in) {
    std::uint8_t n = 0;
    if (!r.u32(in.id) || !r.u8(n))
        return "truncated instance";
    const std::string where = "instance " + std::to_string(in.id) + ": ";
    if (n < 1 || n > kMaxSids)
        return where + std::to_string(n) + " SIDs, want 1.." + std::to_string(kMaxSids);
    in.sids.resize(n);
    for (auto& s : in.sids)
        if (!r.bytes(s.data(), 16))
            return where + "truncated SID list";
    Metrics& m = in.metrics;
    if (!r.u8(m.score) || !r.u8(m.load_pct) || !r.u16(m.compute_types) || !r.u32(m.free_capacity) ||
        !r.u32(m.latency_us) || !r.u32(m.bandwidth_kbps) || !r.u32(m.weight))
        return where + "truncated metrics";
    return {};
}

void put_service(Writer& w, const ServiceRec& s) {
    w.u32(s.cs_id);
    w.u32(s.affinity_timeout_s);
    const std::size_t nl = std::min(s.name.size(), kMaxNameLen);
    w.u8(static_cast<std::uint8_t>(nl));
    w.bytes(s.name.data(), nl);
    w.u16(static_cast<std::uint16_t>(s.instances.size()));
    for (const InstanceRec& in : s.instances)
        put_instance(w, in);
}

std::string get_service(Reader& r, ServiceRec& s) {
    std::uint8_t nl = 0;
    if (!r.u32(s.cs_id) || !r.u32(s.affinity_timeout_s) || !r.u8(nl))
        return "truncated service";
    const std::string where = "service " + std::to_string(s.cs_id) + ": ";
    if (nl > kMaxNameLen)
        return where + "name of " + std::to_string(nl) + " bytes, at most " + std::to_string(kMaxNameLen);
    s.name.resize(nl);
    if (!r.bytes(s.name.data(), nl))
        return where + "truncated name";
    if (std::string e = wire::check_name(s.name); !e.empty())
        return where + "name: " + e;
    std::uint16_t n = 0;
    if (!r.u16(n))
        return where + "truncated instance count";
    // Bound the allocation by what the payload can hold.
    if (std::size_t{n} * kMinInstanceLen > r.left())
        return where + std::to_string(n) + " instances do not fit in the message";
    s.instances.resize(n);
    for (InstanceRec& in : s.instances)
        if (std::string e = get_instance(r, in); !e.empty())
            return where + e;
    return {};
}

}  // namespace

HeaderError decode_header(std::span<const std::uint8_t, kHeaderLen> in, Header& out) noexcept {
    out.magic = load_be32(&in[0]);
    out.version = load_be16(&in[4]);
    const std::uint16_t type = load_be16(&in[6]);
    out.length = load_be32(&in[8]);
    out.seq = load_be32(&in[12]);
    if (out.magic != kMagic)
        return HeaderError::BadMagic;
    if (out.version != kVersion)
        return HeaderError::BadVersion;
    if (type < static_cast<std::uint16_t>(MsgType::Update) || type > static_cast<std::uint16_t>(kLastMsgType))
        return HeaderError::BadType;
    out.type = static_cast<MsgType>(type);
    if (out.length > kMaxPayload)
        return HeaderError::TooLong;
    return HeaderError::Ok;
}

void encode_header(const Header& h, std::uint8_t out[kHeaderLen]) noexcept {
    wire::store_be32(out, h.magic);
    wire::store_be16(out + 4, h.version);
    wire::store_be16(out + 6, static_cast<std::uint16_t>(h.type));
    wire::store_be32(out + 8, h.length);
    wire::store_be32(out + 12, h.seq);
}

void encode_batch(const Batch& b, std::vector<std::uint8_t>& out) {
    Writer w(out);
    w.u8(b.replace_all ? 1 : 0);
    w.u8(0);
    w.u16(0);
    w.u32(static_cast<std::uint32_t>(b.ops.size()));
    for (const Op& op : b.ops) {
        w.u8(static_cast<std::uint8_t>(op.type));
        switch (op.type) {
        case OpType::UpsertService: put_service(w, op.service); break;
        case OpType::RemoveService: w.u32(op.service.cs_id); break;
        case OpType::UpsertInstance:
            w.u32(op.service.cs_id);
            put_instance(w, op.instance);
            break;
        case OpType::RemoveInstance:
            w.u32(op.service.cs_id);
            w.u32(op.instance.id);
            break;
        }
    }
}

std::string BatchReader::start() {
    Reader r(in_);
    std::uint8_t flags = 0, rsv8 = 0;
    std::uint16_t rsv16 = 0;
    if (!r.u8(flags) || !r.u8(rsv8) || !r.u16(rsv16) || !r.u32(count_))
        return "truncated batch header";
    if ((flags & ~1u) != 0)
        return "unknown batch flags " + std::to_string(flags);
    replace_all_ = (flags & 1) != 0;
    if (count_ > kMaxBatchOps)
        return "operation count " + std::to_string(count_) + " exceeds " + std::to_string(kMaxBatchOps) +
               " per batch";
    if (std::size_t{count_} * 5 > r.left())
        return std::to_string(count_) + " operations do not fit in the message";
    pos_ = in_.size() - r.left();
    index_ = 0;
    return {};
}

std::string BatchReader::next(Op& op) {
    const std::uint32_t i = index_++;
    Reader r(in_.subspan(pos_));
    std::uint8_t t = 0;
    if (i >= count_ || !r.u8(t))
        return "op " + std::to_string(i) + ": truncated";
    std::string e;
    switch (static_cast<OpType>(t)) {
    case OpType::UpsertService: e = get_service(r, op.service); break;
    case OpType::RemoveService:
        if (!r.u32(op.service.cs_id))
            e = "truncated";
        break;
    case OpType::UpsertInstance:
        if (!r.u32(op.service.cs_id))
            e = "truncated";
        else
            e = get_instance(r, op.instance);
        break;
    case OpType::RemoveInstance:
        if (!r.u32(op.service.cs_id) || !r.u32(op.instance.id))
            e = "truncated";
        break;
    default: return "op " + std::to_string(i) + ": unknown operation type " + std::to_string(t);
    }
    if (!e.empty())
        return "op " + std::to_string(i) + ": " + e;
    op.type = static_cast<OpType>(t);
    if (replace_all_ && op.type != OpType::UpsertService)
        return "op " + std::to_string(i) + ": a replace-all batch holds only service upserts";
    pos_ = in_.size() - r.left();
    return {};
}

std::string BatchReader::finish() const {
    if (index_ != count_)
        return std::to_string(count_ - index_) + " operations not read";
    if (pos_ != in_.size())
        return std::to_string(in_.size() - pos_) + " trailing bytes";
    return {};
}

std::string decode_batch(std::span<const std::uint8_t> in, Batch& out) {
    BatchReader r(in);
    if (std::string e = r.start(); !e.empty())
        return e;
    out.replace_all = r.replace_all();
    // Grow with what is decoded, not with what the count claims.
    out.ops.clear();
    out.ops.reserve(std::min<std::size_t>(r.size(), 1024));
    for (std::uint32_t i = 0; i < r.size(); ++i)
        if (std::string e = r.next(out.ops.emplace_back()); !e.empty())
            return e;
    return r.finish();
}

void encode_ack(const Ack& a, std::vector<std::uint8_t>& out) {
    Writer w(out);
    const std::size_t el = std::min<std::size_t>(a.error.size(), 4096);
    w.u8(static_cast<std::uint8_t>(a.status));
    w.u8(0);
    w.u16(static_cast<std::uint16_t>(el));
    w.u64(a.table_version);
    w.bytes(a.error.data(), el);
}

std::string decode_ack(std::span<const std::uint8_t> in, Ack& out) {
    Reader r(in);
    std::uint8_t st = 0, rsv = 0;
    std::uint16_t el = 0;
    if (!r.u8(st) || !r.u8(rsv) || !r.u16(el) || !r.u64(out.table_version))
        return "truncated ack";
    if (st > static_cast<std::uint8_t>(Status::Unsupported))
        return "unknown status " + std::to_string(st);
    out.status = static_cast<Status>(st);
    if (el > r.left())  // before sizing anything by what the sender claims
        return "truncated ack text";
    out.error.resize(el);
    if (!r.bytes(out.error.data(), el))
        return "truncated ack text";
    if (r.left() != 0)
        return "trailing bytes after ack";
    return {};
}

void encode_flows_query(const FlowsQuery& q, std::vector<std::uint8_t>& out) {
    Writer w(out);
    w.u8(static_cast<std::uint8_t>((q.cs_id ? 1 : 0) | (q.instance_id ? 2 : 0)));
    w.u8(0);
    w.u16(0);
    w.u32(q.cs_id.value_or(0));
    w.u32(q.instance_id.value_or(0));
    w.u32(q.limit);
}

std::string decode_flows_query(std::span<const std::uint8_t> in, FlowsQuery& out) {
    Reader r(in);
    std::uint8_t flags = 0, rsv8 = 0;
    std::uint16_t rsv16 = 0;
    std::uint32_t cs = 0, inst = 0;
    if (!r.u8(flags) || !r.u8(rsv8) || !r.u16(rsv16) || !r.u32(cs) || !r.u32(inst) || !r.u32(out.limit))
        return "truncated flows query";
    if (r.left() != 0)
        return "trailing bytes after flows query";
    if ((flags & ~3u) != 0)
        return "unknown flows query flags " + std::to_string(flags);
    out.cs_id = (flags & 1) ? std::optional<std::uint32_t>(cs) : std::nullopt;
    out.instance_id = (flags & 2) ? std::optional<std::uint32_t>(inst) : std::nullopt;
    return {};
}

namespace {

constexpr std::array<std::string_view, kSidBehaviors.size()> kSidBehaviorNames = {"End", "End.X", "End.DX6",
                                                                                  "End.DT6"};

bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

constexpr std::uint8_t kSidFlagNextHop = 1;
// op, flags, prefix length, rsv, behavior (16), rsv (16), SID, next hop.
static_assert(kSidOpLen == 1 + 1 + 1 + 1 + 2 + 2 + 16 + 16);

}  // namespace

std::string_view sid_behavior_name(SidBehavior b) noexcept {
    for (std::size_t i = 0; i < kSidBehaviors.size(); ++i)
        if (kSidBehaviors[i] == b)
            return kSidBehaviorNames[i];
    return {};
}

std::optional<SidBehavior> parse_sid_behavior(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kSidBehaviors.size(); ++i)
        if (iequal(name, kSidBehaviorNames[i]))
            return kSidBehaviors[i];
    return std::nullopt;
}

std::string sid_behavior_list() {
    std::string out;
    for (const std::string_view n : kSidBehaviorNames)
        out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

void encode_sid_op(const SidOp& s, std::vector<std::uint8_t>& out) {
    Writer w(out);
    const bool add = s.op == SidOpType::Add;
    const bool nh = add && s.next_hop.has_value();
    w.u8(static_cast<std::uint8_t>(s.op));
    w.u8(nh ? kSidFlagNextHop : 0);
    w.u8(s.prefix_len);
    w.u8(0);
    w.u16(add ? static_cast<std::uint16_t>(s.behavior) : 0);
    w.u16(0);
    w.bytes(s.sid.data(), 16);
    const std::array<std::uint8_t, 16> none{};
    w.bytes(nh ? s.next_hop->data() : none.data(), 16);
}

std::string decode_sid_op(std::span<const std::uint8_t> in, SidOp& out) {
    // One size: checked before any field is read.
    if (in.size() != kSidOpLen)
        return "SID update of " + std::to_string(in.size()) + " bytes, want " + std::to_string(kSidOpLen);
    Reader r(in);
    std::uint8_t op = 0, flags = 0, len = 0, rsv8 = 0;
    std::uint16_t behavior = 0, rsv16 = 0;
    std::array<std::uint8_t, 16> nh{};
    if (!r.u8(op) || !r.u8(flags) || !r.u8(len) || !r.u8(rsv8) || !r.u16(behavior) || !r.u16(rsv16) ||
        !r.bytes(out.sid.data(), 16) || !r.bytes(nh.data(), 16))
        return "truncated SID update";  // not reached: the size is checked above
    if (op != static_cast<std::uint8_t>(SidOpType::Add) && op != static_cast<std::uint8_t>(SidOpType::Del))
        return "op: unknown SID operation " + std::to_string(op) + " (1 add, 2 del)";
    if ((flags & ~kSidFlagNextHop) != 0)
        return "flags: unknown bits " + std::to_string(flags & ~kSidFlagNextHop);
    if (len > 128)
        return "prefix_length: " + std::to_string(len) + ", at most 128";
    const bool has_nh = (flags & kSidFlagNextHop) != 0;
    if (!has_nh && std::any_of(nh.begin(), nh.end(), [](std::uint8_t b) { return b != 0; }))
        return "next_hop: bytes set without the next-hop flag";
    out.op = static_cast<SidOpType>(op);
    out.prefix_len = len;
    out.behavior = SidBehavior::End;
    out.next_hop.reset();
    if (out.op == SidOpType::Del) {
        if (behavior != 0)
            return "behavior: " + std::to_string(behavior) + " in a del (want 0)";
        if (has_nh)
            return "flags: a next hop in a del";
        return {};
    }
    if (sid_behavior_name(static_cast<SidBehavior>(behavior)).empty())
        return "behavior: unknown code point " + std::to_string(behavior) +
               " (End 1, End.X 5, End.DX6 16, End.DT6 18)";
    out.behavior = static_cast<SidBehavior>(behavior);
    if (has_nh)
        out.next_hop = nh;
    return {};
}

std::vector<std::uint8_t> make_message(MsgType type, std::uint32_t seq, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out(kHeaderLen);
    encode_header(Header{kMagic, kVersion, type, static_cast<std::uint32_t>(payload.size()), seq}, out.data());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

}  // namespace cats::mgmt
