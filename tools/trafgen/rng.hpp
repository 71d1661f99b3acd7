// SPDX-License-Identifier: BSD-3-Clause
// The one source of randomness in cats-trafgen: SplitMix64 (Steele, Lea,
// Flood 2014), chosen because its output is fixed by its definition. The
// standard library's distributions are implementation-defined, so a seed
// would not give the same bytes with another libstdc++; every draw here is
// spelled out.
//
// Independent streams: Rng(seed, stream) mixes the stream id into the state,
// so each flow draws its attributes from its own stream and changing, say,
// the number of packets per flow does not change any flow.
//
// Thread safety: a value type; one Rng per thread.
#pragma once

#include <cstdint>
#include <span>

namespace cats::trafgen {

class Rng {
public:
    explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) noexcept
        : state_(mix(seed ^ mix(stream + 0x632BE59BD9B4E019ULL))) {}

    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        return mix_step(z);
    }

    // Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias for the n
    // used here, far below 2^32, is negligible and, above all, fixed).
    std::uint64_t below(std::uint64_t n) noexcept {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }

    // Uniform in [lo, hi], lo <= hi.
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + below(hi - lo + 1); }

    // Uniform in [0, 1) with 53 bits.
    double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    // Index drawn in proportion to `weights` (non-negative, sum > 0).
    std::size_t weighted(std::span<const double> weights) noexcept {
        double total = 0;
        for (const double w : weights)
            total += w;
        double x = unit() * total;
        std::size_t last = 0;
        for (std::size_t i = 0; i < weights.size(); ++i) {
            if (weights[i] <= 0)
                continue;
            last = i;
            if (x < weights[i])
                return i;
            x -= weights[i];
        }
        return last;  // rounding at the top end
    }

    static constexpr std::uint64_t mix(std::uint64_t z) noexcept { return mix_step(z + 0x9E3779B97F4A7C15ULL); }

private:
    static constexpr std::uint64_t mix_step(std::uint64_t z) noexcept {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_;
};

}  // namespace cats::trafgen
