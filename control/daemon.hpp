// SPDX-License-Identifier: BSD-3-Clause
// cats-control wired together: the RIB, the advert listener, the dataplane
// link, the catsctl server and the timer that ages the RIB and flushes held
// changes. main.cpp adds the command line and signals; tests run a Daemon
// on their own io_context against a fake dataplane.
//
// Thread safety: none; everything runs on the one io_context thread (so
// the RIB needs no lock).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "advert.hpp"
#include "config.hpp"
#include "ctl.hpp"
#include "dplink.hpp"
#include "events.hpp"
#include "metrics.hpp"
#include "rib.hpp"

namespace cats::control {

class Daemon {
public:
    // Binds every socket; throws std::runtime_error (or a Boost
    // system_error) saying which one failed.
    Daemon(boost::asio::io_context& io, Config cfg);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    void start();
    // Close every socket and remove the ctl socket; the io_context then
    // runs out of work.
    void stop();

    // An exception escaped a handler of the io_context (main.cpp catches
    // it and runs the loop again): log and count it (stats:
    // control.ctl.loop_errors).
    void note_loop_error(const std::string& what);

    std::vector<std::uint16_t> advert_ports() const;
    // The metrics endpoint's port (config `metrics`), or 0 without one.
    std::uint16_t metrics_port() const noexcept;
    DataplaneLink& link() noexcept { return link_; }
    const Rib& rib() const noexcept { return rib_; }
    const EventLog& events() const noexcept { return events_; }

private:
    void on_ops(std::vector<mgmt::Op> ops);
    // Write the replay state if it moved (`force`: even if not urgent).
    // Errors are logged and counted; the daemon goes on.
    void persist_replay_state();
    void schedule_persist();
    void reschedule();
    void on_timer();
    void handle(const ctl::Request& req, CtlServer::Respond respond);
    // While someone watches the events (EventLog::watched), once a second:
    // the dataplane's drops per second and neighbor changes as events.
    void sample();
    void schedule_sample();
    void instance_cmd(const ctl::Request& req, CtlServer::Respond respond);
    // sid.add, sid.del: forwarded to the dataplane (SID_UPDATE); what it
    // accepts is remembered in sids_.
    void sid_cmd(const ctl::Request& req, CtlServer::Respond respond);
    // On every connection to the dataplane: sids_ again, one SID_UPDATE
    // each. One the dataplane now refuses (restarted with a config where
    // its next hop is unreachable) is forgotten, with an error in the log.
    void resend_sids();
    // The "control" part of `catsctl stats` and of the metrics.
    nlohmann::json control_stats() const;
    // One /metrics body (metrics.hpp), given to `done`.
    void scrape(std::function<void(std::string)> done);
    // Makes the dataplane's reply into the result: "" or an error.
    using Extract = std::function<std::string(const nlohmann::json& reply, nlohmann::json& result)>;
    // A result made from the dataplane's reply alone: an error (with
    // `context` before it, if given) when the dataplane is not connected.
    void dataplane_query(mgmt::MsgType type, std::vector<std::uint8_t> payload, CtlServer::Respond respond,
                         std::string context, Extract extract);
    // Control's own part `base`, with the dataplane's reply under
    // "dataplane": useful without the dataplane too (then "dataplane" is
    // null and "dataplane_error" says why).
    void dataplane_merge(mgmt::MsgType type, nlohmann::json base, CtlServer::Respond respond);

    boost::asio::io_context& io_;
    Config cfg_;
    Rib rib_;
    AdvertReceiver rx_;
    DataplaneLink link_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer persist_timer_;  // replay state, once a second when it moved
    std::string replay_path_;                  // empty: no state_dir
    std::uint64_t replay_saves_ = 0, replay_save_errors_ = 0;
    std::optional<Time> timer_at_;
    std::unique_ptr<AdvertListener> listener_;
    std::unique_ptr<CtlServer> ctl_;
    std::unique_ptr<MetricsServer> metrics_;
    bool stopped_ = false;
    std::uint64_t loop_errors_ = 0;
    EventLog events_;
    // The local SIDs added with catsctl that the dataplane accepted, by
    // (address, prefix length); in memory only, like CLI instances.
    std::map<std::pair<ctl::Sid, std::uint8_t>, mgmt::SidOp> sids_;
    boost::asio::steady_timer sample_timer_;
    bool sampling_ = false;
    // The last sample (STATS "drops" and "neighbors"), null before one.
    nlohmann::json sampled_drops_, sampled_neighbors_;
    Time sampled_at_{};
};

}  // namespace cats::control
