// SPDX-License-Identifier: BSD-3-Clause
// Every reason the engine drops a packet, with its name in stats output.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cats::dp {

// Append new reasons before Count; names below must stay in the same order.
enum class DropReason : std::uint8_t {
    None = 0,
    EthTruncated,         // frame shorter than its Ethernet/802.1Q header
    VlanTooDeep,          // more than two 802.1Q/802.1ad tags
    Ipv4,                 // IPv4 is not handled yet
    NonIp,                // any other ethertype (ARP, LLDP, ...)
    Ipv6Truncated,        // fewer than 40 bytes of IPv6 header
    Ipv6BadVersion,       // version field != 6
    Ipv6BadPayloadLen,    // payload length runs past the frame, or jumbogram
    ExtTruncated,         // an extension header runs past the payload
    ExtChainTooLong,      // more than kMaxExtHeaders extension headers
    HbhNotFirst,          // Hop-by-Hop header anywhere but first (RFC 8200 4.1)
    OptOverrun,           // an option runs past its header
    RhUnsupported,        // routing header other than type 4 with segments left
    SrhBadLength,         // SRH too short for its segment list
    SrhBadLastEntry,      // Last Entry does not fit in Hdr Ext Len
    SrhBadSegmentsLeft,   // Segments Left > Last Entry + 1 (RFC 8754 4.3.1.1)
    SrhTlvOverrun,        // an SRH TLV runs past the SRH
    SrhDuplicate,         // more than one SRH
    CatsTruncated,        // CATS body shorter than its 8-byte fixed part
    CatsBadVersion,       // CATS Version != 0
    CatsSubTlvOverrun,    // a sub-TLV runs past the CATS body
    CatsSubTlvBadLength,  // a known sub-TLV with the wrong length
    CatsBadValue,         // a known sub-TLV with an out-of-range value
    L4Truncated,          // TCP/UDP/ESP header shorter than its ports/SPI
    UnknownService,       // CS-ID not in the service table
    NoInstance,           // service has no instance
    NoEligibleInstance,   // strict flag set and no instance meets the needs
    NoRoute,              // no FIB route for the destination
    HopLimitExceeded,     // forwarded (non-CATS) packet with hop limit <= 1
    NoHeadroom,           // not enough mbuf headroom for the encapsulation
    TooBig,               // encapsulated packet exceeds the port MTU
    NonContiguous,        // headers not in the first mbuf segment
    NonCats,              // non-CATS IPv6 while gateway.non_cats is drop
    TxFull,               // the TX queue did not take the packet
    NeighborIncomplete,   // next hop not resolved yet and nowhere to hold the packet
    NeighborFailed,       // next hop failed NDP (NUD FAILED): its instances are ineligible
    PuntQueueFull,        // the queue to the kernel interface was full
    HostNoKernel,         // for the gateway itself, on a port without a kernel interface
    SrDomain,             // from an untrusted port, addressed to a SID of gateway.sr_domain (RFC 8754 5.1)
    SrhHmacMissing,       // a new flow's request without the SRH HMAC TLV gateway.srh_hmac.require asks for
    SrhHmacUnknownKey,    // an HMAC TLV whose Key ID is not in gateway.srh_hmac.keys
    SrhHmacBad,           // an HMAC TLV that does not verify (MAC, length, destination not the active segment)
    SidSegmentsLeft,      // to a local SID that decapsulates (End.DX6, End.DT6), with Segments Left != 0
    SidUpperLayer,        // to a local SID, an upper-layer header its behaviour does not take (RFC 8986 4.1.1)
    SidFragment,          // to a local SID that decapsulates, a fragment (no reassembly here)
    DecapInnerBad,        // decapsulated: what is inside is not a whole IPv6 packet
    Count
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::Count);

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonNames = {
    "none",
    "eth_truncated",
    "vlan_too_deep",
    "ipv4",
    "non_ip",
    "ipv6_truncated",
    "ipv6_bad_version",
    "ipv6_bad_payload_len",
    "ext_truncated",
    "ext_chain_too_long",
    "hbh_not_first",
    "opt_overrun",
    "rh_unsupported",
    "srh_bad_length",
    "srh_bad_last_entry",
    "srh_bad_segments_left",
    "srh_tlv_overrun",
    "srh_duplicate",
    "cats_truncated",
    "cats_bad_version",
    "cats_subtlv_overrun",
    "cats_subtlv_bad_length",
    "cats_bad_value",
    "l4_truncated",
    "unknown_service",
    "no_instance",
    "no_eligible_instance",
    "no_route",
    "hop_limit_exceeded",
    "no_headroom",
    "too_big",
    "non_contiguous",
    "non_cats",
    "tx_full",
    "neighbor_incomplete",
    "neighbor_failed",
    "punt_queue_full",
    "host_no_kernel_interface",
    "sr_domain",
    "srh_hmac_missing",
    "srh_hmac_unknown_key",
    "srh_hmac_bad",
    "sid_segments_left",
    "sid_upper_layer",
    "sid_fragment",
    "decap_inner_bad",
};

constexpr std::string_view drop_reason_name(DropReason r) noexcept {
    return kDropReasonNames[static_cast<std::size_t>(r)];
}

}  // namespace cats::dp
