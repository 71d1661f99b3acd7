// SPDX-License-Identifier: BSD-3-Clause
// The Prometheus exposition (control/metrics.hpp) and its HTTP server.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metrics.hpp"

using cats::control::escape_label;
using cats::control::format_metrics;
using cats::control::MetricsServer;
using nlohmann::json;

namespace {

const json kControl = json::parse(R"({
  "advert":{"accepted":12,"bad_mac":2},"advert_socket_drops":0,"peers":2,
  "rib":{"services":2,"instances":3,"records_accepted":12,"withdrawn":1,"dampened":4,
         "records_rejected":{"out_of_scope":1,"conflict":0}},
  "ctl":{"requests":5,"throttled":0,"loop_errors":0},
  "dataplane_link":{"acks":7,"connects":1},
  "update_latency":{"last_s":0.0012,"max_s":0.25},
  "link":{"state":"up","in_sync":true,"table_version":9}})");

const json kDataplane = json::parse(R"({
  "uptime_s":13.987322345384616,"table_version":9,"workers":2,
  "ports":[{"name":"0000:3b:00.0","rx_packets":530,"rx_bytes":77244,"tx_packets":432,"tx_bytes":96672,
            "hw":{"imissed":5,"rx_nombuf":0,"ierrors":0,"oerrors":1}}],
  "totals":{"steered":400,"forwarded":32,"dropped":98,"new_flows":88,"flow_hits":312,"best_effort":4,
            "resteered":0,"flow_table_full":0,"expired":0},
  "drops":{"cats_bad_version":16,"ipv4":3},
  "flow_table":{"occupancy":88,"capacity":131072},
  "encodings":{"srh_tlv":128,"option":208,"service_sid":64},
  "icmp":{"too_big_sent":1,"time_exceeded_sent":0,"not_sent":0},
  "services":[{"cs_id":100,"name":"video \"analytics\"\n","packets":368,"bytes":55584,"new_flows":80,
               "instances":[{"id":1,"packets":96,"bytes":14624,"new_flows":21,"resolved":true,"weight":72.5},
                            {"id":9,"packets":0,"bytes":0,"new_flows":0,"resolved":false,"weight":0}]}]})");

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

}  // namespace

TEST_CASE("metrics: the exposition has every family once, in the text format", "[metrics]") {
    const std::string text = format_metrics(kControl, kDataplane);
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(!lines.empty());
    // Text format 0.0.4: HELP, TYPE, then the family's samples together.
    const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? -?[0-9.e+-]+$)");
    std::set<std::string> typed;
    std::string current;
    for (const std::string& l : lines) {
        if (l.rfind("# HELP ", 0) == 0)
            continue;
        if (l.rfind("# TYPE ", 0) == 0) {
            std::istringstream in(l.substr(7));
            std::string name, type;
            in >> name >> type;
            CHECK(typed.insert(name).second);  // once
            CHECK((type == "counter" || type == "gauge"));
            if (type == "counter")
                CHECK(name.size() > 6);
            current = name;
            continue;
        }
        std::smatch m;
        REQUIRE(std::regex_match(l, m, sample));
        CHECK(m[1].str() == current);  // under its own TYPE line
    }
    for (const std::string& name : typed)
        if (text.find("# TYPE " + name + " counter") != std::string::npos)
            CHECK(name.ends_with("_total"));
}

TEST_CASE("metrics: values and labels", "[metrics]") {
    const std::string text = format_metrics(kControl, kDataplane);
    const auto has = [&](const std::string& line) { return text.find("\n" + line + "\n") != std::string::npos; };
    CHECK(has("cats_dataplane_up 1"));
    CHECK(has("cats_dataplane_uptime_seconds 13.9873223"));
    CHECK(has("cats_port_rx_packets_total{port=\"0000:3b:00.0\"} 530"));
    CHECK(has("cats_port_rx_missed_packets_total{port=\"0000:3b:00.0\"} 5"));
    CHECK(has("cats_steered_packets_total 400"));
    CHECK(has("cats_drops_total{reason=\"cats_bad_version\"} 16"));
    CHECK(has("cats_drops_total{reason=\"ipv4\"} 3"));
    CHECK(has("cats_flow_table_entries 88"));
    CHECK(has("cats_encoding_packets_total{encoding=\"srh_tlv\"} 128"));
    CHECK(has("cats_icmp_errors_sent_total{type=\"packet_too_big\"} 1"));
    CHECK(has("cats_service_packets_total{cs_id=\"100\",service=\"video \\\"analytics\\\"\\n\"} 368"));
    CHECK(has("cats_instance_packets_total{cs_id=\"100\",instance=\"1\"} 96"));
    CHECK(has("cats_instance_share_ratio{cs_id=\"100\",instance=\"1\"} 0.260869565"));
    CHECK(has("cats_instance_resolved{cs_id=\"100\",instance=\"9\"} 0"));
    CHECK(has("cats_instance_weight{cs_id=\"100\",instance=\"1\"} 72.5"));
    CHECK(has("cats_control_adverts_total{result=\"bad_mac\"} 2"));
    CHECK(has("cats_control_peers 2"));
    CHECK(has("cats_control_rib_instances 3"));
    CHECK(has("cats_control_rib_dampened_total 4"));
    CHECK(has("cats_control_rib_records_rejected_total{reason=\"out_of_scope\"} 1"));
    CHECK(has("cats_control_dataplane_link_up 1"));
    CHECK(has("cats_control_dataplane_table_version 9"));
    CHECK(has("cats_control_update_latency_seconds_max 0.25"));

    // Without the dataplane: cats-control's part, and the dataplane down.
    json down = kControl;
    down["link"] = {{"state", "connecting"}, {"in_sync", false}, {"table_version", nullptr}};
    const std::string d = format_metrics(down, json());
    CHECK(d.find("\ncats_dataplane_up 0\n") != std::string::npos);
    CHECK(d.find("\ncats_control_dataplane_link_up 0\n") != std::string::npos);
    CHECK(d.find("cats_port_") == std::string::npos);
    CHECK(d.find("cats_control_dataplane_table_version") == std::string::npos);  // null: no sample
    // Nonsense from a dataplane never throws; what is not a number is left out.
    CHECK_NOTHROW(format_metrics(json::array(), json::parse(R"({"ports":7,"services":[1,{"instances":"x"}],
                                                                 "drops":[],"totals":{"steered":"many"}})")));
    CHECK(escape_label("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
}

TEST_CASE("metrics: the HTTP endpoint", "[metrics]") {
    boost::asio::io_context io;
    int produced = 0;
    MetricsServer server(io, "::1", 0, [&](auto done) {
        ++produced;
        done(format_metrics(kControl, kDataplane));
    });
    REQUIRE(server.port() != 0);
    auto work = boost::asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });
    // A blocking client: the request, then everything until the server
    // closes the connection.
    const auto get = [&](const std::string& request) {
        boost::asio::io_context cio;
        boost::asio::ip::tcp::socket s(cio);
        s.connect({boost::asio::ip::make_address("::1"), server.port()});
        boost::asio::write(s, boost::asio::buffer(request));
        std::string reply;
        boost::system::error_code ec;
        std::array<char, 4096> buf;
        for (;;) {
            const std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
            if (ec)
                break;
            reply.append(buf.data(), n);
        }
        return reply;
    };
    std::string r = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
    CHECK(r.find("\r\n\r\n# HELP cats_control_adverts_total ") != std::string::npos);
    CHECK(produced == 1);
    r = get("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    r = get("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
    CHECK(r.find("Allow: GET, HEAD\r\n") != std::string::npos);
    r = get("GARBAGE\r\n\r\n");
    CHECK(r.empty());  // closed without an answer
    r = get("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(9000, 'a') + "\r\n\r\n");
    CHECK(r.find("200 OK") == std::string::npos);  // headers over 8 KB: refused
    work.reset();
    boost::asio::post(io, [&] { server.stop(); });
    loop.join();
    CHECK(produced == 1);
    CHECK(server.counters().scrapes == 1);
    CHECK(server.counters().not_found == 1);
    CHECK(server.counters().bad_requests == 3);
}
