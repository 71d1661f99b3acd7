// SPDX-License-Identifier: BSD-3-Clause
// cats-control end to end in one process: a Daemon on its own thread, a
// fake cats-dataplane that applies every batch to a model table (and so
// checks that increments only refer to what exists), adverts over UDP on
// [::1], and catsctl requests over the ctl socket. With $CATSCTL set (meson
// sets it), the catsctl binary's output and exit codes too.
#include "daemon.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "helpers.hpp"

using namespace cats;
using namespace cats::control;
using namespace cats::control::test;
using Json = nlohmann::json;

namespace {

int unix_listen(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    ::unlink(path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 4) != 0)
        throw std::runtime_error("fake dataplane: bind " + path + ": " + std::strerror(errno));
    return fd;
}

int unix_connect(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Read exactly n bytes, polling `stop`; false on EOF, error or stop.
bool read_full(int fd, std::uint8_t* p, std::size_t n, const std::atomic<bool>& stop) {
    while (n > 0) {
        pollfd pfd{fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, 20);
        if (stop)
            return false;
        if (r <= 0)
            continue;
        const ssize_t got = ::recv(fd, p, n, 0);
        if (got <= 0)
            return false;
        p += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

void write_full(int fd, const std::vector<std::uint8_t>& d) {
    std::size_t off = 0;
    while (off < d.size()) {
        const ssize_t n = ::send(fd, d.data() + off, d.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        off += static_cast<std::size_t>(n);
    }
}

// As cats-dataplane's report: counters, its ports' kernel side, its
// neighbors (one static, one learned, one failed) and what is held.
Json fake_stats() {
    return Json::parse(R"({"rx":42,"drops":{"ipv4":3},
      "kernel_ports":[
        {"port":"p0","port_id":0,"mode":"dpdk","driver":"net_tap","mac":"02:00:00:00:00:01","mtu":1500,
         "addresses":["2001:db8:1::1/64"],"kernel_interface":"cats-p0","punted":17,"injected":9,
         "punt_rate_dropped":2,"inject_rate_dropped":1,"tap_tx_full":0,"port_tx_full":0,"inject_oversize":0},
        {"port":"p1","port_id":1,"mode":"af_xdp","driver":"net_af_xdp","mac":"02:00:00:00:00:02","mtu":1500,
         "addresses":["2001:db8:2::1/64"],"kernel_interface":"veth1"}],
      "neighbors":[
        {"address":"2001:db8:1::2","port":"p0","port_id":0,"state":"static","mac":"02:00:00:00:00:0a",
         "age_s":null,"probes":0,"interface":"cats-p0"},
        {"address":"2001:db8:2::2","port":"p1","port_id":1,"state":"reachable","mac":"02:00:00:00:00:0b",
         "age_s":4.31,"probes":1,"usable":true,"interface":"veth1"},
        {"address":"2001:db8:2::3","port":"p1","port_id":1,"state":"failed","mac":"",
         "age_s":30.0,"probes":3,"usable":false,"interface":"veth1"}],
      "held":{"now":1,"sent":5,"dropped":2},
      "config_routes":[{"prefix":"2001:db8:a1::/48","via":"2001:db8:1::2","port":"p0","state":"installed"}],
      "kernel_routes":{"table":254,"max_routes":4096,"max_next_hops":64,"routes_installed":1,"routes_known":1,
        "events":3,"skipped":{"on_link":2},"truncated":false,
        "routes":[{"prefix":"2001:db8:a9::/48","via":"fe80::2","interface":"veth1","port":"p1","metric":20,
                   "protocol":"bgp","state":"installed"}]}})");
}

// The dataplane's per-policy counters, as its STATS has them.
Json fake_policies() {
    return Json::parse(R"({
      "ingress":[{"source":"2001:db8:ff::1","sid":"2001:db8:a1::1","segments":["2001:db8:a1::1"],"cs_id":100,
                  "instance":1,"packets":10,"bytes":1000}],
      "egress":[{"source":"2001:db8:ff::9","sid":"fc00:c::/64","packets":8,"bytes":800}],
      "egress_overflow":0,"egress_capacity":8192})");
}

// A cats-dataplane stand-in: the server end of the management channel.
// Its SID table starts with fc00:c::/64 (as from its YAML) and refuses a
// next hop equal to `unreachable`, as the real one refuses one its FIB
// does not reach.
class FakeDataplane {
public:
    explicit FakeDataplane(std::string path, std::string unreachable = "2001:db8:77::1")
        : path_(std::move(path)), unreachable_(std::move(unreachable)), listen_fd_(unix_listen(path_)) {
        thread_ = std::thread([this] { run(); });
    }
    ~FakeDataplane() {
        stop_ = true;
        thread_.join();
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }

    std::atomic<bool> reject_next{false};
    std::atomic<bool> drop_now{false};

    std::size_t updates() const {
        std::lock_guard l(mu_);
        return batches_.size();
    }
    std::vector<mgmt::Batch> batches() const {
        std::lock_guard l(mu_);
        return batches_;
    }
    std::map<std::uint32_t, mgmt::ServiceRec> table() const {
        std::lock_guard l(mu_);
        return table_;
    }
    std::uint64_t version() const {
        std::lock_guard l(mu_);
        return version_;
    }
    int connections() const { return connections_; }
    // The SIDs added over SID_UPDATE, by their text.
    std::map<std::string, mgmt::SidOp> sids() const {
        std::lock_guard l(mu_);
        return sids_;
    }
    int sid_updates() const { return sid_updates_; }
    int sids_refused() const { return sids_refused_; }
    std::vector<std::string> errors() const {
        std::lock_guard l(mu_);
        return errors_;
    }

private:
    void run() {
        while (!stop_) {
            pollfd pfd{listen_fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 20) <= 0)
                continue;
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0)
                continue;
            ++connections_;
            serve(fd);
            ::close(fd);
        }
    }

    void serve(int fd) {
        while (!stop_ && !drop_now) {
            std::array<std::uint8_t, mgmt::kHeaderLen> hb{};
            if (!read_full(fd, hb.data(), hb.size(), stop_))
                return;
            mgmt::Header h;
            if (mgmt::decode_header(hb, h) != mgmt::HeaderError::Ok)
                return note("bad header");
            std::vector<std::uint8_t> payload(h.length);
            if (!read_full(fd, payload.data(), payload.size(), stop_))
                return;
            if (drop_now) {
                drop_now = false;
                return;
            }
            std::vector<std::uint8_t> out;
            switch (h.type) {
            case mgmt::MsgType::Update: {
                mgmt::Batch b;
                if (const std::string e = mgmt::decode_batch(payload, b); !e.empty()) {
                    note("decode: " + e);
                    return reply(fd, mgmt::MsgType::Error, h.seq, mgmt::Ack{mgmt::Status::Malformed, version(), e});
                }
                std::lock_guard l(mu_);
                batches_.push_back(b);
                if (reject_next.exchange(false)) {
                    mgmt::Ack a{mgmt::Status::Rejected, version_, "op 0: refused by the test"};
                    mgmt::encode_ack(a, out);
                    write_full(fd, mgmt::make_message(mgmt::MsgType::Error, h.seq, out));
                    continue;
                }
                if (const std::string e = apply(b); !e.empty()) {
                    errors_.push_back(e);
                    mgmt::encode_ack(mgmt::Ack{mgmt::Status::Rejected, version_, e}, out);
                    write_full(fd, mgmt::make_message(mgmt::MsgType::Error, h.seq, out));
                    continue;
                }
                ++version_;
                mgmt::encode_ack(mgmt::Ack{mgmt::Status::Ok, version_, {}}, out);
                write_full(fd, mgmt::make_message(mgmt::MsgType::UpdateAck, h.seq, out));
                break;
            }
            case mgmt::MsgType::StatusReq: {
                // Like the real one: instances whose first SID does not
                // resolve; here, those under 2001:db8:99::/48.
                Json unresolved = Json::array();
                for (const auto& [cs, svc] : table())
                    for (const mgmt::InstanceRec& in : svc.instances)
                        if (!in.sids.empty() && in.sids[0][4] == 0x00 && in.sids[0][5] == 0x99)
                            unresolved.push_back({{"cs_id", cs}, {"id", in.id}, {"reason", "no_route"}});
                text(fd, mgmt::MsgType::Status, h.seq,
                     Json{{"table_version", version()}, {"workers", 2}, {"unresolved_count", unresolved.size()},
                          {"unresolved", unresolved}});
                break;
            }
            case mgmt::MsgType::StatsReq: {
                Json st = fake_stats();
                st["local_sids"] = Json::array(
                    {{{"sid", "fc00:c::/64"}, {"behavior", "End"}, {"next_hop", ""}, {"packets", 8}, {"bytes", 800},
                      {"dropped", 2}, {"drops", {{"sid_fragment", 2}}}}});
                for (const auto& [sid_text, op] : sids())
                    st["local_sids"].push_back({{"sid", sid_text},
                                                {"behavior", std::string(mgmt::sid_behavior_name(op.behavior))},
                                                {"next_hop", op.next_hop ? ctl::format_sid(*op.next_hop) : ""},
                                                {"packets", 0},
                                                {"bytes", 0},
                                                {"dropped", 0},
                                                {"drops", Json::object()}});
                st["policies"] = fake_policies();
                text(fd, mgmt::MsgType::Stats, h.seq, st);
                break;
            }
            case mgmt::MsgType::SidUpdate: {
                ++sid_updates_;
                mgmt::SidOp op;
                if (const std::string e = mgmt::decode_sid_op(payload, op); !e.empty()) {
                    note("SID update: " + e);
                    reply(fd, mgmt::MsgType::Error, h.seq, mgmt::Ack{mgmt::Status::Malformed, sid_version_, e});
                    break;
                }
                const std::string key = ctl::format_sid_prefix(op.sid, op.prefix_len);
                std::string e;
                {
                    std::lock_guard l(mu_);
                    if (op.op == mgmt::SidOpType::Add && op.next_hop && ctl::format_sid(*op.next_hop) == unreachable_)
                        e = "sid " + key + ": next_hop " + unreachable_ + " is no neighbor the FIB reaches";
                    else if (op.op == mgmt::SidOpType::Del && sids_.erase(key) == 0)
                        e = "sid " + key + ": not found";
                    else if (op.op == mgmt::SidOpType::Add)
                        sids_[key] = op;
                    if (e.empty())
                        ++sid_version_;
                }
                if (!e.empty())
                    ++sids_refused_;
                reply(fd, e.empty() ? mgmt::MsgType::UpdateAck : mgmt::MsgType::Error, h.seq,
                      mgmt::Ack{e.empty() ? mgmt::Status::Ok : mgmt::Status::Rejected, sid_version_, e});
                break;
            }
            case mgmt::MsgType::FlowsReq: {
                mgmt::FlowsQuery q;
                if (const std::string e = mgmt::decode_flows_query(payload, q); !e.empty())
                    return note("flows query: " + e);
                Json flows = Json::array();
                flows.push_back({{"cs_id", q.cs_id ? Json(*q.cs_id) : Json()}, {"instance", 1}, {"src", "2001:db8::1"}});
                text(fd, mgmt::MsgType::Flows, h.seq, Json{{"flows", flows}, {"limit", q.limit}});
                break;
            }
            default: return note("unexpected message type");
            }
        }
    }

    // The dataplane's rules: an increment may only touch what exists.
    std::string apply(const mgmt::Batch& b) {
        auto t = b.replace_all ? std::map<std::uint32_t, mgmt::ServiceRec>{} : table_;
        for (std::size_t i = 0; i < b.ops.size(); ++i) {
            const mgmt::Op& op = b.ops[i];
            const std::string where = "op " + std::to_string(i) + ": ";
            switch (op.type) {
            case mgmt::OpType::UpsertService: t[op.service.cs_id] = op.service; break;
            case mgmt::OpType::RemoveService:
                if (t.erase(op.service.cs_id) == 0)
                    return where + "no service " + std::to_string(op.service.cs_id);
                break;
            case mgmt::OpType::UpsertInstance: {
                const auto s = t.find(op.service.cs_id);
                if (s == t.end())
                    return where + "no service " + std::to_string(op.service.cs_id);
                auto& v = s->second.instances;
                const auto it = std::find_if(v.begin(), v.end(), [&](const auto& x) { return x.id == op.instance.id; });
                if (it != v.end())
                    *it = op.instance;
                else
                    v.push_back(op.instance);
                std::sort(v.begin(), v.end(), [](const auto& a, const auto& c) { return a.id < c.id; });
                break;
            }
            case mgmt::OpType::RemoveInstance: {
                const auto s = t.find(op.service.cs_id);
                if (s == t.end())
                    return where + "no service " + std::to_string(op.service.cs_id);
                auto& v = s->second.instances;
                const auto it = std::find_if(v.begin(), v.end(), [&](const auto& x) { return x.id == op.instance.id; });
                if (it == v.end())
                    return where + "no instance " + std::to_string(op.instance.id);
                v.erase(it);
                break;
            }
            }
        }
        table_ = std::move(t);
        return {};
    }

    void reply(int fd, mgmt::MsgType t, std::uint32_t seq, const mgmt::Ack& a) {
        std::vector<std::uint8_t> out;
        mgmt::encode_ack(a, out);
        write_full(fd, mgmt::make_message(t, seq, out));
    }
    void text(int fd, mgmt::MsgType t, std::uint32_t seq, const Json& j) {
        const std::string s = j.dump();
        write_full(fd, mgmt::make_message(t, seq, std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())));
    }
    void note(const std::string& e) {
        std::lock_guard l(mu_);
        errors_.push_back(e);
    }

    std::string path_;
    std::string unreachable_;
    int listen_fd_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> sid_updates_{0};
    std::atomic<int> sids_refused_{0};
    std::map<std::string, mgmt::SidOp> sids_;
    std::uint64_t sid_version_ = 0;
    mutable std::mutex mu_;
    std::vector<mgmt::Batch> batches_;
    std::map<std::uint32_t, mgmt::ServiceRec> table_;
    std::uint64_t version_ = 0;
    std::vector<std::string> errors_;
    std::thread thread_;
};

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred())
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

// One raw line exchange; returns the reply line ("" on EOF).
std::string raw_call(const std::string& path, const std::string& line) {
    const int fd = unix_connect(path);
    if (fd < 0)
        return "(connect failed)";
    write_full(fd, std::vector<std::uint8_t>(line.begin(), line.end()));
    std::string reply;
    char c;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n')
        reply += c;
    ::close(fd);
    return reply;
}

ctl::Response call(const std::string& path, std::string_view cmd, Json args = Json::object()) {
    ctl::Request r;
    r.cmd = std::string(cmd);
    r.args = std::move(args);
    ctl::Response resp;
    const std::string e = ctl::parse_response(raw_call(path, ctl::encode_request(r)), resp);
    if (!e.empty())
        throw std::runtime_error(e);
    return resp;
}

struct RunResult {
    int status = -1;
    std::string output;
};

RunResult run(const std::string& cmd) {
    RunResult r;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr)
        return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
        r.output.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

// The daemon on its own thread; its state is touched only there.
class Harness {
public:
    explicit Harness(Config cfg) : daemon_(io_, std::move(cfg)) {
        daemon_.link().set_timers(100ms, 5s);
        daemon_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Harness() { shutdown(); }

    template <class F>
    auto on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        boost::asio::post(io_, [&task] { task(); });
        return fut.get();
    }

    void shutdown() {
        if (!thread_.joinable())
            return;
        on_io([this] { daemon_.stop(); });
        io_.stop();
        thread_.join();
    }

    // What the dataplane should have: a snapshot of a copy of the RIB.
    std::map<std::uint32_t, mgmt::ServiceRec> expected() {
        return on_io([this] {
            Rib copy = daemon_.rib();
            std::map<std::uint32_t, mgmt::ServiceRec> t;
            for (const mgmt::Op& op : copy.snapshot().ops)
                t[op.service.cs_id] = op.service;
            return t;
        });
    }

    std::uint16_t advert_port() {
        return on_io([this] { return daemon_.advert_ports().at(0); });
    }

private:
    boost::asio::io_context io_;
    Daemon daemon_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("daemon: adverts, catsctl and the dataplane link end to end", "[daemon]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("cats-ctl-e2e-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string ctl_path = (dir / "control.sock").string();
    const std::string dp_path = (dir / "dataplane.sock").string();

    Config cfg = load_config_string(R"(
listen: [{address: "::1", port: 7410}]
peers:
  - {node_id: 7, key_id: 1, key: a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1, name: edge-7}
policy: {startup_hold_s: 0, max_pushes_per_s: 0}
services:
  - cs_id: 100
    name: video
    instances:
      - {id: 1, sids: ["2001:db8:a1::1"], metrics: {latency_us: 100}}
)");
    cfg.listen[0].port = 0;  // any free port
    cfg.ctl_socket = ctl_path;
    cfg.dataplane_socket = dp_path;

    auto dp = std::make_unique<FakeDataplane>(dp_path);
    Harness h(cfg);

    // (Re)connect: a full snapshot with the static table.
    REQUIRE(wait_until([&] { return dp->updates() >= 1; }));
    CHECK(dp->batches()[0].replace_all);
    CHECK(dp->table() == h.expected());
    CHECK(dp->table().at(100).name == "video");

    // catsctl instance add: acknowledged with the table version.
    auto r = call(ctl_path, ctl::kInstanceAdd,
                  {{"cs_id", 300}, {"id", 1}, {"sids", {"2001:db8:c::1"}}, {"name", "batch"}, {"metrics", {{"weight", 5}}}});
    REQUIRE(r.ok);
    CHECK(r.result["applied"] == true);
    CHECK(r.result["table_version"] == dp->version());
    CHECK(dp->table().at(300).name == "batch");

    // An advert over UDP joins the static service.
    boost::asio::io_context tx_io;
    boost::asio::ip::udp::socket tx(tx_io, boost::asio::ip::udp::endpoint(boost::asio::ip::udp::v6(), 0));
    const boost::asio::ip::udp::endpoint to(boost::asio::ip::make_address("::1"), h.advert_port());
    const auto key = std::vector<std::uint8_t>(32, 0xA1);
    tx.send_to(boost::asio::buffer(advert::encode(advertise(7, 1, {record(100, 2, {"2001:db8:a2::1"})}, 30, 1), key)), to);
    REQUIRE(wait_until([&] { return dp->table().at(100).instances.size() == 2; }));
    CHECK(dp->table() == h.expected());

    // Every command.
    r = call(ctl_path, ctl::kServiceList);
    REQUIRE(r.ok);
    CHECK(r.result["services"].size() == 2);
    CHECK(r.result["services"][0]["instances"][1]["origin"] == "advert");
    r = call(ctl_path, ctl::kPeerList);
    REQUIRE(r.ok);
    CHECK(r.result["peers"][0]["accepted"] == 1);
    r = call(ctl_path, ctl::kFlowList, {{"cs_id", 100}, {"limit", 7}});
    REQUIRE(r.ok);
    CHECK(r.result["limit"] == 7);
    CHECK(r.result["flows"][0]["cs_id"] == 100);
    r = call(ctl_path, ctl::kStats);
    REQUIRE(r.ok);
    CHECK(r.result["control"]["advert"]["accepted"] == 1);
    CHECK(r.result["control"]["rib"]["instances"] == 3);
    CHECK(r.result["dataplane"]["rx"] == 42);
    // Neighbors and ports: just those parts of the dataplane's stats.
    r = call(ctl_path, ctl::kNeighborList);
    REQUIRE(r.ok);
    CHECK(r.result ==
          Json{{"neighbors", fake_stats()["neighbors"]}, {"held", {{"now", 1}, {"sent", 5}, {"dropped", 2}}}});
    r = call(ctl_path, ctl::kPortList);
    REQUIRE(r.ok);
    CHECK(r.result == Json{{"ports", fake_stats()["kernel_ports"]}});
    CHECK(r.result["ports"][0]["punted"] == 17);
    r = call(ctl_path, ctl::kRouteList);
    REQUIRE(r.ok);
    REQUIRE(r.result["routes"].size() == 2);
    CHECK(r.result["routes"][0]["source"] == "config");
    CHECK(r.result["routes"][1]["source"] == "kernel");
    CHECK(r.result["routes"][1]["via"] == "fe80::2");
    CHECK(r.result["kernel"]["skipped"]["on_link"] == 2);
    CHECK_FALSE(r.result["kernel"].contains("routes"));
    r = call(ctl_path, ctl::kNeighborList, {{"port", "p0"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "args.port: unknown key (no arguments expected)");
    r = call(ctl_path, ctl::kDataplaneStatus);
    REQUIRE(r.ok);
    CHECK(r.result["link"]["state"] == "up");
    CHECK(r.result["link"]["table_version"] == dp->version());
    CHECK(r.result["link"]["last_sync_ms_ago"].is_number());
    CHECK(r.result["dataplane"]["workers"] == 2);

    // Local SIDs: one SID_UPDATE each, acknowledged with the SID table's
    // version; a refusal is the dataplane's error, naming the SID and field.
    r = call(ctl_path, ctl::kSidAdd, {{"sid", "fc00:e::d6"}, {"behavior", "End.DX6"}, {"next_hop", "2001:db8:ff::d"}});
    REQUIRE(r.ok);
    CHECK(r.result == Json{{"sid", "fc00:e::d6"},
                           {"behavior", "End.DX6"},
                           {"next_hop", "2001:db8:ff::d"},
                           {"applied", true},
                           {"sid_table_version", 1}});
    r = call(ctl_path, ctl::kSidAdd, {{"sid", "fc00:e::/48"}, {"behavior", "end"}});
    REQUIRE(r.ok);
    CHECK(r.result["behavior"] == "End");
    CHECK(r.result["sid_table_version"] == 2);
    r = call(ctl_path, ctl::kSidAdd, {{"sid", "fc00:e::d7"}, {"behavior", "End.DX6"}, {"next_hop", "2001:db8:77::1"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "dataplane refused: sid fc00:e::d7: next_hop 2001:db8:77::1 is no neighbor the FIB reaches");
    r = call(ctl_path, ctl::kSidAdd, {{"sid", "fc00:e::d7"}, {"behavior", "End.DX6"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "args.next_hop: End.DX6 needs a next hop (required key is missing)");
    CHECK(dp->sids().size() == 2);
    r = call(ctl_path, ctl::kSidList);
    REQUIRE(r.ok);
    REQUIRE(r.result["sids"].size() == 3);
    std::map<std::string, Json> listed;
    for (const Json& e : r.result["sids"])
        listed[e["sid"].get<std::string>()] = e;
    CHECK(listed["fc00:c::/64"]["origin"] == "config");
    CHECK(listed["fc00:c::/64"]["drops"]["sid_fragment"] == 2);
    CHECK(listed["fc00:e::d6"]["origin"] == "cli");
    CHECK(listed["fc00:e::d6"]["next_hop"] == "2001:db8:ff::d");
    CHECK(listed["fc00:e::/48"]["origin"] == "cli");
    r = call(ctl_path, ctl::kPolicyList);
    REQUIRE(r.ok);
    CHECK(r.result == fake_policies());
    r = call(ctl_path, ctl::kSidDel, {{"sid", "fc00:e::/48"}});
    REQUIRE(r.ok);
    CHECK(r.result == Json{{"sid", "fc00:e::/48"}, {"applied", true}, {"sid_table_version", 3}});
    r = call(ctl_path, ctl::kSidDel, {{"sid", "fc00:e::/48"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "dataplane refused: sid fc00:e::/48: not found");
    CHECK(dp->sids().size() == 1);
    r = call(ctl_path, ctl::kSidList, {{"all", true}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "args.all: unknown key (no arguments expected)");
    r = call(ctl_path, ctl::kStats);
    CHECK(r.result["control"]["dataplane_link"]["sid_updates"] == 5);
    CHECK(r.result["control"]["dataplane_link"]["sid_errors"] == 2);

    // Errors are answered, never fatal.
    r = call(ctl_path, ctl::kInstanceDel, {{"cs_id", 100}, {"id", 2}});
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("advertised by node 7") != std::string::npos);
    r = call(ctl_path, ctl::kInstanceAdd, {{"cs_id", 1}, {"id", 1}, {"sids", {"bogus"}}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "args.sids[0]: 'bogus' is not an IPv6 address");
    CHECK(raw_call(ctl_path, "hello\n") == R"({"error":"request is not valid JSON","ok":false,"v":0})");
    // Several requests on one connection, answered in order.
    {
        const int fd = unix_connect(ctl_path);
        const std::string two = ctl::encode_request({"stats", Json::object()}) + ctl::encode_request({"peer.list", Json::object()});
        write_full(fd, std::vector<std::uint8_t>(two.begin(), two.end()));
        std::string got;
        char c;
        int lines = 0;
        while (lines < 2 && ::recv(fd, &c, 1, 0) == 1)
            if ((got += c, c == '\n'))
                ++lines;
        ::close(fd);
        CHECK(lines == 2);
        CHECK(got.find("\"peers\"") > got.find("\"control\""));
    }
    // An endless line: an error, then the connection is closed.
    {
        const int fd = unix_connect(ctl_path);
        const std::vector<std::uint8_t> big(ctl::kMaxLine + 10, 'x');
        std::thread writer([&] { write_full(fd, big); });
        std::string got;
        char c;
        while (::recv(fd, &c, 1, 0) == 1)
            got += c;
        ::shutdown(fd, SHUT_RDWR);
        writer.join();
        ::close(fd);
        CHECK(got == ctl::encode_error("request longer than 1048576 bytes"));
    }

    // The dataplane refuses an update: it keeps its table, the daemon
    // resynchronises with a full snapshot.
    const std::size_t before = dp->updates();
    dp->reject_next = true;
    r = call(ctl_path, ctl::kInstanceSet, {{"cs_id", 300}, {"id", 1}, {"metrics", {{"weight", 6}}}});
    REQUIRE(r.ok);
    CHECK(r.result["applied"] == false);
    CHECK(r.result["note"].get<std::string>().find("refused (rejected): op 0: refused by the test") != std::string::npos);
    REQUIRE(wait_until([&] { return dp->updates() >= before + 2; }, 5000ms));
    CHECK(dp->batches().back().replace_all);
    CHECK(dp->table() == h.expected());
    CHECK(dp->table().at(300).instances[0].metrics.weight == 6);

    // The dataplane drops the connection: reconnect, full snapshot.
    const int conns = dp->connections();
    const int sid_updates = dp->sid_updates();
    dp->drop_now = true;
    call(ctl_path, ctl::kDataplaneStatus);  // anything to make it notice
    REQUIRE(wait_until([&] { return dp->connections() > conns && dp->batches().back().replace_all; }));
    REQUIRE(wait_until([&] { return dp->table() == h.expected(); }));
    // The SIDs added with catsctl, again, after the snapshot.
    REQUIRE(wait_until([&] { return dp->sid_updates() == sid_updates + 1; }));
    CHECK(dp->sids().size() == 1);

    // The dataplane goes away: control keeps answering; changes wait.
    dp.reset();
    REQUIRE(wait_until([&] { return call(ctl_path, ctl::kDataplaneStatus).result["link"]["state"] != "up"; }));
    r = call(ctl_path, ctl::kDataplaneStatus);
    REQUIRE(r.ok);
    CHECK(r.result["dataplane"].is_null());
    CHECK(r.result["dataplane_error"].get<std::string>().find("dataplane at " + dp_path + " not connected") == 0);
    r = call(ctl_path, ctl::kFlowList);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("dataplane at " + dp_path + " not connected") == 0);
    r = call(ctl_path, ctl::kNeighborList);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("cannot list neighbors: dataplane at " + dp_path + " not connected") == 0);
    r = call(ctl_path, ctl::kPortList);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("cannot list ports: dataplane at " + dp_path + " not connected") == 0);
    r = call(ctl_path, ctl::kRouteList);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("cannot list routes: dataplane at " + dp_path + " not connected") == 0);
    r = call(ctl_path, ctl::kSidList);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("cannot list local SIDs: dataplane at " + dp_path + " not connected") == 0);
    r = call(ctl_path, ctl::kPolicyList);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("cannot list policies: dataplane at " + dp_path + " not connected") == 0);
    // Not remembered unless the dataplane took it.
    r = call(ctl_path, ctl::kSidAdd, {{"sid", "fc00:e::d9"}, {"behavior", "End"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("cannot add sid fc00:e::d9: dataplane at " + dp_path + " not connected") == 0);
    if (const char* catsctl = std::getenv("CATSCTL"); catsctl != nullptr && *catsctl != '\0') {
        RunResult o = run(std::string(catsctl) + " -s " + ctl_path + " neighbor list");
        CHECK(o.status == 1);
        CHECK(o.output.find("catsctl: cannot list neighbors: dataplane at " + dp_path + " not connected") == 0);
        // Health checks: answered, but unhealthy: 3, the status still shown.
        o = run(std::string(catsctl) + " -s " + ctl_path + " dataplane status");
        CHECK(o.status == 3);
        CHECK(o.output.find("socket") == 0);
        CHECK(o.output.find("catsctl: unhealthy: the dataplane link is ") != std::string::npos);
        o = run(std::string(catsctl) + " -s " + ctl_path + " --json stats");
        CHECK(o.status == 3);
        CHECK(o.output.find("catsctl: unhealthy: no dataplane stats") != std::string::npos);
    }
    r = call(ctl_path, ctl::kStats);
    REQUIRE(r.ok);
    CHECK(r.result["control"]["rib"]["instances"] == 3);
    r = call(ctl_path, ctl::kInstanceAdd, {{"cs_id", 100}, {"id", 9}, {"sids", {"2001:db8:a9::1"}}});
    REQUIRE(r.ok);
    CHECK(r.result["applied"] == false);
    CHECK(r.result["note"].get<std::string>().find("not connected") != std::string::npos);

    // It comes back: one snapshot holds everything, including the change;
    // then the SID added with catsctl (a restarted dataplane has only its
    // YAML's).
    dp = std::make_unique<FakeDataplane>(dp_path);
    REQUIRE(wait_until([&] { return dp->updates() >= 1; }));
    CHECK(dp->batches()[0].replace_all);
    CHECK(dp->table() == h.expected());
    CHECK(dp->table().at(100).instances.size() == 3);
    REQUIRE(wait_until([&] { return dp->sids().size() == 1; }));
    CHECK(dp->sids().count("fc00:e::d6") == 1);
    CHECK(dp->sid_updates() == 1);

    // Withdrawal over UDP: pushed as an increment the dataplane accepts.
    tx.send_to(boost::asio::buffer(advert::encode(withdraw(7, 2, {{100, 2}}, 1), key)), to);
    REQUIRE(wait_until([&] { return dp->table().at(100).instances.size() == 2; }));
    CHECK(dp->table() == h.expected());

    // The catsctl binary, when the build made one.
    if (const char* catsctl = std::getenv("CATSCTL"); catsctl != nullptr && *catsctl != '\0') {
        const std::string c = std::string(catsctl) + " -s " + ctl_path + " ";
        RunResult o = run(c + "service list");
        CHECK(o.status == 0);
        CHECK(o.output.find("CS-ID") == 0);
        CHECK(o.output.find("video") != std::string::npos);
        CHECK(o.output.find("2 services, 3 instances") != std::string::npos);
        o = run(c + "--json stats");
        CHECK(o.status == 0);
        CHECK(Json::parse(o.output, nullptr, false)["dataplane"]["rx"] == 42);
        o = run(c + "instance add 400 1 --sid 2001:db8:d::1 --sid 2001:db8:d::2 --load 10 --compute-types cpu,gpu");
        CHECK(o.status == 0);
        CHECK(o.output.find("cs 400 instance 1: added; the dataplane runs table version") == 0);
        o = run(c + "instance set 400 1 --weight 0");
        CHECK(o.status == 0);
        CHECK(dp->table().at(400).instances[0].metrics.weight == 0);
        CHECK(dp->table().at(400).instances[0].metrics.compute_types == 3);
        o = run(c + "peer list");
        CHECK(o.status == 0);
        CHECK(o.output.find("edge-7") != std::string::npos);
        o = run(c + "dataplane status");
        CHECK(o.status == 0);
        CHECK(o.output.find("link           up (in sync)") != std::string::npos);
        o = run(c + "neighbor list");
        CHECK(o.status == 0);
        CHECK(o.output ==
              "ADDRESS        STATE              MAC                PORT  INTERFACE  AGE    PROBES\n"
              "2001:db8:1::2  static             02:00:00:00:00:0a  p0    cats-p0    -      0\n"
              "2001:db8:2::2  reachable          02:00:00:00:00:0b  p1    veth1      4.3s   1\n"
              "2001:db8:2::3  failed (unusable)  -                  p1    veth1      30.0s  3\n"
              "3 neighbors\n"
              "held for resolution: 1 packets now, 5 sent, 2 dropped\n");
        o = run(c + "route list");
        CHECK(o.status == 0);
        CHECK(o.output ==
              "PREFIX            VIA            PORT  INTERFACE  SOURCE  PROTOCOL  METRIC  STATE\n"
              "2001:db8:a1::/48  2001:db8:1::2  p0    -          config  -         -       installed\n"
              "2001:db8:a9::/48  fe80::2        p1    veth1      kernel  bgp       20      installed\n"
              "kernel table 254: 1 of 1 installed (max 4096 routes, 64 next hops); not taken: on_link 2\n");
        o = run(c + "--json neighbor list");
        CHECK(o.status == 0);
        const Json nj = Json::parse(o.output, nullptr, false);
        CHECK(nj["neighbors"] == fake_stats()["neighbors"]);
        CHECK(nj["held"]["dropped"] == 2);
        o = run(c + "port list");
        CHECK(o.status == 0);
        CHECK(o.output ==
              "PORT  MODE    MAC                MTU   ADDRESSES         KERNEL-IF  PUNTED  INJECTED  "
              "RATE-DROPPED(PUNT/INJECT)\n"
              "p0    dpdk    02:00:00:00:00:01  1500  2001:db8:1::1/64  cats-p0    17      9         2/1\n"
              "p1    af_xdp  02:00:00:00:00:02  1500  2001:db8:2::1/64  veth1      -       -         -\n");
        o = run(c + "port list --json");
        CHECK(o.status == 0);
        CHECK(Json::parse(o.output, nullptr, false) == Json{{"ports", fake_stats()["kernel_ports"]}});
        o = run(c + "port");
        CHECK(o.status == 2);
        o = run(c + "flow list --service 100");
        CHECK(o.status == 0);
        CHECK(o.output.find("2001:db8::1") != std::string::npos);
        o = run(c + "instance del 400 1");
        CHECK(o.status == 0);
        CHECK(dp->table().count(400) == 0);
        // An unroutable SID is said where it is added and where it is
        // listed (issue 21, item 2).
        o = run(c + "instance add 100 19 --sid 2001:db8:99::1");
        CHECK(o.status == 0);
        CHECK(o.output.find("cs 100 instance 19: added; the dataplane runs table version ") == 0);
        CHECK(o.output.find("\nwarning: the dataplane cannot steer to it: its first SID does not resolve "
                            "(no_route); it gets no traffic until it does\n") != std::string::npos);
        o = run(c + "service list");
        CHECK(o.output.find("in_sync, unresolved (no_route)") != std::string::npos);
        CHECK(o.output.find(", 1 unresolved in the dataplane") != std::string::npos);
        o = run(c + "--json service list");
        const Json sl = Json::parse(o.output, nullptr, false);
        std::map<std::uint64_t, Json> by_id;
        for (const Json& s : sl["services"])
            if (s["cs_id"] == 100)
                for (const Json& in : s["instances"])
                    by_id[in["id"].get<std::uint64_t>()] = in;
        CHECK(by_id[19]["resolved"] == false);
        CHECK(by_id[19]["unresolved_reason"] == "no_route");
        CHECK(by_id[1]["resolved"] == true);
        o = run(c + "instance add 100 20 --sid 2001:db8:a9::20");
        CHECK(o.output.find("warning") == std::string::npos);
        CHECK(run(c + "instance del 100 19").status == 0);
        CHECK(run(c + "instance del 100 20").status == 0);
        // Drain: weight 0 in the dataplane until undrained (issue 21, item 11).
        const auto weight_of = [&](std::uint32_t cs, std::uint32_t id) -> std::int64_t {
            const auto t = dp->table();
            if (!t.contains(cs))
                return -1;
            for (const mgmt::InstanceRec& in : t.at(cs).instances)
                if (in.id == id)
                    return in.metrics.weight;
            return -1;
        };
        const std::int64_t own = weight_of(100, 1);
        REQUIRE(own > 0);
        o = run(c + "instance drain 100 1");
        CHECK(o.status == 0);
        CHECK(o.output.find("cs 100 instance 1: drained; the dataplane runs table version ") == 0);
        CHECK(weight_of(100, 1) == 0);
        o = run(c + "service list");
        CHECK(o.output.find("in_sync, drained") != std::string::npos);
        o = run(c + "instance undrain 100 1");
        CHECK(o.status == 0);
        CHECK(weight_of(100, 1) == own);
        o = run(c + "instance drain 100 999");
        CHECK(o.status == 1);
        CHECK(o.output == "catsctl: cs 100 instance 999 does not exist\n");
        // The daemon says no: 1.
        o = run(c + "instance del 100 77");
        CHECK(o.status == 1);
        CHECK(o.output == "catsctl: cs 100 instance 77 does not exist\n");
        // Bad arguments: 2, with usage.
        o = run(c + "instance add 400 1");
        CHECK(o.status == 2);
        CHECK(o.output.find("--sid is required") != std::string::npos);
        o = run(c + "instance add 400 1 --sid 2001:db8::1 --load 101");
        CHECK(o.status == 2);
        o = run(c + "instance add 400 x --sid 2001:db8::1");
        CHECK(o.status == 2);
        o = run(c + "instance set 400 1");
        CHECK(o.status == 2);
        CHECK(o.output.find("nothing to set") != std::string::npos);
        o = run(c + "frobnicate");
        CHECK(o.status == 2);
        o = run(c);
        CHECK(o.status == 2);
        // Usage errors: one line saying what, one saying where to look
        // (issue 21, item 5); no class names, no help text.
        o = run(c + "servce list");
        CHECK(o.status == 2);
        CHECK(o.output == "catsctl: 'servce' is not a command of catsctl; did you mean 'service'? (service, instance, "
                          "flow, peer, stats, dataplane, neighbor, port, route, sid, policy, monitor)\n"
                          "  (catsctl --help for usage)\n");
        o = run(c + "neighbor lst");
        CHECK(o.output == "catsctl: 'lst' is not a command of catsctl neighbor; did you mean 'list'? (list)\n"
                          "  (catsctl neighbor --help for usage)\n");
        o = run(c + "instance add 400 1 --sid zz");
        CHECK(o.status == 2);
        CHECK(o.output == "catsctl: instance add: --sid: 'zz' is not an IPv6 address\n"
                          "  (catsctl instance add --help for usage)\n");
        o = run(c + "route");
        CHECK(o.output == "catsctl: a command is required after 'catsctl route'\n  (catsctl route --help for usage)\n");
        // Global flags anywhere, after the command too.
        o = run(std::string(catsctl) + " port list -s " + ctl_path + " --json");
        CHECK(o.status == 0);
        CHECK(Json::parse(o.output, nullptr, false).contains("ports"));
        o = run(std::string(catsctl) + " --help");
        CHECK(o.status == 0);
        // Local SIDs, iproute2 style.
        o = run(c + "sid add fc00:e::d8 behavior End.X next-hop 2001:db8:ff::e");
        CHECK(o.status == 0);
        CHECK(o.output ==
              "sid fc00:e::d8: added (End.X, next hop 2001:db8:ff::e); the dataplane runs SID table version 2\n");
        o = run(c + "sid add fc00:e:0:e000::/64 behavior End.DT6");
        CHECK(o.status == 0);
        o = run(c + "sid list");
        CHECK(o.status == 0);
        CHECK(o.output ==
              "SID                 BEHAVIOR  NEXT-HOP        ORIGIN  PACKETS  BYTES  DROPPED  TOP-DROPS\n"
              "fc00:c::/64         End       -               config  8        800    2        sid_fragment 2\n"
              "fc00:e:0:e000::/64  End.DT6   -               cli     0        0      0        -\n"
              "fc00:e::d6          End.DX6   2001:db8:ff::d  cli     0        0      0        -\n"
              "fc00:e::d8          End.X     2001:db8:ff::e  cli     0        0      0        -\n"
              "4 local SIDs\n");
        o = run(c + "sid list --json");
        CHECK(o.status == 0);
        CHECK(Json::parse(o.output, nullptr, false)["sids"].size() == 4);
        o = run(c + "policy list");
        CHECK(o.status == 0);
        CHECK(o.output ==
              "DIRECTION  SOURCE          SID             PACKETS  BYTES  CS-ID  INSTANCE  SEGMENTS\n"
              "ingress    2001:db8:ff::1  2001:db8:a1::1  10       1000   100    1         2001:db8:a1::1\n"
              "egress     2001:db8:ff::9  fc00:c::/64     8        800    -      -         -\n"
              "1 ingress, 1 egress policies\n");
        o = run(c + "--json policy list");
        CHECK(o.status == 0);
        CHECK(Json::parse(o.output, nullptr, false) == fake_policies());
        o = run(c + "sid del fc00:e::d8");
        CHECK(o.status == 0);
        CHECK(o.output == "sid fc00:e::d8: deleted; the dataplane runs SID table version 4\n");
        CHECK(run(c + "sid del fc00:e:0:e000::/64").status == 0);
        // The dataplane says no: 1, its words.
        o = run(c + "sid add fc00:e::d7 behavior End.DX6 next-hop 2001:db8:77::1");
        CHECK(o.status == 1);
        CHECK(o.output ==
              "catsctl: dataplane refused: sid fc00:e::d7: next_hop 2001:db8:77::1 is no neighbor the FIB reaches\n");
        o = run(c + "sid del fc00:e::d7");
        CHECK(o.status == 1);
        CHECK(o.output == "catsctl: dataplane refused: sid fc00:e::d7: not found\n");
        // catsctl says no: 2, naming the word.
        o = run(c + "sid add fc00:e::d7 behavior End.DX4");
        CHECK(o.status == 2);
        CHECK(o.output == "catsctl: sid add: behavior: 'End.DX4' is not a behavior (End, End.X, End.DX6, End.DT6; "
                          "End.DX4 and End.DT4 need IPv4 forwarding, which cats does not do)\n"
                          "  (catsctl sid add --help for usage)\n");
        o = run(c + "sid add fc00:e::d7 behavior End.DX6");
        CHECK(o.status == 2);
        CHECK(o.output == "catsctl: sid add: next-hop: End.DX6 needs one (SID behavior End.DX6 next-hop ADDR)\n"
                          "  (catsctl sid add --help for usage)\n");
        o = run(c + "sid add fc00:e::d7 behavior End next-hop 2001:db8::1");
        CHECK(o.status == 2);
        CHECK(o.output.find("catsctl: sid add: next-hop: End takes none (End.X and End.DX6 do)\n") == 0);
        o = run(c + "sid add fc00:e::d7");
        CHECK(o.status == 2);
        CHECK(o.output.find("catsctl: sid add: behavior is required (after the SID: behavior End, End.X, End.DX6, "
                            "End.DT6 [next-hop ADDR])\n") == 0);
        o = run(c + "sid add fc00:e::d7 behavior End via 2001:db8::1");
        CHECK(o.status == 2);
        CHECK(o.output.find("catsctl: sid add: unexpected 'via'") == 0);
        o = run(c + "sid add fc00:e::d7 behavior End.X next-hop zz");
        CHECK(o.status == 2);
        CHECK(o.output.find("catsctl: sid add: next-hop: 'zz' is not an IPv6 address\n") == 0);
        o = run(c + "sid add fc00:e::zz behavior End");
        CHECK(o.status == 2);
        CHECK(o.output.find("catsctl: sid add: SID: 'fc00:e::zz' is not an IPv6 address or prefix") == 0);
        o = run(c + "sid del");
        CHECK(o.status == 2);
        CHECK(dp->sids().size() == 1);
        // Unreachable daemon: 1, naming the socket.
        o = run(std::string(catsctl) + " -s " + (dir / "nope.sock").string() + " stats");
        CHECK(o.status == 1);
        CHECK(o.output.find("cannot reach cats-control at " + (dir / "nope.sock").string()) != std::string::npos);
    }

    CHECK(dp->errors().empty());

    // A dataplane that restarts with a config where the SID's next hop is
    // unreachable refuses it: cats-control forgets it and does not send it
    // again.
    dp.reset();
    dp = std::make_unique<FakeDataplane>(dp_path, "2001:db8:ff::d");
    REQUIRE(wait_until([&] { return dp->sids_refused() == 1; }));
    CHECK(dp->sids().empty());
    const int conns2 = dp->connections();
    dp->drop_now = true;
    call(ctl_path, ctl::kDataplaneStatus);
    REQUIRE(wait_until([&] { return dp->connections() > conns2 && dp->updates() >= 2; }));
    std::this_thread::sleep_for(200ms);
    CHECK(dp->sid_updates() == 1);
    r = call(ctl_path, ctl::kSidList);
    REQUIRE(r.ok);
    CHECK(r.result["sids"].size() == 1);

    CHECK(dp->errors().empty());
    h.shutdown();
    CHECK_FALSE(fs::exists(ctl_path));  // removed on exit
    dp.reset();
    fs::remove_all(dir);
}

TEST_CASE("daemon: a second instance on the same ctl socket is refused", "[daemon]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("cats-ctl-dup-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    Config cfg;
    cfg.listen.clear();
    cfg.ctl_socket = (dir / "c.sock").string();
    cfg.dataplane_socket = (dir / "d.sock").string();
    {
        Harness h(cfg);
        boost::asio::io_context io2;
        CHECK_THROWS_WITH(Daemon(io2, cfg), Catch::Matchers::Contains("another process answers on it"));
        // Dataplane absent: the status says so.
        const auto r = call(cfg.ctl_socket, ctl::kDataplaneStatus);
        REQUIRE(r.ok);
        CHECK(r.result["link"]["state"] != "up");
    }
    // A stale socket file (the daemon died) is replaced.
    {
        const int fd = unix_listen(cfg.ctl_socket);
        ::close(fd);
        CHECK(fs::exists(cfg.ctl_socket));
        Harness h(cfg);
        CHECK(call(cfg.ctl_socket, ctl::kServiceList).ok);
    }
    fs::remove_all(dir);
}
