// SPDX-License-Identifier: BSD-3-Clause
#include "icmp6.hpp"

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

namespace cats::dp {

bool may_send_icmp6_error(const PacketInfo& pi) noexcept {
    // An ICMPv6 error (types 0..127) gets none; informational ones (echo) do.
    if (pi.l4_proto == kProtoIcmpv6 && !pi.non_initial_fragment && pi.icmp6_type < 128)
        return false;
    static constexpr std::uint8_t kUnspecified[16] = {};
    return pi.src[0] != 0xFF && std::memcmp(pi.src, kUnspecified, sizeof kUnspecified) != 0;
}

bool icmp6_error_possible(const rte_mbuf* m, const PacketInfo& pi) noexcept {
    return may_send_icmp6_error(pi) && m->nb_segs == 1 && pi.ip6_off >= kEthHdrLen &&
           rte_pktmbuf_headroom(m) >= kIcmp6ErrorHdrLen && m->data_len >= std::size_t{pi.ip6_off} + pi.ip6_len;
}

bool make_icmp6_error(rte_mbuf* m, const PacketInfo& pi, std::uint8_t type, std::uint8_t code, std::uint32_t param,
                      const Ipv6Addr& src, const MacAddr& port_mac) noexcept {
    if (!icmp6_error_possible(m, pi))
        return false;
    // The error, IPv6 header included, fits in the minimum MTU.
    const std::size_t quoted = std::min<std::size_t>(pi.ip6_len, kIpv6MinMtu - kIcmp6ErrorHdrLen);
    const std::size_t l2 = pi.ip6_off;

    // Room for the new headers between the L2 header and the packet.
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, kIcmp6ErrorHdrLen));
    std::memmove(p, p + kIcmp6ErrorHdrLen, l2);
    std::uint8_t sender_mac[6];
    std::memcpy(sender_mac, p + 6, 6);
    std::memcpy(p, sender_mac, 6);
    std::memcpy(p + 6, port_mac.data(), 6);

    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(p + l2);
    ip->vtc_flow = rte_cpu_to_be_32(0x60000000);
    ip->payload_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(8 + quoted));
    ip->proto = kProtoIcmpv6;
    ip->hop_limits = 255;
    std::memcpy(ip->src_addr, src.data(), 16);
    std::memcpy(ip->dst_addr, pi.src, 16);
    std::uint8_t* icmp = p + l2 + 40;
    icmp[0] = type;
    icmp[1] = code;
    icmp[2] = icmp[3] = 0;
    wire::store_be32(icmp + 4, param);
    // The quoted packet is where it was; cut what does not fit.
    const auto len = static_cast<std::uint16_t>(l2 + kIcmp6ErrorHdrLen + quoted);
    m->data_len = len;
    m->pkt_len = len;
    m->ol_flags = 0;
    // The ones' complement sum as rte_raw_cksum() adds it: in memory order.
    const auto sum = static_cast<std::uint16_t>(~__rte_ipv6_udptcp_cksum(ip, icmp));
    std::memcpy(icmp + 2, &sum, 2);
    return true;
}

bool make_packet_too_big(rte_mbuf* m, const PacketInfo& pi, std::uint32_t mtu, const Ipv6Addr& src,
                         const MacAddr& port_mac) noexcept {
    return make_icmp6_error(m, pi, kIcmp6PacketTooBig, 0, std::max<std::uint32_t>(mtu, kIpv6MinMtu), src, port_mac);
}

bool make_time_exceeded(rte_mbuf* m, const PacketInfo& pi, const Ipv6Addr& src, const MacAddr& port_mac) noexcept {
    return make_icmp6_error(m, pi, kIcmp6TimeExceeded, 0, 0, src, port_mac);
}

bool make_param_problem(rte_mbuf* m, const PacketInfo& pi, std::uint8_t code, std::uint32_t pointer,
                        const Ipv6Addr& src, const MacAddr& port_mac) noexcept {
    return make_icmp6_error(m, pi, kIcmp6ParamProblem, code, pointer, src, port_mac);
}

}  // namespace cats::dp
