// SPDX-License-Identifier: BSD-3-Clause
// RFC 4861's validity checks on the frames the exception path hands to the
// kernel (ndp_check.hpp).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ndp_check.hpp"

using cats::dp::check_ndp;
using cats::dp::NdpCheck;

namespace {

// Ethernet + IPv6 (next header ICMPv6, hop limit `hlim`) + `icmp`.
std::vector<std::uint8_t> frame(std::vector<std::uint8_t> icmp, std::uint8_t hlim = 255, int plen = -1) {
    std::vector<std::uint8_t> f(14 + 40, 0);
    f[12] = 0x86;
    f[13] = 0xDD;
    f[14] = 0x60;
    const std::size_t len = plen >= 0 ? static_cast<std::size_t>(plen) : icmp.size();
    f[14 + 4] = static_cast<std::uint8_t>(len >> 8);
    f[14 + 5] = static_cast<std::uint8_t>(len);
    f[14 + 6] = 58;
    f[14 + 7] = hlim;
    f.insert(f.end(), icmp.begin(), icmp.end());
    return f;
}

// A Neighbor Solicitation: type 135, code 0, checksum, reserved, target,
// then `opts`.
std::vector<std::uint8_t> ns(std::vector<std::uint8_t> opts = {}) {
    std::vector<std::uint8_t> m(24, 0);
    m[0] = 135;
    m[8] = 0x20;  // target 2001:db8::fe
    m[9] = 0x01;
    m[10] = 0x0d;
    m[11] = 0xb8;
    m[23] = 0xfe;
    m.insert(m.end(), opts.begin(), opts.end());
    return m;
}

const std::vector<std::uint8_t> kSrcLl = {1, 1, 0x02, 0, 0, 0, 0, 1};  // Source Link-Layer Address

NdpCheck run(const std::vector<std::uint8_t>& f) {
    return check_ndp(f.data(), f.size());
}

}  // namespace

TEST_CASE("ndp check: valid messages pass", "[ndp]") {
    CHECK(run(frame(ns())) == NdpCheck::Ok);
    CHECK(run(frame(ns(kSrcLl))) == NdpCheck::Ok);
    std::vector<std::uint8_t> na = ns(kSrcLl);
    na[0] = 136;
    na[8 + 16 + 0] = 2;  // Target Link-Layer Address
    CHECK(run(frame(na)) == NdpCheck::Ok);
    CHECK(run(frame({133, 0, 0, 0, 0, 0, 0, 0})) == NdpCheck::Ok);  // RS, no option
}

TEST_CASE("ndp check: what is not Neighbor Discovery is left alone", "[ndp]") {
    CHECK(run(frame({128, 0, 0, 0, 0, 1, 0, 1}, 64)) == NdpCheck::NotNdp);  // echo request, any hop limit
    std::vector<std::uint8_t> udp = frame(ns(), 255);
    udp[14 + 6] = 17;
    CHECK(run(udp) == NdpCheck::NotNdp);
    std::vector<std::uint8_t> arp = frame(ns());
    arp[12] = 0x08;
    arp[13] = 0x06;
    CHECK(run(arp) == NdpCheck::NotNdp);
    const std::vector<std::uint8_t> tiny(20, 0);
    CHECK(run(tiny) == NdpCheck::NotNdp);
}

TEST_CASE("ndp check: each RFC 4861 rule, by reason", "[ndp]") {
    CHECK(run(frame(ns(kSrcLl), 254)) == NdpCheck::HopLimit);
    CHECK(run(frame(ns(kSrcLl), 1)) == NdpCheck::HopLimit);
    std::vector<std::uint8_t> code = ns();
    code[1] = 1;
    CHECK(run(frame(code)) == NdpCheck::Code);
    // Shorter than an NS's fixed part, in the payload length or the frame.
    std::vector<std::uint8_t> cut = ns();
    cut.resize(12);
    CHECK(run(frame(cut)) == NdpCheck::Truncated);
    CHECK(run(frame(ns(), 255, 24 + 8)) == NdpCheck::Truncated);  // says more than is there
    // Options: length 0, longer than the message, a lone byte.
    std::vector<std::uint8_t> zero = kSrcLl;
    zero[1] = 0;
    CHECK(run(frame(ns(zero))) == NdpCheck::BadOption);
    std::vector<std::uint8_t> longer = kSrcLl;
    longer[1] = 2;
    CHECK(run(frame(ns(longer))) == NdpCheck::BadOption);
    CHECK(run(frame(ns({1}))) == NdpCheck::BadOption);
    // The checks run in order: a truncated message is not also judged on
    // its hop limit.
    CHECK(run(frame(cut, 64)) == NdpCheck::Truncated);
}

TEST_CASE("ndp check: never reads past the frame", "[ndp]") {
    // Every prefix of a valid NS with an option: each either passes as
    // truncated or not NDP, never crashes (run under ASan).
    const std::vector<std::uint8_t> f = frame(ns(kSrcLl));
    for (std::size_t n = 0; n <= f.size(); ++n) {
        const std::vector<std::uint8_t> p(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
        const NdpCheck c = check_ndp(p.data(), p.size());
        CHECK((n == f.size() ? c == NdpCheck::Ok : (c == NdpCheck::Truncated || c == NdpCheck::NotNdp)));
    }
}
