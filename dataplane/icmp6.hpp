// SPDX-License-Identifier: BSD-3-Clause
// ICMPv6 errors for packets the gateway cannot send. Packet Too Big (RFC
// 4443 3.2): with the outer headers of H.Encaps, or plainly forwarded, they
// exceed the egress MTU, and IPv6 routers do not fragment (RFC 8200 5);
// without it the sender's path MTU discovery never learns, and large
// packets vanish. Time Exceeded (3.3): a forwarded packet's hop limit ran
// out here (what traceroute shows).
//
// An error is built in the mbuf of the packet it reports, which is being
// dropped anyway: the same L2 header back to the sender (MACs swapped,
// VLAN tags kept), a new IPv6 header from the gateway's address to the
// packet's source, the ICMPv6 header, then as much of the packet as keeps
// the error within the minimum MTU of 1280 bytes.
//
// Thread safety: pure functions and a per-worker rate limiter.
#pragma once

#include <cstdint>

#include "config.hpp"
#include "parse.hpp"

struct rte_mbuf;

namespace cats::dp {

inline constexpr std::uint8_t kIcmp6PacketTooBig = 2;
inline constexpr std::uint8_t kIcmp6TimeExceeded = 3;  // code 0: hop limit exceeded in transit
inline constexpr std::uint8_t kIcmp6ParamProblem = 4;
inline constexpr std::uint8_t kParamErroneousField = 0;  // RFC 4443 3.4
inline constexpr std::uint8_t kParamSrUpperLayer = 4;    // SR Upper-layer Header Error (RFC 8986 10.2)
inline constexpr std::size_t kIpv6MinMtu = 1280;
// IPv6 + ICMPv6 header: what the error puts before the quoted packet.
inline constexpr std::size_t kIcmp6ErrorHdrLen = 40 + 8;

// May the packet `pi` describes get an ICMPv6 error (RFC 4443 2.4 (e))? Not
// when it is itself an ICMPv6 error, nor when its source is unspecified or
// multicast (nobody to tell).
bool may_send_icmp6_error(const PacketInfo& pi) noexcept;

// Can an error be made of `m`? may_send_icmp6_error(), one segment holding
// the whole packet, and 48 bytes of headroom.
bool icmp6_error_possible(const rte_mbuf* m, const PacketInfo& pi) noexcept;

// Rewrite `m`, the frame `pi` was parsed from (one segment), into an ICMPv6
// error (`type`, `code`, the 32-bit field after the checksum `param`) from
// `src` and the port MAC `port_mac`, to go back out of the port it came in
// on. False, with `m` unchanged, when !icmp6_error_possible().
bool make_icmp6_error(rte_mbuf* m, const PacketInfo& pi, std::uint8_t type, std::uint8_t code, std::uint32_t param,
                      const Ipv6Addr& src, const MacAddr& port_mac) noexcept;

// Packet Too Big reporting `mtu` (raised to 1280 if below).
bool make_packet_too_big(rte_mbuf* m, const PacketInfo& pi, std::uint32_t mtu, const Ipv6Addr& src,
                         const MacAddr& port_mac) noexcept;
// Time Exceeded, hop limit exceeded in transit.
bool make_time_exceeded(rte_mbuf* m, const PacketInfo& pi, const Ipv6Addr& src, const MacAddr& port_mac) noexcept;

// Parameter Problem (RFC 4443 3.4) of `code`, `pointer` bytes into the
// packet's IPv6 header (RFC 8986 4: a local SID's errors).
bool make_param_problem(rte_mbuf* m, const PacketInfo& pi, std::uint8_t code, std::uint32_t pointer,
                        const Ipv6Addr& src, const MacAddr& port_mac) noexcept;

// RFC 4443 2.4 (f): a token bucket per worker, `rate` errors per second
// and as many in a burst; rate 0 sends none.
class Icmp6Limiter {
public:
    explicit Icmp6Limiter(std::uint32_t rate = 0) noexcept : rate_(rate), tokens_milli_(std::uint64_t{rate} * 1000) {}
    // Take a token at engine time `now_ms`; false when none is left.
    bool take(std::uint32_t now_ms) noexcept {
        if (rate_ == 0)
            return false;
        const std::uint64_t cap = std::uint64_t{rate_} * 1000;
        const std::uint32_t elapsed = now_ms - last_ms_;
        last_ms_ = now_ms;
        // rate tokens per 1000 ms: rate milli-tokens per ms.
        tokens_milli_ = elapsed >= 1000 ? cap : std::min(cap, tokens_milli_ + std::uint64_t{elapsed} * rate_);
        if (tokens_milli_ < 1000)
            return false;
        tokens_milli_ -= 1000;
        return true;
    }

private:
    std::uint32_t rate_;
    std::uint64_t tokens_milli_;
    std::uint32_t last_ms_ = 0;
};

}  // namespace cats::dp
