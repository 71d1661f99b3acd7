// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"
#include "mgmt.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "json_text.hpp"

namespace cats::dp {

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string errno_text() {
    return std::strerror(errno);
}

// Is another process answering on `addr`? Connecting is the only way to
// know: a socket file may outlive the process that bound it.
bool socket_is_live(const sockaddr_un& addr) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return live;
}

PeerCred peer_cred(int fd) {
    PeerCred p;
    ucred uc{};
    socklen_t len = sizeof uc;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0) {
        // Unknown peer: nothing matches "nobody".
        p.uid = static_cast<uid_t>(-1);
        p.gid = static_cast<gid_t>(-1);
        return p;
    }
    p.uid = uc.uid;
    p.gid = uc.gid;
#ifdef SO_PEERGROUPS
    std::vector<gid_t> g(64);
    socklen_t glen = static_cast<socklen_t>(g.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g.data(), &glen) != 0 && errno == ERANGE) {
        g.resize(glen / sizeof(gid_t));
        glen = static_cast<socklen_t>(g.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g.data(), &glen) != 0)
            glen = 0;
    }
    g.resize(glen / sizeof(gid_t));
    p.groups = std::move(g);
#endif
    return p;
}

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

SidBehavior to_dp(mgmt::SidBehavior b) {
    switch (b) {
    case mgmt::SidBehavior::End: return SidBehavior::End;
    case mgmt::SidBehavior::EndX: return SidBehavior::EndX;
    case mgmt::SidBehavior::EndDX6: return SidBehavior::EndDX6;
    case mgmt::SidBehavior::EndDT6: return SidBehavior::EndDT6;
    }
    // decode_sid_op() lets no other value through.
    throw std::invalid_argument("behavior: unknown code point " + std::to_string(static_cast<unsigned>(b)));
}

double unix_now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

LocalSidConfig sid_config(const mgmt::SidOp& op) {
    LocalSidConfig c;
    c.sid = Ipv6Prefix{op.sid, op.prefix_len};
    c.behavior = to_dp(op.behavior);
    c.next_hop = op.next_hop;
    return c;
}

namespace {

// The edits of a batch in progress. A service is copied from `base` when an
// op first touches it; its instance ids are indexed on the first instance
// op. A removed instance is left as a hole (its index entry gone) and the
// holes are closed once at the end: erasing from the middle of the vector
// per op would make a batch quadratic again.
class Applier {
public:
    Applier(const std::map<std::uint32_t, ServiceConfig>& base, std::size_t max_services)
        : base_(base), max_services_(max_services), services_(base.size()) {}

    // "" or what is wrong with the op, after "op <i>: ".
    std::string apply(const mgmt::Op& op) {
        const std::uint32_t cs = op.service.cs_id;
        auto where = [cs] { return "service " + std::to_string(cs); };  // only on error: ops are many
        if (op.type == mgmt::OpType::UpsertService) {
            const auto it = touched_.find(cs);
            if (it == touched_.end() ? !base_.contains(cs) : !it->second.config) {
                // A new service: counted now, so that a batch of new
                // services holds no more of them than the table may.
                if (services_ >= max_services_)
                    return where() + ": gateway.max_services (" + std::to_string(max_services_) + ") reached";
                ++services_;
            }
            Touched& t = it == touched_.end() ? touched_[cs] : it->second;
            t.config = to_config(op.service);
            t.ids.clear();
            t.indexed = false;
            t.live = t.config->instances.size();
            t.holes = 0;
            return {};
        }
        if (op.type == mgmt::OpType::RemoveService) {
            // No copy of what is removed.
            auto it = touched_.find(cs);
            if (it == touched_.end() ? !base_.contains(cs) : !it->second.config)
                return where() + ": not found";
            --services_;
            if (!base_.contains(cs)) {
                // Added and removed by this batch: as if never there, so
                // that what the batch holds is bounded by the table's size.
                touched_.erase(it);
                return {};
            }
            Touched& t = it == touched_.end() ? touched_[cs] : it->second;
            t.config.reset();
            t.ids.clear();
            t.indexed = false;
            return {};
        }
        Touched* t = touch(cs);
        if (t == nullptr)
            return where() + ": not found";
        index(*t);
        auto& insts = t->config->instances;
        const std::uint32_t id = op.instance.id;
        const auto pos = t->ids.find(id);
        if (op.type == mgmt::OpType::RemoveInstance) {
            if (pos == t->ids.end())
                return where() + " instance " + std::to_string(id) + ": not found";
            insts[pos->second].sids.clear();  // a hole: instances have 1..5 SIDs
            t->ids.erase(pos);
            --t->live;
            ++t->holes;
            return {};
        }
        // UpsertInstance. Refused as soon as the service is over its bound,
        // not after the batch has grown it without one.
        if (pos != t->ids.end()) {
            insts[pos->second] = to_config(op.instance);
            return {};
        }
        if (t->live >= kMaxInstancesPerService)
            return where() + " instance " + std::to_string(id) + ": more than " +
                   std::to_string(kMaxInstancesPerService) + " instances";
        t->ids.emplace(id, insts.size());
        insts.push_back(to_config(op.instance));
        ++t->live;
        return {};
    }

    ServiceTable::Changes take() {
        ServiceTable::Changes out;
        for (auto& [cs, t] : touched_) {
            if (t.config && t.holes != 0)
                std::erase_if(t.config->instances, [](const InstanceConfig& ic) { return ic.sids.empty(); });
            out.emplace(cs, std::move(t.config));
        }
        return out;
    }

private:
    struct Touched {
        std::optional<ServiceConfig> config;  // nullopt: removed
        std::unordered_map<std::uint32_t, std::size_t> ids;  // instance id -> index in config->instances
        bool indexed = false;
        std::size_t live = 0;   // instances, holes not counted
        std::size_t holes = 0;  // removed instances still in the vector
    };

    // The service as the batch has it so far, nullptr if it does not exist.
    Touched* touch(std::uint32_t cs) {
        if (auto it = touched_.find(cs); it != touched_.end())
            return it->second.config ? &it->second : nullptr;
        const auto b = base_.find(cs);
        if (b == base_.end())
            return nullptr;
        Touched& t = touched_[cs];
        t.config = b->second;
        t.live = t.config->instances.size();
        return &t;
    }

    static void index(Touched& t) {
        if (t.indexed)
            return;
        const auto& insts = t.config->instances;
        t.ids.reserve(insts.size());
        // The first of duplicate ids, as a linear search finds it; the
        // table's validation refuses the service anyway.
        for (std::size_t k = 0; k < insts.size(); ++k)
            if (!insts[k].sids.empty())
                t.ids.emplace(insts[k].id, k);
        t.indexed = true;
    }

    const std::map<std::uint32_t, ServiceConfig>& base_;
    const std::size_t max_services_;
    std::size_t services_;  // in the table as the batch has it so far
    std::unordered_map<std::uint32_t, Touched> touched_;
};

}  // namespace

BatchResult apply_batch(std::span<const std::uint8_t> payload, const std::map<std::uint32_t, ServiceConfig>& base,
                        std::size_t max_services) {
    BatchResult res;
    auto fail = [&res](mgmt::Status st, std::string e) {
        res.status = st;
        res.error = std::move(e);
        res.changes.clear();
        res.all.clear();
        return std::move(res);
    };
    mgmt::BatchReader r(payload);
    if (std::string e = r.start(); !e.empty())
        return fail(mgmt::Status::Malformed, std::move(e));
    res.replace_all = r.replace_all();
    res.ops = r.size();
    mgmt::Op op;  // reused: one decoded op at a time
    Applier applier(base, max_services);
    for (std::uint32_t i = 0; i < r.size(); ++i) {
        if (std::string e = r.next(op); !e.empty())
            return fail(mgmt::Status::Malformed, std::move(e));
        if (res.replace_all) {
            const std::uint32_t cs = op.service.cs_id;
            if (res.all.size() >= max_services)
                return fail(mgmt::Status::Rejected, "op " + std::to_string(i) + ": service " + std::to_string(cs) +
                                                        ": gateway.max_services (" + std::to_string(max_services) +
                                                        ") reached");
            if (!res.all.emplace(cs, to_config(op.service)).second)
                return fail(mgmt::Status::Rejected,
                            "op " + std::to_string(i) + ": service " + std::to_string(cs) + " twice");
        } else if (std::string e = applier.apply(op); !e.empty()) {
            return fail(mgmt::Status::Rejected, "op " + std::to_string(i) + ": " + e);
        }
    }
    if (std::string e = r.finish(); !e.empty())
        return fail(mgmt::Status::Malformed, std::move(e));
    if (!res.replace_all)
        res.changes = applier.take();
    return res;
}

PeerClass classify_peer(const PeerCred& peer, uid_t self_uid, const MgmtAccess& access) noexcept {
    if (peer.uid == 0 || peer.uid == self_uid)
        return PeerClass::Manager;
    if (access.group &&
        (peer.gid == *access.group || std::find(peer.groups.begin(), peer.groups.end(), *access.group) !=
                                          peer.groups.end()))
        return PeerClass::Member;
    return PeerClass::Refused;
}

MgmtServer::MgmtServer(std::string path, ServiceTable& table, MgmtHooks hooks, MgmtAccess access)
    : path_(std::move(path)), table_(table), hooks_(std::move(hooks)), access_(access) {
    const std::string where = "--mgmt-socket " + path_ + ": ";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.empty() || path_.size() >= sizeof addr.sun_path)
        throw std::runtime_error(where + "path empty or too long");
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    const gid_t gid = access_.group.value_or(static_cast<gid_t>(-1));  // -1: chown leaves the group

    // The directory: made 0750 when missing, so that only its group may
    // even reach the socket. An existing one is the administrator's.
    const std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/'));
    if (!dir.empty() && ::access(dir.c_str(), F_OK) != 0) {
        if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
            throw std::runtime_error(where + "cannot create " + dir + ": " + errno_text());
        // mkdir applies the umask; the mode must not depend on it.
        if (::chmod(dir.c_str(), 0750) != 0 || ::chown(dir.c_str(), static_cast<uid_t>(-1), gid) != 0)
            throw std::runtime_error(where + "cannot set the mode or group of " + dir + ": " + errno_text());
    }

    // A live socket belongs to another gateway: refuse rather than take its
    // path (it would be left unmanageable). A stale one is replaced.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            throw std::runtime_error(where + "exists and is not a socket");
        if (socket_is_live(addr))
            throw std::runtime_error(where + "another process answers on it (is another cats-dataplane running?)");
        if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
            throw std::runtime_error(where + "cannot remove the stale socket: " + errno_text());
    }

    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0)
        throw std::runtime_error(where + "socket: " + errno_text());
    // Created 0660 whatever the process umask is: no window in which anyone
    // else may connect (connect(2) needs write permission on the file).
    const mode_t old_umask = ::umask(0117);
    const int bound = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old_umask);
    std::string err;
    if (bound != 0)
        err = std::strerror(bind_errno);
    else if (::lstat(path_.c_str(), &st) != 0)
        err = "stat: " + errno_text();
    else if (::chown(path_.c_str(), static_cast<uid_t>(-1), gid) != 0 || ::chmod(path_.c_str(), 0660) != 0)
        err = "cannot set the socket's mode or group: " + errno_text();
    if (err.empty()) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        if (::listen(listen_fd_, 16) != 0)
            err = "listen: " + errno_text();
    }
    if (!err.empty()) {
        if (bound == 0 && dev_ != 0)
            ::unlink(path_.c_str());
        ::close(listen_fd_);
        throw std::runtime_error(where + err);
    }
}

MgmtServer::~MgmtServer() {
    for (Client& c : clients_)
        ::close(c.fd);
    ::close(listen_fd_);
    // Only the socket this server made: another process may have replaced
    // the path since (an administrator, a newer gateway).
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(path_.c_str());
}

void MgmtServer::log_limited(const std::string& line) {
    // Clients can cause these at will: at most one line per second.
    const std::int64_t now = now_ms();
    if (now - last_log_ms_ < 1000) {
        ++logs_held_;
        return;
    }
    last_log_ms_ = now;
    if (logs_held_ != 0)
        cats::logf(cats::LogLevel::Info, "mgmt: %s (%lu more held back)", line.c_str(),
                   static_cast<unsigned long>(logs_held_));
    else
        cats::logf(cats::LogLevel::Info, "mgmt: %s", line.c_str());
    logs_held_ = 0;
}

void MgmtServer::refuse(int fd, const std::string& why, std::uint64_t& counter) {
    ++counter;
    log_limited("refusing a client: " + why);
    // One try, without blocking, to say why; then close.
    std::vector<std::uint8_t> p;
    mgmt::encode_ack({mgmt::Status::Rejected, table_.current()->version, why}, p);
    const std::vector<std::uint8_t> msg = mgmt::make_message(mgmt::MsgType::Error, 0, p);
    [[maybe_unused]] const ssize_t n = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
}

void MgmtServer::accept_clients(std::int64_t now) {
    for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        const PeerCred cred = peer_cred(fd);
        const PeerClass cls = classify_peer(cred, ::geteuid(), access_);
        if (cls == PeerClass::Refused) {
            refuse(fd, "permission denied (uid " + std::to_string(cred.uid) + ", gid " + std::to_string(cred.gid) +
                           ")", refused_);
            continue;
        }
        const bool manager = cls == PeerClass::Manager;
        const std::size_t members =
            static_cast<std::size_t>(std::count_if(clients_.begin(), clients_.end(), [](const Client& c) {
                return !c.manager;
            }));
        if (!manager && members >= kMaxClients - kReservedForManagers) {
            refuse(fd, "busy: " + std::to_string(members) + " group clients connected", refused_);
            continue;
        }
        if (clients_.size() >= kMaxClients) {
            // A manager (cats-control) gets in by evicting the client that
            // has been stalled longest: mid-message or not reading.
            auto stalled_since = [](const Client& c) {
                std::int64_t t = INT64_MAX;
                if (!c.in.empty())
                    t = c.read_since_ms;
                if (!c.out.empty())
                    t = std::min(t, c.write_since_ms);
                return t;
            };
            auto victim = clients_.end();
            if (manager)
                for (auto it = clients_.begin(); it != clients_.end(); ++it)
                    if (stalled_since(*it) != INT64_MAX &&
                        (victim == clients_.end() || stalled_since(*it) < stalled_since(*victim)))
                        victim = it;
            if (victim == clients_.end()) {
                refuse(fd, "busy: " + std::to_string(clients_.size()) + " clients connected", refused_);
                continue;
            }
            log_limited("evicting a stalled client for a new manager connection");
            ++dropped_;
            ::close(victim->fd);
            clients_.erase(victim);
        }
        Client c;
        c.fd = fd;
        c.manager = manager;
        c.last_active_ms = now;
        clients_.push_back(std::move(c));
        if (manager)
            log_limited("a manager connected (uid " + std::to_string(cred.uid) + "), " +
                        std::to_string(clients_.size()) + " client(s) now");
    }
}

std::string MgmtServer::expired(const Client& c, std::int64_t now) const {
    if (!c.in.empty() && now - c.read_since_ms >= kReadDeadlineMs)
        return "a message not complete after " + std::to_string(kReadDeadlineMs) + " ms";
    if (!c.out.empty() && now - c.write_since_ms >= kWriteDeadlineMs)
        return "a reply not read after " + std::to_string(kWriteDeadlineMs) + " ms";
    if (!c.manager && c.in.empty() && c.out.empty() && now - c.last_active_ms >= kMemberIdleMs)
        return "idle for " + std::to_string(kMemberIdleMs) + " ms";
    return {};
}

void MgmtServer::poll(int timeout_ms) {
    std::int64_t now = now_ms();
    // Wake up for the earliest deadline too.
    for (const Client& c : clients_) {
        std::int64_t due = INT64_MAX;
        if (!c.in.empty())
            due = c.read_since_ms + kReadDeadlineMs;
        if (!c.out.empty())
            due = std::min(due, c.write_since_ms + kWriteDeadlineMs);
        if (!c.manager)
            due = std::min(due, c.last_active_ms + kMemberIdleMs);
        timeout_ms = static_cast<int>(std::clamp<std::int64_t>(due - now, 0, timeout_ms));
    }
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Client& c : clients_) {
        // A client with a reply pending is not read: that bounds what it can
        // make this thread hold to one message in and one reply out.
        const short ev = c.out.empty() ? POLLIN : POLLOUT;
        fds.push_back({c.fd, ev, 0});
    }
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    now = now_ms();
    std::vector<int> dead;
    for (std::size_t i = 1; i < fds.size(); ++i) {
        Client& c = clients_[i - 1];
        bool keep = true;
        if (ready > 0 && fds[i].revents != 0) {
            if (!c.out.empty())
                keep = flush(c, now);
            // Served after a flush too: a drained reply lets the next
            // request, already buffered, be answered now.
            if (keep && c.out.empty() && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
                keep = serve(c, now);
        }
        if (keep) {
            if (const std::string why = expired(c, now); !why.empty()) {
                ++dropped_;
                log_limited("dropping a client: " + why);
                keep = false;
            }
        }
        if (!keep)
            dead.push_back(c.fd);
    }
    for (const int fd : dead) {
        ::close(fd);
        std::erase_if(clients_, [fd](const Client& c) { return c.fd == fd; });
    }
    if (ready > 0 && (fds[0].revents & POLLIN))
        accept_clients(now);
}

bool MgmtServer::serve(Client& c, std::int64_t now) {
    // Read one message at a time, no more than it needs, and answer it; the
    // rest stays in the kernel's buffer until the reply has gone out.
    while (c.out.empty() && !c.close_after_write) {
        std::size_t need = mgmt::kHeaderLen;
        mgmt::Header h;
        if (c.in.size() >= mgmt::kHeaderLen) {
            const auto err =
                mgmt::decode_header(std::span<const std::uint8_t, mgmt::kHeaderLen>(c.in.data(), mgmt::kHeaderLen), h);
            if (err != mgmt::HeaderError::Ok) {
                // The stream cannot be resynchronised: say why and close.
                ++malformed_;
                log_limited("bad header (" + std::to_string(static_cast<int>(err)) + "), closing the connection");
                queue_ack(c, h.seq, mgmt::Status::Malformed, "bad message header");
                c.close_after_write = true;
                return flush(c, now) && !c.out.empty();
            }
            need += h.length;
            // One allocation for the whole message, not a doubling per
            // read: the peak stays at its size. Pages not yet written are
            // not resident, so a client that stalls costs little.
            c.in.reserve(need);
        }
        if (c.in.size() < need) {
            std::uint8_t buf[65536];
            const std::size_t want = std::min(sizeof buf, need - c.in.size());
            const ssize_t n = ::recv(c.fd, buf, want, 0);
            if (n == 0)
                return false;
            if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            if (c.in.empty())
                c.read_since_ms = now;
            c.last_active_ms = now;
            c.in.insert(c.in.end(), buf, buf + n);
            continue;
        }
        dispatch(c, h, std::span<const std::uint8_t>(c.in.data() + mgmt::kHeaderLen, h.length));
        c.in.clear();
        c.in.shrink_to_fit();
        if (!flush(c, now))
            return false;
    }
    return true;
}

bool MgmtServer::flush(Client& c, std::int64_t now) {
    while (c.out_off < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_off += static_cast<std::size_t>(n);
            c.last_active_ms = now;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return true;  // the rest when poll says the socket can take it
        return false;     // peer gone
    }
    c.out.clear();
    c.out.shrink_to_fit();
    c.out_off = 0;
    return !c.close_after_write;
}

void MgmtServer::dispatch(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload) {
    // One request must not end the thread (and with it the gateway's
    // management): answer it with the error, count it, go on.
    try {
        handle(c, h, payload);
        return;
    } catch (const std::exception& ex) {
        ++failed_;
        cats::logf(cats::LogLevel::Error, "mgmt: request type %d failed: %s", static_cast<int>(h.type),
                   ex.what());
    } catch (...) {
        ++failed_;
        cats::logf(cats::LogLevel::Error, "mgmt: request type %d failed", static_cast<int>(h.type));
    }
    c.out.clear();
    c.out_off = 0;
    try {
        queue_ack(c, h.seq, mgmt::Status::Rejected, "internal error");
    } catch (...) {
        c.close_after_write = true;  // out of memory: nothing more to say
    }
}

void MgmtServer::handle(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload) {
    auto reply_json = [&](mgmt::MsgType t, const nlohmann::json& j) {
        const std::string s = json_text(j);
        if (s.size() > mgmt::kMaxPayload)
            return queue_ack(c, h.seq, mgmt::Status::Rejected,
                             "reply of " + std::to_string(s.size()) + " bytes exceeds the channel's limit");
        queue(c, t, h.seq, {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    };
    switch (h.type) {
    case mgmt::MsgType::Update: {
        BatchResult res = apply_batch(payload, table_.configs(), table_.max_services());
        if (res.status == mgmt::Status::Malformed) {
            ++malformed_;
            log_limited("malformed update: " + res.error);
            return queue_ack(c, h.seq, mgmt::Status::Malformed, res.error);
        }
        std::string e = std::move(res.error);
        if (e.empty()) {
            try {
                if (res.replace_all)
                    table_.commit(std::move(res.all), nullptr);
                else
                    table_.commit_changes(std::move(res.changes));
            } catch (const std::exception& ex) {
                e = ex.what();
            }
        }
        if (!e.empty()) {
            ++rejected_;
            log_limited("update rejected: " + e);
            return queue_ack(c, h.seq, mgmt::Status::Rejected, e);
        }
        ++applied_;
        last_update_unix_ = unix_now();
        // Table versions as they go, at most one line a second (a change
        // storm is not a log storm); at debug level, every one.
        if (cats::log_level() == cats::LogLevel::Debug) {
            cats::logf(cats::LogLevel::Debug, "mgmt: table version %lu (%s, %zu bytes)",
                       static_cast<unsigned long>(table_.current()->version),
                       res.replace_all ? "a full table" : "changes", payload.size());
        } else if (const std::int64_t now = now_ms(); now - last_version_log_ms_ >= 1000) {
            cats::logf(cats::LogLevel::Info, "mgmt: table version %lu (%s, %lu update(s) since the last line)",
                       static_cast<unsigned long>(table_.current()->version),
                       res.replace_all ? "a full table" : "changes", static_cast<unsigned long>(versions_unlogged_ + 1));
            last_version_log_ms_ = now;
            versions_unlogged_ = 0;
        } else {
            ++versions_unlogged_;
        }
        return queue_ack(c, h.seq, mgmt::Status::Ok, "");
    }
    case mgmt::MsgType::SidUpdate: return handle_sid_update(c, h, payload);
    case mgmt::MsgType::StatusReq: return reply_json(mgmt::MsgType::Status, hooks_.status());
    case mgmt::MsgType::StatsReq: return reply_json(mgmt::MsgType::Stats, hooks_.stats());
    case mgmt::MsgType::FlowsReq: {
        mgmt::FlowsQuery q;
        if (std::string e = mgmt::decode_flows_query(payload, q); !e.empty()) {
            ++malformed_;
            return queue_ack(c, h.seq, mgmt::Status::Malformed, e);
        }
        return reply_json(mgmt::MsgType::Flows, hooks_.flows(q));
    }
    default:
        ++malformed_;
        return queue_ack(c, h.seq, mgmt::Status::Unsupported,
                         "message type " + std::to_string(static_cast<int>(h.type)) + " is not a request");
    }
}

void MgmtServer::handle_sid_update(Client& c, const mgmt::Header& h, std::span<const std::uint8_t> payload) {
    if (hooks_.sids == nullptr) {
        ++malformed_;
        return queue_ack(c, h.seq, mgmt::Status::Unsupported, "this dataplane has no local SID table");
    }
    SidTable& sids = *hooks_.sids;
    mgmt::SidOp op;
    if (std::string e = mgmt::decode_sid_op(payload, op); !e.empty()) {
        ++malformed_;
        log_limited("malformed SID update: " + e);
        return queue_ack(c, h.seq, mgmt::Status::Malformed, e, sids.current()->version);
    }
    const Ipv6Prefix prefix{op.sid, op.prefix_len};
    std::string what;  // for the log: "fc00:e::d6 End.DX6 via 2001:db8:ff::d added"
    std::string e;
    // The table validates fully before it publishes: an error leaves it as
    // it was.
    try {
        if (op.op == mgmt::SidOpType::Add) {
            const LocalSidConfig cfg = sid_config(op);
            if (hooks_.check_sid)
                if (std::string why = hooks_.check_sid(cfg); !why.empty())
                    e = "sid " + format_sid(prefix) + ": " + why;
            if (e.empty())
                sids.upsert(cfg);
            what = format_sid(prefix) + " " + std::string(sid_behavior_name(cfg.behavior)) +
                   (cfg.next_hop ? " via " + format_ipv6(*cfg.next_hop) : std::string()) + " added";
        } else {
            sids.remove(prefix);
            what = format_sid(prefix) + " removed";
        }
    } catch (const std::invalid_argument& ex) {
        e = ex.what();
    }
    const std::uint64_t version = sids.current()->version;
    if (!e.empty()) {
        ++rejected_;
        log_limited("SID update rejected: " + e);
        return queue_ack(c, h.seq, mgmt::Status::Rejected, e, version);
    }
    ++applied_;
    last_update_unix_ = unix_now();
    // Operator changes, one at a time: each is worth its line.
    cats::logf(cats::LogLevel::Info, "mgmt: sid %s (SID table version %lu)", what.c_str(),
               static_cast<unsigned long>(version));
    return queue_ack(c, h.seq, mgmt::Status::Ok, "", version);
}

void MgmtServer::queue_ack(Client& c, std::uint32_t seq, mgmt::Status st, const std::string& err,
                           std::optional<std::uint64_t> version) {
    std::vector<std::uint8_t> p;
    mgmt::encode_ack({st, version.value_or(table_.current()->version), err}, p);
    queue(c, st == mgmt::Status::Ok ? mgmt::MsgType::UpdateAck : mgmt::MsgType::Error, seq, p);
}

void MgmtServer::queue(Client& c, mgmt::MsgType type, std::uint32_t seq, std::span<const std::uint8_t> payload) {
    c.out = mgmt::make_message(type, seq, payload);
    c.out_off = 0;
    c.write_since_ms = now_ms();
}

}  // namespace cats::dp
