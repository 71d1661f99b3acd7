// SPDX-License-Identifier: BSD-3-Clause
#include "metrics.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "log.hpp"

namespace cats::control {

using nlohmann::json;

namespace {

// Families in first-added order, each with its HELP, TYPE and samples
// together, as the text format asks.
class Exposition {
public:
    void add(const std::string& name, const char* type, const char* help, const std::string& labels,
             const json& value) {
        if (!value.is_number() && !value.is_boolean())
            return;
        auto [it, fresh] = index_.try_emplace(name, families_.size());
        if (fresh)
            families_.push_back({name, type, help, {}});
        families_[it->second].samples.push_back(name + labels + " " + number(value));
    }
    std::string text() const {
        std::string out;
        for (const Family& f : families_) {
            out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
            for (const std::string& s : f.samples)
                out += s + "\n";
        }
        return out;
    }

private:
    static std::string number(const json& v) {
        if (v.is_boolean())
            return v.get<bool>() ? "1" : "0";
        if (v.is_number_float()) {
            char buf[48];
            std::snprintf(buf, sizeof(buf), "%.9g", v.get<double>());
            return buf;
        }
        return v.dump();
    }
    struct Family {
        std::string name;
        const char* type;
        const char* help;
        std::vector<std::string> samples;
    };
    std::vector<Family> families_;
    std::map<std::string, std::size_t> index_;
};

std::string labels(std::initializer_list<std::pair<const char*, std::string>> kv) {
    std::string out = "{";
    for (const auto& [k, v] : kv)
        out += (out.size() > 1 ? "," : "") + std::string(k) + "=\"" + escape_label(v) + "\"";
    return out + "}";
}

const json& at(const json& j, const char* key) {
    static const json kNull;
    if (!j.is_object())
        return kNull;
    const auto it = j.find(key);
    return it == j.end() ? kNull : *it;
}

std::string text_of(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
}

void control_metrics(Exposition& e, const json& c) {
    for (const auto& [reason, n] : at(c, "advert").items())
        e.add("cats_control_adverts_total", "counter",
              "Advertisement datagrams by result: accepted, or the reason they were rejected",
              labels({{"result", reason}}), n);
    e.add("cats_control_advert_socket_drops_total", "counter",
          "Datagrams the kernel dropped at the advertisement sockets (receive buffer full)", "",
          at(c, "advert_socket_drops"));
    e.add("cats_control_peers", "gauge", "Configured peer keys", "", at(c, "peers"));
    const json& rib = at(c, "rib");
    e.add("cats_control_rib_services", "gauge", "Services in cats-control's table", "", at(rib, "services"));
    e.add("cats_control_rib_instances", "gauge", "Instances in cats-control's table", "", at(rib, "instances"));
    static const std::pair<const char*, const char*> kRib[] = {
        {"records_accepted", "Advertised records accepted"},
        {"withdrawn", "Instances withdrawn by their node"},
        {"expired", "Instances whose lifetime ran out"},
        {"pushes", "Metric changes pushed to the dataplane"},
        {"pushes_immediate", "Changes pushed at once (eligibility changed)"},
        {"suppressed", "Metric changes below the threshold, not pushed"},
        {"dampened", "Changes held back by the push rate limit"},
        {"flushed", "Held changes pushed when their hold ended"},
        {"snapshots", "Full tables sent to the dataplane"}};
    for (const auto& [k, help] : kRib)
        e.add(std::string("cats_control_rib_") + k + "_total", "counter", help, "", at(rib, k));
    for (const auto& [reason, n] : at(rib, "records_rejected").items())
        e.add("cats_control_rib_records_rejected_total", "counter", "Advertised records refused, by reason",
              labels({{"reason", reason}}), n);
    const json& ctl = at(c, "ctl");
    e.add("cats_control_ctl_requests_total", "counter", "catsctl requests", "", at(ctl, "requests"));
    e.add("cats_control_ctl_throttled_total", "counter", "catsctl requests delayed by the per-session budget", "",
          at(ctl, "throttled"));
    e.add("cats_control_loop_errors_total", "counter", "Exceptions caught in cats-control's event loop", "",
          at(ctl, "loop_errors"));
    const json& link = at(c, "link");
    e.add("cats_control_dataplane_link_up", "gauge", "1 when the dataplane link is up and in sync", "",
          json(at(link, "state") == "up" && at(link, "in_sync") == true));
    e.add("cats_control_dataplane_table_version", "gauge", "Table version the dataplane last acknowledged", "",
          at(link, "table_version"));
    const json& dl = at(c, "dataplane_link");
    for (const auto& [k, v] : dl.items())
        e.add("cats_control_dataplane_link_" + k + "_total", "counter", "Dataplane link counter", "", v);
    const json& lat = at(c, "update_latency");
    e.add("cats_control_update_latency_seconds_last", "gauge",
          "Time from sending the last update to the dataplane to its acknowledgement", "", at(lat, "last_s"));
    e.add("cats_control_update_latency_seconds_max", "gauge", "Longest update-to-acknowledgement time since start",
          "", at(lat, "max_s"));
}

void dataplane_metrics(Exposition& e, const json& d) {
    e.add("cats_dataplane_up", "gauge", "1 when cats-control got the dataplane's stats for this scrape", "",
          json(d.is_object()));
    if (!d.is_object())
        return;
    e.add("cats_dataplane_uptime_seconds", "gauge", "Seconds since cats-dataplane started", "", at(d, "uptime_s"));
    e.add("cats_dataplane_table_version", "gauge", "Version of the table the dataplane runs", "",
          at(d, "table_version"));
    e.add("cats_dataplane_workers", "gauge", "Worker lcores", "", at(d, "workers"));
    for (const json& p : at(d, "ports")) {
        const std::string l = labels({{"port", text_of(at(p, "name"))}});
        e.add("cats_port_rx_packets_total", "counter", "Packets received by the workers", l, at(p, "rx_packets"));
        e.add("cats_port_rx_bytes_total", "counter", "Bytes received by the workers", l, at(p, "rx_bytes"));
        e.add("cats_port_tx_packets_total", "counter", "Packets transmitted by the workers", l, at(p, "tx_packets"));
        e.add("cats_port_tx_bytes_total", "counter", "Bytes transmitted by the workers", l, at(p, "tx_bytes"));
        const json& hw = at(p, "hw");
        e.add("cats_port_rx_missed_packets_total", "counter", "Packets the NIC dropped: RX ring full (imissed)", l,
              at(hw, "imissed"));
        e.add("cats_port_rx_nombuf_total", "counter", "Receive failures for want of an mbuf", l,
              at(hw, "rx_nombuf"));
        e.add("cats_port_rx_errors_total", "counter", "Erroneous packets received (ierrors)", l, at(hw, "ierrors"));
        e.add("cats_port_tx_errors_total", "counter", "Failed transmissions (oerrors)", l, at(hw, "oerrors"));
    }
    const json& t = at(d, "totals");
    e.add("cats_steered_packets_total", "counter", "Packets encapsulated towards an instance", "", at(t, "steered"));
    e.add("cats_forwarded_packets_total", "counter", "Plain IPv6 packets forwarded by the FIB", "",
          at(t, "forwarded"));
    e.add("cats_dropped_packets_total", "counter", "Packets dropped, all reasons", "", at(t, "dropped"));
    e.add("cats_new_flows_total", "counter", "Flows pinned to an instance", "", at(t, "new_flows"));
    e.add("cats_flow_hit_packets_total", "counter", "Packets that followed an existing pin", "",
          at(t, "flow_hits"));
    e.add("cats_best_effort_flows_total", "counter", "New flows steered although no instance met their needs", "",
          at(t, "best_effort"));
    e.add("cats_resteered_flows_total", "counter", "Pinned flows moved off an instance that went", "",
          at(t, "resteered"));
    e.add("cats_flow_table_full_packets_total", "counter", "Packets steered unpinned: the flow table was full", "",
          at(t, "flow_table_full"));
    e.add("cats_expired_flows_total", "counter", "Pins removed by the idle sweep", "", at(t, "expired"));
    for (const auto& [reason, n] : at(d, "drops").items())
        e.add("cats_drops_total", "counter", "Packets dropped, by reason", labels({{"reason", reason}}), n);
    const json& ft = at(d, "flow_table");
    e.add("cats_flow_table_entries", "gauge", "Pinned flows, all workers", "", at(ft, "occupancy"));
    e.add("cats_flow_table_capacity_entries", "gauge", "Flow table entries, all workers", "", at(ft, "capacity"));
    for (const auto& [enc, n] : at(d, "encodings").items())
        e.add("cats_encoding_packets_total", "counter", "CATS requests by encoding", labels({{"encoding", enc}}), n);
    const json& icmp = at(d, "icmp");
    e.add("cats_icmp_errors_sent_total", "counter", "ICMPv6 errors sent", labels({{"type", "packet_too_big"}}),
          at(icmp, "too_big_sent"));
    e.add("cats_icmp_errors_sent_total", "counter", "ICMPv6 errors sent", labels({{"type", "time_exceeded"}}),
          at(icmp, "time_exceeded_sent"));
    e.add("cats_icmp_errors_not_sent_total", "counter", "ICMPv6 errors not sent (rate limit and RFC 4443 rules)", "",
          at(icmp, "not_sent"));
    for (const json& s : at(d, "services")) {
        const std::string cs = text_of(at(s, "cs_id"));
        const std::string ls = labels({{"cs_id", cs}, {"service", text_of(at(s, "name"))}});
        e.add("cats_service_packets_total", "counter", "Packets steered for a service", ls, at(s, "packets"));
        e.add("cats_service_bytes_total", "counter", "Bytes steered for a service", ls, at(s, "bytes"));
        e.add("cats_service_new_flows_total", "counter", "Flows pinned for a service", ls, at(s, "new_flows"));
        const double total = at(s, "packets").is_number() ? at(s, "packets").get<double>() : 0;
        for (const json& in : at(s, "instances")) {
            const std::string li = labels({{"cs_id", cs}, {"instance", text_of(at(in, "id"))}});
            e.add("cats_instance_packets_total", "counter", "Packets steered to an instance", li, at(in, "packets"));
            e.add("cats_instance_bytes_total", "counter", "Bytes steered to an instance", li, at(in, "bytes"));
            e.add("cats_instance_new_flows_total", "counter", "Flows pinned to an instance", li, at(in, "new_flows"));
            if (at(in, "packets").is_number())
                e.add("cats_instance_share_ratio", "gauge", "The instance's part of its service's packets, 0..1",
                      li, json(total > 0 ? at(in, "packets").get<double>() / total : 0.0));
            e.add("cats_instance_resolved", "gauge", "1 when the instance's first SID resolves (it can get traffic)",
                  li, at(in, "resolved"));
            e.add("cats_instance_weight", "gauge", "The instance's selection weight", li, at(in, "weight"));
        }
    }
}

}  // namespace

std::string escape_label(const std::string& v) {
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_metrics(const json& control, const json& dataplane) {
    Exposition e;
    control_metrics(e, control);
    dataplane_metrics(e, dataplane);
    return e.text();
}

// ---------------------------------------------------------------------------
// HTTP

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

class MetricsServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(MetricsServer& server, tcp::socket socket)
        : server_(server), alive_(server.alive_), stream_(std::move(socket)) {}
    ~Session() {
        if (*alive_)
            --server_.sessions_;
    }

    void start() {
        // A request is a line and a few headers: bounded, and it must come
        // within the timeout, or the connection goes.
        parser_.header_limit(8192);
        parser_.body_limit(0);
        stream_.expires_after(std::chrono::seconds(5));
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

private:
    void on_read(beast::error_code ec) {
        if (!*alive_)
            return;
        if (ec) {
            ++server_.counters_.bad_requests;
            return;
        }
        const auto& req = parser_.get();
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            ++server_.counters_.bad_requests;
            return reply(http::status::method_not_allowed, "only GET and HEAD\n", "text/plain");
        }
        if (path != "/metrics") {
            ++server_.counters_.not_found;
            return reply(http::status::not_found, "cats-control serves /metrics only\n", "text/plain");
        }
        ++server_.counters_.scrapes;
        server_.produce_([self = shared_from_this()](std::string body) {
            if (*self->alive_)
                self->reply(http::status::ok, std::move(body), "text/plain; version=0.0.4; charset=utf-8");
        });
    }

    void reply(http::status status, std::string body, const char* type) {
        const bool head = parser_.get().method() == http::verb::head;
        res_.result(status);
        res_.version(11);
        res_.set(http::field::server, "cats-control");
        res_.set(http::field::content_type, type);
        if (status == http::status::method_not_allowed)
            res_.set(http::field::allow, "GET, HEAD");
        res_.keep_alive(false);
        res_.body() = head ? std::string() : std::move(body);
        res_.prepare_payload();
        stream_.expires_after(std::chrono::seconds(10));
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) {
            beast::error_code ignored;
            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        });
    }

    MetricsServer& server_;
    std::shared_ptr<bool> alive_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{8192};
    http::request_parser<http::empty_body> parser_;
    http::response<http::string_body> res_;
};

MetricsServer::MetricsServer(asio::io_context& io, const std::string& address, std::uint16_t port, Produce produce)
    : io_(io), acceptor_(io), produce_(std::move(produce)) {
    const tcp::endpoint ep(asio::ip::make_address(address), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (ep.address().is_v6())
        acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    accept();
}

MetricsServer::~MetricsServer() {
    stop();
    *alive_ = false;
}

void MetricsServer::stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
}

void MetricsServer::accept() {
    acceptor_.async_accept([this, alive = alive_](beast::error_code ec, tcp::socket s) {
        if (!*alive || !acceptor_.is_open())
            return;
        if (!ec) {
            if (sessions_ >= kMaxSessions) {
                ++counters_.refused;
                beast::error_code ignored;
                s.close(ignored);
            } else {
                ++sessions_;
                std::make_shared<Session>(*this, std::move(s))->start();
            }
        }
        accept();
    });
}

}  // namespace cats::control
