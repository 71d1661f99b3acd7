// SPDX-License-Identifier: BSD-3-Clause
// Writes the binary seed inputs of the fuzz corpus with the project's own
// builders and encoders: packets (tests/unit/packet_builder.hpp), CATS
// bodies, signed advertisements, management messages. make_corpus.py runs
// it; the files it writes are committed under tests/fuzz/corpus/.
//
//   fuzz-seeds OUT_DIR   (writes OUT_DIR/<target>/<name>)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "advert_wire.hpp"
#include "cats_wire.hpp"
#include "mgmt_wire.hpp"
#include "packet_builder.hpp"

namespace fs = std::filesystem;
using namespace cats;
using test::Bytes;
using test::ip6;
using test::PacketBuilder;

namespace {

fs::path g_out;

void put(const std::string& target, const std::string& name, const Bytes& b) {
    const fs::path dir = g_out / target;
    fs::create_directories(dir);
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!f)
        throw std::runtime_error("cannot write " + (dir / name).string());
}

Bytes with_byte(std::uint8_t first, const Bytes& b) {
    Bytes out{first};
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

wire::CatsMetadata meta(std::uint32_t cs_id, bool full) {
    wire::CatsMetadata md;
    md.cs_id = cs_id;
    if (full) {
        md.req.max_latency_us = 250;
        md.req.min_bandwidth_kbps = 10000;
        md.req.compute_type = wire::kComputeGpu | wire::kComputeCpu;
        md.req.min_score = 6;
        md.req.priority = 2;
        md.req.strict = true;
        md.flags = wire::kFlagStrict;
        md.has_affinity_key = true;
        md.affinity_key = 0x1122334455667788ULL;
    }
    return md;
}

// --- parse: byte 0 picks the ParseConfig (fuzz_parse.cpp), then the frame.
void parse_seeds() {
    const auto src = ip6("2001:db8:1::1");
    const auto dst = ip6("2001:db8:2::2");
    const auto seg0 = ip6("fc00:2::100");
    const auto seg1 = ip6("fc00:1::100");
    const auto sid = ip6("fc00:cafe::dead:beef");
    const test::UdpSpec udp{.sport = 40000, .dport = 443};
    const test::TcpSpec tcp{.sport = 40001, .dport = 80};
    auto eth_ip6 = [&](const test::Ipv6Addr& d, test::EthSpec e = {}) {
        PacketBuilder b;
        b.eth(e).ipv6({.src = src, .dst = d});
        return b;
    };
    const test::SrhSpec srh{.segments = {seg0, seg1}, .tlvs = {test::cats_tlv(meta(7, true))}};

    put("parse", "udp", with_byte(0, eth_ip6(dst).udp(udp).payload({1, 2, 3, 4}).build()));
    put("parse", "tcp", with_byte(0, eth_ip6(dst).tcp(tcp).build()));
    put("parse", "srh-cats-udp", with_byte(1, eth_ip6(seg1).srh(srh).udp(udp).build()));
    put("parse", "srh-cats-tcp-sel3", with_byte(3, eth_ip6(seg1).srh(srh).tcp(tcp).build()));
    put("parse", "doh-cats-tcp",
        with_byte(0, eth_ip6(dst).dst_opts({.options = {test::cats_option(meta(9, false))}}).tcp(tcp).build()));
    put("parse", "vlan-hbh-cats-srh-udp",
        with_byte(1, eth_ip6(seg1, {.vlans = {{.tci = 100}}})
                         .hbh({.options = {test::cats_option(meta(3, true))}})
                         .srh({.segments = {seg0, seg1}})
                         .udp(udp)
                         .build()));
    put("parse", "qinq-frag-udp",
        with_byte(0, eth_ip6(dst, {.vlans = {{.tpid = 0x88A8, .tci = 10}, {.tci = 20}}})
                         .frag({.more = true, .id = 5})
                         .udp(udp)
                         .build()));
    put("parse", "frag-later",
        with_byte(0, eth_ip6(dst).frag({.offset = 8, .id = 6, .next_header = 17}).payload(Bytes(16, 0x81)).build()));
    put("parse", "ah-esp", with_byte(0, eth_ip6(dst).ah({.spi = 1}).esp({.spi = 0x1234}).payload(Bytes(8, 0)).build()));
    put("parse", "icmpv6", with_byte(0, eth_ip6(dst).icmpv6({.type = 135}).payload(Bytes(20, 0)).build()));
    put("parse", "sid-udp", with_byte(1, eth_ip6(sid).udp(udp).build()));
    put("parse", "sid-srh-cats", with_byte(1, eth_ip6(sid).srh(srh).udp(udp).build()));
    put("parse", "rh0-left0", with_byte(0, eth_ip6(dst).routing({.routing_type = 0}).udp(udp).build()));
    put("parse", "srh-hmac-cats-padn",
        with_byte(2, eth_ip6(seg1)
                         .srh({.segments = {seg0, seg1},
                               .tlvs = {test::tlv(wire::kSrhTlvHmac, Bytes(38, 0xAA)),
                                        test::cats_tlv(meta(11, true)), test::srh_padn(6)}})
                         .udp(udp)
                         .build()));
    put("parse", "sctp", with_byte(0, eth_ip6(dst).raw(132, Bytes(12, 7)).build()));
    put("parse", "dst-opts-two-cats-tcp",
        with_byte(1, eth_ip6(dst)
                         .dst_opts({.options = {test::cats_option(meta(1, false)), test::cats_option(meta(2, true))}})
                         .tcp(tcp)
                         .build()));
    Bytes v4 = eth_ip6(dst, {.ether_type = 0x0800}).build();
    put("parse", "ipv4", with_byte(0, v4));
    put("parse", "ip6-no-next", with_byte(0, eth_ip6(dst).build()));
}

// --- cats_body: the body alone.
void cats_body_seeds() {
    put("cats_body", "minimal", wire::encode_body(meta(1, false)));
    put("cats_body", "full", wire::encode_body(meta(0xFFFFFFFF, true)));
    put("cats_body", "emit-all", wire::encode_body(meta(5, false), true));
    Bytes unknown = wire::encode_body(meta(6, false));
    unknown.insert(unknown.end(), {0x7F, 3, 1, 2, 3});  // an unknown sub-TLV, skipped
    put("cats_body", "unknown-subtlv", unknown);
    put("cats_body", "bad-value", {0x00, 0, 0, 0, 0, 0, 0, 1, 0x04, 0x01, 11});
}

// --- advert: byte 0 is the mode (fuzz_advert.cpp), then the datagram.
const Bytes kKey = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
                    0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0xff};

void advert_seeds() {
    advert::Record r;
    r.cs_id = 100;
    r.instance_id = 1;
    r.sids = {ip6("2001:db8:a::1"), ip6("2001:db8:a::2")};
    r.metrics.load_pct = 40;
    r.metrics.free_capacity = 1000;
    r.metrics.queue_delay_us = 50;
    r.metrics.bandwidth_kbps = 100000;
    r.metrics.l2_score = 8;
    r.metrics.compute_types = 3;
    r.metrics.weight = 10;
    r.metrics.latency_us = 700;
    advert::Record plain;
    plain.cs_id = 200;
    plain.instance_id = 9;
    plain.sids = {ip6("2001:db8:b::1")};

    advert::Message adv{.type = advert::Type::Advertise, .key_id = 1, .node_id = 7, .sequence = 42,
                        .lifetime_s = 30, .records = {r, plain}};
    const Bytes a = advert::encode(adv, kKey);
    put("advert", "advertise-2", with_byte(0, a));
    put("advert", "advertise-2-resign", with_byte(3, a));
    advert::Message one = adv;
    one.records = {plain};
    put("advert", "advertise-1-resign", with_byte(1, advert::encode(one, kKey)));
    advert::Message wd{.type = advert::Type::Withdraw, .key_id = 1, .node_id = 7, .sequence = 43, .records = {}};
    wd.records.resize(2);
    wd.records[0].cs_id = 100;
    wd.records[0].instance_id = 1;
    wd.records[1].cs_id = 200;
    wd.records[1].instance_id = 9;
    put("advert", "withdraw-2", with_byte(1, advert::encode(wd, kKey)));
    advert::Message empty = adv;
    empty.records.clear();
    put("advert", "advertise-0", with_byte(3, advert::encode(empty, kKey)));
}

// --- mgmt: a batch, an ack, a flows query, a whole message.
void mgmt_seeds() {
    mgmt::InstanceRec in1{.id = 1, .sids = {ip6("2001:db8:c::1")}, .metrics = {}};
    mgmt::InstanceRec in2{.id = 2, .sids = {ip6("2001:db8:c::2"), ip6("2001:db8:c::3")}, .metrics = {}};
    in2.metrics.score = 7;
    in2.metrics.load_pct = 30;
    mgmt::ServiceRec svc{.cs_id = 100, .affinity_timeout_s = 30, .name = "video", .instances = {in1, in2}};

    mgmt::Batch snap{.replace_all = true, .ops = {}};
    snap.ops.push_back({.type = mgmt::OpType::UpsertService, .service = svc, .instance = {}});
    mgmt::ServiceRec svc2{.cs_id = 200, .affinity_timeout_s = 5, .name = "ml-inférence", .instances = {in1}};
    snap.ops.push_back({.type = mgmt::OpType::UpsertService, .service = svc2, .instance = {}});
    Bytes b;
    mgmt::encode_batch(snap, b);
    put("mgmt", "batch-replace-all", b);

    mgmt::Batch delta;
    auto op = [](mgmt::OpType type, std::uint32_t cs_id) {
        mgmt::Op o;
        o.type = type;
        o.service.cs_id = cs_id;
        return o;
    };
    delta.ops.push_back(op(mgmt::OpType::UpsertInstance, 100));
    delta.ops.back().instance = in2;
    delta.ops.push_back(op(mgmt::OpType::RemoveInstance, 100));
    delta.ops.back().instance.id = 1;
    delta.ops.push_back(op(mgmt::OpType::RemoveService, 200));
    delta.ops.push_back(op(mgmt::OpType::UpsertService, 100));
    delta.ops.back().service = svc;
    b.clear();
    mgmt::encode_batch(delta, b);
    put("mgmt", "batch-delta", b);
    put("mgmt", "message-update", mgmt::make_message(mgmt::MsgType::Update, 17, b));

    b.clear();
    mgmt::encode_ack({.status = mgmt::Status::Rejected, .table_version = 9, .error = "op 1: no service 100"}, b);
    put("mgmt", "ack", b);
    b.clear();
    mgmt::encode_flows_query({.cs_id = 100, .instance_id = std::nullopt, .limit = 50}, b);
    put("mgmt", "flows-query", b);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    g_out = argv[1];
    parse_seeds();
    cats_body_seeds();
    advert_seeds();
    mgmt_seeds();
    return 0;
}
