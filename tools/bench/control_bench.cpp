// SPDX-License-Identifier: BSD-3-Clause
#include "control_bench.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "advert_wire.hpp"
#include "harness.hpp"
#include "mgmt.hpp"

namespace cats::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kInstances = 8;
constexpr std::uint16_t kKeyId = 1;
constexpr std::uint32_t kNodeId = 1;
const std::vector<std::uint8_t> kKey(32, 0x5a);

// RCU reader id of the thread that watches the table (after the worker).
constexpr unsigned kWatcherId = 1;

std::string hex(const std::vector<std::uint8_t>& b) {
    std::string s;
    char t[3];
    for (std::uint8_t x : b) {
        std::snprintf(t, sizeof t, "%02x", x);
        s += t;
    }
    return s;
}

// A UDP port on loopback that was free a moment ago.
std::uint16_t free_udp_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("cannot find a free UDP port");
    ::close(fd);
    return ntohs(a.sin_port);
}

// One catsctl-style request on the control socket; the reply line as JSON.
nlohmann::json ctl_request(const std::string& path, const std::string& cmd) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0)
            ::close(fd);
        return nullptr;
    }
    const std::string req = R"({"v":0,"cmd":")" + cmd + "\"}\n";
    std::string reply;
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) {
            reply.append(buf, static_cast<std::size_t>(n));
            if (reply.back() == '\n')
                break;
        }
    }
    ::close(fd);
    return nlohmann::json::parse(reply, nullptr, false);
}

// The reply's result (replies carry it under "result"); null when the
// request failed.
nlohmann::json ctl_result(const std::string& path, const std::string& cmd) {
    nlohmann::json j = ctl_request(path, cmd);
    if (j.is_object() && j.contains("result"))
        return std::move(j["result"]);
    return j.is_object() ? j : nlohmann::json();
}

std::uint64_t accepted_adverts(const std::string& ctl) {
    const nlohmann::json r = ctl_result(ctl, "peer.list");
    std::uint64_t n = 0;
    if (r.is_object() && r.contains("peers"))
        for (const auto& p : r["peers"])
            n += p.value("accepted", std::uint64_t{0});
    return n;
}

// Datagrams the kernel dropped at cats-control's advert socket (buffer full).
std::uint64_t socket_drops(const std::string& ctl) {
    const nlohmann::json r = ctl_result(ctl, "stats");
    if (r.is_object() && r.contains("control"))
        return r["control"].value("advert_socket_drops", std::uint64_t{0});
    return 0;
}

// Signed advertisements for instance k (of services x 8) with a load.
class Advertiser {
public:
    Advertiser(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
        if (fd_ < 0)
            throw std::runtime_error("UDP socket");
        to_.sin_family = AF_INET;
        to_.sin_port = htons(port);
        to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    ~Advertiser() { ::close(fd_); }
    Advertiser(const Advertiser&) = delete;
    Advertiser& operator=(const Advertiser&) = delete;

    std::vector<std::uint8_t> message(std::uint32_t k, std::uint8_t load) {
        advert::Message m;
        m.key_id = kKeyId;
        m.node_id = kNodeId;
        m.sequence = ++seq_;
        m.lifetime_s = 3600;
        advert::Record r;
        r.cs_id = kFirstCsId + k / kInstances;
        r.instance_id = k % kInstances + 1;
        r.sids.push_back(instance_sid(k / kInstances, k % kInstances, 0));
        r.metrics.load_pct = load;
        r.metrics.free_capacity = 1000;
        r.metrics.latency_us = 100 * (k % kInstances + 1);
        m.records.push_back(std::move(r));
        return advert::encode(m, kKey);
    }
    bool send(const std::vector<std::uint8_t>& d) {
        return ::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_) ==
               static_cast<ssize_t>(d.size());
    }

private:
    int fd_ = -1;
    sockaddr_in to_{};
    std::uint64_t seq_ = 0;
};

// The load the dataplane currently runs for instance k, or -1.
int dataplane_load(const ServiceTable& t, std::uint32_t k) {
    const Service* s = t.current()->find(kFirstCsId + k / kInstances);
    if (s == nullptr)
        return -1;
    for (const Instance& in : s->instances)
        if (in.id == k % kInstances + 1)
            return in.metrics.load_pct;
    return -1;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct ControlProcess {
    pid_t pid = -1;
    ControlProcess(const std::string& bin, const std::string& config, const std::string& log) {
        pid = ::fork();
        if (pid < 0)
            throw std::runtime_error("fork");
        if (pid == 0) {
            // Not on the worker's CPU, which this (main lcore) thread has.
            leave_lcore_cpus();
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            ::execl(bin.c_str(), "cats-control", "--config", config.c_str(), "--log-level", "warn",
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~ControlProcess() {
        if (pid <= 0)
            return;
        ::kill(pid, SIGTERM);
        for (int i = 0; i < 300; ++i) {  // 3 s, then SIGKILL
            if (::waitpid(pid, nullptr, WNOHANG) == pid)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    bool alive() { return pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0; }
    ControlProcess(const ControlProcess&) = delete;
    ControlProcess& operator=(const ControlProcess&) = delete;
};

}  // namespace

ControlResults run_control_bench(const ControlOptions& o) {
    namespace fs = std::filesystem;
    if (o.control_bin.empty() || !fs::exists(o.control_bin))
        throw std::runtime_error("cats-control not found at '" + o.control_bin + "' (pass --control-bin)");
    std::vector<unsigned> lcores;
    unsigned lc;
    RTE_LCORE_FOREACH(lc) lcores.push_back(lc);

    std::string dir = o.tmpdir + "/cats-bench-ctl.XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr)
        throw std::runtime_error("cannot create a directory in " + o.tmpdir);
    struct Cleanup {
        std::string d;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(d, ec);
        }
    } cleanup{dir};
    const std::string mgmt_sock = dir + "/dataplane.sock", ctl_sock = dir + "/control.sock";
    const std::uint16_t udp_port = free_udp_port();

    // The engine: one worker forwarding a pcap workload whose services
    // cats-control will fill with advertised instances.
    WorkloadSpec spec;
    spec.flows = o.flows;
    spec.services = o.services;
    PcapPort port(spec, 1, o.tmpdir, 9000);
    Harness h(spec, 1, 1, port.port_id, port.mac, pow2_at_least(spec.flows), lcores, 1);
    h.reset_workers();
    MgmtHooks hooks;
    hooks.status = [&h] { return nlohmann::json{{"table_version", h.table->current()->version}}; };
    hooks.stats = [] { return nlohmann::json::object(); };
    hooks.flows = [](const mgmt::FlowsQuery&) { return nlohmann::json{{"flows", nlohmann::json::array()}}; };
    MgmtServer mgmt(mgmt_sock, *h.table, hooks);
    std::atomic<bool> mgmt_stop{false};
    std::thread mgmt_thread([&] {
        leave_lcore_cpus();
        while (!mgmt_stop.load())
            mgmt.poll(1);
    });
    struct JoinMgmt {
        std::atomic<bool>& stop;
        std::thread& t;
        ~JoinMgmt() {
            stop.store(true);
            t.join();
        }
    } join_mgmt{mgmt_stop, mgmt_thread};

    {
        std::ofstream y(dir + "/control.yaml");
        // A receive buffer the whole ingest burst fits in: the run measures
        // how fast cats-control works, not how much one buffer holds.
        y << "listen: [{address: \"127.0.0.1\", port: " << udp_port << ", receive_buffer_bytes: " << (256u << 20)
          << "}]\n"
          << "ctl_socket: " << ctl_sock << "\n"
          << "dataplane_socket: " << mgmt_sock << "\n"
          << "peers:\n  - {node_id: " << kNodeId << ", key_id: " << kKeyId << ", key: " << hex(kKey)
          << ", name: bench}\n"
          << "policy: {metric_threshold_pct: 0, max_pushes_per_s: 0, startup_hold_s: 0, "
          << "default_lifetime_cap_s: 3600}\n"
          << "services:\n";
        for (std::uint32_t s = 0; s < o.services; ++s)
            y << "  - {cs_id: " << kFirstCsId + s << ", name: svc-" << kFirstCsId + s
              << ", affinity_timeout_s: 3600, instances: []}\n";
    }
    ControlProcess control(o.control_bin, dir + "/control.yaml", dir + "/control.log");

    const std::uint32_t n_inst = o.services * kInstances;
    Advertiser adv(udp_port);
    ServiceTable& table = *h.table;
    rte_rcu_qsbr* qsbr = h.qsbr;
    rte_rcu_qsbr_thread_register(qsbr, kWatcherId);
    auto wait_for = [&](auto pred, double seconds) {
        // Online only while reading: the management thread spins in
        // rte_rcu_qsbr_synchronize() until every online reader reports, and
        // it shares this CPU with us (and cats-control).
        const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
        bool ok = false;
        while (Clock::now() < deadline) {
            rte_rcu_qsbr_thread_online(qsbr, kWatcherId);
            ok = pred();
            rte_rcu_qsbr_thread_offline(qsbr, kWatcherId);
            if (ok)
                break;
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        return ok;
    };

    // Every instance advertised once, and in the dataplane.
    auto all_in = [&](std::uint8_t load) {
        for (std::uint32_t k = 0; k < n_inst; ++k)
            if (dataplane_load(table, k) != load)
                return false;
        return true;
    };
    bool up = false;
    for (int attempt = 0; attempt < 20 && !up; ++attempt) {
        if (!control.alive())
            throw std::runtime_error("cats-control exited; see its log: " + dir + "/control.log");
        for (std::uint32_t k = 0; k < n_inst; ++k)
            adv.send(adv.message(k, 10));
        up = wait_for([&] { return all_in(10); }, 0.5);
    }
    if (!up)
        throw std::runtime_error("the dataplane never got the advertised instances from cats-control");

    ControlResults r;
    // 1. Ingest: as fast as one socket sends.
    {
        const std::uint64_t before = accepted_adverts(ctl_sock);
        const std::uint64_t drops_before = socket_drops(ctl_sock);
        std::vector<std::vector<std::uint8_t>> msgs;
        msgs.reserve(o.ingest_messages);
        for (std::uint32_t i = 0; i < o.ingest_messages; ++i)
            msgs.push_back(adv.message(i % n_inst, static_cast<std::uint8_t>(20 + i % 50)));
        const auto t0 = Clock::now();
        for (const auto& m : msgs)
            r.ingest_sent += adv.send(m) ? 1 : 0;
        std::uint64_t last = before;
        auto t_last = t0;
        for (auto still = Clock::now(); Clock::now() - still < std::chrono::milliseconds(300);) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            const std::uint64_t now = accepted_adverts(ctl_sock);
            if (now != last) {
                last = now;
                t_last = Clock::now();
                still = t_last;
            }
        }
        r.ingest_accepted = last - before;
        const std::uint64_t drops_after = socket_drops(ctl_sock);
        r.ingest_socket_drops = drops_after >= drops_before ? drops_after - drops_before : 0;
        r.ingest_seconds = std::chrono::duration<double>(t_last - t0).count();
        r.ingest_per_s = r.ingest_seconds > 0 ? static_cast<double>(r.ingest_accepted) / r.ingest_seconds : 0;
    }
    // A known starting point for the latency samples, which never use 95.
    for (std::uint32_t k = 0; k < n_inst; ++k)
        adv.send(adv.message(k, 95));
    if (!wait_for([&] { return all_in(95); }, 10))
        throw std::runtime_error("the dataplane did not settle after the ingest run");

    // Worker forwarding from here on, on this lcore; the rest on a thread.
    LoopArg arg;
    arg.w = h.workers[0].get();
    arg.mode = Mode::Cats;
    std::string error;
    std::thread coord([&] {
        leave_lcore_cpus();
        try {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            // 2. Latency of one update at a time.
            std::vector<double> lat;
            for (std::uint32_t i = 0; i < o.latency_samples; ++i) {
                const std::uint32_t k = i % n_inst;
                // Alternate ranges, so every sample changes the value.
                const auto load = static_cast<std::uint8_t>((i / n_inst) % 2 == 0 ? 3 + i % 40 : 50 + i % 40);
                const std::vector<std::uint8_t> m = adv.message(k, load);
                const auto t0 = Clock::now();
                adv.send(m);
                if (wait_for([&] { return dataplane_load(table, k) == load; }, 0.1))
                    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
                else
                    ++r.latency_timeouts;
                std::this_thread::sleep_for(std::chrono::microseconds(500));
            }
            r.latency_samples = static_cast<std::uint32_t>(lat.size());
            r.latency_p50_us = percentile(lat, 0.50);
            r.latency_p99_us = percentile(lat, 0.99);
            r.latency_max_us = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());

            // 3. Forwarding while updates arrive at o.update_rate per second.
            const WorkerCounters& c = *h.workers[0]->ctr;
            const std::uint64_t rx0 = c.rx_packets.get(), tx0 = c.tx_packets.get(), d0 = sum_drops(c);
            const std::uint64_t v0 = mgmt.updates_applied();
            const auto t0 = Clock::now();
            const auto period = std::chrono::duration<double>(1.0 / o.update_rate);
            for (std::uint64_t i = 0;; ++i) {
                const auto due = t0 + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
                if (due - t0 >= std::chrono::duration<double>(o.update_s))
                    break;
                std::this_thread::sleep_until(due);
                r.updates_sent += adv.send(adv.message(static_cast<std::uint32_t>(i % n_inst),
                                                       static_cast<std::uint8_t>(5 + i % 80)))
                                      ? 1
                                      : 0;
            }
            r.updates_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            r.rx = c.rx_packets.get() - rx0;
            r.tx = c.tx_packets.get() - tx0;
            r.dropped = sum_drops(c) - d0;
            r.table_versions = mgmt.updates_applied() - v0;
        } catch (const std::exception& ex) {
            error = ex.what();
        }
        h.engine.quit.store(true);
    });
    bench_loop(&arg);
    coord.join();
    rte_rcu_qsbr_thread_unregister(qsbr, kWatcherId);
    if (!error.empty())
        throw std::runtime_error(error);
    // The worker counts a burst as received before it transmits it: at
    // most one burst can be in flight at the second reading.
    r.lost = r.rx > r.tx ? r.rx - r.tx : 0;
    if (r.lost <= h.engine.burst && r.dropped == 0)
        r.lost = 0;
    return r;
}

nlohmann::json to_json(const ControlResults& r) {
    return {{"ingest", {{"sent", r.ingest_sent}, {"accepted", r.ingest_accepted}, {"seconds", r.ingest_seconds},
                        {"accepted_per_s", r.ingest_per_s}, {"socket_drops", r.ingest_socket_drops}}},
            {"update_latency_us", {{"samples", r.latency_samples}, {"timeouts", r.latency_timeouts},
                                   {"p50", r.latency_p50_us}, {"p99", r.latency_p99_us}, {"max", r.latency_max_us}}},
            {"updates_during_forwarding", {{"sent", r.updates_sent}, {"seconds", r.updates_seconds},
                                           {"table_versions", r.table_versions}, {"rx", r.rx}, {"tx", r.tx},
                                           {"dropped", r.dropped}, {"lost", r.lost}}}};
}

std::string render_control(const ControlResults& r) {
    std::ostringstream s;
    char line[256];
    std::snprintf(line, sizeof line,
                  "control: ingest %.0f adverts/s (%lu of %lu accepted in %.3f s, %lu dropped by the kernel: "
                  "receive buffer full)\n",
                  r.ingest_per_s, static_cast<unsigned long>(r.ingest_accepted),
                  static_cast<unsigned long>(r.ingest_sent), r.ingest_seconds,
                  static_cast<unsigned long>(r.ingest_socket_drops));
    s << line;
    std::snprintf(line, sizeof line,
                  "control: update -> dataplane table: p50 %.0f us, p99 %.0f us, max %.0f us (%u samples, %u "
                  "timeouts)\n",
                  r.latency_p50_us, r.latency_p99_us, r.latency_max_us, r.latency_samples, r.latency_timeouts);
    s << line;
    std::snprintf(line, sizeof line,
                  "control: %lu updates in %.2f s (%.0f/s) -> %lu table versions while forwarding %lu packets: "
                  "%lu dropped, %lu lost\n",
                  static_cast<unsigned long>(r.updates_sent), r.updates_seconds,
                  r.updates_seconds > 0 ? static_cast<double>(r.updates_sent) / r.updates_seconds : 0,
                  static_cast<unsigned long>(r.table_versions), static_cast<unsigned long>(r.rx),
                  static_cast<unsigned long>(r.dropped), static_cast<unsigned long>(r.lost));
    s << line;
    return s.str();
}

}  // namespace cats::bench
