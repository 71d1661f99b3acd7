// SPDX-License-Identifier: BSD-3-Clause
#include "daemon.hpp"

#include <algorithm>
#include <utility>

#include "log.hpp"
#include "replay_state.hpp"

namespace cats::control {

using Json = nlohmann::json;
using boost::system::error_code;

namespace {

// "sid add fc00:e::d6 End.DX6 via 2001:db8:ff::d", "sid del fc00:e::/64",
// for the log.
std::string req_text(const Json& sid_args, bool add) {
    std::string t = std::string(add ? "sid add " : "sid del ") + sid_args.value("sid", "");
    if (add)
        t += " " + sid_args.value("behavior", "");
    if (sid_args.contains("next_hop"))
        t += " via " + sid_args.value("next_hop", "");
    return t;
}

// Dataplane replies are passed through as JSON; text that is not JSON is
// reported, never forwarded as if it were.
bool parse_dataplane_json(const std::string& text, Json& out) {
    // Bounded depth: the reply is copied into a response and printed.
    if (!ctl::depth_within(text, 2 * ctl::kMaxDepth))
        return false;
    out = Json::parse(text, nullptr, false);
    return !out.is_discarded();
}

}  // namespace

Daemon::Daemon(boost::asio::io_context& io, Config cfg)
    : io_(io),
      cfg_(std::move(cfg)),
      rib_(cfg_.policy),
      rx_(cfg_.peers, cfg_.policy.default_lifetime_cap_s, rib_),
      link_(io, cfg_.dataplane_socket, [this] { return rib_.snapshot(); },
            cfg_.peers.empty() ? Clock::duration::zero() : std::chrono::seconds(cfg_.policy.startup_hold_s)),
      timer_(io),
      persist_timer_(io),
      events_(io),
      sample_timer_(io) {
    link_.set_observer([this](Json e) { events_.add(std::move(e)); });
    link_.set_on_connect([this] { resend_sids(); });
    rib_.load_static(cfg_.services);
    // Replay state before the first datagram can be heard.
    if (!cfg_.state_dir.empty()) {
        ensure_state_dir(cfg_.state_dir);
        replay_path_ = cfg_.state_dir + "/" + kReplayStateFile;
        const auto seqs = load_replay_state(replay_path_);
        rx_.restore_sequences(seqs);
        log_info("advert: replay state of " + std::to_string(seqs.size()) + " node(s) from " + replay_path_);
    } else if (!cfg_.peers.empty()) {
        log_warn("advert: no state_dir: replay protection does not survive a restart of cats-control");
    }
    for (const PeerConfig& p : cfg_.peers)
        if (p.scope.unrestricted())
            log_warn("advert: peer " + p.name + " (key id " + std::to_string(p.key_id) +
                     ") has no scope: it may advertise any CS-ID and instance id, up to the whole table "
                     "(set peers[].cs_ids, instance_ids, max_instances)");
    ctl_ = std::make_unique<CtlServer>(io, cfg_.ctl_socket,
                                       [this](const ctl::Request& r, CtlServer::Respond resp) { handle(r, std::move(resp)); });
    try {
        listener_ = std::make_unique<AdvertListener>(io, cfg_.listen, rx_,
                                                     [this](std::vector<mgmt::Op> ops) { on_ops(std::move(ops)); });
        if (cfg_.metrics) {
            const MetricsConfig& mc = *cfg_.metrics;
            try {
                metrics_ = std::make_unique<MetricsServer>(io, mc.address, mc.port, [this](auto done) {
                    scrape(std::move(done));
                });
            } catch (const boost::system::system_error& e) {
                throw std::runtime_error("metrics: cannot listen on http://[" + mc.address + "]:" +
                                         std::to_string(mc.port) + ": " + e.code().message());
            }
            log_info("metrics: serving http://[" + mc.address + "]:" + std::to_string(metrics_->port()) + "/metrics");
        }
    } catch (...) {
        ctl_->stop();
        throw;
    }
    log_info("rib: " + std::to_string(rib_.service_count()) + " static services, " +
             std::to_string(rib_.instance_count()) + " instances; " + std::to_string(cfg_.peers.size()) +
             " peer keys");
}

Daemon::~Daemon() {
    stop();
}

void Daemon::start() {
    link_.start();
    reschedule();
    schedule_persist();
}

void Daemon::schedule_persist() {
    if (replay_path_.empty() || stopped_)
        return;
    persist_timer_.expires_after(std::chrono::seconds(1));
    persist_timer_.async_wait([this](const error_code& e) {
        if (e || stopped_)
            return;
        persist_replay_state();
        schedule_persist();
    });
}

void Daemon::persist_replay_state() {
    if (replay_path_.empty() || !rx_.dirty())
        return;
    try {
        save_replay_state(replay_path_, rx_.sequences());
        rx_.take_dirty();
        ++replay_saves_;
    } catch (const std::exception& e) {
        ++replay_save_errors_;
        log_error("advert: cannot save the replay state: " + std::string(e.what()));
    }
}

void Daemon::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    timer_.cancel();
    persist_timer_.cancel();
    sample_timer_.cancel();
    events_.stop();
    persist_replay_state();
    if (listener_)
        listener_->stop();
    if (ctl_)
        ctl_->stop();
    if (metrics_)
        metrics_->stop();
    link_.stop();
}

void Daemon::note_loop_error(const std::string& what) {
    ++loop_errors_;
    log_error("internal error (the daemon goes on): " + what);
}

std::vector<std::uint16_t> Daemon::advert_ports() const {
    return listener_ ? listener_->local_ports() : std::vector<std::uint16_t>{};
}

void Daemon::on_ops(std::vector<mgmt::Op> ops) {
    // A withdraw's sequence is written before anything else happens: its
    // advertisement must not come back after a crash.
    if (rx_.urgent())
        persist_replay_state();
    // Every instance event to the monitor; the first kLogged to the log.
    static constexpr std::size_t kLogged = 20;
    const Rib::Events ev = rib_.take_events();
    for (std::size_t i = 0; i < ev.list.size(); ++i) {
        const Rib::Event& e = ev.list[i];
        if (i < kLogged)
            log_info("rib: " + e.text());
        events_.add({{"type", "instance"},
                     {"cs_id", e.cs_id},
                     {"instance", e.id},
                     {"state", e.up ? "up" : "down"},
                     {"origin", "advert"},
                     {"node", e.node_id},
                     {"why", e.why}});
    }
    if (const std::uint64_t more = ev.list.size() - std::min(ev.list.size(), kLogged) + ev.left_out; more != 0)
        log_info("rib: ... and " + std::to_string(more) + " more instance event(s)");
    if (ev.left_out != 0)
        events_.add({{"type", "lost"}, {"what", "instance"}, {"count", ev.left_out}});
    if (!ops.empty())
        link_.push(std::move(ops));
    reschedule();
}

void Daemon::reschedule() {
    if (stopped_)
        return;
    const std::optional<Time> next = rib_.next_deadline();
    if (next == timer_at_)
        return;
    timer_at_ = next;
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(*next);
    timer_.async_wait([this](const error_code& e) {
        if (!e && !stopped_)
            on_timer();
    });
}

void Daemon::on_timer() {
    timer_at_.reset();
    const Time now = Clock::now();
    const std::uint64_t expired_before = rib_.counters().expired;
    std::vector<mgmt::Op> ops = rib_.expire(now);
    if (const std::uint64_t n = rib_.counters().expired - expired_before; n > 1)
        log_info("rib: " + std::to_string(n) + " advertised instance(s) expired (no refresh within their lifetime)");
    std::vector<mgmt::Op> flushed = rib_.flush(now);
    std::move(flushed.begin(), flushed.end(), std::back_inserter(ops));
    on_ops(std::move(ops));
}

void Daemon::handle(const ctl::Request& req, CtlServer::Respond respond) {
    const Time now = Clock::now();
    const std::string& cmd = req.cmd;
    if (cmd == ctl::kInstanceAdd || cmd == ctl::kInstanceSet || cmd == ctl::kInstanceDel ||
        cmd == ctl::kInstanceDrain || cmd == ctl::kInstanceUndrain)
        return instance_cmd(req, std::move(respond));
    if (cmd == ctl::kSidAdd || cmd == ctl::kSidDel)
        return sid_cmd(req, std::move(respond));
    if (cmd == ctl::kFlowList) {
        ctl::FlowArgs a;
        if (const std::string e = ctl::parse_flow_args(req.args, a); !e.empty())
            return respond(ctl::encode_error(e));
        mgmt::FlowsQuery q;
        q.cs_id = a.cs_id;
        q.instance_id = a.instance_id;
        q.limit = a.limit;
        std::vector<std::uint8_t> payload;
        mgmt::encode_flows_query(q, payload);
        return dataplane_query(mgmt::MsgType::FlowsReq, std::move(payload), std::move(respond), {},
                               [](const Json& reply, Json& result) {
                                   result = reply;
                                   return std::string();
                               });
    }
    if (cmd == ctl::kServiceList) {
        ctl::ServiceListArgs a;
        if (const std::string e = ctl::parse_service_list_args(req.args, a); !e.empty())
            return respond(ctl::encode_error(e));
        Json result = rib_.to_json(now, a);
        if (!link_.up())
            return respond(ctl::encode_ok(result));
        // Which of them the dataplane cannot steer to: from its STATUS (small,
        // whatever the table's size). No answer: the list as the RIB has it.
        return link_.query(mgmt::MsgType::StatusReq, {},
                           [result = std::move(result), respond = std::move(respond)](
                               const std::string& err, const std::string& text) mutable {
                               Json dp;
                               if (err.empty() && parse_dataplane_json(text, dp))
                                   ctl::annotate_resolution(result, ctl::unresolved_from_status(dp));
                               respond(ctl::encode_ok(result));
                           });
    }
    if (cmd == ctl::kEvents) {
        ctl::EventsArgs a;
        if (const std::string e = ctl::parse_events_args(req.args, a); !e.empty())
            return respond(ctl::encode_error(e));
        events_.poll(a, [respond = std::move(respond)](Json r) {
            respond(r.is_string() ? ctl::encode_error(r.get<std::string>()) : ctl::encode_ok(r));
        });
        if (!sampling_)
            sample();
        return;
    }
    if (const std::string e = ctl::parse_no_args(req.args); !e.empty())
        return respond(ctl::encode_error(e));
    if (cmd == ctl::kPeerList)
        return respond(ctl::encode_ok(rx_.peers_json(now)));
    if (cmd == ctl::kStats) {
        Json base = {{"control", control_stats()}};
        return dataplane_merge(mgmt::MsgType::StatsReq, std::move(base), std::move(respond));
    }
    if (cmd == ctl::kDataplaneStatus) {
        Json base = {{"link", link_.status_json()}};
        return dataplane_merge(mgmt::MsgType::StatusReq, std::move(base), std::move(respond));
    }
    // Neighbors and ports live in the dataplane: its STATS reply carries
    // them (ctl_wire.hpp), and there is nothing to say without it.
    if (cmd == ctl::kNeighborList)
        return dataplane_query(mgmt::MsgType::StatsReq, {}, std::move(respond), "cannot list neighbors",
                               ctl::neighbor_list_result);
    if (cmd == ctl::kPortList)
        return dataplane_query(mgmt::MsgType::StatsReq, {}, std::move(respond), "cannot list ports",
                               ctl::port_list_result);
    if (cmd == ctl::kRouteList)
        return dataplane_query(mgmt::MsgType::StatsReq, {}, std::move(respond), "cannot list routes",
                               ctl::route_list_result);
    // Local SIDs: the dataplane's, each marked with where it came from.
    if (cmd == ctl::kSidList)
        return dataplane_query(mgmt::MsgType::StatsReq, {}, std::move(respond), "cannot list local SIDs",
                               [this](const Json& stats, Json& result) {
                                   std::string e = ctl::sid_list_result(stats, result);
                                   if (!e.empty())
                                       return e;
                                   for (Json& s : result["sids"]) {
                                       const auto it = s.find("sid");
                                       const auto key = it != s.end() && it->is_string()
                                                            ? ctl::parse_sid_prefix(it->get<std::string>())
                                                            : std::nullopt;
                                       s["origin"] = key && sids_.contains(*key) ? "cli" : "config";
                                   }
                                   return e;
                               });
    if (cmd == ctl::kPolicyList)
        return dataplane_query(mgmt::MsgType::StatsReq, {}, std::move(respond), "cannot list policies",
                               ctl::policy_list_result);
    respond(ctl::encode_error("request.cmd: '" + cmd + "' is not implemented"));
}

void Daemon::dataplane_query(mgmt::MsgType type, std::vector<std::uint8_t> payload, CtlServer::Respond respond,
                             std::string context, Extract extract) {
    link_.query(type, std::move(payload),
                [respond = std::move(respond), context = std::move(context), extract = std::move(extract)](
                    const std::string& err, const std::string& text) {
                    Json dp;
                    Json result;
                    std::string e = err;
                    if (e.empty() && !parse_dataplane_json(text, dp))
                        e = "dataplane: reply is not valid JSON";
                    if (e.empty())
                        e = extract(dp, result);
                    if (!e.empty())
                        return respond(ctl::encode_error(context.empty() ? e : context + ": " + e));
                    respond(ctl::encode_ok(result));
                });
}

void Daemon::dataplane_merge(mgmt::MsgType type, Json base, CtlServer::Respond respond) {
    link_.query(type, {},
                [base = std::move(base), respond = std::move(respond)](const std::string& err,
                                                                       const std::string& text) mutable {
                    Json dp;
                    std::string e = err;
                    if (e.empty() && !parse_dataplane_json(text, dp))
                        e = "dataplane: reply is not valid JSON";
                    base["dataplane"] = e.empty() ? dp : Json();
                    if (!e.empty())
                        base["dataplane_error"] = e;
                    respond(ctl::encode_ok(base));
                });
}

Json Daemon::control_stats() const {
    Json c = {{"advert", rx_.counters_json()},
              {"advert_socket_drops", listener_ ? listener_->socket_drops() : 0},
              {"peers", cfg_.peers.size()},
              {"replay_state",
               {{"file", replay_path_.empty() ? Json(nullptr) : Json(replay_path_)},
                {"saves", replay_saves_},
                {"save_errors", replay_save_errors_}}},
              {"rib", rib_.counters_json()},
              {"ctl",
               {{"requests", ctl_ ? ctl_->counters().requests : 0},
                {"throttled", ctl_ ? ctl_->counters().throttled : 0},
                {"handler_errors", ctl_ ? ctl_->counters().handler_errors : 0},
                {"loop_errors", loop_errors_}}},
              {"dataplane_link", link_.counters_json()},
              {"update_latency", link_.update_latency_json()}};
    if (metrics_) {
        const MetricsServer::Counters& m = metrics_->counters();
        c["metrics"] = {{"scrapes", m.scrapes}, {"not_found", m.not_found}, {"bad_requests", m.bad_requests},
                        {"refused", m.refused}};
    }
    return c;
}

// One scrape: cats-control's counters and the link's state now, the
// dataplane's stats when it answers.
void Daemon::scrape(std::function<void(std::string)> done) {
    Json control = control_stats();
    control["link"] = link_.status_json();
    if (!link_.up())
        return done(format_metrics(control, Json()));
    link_.query(mgmt::MsgType::StatsReq, {},
                [control = std::move(control), done = std::move(done)](const std::string& err,
                                                                       const std::string& text) {
                    Json dp;
                    if (!err.empty() || !parse_dataplane_json(text, dp))
                        dp = Json();
                    done(format_metrics(control, dp));
                });
}

void Daemon::schedule_sample() {
    sample_timer_.expires_after(std::chrono::seconds(1));
    sample_timer_.async_wait([this](const error_code& e) {
        if (!e && !stopped_)
            sample();
    });
}

void Daemon::sample() {
    const Time now = Clock::now();
    if (stopped_ || !events_.watched(now)) {
        // Nobody watches: no queries, and the next watcher starts afresh.
        sampling_ = false;
        sampled_drops_ = sampled_neighbors_ = Json();
        return;
    }
    sampling_ = true;
    schedule_sample();
    if (!link_.up()) {
        sampled_drops_ = sampled_neighbors_ = Json();
        return;
    }
    link_.query(mgmt::MsgType::StatsReq, {}, [this](const std::string& err, const std::string& text) {
        Json dp;
        if (stopped_ || !err.empty() || !parse_dataplane_json(text, dp) || !dp.is_object())
            return;
        const Time at = Clock::now();
        const Json drops = dp.value("drops", Json());
        const Json neighbors = dp.value(std::string(ctl::kStatsNeighbors), Json());
        if (!sampled_drops_.is_null()) {
            const double dt = std::chrono::duration<double>(at - sampled_at_).count();
            if (Json d = drop_rates(sampled_drops_, drops, dt); !d.is_null())
                events_.add(std::move(d));
            for (Json& n : neighbor_changes(sampled_neighbors_, neighbors))
                events_.add(std::move(n));
        }
        sampled_drops_ = drops.is_null() ? Json::object() : drops;
        sampled_neighbors_ = neighbors.is_null() ? Json::array() : neighbors;
        sampled_at_ = at;
    });
}

void Daemon::sid_cmd(const ctl::Request& req, CtlServer::Respond respond) {
    const bool add = req.cmd == ctl::kSidAdd;
    mgmt::SidOp op;
    if (const std::string e = ctl::parse_sid_args(req.args, add ? ctl::SidCmd::Add : ctl::SidCmd::Del, op);
        !e.empty())
        return respond(ctl::encode_error(e));
    link_.sid_update(op, [this, op, add, respond = std::move(respond)](const DataplaneLink::SidResult& r) {
        const std::pair<ctl::Sid, std::uint8_t> key{op.sid, op.prefix_len};
        const std::string text = ctl::format_sid_prefix(op.sid, op.prefix_len);
        if (!r.applied) {
            // A del the dataplane refuses (the SID is not there): nothing
            // to add back on the next connection either.
            if (!add && r.refused)
                sids_.erase(key);
            return respond(ctl::encode_error(r.refused ? "dataplane refused: " + r.error
                                                       : std::string(add ? "cannot add" : "cannot delete") +
                                                             " sid " + text + ": " + r.error));
        }
        if (add)
            sids_[key] = op;
        else
            sids_.erase(key);
        Json result = ctl::sid_args_to_json(op);
        log_info("ctl: " + req_text(result, add) + " (SID table version " + std::to_string(r.sid_table_version) + ")");
        result["applied"] = true;
        result["sid_table_version"] = r.sid_table_version;
        respond(ctl::encode_ok(result));
    });
}

void Daemon::resend_sids() {
    if (sids_.empty())
        return;
    log_info("dataplane: adding again the " + std::to_string(sids_.size()) + " local SID(s) added with catsctl");
    for (const auto& [key, op] : sids_) {
        link_.sid_update(op, [this, key = key, op = op](const DataplaneLink::SidResult& r) {
            // Not sent (the link went down): the next connection tries again.
            if (r.applied || !r.refused)
                return;
            const auto it = sids_.find(key);
            if (it == sids_.end() || !(it->second == op))
                return;  // deleted or changed meanwhile
            sids_.erase(it);
            log_error("dataplane: refused local SID " + ctl::format_sid_prefix(op.sid, op.prefix_len) +
                      " added with catsctl, forgotten: " + r.error);
        });
    }
}

std::uint16_t Daemon::metrics_port() const noexcept {
    return metrics_ ? metrics_->port() : 0;
}

void Daemon::instance_cmd(const ctl::Request& req, CtlServer::Respond respond) {
    const Time now = Clock::now();
    const bool drain = req.cmd == ctl::kInstanceDrain || req.cmd == ctl::kInstanceUndrain;
    // drain/undrain take what del takes: the instance's key.
    const ctl::InstanceCmd kind = req.cmd == ctl::kInstanceAdd   ? ctl::InstanceCmd::Add
                                  : req.cmd == ctl::kInstanceSet ? ctl::InstanceCmd::Set
                                                                 : ctl::InstanceCmd::Del;
    ctl::InstanceArgs a;
    if (const std::string e = ctl::parse_instance_args(req.args, kind, a); !e.empty())
        return respond(ctl::encode_error(e));
    std::vector<mgmt::Op> ops;
    std::string err;
    if (drain) {
        err = rib_.cli_drain(a.cs_id, a.id, req.cmd == ctl::kInstanceDrain, now, ops);
    } else {
        switch (kind) {
        case ctl::InstanceCmd::Add: err = rib_.cli_add(a, now, ops); break;
        case ctl::InstanceCmd::Set: err = rib_.cli_set(a, now, ops); break;
        case ctl::InstanceCmd::Del: err = rib_.cli_del(a.cs_id, a.id, now, ops); break;
        }
    }
    if (!err.empty())
        return respond(ctl::encode_error(err));
    log_info("ctl: " + req.cmd + " cs " + std::to_string(a.cs_id) + " instance " + std::to_string(a.id));
    {
        static constexpr const char* kState[] = {"up", "down", "changed"};
        const char* state = drain ? (req.cmd == ctl::kInstanceDrain ? "drained" : "undrained")
                                  : kState[static_cast<int>(kind)];
        events_.add({{"type", "instance"},
                     {"cs_id", a.cs_id},
                     {"instance", a.id},
                     {"state", state},
                     {"origin", "operator"},
                     {"why", "by catsctl " + std::string(req.cmd == ctl::kInstanceAdd    ? "instance add"
                                                       : req.cmd == ctl::kInstanceDel  ? "instance del"
                                                       : req.cmd == ctl::kInstanceSet  ? "instance set"
                                                       : req.cmd == ctl::kInstanceDrain ? "instance drain"
                                                                                        : "instance undrain")}});
    }
    reschedule();  // a set may have cancelled a held change
    Json result = {{"cs_id", a.cs_id}, {"id", a.id}, {"changed", !ops.empty()}};
    if (ops.empty()) {
        // Nothing differs from what the dataplane has, or the dataplane has
        // not had its first snapshot (which will carry the change).
        result["applied"] = false;
        result["table_version"] = nullptr;
        result["note"] = link_.up() ? "no change" : "dataplane not in sync yet: sent in its first snapshot";
        return respond(ctl::encode_ok(result));
    }
    link_.push(std::move(ops), [this, kind, result, respond = std::move(respond)](
                                   const DataplaneLink::PushResult& r) mutable {
        result["applied"] = r.applied;
        result["table_version"] = r.applied ? Json(r.table_version) : Json();
        if (!r.note.empty())
            result["note"] = r.note;
        if (!r.applied || kind == ctl::InstanceCmd::Del)  // (drain and undrain change no SID)
            return respond(ctl::encode_ok(result));
        // Say at once when the dataplane cannot steer to it (an unroutable
        // SID), rather than only in its stats.
        link_.query(mgmt::MsgType::StatusReq, {},
                    [result = std::move(result), respond = std::move(respond)](const std::string& err,
                                                                               const std::string& text) mutable {
                        Json dp;
                        if (err.empty() && parse_dataplane_json(text, dp)) {
                            const ctl::Unresolved u = ctl::unresolved_from_status(dp);
                            const auto it = u.reasons.find(
                                {result["cs_id"].get<std::uint32_t>(), result["id"].get<std::uint32_t>()});
                            if (it != u.reasons.end()) {
                                result["resolved"] = false;
                                result["unresolved_reason"] = it->second;
                            } else if (u.known && u.complete) {
                                result["resolved"] = true;
                            }
                        }
                        respond(ctl::encode_ok(result));
                    });
    });
}

}  // namespace cats::control
