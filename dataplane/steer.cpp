// SPDX-License-Identifier: BSD-3-Clause
#include "steer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cats::dp {

double effective_weight(const InstanceMetrics& m) noexcept {
    if (m.load_pct >= 100 || m.free_capacity == 0 || m.weight == 0)
        return 0;
    return static_cast<double>(m.weight) * (100.0 - m.load_pct) / 100.0 *
           (m.score + 1.0) / (wire::kMaxScore + 1.0);
}

void set_metrics(Instance& in, const InstanceMetrics& m) noexcept {
    in.metrics = m;
    in.weight = effective_weight(m);
    in.inv_weight = in.weight > 0 ? 1 / in.weight : 0;
}

std::uint64_t instance_seed(std::uint32_t cs_id, std::uint32_t instance_id) noexcept {
    return mix64((std::uint64_t{cs_id} << 32) | instance_id) | 1;
}

namespace {

// ln(c) and 1/c at the middle of each of 128 equal slices of [1, 2); for
// the bounds, -ln of each slice's two ends moved 1e-9 outwards, and
// (54 - msb) * ln 2, the octave's part of -ln(u).
struct LnTable {
    double inv[128];
    double ln[128];
    double neg_ln_end[128];    // -ln(1 + (i + 1) / 128) - 1e-9
    double neg_ln_start[128];  // -ln(1 + i / 128) + 1e-9
    double octave[64];
    LnTable() noexcept {
        for (int i = 0; i < 128; ++i) {
            const double c = 1 + (i + 0.5) / 128;
            inv[i] = 1 / c;
            ln[i] = std::log(c);
            neg_ln_end[i] = -std::log(1 + (i + 1) / 128.0) - 1e-9;
            neg_ln_start[i] = -std::log(1 + i / 128.0) + 1e-9;
        }
        for (int msb = 0; msb < 64; ++msb)
            octave[msb] = (54 - msb) * M_LN2;
    }
};
const LnTable kLnTable;

// u = x / 2^54 = 2^(msb-54) * m with m in [1, 2): the octave, the 52 bits of
// m below its leading 1, and m's 1/128 slice (their top 7).
struct Draw {
    int msb;             // 0..53
    std::uint64_t frac;  // in the low 52 bits
    unsigned slice;
};

inline Draw split(std::uint64_t x) noexcept {
    const int msb = 63 - __builtin_clzll(x);
    const std::uint64_t frac = ((x << (63 - msb)) << 1) >> 12;
    return {msb, frac, static_cast<unsigned>(frac >> 45)};
}

// ln(m) = ln(c) + ln(1 + r) with c the middle of m's slice (table) and
// |r| < 1/256, whose series is cut after r^3 (error below 1e-10); result at
// least 2^-60. No division, no libm call, short dependency chains: a new
// flow scores every instance of its service, and glibc's log() was a third
// of the new-flow cost.
inline double neg_ln_u54_inline(std::uint64_t x) noexcept {
    const Draw d = split(x);
    const double m = std::bit_cast<double>(0x3FF0000000000000ULL | d.frac);
    const double r = m * kLnTable.inv[d.slice] - 1;
    const double ln_m = kLnTable.ln[d.slice] + r * (1 + r * (-0.5 + r * (1.0 / 3)));
    // Rounding can leave nothing (or less) when u is within 1e-16 of 1:
    // keep the score finite and positive.
    return std::max(kLnTable.octave[d.msb] - ln_m, 0x1p-60);
}

// The flow's draw for an instance: x in [1, 2^54), u = x / 2^54.
inline std::uint64_t draw(std::uint64_t flow_hash, std::uint64_t seed) noexcept {
    return (mix64(flow_hash ^ seed) >> 10) | 1;
}

enum class Pass { Eligible, Available, Resolved };

Choice hrw(std::span<const Instance> insts, const wire::Requirements& req, std::uint64_t flow_hash,
           Pass pass) noexcept {
    Choice best;
    double best_score = -1;
    for (std::size_t i = 0; i < insts.size(); ++i) {
        const Instance& in = insts[i];
        double w;
        switch (pass) {
        case Pass::Eligible:
            if (!available(in) || !meets(in.metrics, req))
                continue;
            w = in.weight;
            break;
        case Pass::Available:
            if (!available(in))
                continue;
            w = in.weight;
            break;
        case Pass::Resolved:
        default:
            if (!in.resolved)
                continue;
            w = 1.0;  // nothing is healthy: spread evenly
            break;
        }
        // Score w / -ln(u), u the flow's draw for this instance in (0, 1).
        const double s = w / neg_ln_u54_inline(draw(flow_hash, in.seed));
        if (s > best_score) {
            best_score = s;
            best.index = static_cast<std::int32_t>(i);
        }
    }
    return best;
}

// The first pass of hrw() for services of up to kBoundedMax instances,
// without the series or a division in the common case. Each eligible
// instance's -ln(u) / w lies between bounds taken from u's octave and
// 1/128 slice alone (no score is below the bounds' product with
// inv_weight, none above). When the instance with the lowest lower bound
// also has an upper bound below every other instance's lower bound, it has
// the highest score, and is what hrw() picks: the 1e-9 margins of the
// bounds are over a million times what rounding can move a score. Returns
// its index, or -1 when that is not certain (about 4 new flows in 100 with
// 8 instances; more with near-equal scores) or nothing is eligible: the
// caller then runs hrw(). Branch-free but for eligibility, which a flow's
// requirements decide the same way for every new flow of a service.
// kAllEligible: the caller knows every instance is eligible (meets_all()).
constexpr std::size_t kBoundedMax = 32;

template <bool kAllEligible>
std::int32_t hrw_bounded(std::span<const Instance> insts, const wire::Requirements& req,
                         std::uint64_t flow_hash) noexcept {
    double hi[kBoundedMax];
    double lo_min = INFINITY, lo_second = INFINITY;
    unsigned a = 0;
    bool weighted = true;  // every inv_weight set (an Instance built without set_metrics() has none)
    for (unsigned i = 0; i < insts.size(); ++i) {
        const Instance& in = insts[i];
        if (!kAllEligible && (!available(in) || !meets(in.metrics, req)))
            continue;
        const Draw d = split(draw(flow_hash, in.seed));
        const double octave = kLnTable.octave[d.msb];
        weighted = weighted && in.inv_weight > 0;
        const double lo = (octave + kLnTable.neg_ln_end[d.slice]) * in.inv_weight;
        hi[i] = (octave + kLnTable.neg_ln_start[d.slice]) * in.inv_weight;
        a = lo < lo_min ? i : a;
        lo_second = std::min(std::max(lo_min, lo), lo_second);
        lo_min = std::min(lo_min, lo);
    }
    return weighted && lo_min != INFINITY && lo_second > hi[a] ? static_cast<std::int32_t>(a) : -1;
}

// The passes after the bounded one (which found nothing certain).
Choice select_exact(std::span<const Instance> insts, const wire::Requirements& req,
                    std::uint64_t flow_hash) noexcept {
    Choice c = hrw(insts, req, flow_hash, Pass::Eligible);
    if (c.index >= 0 || req.strict)
        return c;
    c = hrw(insts, req, flow_hash, Pass::Available);
    if (c.index < 0)
        c = hrw(insts, req, flow_hash, Pass::Resolved);
    c.best_effort = c.index >= 0;
    return c;
}

}  // namespace

double neg_ln_u54(std::uint64_t x) noexcept { return neg_ln_u54_inline(x); }

void set_floor(Service& svc) noexcept {
    FleetFloor f;
    f.all_available = !svc.instances.empty();
    f.max_latency_us = 0;
    f.min_bandwidth_kbps = UINT32_MAX;
    f.min_score = UINT8_MAX;
    f.common_compute_types = UINT16_MAX;
    for (const Instance& in : svc.instances) {
        f.all_available = f.all_available && available(in);
        f.max_latency_us = std::max(f.max_latency_us, in.metrics.latency_us);
        f.min_bandwidth_kbps = std::min(f.min_bandwidth_kbps, in.metrics.bandwidth_kbps);
        f.min_score = std::min(f.min_score, in.metrics.score);
        f.common_compute_types &= in.metrics.compute_types;
    }
    svc.floor = f;
}

namespace {

// The bounded pass when it applies, the exact passes when it cannot tell.
Choice select(std::span<const Instance> insts, const wire::Requirements& req, std::uint64_t flow_hash,
              bool all_eligible) noexcept {
    if (insts.size() <= kBoundedMax) {
        const std::int32_t a = all_eligible ? hrw_bounded<true>(insts, req, flow_hash)
                                            : hrw_bounded<false>(insts, req, flow_hash);
        if (a >= 0)
            return Choice{a, false};
    }
    return select_exact(insts, req, flow_hash);
}

}  // namespace

Choice select_instance(std::span<const Instance> insts, const wire::Requirements& req,
                       std::uint64_t flow_hash) noexcept {
    return select(insts, req, flow_hash, false);
}

Choice select_instance(const Service& svc, const wire::Requirements& req, std::uint64_t flow_hash) noexcept {
    return select(svc.instances, req, flow_hash, meets_all(svc.floor, req));
}

}  // namespace cats::dp
