// SPDX-License-Identifier: BSD-3-Clause
// The management channel between cats-control and cats-dataplane, version 0.
// A local stream socket (AF_UNIX, SOCK_STREAM); each message is a 16-byte
// header followed by `length` bytes of payload; the layouts of the payloads
// are those written by the encoders in mgmt_wire.cpp.
//
//   0                   1                   2                   3
//   |            magic 'C' 'A' 'T' 'M' (0x4341544D)                 |
//   |    version (0)                |    type                       |
//   |    payload length (bytes, <= kMaxPayload)                     |
//   |    seq (echoed in the reply)                                  |
//
// The control process sends UPDATE (a batch of table operations applied
// atomically: one new table version, or none on error), SID_UPDATE (one
// local SID added or removed: the SID table's next version, or none on
// error), STATUS_REQ, STATS_REQ and FLOWS_REQ; the dataplane answers each
// with exactly one message carrying the same seq. The dataplane never
// sends unprompted.
//
// Thread safety: pure functions; call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "name_text.hpp"

namespace cats::mgmt {

inline constexpr std::uint32_t kMagic = 0x4341544D;  // "CATM"
inline constexpr std::uint16_t kVersion = 0;
inline constexpr std::size_t kHeaderLen = 16;
inline constexpr std::size_t kMaxSids = 5;
using wire::kMaxNameLen;  // name_text.hpp: names are checked by wire::check_name

// What one UPDATE may cost. The channel is sized for the largest table it
// carries in one replace_all snapshot: kMaxTableServices services (4x the
// default max_services), kMaxTableInstances instances (4x the default
// max_instances), every name and SID list at its longest. A larger table
// can only be loaded from the dataplane's own YAML.
inline constexpr std::size_t kMaxTableServices = 16384;
inline constexpr std::size_t kMaxTableInstances = 262144;
// Longest encodings: an instance (id, SID count, SIDs, metrics) and an
// UpsertService op without its instances (type, cs_id, affinity, name, count).
inline constexpr std::size_t kMaxInstanceRecLen = 4 + 1 + 16 * kMaxSids + 20;
inline constexpr std::size_t kMaxServiceOpLen = 1 + 4 + 4 + 1 + kMaxNameLen + 2;
inline constexpr std::size_t kMaxSnapshotLen =
    8 + kMaxTableServices * kMaxServiceOpLen + kMaxTableInstances * kMaxInstanceRecLen;  // 28,770,312
inline constexpr std::uint32_t kMaxPayload = 32u << 20;  // 32 MiB
static_assert(kMaxSnapshotLen <= kMaxPayload, "the largest table must fit in one snapshot");
// Operations in one batch: enough to rewrite every service and instance of
// the largest table one op at a time. Bounds the work of one apply.
inline constexpr std::uint32_t kMaxBatchOps = 1u << 20;
static_assert(kMaxBatchOps >= kMaxTableServices + kMaxTableInstances);

enum class MsgType : std::uint16_t {
    Update = 1,      // control -> dataplane: Batch
    UpdateAck = 2,   // dataplane -> control: Ack
    StatusReq = 3,   // control -> dataplane: empty
    Status = 4,      // dataplane -> control: JSON text
    StatsReq = 5,    // control -> dataplane: empty
    Stats = 6,       // dataplane -> control: JSON text
    FlowsReq = 7,    // control -> dataplane: FlowsQuery
    Flows = 8,       // dataplane -> control: JSON text
    Error = 9,       // dataplane -> control: Ack with status != Ok
    SidUpdate = 10,  // control -> dataplane: SidOp; answered UpdateAck / Error
                     // (a dataplane older than it answers "bad message header" and closes)
};
// The highest type decode_header() accepts.
inline constexpr MsgType kLastMsgType = MsgType::SidUpdate;

struct Header {
    std::uint32_t magic = kMagic;
    std::uint16_t version = kVersion;
    MsgType type = MsgType::Update;
    std::uint32_t length = 0;
    std::uint32_t seq = 0;
};

enum class HeaderError : std::uint8_t { Ok, BadMagic, BadVersion, BadType, TooLong };

// Decode the 16 header bytes; rejects oversize payloads before any read.
HeaderError decode_header(std::span<const std::uint8_t, kHeaderLen> in, Header& out) noexcept;
void encode_header(const Header& h, std::uint8_t out[kHeaderLen]) noexcept;

struct Metrics {
    std::uint8_t score = 10;
    std::uint8_t load_pct = 0;
    std::uint16_t compute_types = 1;
    std::uint32_t free_capacity = 1;
    std::uint32_t latency_us = 0;
    std::uint32_t bandwidth_kbps = UINT32_MAX;
    std::uint32_t weight = 100;
    friend bool operator==(const Metrics&, const Metrics&) = default;
};

struct InstanceRec {
    std::uint32_t id = 0;
    std::vector<std::array<std::uint8_t, 16>> sids;  // 1..5
    Metrics metrics;
    friend bool operator==(const InstanceRec&, const InstanceRec&) = default;
};

struct ServiceRec {
    std::uint32_t cs_id = 0;
    std::uint32_t affinity_timeout_s = 30;
    std::string name;  // <= kMaxNameLen bytes of UTF-8 (wire::check_name)
    std::vector<InstanceRec> instances;
    friend bool operator==(const ServiceRec&, const ServiceRec&) = default;
};

enum class OpType : std::uint8_t {
    UpsertService = 1,   // service (with all its instances) replaces any old one
    RemoveService = 2,   // cs_id
    UpsertInstance = 3,  // cs_id + instance (the service must exist)
    RemoveInstance = 4,  // cs_id + instance id
};

struct Op {
    OpType type = OpType::UpsertService;
    ServiceRec service;      // UpsertService; cs_id for the others
    InstanceRec instance;    // UpsertInstance; id for RemoveInstance
    friend bool operator==(const Op&, const Op&) = default;
};

// UPDATE payload. replace_all: the table becomes exactly the UpsertService
// operations of this batch (a full snapshot, as sent on (re)connect).
struct Batch {
    bool replace_all = false;
    std::vector<Op> ops;
    friend bool operator==(const Batch&, const Batch&) = default;
};

enum class Status : std::uint8_t { Ok = 0, Malformed = 1, Rejected = 2, Unsupported = 3 };

// UPDATE_ACK / ERROR payload. table_version: the service table's version,
// or the SID table's in the reply to a SID_UPDATE.
struct Ack {
    Status status = Status::Ok;
    std::uint64_t table_version = 0;
    std::string error;  // what was wrong, naming the op index (or the SID) and field
    friend bool operator==(const Ack&, const Ack&) = default;
};

struct FlowsQuery {
    std::optional<std::uint32_t> cs_id;
    std::optional<std::uint32_t> instance_id;
    std::uint32_t limit = 1000;
    friend bool operator==(const FlowsQuery&, const FlowsQuery&) = default;
};

// SRv6 endpoint behaviours of the dataplane's local SID table
// (dataplane/sid_table.hpp), by their IANA "SRv6 Endpoint Behaviors" code
// points (RFC 8986 10.2). End.DX4 and End.DT4 need IPv4 forwarding, which
// cats does not do.
enum class SidBehavior : std::uint16_t { End = 1, EndX = 5, EndDX6 = 16, EndDT6 = 18 };
inline constexpr std::array<SidBehavior, 4> kSidBehaviors = {SidBehavior::End, SidBehavior::EndX,
                                                              SidBehavior::EndDX6, SidBehavior::EndDT6};
// RFC 8986's names: "End", "End.X", "End.DX6", "End.DT6"; "" for a value
// that is none of them.
std::string_view sid_behavior_name(SidBehavior b) noexcept;
// The same names, case-insensitive.
std::optional<SidBehavior> parse_sid_behavior(std::string_view name) noexcept;
// "End, End.X, End.DX6, End.DT6", for error messages.
std::string sid_behavior_list();
// End.X and End.DX6 send to a next hop; End and End.DT6 look up the FIB.
constexpr bool sid_needs_next_hop(SidBehavior b) noexcept {
    return b == SidBehavior::EndX || b == SidBehavior::EndDX6;
}

// SID_UPDATE payload: one local SID added (or, with the same prefix,
// replaced) or removed. Fixed size, kSidOpLen bytes, big-endian:
//
//    0       1       2       3       4       5       6       7
//   +-------+-------+-------+-------+---------------+---------------+
//   |  op   | flags | prefix|  rsv  |   behavior    |      rsv      |
//   |       |       | length|       |  (IANA, u16)  |               |
//   +-------+-------+-------+-------+---------------+---------------+
//   |              SID: the prefix's address (bytes 8..23)          |
//   +---------------------------------------------------------------+
//   |         next hop (bytes 24..39; zero unless flags bit 0)      |
//   +---------------------------------------------------------------+
//
//   op        1 add, 2 del
//   flags     bit 0: a next hop is present; the other bits are zero
//   behavior  a SidBehavior; 0 in a del, which carries no next hop either
//
// The decoder checks the layout (length, op, flags, prefix length 0..128,
// a known behaviour). What the table takes (at least a /16, host bits
// clear, a next hop exactly where the behaviour needs one, and one the FIB
// reaches) is the dataplane's to check: its ERROR names the SID and the
// field, and nothing changes.
enum class SidOpType : std::uint8_t { Add = 1, Del = 2 };
inline constexpr std::size_t kSidOpLen = 40;
struct SidOp {
    SidOpType op = SidOpType::Add;
    std::array<std::uint8_t, 16> sid{};
    std::uint8_t prefix_len = 128;
    SidBehavior behavior = SidBehavior::End;              // Add only
    std::optional<std::array<std::uint8_t, 16>> next_hop;  // Add only
    friend bool operator==(const SidOp&, const SidOp&) = default;
};

// Encoders append to `out`. Decoders return an empty string on success, or
// what is wrong ("op 3: instance 7: 6 SIDs, at most 5"); on error `out` is
// unspecified. Every length is checked before it is read. A batch of more
// than kMaxBatchOps operations is refused before any is decoded.
void encode_batch(const Batch& b, std::vector<std::uint8_t>& out);
std::string decode_batch(std::span<const std::uint8_t> in, Batch& out);

// The same decoding one operation at a time, for a consumer that applies as
// it reads and so holds one decoded Op, not the whole batch (a 5-byte
// RemoveService decodes into a ~150-byte Op):
//
//   BatchReader r(payload);
//   if (e = r.start(); !e.empty()) ...        // the batch header
//   for (i = 0; i < r.size(); ++i)
//       if (e = r.next(op); !e.empty()) ...   // "op i: ..."
//   if (e = r.finish(); !e.empty()) ...       // trailing bytes
//
// `op` may be reused between calls (its vectors keep their capacity).
class BatchReader {
public:
    explicit BatchReader(std::span<const std::uint8_t> in) : in_(in) {}
    std::string start();
    bool replace_all() const noexcept { return replace_all_; }
    std::uint32_t size() const noexcept { return count_; }
    std::string next(Op& op);
    std::string finish() const;

private:
    std::span<const std::uint8_t> in_;
    std::size_t pos_ = 0;
    bool replace_all_ = false;
    std::uint32_t count_ = 0;
    std::uint32_t index_ = 0;
};
void encode_ack(const Ack& a, std::vector<std::uint8_t>& out);
std::string decode_ack(std::span<const std::uint8_t> in, Ack& out);
void encode_flows_query(const FlowsQuery& q, std::vector<std::uint8_t>& out);
std::string decode_flows_query(std::span<const std::uint8_t> in, FlowsQuery& out);
// A del is written with behavior 0 and no next hop whatever `s` holds; one
// decoded has them at their defaults.
void encode_sid_op(const SidOp& s, std::vector<std::uint8_t>& out);
std::string decode_sid_op(std::span<const std::uint8_t> in, SidOp& out);

// A whole message: header + payload.
std::vector<std::uint8_t> make_message(MsgType type, std::uint32_t seq, std::span<const std::uint8_t> payload);

}  // namespace cats::mgmt
