// SPDX-License-Identifier: BSD-3-Clause
#include "srv6.hpp"

#include <cstring>

#include "cats_wire.hpp"
#include "parse.hpp"

namespace cats::dp {

void build_encap_template(EncapTemplate& t, const MacAddr& src_mac, const MacAddr& dst_mac,
                          const Ipv6Addr& encap_source, std::span<const Ipv6Addr> sids,
                          EncapMode mode, std::uint8_t hop_limit) noexcept {
    t = EncapTemplate{};
    std::uint8_t* p = t.bytes.data();
    std::memcpy(p, dst_mac.data(), 6);
    std::memcpy(p + 6, src_mac.data(), 6);
    wire::store_be16(p + 12, kEtherTypeIpv6);

    const std::size_t n = sids.size();
    const bool reduced = mode == EncapMode::EncapsRed;
    // SIDs carried in the SRH: all, or all but the first when reduced.
    const std::size_t in_srh = reduced ? n - 1 : n;
    const std::size_t srh_len = in_srh == 0 ? 0 : kSrhFixedLen + 16 * in_srh;

    std::uint8_t* ip = p + 14;
    ip[0] = 0x60;
    ip[6] = srh_len != 0 ? kProtoRouting : kProtoIpv6;
    ip[7] = hop_limit;
    std::memcpy(ip + 8, encap_source.data(), 16);
    std::memcpy(ip + 24, sids[0].data(), 16);

    if (srh_len != 0) {
        std::uint8_t* srh = ip + kIpv6HdrLen;
        srh[0] = kProtoIpv6;
        srh[1] = static_cast<std::uint8_t>((srh_len >> 3) - 1);
        srh[2] = kRoutingTypeSrh;
        srh[3] = static_cast<std::uint8_t>(n - 1);       // Segments Left
        srh[4] = static_cast<std::uint8_t>(in_srh - 1);  // Last Entry
        // Segment List[i] holds the (n-1-i)th SID: the list is reversed.
        for (std::size_t i = 0; i < in_srh; ++i)
            std::memcpy(srh + kSrhFixedLen + 16 * i, sids[n - 1 - i].data(), 16);
    }
    t.ip_len = static_cast<std::uint16_t>(kIpv6HdrLen + srh_len);
    t.len = static_cast<std::uint16_t>(14 + t.ip_len);
}

}  // namespace cats::dp
