// SPDX-License-Identifier: BSD-3-Clause
// control/advert: the receive path (authentication, replay, node binding,
// counters), pure and over a real UDP socket on [::1].
#include "advert.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

#include "helpers.hpp"

using namespace cats;
using namespace cats::control;
using namespace cats::control::test;

namespace {

PeerConfig peer(std::uint32_t node, std::uint16_t key_id, std::uint8_t fill, std::string name = "",
                std::uint32_t cap = 0) {
    PeerConfig p;
    p.node_id = node;
    p.key_id = key_id;
    p.key = key_bytes(fill);
    p.name = name.empty() ? "node-" + std::to_string(node) : name;
    p.lifetime_cap_s = cap;
    return p;
}

struct Fixture {
    Fixture() : rib(PolicyConfig{}), rx({peer(7, 1, 0xA1, "edge-a"), peer(8, 2, 0xB2), peer(7, 3, 0xC3, "edge-a-new")}, 300, rib) {}

    AdvertReceiver::Result send(const advert::Message& m, std::uint8_t key_fill, Time now = t0()) {
        const auto bytes = advert::encode(m, key_bytes(key_fill));
        return rx.handle(bytes, now);
    }

    Rib rib;
    AdvertReceiver rx;
};

}  // namespace

TEST_CASE("advert rx: an authentic advert reaches the RIB", "[advert]") {
    Fixture f;
    const auto r = f.send(advertise(7, 100, {record(100, 1), record(100, 2)}, 30, 1), 0xA1);
    CHECK(r.reason == RxReason::Accepted);
    CHECK(r.detail.empty());
    CHECK(r.ops.size() == 2);
    CHECK(f.rib.instance_count() == 2);
    CHECK(f.rx.count(RxReason::Accepted) == 1);
    const PeerStats* s = f.rx.peer_stats(1);
    REQUIRE(s != nullptr);
    CHECK(s->accepted == 1);
    CHECK(s->records_accepted == 2);
    CHECK(s->last_sequence == 100u);
    CHECK(s->last_seen == t0());

    const auto j = f.rx.peers_json(t0() + 1500ms);
    REQUIRE(j["peers"].size() == 3);
    CHECK(j["peers"][0]["name"] == "edge-a");
    CHECK(j["peers"][0]["key_id"] == 1);
    CHECK(j["peers"][0]["last_sequence"] == 100);
    CHECK(j["peers"][0]["last_seen_ms_ago"] == 1500);
    CHECK(j["peers"][1]["last_seen_ms_ago"].is_null());
}

TEST_CASE("advert rx: unknown key, bad MAC, wrong node are refused and counted", "[advert]") {
    Fixture f;
    // Key id 9 is not configured.
    auto r = f.send(advertise(7, 1, {record(100, 1)}, 30, 9), 0xA1);
    CHECK(r.reason == RxReason::UnknownKey);
    CHECK(r.detail == "key id 9 (claims node 7)");
    // Signed with another key than key id 1's.
    r = f.send(advertise(7, 2, {record(100, 1)}, 30, 1), 0xB2);
    CHECK(r.reason == RxReason::BadMac);
    CHECK(r.detail.find("key id 1 (edge-a)") == 0);
    // Key id 2 belongs to node 8: it cannot speak for node 7.
    r = f.send(advertise(7, 3, {record(100, 1)}, 30, 2), 0xB2);
    CHECK(r.reason == RxReason::NodeMismatch);
    CHECK(r.detail == "key id 2 (node-8) is node 8, message says node 7");

    CHECK(f.rx.count(RxReason::UnknownKey) == 1);
    CHECK(f.rx.count(RxReason::BadMac) == 1);
    CHECK(f.rx.count(RxReason::NodeMismatch) == 1);
    CHECK(f.rx.count(RxReason::Accepted) == 0);
    // A bad MAC proves nothing about who sent it: not on key id 1's peer
    // (anyone could forge those), on the source address.
    CHECK(f.rx.peer_stats(1)->rejected == 0);
    CHECK(f.rx.peer_stats(1)->last_error.empty());
    CHECK(f.rx.peer_stats(2)->rejected == 1);
    const SourceStats* src = f.rx.source_stats("unknown");
    REQUIRE(src != nullptr);
    CHECK(src->bad_mac == 1);
    CHECK(src->unknown_key == 1);
    CHECK(src->last_key_id == 1);
    CHECK(src->last_error.find("bad_mac: key id 1 (edge-a)") == 0);
    CHECK(f.rib.instance_count() == 0);

    // None of them moved node 7's sequence: sequence 1 is still fresh.
    CHECK(f.send(advertise(7, 1, {record(100, 1)}, 30, 1), 0xA1).reason == RxReason::Accepted);
}

TEST_CASE("advert rx: unauthenticated failures are kept per source, bounded", "[advert]") {
    Fixture f;
    const auto forged = advert::encode(advertise(7, 1, {record(100, 1)}, 30, 1), key_bytes(0xEE));
    const std::vector<std::uint8_t> junk(40, 0xEE);
    CHECK(f.rx.handle(forged, t0(), "2001:db8::66").reason == RxReason::BadMac);
    CHECK(f.rx.handle(forged, t0() + 1s, "2001:db8::66").reason == RxReason::BadMac);
    CHECK(f.rx.handle(junk, t0() + 2s, "2001:db8::66").reason != RxReason::Accepted);
    const SourceStats* s = f.rx.source_stats("2001:db8::66");
    REQUIRE(s != nullptr);
    CHECK(s->bad_mac == 2);
    CHECK(s->malformed == 1);
    CHECK(s->last_seen == t0() + 2s);
    CHECK(f.rx.peer_stats(1)->rejected == 0);
    // The genuine node is still heard from its own address.
    CHECK(f.send(advertise(7, 2, {record(100, 1)}, 30, 1), 0xA1).reason == RxReason::Accepted);
    const auto j = f.rx.peers_json(t0() + 3s);
    REQUIRE(j["unauthenticated"].size() == 1);
    CHECK(j["unauthenticated"][0]["source"] == "2001:db8::66");
    CHECK(j["unauthenticated"][0]["bad_mac"] == 2);
    CHECK(j["unauthenticated"][0]["last_seen_ms_ago"] == 1000);

    // A flood of sources keeps kMaxSources, dropping the one seen longest ago.
    for (std::size_t i = 0; i < AdvertReceiver::kMaxSources + 10; ++i)
        f.rx.handle(junk, t0() + 10s + std::chrono::milliseconds(i), "fd00::" + std::to_string(i));
    CHECK(f.rx.source_stats("2001:db8::66") == nullptr);
    CHECK(f.rx.source_stats("fd00::0") == nullptr);
    CHECK(f.rx.source_stats("fd00::265") != nullptr);
    CHECK(f.rx.sources_evicted() == 11);
    CHECK(f.rx.peers_json(t0() + 20s)["unauthenticated"].size() == AdvertReceiver::kMaxSources);
}

TEST_CASE("advert rx: a peer's scope is applied and its refusals counted by reason", "[advert][scope]") {
    Rib rib(PolicyConfig{});
    PeerConfig p = peer(7, 1, 0xA1, "edge-a");
    p.scope.cs_ids = {{100, 100}};
    p.scope.max_instances = 1;
    AdvertReceiver rx({p, peer(8, 2, 0xB2)}, 300, rib);
    auto r = rx.handle(advert::encode(advertise(7, 1, {record(500, 1), record(100, 1), record(100, 2)}, 30, 1),
                                      key_bytes(0xA1)),
                       t0());
    CHECK(r.reason == RxReason::Accepted);
    CHECK(r.ops.size() == 1);
    const PeerStats* s = rx.peer_stats(1);
    CHECK(s->records_rejected == 2);
    CHECK(s->record_errors[static_cast<std::size_t>(RecordError::OutOfScope)] == 1);
    CHECK(s->record_errors[static_cast<std::size_t>(RecordError::NodeQuota)] == 1);
    // Node 8 (no scope) takes (500, 1), which node 7 could not squat.
    r = rx.handle(advert::encode(advertise(8, 1, {record(500, 1)}, 30, 2), key_bytes(0xB2)), t0());
    CHECK(r.ops.size() == 1);
    CHECK(rx.peer_stats(2)->records_rejected == 0);
    const auto j = rx.peers_json(t0());
    CHECK(j["peers"][0]["records_refused"] == nlohmann::json({{"out_of_scope", 1}, {"node_quota", 1}}));
    CHECK(j["peers"][0]["scope"]["cs_ids"] == nlohmann::json::array({"100"}));
    CHECK(j["peers"][0]["scope"]["instance_ids"] == "any");
    CHECK(j["peers"][0]["scope"]["instances"] == 1);
    CHECK(j["peers"][1]["scope"]["max_instances"].is_null());
}

TEST_CASE("advert rx: sequences must grow per node", "[advert][replay]") {
    Fixture f;
    const auto m = advertise(7, 10, {record(100, 1)}, 30, 1);
    const auto bytes = advert::encode(m, key_bytes(0xA1));
    CHECK(f.rx.handle(bytes, t0()).reason == RxReason::Accepted);
    // The very same datagram again: a replay.
    auto r = f.rx.handle(bytes, t0() + 1s);
    CHECK(r.reason == RxReason::Replay);
    CHECK(r.detail == "key id 1 (edge-a): sequence 10 <= last accepted 10");
    // Older: refused. Newer: accepted.
    CHECK(f.send(advertise(7, 9, {record(100, 1)}, 30, 1), 0xA1).reason == RxReason::Replay);
    CHECK(f.send(advertise(7, 11, {record(100, 1)}, 30, 1), 0xA1).reason == RxReason::Accepted);
    // Per node: node 8 has its own sequence space.
    CHECK(f.send(advertise(8, 1, {record(200, 1)}, 30, 2), 0xB2).reason == RxReason::Accepted);
    // A node with two keys (rotation) has one sequence space.
    CHECK(f.send(advertise(7, 11, {record(100, 1)}, 30, 3), 0xC3).reason == RxReason::Replay);
    CHECK(f.send(advertise(7, 12, {record(100, 1)}, 30, 3), 0xC3).reason == RxReason::Accepted);
    CHECK(f.rx.count(RxReason::Replay) == 3);
    CHECK(f.rx.peer_stats(1)->rejected == 2);
    CHECK(f.rx.peer_stats(3)->rejected == 1);
    // A replayed withdrawal cannot remove a re-advertised instance.
    const auto w = advert::encode(withdraw(7, 13, {{100, 1}}, 1), key_bytes(0xA1));
    CHECK(f.rx.handle(w, t0()).reason == RxReason::Accepted);
    CHECK(f.rib.instance_count() == 1);  // node 8's
    CHECK(f.send(advertise(7, 14, {record(100, 1)}, 30, 1), 0xA1).reason == RxReason::Accepted);
    CHECK(f.rx.handle(w, t0()).reason == RxReason::Replay);
    CHECK(f.rib.instance_count() == 2);
}

TEST_CASE("advert rx: malformed datagrams are refused with their reason", "[advert]") {
    Fixture f;
    const auto good = advert::encode(advertise(7, 1, {record(100, 1)}, 30, 1), key_bytes(0xA1));
    std::vector<std::uint8_t> d = good;
    CHECK(f.rx.handle(std::span<const std::uint8_t>(d.data(), 10), t0()).reason == RxReason::Truncated);
    CHECK(f.rx.handle({}, t0()).reason == RxReason::Truncated);
    d[0] ^= 0xFF;
    CHECK(f.rx.handle(d, t0()).reason == RxReason::BadMagic);
    d = good;
    d[4] = 1;
    CHECK(f.rx.handle(d, t0()).reason == RxReason::BadVersion);
    d = good;
    d[5] = 77;
    CHECK(f.rx.handle(d, t0()).reason == RxReason::BadType);
    d = good;
    d.push_back(0);
    CHECK(f.rx.handle(d, t0()).reason == RxReason::BadLength);
    d = good;
    d[d.size() - 40] ^= 1;  // a record byte: the MAC no longer verifies
    CHECK(f.rx.handle(d, t0()).reason == RxReason::BadMac);
    CHECK(f.rx.count(RxReason::Truncated) == 2);
    CHECK(f.rx.count(RxReason::BadMagic) == 1);
    CHECK(f.rx.count(RxReason::BadVersion) == 1);
    CHECK(f.rx.count(RxReason::BadType) == 1);
    CHECK(f.rx.count(RxReason::BadLength) == 1);
    CHECK(f.rx.count(RxReason::BadMac) == 1);
    CHECK(f.rib.instance_count() == 0);
    // Random bytes of every length up to 200: no crash, never accepted.
    std::uint32_t x = 12345;
    for (std::size_t n = 0; n < 200; ++n) {
        std::vector<std::uint8_t> junk(n);
        for (auto& b : junk)
            b = static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16);
        CHECK(f.rx.handle(junk, t0()).reason != RxReason::Accepted);
    }
    // Still fine afterwards.
    CHECK(f.rx.handle(good, t0()).reason == RxReason::Accepted);
    const auto j = f.rx.counters_json();
    CHECK(j["accepted"] == 1);
    CHECK(j.contains("node_mismatch"));
}

TEST_CASE("advert rx: lifetimes are capped by policy and per peer", "[advert]") {
    Rib rib{PolicyConfig{}};
    AdvertReceiver rx({peer(7, 1, 0xA1, "", 0), peer(8, 2, 0xB2, "", 20)}, 60, rib);
    CHECK(rx.handle(advert::encode(advertise(7, 1, {record(100, 1)}, 65535, 1), key_bytes(0xA1)), t0()).reason ==
          RxReason::Accepted);
    CHECK(rib.next_deadline() == t0() + 60s);  // policy.default_lifetime_cap_s
    CHECK(rx.handle(advert::encode(advertise(8, 1, {record(100, 2)}, 65535, 2), key_bytes(0xB2)), t0()).reason ==
          RxReason::Accepted);
    CHECK(rib.next_deadline() == t0() + 20s);  // peers[].lifetime_cap_s
    CHECK(rx.handle(advert::encode(advertise(8, 2, {record(100, 2)}, 5, 2), key_bytes(0xB2)), t0()).reason ==
          RxReason::Accepted);
    CHECK(rib.next_deadline() == t0() + 5s);  // shorter than the cap: as advertised
}

TEST_CASE("advert rx: refused records are reported, the message is still accepted", "[advert]") {
    Fixture f;
    ctl::InstanceArgs a;
    a.cs_id = 100;
    a.id = 1;
    a.sids = {sid("2001:db8::1")};
    std::vector<mgmt::Op> ops;
    REQUIRE(f.rib.cli_add(a, t0(), ops).empty());
    const auto r = f.send(advertise(7, 1, {record(100, 1), record(100, 2)}, 30, 1), 0xA1);
    CHECK(r.reason == RxReason::Accepted);
    CHECK(r.detail == "key id 1 (edge-a): 1 of 2 records refused; first: record 0 (cs 100 instance 1): conflict: "
                      "already a cli instance");
    CHECK(f.rx.peer_stats(1)->records_accepted == 1);
    CHECK(f.rx.peer_stats(1)->records_rejected == 1);
}

TEST_CASE("advert listener: datagrams over UDP on [::1]", "[advert][udp]") {
    boost::asio::io_context io;
    Fixture f;
    std::vector<mgmt::Op> got;
    AdvertListener listener(io, {ListenConfig{"::1", 0}}, f.rx, [&](std::vector<mgmt::Op> ops) {
        got.insert(got.end(), ops.begin(), ops.end());
    });
    const auto ports = listener.local_ports();
    REQUIRE(ports.size() == 1);
    REQUIRE(ports[0] != 0);

    using boost::asio::ip::udp;
    udp::socket tx(io, udp::endpoint(udp::v6(), 0));
    const udp::endpoint to(boost::asio::ip::make_address("::1"), ports[0]);
    const auto send = [&](const std::vector<std::uint8_t>& d) { tx.send_to(boost::asio::buffer(d), to); };
    send(advert::encode(advertise(7, 1, {record(100, 1)}, 30, 1), key_bytes(0xA1)));
    send(advert::encode(advertise(7, 2, {record(100, 2)}, 30, 1), key_bytes(0xB2)));  // bad MAC
    send(advert::encode(advertise(7, 1, {record(100, 3)}, 30, 1), key_bytes(0xA1)));  // replay
    send(advert::encode(advertise(7, 3, {record(100, 4)}, 30, 99), key_bytes(0xA1)));  // unknown key
    send({1, 2, 3});                                                                     // truncated
    std::vector<std::uint8_t> big(65000, 0);                                             // bad magic, whole
    send(big);
    send(advert::encode(advertise(8, 1, {record(200, 1)}, 30, 2), key_bytes(0xB2)));

    const auto total = [&] {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(RxReason::Count); ++i)
            n += f.rx.count(static_cast<RxReason>(i));
        return n;
    };
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (total() < 7 && std::chrono::steady_clock::now() < deadline)
        io.run_for(10ms);
    CHECK(f.rx.count(RxReason::Accepted) == 2);
    CHECK(f.rx.count(RxReason::BadMac) == 1);
    CHECK(f.rx.count(RxReason::Replay) == 1);
    CHECK(f.rx.count(RxReason::UnknownKey) == 1);
    CHECK(f.rx.count(RxReason::Truncated) == 1);
    CHECK(f.rx.count(RxReason::BadMagic) == 1);
    REQUIRE(got.size() == 2);
    CHECK(got[0].type == mgmt::OpType::UpsertService);
    CHECK(got[0].service.cs_id == 100);
    CHECK(got[1].service.cs_id == 200);
    listener.stop();
    io.run_for(10ms);
}

namespace {

// Packets the kernel dropped before any socket, over all CPUs: the second
// column of /proc/net/softnet_stat (backlog full), in hex.
std::uint64_t backlog_drops() {
    std::ifstream in("/proc/net/softnet_stat");
    std::uint64_t sum = 0;
    std::string processed, dropped, rest;
    while (in >> processed >> dropped && std::getline(in, rest))
        sum += std::stoull(dropped, nullptr, 16);
    return sum;
}

// Whether this process may set a receive buffer beyond net.core.rmem_max
// (SO_RCVBUFFORCE needs CAP_NET_ADMIN, which root in a container may lack).
bool may_force_rcvbuf() {
    const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
    const int v = 1 << 20;
    const bool ok = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0;
    if (fd >= 0)
        ::close(fd);
    return ok;
}

}  // namespace

TEST_CASE("AdvertListener: the receive buffer is what the config asks; datagrams dropped when it is full are counted",
          "[advert]") {
    boost::asio::io_context io;
    Fixture f;
    std::uint32_t rmem_max = UINT32_MAX;
    if (!may_force_rcvbuf()) {
        std::ifstream in("/proc/sys/net/core/rmem_max");
        in >> rmem_max;
    }
    {
        AdvertListener big(io, {ListenConfig{"::1", 0, 8u << 20}}, f.rx, [](std::vector<mgmt::Op>) {});
        CHECK(big.receive_buffer(0) >= std::min<std::uint32_t>(8u << 20, rmem_max));
        big.stop();
    }

    // A small buffer and nobody reading: the kernel keeps what fits and
    // drops the rest at the socket. Every datagram sent is received, or
    // dropped at the socket, or (on a loaded host) dropped before it.
    AdvertListener small(io, {ListenConfig{"::1", 0, kMinReceiveBuffer}}, f.rx, [](std::vector<mgmt::Op>) {});
    CHECK(small.receive_buffer(0) >= kMinReceiveBuffer);
    CHECK(small.receive_buffer(0) < (1u << 20));
    CHECK(small.socket_drops() == 0);
    using boost::asio::ip::udp;
    udp::socket tx(io, udp::endpoint(udp::v6(), 0));
    const udp::endpoint to(boost::asio::ip::make_address("::1"), small.local_ports().at(0));
    const std::vector<std::uint8_t> junk(300, 0xEE);  // bad magic: rejected, but received
    constexpr std::uint64_t kSent = 3000;
    const std::uint64_t backlog_before = backlog_drops();
    for (std::uint64_t i = 0; i < kSent; ++i)
        tx.send_to(boost::asio::buffer(junk), to);
    const auto accounted = [&] {
        return f.rx.count(RxReason::BadMagic) + small.socket_drops() + (backlog_drops() - backlog_before);
    };
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (accounted() < kSent && std::chrono::steady_clock::now() < deadline)
        io.run_for(10ms);
    CHECK(small.socket_drops() > 0);
    CHECK(f.rx.count(RxReason::BadMagic) > 0);
    // Exact unless another process's packets were dropped in the backlog
    // meanwhile, which can only add.
    CHECK(accounted() >= kSent);
    CHECK(f.rx.count(RxReason::BadMagic) + small.socket_drops() <= kSent);
    small.stop();
    io.run_for(10ms);
}
