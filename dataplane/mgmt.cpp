// SPDX-License-Identifier: BSD-3-Clause
#include "mgmt.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace cats::dp {

namespace {

constexpr std::size_t kMaxClients = 8;
constexpr int kWriteTimeoutMs = 2000;

InstanceConfig to_config(const mgmt::InstanceRec& r) {
    InstanceConfig ic;
    ic.id = r.id;
    for (const auto& s : r.sids)
        ic.sids.push_back(s);
    ic.metrics.score = r.metrics.score;
    ic.metrics.load_pct = r.metrics.load_pct;
    ic.metrics.free_capacity = r.metrics.free_capacity;
    ic.metrics.latency_us = r.metrics.latency_us;
    ic.metrics.bandwidth_kbps = r.metrics.bandwidth_kbps;
    ic.metrics.compute_types = r.metrics.compute_types;
    ic.metrics.weight = r.metrics.weight;
    return ic;
}

ServiceConfig to_config(const mgmt::ServiceRec& r) {
    ServiceConfig sc;
    sc.cs_id = r.cs_id;
    sc.name = r.name;
    sc.affinity_timeout_s = r.affinity_timeout_s;
    for (const auto& in : r.instances)
        sc.instances.push_back(to_config(in));
    return sc;
}

double unix_now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string apply_batch(const mgmt::Batch& b, std::map<std::uint32_t, ServiceConfig>& next,
                        std::set<std::uint32_t>& changed) {
    if (b.replace_all) {
        std::map<std::uint32_t, ServiceConfig> all;
        for (std::size_t i = 0; i < b.ops.size(); ++i) {
            const auto& svc = b.ops[i].service;
            if (!all.emplace(svc.cs_id, to_config(svc)).second)
                return "op " + std::to_string(i) + ": service " + std::to_string(svc.cs_id) + " twice";
        }
        // Everything is rebuilt: the caller passes no change set.
        next = std::move(all);
        changed.clear();
        return {};
    }
    for (std::size_t i = 0; i < b.ops.size(); ++i) {
        const mgmt::Op& op = b.ops[i];
        const std::uint32_t cs = op.service.cs_id;
        const std::string where = "op " + std::to_string(i) + ": service " + std::to_string(cs);
        auto it = next.find(cs);
        switch (op.type) {
        case mgmt::OpType::UpsertService: next[cs] = to_config(op.service); break;
        case mgmt::OpType::RemoveService:
            if (it == next.end())
                return where + ": not found";
            next.erase(it);
            break;
        case mgmt::OpType::UpsertInstance: {
            if (it == next.end())
                return where + ": not found";
            auto& insts = it->second.instances;
            const InstanceConfig ic = to_config(op.instance);
            auto pos = std::find_if(insts.begin(), insts.end(), [&](auto& x) { return x.id == ic.id; });
            if (pos != insts.end())
                *pos = ic;
            else
                insts.push_back(ic);
            break;
        }
        case mgmt::OpType::RemoveInstance: {
            if (it == next.end())
                return where + ": not found";
            auto& insts = it->second.instances;
            const auto before = insts.size();
            std::erase_if(insts, [&](auto& x) { return x.id == op.instance.id; });
            if (insts.size() == before)
                return where + " instance " + std::to_string(op.instance.id) + ": not found";
            break;
        }
        }
        changed.insert(cs);
    }
    return {};
}

MgmtServer::MgmtServer(std::string path, ServiceTable& table, MgmtHooks hooks)
    : path_(std::move(path)), table_(table), hooks_(std::move(hooks)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path)
        throw std::runtime_error("--mgmt-socket " + path_ + ": path too long");
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0)
        throw std::runtime_error("--mgmt-socket " + path_ + ": socket: " + std::strerror(errno));
    ::unlink(path_.c_str());  // a stale socket from a previous run
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 4) != 0) {
        const std::string err = std::strerror(errno);
        ::close(listen_fd_);
        throw std::runtime_error("--mgmt-socket " + path_ + ": " + err);
    }
}

MgmtServer::~MgmtServer() {
    for (Client& c : clients_)
        ::close(c.fd);
    ::close(listen_fd_);
    ::unlink(path_.c_str());
}

void MgmtServer::accept_clients() {
    for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (clients_.size() >= kMaxClients) {
            std::fprintf(stderr, "cats-dataplane: mgmt: refusing a client: %zu connected\n", clients_.size());
            ::close(fd);
            continue;
        }
        clients_.push_back(Client{fd, {}});
    }
}

void MgmtServer::poll(int timeout_ms) {
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Client& c : clients_)
        fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0)
        return;
    std::vector<int> dead;
    for (std::size_t i = 1; i < fds.size(); ++i)
        if (fds[i].revents != 0 && !serve(clients_[i - 1]))
            dead.push_back(clients_[i - 1].fd);
    for (const int fd : dead) {
        ::close(fd);
        std::erase_if(clients_, [fd](const Client& c) { return c.fd == fd; });
    }
    if (fds[0].revents & POLLIN)
        accept_clients();
}

bool MgmtServer::serve(Client& c) {
    std::uint8_t buf[65536];
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n == 0)
            return false;
        if (n < 0)
            break;
        c.in.insert(c.in.end(), buf, buf + n);
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return false;
    // Dispatch every complete message in the buffer.
    std::size_t off = 0;
    while (c.in.size() - off >= mgmt::kHeaderLen) {
        mgmt::Header h;
        const auto err = mgmt::decode_header(std::span<const std::uint8_t, mgmt::kHeaderLen>(&c.in[off],
                                                                                          mgmt::kHeaderLen), h);
        if (err != mgmt::HeaderError::Ok) {
            // The stream cannot be resynchronised: say why and close.
            ++malformed_;
            std::fprintf(stderr, "cats-dataplane: mgmt: bad header (%d), closing the connection\n",
                         static_cast<int>(err));
            std::vector<std::uint8_t> p;
            mgmt::encode_ack({mgmt::Status::Malformed, table_.current()->version, "bad message header"}, p);
            send(c, mgmt::MsgType::Error, h.seq, p);
            return false;
        }
        if (c.in.size() - off - mgmt::kHeaderLen < h.length)
            break;
        if (!handle(c, h, std::span<const std::uint8_t>(&c.in[off + mgmt::kHeaderLen], h.length)))
            return false;
        off += mgmt::kHeaderLen + h.length;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(off));
    return true;
}

bool MgmtServer::handle(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload) {
    auto reply_json = [&](mgmt::MsgType t, const nlohmann::json& j) {
        const std::string s = j.dump();
        return send(c, t, h.seq, {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    };
    auto reply_ack = [&](mgmt::Status st, const std::string& err) {
        std::vector<std::uint8_t> p;
        mgmt::encode_ack({st, table_.current()->version, err}, p);
        return send(c, st == mgmt::Status::Ok ? mgmt::MsgType::UpdateAck : mgmt::MsgType::Error, h.seq, p);
    };
    switch (h.type) {
    case mgmt::MsgType::Update: {
        mgmt::Batch b;
        if (std::string e = mgmt::decode_batch(payload, b); !e.empty()) {
            ++malformed_;
            std::fprintf(stderr, "cats-dataplane: mgmt: malformed update: %s\n", e.c_str());
            return reply_ack(mgmt::Status::Malformed, e);
        }
        auto next = table_.configs();
        std::set<std::uint32_t> changed;
        std::string e = apply_batch(b, next, changed);
        if (e.empty()) {
            try {
                table_.commit(std::move(next), b.replace_all ? nullptr : &changed);
            } catch (const std::exception& ex) {
                e = ex.what();
            }
        }
        if (!e.empty()) {
            ++rejected_;
            std::fprintf(stderr, "cats-dataplane: mgmt: update rejected: %s\n", e.c_str());
            return reply_ack(mgmt::Status::Rejected, e);
        }
        ++applied_;
        last_update_unix_ = unix_now();
        return reply_ack(mgmt::Status::Ok, "");
    }
    case mgmt::MsgType::StatusReq: return reply_json(mgmt::MsgType::Status, hooks_.status());
    case mgmt::MsgType::StatsReq: return reply_json(mgmt::MsgType::Stats, hooks_.stats());
    case mgmt::MsgType::FlowsReq: {
        mgmt::FlowsQuery q;
        if (std::string e = mgmt::decode_flows_query(payload, q); !e.empty()) {
            ++malformed_;
            return reply_ack(mgmt::Status::Malformed, e);
        }
        return reply_json(mgmt::MsgType::Flows, hooks_.flows(q));
    }
    default:
        ++malformed_;
        return reply_ack(mgmt::Status::Unsupported,
                         "message type " + std::to_string(static_cast<int>(h.type)) + " is not a request");
    }
}

bool MgmtServer::send(Client& c, mgmt::MsgType type, std::uint32_t seq, std::span<const std::uint8_t> payload) {
    const std::vector<std::uint8_t> msg = mgmt::make_message(type, seq, payload);
    std::size_t off = 0;
    while (off < msg.size()) {
        const ssize_t n = ::send(c.fd, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{c.fd, POLLOUT, 0};
            if (::poll(&p, 1, kWriteTimeoutMs) > 0)
                continue;
        }
        return false;  // peer gone or stuck: drop it
    }
    return true;
}

}  // namespace cats::dp
