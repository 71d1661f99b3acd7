// SPDX-License-Identifier: BSD-3-Clause
// The dataplane end of the management channel (proto-defs/mgmt_wire.hpp):
// a Unix stream socket on which cats-control sends table updates and asks
// for status, stats and flows. Each UPDATE batch becomes one new table
// version (or none: an invalid batch changes nothing and is answered with
// the error), published to the workers under RCU without stopping them.
// Each SID_UPDATE likewise adds or removes one local SID (sid_table.hpp):
// one new SID table version, or none and the error naming the SID and
// field.
//
// Who may connect (see dataplane/README.md, "Management socket"):
//   - the socket file is created 0660 (whatever the umask) and, when its
//     directory is missing, that directory 0750; with --mgmt-group both
//     belong to that group;
//   - each client's credentials (SO_PEERCRED, SO_PEERGROUPS) are checked
//     when it connects: a *manager* is root or the dataplane's own user
//     (cats-control runs as one); a *member* has the --mgmt-group as its
//     primary or a supplementary group; anyone else is refused;
//   - at most kMaxClients at once, of which members take at most
//     kMaxClients - kReservedForManagers: a slot is always kept for
//     cats-control. A manager that finds every slot taken evicts the client
//     that has been stalled longest (mid-message, or not reading its reply);
//   - a message that has started must be complete within kReadDeadlineMs,
//     a reply must be taken by the client within kWriteDeadlineMs, and a
//     member idle for kMemberIdleMs is disconnected. Replies are written
//     without blocking: a client's reply waits in its own buffer (at most
//     one reply: its next request is not read before), so a client that
//     does not read never holds up the others;
//   - the server refuses to start when another process answers on the
//     path, replaces only a stale socket file, and on exit unlinks the path
//     only if it is still the socket it created.
//
// Thread safety: everything here runs on the management thread, the one
// writer of the service table.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mgmt_wire.hpp"
#include "service_table.hpp"
#include "sid_table.hpp"

namespace cats::dp {

struct MgmtHooks {
    std::function<nlohmann::json()> status;
    std::function<nlohmann::json()> stats;
    std::function<nlohmann::json(const mgmt::FlowsQuery&)> flows;
    // The local SID table SID_UPDATE edits (it must outlive the server);
    // null: SID_UPDATE is answered Unsupported.
    SidTable* sids = nullptr;
    // Optional: what the SID table cannot check itself (a port's own
    // address): "" or why the SID is refused (after "sid <SID>: ").
    std::function<std::string(const LocalSidConfig&)> check_sid;
};

// A SID_UPDATE add as the SID table takes it: the behaviour from its IANA
// code point, the prefix and next hop as they are (the table checks them).
LocalSidConfig sid_config(const mgmt::SidOp& op);

// Who may use the socket besides root and the dataplane's own user.
struct MgmtAccess {
    std::optional<gid_t> group;  // --mgmt-group
};

// An UPDATE batch turned into the edits of the next table version, read
// and applied one operation at a time (mgmt::BatchReader): what it holds is
// the services the batch touches, never the decoded batch, so its memory is
// a small multiple of the batch's size whatever the ops are. Each touched
// service's instances are indexed by id, so an op costs O(1) on average and
// a batch costs time linear in its size.
struct BatchResult {
    mgmt::Status status = mgmt::Status::Ok;  // Malformed, or Rejected (by the table's state)
    std::string error;                       // names the op index and field
    bool replace_all = false;
    std::size_t ops = 0;
    // !replace_all: the changes to lay over `base` (ServiceTable::commit_changes).
    ServiceTable::Changes changes;
    // replace_all: the whole new table.
    std::map<std::uint32_t, ServiceConfig> all;
};
// `base` is the current table's configs; a batch that would leave more than
// `max_services` services is refused at the op that passes the bound (as is
// a service passing kMaxInstancesPerService), so that what the apply holds
// is bounded by the table's limits as well as by the batch's size.
BatchResult apply_batch(std::span<const std::uint8_t> payload, const std::map<std::uint32_t, ServiceConfig>& base,
                        std::size_t max_services);

enum class PeerClass : std::uint8_t { Refused, Member, Manager };

struct PeerCred {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary (SO_PEERGROUPS)
};

// The access rule above, pure: `self_uid` is the dataplane's effective uid.
PeerClass classify_peer(const PeerCred& peer, uid_t self_uid, const MgmtAccess& access) noexcept;

class MgmtServer {
public:
    static constexpr std::size_t kMaxClients = 8;
    static constexpr std::size_t kReservedForManagers = 1;
    static constexpr int kReadDeadlineMs = 5000;
    static constexpr int kWriteDeadlineMs = 5000;
    static constexpr int kMemberIdleMs = 60000;

    // Creates the socket as described above, listening on `path`. Throws
    // std::runtime_error naming the path (live socket, not a socket, bind
    // or directory errors).
    MgmtServer(std::string path, ServiceTable& table, MgmtHooks hooks, MgmtAccess access = {});
    ~MgmtServer();
    MgmtServer(const MgmtServer&) = delete;
    MgmtServer& operator=(const MgmtServer&) = delete;

    // Wait up to timeout_ms for activity, then accept, read, answer, write
    // pending replies and enforce the deadlines. Never blocks on a client.
    // A request whose handling throws is answered with an error and
    // counted (requests_failed); it never leaves this function.
    void poll(int timeout_ms);

    std::uint64_t updates_applied() const noexcept { return applied_; }
    std::uint64_t updates_rejected() const noexcept { return rejected_; }
    std::uint64_t messages_malformed() const noexcept { return malformed_; }
    std::uint64_t requests_failed() const noexcept { return failed_; }
    std::uint64_t clients_refused() const noexcept { return refused_; }
    std::uint64_t clients_dropped() const noexcept { return dropped_; }
    std::size_t clients() const noexcept { return clients_.size(); }
    double last_update_unix() const noexcept { return last_update_unix_; }

private:
    struct Client {
        int fd = -1;
        bool manager = false;
        std::vector<std::uint8_t> in;   // at most one message
        std::vector<std::uint8_t> out;  // at most one reply, from out_off
        std::size_t out_off = 0;
        std::int64_t read_since_ms = 0;   // in is not empty since
        std::int64_t write_since_ms = 0;  // out is not drained since
        std::int64_t last_active_ms = 0;
        bool close_after_write = false;
    };
    void accept_clients(std::int64_t now);
    void refuse(int fd, const std::string& why, std::uint64_t& counter);
    bool serve(Client& c, std::int64_t now);  // false: close the client
    bool flush(Client& c, std::int64_t now);  // false: close the client
    std::string expired(const Client& c, std::int64_t now) const;  // "" or why
    void dispatch(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload);
    void handle(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload);
    void queue(Client& c, mgmt::MsgType type, std::uint32_t seq, std::span<const std::uint8_t> payload);
    // `version`: the table version the ack carries (default: the service
    // table's).
    void queue_ack(Client& c, std::uint32_t seq, mgmt::Status st, const std::string& err,
                   std::optional<std::uint64_t> version = std::nullopt);
    void handle_sid_update(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload);
    void log_limited(const std::string& line);

    std::string path_;
    int listen_fd_ = -1;
    dev_t dev_ = 0;  // the socket file this server created
    ino_t ino_ = 0;
    ServiceTable& table_;
    MgmtHooks hooks_;
    MgmtAccess access_;
    std::vector<Client> clients_;
    std::uint64_t applied_ = 0, rejected_ = 0, malformed_ = 0, failed_ = 0, refused_ = 0, dropped_ = 0;
    double last_update_unix_ = 0;
    std::int64_t last_log_ms_ = 0;
    std::uint64_t logs_held_ = 0;
    std::int64_t last_version_log_ms_ = 0;
    std::uint64_t versions_unlogged_ = 0;
};

}  // namespace cats::dp
