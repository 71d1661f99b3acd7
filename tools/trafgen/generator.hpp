// SPDX-License-Identifier: BSD-3-Clause
// The packet generator: turns a Profile and its seed into flows, a schedule
// of packets and the bytes of each packet.
//
// Everything is decided at construction (flows, their addresses, ports,
// requirement sets, encodings, a byte template per flow) or drawn from one
// seeded stream as the schedule advances (order, sizes, malformed packets),
// so the same profile and seed give the same packets, byte for byte, in the
// same order, whoever calls next()/build(): the pcap writer, the live
// senders, or the analyzer replaying the plan to know what was sent.
//
// The per-packet path (next() + build()) does not allocate: build() copies
// the flow's template into the caller's buffer and patches lengths, sequence
// numbers, TCP flags, the trafgen header and the L4 checksum.
//
// Thread safety: a Generator is used by one thread; const members may be
// read from any.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cats_wire.hpp"
#include "net.hpp"
#include "payload.hpp"
#include "profile.hpp"
#include "rng.hpp"

namespace cats::trafgen {

inline constexpr std::uint32_t kNoGroup = UINT32_MAX;
// Largest frame build() writes (Profile::size_max is at most 9000, and a
// malformed packet is small).
inline constexpr std::size_t kMaxFrame = 9216;

struct FlowSpec {
    std::uint32_t id = 0;
    std::uint16_t service = 0;        // index into Profile::services
    std::uint16_t set = 0;            // index into Profile::requirement_sets
    Encoding encoding = Encoding::SrhTlv;
    Transport transport = Transport::Udp;
    Ipv6Addr src{};
    Ipv6Addr dst{};                   // app_dst, or the service SID
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint32_t spi = 0;            // ESP
    std::uint32_t flow_label = 0;
    std::uint32_t tcp_isn = 0;
    std::uint32_t group = kNoGroup;   // affinity group index
    wire::CatsMetadata meta{};        // what the packet carries (not for service_sid)

    // The template: every header up to the trafgen header (tg_off bytes).
    // The payload after the trafgen header is the run's filler from
    // filler_off on.
    std::vector<std::uint8_t> bytes;
    std::uint16_t l4_off = 0;         // UDP/TCP/ESP header
    std::uint16_t tg_off = 0;         // trafgen header
    std::uint16_t min_frame = 0;      // headers + trafgen header
    std::uint16_t filler_off = 0;
    std::vector<std::uint8_t> body;   // the encoded CATS body (for malformed variants)
};

// One packet of the schedule.
struct Slot {
    std::uint64_t index = 0;          // position in the schedule, 0-based
    std::uint32_t flow = 0;           // flow it belongs to (base flow if malformed)
    std::uint64_t seq = 0;            // per flow; per kind when malformed
    BadKind bad = BadKind::None;
    std::uint16_t frame_len = 0;      // for good packets
    std::uint8_t tg_flags = 0;
    std::uint8_t tcp_flags = 0;
    std::uint32_t tcp_seq = 0;
};

class Generator {
public:
    explicit Generator(const Profile& profile);

    const Profile& profile() const noexcept { return profile_; }
    const std::vector<FlowSpec>& flows() const noexcept { return flows_; }
    std::uint32_t run_id() const noexcept { return run_id_; }
    std::uint32_t group_count() const noexcept { return groups_; }

    // The next packet of the schedule; false once every good packet was
    // scheduled. Malformed packets are interleaved at random, each slot
    // being malformed with probability malformed_share.
    bool next(Slot& out) noexcept;
    // Back to the first packet.
    void rewind() noexcept;

    // Write the packet of `s` into `buf` (at least kMaxFrame bytes), with
    // `tx_ns` in the trafgen header. Returns the frame length.
    std::size_t build(const Slot& s, std::uint64_t tx_ns, std::span<std::uint8_t> buf) const noexcept;

private:
    void make_flows();
    void make_template(FlowSpec& f);
    std::size_t build_malformed(const Slot& s, std::uint64_t tx_ns, std::span<std::uint8_t> buf) const noexcept;

    Profile profile_;
    std::uint32_t run_id_ = 0;
    std::uint32_t groups_ = 0;
    std::vector<FlowSpec> flows_;
    std::vector<std::uint8_t> filler_;   // random payload bytes shared by the flows

    // Schedule state.
    Rng sched_{0};
    std::vector<std::uint32_t> order_;   // this round's flow order
    std::vector<std::uint32_t> tcp_next_;
    std::uint32_t round_ = 0;
    std::uint32_t pos_ = 0;
    std::uint64_t index_ = 0;
    std::array<std::uint64_t, kBadKindCount> bad_seq_{};
};

}  // namespace cats::trafgen
