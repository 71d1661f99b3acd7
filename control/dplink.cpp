// SPDX-License-Identifier: BSD-3-Clause
#include "dplink.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <utility>

#include "log.hpp"

namespace cats::control {

namespace asio = boost::asio;
using boost::system::error_code;
using Json = nlohmann::json;

namespace {

// A coalesced increment beyond this many ops is replaced by a snapshot:
// past that size the whole table is the cheaper message.
constexpr std::size_t kMaxQueuedOps = 100000;
constexpr auto kMaxResyncBackoff = std::chrono::seconds(30);

const char* msg_name(mgmt::MsgType t) {
    switch (t) {
    case mgmt::MsgType::Update: return "UPDATE";
    case mgmt::MsgType::UpdateAck: return "UPDATE_ACK";
    case mgmt::MsgType::StatusReq: return "STATUS_REQ";
    case mgmt::MsgType::Status: return "STATUS";
    case mgmt::MsgType::StatsReq: return "STATS_REQ";
    case mgmt::MsgType::Stats: return "STATS";
    case mgmt::MsgType::FlowsReq: return "FLOWS_REQ";
    case mgmt::MsgType::Flows: return "FLOWS";
    case mgmt::MsgType::Error: return "ERROR";
    case mgmt::MsgType::SidUpdate: return "SID_UPDATE";
    }
    return "?";
}

// The reply a request expects when it succeeds.
mgmt::MsgType reply_type(mgmt::MsgType req) {
    switch (req) {
    case mgmt::MsgType::StatusReq: return mgmt::MsgType::Status;
    case mgmt::MsgType::StatsReq: return mgmt::MsgType::Stats;
    case mgmt::MsgType::FlowsReq: return mgmt::MsgType::Flows;
    default: return mgmt::MsgType::UpdateAck;
    }
}

const char* status_name(mgmt::Status s) {
    switch (s) {
    case mgmt::Status::Ok: return "ok";
    case mgmt::Status::Malformed: return "malformed";
    case mgmt::Status::Rejected: return "rejected";
    case mgmt::Status::Unsupported: return "unsupported";
    }
    return "?";
}

}  // namespace

DataplaneLink::DataplaneLink(asio::io_context& io, std::string socket_path, SnapshotFn snapshot,
                             Clock::duration startup_hold)
    : io_(io),
      path_(std::move(socket_path)),
      snapshot_(std::move(snapshot)),
      sock_(io),
      retry_timer_(io),
      request_timer_(io),
      resync_timer_(io),
      hold_until_(Clock::now() + startup_hold) {}

DataplaneLink::~DataplaneLink() {
    stop();
}

void DataplaneLink::set_timers(Clock::duration retry, Clock::duration request_timeout) {
    retry_interval_ = retry;
    request_timeout_ = request_timeout;
}

void DataplaneLink::start() {
    stopped_ = false;
    connect();
}

void DataplaneLink::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    ++conn_gen_;
    error_code ignored;
    sock_.close(ignored);
    retry_timer_.cancel();
    request_timer_.cancel();
    resync_timer_.cancel();
    state_ = State::Down;
    fail_pending("cats-control is shutting down");
}

void DataplaneLink::connect() {
    if (stopped_)
        return;
    state_ = State::Connecting;
    const std::uint64_t gen = ++conn_gen_;
    error_code ignored;
    sock_.close(ignored);
    sock_.async_connect(asio::local::stream_protocol::endpoint(path_), [this, gen](const error_code& ec) {
        if (gen != conn_gen_ || stopped_)
            return;
        if (!ec) {
            on_connected();
            return;
        }
        state_ = State::Down;
        const std::string what = "cannot connect to " + path_ + ": " + ec.message();
        // Say it once per outage, not twice a second.
        if (!logged_down_ || what != last_error_)
            log_warn("dataplane: " + what + "; retrying every " +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(retry_interval_).count()) +
                     " ms");
        logged_down_ = true;
        note_error(what);
        retry_timer_.expires_after(retry_interval_);
        retry_timer_.async_wait([this, gen](const error_code& e) {
            if (!e && gen == conn_gen_)
                connect();
        });
    });
}

void DataplaneLink::on_connected() {
    ++counters_.connects;
    logged_down_ = false;
    log_info("dataplane: connected to " + path_);
    notify({{"type", "link"}, {"state", "connected"}, {"socket", path_}});
    read_header();
    const Time now = Clock::now();
    if (now < hold_until_) {
        state_ = State::Holding;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(hold_until_ - now).count();
        log_info("dataplane: first snapshot in " + std::to_string(ms) + " ms (policy.startup_hold_s)");
        const std::uint64_t gen = conn_gen_;
        retry_timer_.expires_at(hold_until_);
        retry_timer_.async_wait([this, gen](const error_code& e) {
            if (!e && gen == conn_gen_)
                begin_sync();
        });
    } else {
        begin_sync();
    }
    if (on_connect_)
        on_connect_();
}

void DataplaneLink::begin_sync() {
    state_ = State::Up;
    resync_pending_ = false;
    resync_timer_.cancel();
    Req snap;
    snap.kind = Kind::Snapshot;
    queue_.push_front(std::move(snap));
    kick();
}

void DataplaneLink::push(std::vector<mgmt::Op> ops, PushFn done) {
    if (ops.empty()) {
        if (done)
            done(PushResult{up() && !resync_pending_, table_version_.value_or(0), "nothing to push"});
        return;
    }
    if (state_ != State::Up || resync_pending_) {
        counters_.ops_dropped += ops.size();
        const char* note = "dataplane out of sync: kept, sent in the next full snapshot";
        if (state_ == State::Holding)
            note = "dataplane connected, first snapshot held (policy.startup_hold_s): kept, sent in it";
        else if (state_ != State::Up)
            note = "dataplane not connected: kept, sent in the full snapshot when it connects";
        if (done)
            done(PushResult{false, 0, note});
        return;
    }
    if (!queue_.empty() && queue_.back().kind == Kind::Snapshot) {
        // Not sent yet: it will be built from the RIB, which has these.
        if (done)
            queue_.back().acks.push_back(std::move(done));
        return;
    }
    if (!queue_.empty() && queue_.back().kind == Kind::Increment) {
        Req& tail = queue_.back();
        if (tail.ops.size() + ops.size() > kMaxQueuedOps) {
            // The dataplane is slow to take them: one snapshot instead.
            counters_.ops_dropped += tail.ops.size() + ops.size();
            tail.kind = Kind::Snapshot;
            tail.ops.clear();
        } else {
            std::move(ops.begin(), ops.end(), std::back_inserter(tail.ops));
        }
        if (done)
            tail.acks.push_back(std::move(done));
        return;
    }
    Req r;
    r.kind = Kind::Increment;
    r.ops = std::move(ops);
    if (done)
        r.acks.push_back(std::move(done));
    queue_.push_back(std::move(r));
    kick();
}

void DataplaneLink::query(mgmt::MsgType type, std::vector<std::uint8_t> payload, ReplyFn done) {
    if (state_ == State::Down || state_ == State::Connecting) {
        done("dataplane at " + path_ + " not connected" + (last_error_.empty() ? "" : " (" + last_error_ + ")"), {});
        return;
    }
    Req r;
    r.kind = Kind::Query;
    r.type = type;
    r.payload = std::move(payload);
    r.reply = std::move(done);
    queue_.push_back(std::move(r));
    kick();
}

void DataplaneLink::sid_update(const mgmt::SidOp& op, SidFn done) {
    if (state_ == State::Down || state_ == State::Connecting) {
        done(SidResult{false, false, 0,
                       "dataplane at " + path_ + " not connected" + (last_error_.empty() ? "" : " (" + last_error_ + ")")});
        return;
    }
    Req r;
    r.kind = Kind::Sid;
    r.type = mgmt::MsgType::SidUpdate;
    mgmt::encode_sid_op(op, r.payload);
    r.sid_done = std::move(done);
    queue_.push_back(std::move(r));
    kick();
}

void DataplaneLink::kick() {
    if (inflight_ || queue_.empty() || stopped_)
        return;
    if (state_ == State::Holding) {
        // Queries and SID updates may go out before the first snapshot;
        // service table updates wait.
        const auto q = std::find_if(queue_.begin(), queue_.end(),
                                    [](const Req& r) { return r.kind == Kind::Query || r.kind == Kind::Sid; });
        if (q == queue_.end())
            return;
        Req r = std::move(*q);
        queue_.erase(q);
        send(std::move(r));
        return;
    }
    if (state_ != State::Up)
        return;
    Req r = std::move(queue_.front());
    queue_.pop_front();
    send(std::move(r));
}

void DataplaneLink::send(Req req) {
    std::vector<std::uint8_t> payload;
    switch (req.kind) {
    case Kind::Snapshot: {
        // Built now, so that it holds everything the RIB has; every
        // increment still queued is in it too.
        for (auto it = queue_.begin(); it != queue_.end();) {
            if (it->kind == Kind::Snapshot || it->kind == Kind::Increment) {
                std::move(it->acks.begin(), it->acks.end(), std::back_inserter(req.acks));
                it = queue_.erase(it);
            } else {
                ++it;
            }
        }
        const mgmt::Batch b = snapshot_();
        mgmt::encode_batch(b, payload);
        req.type = mgmt::MsgType::Update;
        ++counters_.snapshots_sent;
        counters_.ops_sent += b.ops.size();
        log_info("dataplane: sending full snapshot, " + std::to_string(b.ops.size()) + " services");
        break;
    }
    case Kind::Increment: {
        mgmt::Batch b;
        b.ops = std::move(req.ops);
        mgmt::encode_batch(b, payload);
        req.type = mgmt::MsgType::Update;
        ++counters_.increments_sent;
        counters_.ops_sent += b.ops.size();
        log_debug("dataplane: sending " + std::to_string(b.ops.size()) + " ops");
        break;
    }
    case Kind::Query:
        payload = std::move(req.payload);
        ++counters_.queries;
        break;
    case Kind::Sid:
        payload = std::move(req.payload);
        ++counters_.sid_updates;
        break;
    }
    req.seq = next_seq_++;
    if (payload.size() > mgmt::kMaxPayload) {
        // A table this large cannot be sent at all; the dataplane keeps its
        // last one. Nothing to retry: the next change retries.
        const std::string why = "update of " + std::to_string(payload.size()) + " bytes exceeds the channel's " +
                                std::to_string(mgmt::kMaxPayload) + "-byte limit";
        log_error("dataplane: " + why);
        finish(req, PushResult{false, 0, why}, why);
        return kick();
    }
    out_ = mgmt::make_message(req.type, req.seq, payload);
    req.sent_at = Clock::now();
    inflight_ = std::move(req);
    const std::uint64_t gen = conn_gen_;
    request_timer_.expires_after(request_timeout_);
    const std::uint32_t seq = inflight_->seq;
    request_timer_.async_wait([this, gen, seq](const error_code& e) {
        if (e || gen != conn_gen_ || !inflight_ || inflight_->seq != seq)
            return;
        ++counters_.timeouts;
        disconnect("no reply to " + std::string(msg_name(inflight_->type)) + " seq " + std::to_string(seq) + " in " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(request_timeout_).count()) + " s");
    });
    asio::async_write(sock_, asio::buffer(out_), [this, gen](const error_code& ec, std::size_t) {
        if (gen != conn_gen_ || stopped_)
            return;
        if (ec)
            disconnect("write: " + ec.message());
    });
}

void DataplaneLink::read_header() {
    const std::uint64_t gen = conn_gen_;
    asio::async_read(sock_, asio::buffer(hdr_buf_), [this, gen](const error_code& ec, std::size_t) {
        if (gen != conn_gen_ || stopped_)
            return;
        if (ec) {
            disconnect(ec == asio::error::eof ? "the dataplane closed the connection" : "read: " + ec.message());
            return;
        }
        mgmt::Header h;
        const mgmt::HeaderError he = mgmt::decode_header(std::span<const std::uint8_t, mgmt::kHeaderLen>(hdr_buf_), h);
        if (he != mgmt::HeaderError::Ok) {
            static constexpr const char* kWhy[] = {"ok", "bad magic", "unsupported version", "unknown type",
                                                   "payload too long"};
            ++counters_.protocol_errors;
            disconnect(std::string("bad reply header: ") + kWhy[static_cast<std::size_t>(he)]);
            return;
        }
        in_.assign(h.length, 0);
        asio::async_read(sock_, asio::buffer(in_), [this, gen, h](const error_code& ec2, std::size_t) {
            if (gen != conn_gen_ || stopped_)
                return;
            if (ec2) {
                disconnect("read: " + ec2.message());
                return;
            }
            on_reply(h, std::move(in_));
            if (gen == conn_gen_ && !stopped_)
                read_header();
        });
    });
}

void DataplaneLink::on_reply(const mgmt::Header& h, std::vector<std::uint8_t> payload) {
    if (!inflight_ || h.seq != inflight_->seq) {
        ++counters_.protocol_errors;
        disconnect(std::string("unexpected ") + msg_name(h.type) + " seq " + std::to_string(h.seq) +
                   (inflight_ ? " (waiting for seq " + std::to_string(inflight_->seq) + ")" : " (nothing asked)"));
        return;
    }
    request_timer_.cancel();
    Req req = std::move(*inflight_);
    inflight_.reset();

    if (req.kind == Kind::Sid) {
        on_sid_reply(req, h, payload);
    } else if (req.kind != Kind::Query) {
        on_update_reply(req, h, payload);
    } else if (h.type == reply_type(req.type)) {
        req.reply({}, std::string(payload.begin(), payload.end()));
    } else if (h.type == mgmt::MsgType::Error) {
        ++counters_.query_errors;
        mgmt::Ack ack;
        const std::string e = mgmt::decode_ack(payload, ack);
        req.reply("dataplane: " + (e.empty() ? std::string(status_name(ack.status)) + ": " + ack.error
                                             : "malformed ERROR reply: " + e),
                  {});
    } else {
        ++counters_.protocol_errors;
        const std::string why =
            std::string("got ") + msg_name(h.type) + " in reply to " + msg_name(req.type);
        req.reply("dataplane: " + why, {});
        disconnect(why);
        return;
    }
    kick();
}

void DataplaneLink::on_update_reply(Req& req, const mgmt::Header& h, std::span<const std::uint8_t> payload) {
    if (h.type != mgmt::MsgType::UpdateAck && h.type != mgmt::MsgType::Error) {
        ++counters_.protocol_errors;
        const std::string why = std::string("got ") + msg_name(h.type) + " in reply to UPDATE";
        finish(req, PushResult{false, 0, "dataplane: " + why}, {});
        disconnect(why);
        return;
    }
    mgmt::Ack ack;
    if (const std::string e = mgmt::decode_ack(payload, ack); !e.empty()) {
        ++counters_.protocol_errors;
        finish(req, PushResult{false, 0, "dataplane sent a malformed acknowledgement"}, {});
        disconnect("malformed " + std::string(msg_name(h.type)) + ": " + e);
        return;
    }
    if (h.type == mgmt::MsgType::UpdateAck && ack.status == mgmt::Status::Ok) {
        ++counters_.acks;
        table_version_ = ack.table_version;
        last_ack_ = Clock::now();
        last_update_latency_ = *last_ack_ - req.sent_at;
        max_update_latency_ = std::max(max_update_latency_, *last_update_latency_);
        last_ack_wall_ = std::chrono::system_clock::now();
        if (req.kind == Kind::Snapshot) {
            resync_backoff_ = std::chrono::seconds(1);
            log_info("dataplane: in sync, table version " + std::to_string(ack.table_version));
        }
        Json ev = {{"type", "table"},
                   {"version", ack.table_version},
                   {"snapshot", req.kind == Kind::Snapshot},
                   {"latency_ms", std::chrono::duration<double, std::milli>(*last_update_latency_).count()}};
        if (req.kind == Kind::Increment)
            ev["ops"] = req.ops.size();  // a snapshot is the whole table
        notify(std::move(ev));
        finish(req, PushResult{true, ack.table_version, {}}, {});
        return;
    }
    ++counters_.update_errors;
    const std::string what = std::string(req.kind == Kind::Snapshot ? "snapshot" : "update") + " refused (" +
                             status_name(ack.status) + "): " + ack.error;
    log_error("dataplane: " + what);
    note_error(what);
    notify({{"type", "table"}, {"refused", what}});
    finish(req, PushResult{false, 0, "dataplane " + what}, {});
    resync_later(what);
}

void DataplaneLink::on_sid_reply(Req& req, const mgmt::Header& h, std::span<const std::uint8_t> payload) {
    if (h.type != mgmt::MsgType::UpdateAck && h.type != mgmt::MsgType::Error) {
        ++counters_.protocol_errors;
        const std::string why = std::string("got ") + msg_name(h.type) + " in reply to SID_UPDATE";
        finish(req, PushResult{}, "dataplane: " + why);
        disconnect(why);
        return;
    }
    mgmt::Ack ack;
    if (const std::string e = mgmt::decode_ack(payload, ack); !e.empty()) {
        ++counters_.protocol_errors;
        finish(req, PushResult{}, "dataplane sent a malformed acknowledgement");
        disconnect("malformed " + std::string(msg_name(h.type)) + ": " + e);
        return;
    }
    if (h.type == mgmt::MsgType::UpdateAck && ack.status == mgmt::Status::Ok) {
        if (req.sid_done)
            req.sid_done(SidResult{true, false, ack.table_version, {}});
        return;
    }
    // Refused: the dataplane's SID table is as it was. The service table
    // is not concerned: no resync.
    ++counters_.sid_errors;
    if (req.sid_done)
        req.sid_done(SidResult{false, true, ack.table_version,
                               ack.status == mgmt::Status::Rejected
                                   ? ack.error
                                   : std::string(status_name(ack.status)) + ": " + ack.error});
}

void DataplaneLink::resync_later(const std::string& why) {
    resync_pending_ = true;
    // What is queued builds on a table the dataplane does not have (SID
    // updates and queries do not).
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->kind == Kind::Snapshot || it->kind == Kind::Increment) {
            counters_.ops_dropped += it->ops.size();
            finish(*it, PushResult{false, 0, "dataplane out of sync (" + why + "): kept, sent in the next full snapshot"},
                   {});
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
    const auto delay = resync_backoff_;
    resync_backoff_ = std::min<Clock::duration>(resync_backoff_ * 2, kMaxResyncBackoff);
    log_warn("dataplane: full resync in " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()) + " ms");
    const std::uint64_t gen = conn_gen_;
    resync_timer_.expires_after(delay);
    resync_timer_.async_wait([this, gen](const error_code& e) {
        if (e || gen != conn_gen_ || stopped_ || state_ != State::Up)
            return;
        resync_pending_ = false;
        Req snap;
        snap.kind = Kind::Snapshot;
        queue_.push_front(std::move(snap));
        kick();
    });
}

void DataplaneLink::finish(Req& req, const PushResult& r, const std::string& query_error) {
    if (req.kind == Kind::Query) {
        if (req.reply)
            req.reply(query_error.empty() ? r.note : query_error, {});
        return;
    }
    if (req.kind == Kind::Sid) {
        if (req.sid_done)
            req.sid_done(SidResult{false, false, 0, query_error.empty() ? r.note : query_error});
        return;
    }
    for (const PushFn& f : req.acks)
        if (f)
            f(r);
    req.acks.clear();
}

void DataplaneLink::fail_pending(const std::string& why) {
    std::deque<Req> q = std::move(queue_);
    queue_.clear();
    if (inflight_) {
        q.push_front(std::move(*inflight_));
        inflight_.reset();
    }
    for (Req& r : q) {
        counters_.ops_dropped += r.ops.size();
        finish(r, PushResult{false, 0, why + ": kept, sent in the full snapshot when the dataplane connects"},
               "dataplane: " + why);
    }
}

void DataplaneLink::disconnect(const std::string& why) {
    if (stopped_)
        return;
    ++counters_.disconnects;
    log_warn("dataplane: " + why + "; disconnecting (the dataplane keeps its last table)");
    note_error(why);
    notify({{"type", "link"}, {"state", "down"}, {"why", why}});
    ++conn_gen_;
    error_code ignored;
    sock_.close(ignored);
    request_timer_.cancel();
    resync_timer_.cancel();
    resync_pending_ = false;
    state_ = State::Down;
    logged_down_ = true;
    fail_pending("dataplane disconnected (" + why + ")");
    const std::uint64_t gen = conn_gen_;
    retry_timer_.expires_after(retry_interval_);
    retry_timer_.async_wait([this, gen](const error_code& e) {
        if (!e && gen == conn_gen_)
            connect();
    });
}

void DataplaneLink::note_error(const std::string& what) {
    last_error_ = what;
    last_error_at_ = Clock::now();
}

Json DataplaneLink::status_json() const {
    static constexpr const char* kState[] = {"down", "connecting", "holding", "up"};
    Json j = {{"socket", path_},
              {"state", kState[static_cast<int>(state_)]},
              {"in_sync", state_ == State::Up && !resync_pending_},
              {"table_version", nullptr},
              {"last_sync_unix_ms", nullptr},
              {"last_sync_ms_ago", nullptr},
              {"queued", queue_.size()},
              {"in_flight", inflight_.has_value()},
              {"last_error", last_error_},
              {"last_error_ms_ago", nullptr}};
    if (last_error_at_)
        j["last_error_ms_ago"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *last_error_at_).count();
    if (table_version_)
        j["table_version"] = *table_version_;
    if (last_ack_wall_)
        j["last_sync_unix_ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(last_ack_wall_->time_since_epoch()).count();
    if (last_ack_)
        j["last_sync_ms_ago"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *last_ack_).count();
    return j;
}

Json DataplaneLink::update_latency_json() const {
    const auto secs = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    if (!last_update_latency_)
        return Json{{"last_s", nullptr}, {"max_s", nullptr}};
    return Json{{"last_s", secs(*last_update_latency_)}, {"max_s", secs(max_update_latency_)}};
}

Json DataplaneLink::counters_json() const {
    const LinkCounters& c = counters_;
    return Json{{"connects", c.connects},
                {"disconnects", c.disconnects},
                {"snapshots_sent", c.snapshots_sent},
                {"increments_sent", c.increments_sent},
                {"ops_sent", c.ops_sent},
                {"ops_dropped", c.ops_dropped},
                {"acks", c.acks},
                {"update_errors", c.update_errors},
                {"queries", c.queries},
                {"query_errors", c.query_errors},
                {"protocol_errors", c.protocol_errors},
                {"timeouts", c.timeouts},
                {"sid_updates", c.sid_updates},
                {"sid_errors", c.sid_errors}};
}

}  // namespace cats::control
