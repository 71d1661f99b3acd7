// SPDX-License-Identifier: BSD-3-Clause
// The SRH HMAC TLV (RFC 8754 section 2.1.2), verified on client packets
// that ask for a service: the only way to authenticate a client's request
// for priority or GPU compute. gateway.srh_hmac holds the keys (by HMAC
// Key ID) and whether the TLV is required.
//
// What is verified (RFC 8754 2.1.2.1): HMAC-SHA256 with the key named by
// the TLV's Key ID over the IPv6 Source Address, Last Entry, Flags, the
// Key ID and every Segment List entry, compared in constant time with the
// TLV's 32-byte HMAC field; and, unless the TLV's D flag is set, that the
// Destination Address is Segment List[Segments Left].
//
// Cost: one HMAC over 22 + 16 * (Last Entry + 1) bytes, from SHA-256
// states prepared per key at start (the inner and outer pads already
// absorbed): two SHA-256 finalisations, no allocation. The worker calls it
// only when it chooses an instance (a new flow, or a re-steer): a pinned
// flow gains nothing new from a spoofed packet.
//
// Thread safety: verify() is const and reads only the prepared states;
// every worker shares one SrhHmac.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "config.hpp"
#include "drop_reason.hpp"
#include "parse.hpp"

namespace cats::dp {

class SrhHmac {
public:
    explicit SrhHmac(const SrhHmacConfig& cfg);
    ~SrhHmac();
    SrhHmac(const SrhHmac&) = delete;
    SrhHmac& operator=(const SrhHmac&) = delete;

    // None when the packet may go on: its SRH carries an HMAC TLV that
    // verifies, or it carries none and the TLV is not required. Otherwise
    // SrhHmacMissing, SrhHmacUnknownKey or SrhHmacBad. `frame` and `pi` as
    // parse_packet() accepted them.
    DropReason verify(std::span<const std::uint8_t> frame, const PacketInfo& pi) const noexcept;

    // The HMAC field for these inputs (tests, and the traffic generator's
    // reference): HMAC-SHA256(key, src | last_entry | flags | key_id | segments).
    static void compute(std::span<const std::uint8_t> key, const std::uint8_t* src, std::uint8_t last_entry,
                        std::uint8_t flags, std::uint32_t key_id, const std::uint8_t* segments,
                        std::uint8_t out[32]) noexcept;

private:
    struct Key;
    std::vector<Key> keys_;
    bool require_ = false;
};

}  // namespace cats::dp
