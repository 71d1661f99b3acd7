// SPDX-License-Identifier: BSD-3-Clause
#include "workload.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "cats_wire.hpp"
#include "parse.hpp"
#include "srh_hmac.hpp"

namespace cats::bench {

namespace {

// The SRH HMAC key of the srh_tlv_hmac workload.
constexpr std::uint32_t kHmacKeyId = 7;
constexpr std::array<std::uint8_t, 32> kHmacKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

using dp::Ipv6Addr;

constexpr dp::MacAddr kClientMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x0c};
constexpr dp::MacAddr kNeighborMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

Ipv6Addr addr(std::initializer_list<std::uint8_t> head, std::uint32_t low32 = 0) {
    Ipv6Addr a{};
    std::size_t i = 0;
    for (std::uint8_t b : head)
        a[i++] = b;
    wire::store_be32(a.data() + 12, low32);
    return a;
}

// 2001:db8:ff::1, the gateway (encap source, active segment of the SRH).
Ipv6Addr gateway_addr() { return addr({0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff}, 1); }
// 2001:db8:ff::2, the one neighbor every route goes to.
Ipv6Addr neighbor_addr() { return addr({0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff}, 2); }
// 2001:db8:5e::1, the application's server (last segment).
Ipv6Addr server_addr() { return addr({0x20, 0x01, 0x0d, 0xb8, 0x00, 0x5e}, 1); }
// 2001:db8:cafe::/96, the service SID prefix.
Ipv6Addr sid_prefix() { return addr({0x20, 0x01, 0x0d, 0xb8, 0xca, 0xfe}); }
// 2001:db8:ff::d6, the gateway's End.DX6 SID (tunnel workloads).
Ipv6Addr dx6_sid() { return addr({0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff}, 0xd6); }
// 2001:db8:e::N, the ingress gateways that encapsulated them.
Ipv6Addr ingress_addr(std::uint32_t n) { return addr({0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0e}, n + 1); }

std::size_t tunnel_sids(Encoding e) { return e == Encoding::Srv6Sid3 ? 3 : 1; }

void put(std::vector<std::uint8_t>& out, const void* p, std::size_t n) {
    // resize + memcpy: GCC 12 at -O3 warns falsely on insert() here.
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n != 0)
        std::memcpy(out.data() + at, p, n);
}

// Pad a TLV/option area to a multiple of 8 (counting `before` bytes ahead of
// it) with Pad1 or PadN of the given type.
void pad8(std::vector<std::uint8_t>& area, std::size_t before, std::uint8_t pad1, std::uint8_t padn) {
    const std::size_t need = (8 - (before + area.size()) % 8) % 8;
    if (need == 1) {
        area.push_back(pad1);
    } else if (need >= 2) {
        area.push_back(padn);
        area.push_back(static_cast<std::uint8_t>(need - 2));
        area.insert(area.end(), need - 2, 0);
    }
}

}  // namespace

dp::Ipv6Addr instance_sid(std::uint32_t s, std::uint32_t i, std::uint32_t j) {
    dp::Ipv6Addr a = addr({0xfc, 0x00});
    wire::store_be16(a.data() + 4, static_cast<std::uint16_t>(s));
    wire::store_be16(a.data() + 6, static_cast<std::uint16_t>(i));
    wire::store_be16(a.data() + 8, static_cast<std::uint16_t>(j));
    a[15] = 1;
    return a;
}

const char* encoding_name(Encoding e) noexcept {
    switch (e) {
    case Encoding::SrhTlv: return "srh_tlv";
    case Encoding::DestOpt: return "dest_opt";
    case Encoding::ServiceSid: return "service_sid";
    case Encoding::SrhTlvHmac: return "srh_tlv_hmac";
    case Encoding::Srv6Sid1: return "srv6_1sid";
    case Encoding::Srv6Sid3: return "srv6_3sid";
    }
    return "?";
}

std::size_t tunnel_inner_offset(Encoding e) noexcept { return 14 + 40 + 8 + 16 * tunnel_sids(e); }

namespace {

// Flow f's packet as an ingress gateway encapsulated it towards this one's
// End.DX6 SID: outer IPv6 + SRH (Segments Left 0, the SID last) + the
// inner IPv6/UDP packet the client sent (no request: it was steered).
std::vector<std::uint8_t> build_tunnel_packet(const WorkloadSpec& w, std::uint32_t flow) {
    const std::size_t n_sids = tunnel_sids(w.encoding);
    const std::size_t l4_len = 8 + w.payload;
    std::vector<std::uint8_t> inner(40 + l4_len);
    inner[0] = 0x60;
    wire::store_be16(inner.data() + 4, static_cast<std::uint16_t>(l4_len));
    inner[6] = dp::kProtoUdp;
    inner[7] = 64;
    const Ipv6Addr src = addr({0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00}, flow);
    std::memcpy(inner.data() + 8, src.data(), 16);
    std::memcpy(inner.data() + 24, server_addr().data(), 16);
    std::uint8_t* udp = inner.data() + 40;
    wire::store_be16(udp, static_cast<std::uint16_t>(1024 + flow % 60000));
    wire::store_be16(udp + 2, 443);
    wire::store_be16(udp + 4, static_cast<std::uint16_t>(l4_len));
    for (std::uint16_t i = 0; i < w.payload; ++i)
        udp[8 + i] = static_cast<std::uint8_t>(flow + i);

    const std::size_t srh_len = 8 + 16 * n_sids;
    std::vector<std::uint8_t> p;
    put(p, kNeighborMac.data(), 6);
    put(p, kClientMac.data(), 6);
    p.push_back(0x86);
    p.push_back(0xDD);
    std::uint8_t ip[40] = {0x60, 0, 0, 0};
    wire::store_be16(ip + 4, static_cast<std::uint16_t>(srh_len + inner.size()));
    ip[6] = dp::kProtoRouting;
    ip[7] = 63;
    std::memcpy(ip + 8, ingress_addr(flow % kTunnelSources).data(), 16);
    std::memcpy(ip + 24, dx6_sid().data(), 16);
    put(p, ip, 40);
    const auto last = static_cast<std::uint8_t>(n_sids - 1);
    const std::uint8_t srh[8] = {dp::kProtoIpv6, static_cast<std::uint8_t>(srh_len / 8 - 1), 4, 0, last, 0, 0, 0};
    put(p, srh, 8);
    // Segment List[0] is the last segment (this SID); the others were
    // traversed on the way.
    put(p, dx6_sid().data(), 16);
    for (std::size_t k = 1; k < n_sids; ++k)
        put(p, instance_sid(0, 0, static_cast<std::uint32_t>(k)).data(), 16);
    put(p, inner.data(), inner.size());
    return p;
}

}  // namespace

std::vector<std::uint8_t> build_packet(const WorkloadSpec& w, std::uint32_t flow) {
    if (is_tunnel(w.encoding))
        return build_tunnel_packet(w, flow);
    const std::uint32_t cs_id = kFirstCsId + flow % w.services;
    wire::CatsMetadata md;
    md.cs_id = cs_id;
    md.req.max_latency_us = 10000;

    // Extension headers first: their length goes into the IPv6 header.
    std::vector<std::uint8_t> ext;
    std::uint8_t first_nh = dp::kProtoUdp;
    Ipv6Addr dst = gateway_addr();
    switch (w.encoding) {
    case Encoding::SrhTlv:
    case Encoding::SrhTlvHmac: {
        // SRH: segments [server, gateway], SL 1, then the CATS TLV (and the
        // HMAC TLV last, 40 bytes, where Linux looks for it).
        std::vector<std::uint8_t> tlvs = wire::encode_srh_tlv(md);
        pad8(tlvs, 8 + 32, wire::kSrhTlvPad1, wire::kSrhTlvPadN);
        const bool hmac = w.encoding == Encoding::SrhTlvHmac;
        if (hmac)
            tlvs.resize(tlvs.size() + 40, 0);  // room for the HMAC TLV, filled below
        const std::size_t len = 8 + 32 + tlvs.size();
        const std::uint8_t hdr[8] = {dp::kProtoUdp, static_cast<std::uint8_t>(len / 8 - 1), 4, 1, 1, 0, 0, 0};
        const std::size_t srh_at = ext.size();
        put(ext, hdr, 8);
        put(ext, server_addr().data(), 16);
        put(ext, gateway_addr().data(), 16);
        put(ext, tlvs.data(), tlvs.size());
        if (hmac) {
            std::uint8_t* t = ext.data() + srh_at + len - 40;
            t[0] = wire::kSrhTlvHmac;
            t[1] = 38;
            t[2] = t[3] = 0;  // D flag clear: the destination is the active segment
            wire::store_be32(t + 4, kHmacKeyId);
            const Ipv6Addr src = addr({0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00}, flow);
            dp::SrhHmac::compute(kHmacKey, src.data(), hdr[4], hdr[5], kHmacKeyId, ext.data() + srh_at + 8, t + 8);
        }
        first_nh = dp::kProtoRouting;
        break;
    }
    case Encoding::DestOpt: {
        std::vector<std::uint8_t> opts = wire::encode_option(md);
        pad8(opts, 2, wire::kOptPad1, wire::kOptPadN);
        ext.push_back(dp::kProtoUdp);
        ext.push_back(static_cast<std::uint8_t>((2 + opts.size()) / 8 - 1));
        put(ext, opts.data(), opts.size());
        first_nh = 60;  // Destination Options
        dst = server_addr();
        break;
    }
    case Encoding::ServiceSid:
        dst = sid_prefix();
        wire::store_be32(dst.data() + 12, cs_id);
        break;
    case Encoding::Srv6Sid1:
    case Encoding::Srv6Sid3:
        break;  // build_tunnel_packet()
    }

    const std::size_t l4_len = 8 + w.payload;
    std::vector<std::uint8_t> p;
    p.reserve(14 + 40 + ext.size() + l4_len);
    put(p, kNeighborMac.data(), 6);  // to the gateway port: any MAC; the PMD does not filter
    put(p, kClientMac.data(), 6);
    p.push_back(0x86);
    p.push_back(0xDD);
    std::uint8_t ip[40] = {0x60, 0, 0, 0};
    wire::store_be16(ip + 4, static_cast<std::uint16_t>(ext.size() + l4_len));
    ip[6] = first_nh;
    ip[7] = 64;
    const Ipv6Addr src = addr({0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00}, flow);
    std::memcpy(ip + 8, src.data(), 16);
    std::memcpy(ip + 24, dst.data(), 16);
    put(p, ip, 40);
    put(p, ext.data(), ext.size());
    std::uint8_t udp[8];
    wire::store_be16(udp, static_cast<std::uint16_t>(1024 + flow % 60000));
    wire::store_be16(udp + 2, 443);
    wire::store_be16(udp + 4, static_cast<std::uint16_t>(l4_len));
    wire::store_be16(udp + 6, 0);  // checksum not computed: nothing on the path checks it
    put(p, udp, 8);
    for (std::uint16_t i = 0; i < w.payload; ++i)
        p.push_back(static_cast<std::uint8_t>(flow + i));
    return p;
}

dp::Config gateway_config(const WorkloadSpec& w, unsigned sids, const std::string& port,
                          std::uint32_t table_size) {
    dp::Config c;
    c.gateway.encap_source = gateway_addr();
    c.gateway.service_sid_prefix = dp::Ipv6Prefix{sid_prefix(), 96};
    c.gateway.encap_mode = dp::EncapMode::Encaps;
    c.gateway.flow_table_size = table_size;
    c.gateway.max_services = w.services + 16;
    c.gateway.max_instances = w.services * w.instances + 16;
    c.gateway.burst = 32;
    if (w.encoding == Encoding::SrhTlvHmac) {
        c.gateway.srh_hmac.require = true;
        c.gateway.srh_hmac.keys.push_back({kHmacKeyId, std::vector<std::uint8_t>(kHmacKey.begin(), kHmacKey.end())});
    }
    dp::PortConfig pc;
    pc.name = port;
    c.ports.push_back(pc);
    c.neighbors.push_back({neighbor_addr(), kNeighborMac, port});
    c.routes.push_back({dp::Ipv6Prefix{addr({0xfc, 0x00}), 16}, neighbor_addr()});
    c.routes.push_back({dp::Ipv6Prefix{addr({0x20, 0x01, 0x0d, 0xb8}), 32}, neighbor_addr()});
    for (std::uint32_t s = 0; s < w.services; ++s) {
        dp::ServiceConfig sc;
        sc.cs_id = kFirstCsId + s;
        sc.name = "svc-" + std::to_string(sc.cs_id);
        sc.affinity_timeout_s = 3600;
        for (std::uint32_t i = 0; i < w.instances; ++i) {
            dp::InstanceConfig ic;
            ic.id = i + 1;
            for (unsigned j = 0; j < sids; ++j)
                ic.sids.push_back(instance_sid(s, i, j));
            ic.metrics.latency_us = 100 * (i + 1);
            ic.metrics.load_pct = static_cast<std::uint8_t>(10 * (i % 4));
            ic.metrics.free_capacity = 1000;
            sc.instances.push_back(std::move(ic));
        }
        c.services.push_back(std::move(sc));
    }
    if (is_tunnel(w.encoding))
        c.local_sids.push_back({{dx6_sid(), 128}, dp::SidBehavior::EndDX6, neighbor_addr()});
    return c;
}

void write_pcap(const std::string& path, const WorkloadSpec& w, unsigned q, unsigned queues) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
    if (!f)
        throw std::runtime_error("cannot write " + path);
    // pcap file header: magic, v2.4, zone, sigfigs, snaplen, LINKTYPE_ETHERNET.
    const std::uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    std::fwrite(hdr, sizeof hdr, 1, f.get());
    for (std::uint32_t flow = q; flow < w.flows; flow += queues) {
        const std::vector<std::uint8_t> p = build_packet(w, flow);
        const auto len = static_cast<std::uint32_t>(p.size());
        const std::uint32_t rec[4] = {flow, 0, len, len};
        std::fwrite(rec, sizeof rec, 1, f.get());
        std::fwrite(p.data(), 1, p.size(), f.get());
    }
    if (std::fflush(f.get()) != 0)
        throw std::runtime_error("cannot write " + path);
}

}  // namespace cats::bench
