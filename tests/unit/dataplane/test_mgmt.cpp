// SPDX-License-Identifier: BSD-3-Clause
// The dataplane's management server over a real Unix stream socket: updates
// applied atomically and acknowledged with the new table version, bad input
// refused with a reason and nothing applied, requests answered with JSON,
// messages split across writes reassembled; SID_UPDATE adds and removes
// local SIDs, a bad one refused naming the SID and field and nothing lost.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "eal_fixture.hpp"
#include "mgmt.hpp"

using namespace cats::dp;
namespace mg = cats::mgmt;

namespace {

Ipv6Addr a6(const char* s) { return *parse_ipv6_addr(s); }

struct Rig {
    std::unique_ptr<Fib> fib;
    std::unique_ptr<ServiceTable> table;
    std::unique_ptr<SidTable> sids;
    std::unique_ptr<MgmtServer> server;
    std::string path;
    int fd = -1;

    // with_sids: SID_UPDATE edits `sids` (and fc00:ff::1 stands for a
    // port's own address); without, the server has no SID table.
    explicit Rig(bool with_sids = true) {
        cats::test::ensure_eal();
        static std::atomic<int> n{0};
        const int id = n++;
        std::vector<Neighbor> nbrs = {{a6("fe80::1"), {2, 0, 0, 0, 0, 1}, 0}};
        RouteConfig r;
        r.prefix = *parse_ipv6_prefix("fc00::/16");
        r.via = a6("fe80::1");
        fib = std::make_unique<Fib>("mgmt_fib_" + std::to_string(id), 0, std::vector<RouteConfig>{r}, nbrs);
        table = std::make_unique<ServiceTable>(EncapParams{a6("2001:db8::1"), EncapMode::Encaps, 64}, *fib,
                                               std::vector<MacAddr>(4), nullptr, 16, 64);
        path = "/tmp/cats-mgmt-test-" + std::to_string(::getpid()) + "-" + std::to_string(id) + ".sock";
        MgmtHooks hooks;
        hooks.status = [this] { return nlohmann::json{{"table_version", table->current()->version}}; };
        hooks.stats = [] { return nlohmann::json{{"totals", {{"rx_packets", 7}}}}; };
        hooks.flows = [](const mg::FlowsQuery& q) {
            return nlohmann::json::array({{{"cs_id", q.cs_id.value_or(0)}, {"limit", q.limit}}});
        };
        if (with_sids) {
            sids = std::make_unique<SidTable>(*fib, nullptr);
            hooks.sids = sids.get();
            hooks.check_sid = [](const LocalSidConfig& c) -> std::string {
                return c.sid.addr == a6("fc00:ff::1") ? "one of the ports' addresses (port p0)" : "";
            };
        }
        server = std::make_unique<MgmtServer>(path, *table, hooks);
        fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        server->poll(100);  // accept
    }
    ~Rig() {
        ::close(fd);
    }

    void send_raw(const std::vector<std::uint8_t>& bytes) {
        REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    }
    // Poll the server until a whole reply has arrived; false if the server
    // closed the connection.
    bool reply(mg::Header& h, std::vector<std::uint8_t>& payload) {
        std::vector<std::uint8_t> in;
        for (int i = 0; i < 200; ++i) {
            server->poll(10);
            std::uint8_t buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0)
                return false;
            if (n > 0)
                in.insert(in.end(), buf, buf + n);
            if (in.size() >= mg::kHeaderLen) {
                REQUIRE(mg::decode_header(std::span<const std::uint8_t, mg::kHeaderLen>(in.data(), mg::kHeaderLen),
                                          h) == mg::HeaderError::Ok);
                if (in.size() >= mg::kHeaderLen + h.length) {
                    payload.assign(in.begin() + mg::kHeaderLen, in.begin() + mg::kHeaderLen + h.length);
                    return true;
                }
            }
        }
        FAIL("no reply from the management server");
        return false;
    }
    mg::Ack update(const mg::Batch& b, std::uint32_t seq, mg::MsgType* type = nullptr) {
        std::vector<std::uint8_t> p;
        mg::encode_batch(b, p);
        send_raw(mg::make_message(mg::MsgType::Update, seq, p));
        mg::Header h;
        std::vector<std::uint8_t> r;
        REQUIRE(reply(h, r));
        CHECK(h.seq == seq);
        if (type)
            *type = h.type;
        mg::Ack a;
        REQUIRE(mg::decode_ack(r, a) == "");
        return a;
    }
};

// One SID_UPDATE and its reply.
mg::Ack sid_update(Rig& rig, const mg::SidOp& op, std::uint32_t seq, mg::MsgType* type = nullptr) {
    std::vector<std::uint8_t> p;
    mg::encode_sid_op(op, p);
    rig.send_raw(mg::make_message(mg::MsgType::SidUpdate, seq, p));
    mg::Header h;
    std::vector<std::uint8_t> r;
    REQUIRE(rig.reply(h, r));
    CHECK(h.seq == seq);
    if (type)
        *type = h.type;
    mg::Ack a;
    REQUIRE(mg::decode_ack(r, a) == "");
    return a;
}

mg::SidOp sid_add(const char* sid, std::uint8_t len, mg::SidBehavior b, const char* next_hop = nullptr) {
    mg::SidOp op;
    op.op = mg::SidOpType::Add;
    op.sid = a6(sid);
    op.prefix_len = len;
    op.behavior = b;
    if (next_hop)
        op.next_hop = a6(next_hop);
    return op;
}

mg::SidOp sid_del(const char* sid, std::uint8_t len = 128) {
    mg::SidOp op;
    op.op = mg::SidOpType::Del;
    op.sid = a6(sid);
    op.prefix_len = len;
    return op;
}

mg::InstanceRec inst(std::uint32_t id, const char* sid, std::uint8_t load = 0) {
    mg::InstanceRec r;
    r.id = id;
    r.sids.push_back(a6(sid));
    r.metrics.load_pct = load;
    return r;
}

mg::Op upsert_service(std::uint32_t cs, std::vector<mg::InstanceRec> insts) {
    mg::Op op;
    op.type = mg::OpType::UpsertService;
    op.service.cs_id = cs;
    op.service.name = "svc" + std::to_string(cs);
    op.service.instances = std::move(insts);
    return op;
}

}  // namespace

TEST_CASE("mgmt: an update batch is one new table version, acknowledged", "[mgmt-server]") {
    Rig rig;
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1"), inst(2, "fc00::2")}), upsert_service(20, {inst(1, "fc00::3")})};
    mg::MsgType type;
    const mg::Ack a = rig.update(b, 41, &type);
    CHECK(type == mg::MsgType::UpdateAck);
    CHECK(a.status == mg::Status::Ok);
    CHECK(a.table_version == 1);
    const Snapshot& s = *rig.table->current();
    REQUIRE(s.find(10) != nullptr);
    CHECK(s.find(10)->instances.size() == 2);
    CHECK(s.find(20)->name == "svc20");
    CHECK(s.find(10)->instances[0].resolved);

    // Increments: instance metrics change, an instance goes, one service goes.
    mg::Batch inc;
    mg::Op set;
    set.type = mg::OpType::UpsertInstance;
    set.service.cs_id = 10;
    set.instance = inst(2, "fc00::2", 100);
    mg::Op del;
    del.type = mg::OpType::RemoveInstance;
    del.service.cs_id = 10;
    del.instance.id = 1;
    mg::Op rm;
    rm.type = mg::OpType::RemoveService;
    rm.service.cs_id = 20;
    inc.ops = {set, del, rm};
    const Service* before20 = s.find(20);
    (void)before20;
    const mg::Ack a2 = rig.update(inc, 42);
    CHECK(a2.status == mg::Status::Ok);
    CHECK(a2.table_version == 2);
    const Snapshot& s2 = *rig.table->current();
    REQUIRE(s2.find(10) != nullptr);
    REQUIRE(s2.find(10)->instances.size() == 1);
    CHECK(s2.find(10)->instances[0].id == 2);
    CHECK(s2.find(10)->instances[0].metrics.load_pct == 100);
    CHECK(s2.find(20) == nullptr);
    CHECK(rig.server->updates_applied() == 2);
}

TEST_CASE("mgmt: replace_all makes the table exactly the snapshot", "[mgmt-server]") {
    Rig rig;
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1")}), upsert_service(20, {inst(1, "fc00::3")})};
    REQUIRE(rig.update(b, 1).status == mg::Status::Ok);
    mg::Batch snap;
    snap.replace_all = true;
    snap.ops = {upsert_service(30, {inst(5, "fc00::5")})};
    const mg::Ack a = rig.update(snap, 2);
    CHECK(a.status == mg::Status::Ok);
    const Snapshot& s = *rig.table->current();
    CHECK(s.cs_ids == std::vector<std::uint32_t>{30});
}

TEST_CASE("mgmt: a batch with one bad op changes nothing and names the op", "[mgmt-server]") {
    Rig rig;
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1")})};
    REQUIRE(rig.update(b, 1).status == mg::Status::Ok);
    const Snapshot* before = rig.table->current();

    mg::Batch bad;
    mg::Op rm;
    rm.type = mg::OpType::RemoveService;
    rm.service.cs_id = 99;
    bad.ops = {upsert_service(11, {inst(1, "fc00::1")}), rm};
    mg::MsgType type;
    const mg::Ack a = rig.update(bad, 2, &type);
    CHECK(type == mg::MsgType::Error);
    CHECK(a.status == mg::Status::Rejected);
    CHECK_THAT(a.error, Catch::Contains("op 1") && Catch::Contains("service 99"));
    CHECK(a.table_version == 1);
    CHECK(rig.table->current() == before);
    CHECK(rig.table->current()->find(11) == nullptr);

    // Invalid values are refused by the table's validation, also atomically.
    mg::Batch bad2;
    auto op = upsert_service(12, {inst(1, "fc00::1")});
    op.service.instances[0].metrics.score = 11;
    bad2.ops = {op};
    const mg::Ack a2 = rig.update(bad2, 3);
    CHECK(a2.status == mg::Status::Rejected);
    CHECK_THAT(a2.error, Catch::Contains("score"));
    CHECK(rig.table->current() == before);
    CHECK(rig.server->updates_rejected() == 2);
}

TEST_CASE("mgmt: a malformed payload is refused, the connection stays", "[mgmt-server]") {
    Rig rig;
    std::vector<std::uint8_t> junk = {0, 0, 0, 0, 0, 0, 0, 5};  // 5 ops announced, none there
    rig.send_raw(mg::make_message(mg::MsgType::Update, 9, junk));
    mg::Header h;
    std::vector<std::uint8_t> p;
    REQUIRE(rig.reply(h, p));
    mg::Ack a;
    REQUIRE(mg::decode_ack(p, a) == "");
    CHECK(a.status == mg::Status::Malformed);
    CHECK(rig.server->messages_malformed() == 1);
    // Still usable.
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1")})};
    CHECK(rig.update(b, 10).status == mg::Status::Ok);
}

TEST_CASE("mgmt: a bad header is answered with an error and the connection closed", "[mgmt-server]") {
    Rig rig;
    std::vector<std::uint8_t> msg = mg::make_message(mg::MsgType::StatusReq, 3, {});
    msg[0] = 'X';
    rig.send_raw(msg);
    mg::Header h;
    std::vector<std::uint8_t> p;
    REQUIRE(rig.reply(h, p));
    CHECK(h.type == mg::MsgType::Error);
    // Then EOF.
    CHECK_FALSE(rig.reply(h, p));
    CHECK(rig.server->clients() == 0);
}

TEST_CASE("mgmt: status, stats and flows requests; a message split across writes", "[mgmt-server]") {
    Rig rig;
    // Split a STATUS_REQ in two writes, the header cut in the middle.
    std::vector<std::uint8_t> msg = mg::make_message(mg::MsgType::StatusReq, 5, {});
    rig.send_raw({msg.begin(), msg.begin() + 7});
    rig.server->poll(10);
    rig.send_raw({msg.begin() + 7, msg.end()});
    mg::Header h;
    std::vector<std::uint8_t> p;
    REQUIRE(rig.reply(h, p));
    CHECK(h.type == mg::MsgType::Status);
    CHECK(h.seq == 5);
    CHECK(nlohmann::json::parse(p.begin(), p.end())["table_version"] == 0);

    rig.send_raw(mg::make_message(mg::MsgType::StatsReq, 6, {}));
    REQUIRE(rig.reply(h, p));
    CHECK(h.type == mg::MsgType::Stats);
    CHECK(nlohmann::json::parse(p.begin(), p.end())["totals"]["rx_packets"] == 7);

    std::vector<std::uint8_t> q;
    mg::encode_flows_query({100u, std::nullopt, 5}, q);
    rig.send_raw(mg::make_message(mg::MsgType::FlowsReq, 7, q));
    REQUIRE(rig.reply(h, p));
    CHECK(h.type == mg::MsgType::Flows);
    const auto j = nlohmann::json::parse(p.begin(), p.end());
    CHECK(j[0]["cs_id"] == 100);
    CHECK(j[0]["limit"] == 5);

    // A reply type sent as a request is refused as unsupported.
    rig.send_raw(mg::make_message(mg::MsgType::Stats, 8, {}));
    REQUIRE(rig.reply(h, p));
    mg::Ack a;
    REQUIRE(mg::decode_ack(p, a) == "");
    CHECK(a.status == mg::Status::Unsupported);
}

TEST_CASE("mgmt: who may use the socket", "[mgmt-server]") {
    MgmtAccess none;
    MgmtAccess cats_group;
    cats_group.group = 990;
    const uid_t self = 1000;
    CHECK(classify_peer({0, 0, {}}, self, none) == PeerClass::Manager);            // root
    CHECK(classify_peer({1000, 1000, {}}, self, none) == PeerClass::Manager);      // our own user
    CHECK(classify_peer({65534, 65534, {}}, self, none) == PeerClass::Refused);
    CHECK(classify_peer({65534, 990, {}}, self, none) == PeerClass::Refused);      // no group configured
    CHECK(classify_peer({65534, 990, {}}, self, cats_group) == PeerClass::Member);  // primary group
    CHECK(classify_peer({65534, 100, {4, 990}}, self, cats_group) == PeerClass::Member);  // supplementary
    CHECK(classify_peer({65534, 100, {4, 24}}, self, cats_group) == PeerClass::Refused);
}

TEST_CASE("mgmt: a live socket path is refused, a stale one replaced", "[mgmt-server]") {
    Rig rig;
    // The rig's server answers on rig.path: a second server must not take it.
    MgmtHooks hooks;
    CHECK_THROWS_WITH(MgmtServer(rig.path, *rig.table, hooks),
                      Catch::Contains("another process answers on it"));
    // The first one still owns the path, and still answers.
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1")})};
    CHECK(rig.update(b, 1).status == mg::Status::Ok);
}

namespace {

mg::Op instance_op(mg::OpType type, std::uint32_t cs, std::uint32_t id, std::uint8_t load = 0) {
    mg::Op op;
    op.type = type;
    op.service.cs_id = cs;
    if (type == mg::OpType::UpsertInstance)
        op.instance = inst(id, "fc00::9", load);
    op.instance.id = id;
    return op;
}

std::vector<std::uint8_t> wire(const mg::Batch& b) {
    std::vector<std::uint8_t> p;
    mg::encode_batch(b, p);
    return p;
}

std::vector<std::uint32_t> ids_of(const ServiceConfig& sc) {
    std::vector<std::uint32_t> out;
    for (const InstanceConfig& ic : sc.instances)
        out.push_back(ic.id);
    return out;
}

}  // namespace

TEST_CASE("apply_batch: instance edits by id keep the table's order", "[mgmt-apply]") {
    std::map<std::uint32_t, ServiceConfig> base;
    ServiceConfig& sc = base[10];
    sc.cs_id = 10;
    sc.name = "svc10";
    for (std::uint32_t id : {5, 3, 8, 1})
        sc.instances.push_back({id, {a6("fc00::1")}, {}});
    base[20] = {20, "svc20", 30, {{1, {a6("fc00::2")}, {}}}};

    mg::Batch b;
    b.ops = {instance_op(mg::OpType::UpsertInstance, 10, 3, 40),  // update in place
             instance_op(mg::OpType::RemoveInstance, 10, 8),       // a hole, closed at the end
             instance_op(mg::OpType::UpsertInstance, 10, 9),       // appended
             instance_op(mg::OpType::RemoveInstance, 10, 5),
             instance_op(mg::OpType::UpsertInstance, 10, 5, 7)};   // back, at the end
    const BatchResult r = apply_batch(wire(b), base, 4096);
    REQUIRE(r.error == "");
    REQUIRE(r.changes.size() == 1);  // service 20 untouched, not copied
    const ServiceConfig& out = *r.changes.at(10);
    CHECK(ids_of(out) == std::vector<std::uint32_t>{3, 1, 9, 5});
    CHECK(out.instances[0].metrics.load_pct == 40);
    CHECK(out.instances[3].metrics.load_pct == 7);
    // The base is the caller's and is not changed.
    CHECK(ids_of(base.at(10)) == std::vector<std::uint32_t>{5, 3, 8, 1});

    // Removing a removed instance, or one of a removed service: not found.
    mg::Batch twice;
    twice.ops = {instance_op(mg::OpType::RemoveInstance, 10, 8), instance_op(mg::OpType::RemoveInstance, 10, 8)};
    CHECK(apply_batch(wire(twice), base, 4096).error == "op 1: service 10 instance 8: not found");
    mg::Op rm;
    rm.type = mg::OpType::RemoveService;
    rm.service.cs_id = 20;
    mg::Batch gone;
    gone.ops = {rm, instance_op(mg::OpType::UpsertInstance, 20, 2)};
    const BatchResult g = apply_batch(wire(gone), base, 4096);
    CHECK(g.status == mg::Status::Rejected);
    CHECK(g.error == "op 1: service 20: not found");
    CHECK(g.changes.empty());
}

TEST_CASE("apply_batch: a service is refused at its instance bound, at the op that passes it", "[mgmt-apply]") {
    // Issue 20: 160k UpsertInstance ops of new ids into one service took
    // 9.4 s before the table refused the result. Now the op that would be
    // instance kMaxInstancesPerService + 1 is refused, and named.
    std::map<std::uint32_t, ServiceConfig> base;
    base[1] = {1, "one", 30, {}};
    mg::Batch b;
    const std::uint32_t n = 160000;
    for (std::uint32_t k = 0; k < n; ++k)
        b.ops.push_back(instance_op(mg::OpType::UpsertInstance, 1, k + 1));
    const BatchResult r = apply_batch(wire(b), base, 4096);
    CHECK(r.status == mg::Status::Rejected);
    CHECK(r.error == "op " + std::to_string(kMaxInstancesPerService) + ": service 1 instance " +
                         std::to_string(kMaxInstancesPerService + 1) + ": more than " +
                         std::to_string(kMaxInstancesPerService) + " instances");
    // Removals make room within the same batch.
    mg::Batch churn;
    for (std::uint32_t k = 0; k < 4 * kMaxInstancesPerService; ++k) {
        churn.ops.push_back(instance_op(mg::OpType::UpsertInstance, 1, k + 1));
        if (k >= kMaxInstancesPerService / 2)
            churn.ops.push_back(instance_op(mg::OpType::RemoveInstance, 1, k + 1 - kMaxInstancesPerService / 2));
    }
    const BatchResult c = apply_batch(wire(churn), base, 4096);
    REQUIRE(c.error == "");
    CHECK(c.changes.at(1)->instances.size() == kMaxInstancesPerService / 2);
}

TEST_CASE("mgmt: the new caps refuse a batch by name and lose nothing installed", "[mgmt-server]") {
    Rig rig;
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1"), inst(2, "fc00::2")})};
    REQUIRE(rig.update(b, 1).status == mg::Status::Ok);
    const Snapshot* before = rig.table->current();

    SECTION("more operations than a batch may hold") {
        // The count alone is refused: the ops need not even be there.
        std::vector<std::uint8_t> p = {0, 0, 0, 0};
        const std::uint32_t n = mg::kMaxBatchOps + 1;
        p.insert(p.end(), {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                           static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
        rig.send_raw(mg::make_message(mg::MsgType::Update, 2, p));
        mg::Header h;
        std::vector<std::uint8_t> r;
        REQUIRE(rig.reply(h, r));
        mg::Ack a;
        REQUIRE(mg::decode_ack(r, a) == "");
        CHECK(a.status == mg::Status::Malformed);
        CHECK(a.error == "operation count " + std::to_string(n) + " exceeds " + std::to_string(mg::kMaxBatchOps) +
                             " per batch");
        CHECK(rig.server->messages_malformed() == 1);
    }
    SECTION("a payload over the bound: the header is refused, the connection closed") {
        std::vector<std::uint8_t> msg = mg::make_message(mg::MsgType::Update, 2, {});
        const std::uint32_t len = mg::kMaxPayload + 1;
        msg[8] = static_cast<std::uint8_t>(len >> 24);
        msg[9] = static_cast<std::uint8_t>(len >> 16);
        msg[10] = static_cast<std::uint8_t>(len >> 8);
        msg[11] = static_cast<std::uint8_t>(len);
        rig.send_raw(msg);
        mg::Header h;
        std::vector<std::uint8_t> r;
        REQUIRE(rig.reply(h, r));
        CHECK(h.type == mg::MsgType::Error);
        CHECK_FALSE(rig.reply(h, r));
    }
    SECTION("a service pushed past its instance bound") {
        mg::Batch big;
        for (std::uint32_t k = 0; k < kMaxInstancesPerService + 10; ++k)
            big.ops.push_back(instance_op(mg::OpType::UpsertInstance, 10, 100 + k));
        const mg::Ack a = rig.update(big, 2);
        CHECK(a.status == mg::Status::Rejected);
        CHECK_THAT(a.error, Catch::Contains("op " + std::to_string(kMaxInstancesPerService - 2) + ": service 10") &&
                                Catch::Contains("more than " + std::to_string(kMaxInstancesPerService)));
        CHECK(rig.server->updates_rejected() == 1);
    }
    // Whatever was refused, the table is the one installed before.
    CHECK(rig.table->current() == before);
    REQUIRE(rig.table->current()->find(10) != nullptr);
    CHECK(rig.table->current()->find(10)->instances.size() == 2);
    // And the channel still takes updates (unless the oversize header
    // closed the connection, as it must).
    if (rig.server->clients() == 0)
        return;
    mg::Batch ok;
    ok.ops = {instance_op(mg::OpType::UpsertInstance, 10, 3)};
    const mg::Ack a = rig.update(ok, 3);
    CHECK(a.status == mg::Status::Ok);
    CHECK(rig.table->current()->find(10)->instances.size() == 3);
}

TEST_CASE("mgmt: an increment shares the services it does not touch", "[mgmt-server]") {
    Rig rig;
    mg::Batch b;
    b.ops = {upsert_service(10, {inst(1, "fc00::1")}), upsert_service(20, {inst(1, "fc00::3")}),
             upsert_service(30, {inst(1, "fc00::4")})};
    REQUIRE(rig.update(b, 1).status == mg::Status::Ok);
    const Service* s20 = rig.table->current()->find(20);
    mg::Op rm;
    rm.type = mg::OpType::RemoveService;
    rm.service.cs_id = 30;
    mg::Batch inc;
    inc.ops = {instance_op(mg::OpType::UpsertInstance, 10, 2), rm, upsert_service(40, {inst(1, "fc00::5")})};
    REQUIRE(rig.update(inc, 2).status == mg::Status::Ok);
    const Snapshot& s = *rig.table->current();
    CHECK(s.cs_ids == std::vector<std::uint32_t>{10, 20, 40});
    CHECK(s.find(20) == s20);  // shared, not rebuilt
    CHECK(s.find(10)->instances.size() == 2);
    const auto& cfg = rig.table->configs();
    CHECK(cfg.size() == 3);
    CHECK(cfg.at(10).instances.size() == 2);
    CHECK(cfg.at(40).name == "svc40");
    CHECK_FALSE(cfg.contains(30));
}

TEST_CASE("apply_batch: new services are counted against max_services as they come", "[mgmt-apply]") {
    std::map<std::uint32_t, ServiceConfig> base;
    base[1] = {1, "one", 30, {{1, {a6("fc00::1")}, {}}}};
    mg::Op rm;
    rm.type = mg::OpType::RemoveService;
    SECTION("increment") {
        mg::Batch b;
        for (std::uint32_t cs = 2; cs <= 5; ++cs)
            b.ops.push_back(upsert_service(cs, {}));
        CHECK(apply_batch(wire(b), base, 4).error == "op 3: service 5: gateway.max_services (4) reached");
        // A removal makes room; re-upserting a live service takes none.
        rm.service.cs_id = 1;
        b.ops.insert(b.ops.begin(), rm);
        b.ops.push_back(upsert_service(5, {}));
        CHECK(apply_batch(wire(b), base, 4).error == "");
    }
    SECTION("added and removed in one batch: nothing is left to hold") {
        mg::Batch b;
        for (std::uint32_t cs = 100; cs < 10100; ++cs) {
            b.ops.push_back(upsert_service(cs, {}));
            rm.service.cs_id = cs;
            b.ops.push_back(rm);
        }
        const BatchResult r = apply_batch(wire(b), base, 4);
        REQUIRE(r.error == "");
        CHECK(r.changes.empty());
    }
    SECTION("replace_all") {
        mg::Batch b;
        b.replace_all = true;
        for (std::uint32_t cs = 1; cs <= 5; ++cs)
            b.ops.push_back(upsert_service(cs, {}));
        CHECK(apply_batch(wire(b), base, 4).error == "op 4: service 5: gateway.max_services (4) reached");
        b.ops.pop_back();
        const BatchResult r = apply_batch(wire(b), base, 4);
        CHECK(r.error == "");
        CHECK(r.all.size() == 4);
    }
}

TEST_CASE("mgmt: SID_UPDATE adds and removes local SIDs, each one SID table version", "[mgmt-server][sid]") {
    Rig rig;
    using B = mg::SidBehavior;
    mg::MsgType type;
    // fc00::9 is reached by the rig's route fc00::/16.
    mg::Ack a = sid_update(rig, sid_add("fc00:e::d6", 128, B::EndDX6, "fc00::9"), 1, &type);
    CHECK(type == mg::MsgType::UpdateAck);
    CHECK(a.status == mg::Status::Ok);
    CHECK(a.table_version == 1);
    a = sid_update(rig, sid_add("fc00:e:1::", 64, B::End), 2);
    CHECK(a.status == mg::Status::Ok);
    CHECK(a.table_version == 2);
    REQUIRE(rig.sids->configs().size() == 2);
    const LocalSidConfig& dx6 = rig.sids->configs().begin()->second;
    CHECK(format_sid(dx6.sid) == "fc00:e::d6");
    CHECK(dx6.behavior == SidBehavior::EndDX6);
    CHECK(dx6.next_hop == a6("fc00::9"));
    CHECK(rig.sids->current()->find(a6("fc00:e:1::77").data()) != nullptr);
    // The service table is not touched.
    CHECK(rig.table->current()->version == 0);
    // An add of the same prefix replaces it.
    a = sid_update(rig, sid_add("fc00:e::d6", 128, B::EndDT6), 3);
    CHECK(a.status == mg::Status::Ok);
    CHECK(rig.sids->configs().size() == 2);
    CHECK(rig.sids->configs().begin()->second.behavior == SidBehavior::EndDT6);
    CHECK_FALSE(rig.sids->configs().begin()->second.next_hop);

    a = sid_update(rig, sid_del("fc00:e::d6"), 4);
    CHECK(a.status == mg::Status::Ok);
    CHECK(a.table_version == 4);
    CHECK(rig.sids->configs().size() == 1);
    CHECK(rig.server->updates_applied() == 4);
}

TEST_CASE("mgmt: a bad SID_UPDATE changes nothing and names the SID and field", "[mgmt-server][sid]") {
    Rig rig;
    using B = mg::SidBehavior;
    REQUIRE(sid_update(rig, sid_add("fc00:e::d6", 128, B::EndDX6, "fc00::9"), 1).status == mg::Status::Ok);
    const SidSnapshot* before = rig.sids->current();
    const auto configs = rig.sids->configs();
    struct Bad {
        mg::SidOp op;
        std::string error;
    };
    const Bad bad[] = {
        {sid_add("fc00:e::d7", 128, B::EndDX6), "sid fc00:e::d7: End.DX6 needs a next_hop"},
        {sid_add("fc00:e::d7", 128, B::EndX), "sid fc00:e::d7: End.X needs a next_hop"},
        {sid_add("fc00:e::d7", 128, B::End, "fc00::9"), "sid fc00:e::d7: End takes no next_hop (End.X does)"},
        {sid_add("fc00:e::d7", 128, B::EndDX6, "2001:db8:77::1"),
         "sid fc00:e::d7: next_hop 2001:db8:77::1 is no neighbor the FIB reaches"},
        {sid_add("fc00:e::1", 64, B::End), "sid fc00:e::1/64: host bits set (did you mean fc00:e::/64?)"},
        {sid_add("fc00::", 8, B::End), "sid fc00::/8: a SID is at least a /16"},
        {sid_add("fe80::1", 128, B::End), "sid fe80::1: a SID is a global or unique-local address"},
        {sid_add("fc00:ff::1", 128, B::End), "sid fc00:ff::1: one of the ports' addresses (port p0)"},
        {sid_del("fc00:e::d7"), "sid fc00:e::d7: not found"},
        {sid_del("fc00:e::d6", 127), "sid fc00:e::d6/127: not found"},
    };
    std::uint32_t seq = 10;
    for (const Bad& b : bad) {
        mg::MsgType type;
        const mg::Ack a = sid_update(rig, b.op, ++seq, &type);
        CHECK(type == mg::MsgType::Error);
        CHECK(a.status == mg::Status::Rejected);
        CHECK_THAT(a.error, Catch::StartsWith(b.error));
        CHECK(a.table_version == 1);
        CHECK(rig.sids->current() == before);
        CHECK(rig.sids->configs() == configs);
    }
    CHECK(rig.server->updates_rejected() == std::size(bad));

    // Malformed: the layout's error; the connection stays.
    std::vector<std::uint8_t> p;
    mg::encode_sid_op(sid_add("fc00:e::d8", 128, B::End), p);
    p[4] = 0;
    p[5] = 17;  // End.DX4
    rig.send_raw(mg::make_message(mg::MsgType::SidUpdate, 40, p));
    mg::Header h;
    std::vector<std::uint8_t> r;
    REQUIRE(rig.reply(h, r));
    mg::Ack a;
    REQUIRE(mg::decode_ack(r, a) == "");
    CHECK(h.type == mg::MsgType::Error);
    CHECK(a.status == mg::Status::Malformed);
    CHECK_THAT(a.error, Catch::StartsWith("behavior: unknown code point 17"));
    CHECK(a.table_version == 1);
    p.pop_back();
    rig.send_raw(mg::make_message(mg::MsgType::SidUpdate, 41, p));
    REQUIRE(rig.reply(h, r));
    REQUIRE(mg::decode_ack(r, a) == "");
    CHECK(a.status == mg::Status::Malformed);
    CHECK(a.error == "SID update of 39 bytes, want 40");
    CHECK(rig.server->messages_malformed() == 2);
    CHECK(rig.sids->configs() == configs);
    CHECK(sid_update(rig, sid_del("fc00:e::d6"), 42).status == mg::Status::Ok);
}

TEST_CASE("mgmt: without a SID table SID_UPDATE is unsupported", "[mgmt-server][sid]") {
    Rig rig(false);
    mg::MsgType type;
    const mg::Ack a = sid_update(rig, sid_add("fc00:e::d6", 128, mg::SidBehavior::End), 1, &type);
    CHECK(type == mg::MsgType::Error);
    CHECK(a.status == mg::Status::Unsupported);
    CHECK(a.error == "this dataplane has no local SID table");
}

TEST_CASE("sid_config: IANA code points to the table's behaviours, by the same names", "[mgmt-apply][sid]") {
    for (const mg::SidBehavior b : mg::kSidBehaviors) {
        const LocalSidConfig c = sid_config(sid_add("fc00:e::", 48, b, "fc00::9"));
        CHECK(sid_behavior_name(c.behavior) == mg::sid_behavior_name(b));
        CHECK(parse_sid_behavior(mg::sid_behavior_name(b)) == c.behavior);
        CHECK(needs_next_hop(c.behavior) == mg::sid_needs_next_hop(b));
        CHECK(format_sid(c.sid) == "fc00:e::/48");
        CHECK(c.next_hop == a6("fc00::9"));
    }
}
