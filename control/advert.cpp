// SPDX-License-Identifier: BSD-3-Clause
#include "advert.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/system/system_error.hpp>

#include "log.hpp"

namespace cats::control {

using Json = nlohmann::json;

RxReason to_reason(advert::Error e) noexcept {
    // Same values up to advert::Error::Count (static_assert in the header).
    return static_cast<RxReason>(e);
}

AdvertReceiver::AdvertReceiver(const std::vector<PeerConfig>& peers, std::uint32_t default_lifetime_cap_s, Rib& rib)
    : default_lifetime_cap_s_(default_lifetime_cap_s), rib_(rib) {
    for (const PeerConfig& p : peers)
        peers_[p.key_id] = Peer{p, {}};
}

AdvertReceiver::Result AdvertReceiver::reject(RxReason r, std::string detail, Peer* peer) {
    ++counters_[static_cast<std::size_t>(r)];
    if (peer != nullptr) {
        ++peer->stats.rejected;
        peer->stats.last_error = std::string(kRxReasonNames[static_cast<std::size_t>(r)]) +
                                 (detail.empty() ? "" : ": " + detail);
    }
    return Result{r, std::move(detail), {}};
}

AdvertReceiver::Result AdvertReceiver::reject_unauthenticated(RxReason r, std::string detail, std::string_view source,
                                                              std::uint16_t key_id, Time now) {
    auto it = sources_.find(source);
    if (it == sources_.end()) {
        if (sources_.size() >= kMaxSources) {
            // A linear scan, only when a new source arrives on a full table.
            const auto oldest = std::min_element(sources_.begin(), sources_.end(), [](const auto& a, const auto& b) {
                return a.second.last_seen < b.second.last_seen;
            });
            sources_.erase(oldest);
            ++sources_evicted_;
        }
        it = sources_.emplace(std::string(source), SourceStats{}).first;
    }
    SourceStats& s = it->second;
    if (r == RxReason::UnknownKey)
        ++s.unknown_key;
    else if (r == RxReason::BadMac)
        ++s.bad_mac;
    else
        ++s.malformed;
    s.last_key_id = key_id;
    s.last_seen = now;
    s.last_error = std::string(kRxReasonNames[static_cast<std::size_t>(r)]) + (detail.empty() ? "" : ": " + detail);
    return reject(r, std::move(detail), nullptr);
}

AdvertReceiver::Result AdvertReceiver::handle(std::span<const std::uint8_t> dgram, Time now,
                                              std::string_view source) {
    advert::Message hdr;
    if (const advert::Error e = advert::peek(dgram, hdr); e != advert::Error::Ok)
        return reject_unauthenticated(to_reason(e), std::to_string(dgram.size()) + " bytes", source, 0, now);

    const auto it = peers_.find(hdr.key_id);
    if (it == peers_.end())
        return reject_unauthenticated(
            RxReason::UnknownKey,
            "key id " + std::to_string(hdr.key_id) + " (claims node " + std::to_string(hdr.node_id) + ")", source,
            hdr.key_id, now);
    Peer& peer = it->second;
    const std::string who = "key id " + std::to_string(hdr.key_id) + " (" + peer.cfg.name + ")";

    advert::Message msg;
    std::string detail;
    if (const advert::Error e = advert::decode(dgram, peer.cfg.key, msg, &detail); e != advert::Error::Ok) {
        // Before the MAC verifies, the datagram is anyone's.
        if (e == advert::Error::BadMac)
            return reject_unauthenticated(RxReason::BadMac, who + (detail.empty() ? "" : ": " + detail), source,
                                          hdr.key_id, now);
        return reject(to_reason(e), who + (detail.empty() ? "" : ": " + detail), &peer);
    }
    // The key proves who signed; the node id it signed must be the one the
    // key was issued to, or one node could speak for another.
    if (msg.node_id != peer.cfg.node_id)
        return reject(RxReason::NodeMismatch,
                      who + " is node " + std::to_string(peer.cfg.node_id) + ", message says node " +
                          std::to_string(msg.node_id),
                      &peer);
    const auto last = last_seq_.find(msg.node_id);
    if (last != last_seq_.end() && msg.sequence <= last->second)
        return reject(RxReason::Replay,
                      who + ": sequence " + std::to_string(msg.sequence) + " <= last accepted " +
                          std::to_string(last->second),
                      &peer);
    if (msg.type == advert::Type::Advertise && msg.lifetime_s == 0)
        return reject(RxReason::BadRecord, who + ": lifetime 0", &peer);

    // Accepted: from here on the node's state changes.
    last_seq_[msg.node_id] = msg.sequence;
    dirty_ = true;
    urgent_ |= msg.type != advert::Type::Advertise;
    ++counters_[static_cast<std::size_t>(RxReason::Accepted)];
    ++peer.stats.accepted;
    peer.stats.last_sequence = msg.sequence;
    peer.stats.last_seen = now;

    const std::uint32_t cap = peer.cfg.lifetime_cap_s != 0 ? peer.cfg.lifetime_cap_s : default_lifetime_cap_s_;
    const std::chrono::seconds lifetime(std::min<std::uint32_t>(msg.lifetime_s, cap));
    Rib::IngestResult r = rib_.ingest(msg, lifetime, now, peer.cfg.scope);
    peer.stats.records_accepted += r.accepted;
    peer.stats.records_rejected += r.rejected;
    for (std::size_t i = 0; i < r.rejected_by.size(); ++i)
        peer.stats.record_errors[i] += r.rejected_by[i];
    Result res{RxReason::Accepted, {}, std::move(r.ops)};
    if (r.rejected > 0) {
        res.detail = who + ": " + std::to_string(r.rejected) + " of " + std::to_string(msg.records.size()) +
                     " records refused; first: " + r.first_error;
        peer.stats.last_error = res.detail;
    }
    return res;
}

const PeerStats* AdvertReceiver::peer_stats(std::uint16_t key_id) const {
    const auto it = peers_.find(key_id);
    return it == peers_.end() ? nullptr : &it->second.stats;
}

const SourceStats* AdvertReceiver::source_stats(const std::string& source) const {
    const auto it = sources_.find(source);
    return it == sources_.end() ? nullptr : &it->second;
}

namespace {

Json ranges_json(const std::vector<IdRange>& ranges) {
    if (ranges.empty())
        return "any";
    Json out = Json::array();
    for (const IdRange& r : ranges)
        out.push_back(r.first == r.last ? std::to_string(r.first)
                                        : std::to_string(r.first) + "-" + std::to_string(r.last));
    return out;
}

}  // namespace

Json AdvertReceiver::peers_json(Time now) const {
    Json out = Json::array();
    for (const auto& [key_id, p] : peers_) {
        Json j = {{"name", p.cfg.name},
                  {"node_id", p.cfg.node_id},
                  {"key_id", key_id},
                  {"accepted", p.stats.accepted},
                  {"rejected", p.stats.rejected},
                  {"records_accepted", p.stats.records_accepted},
                  {"records_rejected", p.stats.records_rejected},
                  {"last_sequence", nullptr},
                  {"last_seen_ms_ago", nullptr},
                  {"last_error", p.stats.last_error}};
        Json refused = Json::object();
        for (std::size_t i = 1; i < p.stats.record_errors.size(); ++i)
            if (p.stats.record_errors[i] != 0)
                refused[kRecordErrorNames[i]] = p.stats.record_errors[i];
        j["records_refused"] = std::move(refused);
        const PeerScope& sc = p.cfg.scope;
        j["scope"] = {{"cs_ids", ranges_json(sc.cs_ids)},
                      {"instance_ids", ranges_json(sc.instance_ids)},
                      {"max_instances", sc.max_instances == 0 ? Json(nullptr) : Json(sc.max_instances)},
                      {"max_services", sc.max_services == 0 ? Json(nullptr) : Json(sc.max_services)},
                      {"instances", rib_.node_instances(p.cfg.node_id)},
                      {"services", rib_.node_services(p.cfg.node_id)}};
        if (p.stats.last_sequence)
            j["last_sequence"] = *p.stats.last_sequence;
        if (p.stats.last_seen)
            j["last_seen_ms_ago"] =
                std::chrono::duration_cast<std::chrono::milliseconds>(now - *p.stats.last_seen).count();
        out.push_back(std::move(j));
    }
    Json sources = Json::array();
    for (const auto& [addr, s] : sources_)
        sources.push_back({{"source", addr},
                           {"malformed", s.malformed},
                           {"unknown_key", s.unknown_key},
                           {"bad_mac", s.bad_mac},
                           {"last_key_id", s.last_key_id},
                           {"last_seen_ms_ago", std::chrono::duration_cast<std::chrono::milliseconds>(now - s.last_seen).count()},
                           {"last_error", s.last_error}});
    return Json{{"peers", std::move(out)},
                {"unauthenticated", std::move(sources)},
                {"unauthenticated_sources_evicted", sources_evicted_}};
}

Json AdvertReceiver::counters_json() const {
    Json j = Json::object();
    for (std::size_t i = 0; i < kRxReasonNames.size(); ++i)
        j[kRxReasonNames[i]] = counters_[i];
    return j;
}

// ---------------------------------------------------------------------------
// UDP

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

namespace {

// The socket's receive buffer in the unit SO_RCVBUF is set in (the kernel
// reports twice that, the other half being its bookkeeping); 0: unknown.
std::uint32_t receive_buffer_of(int fd) {
    int got = 0;
    socklen_t len = sizeof got;
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0 || got <= 0)
        return 0;
    return static_cast<std::uint32_t>(got / 2);
}

// Ask for `bytes` of receive buffer: SO_RCVBUFFORCE when the process may
// (CAP_NET_ADMIN), else SO_RCVBUF, which net.core.rmem_max caps. Returns
// what the kernel granted.
std::uint32_t set_receive_buffer(int fd, std::uint32_t bytes) {
    const int v = static_cast<int>(bytes);
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    return receive_buffer_of(fd);
}

// Datagrams the kernel dropped on this socket because its receive buffer
// was full (what `ss -m` shows as d<N>; a 32-bit count in the kernel).
std::uint64_t socket_drops(int fd) {
    std::uint32_t mem[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof mem;
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 || len < sizeof(std::uint32_t) * (SK_MEMINFO_DROPS + 1))
        return 0;
    return mem[SK_MEMINFO_DROPS];
}

}  // namespace

struct AdvertListener::Impl {
    struct Socket {
        explicit Socket(asio::io_context& io) : sock(io) {}
        udp::socket sock;
        udp::endpoint from;
        std::string name;  // "[::1]:7410"
        // Larger than any UDP payload, so that no datagram is cut short: an
        // oversize one reaches peek() whole and is refused as bad_length.
        // One per socket: two sockets may both complete before a handler runs.
        std::array<std::uint8_t, 65536> buf{};
    };

    Impl(AdvertReceiver& r, OpsFn f) : rx(r), on_ops(std::move(f)) {}

    void receive(Socket& s) {
        s.sock.async_receive_from(asio::buffer(s.buf), s.from, [this, &s](const error_code& ec, std::size_t n) {
            if (ec == asio::error::operation_aborted || stopped)
                return;
            if (!ec) {
                handle(s, n);
            } else {
                // ICMP errors (connection refused) surface on UDP sockets;
                // they concern no one here.
                limiter.log(LogLevel::Warn, "recv", "advert: receive on " + s.name + ": " + ec.message(),
                            Clock::now());
            }
            receive(s);
        });
    }

    void handle(Socket& s, std::size_t n) {
        const Time now = Clock::now();
        try {
            handle_one(s, n, now);
        } catch (const std::exception& e) {
            // One datagram must not take the daemon down.
            limiter.log(LogLevel::Error, "exception", std::string("advert: datagram on ") + s.name + ": " + e.what(),
                        now);
        }
    }

    void handle_one(Socket& s, std::size_t n, Time now) {
        error_code ignored;
        const std::string from = s.from.address().to_string(ignored);
        AdvertReceiver::Result r = rx.handle(std::span<const std::uint8_t>(s.buf.data(), n), now, from);
        const char* reason = kRxReasonNames[static_cast<std::size_t>(r.reason)];
        if (r.reason != RxReason::Accepted) {
            limiter.log(LogLevel::Warn, reason,
                        std::string("advert: rejected datagram from ") + from +
                            " on " + s.name + ": " + reason + ": " + r.detail,
                        now);
        } else if (!r.detail.empty()) {
            limiter.log(LogLevel::Warn, "records", "advert: " + r.detail, now);
        }
        if (!r.ops.empty())
            on_ops(std::move(r.ops));
    }

    AdvertReceiver& rx;
    OpsFn on_ops;
    std::vector<std::unique_ptr<Socket>> sockets;
    LogLimiter limiter;
    bool stopped = false;
};

AdvertListener::AdvertListener(asio::io_context& io, const std::vector<ListenConfig>& listen, AdvertReceiver& rx,
                               OpsFn on_ops)
    : impl_(std::make_unique<Impl>(rx, std::move(on_ops))) {
    for (const ListenConfig& l : listen) {
        auto s = std::make_unique<Impl::Socket>(io);
        error_code ec;
        const asio::ip::address addr = asio::ip::make_address(l.address, ec);
        s->name = (addr.is_v6() ? "[" + l.address + "]" : l.address) + ":" + std::to_string(l.port);
        if (ec)
            throw boost::system::system_error(ec, "advert listener " + s->name);
        const udp::endpoint ep(addr, l.port);
        s->sock.open(ep.protocol(), ec);
        if (!ec && addr.is_v6())
            s->sock.set_option(asio::ip::v6_only(true), ec);
        if (!ec)
            s->sock.bind(ep, ec);
        if (ec)
            throw boost::system::system_error(ec, "advert listener " + s->name);
        if (l.port == 0)
            s->name = (addr.is_v6() ? "[" + l.address + "]" : l.address) + ":" +
                      std::to_string(s->sock.local_endpoint().port());
        std::string buffer;
        if (l.receive_buffer_bytes != 0) {
            const std::uint32_t got = set_receive_buffer(s->sock.native_handle(), l.receive_buffer_bytes);
            buffer = " (receive buffer " + std::to_string(got) + " bytes)";
            if (got < l.receive_buffer_bytes)
                log_warn("advert: udp " + s->name + ": receive buffer " + std::to_string(got) + " bytes, not the " +
                         std::to_string(l.receive_buffer_bytes) +
                         " configured: net.core.rmem_max caps it (raise it, or give cats-control CAP_NET_ADMIN)");
        }
        log_info("advert: listening on udp " + s->name + buffer);
        impl_->sockets.push_back(std::move(s));
    }
    for (auto& s : impl_->sockets)
        impl_->receive(*s);
}

AdvertListener::~AdvertListener() {
    stop();
}

void AdvertListener::stop() {
    if (!impl_ || impl_->stopped)
        return;
    impl_->stopped = true;
    for (auto& s : impl_->sockets) {
        error_code ignored;
        s->sock.close(ignored);
    }
}

std::uint64_t AdvertListener::socket_drops() const {
    std::uint64_t n = 0;
    for (const auto& s : impl_->sockets)
        n += control::socket_drops(s->sock.native_handle());
    return n;
}

std::uint32_t AdvertListener::receive_buffer(std::size_t i) const {
    return i < impl_->sockets.size() ? receive_buffer_of(impl_->sockets[i]->sock.native_handle()) : 0;
}

std::vector<std::uint16_t> AdvertListener::local_ports() const {
    std::vector<std::uint16_t> out;
    for (const auto& s : impl_->sockets) {
        error_code ec;
        const udp::endpoint ep = s->sock.local_endpoint(ec);
        out.push_back(ec ? 0 : ep.port());
    }
    return out;
}

}  // namespace cats::control
