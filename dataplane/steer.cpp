// SPDX-License-Identifier: BSD-3-Clause
#include "steer.hpp"

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

namespace {

// -ln(u) for u uniform in (0,1) from 53 bits of the mixed hash.
inline double hrw_score(double weight, std::uint64_t flow_hash, std::uint64_t seed) noexcept {
    const std::uint64_t h = mix64(flow_hash ^ seed);
    const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
    return weight / -std::log(u);
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
        const double s = hrw_score(w, flow_hash, in.seed);
        if (s > best_score) {
            best_score = s;
            best.index = static_cast<std::int32_t>(i);
        }
    }
    return best;
}

}  // namespace

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
