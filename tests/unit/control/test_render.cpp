// SPDX-License-Identifier: BSD-3-Clause
// tools/catsctl/render: human output.
#include "render.hpp"

#include <catch2/catch.hpp>

using namespace cats::catsctl;

TEST_CASE("catsctl render: aligned tables", "[catsctl]") {
    CHECK(render_table({"A", "LONGER"}, {{"xyz", "1"}, {"", "22"}}) ==
          "A    LONGER\n"
          "xyz  1\n"
          "     22\n");
}

TEST_CASE("catsctl render: service list", "[catsctl]") {
    const Json j = Json::parse(R"({"services":[
      {"cs_id":100,"name":"video","affinity_timeout_s":30,"origin":"static","instances":[
        {"id":1,"origin":"static","sids":["2001:db8::1","2001:db8::2"],"push_state":"in_sync",
         "metrics":{"score":9,"load_pct":20,"free_capacity":5,"latency_us":200,"bandwidth_kbps":4294967295,
                    "compute_types":["cpu","gpu"],"weight":100}},
        {"id":2,"origin":"advert","node_id":7,"sids":["2001:db8::3"],"push_state":"dampened","expires_in_ms":12345,
         "metrics":{"score":1,"load_pct":0,"free_capacity":0,"latency_us":0,"bandwidth_kbps":1000,
                    "compute_types":["cpu"],"weight":0}}]},
      {"cs_id":200,"name":"empty","affinity_timeout_s":30,"origin":"static","instances":[]}]})");
    CHECK(render_services(j) ==
          "CS-ID  SERVICE  INSTANCE  ORIGIN  NODE  SIDS                     SCORE  LOAD  FREE  LAT-US  BW-KBPS  TYPES    "
          "WEIGHT  EXPIRES  STATE\n"
          "100    video    1         static  -     2001:db8::1,2001:db8::2  9      20%   5     200     max      cpu,gpu  "
          "100     -        in_sync\n"
          "100    video    2         advert  7     2001:db8::3              1      0%    0     0       1000     cpu      "
          "0       12.3s    dampened\n"
          "200    empty    -         static  -     -                        -      -     -     -       -        -        "
          "-       -        -\n"
          "2 services, 2 instances\n");
    CHECK(render_services(Json::parse(R"({"services":[]})")) == "no services\n");
}

TEST_CASE("catsctl render: unknown shapes as trees and tables", "[catsctl]") {
    const Json j = Json::parse(R"({"rx":1,"ports":[{"name":"p0","rx":5},{"name":"p1","tx":2}],"drops":{"ipv4":3},
                                   "list":[1,2],"empty":{}})");
    CHECK(render_tree(j) ==
          "drops:\n"
          "  ipv4  3\n"
          "empty: -\n"
          "list  1, 2\n"
          "ports:\n"
          "  NAME  RX  TX\n"
          "  p0    5   -\n"
          "  p1    -   2\n"
          "rx    1\n");
    CHECK(render_flows(Json::parse(R"({"flows":[]})")) == "no flows\n");
}

TEST_CASE("catsctl render: flow list (issue 21, item 8)", "[catsctl]") {
    // As dataplane/stats.cpp list_flows writes them: every kind of key.
    const Json j = Json::parse(R"([
      {"worker":0,"cs_id":100,"instance_id":2,"idle_ms":1250,"best_effort":false,"kind":"5tuple",
       "src":"2001:db8:c::1","dst":"2001:db8:5::64","proto":17,"sport":10001,"dport":5000},
      {"worker":1,"cs_id":100,"instance_id":1,"idle_ms":0,"best_effort":true,"kind":"5tuple",
       "src":"2001:db8:c::2","dst":"2001:db8:5::64","proto":50,"spi":3735928559},
      {"worker":0,"cs_id":200,"instance_id":7,"idle_ms":40,"best_effort":false,"kind":"fragment",
       "src":"2001:db8:c::3","dst":"2001:db8:5::c8","frag_id":305419896},
      {"worker":0,"cs_id":100,"instance_id":3,"idle_ms":10,"best_effort":false,"kind":"affinity",
       "affinity_key":2684354560},
      {"worker":0,"cs_id":100,"instance_id":3,"idle_ms":10,"best_effort":false,"kind":"5tuple",
       "src":"2001:db8:c::4","dst":"2001:db8:5::64","proto":99,"sport":1,"dport":2}])");
    CHECK(render_flows(j) ==
          "CS-ID  INSTANCE  KIND      SOURCE         DESTINATION     PROTO  PORTS/ID                IDLE  WORKER  FLAGS\n"
          "100    2         5tuple    2001:db8:c::1  2001:db8:5::64  udp    10001 -> 5000           1.2s  0       -\n"
          "100    1         5tuple    2001:db8:c::2  2001:db8:5::64  esp    spi 0xdeadbeef          0.0s  1       best-effort\n"
          "200    7         fragment  2001:db8:c::3  2001:db8:5::c8  -      frag 0x12345678         0.0s  0       -\n"
          "100    3         affinity  -              -               -      key 0x00000000a0000000  0.0s  0       -\n"
          "100    3         5tuple    2001:db8:c::4  2001:db8:5::64  99     1 -> 2                  0.0s  0       -\n"
          "5 flows\n");
    CHECK(render_flows(Json::array()) == "no flows\n");
    CHECK(render_flows(Json::parse(R"([{"cs_id":1,"instance_id":1,"kind":"5tuple","proto":6,"sport":1,"dport":2}])"))
              .find("tcp    1 -> 2") != std::string::npos);
    CHECK(render_flows(Json::parse(R"([{"cs_id":1}])")).ends_with("1 flow\n"));
}

TEST_CASE("catsctl render: instance results", "[catsctl]") {
    CHECK(render_instance_result("added", Json::parse(R"({"cs_id":1,"id":2,"changed":true,"applied":true,"table_version":9})")) ==
          "cs 1 instance 2: added; the dataplane runs table version 9\n");
    CHECK(render_instance_result("added", Json::parse(R"({"cs_id":1,"id":2,"changed":true,"applied":false,"note":"down"})")) ==
          "cs 1 instance 2: added; not in the dataplane yet: down\n");
    CHECK(render_instance_result("updated", Json::parse(R"({"cs_id":1,"id":2,"changed":false,"note":"no change"})")) ==
          "cs 1 instance 2: nothing to push (no change)\n");
}

TEST_CASE("catsctl render: neighbor list", "[catsctl][neigh]") {
    const Json j = Json::parse(R"({"neighbors":[
      {"address":"2001:db8:1::2","state":"static","mac":"02:00:00:00:00:02","port":"p0","port_id":0,
       "age_s":null,"probes":0,"interface":"cats-p0"},
      {"address":"2001:db8:2::1","state":"reachable","mac":"02:00:00:00:00:aa","port":"p1","port_id":1,
       "age_s":12.34,"probes":1,"usable":true,"interface":"cats-p1"},
      {"address":"2001:db8:2::9","state":"failed","mac":"","port":"p1","port_id":1,
       "age_s":3,"probes":3,"usable":false,"interface":""}],
      "held":{"now":2,"sent":10,"dropped":1}})");
    CHECK(render_neighbors(j) ==
          "ADDRESS        STATE              MAC                PORT  INTERFACE  AGE    PROBES\n"
          "2001:db8:1::2  static             02:00:00:00:00:02  p0    cats-p0    -      0\n"
          "2001:db8:2::1  reachable          02:00:00:00:00:aa  p1    cats-p1    12.3s  1\n"
          "2001:db8:2::9  failed (unusable)  -                  p1    -          3.0s   3\n"
          "3 neighbors\n"
          "held for resolution: 2 packets now, 10 sent, 1 dropped\n");
    // No kernel path: nothing held, no line about it.
    CHECK(render_neighbors(Json::parse(R"({"neighbors":[],"held":null})")) == "no neighbors\n");
    CHECK(render_neighbors(Json::parse(R"({"neighbors":[],"held":{"now":0,"sent":0,"dropped":0}})")) ==
          "no neighbors\n"
          "held for resolution: 0 packets now, 0 sent, 0 dropped\n");
}

TEST_CASE("catsctl render: stats (issue 21, item 3)", "[catsctl]") {
    const Json j = Json::parse(R"({
      "control":{"advert":{"accepted":0,"bad_mac":0,"replay":0},"advert_socket_drops":0,"ctl":{"requests":1,"throttled":0},
                 "rib":{"instances":1,"services":2,"records_rejected":{"conflict":0,"out_of_scope":2}},
                 "replay_state":{"file":"/var/lib/cats-control/replay-sequences","saves":0}},
      "dataplane":{"uptime_s":13.987322345384616,"table_version":2,"workers":1,
        "ports":[{"driver":"net_pcap","hw":{"ierrors":0,"imissed":5,"ipackets":530,"oerrors":1,"opackets":432,
                  "rx_nombuf":0},"name":"net_pcap0","port_id":0,"rss":false,"rx_bytes":77244,"rx_packets":530,
                  "rx_queues":1,"tx_bytes":96672,"tx_packets":432}],
        "totals":{"best_effort":4,"dropped":98,"expired":0,"flow_hits":312,"flow_table_full":0,"forwarded":32,
                  "new_flows":88,"resteered":0,"rx_packets":530,"steered":400},
        "flow_table":{"capacity":65536,"occupancy":88,"per_worker":[88]},
        "encodings":{"option":208,"service_sid":64,"srh_tlv":128},
        "icmp":{"not_sent":0,"time_exceeded_sent":0,"too_big_sent":0},
        "drops":{"cats_bad_version":16,"eth_truncated":0,"ipv4":3,"non_ip":0},
        "services":[{"cs_id":100,"name":"video-analytics","packets":368,"new_flows":80,"instances":[
                       {"id":1,"packets":96,"new_flows":21,"resolved":true,"sids":["2001:db8:a1::100"],"weight":72.72727},
                       {"id":9,"packets":0,"new_flows":0,"resolved":false,"unresolved_reason":"no_route",
                        "sids":["2001:db8:99::1","2001:db8:99::2"]}]},
                    {"cs_id":200,"name":"llm-inference","packets":32,"new_flows":8,"instances":[]}],
        "neighbors":[],"config_routes":[],"future_counters":{"widgets":3}}})");
    CHECK(render_stats(j) ==
          "control\n"
          "  advert               all 0\n"
          "  advert_socket_drops  0\n"
          "  ctl                  requests 1\n"
          "  replay_state         file /var/lib/cats-control/replay-sequences\n"
          "  rib                  instances 1, records_rejected (out_of_scope 2), services 2\n"
          "dataplane (uptime 14.0 s, table version 2, 1 worker(s))\n"
          "  PORT       DRIVER    RX-PKTS  RX-BYTES  TX-PKTS  TX-BYTES  MISSED  NO-MBUF  ERRORS(RX/TX)\n"
          "  net_pcap0  net_pcap  530      77244     432      96672     5       0        0/1\n"
          "  totals     rx 530, steered 400, forwarded 32, dropped 98, best-effort 4\n"
          "  flows      new 88, pinned hits 312, re-steered 0, table-full 0, expired 0, occupancy 88/65536\n"
          "  encodings  option 208, service_sid 64, srh_tlv 128\n"
          "  icmp       all 0\n"
          "  drops      cats_bad_version 16, ipv4 3 (2 reasons at 0 not shown)\n"
          "  CS-ID  SERVICE          INSTANCE  SIDS                           PACKETS  SHARE  NEW-FLOWS  STATE\n"
          "  100    video-analytics  1         2001:db8:a1::100               96       26.1%  21         ok\n"
          "  100    video-analytics  9         2001:db8:99::1,2001:db8:99::2  0        0.0%   0          "
          "unresolved (no_route)\n"
          "  200    llm-inference    -         -                              32       -      8          no instance\n"
          "  future_counters:\n"
          "    widgets  3\n"
          "  (catsctl route list, catsctl neighbor list; every counter: --json)\n");
    // The counter lines wrap at 100 columns however many drop reasons count.
    Json wide = j;
    wide["dataplane"].erase("services");
    for (int i = 0; i < 40; ++i)
        wide["dataplane"]["drops"]["reason_number_" + std::to_string(i)] = 1000000 + i;
    const std::string out = render_stats(wide);
    std::size_t longest = 0;
    for (std::size_t start = 0, nl; start < out.size(); start = nl + 1) {
        nl = out.find('\n', start);
        longest = std::max(longest, nl - start);
    }
    CHECK(longest <= 100);
    CHECK(render_stats(Json::parse(R"({"control":{},"dataplane_error":"dataplane at /x not connected"})")) ==
          "control\ndataplane: unavailable: dataplane at /x not connected\n");
}

TEST_CASE("catsctl render: route list", "[catsctl][kernel_routes]") {
    const Json j = Json::parse(R"({"routes":[
      {"prefix":"2001:db8:a1::/48","via":"2001:db8:f1::2","port":"p1","state":"installed","source":"config"},
      {"prefix":"::/0","via":"fe80::1","port":"p1","interface":"cats1","metric":20,"protocol":"bgp",
       "state":"installed","source":"kernel"},
      {"prefix":"2001:db8:a1::/48","via":"fe80::1","port":"p1","interface":"cats1","metric":1024,"protocol":"boot",
       "state":"shadowed","source":"kernel"}],
      "kernel":{"table":254,"max_routes":4096,"max_next_hops":64,"routes_installed":1,"routes_known":2,
                "skipped":{"multipath":1,"on_link":4},"truncated":false}})");
    CHECK(render_routes(j) ==
          "PREFIX            VIA             PORT  INTERFACE  SOURCE  PROTOCOL  METRIC  STATE\n"
          "2001:db8:a1::/48  2001:db8:f1::2  p1    -          config  -         -       installed\n"
          "::/0              fe80::1         p1    cats1      kernel  bgp       20      installed\n"
          "2001:db8:a1::/48  fe80::1         p1    cats1      kernel  boot      1024    shadowed\n"
          "kernel table 254: 1 of 2 installed (max 4096 routes, 64 next hops); not taken: multipath 1 on_link 4\n");
    CHECK(render_routes(Json::parse(R"({"routes":[],"kernel":null})")) ==
          "no routes\nkernel routes: not mirrored (gateway.kernel_routes)\n");
}

TEST_CASE("catsctl render: port list", "[catsctl][neigh]") {
    const Json j = Json::parse(R"({"ports":[
      {"port":"p0","port_id":0,"mode":"dpdk","driver":"net_ixgbe","mac":"02:00:00:00:00:01","mtu":1500,
       "addresses":["2001:db8:1::1/64","fe80::1/64"],"kernel_interface":"cats-p0",
       "punted":120,"injected":80,"punt_rate_dropped":3,"inject_rate_dropped":0,
       "tap_tx_full":0,"port_tx_full":0,"inject_oversize":0},
      {"port":"p1","port_id":1,"mode":"af_xdp","driver":"net_af_xdp","mac":"02:00:00:00:00:02","mtu":9000,
       "addresses":[],"kernel_interface":"eth1"},
      {"port":"p2","port_id":2,"mode":"dpdk","driver":"net_tap","mac":"02:00:00:00:00:03","mtu":1500,
       "addresses":["2001:db8:3::1/64"],"kernel_interface":""}]})");
    CHECK(render_ports(j) ==
          "PORT  MODE    MAC                MTU   ADDRESSES                    KERNEL-IF  PUNTED  INJECTED  "
          "RATE-DROPPED(PUNT/INJECT)\n"
          "p0    dpdk    02:00:00:00:00:01  1500  2001:db8:1::1/64,fe80::1/64  cats-p0    120     80        3/0\n"
          "p1    af_xdp  02:00:00:00:00:02  9000  -                            eth1       -       -         -\n"
          "p2    dpdk    02:00:00:00:00:03  1500  2001:db8:3::1/64             -          -       -         -\n");
    CHECK(render_ports(Json::parse(R"({"ports":[]})")) == "no ports\n");
}

TEST_CASE("catsctl render: peer list, scopes and unauthenticated sources", "[catsctl][scope]") {
    const Json j = Json::parse(R"({"peers":[
      {"name":"edge-a","node_id":7,"key_id":1,"accepted":3,"rejected":0,"records_accepted":4,"records_rejected":3,
       "last_sequence":12,"last_seen_ms_ago":1500,"last_error":"key id 1 (edge-a): 3 of 7 records refused",
       "records_refused":{"out_of_scope":1,"node_quota":2},
       "scope":{"cs_ids":["100","200-299"],"instance_ids":"any","max_instances":4,"max_services":null,
                "instances":4,"services":1}},
      {"name":"edge-b","node_id":8,"key_id":2,"accepted":0,"rejected":0,"records_accepted":0,"records_rejected":0,
       "last_sequence":null,"last_seen_ms_ago":null,"last_error":"","records_refused":{},
       "scope":{"cs_ids":"any","instance_ids":"any","max_instances":null,"max_services":null,
                "instances":0,"services":0}}],
      "unauthenticated":[{"source":"2001:db8::66","malformed":0,"unknown_key":1,"bad_mac":2,"last_key_id":2,
                          "last_seen_ms_ago":250,"last_error":"bad_mac: key id 2 (edge-b): HMAC-SHA256 does not verify"}],
      "unauthenticated_sources_evicted":0})");
    CHECK(render_peers(j) ==
          "PEER    NODE-ID  KEY-ID  ACCEPTED  REJECTED  RECORDS(OK/BAD)  CS-IDS       HOLDS  LAST-SEQ  LAST-SEEN  "
          "LAST-ERROR\n"
          "edge-a  7        1       3         0         4/3              100,200-299  4/4    12        1.5s ago   "
          "key id 1 (edge-a): 3 of 7 records refused\n"
          "edge-b  8        2       0         0         0/0              any          0      -         never      -\n"
          "\n"
          "unauthenticated datagrams, by source:\n"
          "SOURCE        MALFORMED  UNKNOWN-KEY  BAD-MAC  LAST-KEY-ID  LAST-SEEN  LAST-ERROR\n"
          "2001:db8::66  0          1            2        2            0.2s ago   "
          "bad_mac: key id 2 (edge-b): HMAC-SHA256 does not verify\n");
}

TEST_CASE("catsctl render: monitor events (issue 21)", "[catsctl]") {
    const std::string t = "2026-12-07T21:40:01.123Z";
    auto ev = [&](Json e) {
        e["time"] = t;
        e["seq"] = 1;
        return render_event(e);
    };
    CHECK(ev({{"type", "instance"}, {"cs_id", 100}, {"instance", 7}, {"state", "up"}, {"origin", "advert"},
              {"node", 3}, {"why", "advertised by node 3, SIDs 2001:db8::7"}}) ==
          t + "  instance  cs 100 instance 7 up: advertised by node 3, SIDs 2001:db8::7\n");
    CHECK(ev({{"type", "table"}, {"version", 42}, {"snapshot", false}, {"ops", 3}, {"latency_ms", 0.42}}) ==
          t + "  table     version 42 (3 change(s), 0.4 ms)\n");
    CHECK(ev({{"type", "table"}, {"version", 2}, {"snapshot", true}, {"latency_ms", 1.25}}) ==
          t + "  table     version 2 (full snapshot, 1.2 ms)\n");
    CHECK(ev({{"type", "table"}, {"refused", "too many instances"}}) ==
          t + "  table     update refused: too many instances\n");
    CHECK(ev({{"type", "link"}, {"state", "connected"}, {"socket", "/run/cats/dataplane.sock"}}) ==
          t + "  link      connected to /run/cats/dataplane.sock\n");
    CHECK(ev({{"type", "link"}, {"state", "down"}, {"why", "the dataplane closed the connection"}}) ==
          t + "  link      down: the dataplane closed the connection\n");
    CHECK(ev({{"type", "neighbor"}, {"address", "fe80::1"}, {"port", "p0"}, {"state", "reachable"},
              {"mac", "02:00:00:00:00:01"}, {"was", "incomplete"}}) ==
          t + "  neighbor  fe80::1 on p0: reachable 02:00:00:00:00:01 (was incomplete)\n");
    CHECK(ev({{"type", "drops"}, {"interval_s", 1.0}, {"total_per_s", 12500.0},
              {"per_s", {{"ipv4", 0.5}, {"no_route", 12499.5}}}}) ==
          t + "  drops     12.5k/s: no_route 12.5k/s, ipv4 0.5/s\n");
    // No time (catsctl's own notes), unknown types, strings with newlines.
    CHECK(render_event({{"type", "lost"}, {"what", "events"}, {"count", 12}}) ==
          std::string(24, '-') + "  lost      12 events not shown (the monitor fell behind)\n");
    CHECK(ev({{"type", "future"}, {"a", 1}, {"b", "x\ny"}}) == t + "  future    a=1 b=x y\n");
    CHECK(render_event(Json("garbage")) == std::string(24, '-') + "  ?         \n");
}

TEST_CASE("catsctl render: dataplane status says how old the last error is", "[catsctl]") {
    Json j = Json::parse(R"({"link":{"socket":"/run/cats/dataplane.sock","state":"up","in_sync":true,
      "table_version":7,"last_sync_unix_ms":null,"last_sync_ms_ago":null,"queued":0,"in_flight":false,
      "last_error":"cannot connect to /run/cats/dataplane.sock: No such file or directory",
      "last_error_ms_ago":12500},"dataplane":null})");
    const std::string out = render_status(j);
    CHECK(out.find("link           up (in sync)\n") != std::string::npos);
    CHECK(out.find("last error     cannot connect to /run/cats/dataplane.sock: No such file or directory (12.5s ago)\n") !=
          std::string::npos);
    // An older cats-control sends no age: the error alone.
    j["link"].erase("last_error_ms_ago");
    CHECK(render_status(j).find("No such file or directory\n") != std::string::npos);
}

TEST_CASE("catsctl render: sid list, top drop reasons last", "[catsctl][sid]") {
    const Json j = Json::parse(R"({"sids":[
      {"sid":"fc00:e::d6","behavior":"End.DX6","next_hop":"2001:db8:ff::d","packets":1200,"bytes":180000,
       "dropped":7,"drops":{"neighbor_incomplete":3,"decap_inner_bad":1,"sid_fragment":2,"sid_upper_layer":1},
       "origin":"cli"},
      {"sid":"fc00:e:0:e000::/64","behavior":"End","next_hop":"","packets":0,"bytes":0,"dropped":0,"drops":{},
       "origin":"config"}]})");
    CHECK(render_sids(j) ==
          "SID                 BEHAVIOR  NEXT-HOP        ORIGIN  PACKETS  BYTES   DROPPED  TOP-DROPS\n"
          "fc00:e::d6          End.DX6   2001:db8:ff::d  cli     1200     180000  7        "
          "neighbor_incomplete 3, sid_fragment 2, decap_inner_bad 1, +1 more\n"
          "fc00:e:0:e000::/64  End       -               config  0        0       0        -\n"
          "2 local SIDs\n");
    CHECK(render_sids(Json::parse(R"({"sids":[]})")) == "no local SIDs\n");
}

TEST_CASE("catsctl render: policy list, both ends with the same keys", "[catsctl][sid]") {
    const Json j = Json::parse(R"({
      "ingress":[{"source":"2001:db8:ff::1","sid":"fc00:e::d6","segments":["2001:db8:a1::1","fc00:e::d6"],
                  "cs_id":100,"instance":1,"packets":10,"bytes":1000}],
      "egress":[{"source":"2001:db8:ff::9","sid":"fc00:e::d6","packets":8,"bytes":800}],
      "egress_overflow":0,"egress_capacity":8192})");
    CHECK(render_policies(j) ==
          "DIRECTION  SOURCE          SID         PACKETS  BYTES  CS-ID  INSTANCE  SEGMENTS\n"
          "ingress    2001:db8:ff::1  fc00:e::d6  10       1000   100    1         2001:db8:a1::1,fc00:e::d6\n"
          "egress     2001:db8:ff::9  fc00:e::d6  8        800    -      -         -\n"
          "1 ingress, 1 egress policies\n");
    CHECK(render_policies(Json::parse(
              R"({"ingress":[],"egress":[],"egress_overflow":12,"egress_capacity":8192})")) ==
          "no policies\n0 ingress, 0 egress policies; 12 egress packets not counted (the table's 8192 entries are "
          "taken)\n");
    CHECK(render_policies(Json::parse(R"({"ingress":[],"egress":[],"egress_overflow":0,"egress_capacity":0})")) ==
          "no policies\n0 ingress, 0 egress policies; egress accounting off (gateway.policy_table_size: 0)\n");
}

TEST_CASE("catsctl render: sid add and del results", "[catsctl][sid]") {
    CHECK(render_sid_result("added", Json::parse(R"({"sid":"fc00:e::d6","behavior":"End.DX6",
            "next_hop":"2001:db8:ff::d","applied":true,"sid_table_version":3})")) ==
          "sid fc00:e::d6: added (End.DX6, next hop 2001:db8:ff::d); the dataplane runs SID table version 3\n");
    CHECK(render_sid_result("added", Json::parse(R"({"sid":"fc00:e::/48","behavior":"End","applied":true,
            "sid_table_version":4})")) ==
          "sid fc00:e::/48: added (End); the dataplane runs SID table version 4\n");
    CHECK(render_sid_result("deleted", Json::parse(R"({"sid":"fc00:e::d6","applied":true,"sid_table_version":5})")) ==
          "sid fc00:e::d6: deleted; the dataplane runs SID table version 5\n");
}
