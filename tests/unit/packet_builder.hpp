// SPDX-License-Identifier: BSD-3-Clause
// A small header-only packet builder for tests: no DPDK, no scapy.
//
// Layers are pushed outermost first; build() serializes them and fills in
// every field that depends on what follows, unless the test overrides it:
//   - Ethernet type            (0x86DD when the next layer is IPv6)
//   - IPv6 / extension header Next Header (the next layer's protocol number,
//                              59 "No Next Header" after the last one)
//   - IPv6 Payload Length      (everything after the header up to the end of
//                              the packet, trailer excluded)
//   - Hdr Ext Len, option and SRH TLV padding (Pad1/PadN to a multiple of 8)
//   - UDP Length, UDP/TCP/ICMPv6 checksums (RFC 8200 8.1 pseudo-header; the
//                              final destination is Segment List[0] when an
//                              SRH sits between the IPv6 header and L4)
//
//   using namespace cats::test;
//   Bytes pkt = PacketBuilder{}
//       .eth({.vlans = {{.tci = 100}}})
//       .ipv6({.src = ip6("2001:db8::1"), .dst = ip6("fc00::1")})
//       .srh({.segments = {ip6("fc00::2"), ip6("fc00::1")},
//             .tlvs = {cats_tlv(md)}})
//       .udp({.sport = 1000, .dport = 2000})
//       .payload(Bytes(16, 0xAB))
//       .build();
//
// Malformed packets: every computed field has an override (std::optional),
// options/TLVs are plain bytes (so any garbage can be inserted), `pad = false`
// turns auto padding off, and `mark()` records where a layer starts so a test
// can poke bytes after build().
//
// Thread safety: none needed; a builder is a plain value used by one test.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cats_wire.hpp"

namespace cats::test {

using Bytes = std::vector<std::uint8_t>;
using Ipv6Addr = std::array<std::uint8_t, 16>;
using MacAddr = std::array<std::uint8_t, 6>;

// Parse an IPv6 literal ("2001:db8::1"); throws on a typo in the test.
inline Ipv6Addr ip6(std::string_view text) {
    const std::string s{text};
    Ipv6Addr a{};
    if (inet_pton(AF_INET6, s.c_str(), a.data()) != 1)
        throw std::invalid_argument("bad IPv6 literal: " + s);
    return a;
}

// Concatenate byte strings: cat({a, b, c}).
inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

// --- Options (RFC 8200 4.2) and SRH TLVs (RFC 8754 2.1) --------------------
// Both are Type(8) Length(8) Value; they are given to the builder as encoded
// bytes, so a test can pass a deliberately broken one as-is.

// Type, Length = value.size(), Value. Length is truncated to 8 bits: pass raw
// bytes to lie about it.
inline Bytes tlv(std::uint8_t type, const Bytes& value) {
    Bytes out{type, static_cast<std::uint8_t>(value.size())};
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

// Option padding: Pad1 is one zero byte; PadN of `total` bytes (>= 2, so
// that its Length is total - 2).
inline Bytes opt_pad1() { return {wire::kOptPad1}; }
inline Bytes opt_padn(std::size_t total) {
    if (total < 2)
        throw std::invalid_argument("PadN is at least 2 bytes");
    return tlv(wire::kOptPadN, Bytes(total - 2, 0));
}
// SRH TLV padding (RFC 8754 2.1.1.1/2.1.1.2): Pad1 type 0, PadN type 4.
inline Bytes srh_pad1() { return {wire::kSrhTlvPad1}; }
inline Bytes srh_padn(std::size_t total) {
    if (total < 2)
        throw std::invalid_argument("PadN is at least 2 bytes");
    return tlv(wire::kSrhTlvPadN, Bytes(total - 2, 0));
}

// The CATS option (type 0x1E) and SRH TLV (type 124) for `md`.
inline Bytes cats_option(const wire::CatsMetadata& md) { return wire::encode_option(md); }
inline Bytes cats_tlv(const wire::CatsMetadata& md) { return wire::encode_srh_tlv(md); }

// --- Layer specs ------------------------------------------------------------
// Every field has a sensible default; std::optional fields are computed by
// build() unless set.

struct VlanTag {
    std::uint16_t tpid = 0x8100;  // 0x88A8 for an 802.1ad outer tag
    std::uint16_t tci = 0;        // PCP(3) DEI(1) VID(12)
};

struct EthSpec {
    MacAddr dst{0x02, 0, 0, 0, 0, 0x02};
    MacAddr src{0x02, 0, 0, 0, 0, 0x01};
    std::vector<VlanTag> vlans{};              // outermost first
    std::optional<std::uint16_t> ether_type{};  // default: 0x86DD before IPv6
};

struct Ipv6Spec {
    Ipv6Addr src{};
    Ipv6Addr dst{};
    std::uint8_t hop_limit = 64;
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0;  // low 20 bits used
    std::uint8_t version = 6;
    std::optional<std::uint16_t> payload_length{};
    std::optional<std::uint8_t> next_header{};
};

// Hop-by-Hop or Destination Options header.
struct OptionsSpec {
    std::vector<Bytes> options{};  // encoded options, in order
    bool pad = true;               // pad to a multiple of 8 with Pad1/PadN
    std::optional<std::uint8_t> hdr_ext_len{};
    std::optional<std::uint8_t> next_header{};
};

// Segment Routing Header (RFC 8754 2). Segment List[0] is the last segment.
struct SrhSpec {
    std::vector<Ipv6Addr> segments{};
    std::optional<std::uint8_t> segments_left{};  // default: segments.size() - 1
    std::optional<std::uint8_t> last_entry{};     // default: segments.size() - 1
    std::uint8_t flags = 0;
    std::uint16_t tag = 0;
    std::vector<Bytes> tlvs{};  // encoded TLVs after the segment list
    bool pad = true;            // pad to a multiple of 8 with Pad1/PadN TLVs
    std::uint8_t routing_type = 4;
    std::optional<std::uint8_t> hdr_ext_len{};
    std::optional<std::uint8_t> next_header{};
};

// Any other Routing header: 4 fixed bytes then `data` (zero-padded to a
// multiple of 8 when `pad`).
struct RoutingSpec {
    std::uint8_t routing_type = 0;
    std::uint8_t segments_left = 0;
    Bytes data = Bytes(4, 0);  // type-specific data, from byte 4
    bool pad = true;
    std::optional<std::uint8_t> hdr_ext_len{};
    std::optional<std::uint8_t> next_header{};
};

// Fragment header (RFC 8200 4.5).
struct FragSpec {
    std::uint16_t offset = 0;  // in 8-octet units, 13 bits
    bool more = false;
    std::uint32_t id = 0;
    std::optional<std::uint8_t> next_header{};
};

// Authentication Header (RFC 4302 2). Payload Len = total / 4 - 2.
struct AhSpec {
    std::uint32_t spi = 0;
    std::uint32_t seq = 0;
    Bytes icv = Bytes(12, 0);  // 12 bytes makes a 24-byte header (8n for IPv6)
    std::optional<std::uint8_t> payload_len{};
    std::optional<std::uint8_t> next_header{};
};

struct UdpSpec {
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::optional<std::uint16_t> length{};
    std::optional<std::uint16_t> checksum{};
};

struct TcpSpec {
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t flags = 0x02;  // SYN
    std::uint16_t window = 65535;
    std::optional<std::uint16_t> checksum{};
};

// ESP header (RFC 4303 2): SPI and sequence number; follow it with
// payload() for the (opaque) encrypted part.
struct EspSpec {
    std::uint32_t spi = 0;
    std::uint32_t seq = 0;
};

struct Icmpv6Spec {
    std::uint8_t type = 128;  // Echo Request
    std::uint8_t code = 0;
    std::uint32_t rest = 0;   // identifier/sequence, MTU, ...
    std::optional<std::uint16_t> checksum{};
};

// --- The builder --------------------------------------------------------------

class PacketBuilder {
public:
    PacketBuilder& eth(const EthSpec& s = {}) {
        push(Kind::Eth, kNoProto);
        append(s.dst.data(), s.dst.size());
        append(s.src.data(), s.src.size());
        for (const VlanTag& t : s.vlans) {
            put16(t.tpid);
            put16(t.tci);
        }
        layer().nh_pos = bytes_.size();  // the last (inner) type field
        layer().nh_fixed = s.ether_type.has_value();
        put16(s.ether_type.value_or(0));
        return *this;
    }

    PacketBuilder& ipv6(const Ipv6Spec& s) {
        push(Kind::Ipv6, kProtoIpv6);
        const std::uint32_t w0 = (std::uint32_t{s.version} << 28) |
                                 (std::uint32_t{s.traffic_class} << 20) |
                                 (s.flow_label & 0xFFFFF);
        put32(w0);
        layer().len_override = s.payload_length;
        put16(0);  // payload length, fixed in build()
        put_nh(s.next_header);
        put8(s.hop_limit);
        append(s.src.data(), s.src.size());
        append(s.dst.data(), s.dst.size());
        layer().src = s.src;
        layer().dst = s.dst;
        return *this;
    }

    PacketBuilder& hbh(const OptionsSpec& s = {}) { return options(kProtoHopByHop, s); }
    PacketBuilder& dst_opts(const OptionsSpec& s = {}) { return options(kProtoDstOpts, s); }

    PacketBuilder& srh(const SrhSpec& s) {
        push(Kind::Srh, kProtoRouting);
        const std::size_t start = bytes_.size();
        const std::uint8_t n = static_cast<std::uint8_t>(s.segments.empty() ? 0 : s.segments.size() - 1);
        put_nh(s.next_header);
        const std::size_t len_pos = bytes_.size();
        put8(0);
        put8(s.routing_type);
        put8(s.segments_left.value_or(n));
        put8(s.last_entry.value_or(n));
        put8(s.flags);
        put16(s.tag);
        for (const Ipv6Addr& a : s.segments)
            append(a.data(), a.size());
        for (const Bytes& t : s.tlvs)
            append(t.data(), t.size());
        if (s.pad) {
            const std::size_t p = pad_needed(bytes_.size() - start);
            if (p != 0) {
                const Bytes padding = p == 1 ? srh_pad1() : srh_padn(p);
                append(padding.data(), padding.size());
            }
        }
        bytes_[len_pos] = s.hdr_ext_len.value_or(ext_len8(bytes_.size() - start));
        if (!s.segments.empty())
            layer().final_dst = s.segments[0];
        return *this;
    }

    PacketBuilder& routing(const RoutingSpec& s) {
        push(Kind::Ext, kProtoRouting);
        const std::size_t start = bytes_.size();
        put_nh(s.next_header);
        const std::size_t len_pos = bytes_.size();
        put8(0);
        put8(s.routing_type);
        put8(s.segments_left);
        append(s.data.data(), s.data.size());
        if (s.pad)
            bytes_.resize(bytes_.size() + pad_needed(bytes_.size() - start), 0);
        bytes_[len_pos] = s.hdr_ext_len.value_or(ext_len8(bytes_.size() - start));
        return *this;
    }

    PacketBuilder& frag(const FragSpec& s = {}) {
        push(Kind::Ext, kProtoFragment);
        put_nh(s.next_header);
        put8(0);  // reserved
        put16(static_cast<std::uint16_t>((s.offset << 3) | (s.more ? 1 : 0)));
        put32(s.id);
        return *this;
    }

    PacketBuilder& ah(const AhSpec& s = {}) {
        push(Kind::Ext, kProtoAh);
        const std::size_t total = 12 + s.icv.size();
        put_nh(s.next_header);
        put8(s.payload_len.value_or(static_cast<std::uint8_t>(total / 4 - 2)));
        put16(0);  // reserved
        put32(s.spi);
        put32(s.seq);
        append(s.icv.data(), s.icv.size());
        return *this;
    }

    PacketBuilder& udp(const UdpSpec& s) {
        push(Kind::Udp, kProtoUdp);
        put16(s.sport);
        put16(s.dport);
        layer().len_override = s.length;
        put16(0);  // length, fixed in build()
        layer().csum_override = s.checksum;
        put16(0);
        return *this;
    }

    PacketBuilder& tcp(const TcpSpec& s) {
        push(Kind::Tcp, kProtoTcp);
        put16(s.sport);
        put16(s.dport);
        put32(s.seq);
        put32(s.ack);
        put8(5 << 4);  // data offset: 20 bytes, no options
        put8(s.flags);
        put16(s.window);
        layer().csum_override = s.checksum;
        put16(0);
        put16(0);  // urgent pointer
        return *this;
    }

    PacketBuilder& esp(const EspSpec& s) {
        push(Kind::Other, kProtoEsp);
        put32(s.spi);
        put32(s.seq);
        return *this;
    }

    PacketBuilder& icmpv6(const Icmpv6Spec& s = {}) {
        push(Kind::Icmpv6, kProtoIcmpv6);
        put8(s.type);
        put8(s.code);
        layer().csum_override = s.checksum;
        put16(0);
        put32(s.rest);
        return *this;
    }

    // Opaque bytes that end the chain (the previous Next Header stays 59
    // unless the test set it).
    PacketBuilder& payload(const Bytes& b) {
        push(Kind::Other, kNoProto);
        append(b.data(), b.size());
        return *this;
    }

    // Opaque bytes announced as protocol `proto` by the previous layer.
    PacketBuilder& raw(std::uint8_t proto, const Bytes& b) {
        push(Kind::Other, proto);
        append(b.data(), b.size());
        return *this;
    }

    // Bytes after the IP packet (Ethernet padding, FCS); never counted in any
    // length field.
    PacketBuilder& trailer(const Bytes& b) {
        trailer_.insert(trailer_.end(), b.begin(), b.end());
        return *this;
    }

    // Record where the next layer will start (its offset in the built packet).
    PacketBuilder& mark(std::size_t& at) {
        at = bytes_.size();
        return *this;
    }

    // Current length (without trailer): the offset of the next layer.
    std::size_t size() const { return bytes_.size(); }

    Bytes build() const {
        Bytes out = bytes_;
        const std::size_t end = out.size();
        // Next Header / EtherType chain.
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            const Layer& l = layers_[i];
            if (l.nh_pos == kNone || l.nh_fixed)
                continue;
            const int next = i + 1 < layers_.size() ? layers_[i + 1].proto : kNoProto;
            if (l.kind == Kind::Eth) {
                if (next == kProtoIpv6)
                    put16_at(out, l.nh_pos, 0x86DD);
            } else {
                out[l.nh_pos] = static_cast<std::uint8_t>(next == kNoProto ? kProtoNoNext : next);
            }
        }
        // Lengths.
        for (const Layer& l : layers_) {
            if (l.kind == Kind::Ipv6)
                put16_at(out, l.start + 4,
                         l.len_override.value_or(static_cast<std::uint16_t>(end - l.start - 40)));
            else if (l.kind == Kind::Udp)
                put16_at(out, l.start + 4,
                         l.len_override.value_or(static_cast<std::uint16_t>(end - l.start)));
        }
        // Checksums, with the innermost enclosing IPv6 header's addresses.
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            const Layer& l = layers_[i];
            std::size_t csum_at;
            if (l.kind == Kind::Udp)
                csum_at = 6;
            else if (l.kind == Kind::Tcp)
                csum_at = 16;
            else if (l.kind == Kind::Icmpv6)
                csum_at = 2;
            else
                continue;
            std::uint16_t c;
            if (l.csum_override) {
                c = *l.csum_override;
            } else {
                const Ipv6Addr* src = nullptr;
                const Ipv6Addr* dst = nullptr;
                for (std::size_t j = i; j-- > 0;) {
                    const Layer& o = layers_[j];
                    if (o.kind == Kind::Srh && o.final_dst && !dst)
                        dst = &*o.final_dst;
                    if (o.kind == Kind::Ipv6) {
                        src = &o.src;
                        if (!dst)
                            dst = &o.dst;
                        break;
                    }
                }
                c = src ? checksum(out, l.start, end, *src, *dst, static_cast<std::uint8_t>(l.proto))
                        : 0;
                if (c == 0 && l.kind == Kind::Udp)
                    c = 0xFFFF;  // RFC 8200 8.1: a zero UDP checksum is sent as all ones
            }
            put16_at(out, l.start + csum_at, c);
        }
        out.insert(out.end(), trailer_.begin(), trailer_.end());
        return out;
    }

    // The Internet checksum of pkt[from, to) (an upper-layer header and its
    // data) over the RFC 8200 8.1 pseudo-header. The bytes are summed as they
    // are: with the checksum field zeroed this is the value to store; over a
    // packet whose checksum is right it is 0. For golden-packet tests.
    static std::uint16_t checksum(const Bytes& pkt, std::size_t from, std::size_t to,
                                  const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t proto) {
        std::uint32_t sum = 0;
        auto add = [&sum](const std::uint8_t* p, std::size_t n) {
            for (std::size_t k = 0; k + 1 < n; k += 2)
                sum += static_cast<std::uint32_t>((p[k] << 8) | p[k + 1]);
            if (n % 2)
                sum += static_cast<std::uint32_t>(p[n - 1] << 8);
        };
        add(src.data(), 16);
        add(dst.data(), 16);
        const std::uint32_t len = static_cast<std::uint32_t>(to - from);
        sum += len >> 16;
        sum += len & 0xFFFF;
        sum += proto;
        add(pkt.data() + from, to - from);
        while (sum >> 16)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return static_cast<std::uint16_t>(~sum);
    }

private:
    static constexpr int kNoProto = -1;
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    static constexpr std::uint8_t kProtoHopByHop = 0;
    static constexpr std::uint8_t kProtoTcp = 6;
    static constexpr std::uint8_t kProtoUdp = 17;
    static constexpr std::uint8_t kProtoIpv6 = 41;
    static constexpr std::uint8_t kProtoRouting = 43;
    static constexpr std::uint8_t kProtoFragment = 44;
    static constexpr std::uint8_t kProtoEsp = 50;
    static constexpr std::uint8_t kProtoAh = 51;
    static constexpr std::uint8_t kProtoIcmpv6 = 58;
    static constexpr std::uint8_t kProtoNoNext = 59;
    static constexpr std::uint8_t kProtoDstOpts = 60;

    enum class Kind { Eth, Ipv6, Ext, Srh, Udp, Tcp, Icmpv6, Other };

    struct Layer {
        Kind kind;
        int proto;                 // what the previous layer announces, or kNoProto
        std::size_t start;
        std::size_t nh_pos = kNone;  // Next Header / EtherType byte(s)
        bool nh_fixed = false;       // set by the test: build() leaves it alone
        std::optional<std::uint16_t> len_override{};
        std::optional<std::uint16_t> csum_override{};
        Ipv6Addr src{};
        Ipv6Addr dst{};
        std::optional<Ipv6Addr> final_dst{};
    };

    PacketBuilder& options(std::uint8_t proto, const OptionsSpec& s) {
        push(Kind::Ext, proto);
        const std::size_t start = bytes_.size();
        put_nh(s.next_header);
        const std::size_t len_pos = bytes_.size();
        put8(0);
        for (const Bytes& o : s.options)
            append(o.data(), o.size());
        if (s.pad) {
            const std::size_t p = pad_needed(bytes_.size() - start);
            if (p != 0) {
                const Bytes padding = p == 1 ? opt_pad1() : opt_padn(p);
                append(padding.data(), padding.size());
            }
        }
        bytes_[len_pos] = s.hdr_ext_len.value_or(ext_len8(bytes_.size() - start));
        return *this;
    }

    Layer& push(Kind kind, int proto) {
        layers_.push_back(Layer{.kind = kind, .proto = proto, .start = bytes_.size()});
        return layers_.back();
    }
    Layer& layer() { return layers_.back(); }

    // The current layer's Next Header byte: the test's value, or a
    // placeholder that build() fills from the following layer.
    void put_nh(const std::optional<std::uint8_t>& v) {
        layer().nh_pos = bytes_.size();
        layer().nh_fixed = v.has_value();
        put8(v.value_or(0));
    }

    void put8(std::uint8_t v) { bytes_.push_back(v); }
    void put16(std::uint16_t v) {
        bytes_.push_back(static_cast<std::uint8_t>(v >> 8));
        bytes_.push_back(static_cast<std::uint8_t>(v));
    }
    void put32(std::uint32_t v) {
        put16(static_cast<std::uint16_t>(v >> 16));
        put16(static_cast<std::uint16_t>(v));
    }
    void append(const std::uint8_t* p, std::size_t n) { bytes_.insert(bytes_.end(), p, p + n); }

    static void put16_at(Bytes& b, std::size_t at, std::uint16_t v) {
        b[at] = static_cast<std::uint8_t>(v >> 8);
        b[at + 1] = static_cast<std::uint8_t>(v);
    }
    // Bytes to add so that `len` becomes a multiple of 8.
    static std::size_t pad_needed(std::size_t len) { return (8 - len % 8) % 8; }
    // Hdr Ext Len in 8-octet units, not counting the first 8 octets.
    static std::uint8_t ext_len8(std::size_t len) {
        return static_cast<std::uint8_t>(len / 8 == 0 ? 0 : len / 8 - 1);
    }

    Bytes bytes_;
    Bytes trailer_;
    std::vector<Layer> layers_;
};

}  // namespace cats::test
