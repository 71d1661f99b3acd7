// SPDX-License-Identifier: BSD-3-Clause
// The SR domain's edge (RFC 8754 sections 5.1 and 7.1): a packet from
// outside the domain must not reach a SID inside it, or a client could
// steer traffic through the domain's SIDs (or past the gateway's choice of
// compute node) with an SRH of its own. gateway.sr_domain lists the
// prefixes of the domain's SIDs; a packet received on a port that is not
// `trusted` whose destination or any segment of its SRH is inside one of
// them is dropped (`sr_domain`).
//
// A handful of prefixes (at most kMaxSrDomainPrefixes, locators are few):
// a masked compare of two 64-bit words each, cheaper than an LPM lookup
// (rte_fib6 walks its tbl8s) for what is a yes/no question. Pure, no EAL.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "config.hpp"
#include "parse.hpp"

namespace cats::dp {

class SrDomain {
public:
    // Prefixes with host bits clear (as the config guarantees); at most
    // kMaxSrDomainPrefixes are kept.
    void assign(std::span<const Ipv6Prefix> prefixes) noexcept {
        n_ = 0;
        for (const Ipv6Prefix& p : prefixes) {
            if (n_ == kMaxSrDomainPrefixes)
                break;
            Entry& e = entries_[n_++];
            for (unsigned w = 0; w < 2; ++w) {
                const unsigned bits = p.len > 64 * w ? (p.len - 64 * w > 64 ? 64 : p.len - 64 * w) : 0;
                e.mask[w] = bits == 0 ? 0 : ~std::uint64_t{0} << (64 - bits);
                e.net[w] = load_be64(p.addr.data() + 8 * w) & e.mask[w];
            }
        }
    }
    bool empty() const noexcept { return n_ == 0; }
    std::size_t size() const noexcept { return n_; }

    bool contains(const std::uint8_t* a) const noexcept {
        const std::uint64_t hi = load_be64(a), lo = load_be64(a + 8);
        for (unsigned i = 0; i < n_; ++i)
            if ((hi & entries_[i].mask[0]) == entries_[i].net[0] && (lo & entries_[i].mask[1]) == entries_[i].net[1])
                return true;
        return false;
    }

    // Does this parsed packet (parse_packet() accepted it) address the
    // domain: its destination, or any entry of its SRH's segment list
    // (the parser checked that Last Entry fits the SRH)?
    bool entered_by(std::span<const std::uint8_t> frame, const PacketInfo& pi) const noexcept {
        if (contains(pi.dst))
            return true;
        if (pi.srh_off == 0)
            return false;
        const std::uint8_t* srh = frame.data() + pi.srh_off;
        const unsigned entries = srh[4] + 1u;
        for (unsigned s = 0; s < entries; ++s)
            if (contains(srh + 8 + 16 * s))
                return true;
        return false;
    }

private:
    static std::uint64_t load_be64(const std::uint8_t* p) noexcept {
        std::uint64_t v;
        std::memcpy(&v, p, sizeof v);
        return __builtin_bswap64(v);
    }
    struct Entry {
        std::uint64_t net[2];
        std::uint64_t mask[2];
    };
    std::array<Entry, kMaxSrDomainPrefixes> entries_{};
    unsigned n_ = 0;
};

}  // namespace cats::dp
