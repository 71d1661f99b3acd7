// SPDX-License-Identifier: BSD-3-Clause
// OpenSSL's SHA256_* calls are deprecated in 3.0 for the EVP interface, but
// EVP_MAC allocates a context per use and EVP_MD_CTX_copy_ex may allocate;
// the per-packet path may not. A SHA256_CTX is a plain struct: copying the
// prepared inner and outer states is the whole per-packet setup.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "srh_hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace cats::dp {

struct SrhHmac::Key {
    std::uint32_t id = 0;
    SHA256_CTX inner{};  // after key ^ ipad
    SHA256_CTX outer{};  // after key ^ opad
};

namespace {

constexpr std::size_t kBlock = 64;
constexpr std::size_t kHmacTlvLen = 38;  // D/reserved 2 + Key ID 4 + HMAC 32

void prepare(std::span<const std::uint8_t> key, SHA256_CTX& inner, SHA256_CTX& outer) noexcept {
    std::uint8_t k[kBlock] = {};
    if (key.size() > kBlock)
        SHA256(key.data(), key.size(), k);  // RFC 2104: a longer key is hashed first
    else
        std::memcpy(k, key.data(), key.size());
    std::uint8_t pad[kBlock];
    for (std::size_t i = 0; i < kBlock; ++i)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&inner);
    SHA256_Update(&inner, pad, kBlock);
    for (std::size_t i = 0; i < kBlock; ++i)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&outer);
    SHA256_Update(&outer, pad, kBlock);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
}

void finish(SHA256_CTX inner, SHA256_CTX outer, const std::uint8_t* src, std::uint8_t last_entry,
            std::uint8_t flags, std::uint32_t key_id, const std::uint8_t* segments, std::uint8_t out[32]) noexcept {
    const std::uint8_t mid[6] = {last_entry, flags, static_cast<std::uint8_t>(key_id >> 24),
                                 static_cast<std::uint8_t>(key_id >> 16), static_cast<std::uint8_t>(key_id >> 8),
                                 static_cast<std::uint8_t>(key_id)};
    SHA256_Update(&inner, src, 16);
    SHA256_Update(&inner, mid, sizeof mid);
    SHA256_Update(&inner, segments, 16 * (std::size_t{last_entry} + 1));
    std::uint8_t ih[SHA256_DIGEST_LENGTH];
    SHA256_Final(ih, &inner);
    SHA256_Update(&outer, ih, sizeof ih);
    SHA256_Final(out, &outer);
}

}  // namespace

SrhHmac::SrhHmac(const SrhHmacConfig& cfg) : require_(cfg.require) {
    keys_.resize(cfg.keys.size());
    for (std::size_t i = 0; i < cfg.keys.size(); ++i) {
        keys_[i].id = cfg.keys[i].key_id;
        prepare(cfg.keys[i].key, keys_[i].inner, keys_[i].outer);
    }
}

SrhHmac::~SrhHmac() {
    for (Key& k : keys_)
        OPENSSL_cleanse(&k, sizeof k);
}

void SrhHmac::compute(std::span<const std::uint8_t> key, const std::uint8_t* src, std::uint8_t last_entry,
                      std::uint8_t flags, std::uint32_t key_id, const std::uint8_t* segments,
                      std::uint8_t out[32]) noexcept {
    SHA256_CTX inner, outer;
    prepare(key, inner, outer);
    finish(inner, outer, src, last_entry, flags, key_id, segments, out);
}

DropReason SrhHmac::verify(std::span<const std::uint8_t> frame, const PacketInfo& pi) const noexcept {
    if (pi.srh_off == 0)
        return require_ ? DropReason::SrhHmacMissing : DropReason::None;
    // parse_packet() checked the SRH's layout and that its TLVs stay inside it.
    const std::uint8_t* srh = frame.data() + pi.srh_off;
    const std::size_t srh_len = (std::size_t{srh[1]} + 1) * 8;
    const std::uint8_t* hmac = nullptr;
    for (std::size_t off = detail::srh_tlv_offset(srh); off < srh_len;) {
        const std::uint8_t type = srh[off];
        if (type == wire::kSrhTlvPad1) {
            ++off;
            continue;
        }
        if (off + 2 > srh_len)
            break;
        const std::size_t len = srh[off + 1];
        if (type == wire::kSrhTlvHmac) {
            if (len != kHmacTlvLen || off + 2 + len > srh_len)
                return DropReason::SrhHmacBad;
            hmac = srh + off + 2;
            break;
        }
        off += 2 + len;
    }
    if (hmac == nullptr)
        return require_ ? DropReason::SrhHmacMissing : DropReason::None;

    const std::uint32_t key_id = std::uint32_t{hmac[2]} << 24 | std::uint32_t{hmac[3]} << 16 |
                                 std::uint32_t{hmac[4]} << 8 | hmac[5];
    const Key* key = nullptr;
    for (const Key& k : keys_)
        if (k.id == key_id)
            key = &k;
    if (key == nullptr)
        return DropReason::SrhHmacUnknownKey;
    // D flag clear: the destination must be the active segment (a reduced
    // segment list sets it).
    const bool d_flag = (hmac[0] & 0x80) != 0;
    const std::uint8_t last_entry = srh[4];
    const std::uint8_t* segments = srh + 8;
    if (!d_flag && (pi.segments_left > last_entry ||
                    std::memcmp(pi.dst, segments + 16 * std::size_t{pi.segments_left}, 16) != 0))
        return DropReason::SrhHmacBad;
    std::uint8_t want[SHA256_DIGEST_LENGTH];
    finish(key->inner, key->outer, pi.src, last_entry, srh[5], key_id, segments, want);
    return CRYPTO_memcmp(want, hmac + 6, sizeof want) == 0 ? DropReason::None : DropReason::SrhHmacBad;
}

}  // namespace cats::dp
