// SPDX-License-Identifier: BSD-3-Clause
// Receiving compute-routing advertisements (proto-defs/advert_wire.hpp).
//
// AdvertReceiver is the whole receive path for one datagram, pure (no
// sockets, no clock): peek the header -> find the peer by key id (unknown:
// `unknown_key`) -> verify the HMAC and decode with that peer's key -> the
// header's node id must be the peer's (`node_mismatch`) -> the sequence
// must be greater than the last one accepted from that node (`replay`) ->
// the RIB, within the node's scope (PeerScope). Nothing about a node
// changes before its datagram has passed every check. Every rejection has
// a named reason and a counter, globally, and per peer once the datagram
// is authentic. What fails before that (a bad header, an unknown key, a bad
// MAC) proves nothing about who sent it: it is counted per source address
// (the last kMaxSources seen), never on the peer whose key id it names, or
// anyone could raise a real peer's error counters by forging datagrams.
//
// Replay state: the last accepted sequence per node. The daemon keeps it
// across restarts in `state_dir` (replay_state.hpp): restore_sequences() at
// start, sequences() when dirty(). Without a state_dir it lives in memory
// only, and after a restart the first authentic message of each node is
// accepted whatever its sequence. Agents should in any case use a sequence
// that grows across their own restarts (wall-clock microseconds).
//
// AdvertListener owns the UDP sockets (Boost.Asio) and feeds the receiver.
//
// Thread safety: none; both run on the daemon's io_context thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "advert_wire.hpp"
#include "config.hpp"
#include "rib.hpp"

namespace boost::asio {
class io_context;
}

namespace cats::control {

// Why a datagram was refused; the first values mirror advert::Error.
enum class RxReason : std::uint8_t {
    Accepted = 0,
    Truncated,
    BadMagic,
    BadVersion,
    BadType,
    BadLength,
    UnknownKey,
    BadMac,
    Replay,
    BadRecord,
    NodeMismatch,  // authentic, but the key belongs to another node id
    Count
};
inline constexpr std::array<const char*, static_cast<std::size_t>(RxReason::Count)> kRxReasonNames = {
    "accepted", "truncated", "bad_magic", "bad_version", "bad_type", "bad_length",
    "unknown_key", "bad_mac", "replay", "bad_record", "node_mismatch",
};
static_assert(static_cast<std::size_t>(RxReason::BadRecord) == static_cast<std::size_t>(advert::Error::BadRecord));
static_assert(static_cast<std::size_t>(advert::Error::Count) == static_cast<std::size_t>(RxReason::NodeMismatch));

RxReason to_reason(advert::Error e) noexcept;

struct PeerStats {
    std::uint64_t accepted = 0;          // messages
    std::uint64_t rejected = 0;          // authentic messages refused (node_mismatch, replay, bad_record)
    std::uint64_t records_accepted = 0;
    std::uint64_t records_rejected = 0;  // refused by the RIB (conflict, limits, scope...)
    RecordErrorCounts record_errors{};   // records_rejected by reason
    std::optional<std::uint64_t> last_sequence;
    std::optional<Time> last_seen;       // last accepted message
    std::string last_error;
};

// Datagrams from one source address that failed before authentication.
struct SourceStats {
    std::uint64_t malformed = 0;    // truncated, bad_magic, bad_version, bad_type, bad_length
    std::uint64_t unknown_key = 0;
    std::uint64_t bad_mac = 0;
    std::uint16_t last_key_id = 0;  // the key id the last one named (0 when malformed)
    Time last_seen{};
    std::string last_error;
};

class AdvertReceiver {
public:
    // Sources tracked; when full, the one seen longest ago makes room.
    static constexpr std::size_t kMaxSources = 256;

    AdvertReceiver(const std::vector<PeerConfig>& peers, std::uint32_t default_lifetime_cap_s, Rib& rib);

    struct Result {
        RxReason reason = RxReason::Accepted;
        std::string detail;             // why, for the log (empty when accepted cleanly)
        std::vector<mgmt::Op> ops;      // for the dataplane
    };
    // `source`: the sender's address as text, for the per-source counters.
    Result handle(std::span<const std::uint8_t> dgram, Time now, std::string_view source = "unknown");

    std::uint64_t count(RxReason r) const noexcept { return counters_[static_cast<std::size_t>(r)]; }
    const PeerStats* peer_stats(std::uint16_t key_id) const;
    const SourceStats* source_stats(const std::string& source) const;
    std::uint64_t sources_evicted() const noexcept { return sources_evicted_; }
    // `catsctl peer list` and the advert part of `catsctl stats`.
    nlohmann::json peers_json(Time now) const;
    nlohmann::json counters_json() const;

    // Replay state, for persistence. dirty(): a sequence moved since the
    // last take_dirty(); urgent(): one of those was a withdraw, which must
    // not be replayable even after a crash (saved at once).
    void restore_sequences(const std::map<std::uint32_t, std::uint64_t>& seqs) { last_seq_ = seqs; }
    const std::map<std::uint32_t, std::uint64_t>& sequences() const noexcept { return last_seq_; }
    bool dirty() const noexcept { return dirty_; }
    bool urgent() const noexcept { return urgent_; }
    void take_dirty() noexcept { dirty_ = urgent_ = false; }

private:
    struct Peer {
        PeerConfig cfg;
        PeerStats stats;
    };
    Result reject(RxReason r, std::string detail, Peer* peer);
    Result reject_unauthenticated(RxReason r, std::string detail, std::string_view source, std::uint16_t key_id,
                                  Time now);

    std::map<std::uint16_t, Peer> peers_;                 // by key id
    std::map<std::string, SourceStats, std::less<>> sources_;
    std::uint64_t sources_evicted_ = 0;
    std::map<std::uint32_t, std::uint64_t> last_seq_;     // by node id
    bool dirty_ = false;
    bool urgent_ = false;
    std::uint32_t default_lifetime_cap_s_;
    Rib& rib_;
    std::array<std::uint64_t, static_cast<std::size_t>(RxReason::Count)> counters_{};
};

// The UDP sockets. Each datagram goes through the receiver; its ops go to
// `on_ops`. Rejections are logged at most once per second per reason.
class AdvertListener {
public:
    using OpsFn = std::function<void(std::vector<mgmt::Op>)>;
    // Binds every address (throws boost::system::system_error naming it).
    // Port 0 picks a free port (tests).
    AdvertListener(boost::asio::io_context& io, const std::vector<ListenConfig>& listen, AdvertReceiver& rx,
                   OpsFn on_ops);
    ~AdvertListener();
    AdvertListener(const AdvertListener&) = delete;
    AdvertListener& operator=(const AdvertListener&) = delete;

    void stop();
    std::vector<std::uint16_t> local_ports() const;
    // Datagrams the kernel dropped because a socket's receive buffer was
    // full, over every socket (0 where the kernel does not say).
    std::uint64_t socket_drops() const;
    // Receive buffer of the i-th socket, bytes as configured (0: unknown).
    std::uint32_t receive_buffer(std::size_t i) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cats::control
