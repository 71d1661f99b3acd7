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

TEST_CASE("catsctl render: instance results", "[catsctl]") {
    CHECK(render_instance_result("added", Json::parse(R"({"cs_id":1,"id":2,"changed":true,"applied":true,"table_version":9})")) ==
          "cs 1 instance 2: added; the dataplane runs table version 9\n");
    CHECK(render_instance_result("added", Json::parse(R"({"cs_id":1,"id":2,"changed":true,"applied":false,"note":"down"})")) ==
          "cs 1 instance 2: added; not in the dataplane yet: down\n");
    CHECK(render_instance_result("updated", Json::parse(R"({"cs_id":1,"id":2,"changed":false,"note":"no change"})")) ==
          "cs 1 instance 2: nothing to push (no change)\n");
}
