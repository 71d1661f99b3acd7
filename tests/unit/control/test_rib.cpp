// SPDX-License-Identifier: BSD-3-Clause
// control/rib: resolution, aging, churn control. Times are made up: the RIB
// never reads a clock.
#include "rib.hpp"

#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace cats;
using namespace cats::control;
using namespace cats::control::test;

namespace {

PolicyConfig policy(std::uint32_t pct = 5, std::uint32_t rate = 2) {
    PolicyConfig p;
    p.metric_threshold_pct = pct;
    p.max_pushes_per_s = rate;
    return p;
}

advert::Metrics lat(std::uint32_t us) {
    advert::Metrics m;
    m.latency_us = us;
    return m;
}

// The one UpsertInstance in `ops`, for checks on what was pushed.
const mgmt::InstanceRec& only_upsert(const std::vector<mgmt::Op>& ops) {
    REQUIRE(ops.size() == 1);
    REQUIRE(ops[0].type == mgmt::OpType::UpsertInstance);
    return ops[0].instance;
}

std::uint64_t rejected(const Rib& rib, RecordError e) {
    return rib.counters().rejected[static_cast<std::size_t>(e)];
}

StaticService static_service(std::uint32_t cs_id, std::string name, std::vector<std::uint32_t> ids) {
    StaticService s;
    s.cs_id = cs_id;
    s.name = std::move(name);
    s.affinity_timeout_s = 60;
    for (const std::uint32_t id : ids) {
        mgmt::InstanceRec r;
        r.id = id;
        r.sids = {sid("2001:db8:ff::" + std::to_string(id))};
        r.metrics.latency_us = 100 * id;
        s.instances.push_back(r);
    }
    return s;
}

}  // namespace

TEST_CASE("rib: an advert creates its service and instances", "[rib]") {
    Rib rib(policy());
    advert::Metrics m;
    m.load_pct = 20;
    m.l2_score = 7;
    m.free_capacity = 50;
    const auto res = rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1", "2001:db8:a1::2"}, m),
                                                 record(100, 2)}),
                                30s, t0());
    CHECK(res.accepted == 2);
    CHECK(res.rejected == 0);
    REQUIRE(res.ops.size() == 2);
    // The service is new: it goes out with its first instance inside.
    CHECK(res.ops[0].type == mgmt::OpType::UpsertService);
    CHECK(res.ops[0].service.cs_id == 100);
    CHECK(res.ops[0].service.name == "cs-100");
    CHECK(res.ops[0].service.affinity_timeout_s == 30);
    REQUIRE(res.ops[0].service.instances.size() == 1);
    const mgmt::InstanceRec& i1 = res.ops[0].service.instances[0];
    CHECK(i1.id == 1);
    CHECK(i1.sids == std::vector<Sid>{sid("2001:db8:a1::1"), sid("2001:db8:a1::2")});
    CHECK(i1.metrics.load_pct == 20);
    CHECK(i1.metrics.score == 7);
    CHECK(i1.metrics.free_capacity == 50);
    CHECK(res.ops[1].type == mgmt::OpType::UpsertInstance);
    CHECK(res.ops[1].service.cs_id == 100);
    CHECK(res.ops[1].instance.id == 2);
    CHECK(rib.service_count() == 1);
    CHECK(rib.instance_count() == 2);

    const auto j = rib.to_json(t0() + 10s);
    const auto& inst = j["services"][0]["instances"][0];
    CHECK(inst["origin"] == "advert");
    CHECK(inst["node_id"] == 7);
    CHECK(inst["expires_in_ms"] == 20000);
    CHECK(j["services"][0]["origin"] == "dynamic");
}

TEST_CASE("rib: advertised metrics map to the dataplane's", "[rib]") {
    advert::Metrics a;
    const mgmt::Metrics d = to_dataplane_metrics(a);
    CHECK(d == mgmt::Metrics{});  // nothing advertised: the dataplane's defaults
    CHECK(d.score == 10);
    CHECK(d.latency_us == 0);

    a.latency_us = 300;
    a.queue_delay_us = 200;
    a.l2_score = 4;
    a.load_pct = 90;
    a.free_capacity = 0;
    a.bandwidth_kbps = 1000;
    a.compute_types = 2;
    a.weight = 5000000;
    const mgmt::Metrics e = to_dataplane_metrics(a);
    CHECK(e.latency_us == 500);  // network + queueing
    CHECK(e.score == 4);
    CHECK(e.load_pct == 90);
    CHECK(e.free_capacity == 0);
    CHECK(e.bandwidth_kbps == 1000);
    CHECK(e.compute_types == 2);
    CHECK(e.weight == kMaxWeight);  // capped at what the dataplane accepts

    advert::Metrics q;
    q.queue_delay_us = 7;
    CHECK(to_dataplane_metrics(q).latency_us == 7);
    q.latency_us = UINT32_MAX;
    CHECK(to_dataplane_metrics(q).latency_us == UINT32_MAX);  // saturates
}

TEST_CASE("rib: an instance is withdrawn exactly when its lifetime ends", "[rib]") {
    Rib rib(policy());
    rib.ingest(advertise(7, 1, {record(100, 1), record(100, 2)}, 10), 10s, t0());
    CHECK(rib.next_deadline() == t0() + 10s);
    CHECK(rib.expire(t0() + 10s - 1ns).empty());
    CHECK(rib.instance_count() == 2);
    const auto ops = rib.expire(t0() + 10s);
    // Both gone; the service, created for them, goes with the last one.
    REQUIRE(ops.size() == 2);
    CHECK(ops[0].type == mgmt::OpType::RemoveInstance);
    CHECK(ops[0].instance.id == 1);
    CHECK(ops[1].type == mgmt::OpType::RemoveService);
    CHECK(ops[1].service.cs_id == 100);
    CHECK(rib.instance_count() == 0);
    CHECK(rib.service_count() == 0);
    CHECK(rib.counters().expired == 2);
    CHECK(rib.next_deadline() == std::nullopt);
}

TEST_CASE("rib: a refresh extends the lifetime", "[rib]") {
    Rib rib(policy());
    rib.ingest(advertise(7, 1, {record(100, 1)}, 10), 10s, t0());
    const auto res = rib.ingest(advertise(7, 2, {record(100, 1)}, 10), 10s, t0() + 5s);
    CHECK(res.ops.empty());  // nothing changed: nothing to push
    CHECK(rib.next_deadline() == t0() + 15s);
    CHECK(rib.expire(t0() + 10s).empty());
    CHECK(rib.expire(t0() + 15s).size() == 1);
    CHECK(rib.instance_count() == 0);
}

TEST_CASE("rib: a withdrawal removes only what its node advertised", "[rib]") {
    Rib rib(policy());
    rib.ingest(advertise(7, 1, {record(100, 1), record(100, 2)}), 30s, t0());
    rib.ingest(advertise(8, 1, {record(100, 3)}), 30s, t0());

    auto res = rib.ingest(withdraw(7, 2, {{100, 1}}), 0s, t0() + 1s);
    CHECK(res.accepted == 1);
    REQUIRE(res.ops.size() == 1);
    CHECK(res.ops[0].type == mgmt::OpType::RemoveInstance);
    CHECK(res.ops[0].service.cs_id == 100);
    CHECK(res.ops[0].instance.id == 1);
    CHECK(rib.counters().withdrawn == 1);

    // Node 7 cannot withdraw node 8's instance, nor one that does not exist.
    res = rib.ingest(withdraw(7, 3, {{100, 3}, {100, 99}, {555, 1}}), 0s, t0() + 2s);
    CHECK(res.accepted == 0);
    CHECK(res.rejected == 3);
    CHECK(res.ops.empty());
    CHECK(rejected(rib, RecordError::NotOwner) == 1);
    CHECK(rejected(rib, RecordError::UnknownInstance) == 2);
    CHECK(res.first_error.find("record 0 (cs 100 instance 3): not_owner") == 0);

    rib.ingest(withdraw(7, 4, {{100, 2}}), 0s, t0() + 3s);
    res = rib.ingest(withdraw(8, 2, {{100, 3}}), 0s, t0() + 3s);
    REQUIRE(res.ops.size() == 1);
    CHECK(res.ops[0].type == mgmt::OpType::RemoveService);
    CHECK(rib.service_count() == 0);
    CHECK(rib.next_deadline() == std::nullopt);  // nothing left to age
}

TEST_CASE("rib: changes below the threshold are not pushed, larger ones are", "[rib][churn]") {
    Rib rib(policy(5, 0));  // no rate limit here: only the threshold
    rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1"}, lat(1000))}), 30s, t0());

    // 4 % of 1000: not pushed.
    auto res = rib.ingest(advertise(7, 2, {record(100, 1, {"2001:db8:a1::1"}, lat(1040))}), 30s, t0() + 1s);
    CHECK(res.ops.empty());
    CHECK(rib.counters().suppressed == 1);
    CHECK(rib.to_json(t0())["services"][0]["instances"][0]["push_state"] == "below_threshold");
    // Compared with what the dataplane has (1000), not with the last
    // advert: a slow drift adds up and goes out.
    res = rib.ingest(advertise(7, 3, {record(100, 1, {"2001:db8:a1::1"}, lat(1049))}), 30s, t0() + 2s);
    CHECK(res.ops.empty());
    res = rib.ingest(advertise(7, 4, {record(100, 1, {"2001:db8:a1::1"}, lat(1050))}), 30s, t0() + 3s);
    CHECK(only_upsert(res.ops).metrics.latency_us == 1050);
    CHECK(rib.to_json(t0())["services"][0]["instances"][0]["push_state"] == "in_sync");
    // Downwards too: 5 % of 1050 is 52.5.
    res = rib.ingest(advertise(7, 5, {record(100, 1, {"2001:db8:a1::1"}, lat(998))}), 30s, t0() + 4s);
    CHECK(res.ops.empty());
    res = rib.ingest(advertise(7, 6, {record(100, 1, {"2001:db8:a1::1"}, lat(997))}), 30s, t0() + 5s);
    CHECK(only_upsert(res.ops).metrics.latency_us == 997);

    // Small values: the threshold is at least 1, so any change counts.
    advert::Metrics s;
    s.latency_us = 997;
    s.l2_score = 9;
    res = rib.ingest(advertise(7, 7, {record(100, 1, {"2001:db8:a1::1"}, s)}), 30s, t0() + 6s);
    CHECK(only_upsert(res.ops).metrics.score == 9);
}

TEST_CASE("rib: threshold arithmetic", "[rib][churn]") {
    mgmt::Metrics a;
    a.latency_us = 1000;
    mgmt::Metrics b = a;
    b.latency_us = 1049;
    CHECK_FALSE(significant_change(a, b, 5));
    b.latency_us = 1050;
    CHECK(significant_change(a, b, 5));
    CHECK(significant_change(a, b, 0));  // 0 %: every change
    CHECK_FALSE(significant_change(a, a, 0));
    b = a;
    b.load_pct = 1;  // from 0: 1 >= max(0, 1)
    CHECK(significant_change(a, b, 5));
    b = a;
    b.bandwidth_kbps = UINT32_MAX - 1000;  // from "no limit": tiny relative change
    CHECK_FALSE(significant_change(a, b, 5));
    b.bandwidth_kbps = 1000000;
    CHECK(significant_change(a, b, 5));
    b = a;
    b.latency_us = 1999;
    CHECK_FALSE(significant_change(a, b, 100));
    b.latency_us = 2000;  // exactly the threshold counts
    CHECK(significant_change(a, b, 100));
}

TEST_CASE("rib: pushes per instance are dampened, the latest value follows", "[rib][churn]") {
    Rib rib(policy(0, 2));  // every change counts; at most 2 per second
    rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1"}, lat(100)), record(100, 2)}), 30s, t0());

    // Too soon after the push that created it: held.
    auto res = rib.ingest(advertise(7, 2, {record(100, 1, {"2001:db8:a1::1"}, lat(200))}), 30s, t0() + 100ms);
    CHECK(res.ops.empty());
    CHECK(rib.counters().dampened == 1);
    CHECK(rib.next_deadline() == t0() + 500ms);
    CHECK(rib.to_json(t0())["services"][0]["instances"][0]["push_state"] == "dampened");
    res = rib.ingest(advertise(7, 3, {record(100, 1, {"2001:db8:a1::1"}, lat(300))}), 30s, t0() + 200ms);
    CHECK(res.ops.empty());
    CHECK(rib.next_deadline() == t0() + 500ms);  // still the first due time

    // Another instance is not held back by this one.
    res = rib.ingest(advertise(7, 4, {record(100, 2, {"2001:db8:a1::1"}, lat(5))}), 30s, t0() + 600ms);
    CHECK(only_upsert(res.ops).id == 2);

    CHECK(rib.flush(t0() + 499ms).empty());
    const auto ops = rib.flush(t0() + 500ms);
    CHECK(only_upsert(ops).metrics.latency_us == 300);  // the latest, not the first held
    CHECK(rib.counters().flushed == 1);
    CHECK(rib.flush(t0() + 2s).empty());

    // A held change that goes back to what the dataplane has is dropped.
    res = rib.ingest(advertise(7, 5, {record(100, 1, {"2001:db8:a1::1"}, lat(400))}), 30s, t0() + 700ms);
    CHECK(res.ops.empty());
    res = rib.ingest(advertise(7, 6, {record(100, 1, {"2001:db8:a1::1"}, lat(300))}), 30s, t0() + 800ms);
    CHECK(res.ops.empty());
    CHECK(rib.flush(t0() + 5s).empty());
}

TEST_CASE("rib: a storm of changes is pushed at the configured rate", "[rib][churn]") {
    Rib rib(policy(0, 2));
    rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1"}, lat(1))}), 30s, t0());
    std::vector<Time> pushes;
    std::uint32_t last_value = 1;
    for (int step = 1; step <= 300; ++step) {  // a change every 10 ms for 3 s
        const Time now = t0() + step * 10ms;
        last_value = 1000 + static_cast<std::uint32_t>(step) * 100;
        auto ops = rib.flush(now);
        auto res = rib.ingest(advertise(7, 1 + static_cast<std::uint64_t>(step),
                                        {record(100, 1, {"2001:db8:a1::1"}, lat(last_value))}),
                              30s, now);
        ops.insert(ops.end(), res.ops.begin(), res.ops.end());
        for (std::size_t i = 0; i < ops.size(); ++i)
            pushes.push_back(now);
    }
    // At most 2 per second over 3 s (the creation push at t0 counts in the
    // first second).
    CHECK(pushes.size() <= 6);
    CHECK(pushes.size() >= 5);
    for (std::size_t i = 1; i < pushes.size(); ++i)
        CHECK(pushes[i] - pushes[i - 1] >= 500ms);
    // The last value is not lost: it goes out when the rate allows.
    const auto ops = rib.flush(t0() + 10s);
    CHECK(only_upsert(ops).metrics.latency_us == last_value);
}

TEST_CASE("rib: eligibility and SID changes bypass churn control", "[rib][churn]") {
    Rib rib(policy(50, 1));  // a high threshold and one push per second
    advert::Metrics base;
    base.load_pct = 50;
    base.free_capacity = 10;
    base.compute_types = 1;
    base.weight = 100;
    base.latency_us = 1000;
    rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1"}, base)}), 30s, t0());
    std::uint64_t seq = 2;
    Time now = t0();
    const auto send = [&](advert::Metrics m, std::initializer_list<const char*> sids = {"2001:db8:a1::1"}) {
        now += 10ms;  // always within the dampening interval of the last push
        return rib.ingest(advertise(7, seq++, {record(100, 1, sids, m)}), 30s, now).ops;
    };

    // A small change: held by the threshold.
    advert::Metrics m = base;
    m.latency_us = 1100;
    CHECK(send(m).empty());
    // Load crosses 100: at once, and it carries the held latency too.
    m.load_pct = 100;
    CHECK(only_upsert(send(m)).metrics.latency_us == 1100);
    m.load_pct = 60;  // and back
    CHECK(only_upsert(send(m)).metrics.load_pct == 60);
    m.free_capacity = 0;
    CHECK(only_upsert(send(m)).metrics.free_capacity == 0);
    m.free_capacity = 1;
    CHECK(only_upsert(send(m)).metrics.free_capacity == 1);
    m.compute_types = 3;
    CHECK(only_upsert(send(m)).metrics.compute_types == 3);
    m.weight = 0;
    CHECK(only_upsert(send(m)).metrics.weight == 0);
    m.weight = 100;
    CHECK(only_upsert(send(m)).metrics.weight == 100);
    CHECK(only_upsert(send(m, {"2001:db8:a1::9"})).sids == std::vector<Sid>{sid("2001:db8:a1::9")});
    // A large but ordinary change right after: dampened.
    m.latency_us = 5000;
    CHECK(send(m, {"2001:db8:a1::9"}).empty());
    CHECK(rib.counters().pushes_immediate == 1 + 8);  // creation + 8 above
    // Disappearing is immediate too.
    const auto w = rib.ingest(withdraw(7, seq++, {{100, 1}}), 0s, now + 1ms).ops;
    REQUIRE(w.size() == 1);
    CHECK(w[0].type == mgmt::OpType::RemoveService);
    CHECK(rib.next_deadline() == std::nullopt);  // the held change went with it
}

TEST_CASE("rib: static and advertised instances share a service", "[rib]") {
    Rib rib(policy());
    rib.load_static({static_service(100, "video", {1})});
    CHECK(rib.service_count() == 1);
    CHECK(rib.instance_count() == 1);
    rib.snapshot();

    auto res = rib.ingest(advertise(7, 1, {record(100, 2), record(100, 1)}), 30s, t0());
    CHECK(res.accepted == 1);
    CHECK(res.rejected == 1);  // instance 1 is the config's
    CHECK(rejected(rib, RecordError::Conflict) == 1);
    CHECK(res.first_error == "record 1 (cs 100 instance 1): conflict: already a static instance");
    REQUIRE(res.ops.size() == 1);
    CHECK(res.ops[0].type == mgmt::OpType::UpsertInstance);  // the service exists
    CHECK(res.ops[0].service.cs_id == 100);

    // Another node cannot take instance 2 either.
    res = rib.ingest(advertise(8, 1, {record(100, 2)}), 30s, t0());
    CHECK(res.rejected == 1);
    CHECK(res.first_error.find("advertised by node 7") != std::string::npos);

    const auto j = rib.to_json(t0());
    CHECK(j["services"][0]["name"] == "video");
    CHECK(j["services"][0]["affinity_timeout_s"] == 60);
    CHECK(j["services"][0]["origin"] == "static");
    CHECK(j["services"][0]["instances"].size() == 2);

    // Expiry takes the advertised one; the configured service stays.
    const auto ops = rib.expire(t0() + 30s);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].type == mgmt::OpType::RemoveInstance);
    CHECK(rib.service_count() == 1);
    CHECK(rib.instance_count() == 1);
}

TEST_CASE("rib: the snapshot is the resolved table", "[rib]") {
    Rib rib(policy(5, 2));
    rib.load_static({static_service(100, "video", {1, 2}), static_service(50, "empty", {})});
    advert::Metrics m;
    m.latency_us = 1000;
    rib.ingest(advertise(7, 1, {record(100, 3, {"2001:db8:a1::3"}, m), record(300, 1)}), 30s, t0());
    ctl::InstanceArgs a;
    a.cs_id = 400;
    a.id = 1;
    a.sids = {sid("2001:db8:c::1")};
    a.name = "from-cli";
    a.metrics.weight = 7;
    std::vector<mgmt::Op> ops;
    REQUIRE(rib.cli_add(a, t0(), ops).empty());
    // A change held by dampening: the snapshot carries the latest value.
    m.latency_us = 2000;
    rib.ingest(advertise(7, 2, {record(100, 3, {"2001:db8:a1::3"}, m), record(300, 1)}), 30s, t0() + 1ms);
    CHECK(rib.next_deadline() == t0() + 500ms);

    const mgmt::Batch b = rib.snapshot();
    CHECK(b.replace_all);
    REQUIRE(b.ops.size() == 4);
    for (const mgmt::Op& op : b.ops)
        CHECK(op.type == mgmt::OpType::UpsertService);
    // In CS-ID order, instances in id order.
    CHECK(b.ops[0].service.cs_id == 50);
    CHECK(b.ops[0].service.name == "empty");
    CHECK(b.ops[0].service.instances.empty());
    const mgmt::ServiceRec& video = b.ops[1].service;
    CHECK(video.cs_id == 100);
    CHECK(video.name == "video");
    CHECK(video.affinity_timeout_s == 60);
    REQUIRE(video.instances.size() == 3);
    CHECK(video.instances[0] == static_service(100, "video", {1}).instances[0]);
    CHECK(video.instances[1] == static_service(100, "video", {2}).instances[0]);
    CHECK(video.instances[2].id == 3);
    CHECK(video.instances[2].metrics.latency_us == 2000);
    CHECK(b.ops[2].service.cs_id == 300);
    CHECK(b.ops[2].service.name == "cs-300");
    CHECK(b.ops[3].service.cs_id == 400);
    CHECK(b.ops[3].service.name == "from-cli");
    REQUIRE(b.ops[3].service.instances.size() == 1);
    CHECK(b.ops[3].service.instances[0].metrics.weight == 7);
    // The held change is in the snapshot: nothing left to flush.
    CHECK(rib.next_deadline() == t0() + 1ms + 30s);  // only the lifetimes
    CHECK(rib.flush(t0() + 1s).empty());
    // The batch survives the wire.
    std::vector<std::uint8_t> bytes;
    mgmt::encode_batch(b, bytes);
    mgmt::Batch back;
    CHECK(mgmt::decode_batch(bytes, back).empty());
    CHECK(back == b);
}

TEST_CASE("rib: before the first snapshot, static changes wait for it", "[rib]") {
    Rib rib(policy());
    rib.load_static({static_service(100, "video", {1})});
    CHECK(rib.to_json(t0())["services"][0]["instances"][0]["push_state"] == "not_pushed");
    ctl::InstanceArgs a;
    a.cs_id = 100;
    a.id = 1;
    a.metrics.load_pct = 40;
    std::vector<mgmt::Op> ops;
    REQUIRE(rib.cli_set(a, t0(), ops).empty());
    CHECK(ops.empty());
    const mgmt::Batch b = rib.snapshot();
    CHECK(b.ops[0].service.instances[0].metrics.load_pct == 40);
}

TEST_CASE("rib: operator commands", "[rib][cli]") {
    Rib rib(policy(50, 1));
    rib.load_static({static_service(100, "video", {1})});
    rib.snapshot();
    rib.ingest(advertise(7, 1, {record(100, 5)}), 30s, t0());
    std::vector<mgmt::Op> ops;

    ctl::InstanceArgs a;
    a.cs_id = 200;
    a.id = 1;
    a.sids = {sid("2001:db8:c::1")};
    a.metrics.score = 3;
    REQUIRE(rib.cli_add(a, t0(), ops).empty());
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].type == mgmt::OpType::UpsertService);
    CHECK(ops[0].service.name == "cs-200");
    CHECK(ops[0].service.instances[0].metrics.score == 3);
    CHECK(ops[0].service.instances[0].metrics.load_pct == 0);  // defaults for the rest

    ops.clear();
    CHECK(rib.cli_add(a, t0(), ops) == "cs 200 instance 1 exists (a cli instance); use instance set to change it");
    a.cs_id = 100;
    a.id = 5;
    CHECK(rib.cli_add(a, t0(), ops).find("advertised by node 7") != std::string::npos);
    CHECK(ops.empty());

    // set: never thresholded, never dampened (operator intent).
    ctl::InstanceArgs s;
    s.cs_id = 200;
    s.id = 1;
    s.metrics.latency_us = 1;
    REQUIRE(rib.cli_set(s, t0() + 1ms, ops).empty());
    CHECK(only_upsert(ops).metrics.latency_us == 1);
    CHECK(only_upsert(ops).metrics.score == 3);  // what was not given stays
    ops.clear();
    s.metrics.latency_us = 2;
    REQUIRE(rib.cli_set(s, t0() + 2ms, ops).empty());
    CHECK(only_upsert(ops).metrics.latency_us == 2);
    ops.clear();
    s.sids = {sid("2001:db8:c::2")};
    REQUIRE(rib.cli_set(s, t0() + 3ms, ops).empty());
    CHECK(only_upsert(ops).sids == std::vector<Sid>{sid("2001:db8:c::2")});
    ops.clear();

    s.cs_id = 100;
    s.id = 5;
    CHECK(rib.cli_set(s, t0(), ops).find("its SIDs and metrics come from its adverts") != std::string::npos);
    s.id = 77;
    CHECK(rib.cli_set(s, t0(), ops) == "cs 100 instance 77 does not exist");
    s.id = 1;  // static: may be changed (until restart)
    REQUIRE(rib.cli_set(s, t0(), ops).empty());
    CHECK(ops.size() == 1);
    ops.clear();

    CHECK(rib.cli_del(100, 5, t0(), ops).find("advertised by node 7") != std::string::npos);
    CHECK(rib.cli_del(100, 77, t0(), ops) == "cs 100 instance 77 does not exist");
    REQUIRE(rib.cli_del(100, 1, t0(), ops).empty());  // static: removed until restart
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].type == mgmt::OpType::RemoveInstance);
    ops.clear();
    REQUIRE(rib.cli_del(200, 1, t0(), ops).empty());
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].type == mgmt::OpType::RemoveService);  // created for it, gone with it
    CHECK(rib.service_count() == 1);
}

TEST_CASE("rib: limits", "[rib]") {
    PolicyConfig p = policy();
    p.max_services = 2;
    p.max_instances = 3;
    Rib rib(p);
    auto res = rib.ingest(advertise(7, 1, {record(1, 1), record(2, 1), record(3, 1), record(2, 2), record(2, 3)}), 30s,
                          t0());
    CHECK(res.accepted == 3);
    CHECK(rejected(rib, RecordError::TooManyServices) == 1);
    CHECK(rejected(rib, RecordError::TooManyInstances) == 1);
    CHECK(rib.service_count() == 2);
    CHECK(rib.instance_count() == 3);
    // A refused record does not touch what exists: a refresh still works.
    res = rib.ingest(advertise(7, 2, {record(1, 1)}), 30s, t0() + 1s);
    CHECK(res.accepted == 1);

    PolicyConfig big = policy();
    Rib full(big);
    std::vector<advert::Record> recs;
    for (std::uint32_t i = 0; i < kMaxInstancesPerService + 1; ++i)
        recs.push_back(record(9, i));
    res = full.ingest(advertise(7, 1, recs), 30s, t0());
    CHECK(res.accepted == kMaxInstancesPerService);
    CHECK(rejected(full, RecordError::ServiceFull) == 1);

    // Bad records, refused one by one.
    advert::Record none = record(9, 5000, {});
    auto m = advertise(7, 2, {none});
    res = full.ingest(m, 30s, t0());
    CHECK(rejected(full, RecordError::BadRecord) == 1);
    res = full.ingest(advertise(7, 3, {record(9, 6000)}), 0s, t0());
    CHECK(rejected(full, RecordError::BadRecord) == 2);
}

TEST_CASE("rib: a node's scope and quotas", "[rib][scope]") {
    Rib rib(policy());
    PeerScope scope;
    scope.cs_ids = {{100, 100}, {200, 299}};
    scope.instance_ids = {{1, 9}};
    scope.max_instances = 3;
    scope.max_services = 2;
    // Outside the CS-IDs or the instance ids: refused before anything else,
    // even what the table has room for.
    auto res = rib.ingest(advertise(7, 1, {record(500, 1), record(100, 10), record(150, 1)}), 30s, t0(), scope);
    CHECK(res.accepted == 0);
    CHECK(res.rejected_by[static_cast<std::size_t>(RecordError::OutOfScope)] == 3);
    CHECK(res.first_error == "record 0 (cs 500 instance 1): out_of_scope: node 7 may not advertise cs 500 "
                             "(peers[].cs_ids)");
    CHECK(rib.instance_count() == 0);
    // Within it: up to max_instances, in up to max_services services.
    res = rib.ingest(advertise(7, 2, {record(100, 1), record(250, 1), record(299, 2), record(200, 1)}), 30s, t0(),
                     scope);
    CHECK(res.accepted == 2);  // (100,1) (250,1); (299,2) is a third service; (200,1) one too
    CHECK(res.rejected_by[static_cast<std::size_t>(RecordError::NodeQuota)] == 2);
    CHECK(rib.node_services(7) == 2);
    res = rib.ingest(advertise(7, 3, {record(100, 2), record(100, 3)}), 30s, t0(), scope);
    CHECK(res.accepted == 1);  // the third instance; the fourth is over max_instances
    CHECK(res.first_error.find("node_quota: node 7 holds 3 instances (peers[].max_instances)") != std::string::npos);
    CHECK(rib.node_instances(7) == 3);
    // A refresh of what the node holds is not a new instance.
    res = rib.ingest(advertise(7, 4, {record(100, 1), record(100, 2), record(250, 1)}), 30s, t0() + 1s, scope);
    CHECK(res.accepted == 3);
    // Another node is not charged for node 7's use.
    res = rib.ingest(advertise(8, 1, {record(100, 5)}), 30s, t0(), scope);
    CHECK(res.accepted == 1);
    CHECK(rib.node_instances(8) == 1);
    // A withdrawal or an expiry gives the room back.
    res = rib.ingest(withdraw(7, 5, {{250, 1}}), 0s, t0() + 2s, scope);
    CHECK(res.accepted == 1);
    CHECK(rib.node_instances(7) == 2);
    CHECK(rib.node_services(7) == 1);
    res = rib.ingest(advertise(7, 6, {record(299, 9)}), 30s, t0() + 2s, scope);
    CHECK(res.accepted == 1);
    rib.expire(t0() + 1h);
    CHECK(rib.node_instances(7) == 0);
    CHECK(rib.node_services(7) == 0);
    CHECK(rib.node_instances(8) == 0);
    CHECK(rejected(rib, RecordError::OutOfScope) == 3);
    CHECK(rejected(rib, RecordError::NodeQuota) == 3);
}

TEST_CASE("rib: service list pages hold whole services, up to the limit", "[rib][ctl]") {
    Rib rib(policy());
    rib.load_static({static_service(10, "a", {1, 2, 3}), static_service(20, "b", {1, 2}),
                     static_service(30, "c", {1, 2, 3, 4, 5}), static_service(40, "d", {})});
    ctl::ServiceListArgs page;
    page.limit = 5;
    nlohmann::json j = rib.to_json(t0(), page);
    // 3 + 2 fit; the next service would pass 5.
    REQUIRE(j["services"].size() == 2);
    CHECK(j["services"][1]["cs_id"] == 20);
    CHECK(j["next"] == 20);
    CHECK(j["total_services"] == 4);
    CHECK(j["total_instances"] == 10);
    page.after = 20;
    page.limit = 2;
    j = rib.to_json(t0(), page);
    // A service bigger than the page comes alone.
    REQUIRE(j["services"].size() == 1);
    CHECK(j["services"][0]["cs_id"] == 30);
    CHECK(j["next"] == 30);
    page.after = 30;
    j = rib.to_json(t0(), page);
    REQUIRE(j["services"].size() == 1);
    CHECK(j["services"][0]["cs_id"] == 40);
    CHECK(j["next"].is_null());
    // Without arguments, the whole table.
    CHECK(rib.to_json(t0())["services"].size() == 4);
}

TEST_CASE("rib: drain is an operator override that advertisements do not undo (issue 21, item 11)", "[rib][cli]") {
    Rib rib(policy(5, 0));
    advert::Metrics m = lat(1000);
    m.weight = 300;
    rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1"}, m)}), 30s, t0());
    std::vector<mgmt::Op> ops;
    REQUIRE(rib.cli_drain(100, 1, true, t0(), ops) == "");
    CHECK(only_upsert(ops).metrics.weight == 0);  // pushed at once, weight 0: no new flows
    CHECK(only_upsert(ops).metrics.latency_us == 1000);
    auto inst = [&] { return rib.to_json(t0())["services"][0]["instances"][0]; };
    CHECK(inst()["drained"] == true);
    CHECK(inst()["metrics"]["weight"] == 300);  // its own, shown as it is
    CHECK(inst()["push_state"] == "in_sync");
    // Drained again: nothing to push.
    ops.clear();
    CHECK(rib.cli_drain(100, 1, true, t0(), ops) == "");
    CHECK(ops.empty());

    // The node's refreshes move its metrics, not its weight.
    m.latency_us = 2000;
    m.weight = 500;
    auto res = rib.ingest(advertise(7, 2, {record(100, 1, {"2001:db8:a1::1"}, m)}), 30s, t0() + 1s);
    CHECK(only_upsert(res.ops).metrics.latency_us == 2000);
    CHECK(only_upsert(res.ops).metrics.weight == 0);
    // A snapshot (the dataplane reconnects) keeps it drained.
    const mgmt::Batch b = rib.snapshot();
    REQUIRE(b.ops.size() == 1);
    CHECK(b.ops[0].service.instances.at(0).metrics.weight == 0);

    // Undrained: its own weight at once.
    ops.clear();
    REQUIRE(rib.cli_drain(100, 1, false, t0() + 2s, ops) == "");
    CHECK(only_upsert(ops).metrics.weight == 500);
    CHECK_FALSE(inst().contains("drained"));
    ops.clear();
    CHECK(rib.cli_drain(100, 9, true, t0(), ops) == "cs 100 instance 9 does not exist");
    CHECK(ops.empty());
}

TEST_CASE("rib: instance events for the log and the monitor, bounded (issue 21, item 6)", "[rib]") {
    Rib rib(policy(5, 0));
    rib.ingest(advertise(7, 1, {record(100, 1, {"2001:db8:a1::1", "2001:db8:a1::2"})}, 10), 10s, t0());
    Rib::Events ev = rib.take_events();
    REQUIRE(ev.list.size() == 1);
    CHECK(ev.list[0] == Rib::Event{100, 1, true, 7, "advertised by node 7, SIDs 2001:db8:a1::1,2001:db8:a1::2"});
    CHECK(ev.list[0].text() == "cs 100 instance 1 up: advertised by node 7, SIDs 2001:db8:a1::1,2001:db8:a1::2");
    CHECK(rib.take_events().list.empty());
    // A refresh is no event.
    rib.ingest(advertise(7, 2, {record(100, 1, {"2001:db8:a1::1", "2001:db8:a1::2"})}, 10), 10s, t0() + 1s);
    CHECK(rib.take_events().list.empty());
    rib.expire(t0() + 11s);
    ev = rib.take_events();
    REQUIRE(ev.list.size() == 1);
    CHECK(ev.list[0].text() == "cs 100 instance 1 down: expired, node 7 did not refresh it within its lifetime");
    CHECK_FALSE(ev.list[0].up);
    rib.ingest(advertise(7, 3, {record(100, 2)}, 10), 10s, t0() + 12s);
    rib.ingest(withdraw(7, 4, {{100, 2}}), 10s, t0() + 12s);
    ev = rib.take_events();
    REQUIRE(ev.list.size() == 2);
    CHECK(ev.list[1].text() == "cs 100 instance 2 down: withdrawn by node 7");
    // A burst bigger than the bound keeps the first kMaxEvents and a count.
    std::vector<advert::Record> many;
    for (std::uint32_t i = 1; i <= Rib::kMaxEvents + 5; ++i)
        many.push_back(record(200 + i / 500, i));  // (a service holds at most kMaxInstancesPerService)
    for (std::size_t at = 0; at < many.size(); at += 200)
        rib.ingest(advertise(7, 10 + static_cast<std::uint32_t>(at),
                             std::vector<advert::Record>(many.begin() + static_cast<std::ptrdiff_t>(at),
                                                         many.begin() + static_cast<std::ptrdiff_t>(
                                                                            std::min(at + 200, many.size()))),
                             10),
                   10s, t0() + 13s);
    ev = rib.take_events();
    CHECK(ev.list.size() == Rib::kMaxEvents);
    CHECK(ev.left_out == 5);
    CHECK(rib.take_events().left_out == 0);
}
