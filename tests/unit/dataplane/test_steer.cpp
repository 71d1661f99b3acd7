// SPDX-License-Identifier: BSD-3-Clause
// Instance selection (dataplane/steer.hpp): requirement matching, the
// effective weight, weighted rendezvous hashing (shares follow the weights)
// and its minimal-disruption property (exact, flow by flow). Pure: no EAL.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "steer.hpp"

using namespace cats::dp;
namespace wire = cats::wire;

namespace {

constexpr std::uint32_t kCsId = 7;
constexpr std::uint32_t kNone = UINT32_MAX;  // no instance chosen
constexpr std::uint64_t kShareFlows = 200000;
constexpr std::uint64_t kMoveFlows = 100000;
constexpr double kShareTolerance = 0.015;    // +-1.5 percentage points

// Flow hashes as the workers would see them: spread, deterministic.
std::uint64_t flow_hash(std::uint64_t i) noexcept { return mix64(i + 0x9E3779B97F4A7C15ULL); }

InstanceMetrics weighted(std::uint32_t w) {
    InstanceMetrics m;
    m.weight = w;
    return m;
}

// An instance as ServiceTable::build() makes it: weight and seed derived.
Instance make_instance(std::uint32_t id, const InstanceMetrics& m, bool resolved = true) {
    Instance in;
    in.id = id;
    in.slot = id;
    set_metrics(in, m);
    in.seed = instance_seed(kCsId, id);
    in.resolved = resolved;
    in.n_sids = 1;
    return in;
}

// The instance id chosen for flows 0..n-1 (kNone when none).
std::vector<std::uint32_t> assign(std::span<const Instance> insts, const wire::Requirements& req,
                                  std::uint64_t n) {
    std::vector<std::uint32_t> out(n, kNone);
    for (std::uint64_t i = 0; i < n; ++i) {
        const Choice c = select_instance(insts, req, flow_hash(i));
        if (c.index >= 0)
            out[i] = insts[static_cast<std::size_t>(c.index)].id;
    }
    return out;
}

std::map<std::uint32_t, std::uint64_t> histogram(const std::vector<std::uint32_t>& ids) {
    std::map<std::uint32_t, std::uint64_t> h;
    for (std::uint32_t id : ids)
        ++h[id];
    return h;
}

std::set<std::uint32_t> chosen_set(std::span<const Instance> insts, const wire::Requirements& req,
                                   std::uint64_t n, bool expect_best_effort) {
    std::set<std::uint32_t> ids;
    for (std::uint64_t i = 0; i < n; ++i) {
        const Choice c = select_instance(insts, req, flow_hash(i));
        if (c.best_effort != expect_best_effort) {
            FAIL_CHECK("flow " << i << ": best_effort " << c.best_effort << ", expected " << expect_best_effort);
            return {};
        }
        ids.insert(c.index < 0 ? kNone : insts[static_cast<std::size_t>(c.index)].id);
    }
    return ids;
}

double total_weight(std::span<const Instance> insts) {
    double s = 0;
    for (const Instance& in : insts)
        s += in.weight;
    return s;
}

// Every instance's share of kShareFlows is weight / sum(weights) +- tolerance.
void check_shares(const std::vector<Instance>& insts) {
    const auto h = histogram(assign(insts, {}, kShareFlows));
    const double sum = total_weight(insts);
    REQUIRE(sum > 0);
    REQUIRE(h.count(kNone) == 0);
    for (const Instance& in : insts) {
        const auto it = h.find(in.id);
        const double share = it == h.end() ? 0.0 : static_cast<double>(it->second) / kShareFlows;
        const double expected = in.weight / sum;
        INFO("instance " << in.id << " weight " << in.weight << " share " << share << " expected " << expected);
        CHECK(share == Approx(expected).margin(kShareTolerance));
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// effective_weight() and meets()
// ---------------------------------------------------------------------------

TEST_CASE("effective_weight follows weight * (100 - load) / 100 * (score + 1) / 11", "[steer]") {
    InstanceMetrics m;  // weight 100, load 0, score 10, free 1
    CHECK(effective_weight(m) == Approx(100.0));

    m.load_pct = 50;
    CHECK(effective_weight(m) == Approx(50.0));

    m.load_pct = 0;
    m.score = 0;
    CHECK(effective_weight(m) == Approx(100.0 / 11.0));

    m = InstanceMetrics{};
    m.weight = 220;
    m.load_pct = 20;
    m.score = 5;
    CHECK(effective_weight(m) == Approx(220.0 * 0.8 * 6.0 / 11.0));

    m = InstanceMetrics{};
    m.weight = 1000000;
    m.load_pct = 99;
    CHECK(effective_weight(m) == Approx(10000.0));

    // The other metrics do not enter the weight.
    m = InstanceMetrics{};
    m.latency_us = 123456;
    m.bandwidth_kbps = 1;
    m.compute_types = wire::kComputeFpga;
    m.free_capacity = 1000000;
    CHECK(effective_weight(m) == Approx(100.0));
}

TEST_CASE("effective_weight is 0 when the instance cannot take a flow", "[steer]") {
    InstanceMetrics m;
    m.load_pct = 100;
    CHECK(effective_weight(m) == 0.0);

    m = InstanceMetrics{};
    m.free_capacity = 0;
    CHECK(effective_weight(m) == 0.0);

    m = InstanceMetrics{};
    m.weight = 0;
    CHECK(effective_weight(m) == 0.0);

    // Score 0 still leaves a positive weight: a poor instance, not a dead one.
    m = InstanceMetrics{};
    m.score = 0;
    CHECK(effective_weight(m) > 0.0);
    m.load_pct = 99;
    CHECK(effective_weight(m) > 0.0);
}

TEST_CASE("meets: each requirement bounds its metric, equal values pass", "[steer]") {
    InstanceMetrics m;
    m.latency_us = 200;
    m.bandwidth_kbps = 5000;
    m.score = 6;
    m.compute_types = wire::kComputeGpu | wire::kComputeNpu;

    const wire::Requirements none;
    CHECK(meets(m, none));

    SECTION("max_latency_us") {
        wire::Requirements r;
        r.max_latency_us = 200;
        CHECK(meets(m, r));
        r.max_latency_us = 199;
        CHECK_FALSE(meets(m, r));
        r.max_latency_us = 0;
        CHECK_FALSE(meets(m, r));
        m.latency_us = 0;
        CHECK(meets(m, r));
    }
    SECTION("min_bandwidth_kbps") {
        wire::Requirements r;
        r.min_bandwidth_kbps = 5000;
        CHECK(meets(m, r));
        r.min_bandwidth_kbps = 5001;
        CHECK_FALSE(meets(m, r));
        r.min_bandwidth_kbps = UINT32_MAX;
        CHECK_FALSE(meets(m, r));
        m.bandwidth_kbps = UINT32_MAX;
        CHECK(meets(m, r));
    }
    SECTION("min_score") {
        wire::Requirements r;
        r.min_score = 6;
        CHECK(meets(m, r));
        r.min_score = 7;
        CHECK_FALSE(meets(m, r));
        r.min_score = wire::kMaxScore;
        m.score = wire::kMaxScore;
        CHECK(meets(m, r));
    }
    SECTION("compute_type is any-of") {
        wire::Requirements r;
        r.compute_type = wire::kComputeGpu;
        CHECK(meets(m, r));
        r.compute_type = wire::kComputeNpu;
        CHECK(meets(m, r));
        r.compute_type = wire::kComputeCpu | wire::kComputeNpu;
        CHECK(meets(m, r));
        r.compute_type = wire::kComputeAll;
        CHECK(meets(m, r));
        r.compute_type = wire::kComputeCpu;
        CHECK_FALSE(meets(m, r));
        r.compute_type = wire::kComputeCpu | wire::kComputeFpga;
        CHECK_FALSE(meets(m, r));
        // 0 asks for nothing, even from an instance that advertises no type.
        r.compute_type = 0;
        m.compute_types = 0;
        CHECK(meets(m, r));
        r.compute_type = wire::kComputeAll;
        CHECK_FALSE(meets(m, r));
    }
    SECTION("all at once, all at their bounds") {
        wire::Requirements r;
        r.max_latency_us = 200;
        r.min_bandwidth_kbps = 5000;
        r.min_score = 6;
        r.compute_type = wire::kComputeGpu;
        r.strict = true;
        r.priority = 7;  // neither strict nor priority filter
        CHECK(meets(m, r));
        m.score = 5;
        CHECK_FALSE(meets(m, r));
    }
}

TEST_CASE("instance_seed is stable and distinguishes (cs_id, id)", "[steer]") {
    CHECK(instance_seed(1, 2) == instance_seed(1, 2));
    CHECK(instance_seed(1, 2) != instance_seed(2, 1));
    CHECK(instance_seed(1, 2) != instance_seed(1, 3));
    CHECK(instance_seed(0, 0) != 0);
    std::set<std::uint64_t> seeds;
    for (std::uint32_t cs = 0; cs < 16; ++cs)
        for (std::uint32_t id = 0; id < 64; ++id)
            seeds.insert(instance_seed(cs, id));
    CHECK(seeds.size() == 16 * 64);
}

// ---------------------------------------------------------------------------
// Requirements and fallbacks in select_instance()
// ---------------------------------------------------------------------------

namespace {

// Six instances; each but the first misses exactly one kind of requirement.
std::vector<Instance> requirement_fleet() {
    InstanceMetrics base;
    base.latency_us = 100;
    base.bandwidth_kbps = 10000;
    base.score = 8;
    base.compute_types = wire::kComputeCpu;

    std::vector<Instance> v;
    v.push_back(make_instance(1, base));
    InstanceMetrics m = base;
    m.latency_us = 500;
    v.push_back(make_instance(2, m));
    m = base;
    m.bandwidth_kbps = 1000;
    v.push_back(make_instance(3, m));
    m = base;
    m.compute_types = wire::kComputeGpu;
    v.push_back(make_instance(4, m));
    m = base;
    m.score = 3;
    v.push_back(make_instance(5, m));
    m = base;
    m.compute_types = wire::kComputeCpu | wire::kComputeNpu;
    v.push_back(make_instance(6, m));
    return v;
}

}  // namespace

TEST_CASE("neg_ln_u54 is -ln(x / 2^54) within 1e-10 and always positive", "[steer]") {
    int checked = 0;
    auto check = [&checked](std::uint64_t x) {
        const double got = neg_ln_u54(x);
        const long double want = -std::log(static_cast<long double>(x) / 0x1.0p54L);
        ++checked;
        if (!(got > 0) || std::fabs(static_cast<long double>(got) - want) > 1e-10L)
            FAIL_CHECK("x = " << x << ": got " << got << ", want " << static_cast<double>(want));
    };
    // The smallest and largest draws, every power of two and its
    // neighbours, the edges of the table's 128 slices in the top octave.
    for (int b = 0; b <= 53; ++b) {
        const std::uint64_t p = std::uint64_t{1} << b;
        check(p);
        check(p | 1);
        check((p << 1) - 1);
    }
    for (std::uint64_t k = 0; k < 128; ++k) {
        const std::uint64_t edge = (std::uint64_t{128} + k) << 46;  // m = 1 + k / 128
        check(edge - 1);
        check(edge);
        check(edge + 1);
    }
    std::mt19937_64 rng(7);
    for (int i = 0; i < 200000; ++i)
        check((rng() >> 10) | 1);
    CHECK(checked > 200000);
    // Decreasing in x, which is all HRW's ordering needs.
    std::vector<std::uint64_t> xs;
    for (int i = 0; i < 20000; ++i)
        xs.push_back((rng() >> 10) | 1);
    std::sort(xs.begin(), xs.end());
    for (std::size_t i = 1; i < xs.size(); ++i)
        if (neg_ln_u54(xs[i]) > neg_ln_u54(xs[i - 1]))
            FAIL_CHECK("not decreasing at " << xs[i - 1] << ", " << xs[i]);
}

TEST_CASE("select_instance picks exactly the highest w / -ln(u) score, bounds or not", "[steer]") {
    // The reference: every eligible instance scored in full with
    // neg_ln_u54, the highest wins (the first of equals). select_instance
    // decides most flows from bounds alone, which must never change a
    // choice.
    auto reference = [](std::span<const Instance> insts, const wire::Requirements& req, std::uint64_t h) {
        std::int32_t best = -1;
        double best_score = 0;
        for (std::size_t i = 0; i < insts.size(); ++i) {
            if (!available(insts[i]) || !meets(insts[i].metrics, req))
                continue;
            const double s = insts[i].weight / neg_ln_u54((mix64(h ^ insts[i].seed) >> 10) | 1);
            if (s > best_score) {
                best_score = s;
                best = static_cast<std::int32_t>(i);
            }
        }
        return best;
    };
    std::mt19937_64 rng(11);
    wire::Requirements req;
    req.max_latency_us = 500;
    std::uint64_t flows = 0, mismatches = 0;
    // 1 to 32 instances take the bounded path, 40 the exact one; weights
    // from 1 to 10^6, and runs of equal or nearly equal ones.
    for (const std::size_t n : {1, 2, 3, 8, 8, 8, 16, 32, 40}) {
        std::vector<Instance> v;
        for (std::size_t i = 0; i < n; ++i) {
            InstanceMetrics m = weighted(static_cast<std::uint32_t>(
                i % 3 == 0 ? 1000 + (rng() % 3) : i % 3 == 1 ? 500 : 1 + rng() % 1000000));
            m.latency_us = static_cast<std::uint32_t>(rng() % 600);  // some miss the bound
            if (i % 3 == 2)
                m.load_pct = static_cast<std::uint8_t>(rng() % 100);
            v.push_back(make_instance(static_cast<std::uint32_t>(i + 1), m));
        }
        // And through the service, whose floor skips the per-instance
        // checks when every instance is eligible (the empty request here;
        // with `req`, only when no instance misses the latency bound).
        Service svc;
        svc.instances = v;
        set_floor(svc);
        const wire::Requirements any;
        CHECK(meets_all(svc.floor, any));
        for (std::uint64_t f = 0; f < 40000; ++f, ++flows) {
            const std::uint64_t h = flow_hash(rng());
            for (const wire::Requirements* r : {static_cast<const wire::Requirements*>(&req), &any}) {
                const std::int32_t want = reference(v, *r, h);
                for (const Choice c : {select_instance(v, *r, h), select_instance(svc, *r, h)}) {
                    // None eligible: no choice, or a best-effort one.
                    const bool ok = want >= 0 ? c.index == want && !c.best_effort : c.index < 0 || c.best_effort;
                    if (!ok && ++mismatches <= 5)
                        FAIL_CHECK(n << " instances, flow hash " << h << ": chose " << c.index
                                      << ", the highest score is " << want);
                }
            }
        }
    }
    CHECK(flows == 360000);
    CHECK(mismatches == 0);

    // An instance given a weight without set_metrics() has no inv_weight:
    // the bounds cannot be trusted and the exact pass decides.
    std::vector<Instance> v;
    for (std::uint32_t i = 1; i <= 8; ++i)
        v.push_back(make_instance(i, weighted(100 * i)));
    v[3].inv_weight = 0;
    for (std::uint64_t f = 0; f < 20000; ++f) {
        const std::uint64_t h = flow_hash(f);
        const Choice c = select_instance(v, {}, h);
        if (c.index != reference(v, {}, h) && ++mismatches <= 5)
            FAIL_CHECK("unset inv_weight, flow hash " << h << ": chose " << c.index);
    }
    CHECK(mismatches == 0);
}

TEST_CASE("set_floor: what every instance offers; meets_all only when every instance meets", "[steer]") {
    InstanceMetrics a = weighted(100), b = weighted(100);
    a.latency_us = 100;
    b.latency_us = 300;
    a.bandwidth_kbps = 5000;
    b.bandwidth_kbps = 2000;
    a.score = 9;
    b.score = 6;
    a.compute_types = wire::kComputeCpu | wire::kComputeGpu;
    b.compute_types = wire::kComputeGpu;
    Service svc;
    svc.instances = {make_instance(1, a), make_instance(2, b)};
    set_floor(svc);
    CHECK(svc.floor.all_available);
    CHECK(svc.floor.max_latency_us == 300);
    CHECK(svc.floor.min_bandwidth_kbps == 2000);
    CHECK(svc.floor.min_score == 6);
    CHECK(svc.floor.common_compute_types == wire::kComputeGpu);

    wire::Requirements r;
    CHECK(meets_all(svc.floor, r));
    r.max_latency_us = 300;
    r.min_bandwidth_kbps = 2000;
    r.min_score = 6;
    r.compute_type = wire::kComputeGpu;
    CHECK(meets_all(svc.floor, r));  // every bound at the floor's value
    for (int k = 0; k < 4; ++k) {
        wire::Requirements t = r;
        if (k == 0) t.max_latency_us = 299;
        if (k == 1) t.min_bandwidth_kbps = 2001;
        if (k == 2) t.min_score = 7;
        if (k == 3) t.compute_type = wire::kComputeCpu;
        CHECK_FALSE(meets_all(svc.floor, t));
    }
    // One instance unavailable, or none at all: no shortcut.
    svc.instances[1].resolved = false;
    set_floor(svc);
    CHECK_FALSE(meets_all(svc.floor, wire::Requirements{}));
    svc.instances.clear();
    set_floor(svc);
    CHECK_FALSE(meets_all(svc.floor, wire::Requirements{}));
    CHECK_FALSE(meets_all(FleetFloor{}, wire::Requirements{}));
}

TEST_CASE("select_instance: each requirement excludes exactly the instances that miss it", "[steer]") {
    const auto fleet = requirement_fleet();
    constexpr std::uint64_t kFlows = 20000;  // every eligible instance gets flows

    struct Case {
        const char* what;
        wire::Requirements req;
        std::set<std::uint32_t> expected;
    };
    auto req = [](auto&& set) {
        wire::Requirements r;
        set(r);
        return r;
    };
    const std::vector<Case> cases = {
        {"none", {}, {1, 2, 3, 4, 5, 6}},
        {"max_latency_us 200", req([](auto& r) { r.max_latency_us = 200; }), {1, 3, 4, 5, 6}},
        {"max_latency_us 500 (equal passes)", req([](auto& r) { r.max_latency_us = 500; }),
         {1, 2, 3, 4, 5, 6}},
        {"min_bandwidth_kbps 5000", req([](auto& r) { r.min_bandwidth_kbps = 5000; }), {1, 2, 4, 5, 6}},
        {"min_bandwidth_kbps 1000 (equal passes)", req([](auto& r) { r.min_bandwidth_kbps = 1000; }),
         {1, 2, 3, 4, 5, 6}},
        {"compute_type CPU", req([](auto& r) { r.compute_type = wire::kComputeCpu; }), {1, 2, 3, 5, 6}},
        {"compute_type GPU", req([](auto& r) { r.compute_type = wire::kComputeGpu; }), {4}},
        {"compute_type GPU|NPU", req([](auto& r) { r.compute_type = wire::kComputeGpu | wire::kComputeNpu; }),
         {4, 6}},
        {"min_score 5", req([](auto& r) { r.min_score = 5; }), {1, 2, 3, 4, 6}},
        {"min_score 8 (equal passes)", req([](auto& r) { r.min_score = 8; }), {1, 2, 3, 4, 6}},
        {"all four", req([](auto& r) {
             r.max_latency_us = 200;
             r.min_bandwidth_kbps = 5000;
             r.compute_type = wire::kComputeCpu;
             r.min_score = 5;
         }),
         {1, 6}},
    };

    for (const Case& c : cases) {
        for (bool strict : {false, true}) {
            wire::Requirements r = c.req;
            r.strict = strict;
            INFO(c.what << (strict ? " (strict)" : ""));
            CHECK(chosen_set(fleet, r, kFlows, false) == c.expected);
        }
    }
}

TEST_CASE("select_instance: strict with none eligible chooses nothing", "[steer]") {
    const auto fleet = requirement_fleet();
    wire::Requirements r;
    r.compute_type = wire::kComputeFpga;
    r.strict = true;
    for (std::uint64_t i = 0; i < 2000; ++i) {
        const Choice c = select_instance(fleet, r, flow_hash(i));
        REQUIRE(c.index == -1);
        REQUIRE_FALSE(c.best_effort);
    }
    // Available instances exist, but strict excludes them all: latency.
    r = {};
    r.max_latency_us = 99;
    r.strict = true;
    CHECK(chosen_set(fleet, r, 2000, false) == std::set<std::uint32_t>{kNone});
}

TEST_CASE("select_instance: non-strict falls back to available, then to resolved instances", "[steer]") {
    wire::Requirements gpu;
    gpu.compute_type = wire::kComputeGpu;  // nobody below has a GPU

    InstanceMetrics cpu;
    cpu.compute_types = wire::kComputeCpu;
    InstanceMetrics full = cpu;
    full.load_pct = 100;
    InstanceMetrics gpu_metrics;
    gpu_metrics.compute_types = wire::kComputeGpu;

    SECTION("best effort over the available instances, weighted") {
        InstanceMetrics heavy = cpu;
        heavy.weight = 300;
        const std::vector<Instance> v = {make_instance(1, cpu), make_instance(2, heavy), make_instance(3, full),
                                         make_instance(4, gpu_metrics, false)};
        CHECK(chosen_set(v, gpu, 5000, true) == std::set<std::uint32_t>{1, 2});
        const auto h = histogram(assign(v, gpu, kShareFlows));
        CHECK(static_cast<double>(h.at(2)) / kShareFlows == Approx(0.75).margin(kShareTolerance));
    }
    SECTION("then over the resolved instances, evenly, when none is available") {
        InstanceMetrics zero = cpu;
        zero.weight = 0;
        InstanceMetrics no_room = cpu;
        no_room.free_capacity = 0;
        // Weights do not matter any more: nothing is healthy.
        const std::vector<Instance> v = {make_instance(1, full), make_instance(2, zero), make_instance(3, no_room),
                                         make_instance(4, cpu, false)};
        CHECK(chosen_set(v, gpu, 5000, true) == std::set<std::uint32_t>{1, 2, 3});
        CHECK(chosen_set(v, {}, 5000, true) == std::set<std::uint32_t>{1, 2, 3});
        const auto h = histogram(assign(v, {}, kShareFlows));
        for (std::uint32_t id : {1u, 2u, 3u})
            CHECK(static_cast<double>(h.at(id)) / kShareFlows == Approx(1.0 / 3).margin(kShareTolerance));
    }
    SECTION("nothing resolved: nothing chosen, not best effort") {
        const std::vector<Instance> v = {make_instance(1, cpu, false), make_instance(2, gpu_metrics, false)};
        CHECK(chosen_set(v, gpu, 2000, false) == std::set<std::uint32_t>{kNone});
        CHECK(chosen_set(v, {}, 2000, false) == std::set<std::uint32_t>{kNone});
    }
    SECTION("no instances at all") {
        const std::vector<Instance> v;
        const Choice c = select_instance(v, {}, 42);
        CHECK(c.index == -1);
        CHECK_FALSE(c.best_effort);
    }
    SECTION("strict does not fall back") {
        wire::Requirements strict_gpu = gpu;
        strict_gpu.strict = true;
        const std::vector<Instance> v = {make_instance(1, cpu), make_instance(2, full)};
        CHECK(chosen_set(v, strict_gpu, 2000, false) == std::set<std::uint32_t>{kNone});
    }
}

TEST_CASE("select_instance: unresolved instances are never chosen", "[steer]") {
    InstanceMetrics gpu;
    gpu.compute_types = wire::kComputeGpu;
    InstanceMetrics cpu;
    cpu.compute_types = wire::kComputeCpu;
    InstanceMetrics huge = gpu;
    huge.weight = 1000000;

    // The only GPU instance with a route is 2; 1 is far heavier but unresolved.
    const std::vector<Instance> v = {make_instance(1, huge, false), make_instance(2, gpu), make_instance(3, cpu),
                                     make_instance(4, gpu, false)};
    wire::Requirements r;
    r.compute_type = wire::kComputeGpu;
    CHECK(chosen_set(v, r, 5000, false) == std::set<std::uint32_t>{2});
    r.strict = true;
    CHECK(chosen_set(v, r, 5000, false) == std::set<std::uint32_t>{2});
    CHECK(chosen_set(v, {}, 5000, false) == std::set<std::uint32_t>{2, 3});
}

TEST_CASE("select_instance: weight 0, load 100 or no free capacity are skipped while others are available",
          "[steer]") {
    InstanceMetrics ok;
    InstanceMetrics zero;
    zero.weight = 0;
    InstanceMetrics loaded;
    loaded.load_pct = 100;
    InstanceMetrics no_room;
    no_room.free_capacity = 0;
    const std::vector<Instance> v = {make_instance(1, ok), make_instance(2, zero), make_instance(3, loaded),
                                     make_instance(4, no_room), make_instance(5, ok)};
    CHECK(chosen_set(v, {}, 20000, false) == std::set<std::uint32_t>{1, 5});

    // Even when only the unavailable ones meet the requirement, a non-strict
    // flow goes best effort to an available instance, a strict one nowhere.
    std::vector<Instance> w = v;
    for (Instance& in : w)
        in.metrics.compute_types = in.weight > 0 ? wire::kComputeCpu : wire::kComputeGpu;
    wire::Requirements r;
    r.compute_type = wire::kComputeGpu;
    CHECK(chosen_set(w, r, 20000, true) == std::set<std::uint32_t>{1, 5});
    r.strict = true;
    CHECK(chosen_set(w, r, 20000, false) == std::set<std::uint32_t>{kNone});
}

// ---------------------------------------------------------------------------
// Shares follow the weights
// ---------------------------------------------------------------------------

TEST_CASE("select_instance: each instance's share follows its effective weight", "[steer]") {
    SECTION("equal weights") {
        std::vector<Instance> v;
        for (std::uint32_t id = 1; id <= 4; ++id)
            v.push_back(make_instance(id, InstanceMetrics{}));
        check_shares(v);
    }
    SECTION("two instances, equal") {
        check_shares({make_instance(10, InstanceMetrics{}), make_instance(20, InstanceMetrics{})});
    }
    SECTION("1:2:3:4") {
        std::vector<Instance> v;
        for (std::uint32_t id = 1; id <= 4; ++id)
            v.push_back(make_instance(id, weighted(100 * id)));
        check_shares(v);
    }
    SECTION("one dominant") {
        check_shares({make_instance(1, weighted(10000)), make_instance(2, weighted(100)),
                      make_instance(3, weighted(100)), make_instance(4, weighted(100))});
    }
    SECTION("eight instances 1..8") {
        std::vector<Instance> v;
        for (std::uint32_t id = 1; id <= 8; ++id)
            v.push_back(make_instance(id * 3, weighted(id)));
        check_shares(v);
    }
    SECTION("weights from load and score") {
        InstanceMetrics half_loaded;  // 50
        half_loaded.load_pct = 50;
        InstanceMetrics low_score;    // 100 * 5 / 11
        low_score.score = 4;
        InstanceMetrics busy_big;     // 300 * 0.1 = 30
        busy_big.weight = 300;
        busy_big.load_pct = 90;
        InstanceMetrics small;        // 50
        small.weight = 50;
        small.free_capacity = 5;
        InstanceMetrics dead;         // 0: no share at all
        dead.load_pct = 100;
        const std::vector<Instance> v = {make_instance(1, half_loaded), make_instance(2, low_score),
                                         make_instance(3, busy_big), make_instance(4, small),
                                         make_instance(5, dead)};
        check_shares(v);
    }
}

TEST_CASE("select_instance: shares among the eligible follow their weights", "[steer]") {
    InstanceMetrics gpu;
    gpu.compute_types = wire::kComputeGpu;
    InstanceMetrics gpu3 = gpu;
    gpu3.weight = 300;
    InstanceMetrics cpu_heavy;
    cpu_heavy.weight = 10000;
    const std::vector<Instance> v = {make_instance(1, gpu), make_instance(2, cpu_heavy), make_instance(3, gpu3)};
    wire::Requirements r;
    r.compute_type = wire::kComputeGpu;
    const auto h = histogram(assign(v, r, kShareFlows));
    CHECK(h.count(2) == 0);
    CHECK(static_cast<double>(h.at(1)) / kShareFlows == Approx(0.25).margin(kShareTolerance));
    CHECK(static_cast<double>(h.at(3)) / kShareFlows == Approx(0.75).margin(kShareTolerance));
}

// ---------------------------------------------------------------------------
// Consistency and minimal disruption
// ---------------------------------------------------------------------------

namespace {

std::vector<Instance> disruption_fleet() {
    std::vector<Instance> v;
    for (std::uint32_t id = 1; id <= 10; ++id)
        v.push_back(make_instance(100 + id, weighted(50 + 25 * id)));
    return v;
}

}  // namespace

TEST_CASE("select_instance: the same flow always gets the same instance", "[steer]") {
    const auto v = disruption_fleet();
    const auto first = assign(v, {}, 20000);
    CHECK(assign(v, {}, 20000) == first);

    // The choice depends on the instances, not on their order in the table.
    std::vector<Instance> reversed(v.rbegin(), v.rend());
    CHECK(assign(reversed, {}, 20000) == first);
    std::vector<Instance> rotated = v;
    std::rotate(rotated.begin(), rotated.begin() + 3, rotated.end());
    CHECK(assign(rotated, {}, 20000) == first);

    // And different flows do not all land on one instance.
    CHECK(histogram(first).size() == v.size());
}

TEST_CASE("select_instance: removing an instance moves only its own flows", "[steer]") {
    const auto v = disruption_fleet();
    const auto base = assign(v, {}, kMoveFlows);
    for (std::size_t r = 0; r < v.size(); ++r) {
        const std::uint32_t gone = v[r].id;
        std::vector<Instance> less = v;
        less.erase(less.begin() + static_cast<std::ptrdiff_t>(r));
        const auto after = assign(less, {}, kMoveFlows);

        std::uint64_t kept_wrongly_moved = 0, orphaned = 0, on_gone = 0;
        for (std::uint64_t i = 0; i < kMoveFlows; ++i) {
            if (base[i] == gone) {
                ++on_gone;
                if (after[i] == gone || after[i] == kNone)
                    ++orphaned;
            } else if (after[i] != base[i]) {
                ++kept_wrongly_moved;
            }
        }
        INFO("removed instance " << gone << " which had " << on_gone << " flows");
        CHECK(on_gone > 0);
        CHECK(kept_wrongly_moved == 0);  // exact, not approximate
        CHECK(orphaned == 0);

        // Making it unavailable (load 100 %) is the same as removing it.
        std::vector<Instance> drained = v;
        InstanceMetrics m = drained[r].metrics;
        m.load_pct = 100;
        set_metrics(drained[r], m);
        CHECK(assign(drained, {}, kMoveFlows) == after);
    }
}

TEST_CASE("select_instance: adding an instance moves only flows to it, about its share", "[steer]") {
    const auto v = disruption_fleet();
    const auto base = assign(v, {}, kMoveFlows);
    for (std::uint32_t w : {10u, 100u, 1000u}) {
        std::vector<Instance> more = v;
        more.insert(more.begin() + 4, make_instance(999, weighted(w)));
        const auto after = assign(more, {}, kMoveFlows);

        std::uint64_t moved = 0, moved_elsewhere = 0;
        for (std::uint64_t i = 0; i < kMoveFlows; ++i) {
            if (after[i] == base[i])
                continue;
            ++moved;
            if (after[i] != 999)
                ++moved_elsewhere;
        }
        const double expected = static_cast<double>(w) / (total_weight(v) + w);
        INFO("new instance weight " << w << ", moved " << moved);
        CHECK(moved_elsewhere == 0);
        CHECK(static_cast<double>(moved) / kMoveFlows == Approx(expected).margin(kShareTolerance));
        CHECK(moved > 0);
    }
}

TEST_CASE("select_instance: changing one weight moves flows only to or from that instance", "[steer]") {
    const auto v = disruption_fleet();
    const auto base = assign(v, {}, kMoveFlows);
    const auto base_h = histogram(base);
    const std::size_t k = 6;
    const std::uint32_t changed = v[k].id;

    for (std::uint32_t w : {1u, 50u, 400u, 5000u}) {
        std::vector<Instance> next = v;
        InstanceMetrics m = next[k].metrics;
        m.weight = w;
        set_metrics(next[k], m);
        const bool up = next[k].weight > v[k].weight;
        const auto after = assign(next, {}, kMoveFlows);

        std::uint64_t moved = 0, bad = 0;
        for (std::uint64_t i = 0; i < kMoveFlows; ++i) {
            if (after[i] == base[i])
                continue;
            ++moved;
            // Up: flows only arrive at k. Down: flows only leave k.
            if (up ? after[i] != changed : base[i] != changed)
                ++bad;
        }
        double others = total_weight(v) - v[k].weight;
        const double share_before = v[k].weight / (others + v[k].weight);
        const double share_after = next[k].weight / (others + next[k].weight);
        INFO("weight " << v[k].metrics.weight << " -> " << w << ", moved " << moved);
        CHECK(bad == 0);
        CHECK(static_cast<double>(moved) / kMoveFlows ==
              Approx(std::abs(share_after - share_before)).margin(kShareTolerance));
        CHECK(static_cast<double>(histogram(after)[changed]) / kMoveFlows ==
              Approx(share_after).margin(kShareTolerance));
    }
    CHECK(base_h.at(changed) > 0);
}
