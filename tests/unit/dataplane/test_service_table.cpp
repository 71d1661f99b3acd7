// SPDX-License-Identifier: BSD-3-Clause
// The service route table (dataplane/service_table.hpp) over a real rte_fib6:
// published snapshots and their versions, first-SID resolution and the
// precomputed encapsulation, copy-on-write sharing, stable counter slots,
// all-or-nothing errors, and RCU readers racing the writer.
#include <catch2/catch.hpp>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "addr_literal.hpp"
#include "eal_fixture.hpp"
#include "parse.hpp"
#include "service_table.hpp"

using namespace cats::dp;
using Catch::Contains;

using cats::test::addr;

namespace {

const Ipv6Addr kNbr0 = addr("fe80::1");
const Ipv6Addr kNbr1 = addr("fe80::2");
const MacAddr kNbrMac0 = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddr kNbrMac1 = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const MacAddr kPortMac0 = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x10};
const MacAddr kPortMac1 = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x11};
const Ipv6Addr kSource = addr("2001:db8:ffff::1");

// fc00:1::/32 -> neighbor 0 (port 0), fc00:2::/32 -> neighbor 1 (port 1);
// 2001:db8:dead::/48 has no route.
const Ipv6Addr kSidA = addr("fc00:1::a");
const Ipv6Addr kSidB = addr("fc00:2::b");
const Ipv6Addr kSidC = addr("fc00:1::c");
const Ipv6Addr kSidD = addr("fc00:2::d");
const Ipv6Addr kNoRoute1 = addr("2001:db8:dead::1");
const Ipv6Addr kNoRoute2 = addr("2001:db8:dead::2");

std::string unique_name(const char* prefix) {
    static std::atomic<unsigned> n{0};
    return std::string(prefix) + std::to_string(n.fetch_add(1));
}

struct TableEnv {
    explicit TableEnv(std::uint32_t max_services = 64, std::uint32_t max_instances = 256,
                      rte_rcu_qsbr* qsbr = nullptr, EncapMode mode = EncapMode::Encaps)
        : fib(unique_name("ut_svc_fib"), SOCKET_ID_ANY,
              {RouteConfig{Ipv6Prefix{addr("fc00:1::"), 32}, kNbr0},
               RouteConfig{Ipv6Prefix{addr("fc00:2::"), 32}, kNbr1}},
              {Neighbor{kNbr0, kNbrMac0, 0}, Neighbor{kNbr1, kNbrMac1, 1}}),
          table(EncapParams{kSource, mode, 64}, fib, {kPortMac0, kPortMac1}, qsbr, max_services,
                max_instances) {}

    Fib fib;
    ServiceTable table;
};

InstanceConfig inst(std::uint32_t id, std::vector<Ipv6Addr> sids, std::uint32_t weight = 100) {
    InstanceConfig ic;
    ic.id = id;
    ic.sids = std::move(sids);
    ic.metrics.weight = weight;
    return ic;
}

ServiceConfig svc(std::uint32_t cs_id, std::string name, std::vector<InstanceConfig> instances,
                  std::uint32_t affinity_timeout_s = 30) {
    ServiceConfig sc;
    sc.cs_id = cs_id;
    sc.name = std::move(name);
    sc.affinity_timeout_s = affinity_timeout_s;
    sc.instances = std::move(instances);
    return sc;
}

// Services 10, 20, 30 with 2, 1 and 3 instances (all resolved).
std::vector<ServiceConfig> three_services() {
    return {svc(30, "thirty", {inst(1, {kSidA}), inst(2, {kSidB}), inst(3, {kSidC})}),
            svc(10, "ten", {inst(1, {kSidA}), inst(2, {kSidB})}),
            svc(20, "twenty", {inst(1, {kSidD})})};
}

// Keeps each service of a snapshot alive so that pointer comparisons across
// versions cannot be fooled by address reuse.
std::map<std::uint32_t, std::shared_ptr<const Service>> hold(const Snapshot& s) {
    std::map<std::uint32_t, std::shared_ptr<const Service>> m;
    for (std::size_t i = 0; i < s.cs_ids.size(); ++i)
        m.emplace(s.cs_ids[i], s.owners[i]);
    return m;
}

std::vector<std::uint32_t> instance_ids(const Service& s) {
    std::vector<std::uint32_t> ids;
    for (const Instance& in : s.instances)
        ids.push_back(in.id);
    return ids;
}

// Everything the configs say, as text, to compare before and after an error.
std::string describe(const std::map<std::uint32_t, ServiceConfig>& configs) {
    std::ostringstream o;
    for (const auto& [cs_id, sc] : configs) {
        o << cs_id << ':' << sc.cs_id << ':' << sc.name << ':' << sc.affinity_timeout_s << '[';
        for (const InstanceConfig& ic : sc.instances) {
            o << ic.id << '/' << ic.sids.size() << '/' << ic.metrics.weight << '/';
            for (const Ipv6Addr& a : ic.sids)
                o << format_ipv6(a) << ',';
        }
        o << ']';
    }
    return o.str();
}

// The message of the std::invalid_argument that f() throws; fails the test
// when it throws nothing. Any other exception type escapes and fails it too.
template <class F>
std::string invalid_argument_from(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    FAIL("expected std::invalid_argument, nothing was thrown");
    return {};
}

// Runs a writer call that must be refused and checks that nothing changed.
template <class F>
std::string refused(ServiceTable& t, F&& f) {
    const Snapshot* before = t.current();
    const std::uint64_t version = before->version;
    const auto held = hold(*before);
    const std::string configs = describe(t.configs());
    const std::string msg = invalid_argument_from(std::forward<F>(f));
    INFO("error: " << msg);
    CHECK(t.current() == before);
    CHECK(t.current()->version == version);
    CHECK(hold(*t.current()) == held);
    CHECK(describe(t.configs()) == configs);
    return msg;
}

}  // namespace

TEST_CASE("ServiceTable: an empty table is published before any update", "[table]") {
    cats::test::ensure_eal();
    TableEnv env;
    const Snapshot* s = env.table.current();
    REQUIRE(s != nullptr);
    CHECK(s->version == 0);
    CHECK(s->cs_ids.empty());
    CHECK(s->find(0) == nullptr);
    CHECK(s->find(10) == nullptr);
    CHECK(env.table.configs().empty());
}

TEST_CASE("ServiceTable: replace_all publishes version 1, sorted and findable", "[table]") {
    cats::test::ensure_eal();
    TableEnv env;
    auto configs = three_services();
    configs[1].affinity_timeout_s = 86400;
    configs[0].instances[2].metrics.load_pct = 40;
    configs[0].instances[2].metrics.score = 3;
    configs[0].instances[2].metrics.latency_us = 77;
    REQUIRE(env.table.replace_all(configs) == 1);

    const Snapshot* s = env.table.current();
    REQUIRE(s != nullptr);
    CHECK(s->version == 1);
    CHECK(s->cs_ids == std::vector<std::uint32_t>{10, 20, 30});
    REQUIRE(s->services.size() == 3);
    REQUIRE(s->owners.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(s->services[i]->cs_id == s->cs_ids[i]);
        CHECK(s->owners[i].get() == s->services[i]);
        CHECK(s->find(s->cs_ids[i]) == s->services[i]);
    }
    for (std::uint32_t unknown : {0u, 1u, 9u, 11u, 15u, 25u, 31u, 0xFFFFFFFFu})
        CHECK(s->find(unknown) == nullptr);

    const Service* ten = s->find(10);
    REQUIRE(ten != nullptr);
    CHECK(ten->name == "ten");
    CHECK(ten->affinity_timeout_ms == 86400u * 1000u);
    CHECK(instance_ids(*ten) == std::vector<std::uint32_t>{1, 2});

    // Instances keep their config order and carry derived fields.
    const Service* thirty = s->find(30);
    REQUIRE(thirty != nullptr);
    CHECK(thirty->name == "thirty");
    CHECK(thirty->affinity_timeout_ms == 30000);
    REQUIRE(instance_ids(*thirty) == std::vector<std::uint32_t>{1, 2, 3});
    const Instance& third = thirty->instances[2];
    CHECK(third.metrics == configs[0].instances[2].metrics);
    CHECK(third.weight == Approx(effective_weight(configs[0].instances[2].metrics)));
    CHECK(third.weight == Approx(100.0 * 0.6 * 4.0 / 11.0));
    CHECK(third.seed == instance_seed(30, 3));
    CHECK(third.n_sids == 1);
    CHECK(third.sids[0] == kSidC);

    // The configs are kept for listings.
    REQUIRE(env.table.configs().size() == 3);
    CHECK(env.table.configs().at(20).name == "twenty");
}

TEST_CASE("ServiceTable: find() answers for every CS-ID of a large table and nothing else", "[table]") {
    cats::test::ensure_eal();
    TableEnv env(4096, 4096);
    // CS-IDs that collide in the low bits, the extremes, and a spread.
    std::vector<ServiceConfig> configs;
    std::set<std::uint32_t> ids{0, 1, UINT32_MAX, UINT32_MAX - 1};
    for (std::uint32_t k = 0; k < 1000; ++k)
        ids.insert(k * 4096);  // same low 12 bits
    for (std::uint32_t k = 0; k < 1000; ++k)
        ids.insert(0x9E3779B9u * (k + 7));
    for (const std::uint32_t id : ids)
        configs.push_back(svc(id, "s" + std::to_string(id), {inst(1, {kSidA})}));
    REQUIRE(env.table.replace_all(configs) == 1);
    const Snapshot* s = env.table.current();
    REQUIRE(s->cs_ids.size() == ids.size());
    for (std::size_t i = 0; i < s->cs_ids.size(); ++i)
        CHECK(s->find(s->cs_ids[i]) == s->services[i]);
    std::uint32_t absent_checked = 0;
    for (std::uint32_t x = 2; absent_checked < 5000; x += 977)
        if (!ids.contains(x)) {
            CHECK(s->find(x) == nullptr);
            ++absent_checked;
        }
    // And after an update that removes half of them.
    std::map<std::uint32_t, ServiceConfig> next = env.table.configs();
    std::set<std::uint32_t> removed;
    for (auto it = next.begin(); it != next.end();) {
        if (removed.size() * 2 < ids.size() && (it->first / 4096) % 2 == 0) {
            removed.insert(it->first);
            it = next.erase(it);
        } else {
            ++it;
        }
    }
    env.table.commit(next, nullptr);
    s = env.table.current();
    for (const std::uint32_t id : ids)
        CHECK((s->find(id) != nullptr) == !removed.contains(id));
}

TEST_CASE("ServiceTable: the first SID is resolved through the FIB into the encapsulation", "[table]") {
    cats::test::ensure_eal();
    TableEnv env;
    REQUIRE(env.table.replace_all({svc(10, "ten",
                                       {inst(1, {kSidA}),
                                        inst(2, {kSidB, kSidC, kSidD}),
                                        inst(3, {kNoRoute1}),
                                        inst(4, {kNoRoute2, kSidA}),  // only the first SID counts
                                        inst(5, {kSidC, kNoRoute1}),
                                        inst(6, {kNbr1})})}) == 1);
    const Service* s = env.table.current()->find(10);
    REQUIRE(s != nullptr);
    REQUIRE(s->instances.size() == 6);

    struct Expect {
        bool resolved;
        std::uint16_t port;
        MacAddr nbr_mac;
        MacAddr port_mac;
    };
    const Expect expect[] = {{true, 0, kNbrMac0, kPortMac0}, {true, 1, kNbrMac1, kPortMac1},
                             {false, 0, {}, {}},             {false, 0, {}, {}},
                             {true, 0, kNbrMac0, kPortMac0}, {true, 1, kNbrMac1, kPortMac1}};
    const std::vector<Ipv6Addr> sids[] = {{kSidA}, {kSidB, kSidC, kSidD}, {kNoRoute1}, {kNoRoute2, kSidA},
                                          {kSidC, kNoRoute1}, {kNbr1}};

    for (std::size_t i = 0; i < 6; ++i) {
        const Instance& in = s->instances[i];
        const Expect& e = expect[i];
        INFO("instance " << in.id);
        CHECK(in.resolved == e.resolved);
        CHECK(in.n_sids == sids[i].size());
        for (std::size_t j = 0; j < sids[i].size(); ++j)
            CHECK(in.sids[j] == sids[i][j]);
        if (!e.resolved) {
            CHECK(in.encap.len == 0);  // nothing to send it with
            CHECK_FALSE(available(in));
            continue;
        }
        CHECK(in.port_id == e.port);
        CHECK(available(in));
        const std::size_t n = sids[i].size();
        const std::uint8_t* b = in.encap.bytes.data();
        CHECK(in.encap.len == 14 + 40 + 8 + 16 * n);
        CHECK(in.encap.ip_len == 40 + 8 + 16 * n);
        CHECK(std::memcmp(b, e.nbr_mac.data(), 6) == 0);
        CHECK(std::memcmp(b + 6, e.port_mac.data(), 6) == 0);
        CHECK(b[12] == 0x86);
        CHECK(b[13] == 0xDD);
        const std::uint8_t* ip = b + 14;
        CHECK((ip[0] >> 4) == 6);
        CHECK(ip[6] == kProtoRouting);
        CHECK(ip[7] == 64);
        CHECK(std::memcmp(ip + 8, kSource.data(), 16) == 0);
        CHECK(std::memcmp(ip + 24, sids[i][0].data(), 16) == 0);  // DA = first SID
        const std::uint8_t* srh = ip + 40;
        CHECK(srh[3] == n - 1);  // Segments Left
        // Segment List[n-1] is the first SID (RFC 8754 2: the list is reversed).
        CHECK(std::memcmp(srh + 8 + 16 * (n - 1), sids[i][0].data(), 16) == 0);
        CHECK(std::memcmp(srh + 8, sids[i][n - 1].data(), 16) == 0);
    }
}

TEST_CASE("ServiceTable: the encapsulation follows the configured mode", "[table]") {
    cats::test::ensure_eal();
    TableEnv env(64, 256, nullptr, EncapMode::EncapsRed);
    REQUIRE(env.table.replace_all({svc(10, "ten", {inst(1, {kSidB}), inst(2, {kSidA, kSidD})})}) == 1);
    const Service* s = env.table.current()->find(10);
    REQUIRE(s != nullptr);
    // H.Encaps.Red with one SID: no SRH, the DA is the SID, NH = IPv6.
    const Instance& one = s->instances[0];
    REQUIRE(one.resolved);
    CHECK(one.encap.len == 14 + 40);
    CHECK(one.encap.bytes[14 + 6] == 41);
    CHECK(std::memcmp(one.encap.bytes.data() + 14 + 24, kSidB.data(), 16) == 0);
    CHECK(std::memcmp(one.encap.bytes.data(), kNbrMac1.data(), 6) == 0);
    // Two SIDs: the first only in the DA.
    const Instance& two = s->instances[1];
    REQUIRE(two.resolved);
    CHECK(two.encap.len == 14 + 40 + 8 + 16);
    CHECK(std::memcmp(two.encap.bytes.data() + 14 + 24, kSidA.data(), 16) == 0);
    CHECK(std::memcmp(two.encap.bytes.data() + 14 + 40 + 8, kSidD.data(), 16) == 0);
}

TEST_CASE("ServiceTable: each snapshot knows its longest outer header", "[table]") {
    // The workers prefetch that much headroom in front of every packet.
    cats::test::ensure_eal();
    TableEnv env;
    CHECK(env.table.current()->max_encap_len == 0);
    constexpr std::uint16_t kOneSid = 14 + 40 + 8 + 16;
    constexpr std::uint16_t kThreeSids = 14 + 40 + 8 + 16 * 3;
    // An unresolved instance has no encapsulation, however many SIDs it lists.
    env.table.replace_all({svc(10, "ten", {inst(1, {kSidA}), inst(2, {kNoRoute1, kSidB, kSidC, kSidD})}),
                           svc(20, "twenty", {inst(1, {kSidB})})});
    CHECK(env.table.current()->max_encap_len == kOneSid);
    // A longer one in one service; the other service is shared, not rebuilt.
    const Service* twenty = env.table.current()->find(20);
    env.table.upsert_instance(10, inst(3, {kSidB, kSidC, kSidD}));
    CHECK(env.table.current()->find(20) == twenty);
    CHECK(env.table.current()->max_encap_len == kThreeSids);
    env.table.upsert_instance(20, inst(2, {kSidA, kSidC}));
    CHECK(env.table.current()->max_encap_len == kThreeSids);
    // It goes with the instance that had it.
    env.table.remove_instance(10, 3);
    CHECK(env.table.current()->max_encap_len == kOneSid + 16);
    env.table.remove_service(20);
    CHECK(env.table.current()->max_encap_len == kOneSid);
    env.table.remove_service(10);
    CHECK(env.table.current()->max_encap_len == 0);
}

TEST_CASE("ServiceTable: each update bumps the version and copies only the changed service", "[table]") {
    cats::test::ensure_eal();
    TableEnv env;
    ServiceTable& t = env.table;
    REQUIRE(t.replace_all(three_services()) == 1);
    auto v1 = hold(*t.current());

    SECTION("upsert_instance adds, then replaces") {
        REQUIRE(t.upsert_instance(20, inst(2, {kSidA})) == 2);
        const Snapshot* s2 = t.current();
        CHECK(s2->version == 2);
        CHECK(s2->find(10) == v1.at(10).get());
        CHECK(s2->find(30) == v1.at(30).get());
        REQUIRE(s2->find(20) != nullptr);
        CHECK(s2->find(20) != v1.at(20).get());
        CHECK(instance_ids(*s2->find(20)) == std::vector<std::uint32_t>{1, 2});
        // The old version was copied, not modified.
        CHECK(instance_ids(*v1.at(20)) == std::vector<std::uint32_t>{1});
        CHECK(t.configs().at(20).instances.size() == 2);

        auto v2 = hold(*s2);
        REQUIRE(t.upsert_instance(20, inst(2, {kSidB}, 300)) == 3);
        const Snapshot* s3 = t.current();
        CHECK(s3->version == 3);
        CHECK(s3->find(10) == v1.at(10).get());
        CHECK(s3->find(30) == v1.at(30).get());
        CHECK(s3->find(20) != v2.at(20).get());
        REQUIRE(instance_ids(*s3->find(20)) == std::vector<std::uint32_t>{1, 2});
        const Instance& changed = s3->find(20)->instances[1];
        CHECK(changed.metrics.weight == 300);
        CHECK(changed.weight == Approx(300.0));
        CHECK(changed.sids[0] == kSidB);
        CHECK(changed.port_id == 1);
        CHECK(v2.at(20)->instances[1].metrics.weight == 100);
    }
    SECTION("remove_instance") {
        REQUIRE(t.remove_instance(30, 2) == 2);
        const Snapshot* s = t.current();
        CHECK(s->version == 2);
        CHECK(s->find(10) == v1.at(10).get());
        CHECK(s->find(20) == v1.at(20).get());
        CHECK(s->find(30) != v1.at(30).get());
        CHECK(instance_ids(*s->find(30)) == std::vector<std::uint32_t>{1, 3});
        CHECK(instance_ids(*v1.at(30)) == std::vector<std::uint32_t>{1, 2, 3});
    }
    SECTION("upsert_service adds a service, then replaces one") {
        REQUIRE(t.upsert_service(svc(15, "fifteen", {inst(7, {kSidD})})) == 2);
        const Snapshot* s2 = t.current();
        CHECK(s2->cs_ids == std::vector<std::uint32_t>{10, 15, 20, 30});
        for (std::uint32_t cs : {10u, 20u, 30u})
            CHECK(s2->find(cs) == v1.at(cs).get());
        REQUIRE(s2->find(15) != nullptr);
        CHECK(s2->find(15)->name == "fifteen");

        auto v2 = hold(*s2);
        REQUIRE(t.upsert_service(svc(10, "ten again", {inst(9, {kSidC})}, 5)) == 3);
        const Snapshot* s3 = t.current();
        CHECK(s3->version == 3);
        CHECK(s3->find(10) != v2.at(10).get());
        CHECK(s3->find(10)->name == "ten again");
        CHECK(s3->find(10)->affinity_timeout_ms == 5000);
        CHECK(instance_ids(*s3->find(10)) == std::vector<std::uint32_t>{9});
        for (std::uint32_t cs : {15u, 20u, 30u})
            CHECK(s3->find(cs) == v2.at(cs).get());
        CHECK(t.configs().at(10).name == "ten again");
    }
    SECTION("remove_service") {
        REQUIRE(t.remove_service(20) == 2);
        const Snapshot* s = t.current();
        CHECK(s->version == 2);
        CHECK(s->cs_ids == std::vector<std::uint32_t>{10, 30});
        CHECK(s->find(20) == nullptr);
        CHECK(s->find(10) == v1.at(10).get());
        CHECK(s->find(30) == v1.at(30).get());
        CHECK(t.configs().count(20) == 0);
        REQUIRE(t.remove_service(10) == 3);
        REQUIRE(t.remove_service(30) == 4);
        CHECK(t.current()->cs_ids.empty());
        CHECK(t.current()->version == 4);
    }
    SECTION("replace_all rebuilds every service") {
        REQUIRE(t.replace_all(three_services()) == 2);
        const Snapshot* s = t.current();
        CHECK(s->version == 2);
        for (std::uint32_t cs : {10u, 20u, 30u}) {
            REQUIRE(s->find(cs) != nullptr);
            CHECK(s->find(cs) != v1.at(cs).get());
            CHECK(instance_ids(*s->find(cs)) == instance_ids(*v1.at(cs)));
        }
        REQUIRE(t.replace_all({}) == 3);
        CHECK(t.current()->cs_ids.empty());
        CHECK(t.configs().empty());
    }
}

TEST_CASE("ServiceTable: counter slots are stable per (cs_id, id) and distinct", "[table]") {
    cats::test::ensure_eal();
    TableEnv env(8, 16);
    ServiceTable& t = env.table;
    REQUIRE(t.replace_all(three_services()) == 1);

    using Key = std::pair<std::uint32_t, std::uint32_t>;
    auto slots = [&]() {
        std::map<std::uint32_t, std::uint32_t> svc_slots;
        std::map<Key, std::uint32_t> inst_slots;
        const Snapshot* s = t.current();
        for (const Service* sv : s->services) {
            svc_slots[sv->cs_id] = sv->slot;
            for (const Instance& in : sv->instances)
                inst_slots[{sv->cs_id, in.id}] = in.slot;
        }
        return std::make_pair(svc_slots, inst_slots);
    };
    auto distinct_and_bounded = [&](const auto& m, std::uint32_t max) {
        std::set<std::uint32_t> seen;
        for (const auto& [k, slot] : m) {
            CHECK(slot < max);
            seen.insert(slot);
        }
        CHECK(seen.size() == m.size());
    };

    const auto [svc1, inst1] = slots();
    CHECK(svc1.size() == 3);
    CHECK(inst1.size() == 6);  // instance 1 exists in every service: (cs_id, id) is the key
    distinct_and_bounded(svc1, t.max_services());
    distinct_and_bounded(inst1, t.max_instances());

    // New instances get new slots; existing ones keep theirs.
    t.upsert_instance(10, inst(3, {kSidD}));
    t.upsert_instance(20, inst(1, {kSidA}, 500));
    const auto [svc2, inst2] = slots();
    CHECK(svc2 == svc1);
    for (const auto& [k, slot] : inst1)
        CHECK(inst2.at(k) == slot);
    distinct_and_bounded(inst2, t.max_instances());
    const std::uint32_t slot_10_3 = inst2.at({10, 3});

    // Gone and back again: the same slot.
    t.remove_instance(10, 1);
    CHECK(slots().second.count({10, 1}) == 0);
    t.upsert_instance(10, inst(1, {kSidC}));
    CHECK(slots().second.at({10, 1}) == inst1.at({10, 1}));
    t.remove_service(30);
    t.upsert_service(svc(30, "thirty", {inst(3, {kSidC}), inst(1, {kSidA})}));
    const auto [svc3, inst3] = slots();
    CHECK(svc3.at(30) == svc1.at(30));
    CHECK(inst3.at({30, 1}) == inst1.at({30, 1}));
    CHECK(inst3.at({30, 3}) == inst1.at({30, 3}));

    // replace_all with the same services keeps them too.
    t.replace_all(three_services());
    const auto [svc4, inst4] = slots();
    CHECK(svc4 == svc1);
    CHECK(inst4 == inst1);
    t.upsert_instance(10, inst(3, {kSidD}));
    CHECK(slots().second.at({10, 3}) == slot_10_3);
}

TEST_CASE("ServiceTable: refused updates name the culprit and change nothing", "[table]") {
    cats::test::ensure_eal();
    TableEnv env(4, 8);
    ServiceTable& t = env.table;
    REQUIRE(t.replace_all(three_services()) == 1);  // 3 services, 6 instances

    SECTION("unknown cs_id") {
        CHECK_THAT(refused(t, [&] { t.upsert_instance(99, inst(1, {kSidA})); }), Contains("service 99"));
        CHECK_THAT(refused(t, [&] { t.remove_instance(99, 1); }), Contains("service 99"));
        CHECK_THAT(refused(t, [&] { t.remove_service(99); }), Contains("service 99"));
    }
    SECTION("unknown instance id") {
        const std::string msg = refused(t, [&] { t.remove_instance(10, 77); });
        CHECK_THAT(msg, Contains("service 10") && Contains("instance 77"));
    }
    SECTION("duplicate instance id") {
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(10, "ten", {inst(4, {kSidA}), inst(4, {kSidB})})); }),
                   Contains("service 10") && Contains("instance 4") && Contains("duplicate"));
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(40, "new", {inst(1, {kSidA}), inst(1, {kSidB})})); }),
                   Contains("service 40") && Contains("instance 1"));
        CHECK_THAT(refused(t,
                           [&] {
                               auto all = three_services();
                               all[2].instances.push_back(inst(1, {kSidC}));
                               t.replace_all(all);
                           }),
                   Contains("service 20") && Contains("instance 1"));
    }
    SECTION("duplicate cs_id in replace_all") {
        CHECK_THAT(refused(t,
                           [&] {
                               auto all = three_services();
                               all.push_back(svc(20, "again", {inst(1, {kSidA})}));
                               t.replace_all(all);
                           }),
                   Contains("service 20") && Contains("duplicate"));
    }
    SECTION("0 or 6 SIDs") {
        const std::vector<Ipv6Addr> six = {kSidA, kSidB, kSidC, kSidD, kSidA, kSidB};
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, inst(5, {})); }),
                   Contains("service 10") && Contains("instance 5") && Contains("sids"));
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, inst(5, six)); }),
                   Contains("service 10") && Contains("instance 5") && Contains("sids"));
        // Replacing an existing instance with a bad one is refused as well.
        CHECK_THAT(refused(t, [&] { t.upsert_instance(30, inst(2, six)); }),
                   Contains("service 30") && Contains("instance 2"));
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(20, "twenty", {inst(1, {kSidA}), inst(3, {})})); }),
                   Contains("service 20") && Contains("instance 3"));
        CHECK_THAT(refused(t, [&] { t.replace_all({svc(50, "x", {inst(8, six)})}); }),
                   Contains("service 50") && Contains("instance 8"));
        // Five is the most.
        CHECK(t.upsert_instance(10, inst(5, {kSidA, kSidB, kSidC, kSidD, kSidA})) == 2);
        CHECK(t.current()->find(10)->instances.back().n_sids == 5);
    }
    SECTION("metrics out of range") {
        InstanceConfig bad_score = inst(6, {kSidA});
        bad_score.metrics.score = 11;
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, bad_score); }),
                   Contains("service 10") && Contains("instance 6") && Contains("score"));
        InstanceConfig bad_load = inst(6, {kSidA});
        bad_load.metrics.load_pct = 101;
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, bad_load); }),
                   Contains("service 10") && Contains("instance 6") && Contains("load"));
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(10, "ten", {inst(1, {kSidA})}, 0)); }),
                   Contains("service 10") && Contains("affinity_timeout_s"));
        InstanceConfig bad_weight = inst(6, {kSidA});
        bad_weight.metrics.weight = 1000001;
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, bad_weight); }),
                   Contains("service 10") && Contains("instance 6") && Contains("weight"));
        InstanceConfig bad_types = inst(6, {kSidA});
        bad_types.metrics.compute_types = 0x10;
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, bad_types); }),
                   Contains("service 10") && Contains("instance 6") && Contains("compute_types"));
        // The bounds themselves are fine.
        InstanceConfig edge = inst(6, {kSidA}, 1000000);
        edge.metrics.score = 10;
        edge.metrics.load_pct = 100;
        edge.metrics.compute_types = cats::wire::kComputeAll;
        CHECK(t.upsert_instance(10, edge) == 2);
    }
    SECTION("max_services") {
        REQUIRE(t.upsert_service(svc(40, "fourth", {inst(1, {kSidA})})) == 2);  // 4 of 4
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(50, "fifth", {inst(1, {kSidA})})); }),
                   Contains("service 50") && Contains("max_services"));
        CHECK_THAT(refused(t,
                           [&] {
                               auto all = three_services();
                               all.push_back(svc(40, "fourth", {inst(1, {kSidA})}));
                               all.push_back(svc(60, "fifth", {}));
                               t.replace_all(all);
                           }),
                   Contains("service 60") && Contains("max_services"));
        // Existing services can still change.
        CHECK(t.upsert_instance(40, inst(2, {kSidB})) == 3);
    }
    SECTION("max_instances") {
        REQUIRE(t.upsert_instance(10, inst(3, {kSidA})) == 2);  // 7 of 8
        REQUIRE(t.upsert_instance(20, inst(3, {kSidA})) == 3);  // 8 of 8
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, inst(9, {kSidA})); }),
                   Contains("service 10") && Contains("instance 9") && Contains("max_instances"));
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(40, "fourth", {inst(1, {kSidA})})); }),
                   Contains("service 40") && Contains("instance 1") && Contains("max_instances"));
        // Existing instances can still change.
        CHECK(t.upsert_instance(10, inst(3, {kSidB}, 7)) == 4);
    }

    // Whatever was refused, the next good update is the next version.
    const std::uint64_t v = t.current()->version;
    CHECK(t.upsert_instance(30, inst(1, {kSidD})) == v + 1);
    CHECK(t.current()->version == v + 1);
}

// Regression: counter slots used to be taken while a snapshot was built, so a
// refused update kept the slots it got through and later valid updates were
// refused with max_services / max_instances (fixed in 0346e60: slots are
// staged and kept only when the snapshot is published).
TEST_CASE("ServiceTable: a refused update does not use up counter slots", "[table]") {
    cats::test::ensure_eal();

    SECTION("instance slots") {
        TableEnv env(8, 3);
        ServiceTable& t = env.table;
        REQUIRE(t.replace_all({svc(10, "ten", {inst(1, {kSidA}), inst(2, {kSidB})})}) == 1);
        // Two more instances do not fit in 3 slots: refused.
        refused(t, [&] { t.upsert_service(svc(20, "twenty", {inst(1, {kSidA}), inst(2, {kSidB})})); });
        refused(t, [&] { t.upsert_service(svc(20, "twenty", {inst(1, {kSidA}), inst(2, {kSidB})})); });
        // One more does: 3 of 3, and it takes the next slot.
        CHECK(t.upsert_service(svc(20, "twenty", {inst(2, {kSidB})})) == 2);
        CHECK(t.current()->find(20)->instances[0].slot == 2);
        CHECK_THAT(refused(t, [&] { t.upsert_instance(10, inst(3, {kSidA})); }), Contains("max_instances"));
    }
    SECTION("service slots") {
        TableEnv env(2, 2);
        ServiceTable& t = env.table;
        REQUIRE(t.replace_all({svc(10, "ten", {inst(1, {kSidA})})}) == 1);
        // Service 20 would need 2 more instance slots: refused.
        refused(t, [&] { t.upsert_service(svc(20, "twenty", {inst(1, {kSidA}), inst(2, {kSidB})})); });
        // Service 30 is the second service of 2 and has no instances.
        CHECK(t.upsert_service(svc(30, "thirty", {})) == 2);
        CHECK(t.current()->find(30)->slot == 1);
        CHECK(t.current()->find(30)->instances.empty());
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(20, "twenty", {})); }), Contains("max_services"));
    }
    SECTION("replace_all") {
        TableEnv env(3, 3);
        ServiceTable& t = env.table;
        REQUIRE(t.replace_all({svc(10, "ten", {inst(1, {kSidA})})}) == 1);
        refused(t, [&] {
            t.replace_all({svc(10, "ten", {inst(1, {kSidA})}), svc(20, "a", {inst(1, {kSidA}), inst(2, {kSidA})}),
                           svc(30, "b", {inst(1, {kSidA})})});
        });
        CHECK(t.replace_all({svc(10, "ten", {inst(1, {kSidA})}), svc(30, "b", {inst(1, {kSidA}), inst(2, {kSidB})})}) ==
              2);
        CHECK(t.current()->find(30)->slot == 1);
    }
}

// Regression: counter slots were never given back, so a gateway whose
// instances come and go (new ids over time) refused every new instance once
// max_instances distinct ones had ever been seen, however few were left.
TEST_CASE("ServiceTable: a gone key's counter slot goes to a new one once all are taken, counters reset first",
          "[table]") {
    cats::test::ensure_eal();
    TableEnv env(2, 3);
    ServiceTable& t = env.table;
    // Each reset: the slots, and whether the published table used any.
    std::vector<std::pair<std::vector<std::uint32_t>, std::vector<std::uint32_t>>> resets;
    bool reset_slot_was_live = false;
    t.on_counter_reset([&](std::span<const std::uint32_t> svcs, std::span<const std::uint32_t> insts) {
        resets.push_back({{svcs.begin(), svcs.end()}, {insts.begin(), insts.end()}});
        for (const Service* sv : t.current()->services) {
            reset_slot_was_live |= std::find(svcs.begin(), svcs.end(), sv->slot) != svcs.end();
            for (const Instance& in : sv->instances)
                reset_slot_was_live |= std::find(insts.begin(), insts.end(), in.slot) != insts.end();
        }
    });
    auto slot_of = [&](std::uint32_t cs_id, std::uint32_t id) {
        for (const Instance& in : t.current()->find(cs_id)->instances)
            if (in.id == id)
                return in.slot;
        FAIL("no instance " << id);
        return 0u;
    };

    REQUIRE(t.replace_all({svc(10, "ten", {inst(1, {kSidA}), inst(2, {kSidB}), inst(3, {kSidA})})}) == 1);
    CHECK(slot_of(10, 2) == 1);
    // Three in the table, three slots: a fourth is refused.
    CHECK_THAT(refused(t, [&] { t.upsert_instance(10, inst(4, {kSidA})); }), Contains("max_instances"));

    // Instance 2 goes: its slot stays its own while nobody needs it.
    t.remove_instance(10, 2);
    t.upsert_instance(10, inst(2, {kSidB}));
    CHECK(slot_of(10, 2) == 1);
    CHECK(resets.empty());

    // Gone again, and now instance 4 needs a slot: it gets 2's, reset first.
    t.remove_instance(10, 2);
    t.upsert_instance(10, inst(4, {kSidA}));
    CHECK(slot_of(10, 4) == 1);
    REQUIRE(resets.size() == 1);
    CHECK(resets[0].first.empty());
    CHECK(resets[0].second == std::vector<std::uint32_t>{1});
    CHECK_FALSE(reset_slot_was_live);
    // 2 lost its slot: back, it needs a free one like any new instance.
    CHECK_THAT(refused(t, [&] { t.upsert_instance(10, inst(2, {kSidB})); }), Contains("max_instances"));

    // A slot comes free only once a snapshot without its key is published:
    // removing 3 and adding 5 in one version is refused, in two it is not.
    auto next = t.configs();
    std::erase_if(next[10].instances, [](const InstanceConfig& i) { return i.id == 3; });
    next[10].instances.push_back(inst(5, {kSidA}));
    const std::set<std::uint32_t> changed{10};
    CHECK_THAT(refused(t, [&] { t.commit(next, &changed); }), Contains("max_instances"));
    CHECK(resets.size() == 1);  // a refused update resets nothing
    t.remove_instance(10, 3);
    t.upsert_instance(10, inst(5, {kSidA}));
    CHECK(slot_of(10, 5) == 2);
    REQUIRE(resets.size() == 2);
    CHECK(resets[1].second == std::vector<std::uint32_t>{2});

    // Services the same way: 20 goes, 30 takes its slot.
    t.upsert_service(svc(20, "twenty", {}));
    const std::uint32_t slot20 = t.current()->find(20)->slot;
    CHECK_THAT(refused(t, [&] { t.upsert_service(svc(30, "thirty", {})); }), Contains("max_services"));
    t.remove_service(20);
    t.upsert_service(svc(30, "thirty", {}));
    CHECK(t.current()->find(30)->slot == slot20);
    REQUIRE(resets.size() == 3);
    CHECK(resets[2].first == std::vector<std::uint32_t>{slot20});
    CHECK(resets[2].second.empty());
    CHECK_FALSE(reset_slot_was_live);

    // Many comings and goings, never more than 3 instances at once: never
    // refused, slots always distinct and below the bound.
    for (std::uint32_t id = 100; id < 400; ++id) {
        t.remove_instance(10, t.current()->find(10)->instances.front().id);
        t.upsert_instance(10, inst(id, {kSidA}));
        std::set<std::uint32_t> seen;
        for (const Instance& in : t.current()->find(10)->instances) {
            CHECK(in.slot < 3);
            seen.insert(in.slot);
        }
        CHECK(seen.size() == t.current()->find(10)->instances.size());
    }
    CHECK_FALSE(reset_slot_was_live);
}

TEST_CASE("SlotPool: a refused build after a hand-on changes nothing; a key whose slot went is a new key", "[table]") {
    SlotPool<int> pool(3);
    std::set<std::uint32_t> live;  // slots of the "published snapshot"
    const auto is_live = [&](std::uint32_t s) { return live.contains(s); };
    std::vector<std::uint32_t> reset;
    pool.begin();
    for (int k : {1, 2, 3})
        CHECK(pool.stage(k, is_live) == std::optional<std::uint32_t>(static_cast<std::uint32_t>(k - 1)));
    pool.commit(reset);
    CHECK(reset.empty());
    // 2 and 3 are gone from the published snapshot; 1 is still in it.
    live = {0};

    // A build hands 2's or 3's slot to key 4, then wants one more than
    // there are: refused (the caller begins again). Nothing was kept.
    pool.begin();
    const auto s4 = pool.stage(4, is_live);
    REQUIRE(s4);
    CHECK((*s4 == 1 || *s4 == 2));
    REQUIRE(pool.stage(5, is_live));
    CHECK_FALSE(pool.stage(6, is_live));
    pool.begin();
    CHECK(pool.stage(2, is_live) == std::optional<std::uint32_t>(1u));  // 2 and 3 keep their slots
    CHECK(pool.stage(3, is_live) == std::optional<std::uint32_t>(2u));
    CHECK(pool.staged_resets() == 0);

    // In one build: 4 takes a gone key's slot, then that key comes back and
    // must not share it; it takes the other gone key's slot.
    pool.begin();
    const auto t4 = pool.stage(4, is_live);
    REQUIRE(t4);
    const int first_gone = *t4 == 1 ? 2 : 3;
    const auto back = pool.stage(first_gone, is_live);
    REQUIRE(back);
    CHECK(*back != *t4);
    CHECK(*back != 0u);
    CHECK_FALSE(pool.stage(7, is_live));  // 1, 4 and the returning key hold all three
    CHECK(pool.staged_resets() == 2);
    reset.reserve(pool.staged_resets());
    pool.commit(reset);
    CHECK(std::set<std::uint32_t>(reset.begin(), reset.end()) == std::set<std::uint32_t>{1, 2});
    // What was committed: 1, 4 and the returning key, on distinct slots.
    live = {0, *t4, *back};
    pool.begin();
    CHECK(pool.stage(1, is_live) == std::optional<std::uint32_t>(0u));
    CHECK(pool.stage(4, is_live) == t4);
    CHECK(pool.stage(first_gone, is_live) == back);
    CHECK_FALSE(pool.stage(8, is_live));
}

// Regression: validate_service() took any affinity_timeout_s > 0 while the
// config loader allows 1..86400, and build() computed s * 1000 in 32 bits, so
// 4294968 s was published as 704 ms (fixed in 0346e60).
TEST_CASE("ServiceTable: affinity timeouts are bounded like the config loader's", "[table]") {
    cats::test::ensure_eal();
    TableEnv env;
    ServiceTable& t = env.table;
    REQUIRE(t.replace_all(three_services()) == 1);
    for (std::uint32_t s : {86401u, 4294968u, 0xFFFFFFFFu}) {
        INFO("affinity_timeout_s " << s);
        CHECK_THAT(refused(t, [&] { t.upsert_service(svc(40, "long", {inst(1, {kSidA})}, s)); }),
                   Contains("service 40") && Contains("affinity_timeout_s"));
    }
    REQUIRE(t.upsert_service(svc(40, "long", {inst(1, {kSidA})}, 86400)) == 2);
    CHECK(t.current()->find(40)->affinity_timeout_ms == 86400u * 1000u);
    REQUIRE(t.upsert_service(svc(40, "short", {inst(1, {kSidA})}, 1)) == 3);
    CHECK(t.current()->find(40)->affinity_timeout_ms == 1000u);
}

TEST_CASE("ServiceTable: commit publishes a batch of edits as one version", "[table]") {
    cats::test::ensure_eal();
    TableEnv env(8, 16);
    ServiceTable& t = env.table;
    REQUIRE(t.replace_all(three_services()) == 1);
    const auto v1 = hold(*t.current());

    SECTION("only the changed services are rebuilt") {
        auto next = t.configs();
        next.at(10).instances.push_back(inst(3, {kSidD}));
        next.erase(30);
        next.emplace(40, svc(40, "forty", {inst(1, {kSidB})}));
        const std::set<std::uint32_t> changed{10, 30, 40};
        REQUIRE(t.commit(next, &changed) == 2);
        const Snapshot* s = t.current();
        CHECK(s->version == 2);
        CHECK(s->cs_ids == std::vector<std::uint32_t>{10, 20, 40});
        CHECK(s->find(20) == v1.at(20).get());
        CHECK(s->find(10) != v1.at(10).get());
        CHECK(instance_ids(*s->find(10)) == std::vector<std::uint32_t>{1, 2, 3});
        CHECK(s->find(30) == nullptr);
        REQUIRE(s->find(40) != nullptr);
        CHECK(s->find(40)->instances[0].port_id == 1);
        CHECK(describe(t.configs()) == describe(next));
        // Slots: kept for the old, new for the new.
        CHECK(s->find(10)->slot == v1.at(10)->slot);
        CHECK(s->find(10)->instances[0].slot == v1.at(10)->instances[0].slot);
        std::set<std::uint32_t> svc_slots;
        for (const Service* sv : s->services)
            svc_slots.insert(sv->slot);
        CHECK(svc_slots.size() == 3);
    }
    SECTION("no change set rebuilds everything") {
        REQUIRE(t.commit(t.configs(), nullptr) == 2);
        for (std::uint32_t cs : {10u, 20u, 30u})
            CHECK(t.current()->find(cs) != v1.at(cs).get());
    }
    SECTION("one bad changed service refuses the whole batch") {
        auto next = t.configs();
        next.at(10).instances.push_back(inst(3, {kSidD}));
        next.at(20).instances.push_back(inst(2, {}));  // no SIDs
        const std::set<std::uint32_t> changed{10, 20};
        CHECK_THAT(refused(t, [&] { t.commit(next, &changed); }), Contains("service 20") && Contains("instance 2"));
    }
    SECTION("a batch that runs out of slots uses none") {
        auto next = t.configs();  // 6 instances of 16
        for (std::uint32_t id = 10; id < 20; ++id)
            next.at(10).instances.push_back(inst(id, {kSidA}));  // 16 of 16
        next.emplace(50, svc(50, "fifty", {inst(1, {kSidA})}));  // 17: refused
        const std::set<std::uint32_t> changed{10, 50};
        CHECK_THAT(refused(t, [&] { t.commit(next, &changed); }), Contains("max_instances"));
        next.erase(50);
        CHECK(t.commit(next, &changed) == 2);
        CHECK(t.current()->find(10)->instances.size() == 12);
    }
}

// ---------------------------------------------------------------------------
// RCU: a worker reads while the management thread publishes
// ---------------------------------------------------------------------------

namespace {

constexpr std::uint32_t kRcuCsId = 7;
constexpr std::uint32_t kRcuStaticCsId = 99;
constexpr std::uint32_t kRcuUpdates = 1000;

// Generation g of the service the writer keeps replacing: g % 7 + 1
// instances, each stamped with g, alternating first SIDs.
ServiceConfig generation(std::uint32_t g) {
    std::vector<InstanceConfig> v;
    for (std::uint32_t i = 0; i < g % 7 + 1; ++i) {
        InstanceConfig ic = inst(i + 1, {(g + i) % 2 == 0 ? kSidA : kSidB});
        ic.metrics.latency_us = g;
        v.push_back(ic);
    }
    return svc(kRcuCsId, "gen", std::move(v), g % 5 + 1);
}

// Empty when the snapshot is one the writer published (generation
// version - 1 of service 7, service 99 untouched), else what is wrong.
std::string check_snapshot(const Snapshot& s, std::uint64_t last_version) {
    if (s.version < last_version)
        return "version went back from " + std::to_string(last_version) + " to " + std::to_string(s.version);
    if (s.cs_ids.size() != 2 || s.services.size() != 2 || s.owners.size() != 2)
        return "version " + std::to_string(s.version) + ": " + std::to_string(s.cs_ids.size()) + " services";
    const Service* st = s.find(kRcuStaticCsId);
    if (st == nullptr || st->cs_id != kRcuStaticCsId || st->instances.size() != 1 || st->name != "static")
        return "version " + std::to_string(s.version) + ": service 99 is wrong";
    const Service* sv = s.find(kRcuCsId);
    if (sv == nullptr || sv->cs_id != kRcuCsId || sv->name != "gen" || sv->instances.empty())
        return "version " + std::to_string(s.version) + ": service 7 is wrong";
    const std::uint32_t g = sv->instances[0].metrics.latency_us;
    if (g + 1 != s.version)
        return "version " + std::to_string(s.version) + " holds generation " + std::to_string(g);
    if (sv->instances.size() != g % 7 + 1 || sv->affinity_timeout_ms != (g % 5 + 1) * 1000)
        return "generation " + std::to_string(g) + ": " + std::to_string(sv->instances.size()) + " instances";
    for (std::uint32_t i = 0; i < sv->instances.size(); ++i) {
        const Instance& in = sv->instances[i];
        const Ipv6Addr& sid = (g + i) % 2 == 0 ? kSidA : kSidB;
        if (in.id != i + 1 || in.metrics.latency_us != g || !in.resolved || in.sids[0] != sid ||
            std::memcmp(in.encap.bytes.data() + 14 + 24, sid.data(), 16) != 0)
            return "generation " + std::to_string(g) + ": instance " + std::to_string(i + 1) + " is torn";
    }
    return {};
}

// EAL pins the main thread (-l 0) and std::thread inherits that pinning. Move
// the calling thread to the other CPUs, if there are any, so the writer's spin
// in rte_rcu_qsbr_synchronize() does not wait for a time slice of the reader.
void move_off_main_cpu() {
    cpu_set_t inherited;
    CPU_ZERO(&inherited);
    if (pthread_getaffinity_np(pthread_self(), sizeof inherited, &inherited) != 0)
        return;
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t others;
    CPU_ZERO(&others);
    for (long c = 0; c < n && c < CPU_SETSIZE; ++c)
        if (!CPU_ISSET(c, &inherited))
            CPU_SET(c, &others);
    if (CPU_COUNT(&others) != 0)
        (void)pthread_setaffinity_np(pthread_self(), sizeof others, &others);  // best effort
}

}  // namespace

TEST_CASE("ServiceTable: RCU readers always see a whole published snapshot", "[table]") {
    cats::test::ensure_eal();
    const std::size_t size = rte_rcu_qsbr_get_memsize(1);
    REQUIRE(size > 0);
    std::unique_ptr<rte_rcu_qsbr, void (*)(void*)> qsbr(
        static_cast<rte_rcu_qsbr*>(rte_zmalloc("ut_svc_qsbr", size, RTE_CACHE_LINE_SIZE)), rte_free);
    REQUIRE(qsbr != nullptr);
    REQUIRE(rte_rcu_qsbr_init(qsbr.get(), 1) == 0);
    rte_rcu_qsbr* q = qsbr.get();

    {
        TableEnv env(8, 64, q);
        ServiceTable& t = env.table;
        REQUIRE(t.replace_all({generation(0), svc(kRcuStaticCsId, "static", {inst(1, {kSidD})})}) == 1);
        const Service* static_svc = t.current()->find(kRcuStaticCsId);

        std::atomic<bool> online{false};
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> reads{0};
        std::atomic<std::uint64_t> bad{0};
        std::atomic<std::uint64_t> versions_seen{0};
        std::string first_error;  // written by the reader before it exits

        std::thread reader([&] {
            move_off_main_cpu();
            if (rte_rcu_qsbr_thread_register(q, 0) != 0) {
                first_error = "rte_rcu_qsbr_thread_register failed";
                bad.fetch_add(1);
                online.store(true, std::memory_order_release);
                return;
            }
            rte_rcu_qsbr_thread_online(q, 0);
            online.store(true, std::memory_order_release);
            std::uint64_t last_version = 0;
            std::uint64_t seen = 0;
            while (!stop.load(std::memory_order_acquire)) {
                // One load per "burst", as the workers do.
                const Snapshot* s = t.current();
                std::string err = check_snapshot(*s, last_version);
                if (!err.empty() && bad.fetch_add(1) == 0)
                    first_error = std::move(err);
                if (s->version != last_version)
                    ++seen;
                last_version = s->version;
                rte_rcu_qsbr_quiescent(q, 0);
                reads.fetch_add(1, std::memory_order_relaxed);
            }
            rte_rcu_qsbr_thread_offline(q, 0);
            rte_rcu_qsbr_thread_unregister(q, 0);
            versions_seen.store(seen);
        });

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!online.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        const bool came_online = online.load(std::memory_order_acquire);

        std::uint64_t wrong_versions = 0;
        for (std::uint32_t g = 1; g <= kRcuUpdates && came_online; ++g)
            if (t.upsert_service(generation(g)) != g + 1)
                ++wrong_versions;

        stop.store(true, std::memory_order_release);
        reader.join();

        INFO("first inconsistency: " << first_error);
        REQUIRE(came_online);
        CHECK(bad.load() == 0);
        CHECK(wrong_versions == 0);
        // Each publish waited for the reader to pass a quiescent state.
        CHECK(reads.load() >= kRcuUpdates);
        CHECK(versions_seen.load() >= 2);
        CHECK(t.current()->version == kRcuUpdates + 1);
        // The untouched service was shared by every version.
        CHECK(t.current()->find(kRcuStaticCsId) == static_svc);

        // With the reader offline and unregistered, publishing no longer waits.
        CHECK(t.upsert_service(generation(kRcuUpdates + 1)) == kRcuUpdates + 2);
        CHECK(check_snapshot(*t.current(), 0).empty());
    }
}
