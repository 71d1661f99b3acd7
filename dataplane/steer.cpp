// SPDX-License-Identifier: BSD-3-Clause
#include "steer.hpp"

#include <bit>
#include <cmath>

namespace cats::dp {

double effective_weight(const InstanceMetrics& m) noexcept {
    if (m.load_pct >= 100 || m.free_capacity == 0 || m.weight == 0)
        return 0;
    return static_cast<double>(m.weight) * (100.0 - m.load_pct) / 100.0 *
           (m.score + 1.0) / (wire::kMaxScore + 1.0);
}


std::uint64_t instance_seed(std::uint32_t cs_id, std::uint32_t instance_id) noexcept {
    return mix64((std::uint64_t{cs_id} << 32) | instance_id) | 1;
}

// -log2(u) for u = x / 2^54, x odd in [1, 2^54): the flow's uniform draw
// in (0,1). The integer part is exact (x's highest bit); the mantissa's
// logarithm comes from ln(m) = 2 atanh((m-1)/(m+1)), m reduced to
// [1/sqrt 2, sqrt 2), series to s^9 (relative error below 2e-8). No libm
// call: this runs for every instance on every new flow. HRW needs only a
// score that orders like w / -ln(u); log2 differs by a constant factor.
namespace {

inline double neg_log2_u54_inline(std::uint64_t x) noexcept {
    const int msb = 63 - __builtin_clzll(x);  // 0..53
    const std::uint64_t frac = ((x << (63 - msb)) << 1) >> 12;  // bits below the highest
    double m = std::bit_cast<double>(0x3FF0000000000000ULL | frac);  // [1, 2)
    // Selects, not a branch: m is as likely above sqrt 2 as below.
    const bool high = m > M_SQRT2;
    m = high ? m * 0.5 : m;
    const int e = msb + high;
    const double s = (m - 1) / (m + 1);
    const double s2 = s * s;
    constexpr double c3 = 1.0 / 3, c5 = 1.0 / 5, c7 = 1.0 / 7, c9 = 1.0 / 9;
    const double ln_m = 2 * s * (1 + s2 * (c3 + s2 * (c5 + s2 * (c7 + s2 * c9))));
    // 54 - e is exact and >= 0; the sum is > 0 for every x < 2^54.
    return static_cast<double>(54 - e) - ln_m * M_LOG2E;
}

enum class Pass { Eligible, Available, Resolved };

Choice hrw(std::span<const Instance> insts, const wire::Requirements& req, std::uint64_t flow_hash,
           Pass pass) noexcept {
    Choice best;
    // Score w / L (L = -log2 u > 0), compared by cross-multiplying.
    double best_w = 0, best_l = 1;
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
        // w > 0, so the first candidate always wins against (0, 1). The
        // update is a select, not a branch: which instance scores best is
        // random, a branch on it mispredicts half the time.
        const double l = neg_log2_u54_inline((mix64(flow_hash ^ in.seed) >> 10) | 1);
        const bool better = w * best_l > best_w * l;
        best_w = better ? w : best_w;
        best_l = better ? l : best_l;
        best.index = better ? static_cast<std::int32_t>(i) : best.index;
    }
    return best;
}

}  // namespace

double neg_log2_u54(std::uint64_t x) noexcept { return neg_log2_u54_inline(x); }

Choice select_instance(std::span<const Instance> insts, const wire::Requirements& req,
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

}  // namespace cats::dp
