// SPDX-License-Identifier: BSD-3-Clause
#include "rx.hpp"

#include <algorithm>
#include <cstring>

namespace cats::trafgen {

namespace {

using wire::load_be16;

// Walk from an IPv6 header at `off`. Returns the trafgen header's offset,
// or 0 when the walk fails.
std::size_t walk_ipv6(std::span<const std::uint8_t> f, std::size_t off, int depth, RxDecoded& out) noexcept {
    if (f.size() < off + kIpv6HdrLen || (f[off] >> 4) != 6)
        return 0;
    const std::size_t ip_off = off;
    std::uint8_t nh = f[off + 6];
    off += kIpv6HdrLen;
    bool srh = false;
    Ipv6Addr last_sid{};
    for (int n = 0; n < 16; ++n) {
        switch (nh) {
        case kProtoHopByHop:
        case kProtoDstOpts:
        case kProtoRouting: {
            if (f.size() < off + 8)
                return 0;
            const std::size_t len = (f[off + 1] + 1u) * 8;
            if (f.size() < off + len)
                return 0;
            if (nh == kProtoRouting && f[off + 2] == 4 && len >= 24) {
                srh = true;
                std::memcpy(last_sid.data(), f.data() + off + 8, 16);
            }
            nh = f[off];
            off += len;
            continue;
        }
        case kProtoFragment:
            if (f.size() < off + 8 || (load_be16(f.data() + off + 2) & 0xFFF8) != 0)
                return 0;  // a non-initial fragment has no transport header
            nh = f[off];
            off += 8;
            continue;
        case kProtoAh: {
            if (f.size() < off + 8)
                return 0;
            const std::size_t len = (f[off + 1] + 2u) * 4;
            nh = f[off];
            off += len;
            continue;
        }
        case kProtoIpv6:
            if (depth > 0)
                return 0;
            out.encapsulated = true;
            std::memcpy(out.outer_dst.data(), f.data() + ip_off + 24, 16);
            out.has_srh = srh;
            out.srh_last_sid = last_sid;
            return walk_ipv6(f, off, depth + 1, out);
        case kProtoUdp:
            return f.size() >= off + kUdpHdrLen ? off + kUdpHdrLen : 0;
        case kProtoEsp:
            return f.size() >= off + kEspHdrLen ? off + kEspHdrLen : 0;
        case kProtoTcp:
            if (f.size() < off + kTcpHdrLen)
                return 0;
            return off + (f[off + 12] >> 4) * 4u;
        default:
            return 0;
        }
    }
    return 0;
}

}  // namespace

bool decode_rx(std::span<const std::uint8_t> frame, RxDecoded& out) noexcept {
    out = RxDecoded{};
    std::size_t off = 12;
    std::uint16_t type = frame.size() >= 14 ? load_be16(frame.data() + 12) : 0;
    for (int tags = 0; tags < 2 && (type == kEtherTypeVlan || type == kEtherTypeQinQ); ++tags) {
        off += 4;
        type = frame.size() >= off + 2 ? load_be16(frame.data() + off) : 0;
    }
    off += 2;
    if (type == kEtherTypeIpv6) {
        const std::size_t tg = walk_ipv6(frame, off, 0, out);
        if (tg != 0) {
            if (const auto h = read_tg_header(frame.subspan(std::min(tg, frame.size())))) {
                out.tg = *h;
                return true;
            }
        }
    }
    // Fallback: search for the magic and version.
    static constexpr std::uint8_t kPattern[5] = {0x43, 0x54, 0x47, 0x31, kTgVersion};
    const auto it = std::search(frame.begin(), frame.end(), std::begin(kPattern), std::end(kPattern));
    if (it == frame.end())
        return false;
    const auto h = read_tg_header(frame.subspan(static_cast<std::size_t>(it - frame.begin())));
    if (!h)
        return false;
    out.tg = *h;
    out.by_scan = true;
    return true;
}

}  // namespace cats::trafgen
