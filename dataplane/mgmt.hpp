// SPDX-License-Identifier: BSD-3-Clause
// The dataplane end of the management channel (proto-defs/mgmt_wire.hpp):
// a Unix stream socket on which cats-control sends table updates and asks
// for status, stats and flows. Each UPDATE batch becomes one new table
// version (or none: an invalid batch changes nothing and is answered with
// the error), published to the workers under RCU without stopping them.
//
// Thread safety: everything here runs on the management thread, the one
// writer of the service table.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mgmt_wire.hpp"
#include "service_table.hpp"

namespace cats::dp {

struct MgmtHooks {
    std::function<nlohmann::json()> status;
    std::function<nlohmann::json()> stats;
    std::function<nlohmann::json(const mgmt::FlowsQuery&)> flows;
};

// Turn a batch into the next table: `next` starts as the current configs,
// `changed` collects the CS-IDs touched. Returns "" or the error, naming the
// op index (nothing is applied on error).
std::string apply_batch(const mgmt::Batch& b, std::map<std::uint32_t, ServiceConfig>& next,
                        std::set<std::uint32_t>& changed);

class MgmtServer {
public:
    // Binds and listens on `path` (a stale socket file is replaced).
    // Throws std::runtime_error naming the path.
    MgmtServer(std::string path, ServiceTable& table, MgmtHooks hooks);
    ~MgmtServer();
    MgmtServer(const MgmtServer&) = delete;
    MgmtServer& operator=(const MgmtServer&) = delete;

    // Wait up to timeout_ms for activity, then accept, read and answer.
    void poll(int timeout_ms);

    std::uint64_t updates_applied() const noexcept { return applied_; }
    std::uint64_t updates_rejected() const noexcept { return rejected_; }
    std::uint64_t messages_malformed() const noexcept { return malformed_; }
    std::size_t clients() const noexcept { return clients_.size(); }
    double last_update_unix() const noexcept { return last_update_unix_; }

private:
    struct Client {
        int fd = -1;
        std::vector<std::uint8_t> in;
    };
    void accept_clients();
    bool serve(Client& c);  // false: close the client
    bool handle(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload);
    bool send(Client& c, mgmt::MsgType type, std::uint32_t seq, std::span<const std::uint8_t> payload);

    std::string path_;
    int listen_fd_ = -1;
    ServiceTable& table_;
    MgmtHooks hooks_;
    std::vector<Client> clients_;
    std::uint64_t applied_ = 0, rejected_ = 0, malformed_ = 0;
    double last_update_unix_ = 0;
};

}  // namespace cats::dp
