// SPDX-License-Identifier: BSD-3-Clause
// proto-defs/ctl_wire: the catsctl <-> cats-control JSON protocol.
#include "ctl_wire.hpp"

#include <catch2/catch.hpp>

using namespace cats::ctl;

namespace {

std::string request_error(const std::string& line) {
    Request r;
    return parse_request(line, r);
}

std::string args_error(const std::string& args, InstanceCmd cmd) {
    InstanceArgs a;
    return parse_instance_args(Json::parse(args), cmd, a);
}

}  // namespace

TEST_CASE("ctl wire: a request round-trips", "[ctl]") {
    Request r;
    r.cmd = std::string(kInstanceAdd);
    r.args = {{"cs_id", 100}, {"id", 4}, {"sids", {"2001:db8::1"}}};
    const std::string line = encode_request(r);
    CHECK(line.back() == '\n');
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    Request back;
    REQUIRE(parse_request(line, back).empty());
    CHECK(back.cmd == "instance.add");
    CHECK(back.args == r.args);
    // args may be left out.
    REQUIRE(parse_request(R"({"v":0,"cmd":"stats"})", back).empty());
    CHECK(back.args == Json::object());
}

TEST_CASE("ctl wire: request errors", "[ctl]") {
    CHECK(request_error("") == "request is not valid JSON");
    CHECK(request_error("{") == "request is not valid JSON");
    CHECK(request_error("[1]") == "request: expected an object, got a list");
    CHECK(request_error(R"({"cmd":"stats"})") == "request.v: required key is missing");
    CHECK(request_error(R"({"v":1,"cmd":"stats"})") == "request.v: unsupported version 1 (this daemon speaks 0)");
    CHECK(request_error(R"({"v":"0","cmd":"stats"})") ==
          "request.v: unsupported version a string (this daemon speaks 0)");
    CHECK(request_error(R"({"v":0})") == "request.cmd: required key is missing");
    CHECK(request_error(R"({"v":0,"cmd":5})") == "request.cmd: expected a string, got 5");
    CHECK(request_error(R"({"v":0,"cmd":"reboot"})") ==
          "request.cmd: unknown command 'reboot' (expected one of: service.list, instance.add, instance.del, "
          "instance.set, flow.list, peer.list, stats, dataplane.status, neighbor.list, port.list, route.list, "
          "instance.drain, instance.undrain, events, sid.add, sid.del, sid.list, policy.list)");
    CHECK(request_error(R"({"v":0,"cmd":"stats","args":[]})") == "request.args: expected an object, got a list");
    CHECK(request_error(R"({"v":0,"cmd":"stats","arg":{}})") ==
          "request.arg: unknown key (expected one of: v, cmd, args)");
    CHECK(request_error(std::string(kMaxLine + 1, ' ')) == "request of 1048577 bytes, at most 1048576");
    // Invalid UTF-8 is refused by the parser, not passed on.
    CHECK(request_error("{\"v\":0,\"cmd\":\"st\xff\"}") == "request is not valid JSON");
    // Deep nesting: an error, not a stack overflow.
    const std::string deep = R"({"v":0,"cmd":"stats","args":{"a":)" + std::string(100000, '[') +
                             std::string(100000, ']') + "}}";
    CHECK(request_error(deep) == "request nests deeper than 32 levels");
    CHECK(request_error(std::string(500000, '{')) == "request nests deeper than 32 levels");
    // Brackets inside strings do not count.
    CHECK(depth_within(R"({"a":"[[[[[[[[\"[[[[\\"})", 1));
    CHECK_FALSE(depth_within("[[]]", 1));
    CHECK(depth_within("[[]]", 2));
}

TEST_CASE("ctl wire: instance arguments", "[ctl]") {
    InstanceArgs a;
    REQUIRE(parse_instance_args(Json::parse(R"({"cs_id":100,"id":4,"sids":["2001:db8::1","2001:db8::2"],
        "name":"svc","metrics":{"score":9,"load_pct":100,"free_capacity":0,"latency_us":4294967295,
        "bandwidth_kbps":5,"compute_types":["gpu","cpu"],"weight":1000000}})"),
                                InstanceCmd::Add, a)
                .empty());
    CHECK(a.cs_id == 100);
    CHECK(a.id == 4);
    REQUIRE(a.sids.size() == 2);
    CHECK(format_sid(a.sids[1]) == "2001:db8::2");
    CHECK(a.name == "svc");
    CHECK(a.metrics.score == 9);
    CHECK(a.metrics.load_pct == 100);
    CHECK(a.metrics.free_capacity == 0u);
    CHECK(a.metrics.latency_us == 4294967295u);
    CHECK(a.metrics.compute_types == 3);
    CHECK(a.metrics.weight == 1000000u);
    // Back to JSON and again: the same.
    InstanceArgs b;
    REQUIRE(parse_instance_args(instance_args_to_json(a, InstanceCmd::Add), InstanceCmd::Add, b).empty());
    CHECK(b.metrics == a.metrics);
    CHECK(b.sids == a.sids);
    CHECK(b.name == a.name);

    REQUIRE(parse_instance_args(Json::parse(R"({"cs_id":1,"id":2,"metrics":{"weight":0}})"), InstanceCmd::Set, a).empty());
    CHECK(a.sids.empty());
    CHECK(a.metrics.weight == 0u);
    CHECK_FALSE(a.metrics.score);
    REQUIRE(parse_instance_args(Json::parse(R"({"cs_id":1,"id":2})"), InstanceCmd::Del, a).empty());
}

TEST_CASE("ctl wire: instance argument errors name their path", "[ctl]") {
    const auto add = [](const std::string& j) { return args_error(j, InstanceCmd::Add); };
    CHECK(add(R"({"id":1,"sids":["::1"]})") == "args.cs_id: required key is missing");
    CHECK(add(R"({"cs_id":1,"sids":["::1"]})") == "args.id: required key is missing");
    CHECK(add(R"({"cs_id":-1,"id":1,"sids":["::1"]})") == "args.cs_id: must be 0..4294967295, got -1");
    CHECK(add(R"({"cs_id":4294967296,"id":1,"sids":["::1"]})") == "args.cs_id: must be 0..4294967295, got 4294967296");
    CHECK(add(R"({"cs_id":1.5,"id":1,"sids":["::1"]})") ==
          "args.cs_id: expected an integer in 0..4294967295, got 1.5 (not an integer)");
    CHECK(add(R"({"cs_id":"1","id":1,"sids":["::1"]})") ==
          "args.cs_id: expected an integer in 0..4294967295, got a string");
    CHECK(add(R"({"cs_id":1,"id":1})") == "args.sids: required key is missing");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":[]})") == "args.sids: must have 1..5 SIDs, got 0");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1","::2","::3","::4","::5","::6"]})") ==
          "args.sids: must have 1..5 SIDs, got 6");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":"::1"})") == "args.sids: expected a list of 1..5 IPv6 addresses, got a string");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1","10.0.0.1"]})") == "args.sids[1]: '10.0.0.1' is not an IPv6 address");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":[7]})") == "args.sids[0]: expected an IPv6 address, got 7");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"name":""})") == "args.name: must be 1..64 bytes, got 0");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"name":5})") == "args.name: expected a string, got 5");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"score":11}})") == "args.metrics.score: must be 0..10, got 11");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"load_pct":101}})") ==
          "args.metrics.load_pct: must be 0..100, got 101");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"weight":1000001}})") ==
          "args.metrics.weight: must be 0..1000000, got 1000001");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"speed":1}})") ==
          "args.metrics.speed: unknown key (expected one of: score, load_pct, free_capacity, latency_us, "
          "bandwidth_kbps, compute_types, weight)");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"compute_types":[]}})") ==
          "args.metrics.compute_types: expected a non-empty list of cpu, gpu, npu, fpga, got a list");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"compute_types":["tpu"]}})") ==
          "args.metrics.compute_types[0]: expected cpu, gpu, npu or fpga, got 'tpu'");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"compute_types":["cpu","cpu"]}})") ==
          "args.metrics.compute_types: a compute type is listed twice");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":{"compute_types":["cpu,gpu"]}})") ==
          "args.metrics.compute_types[0]: expected cpu, gpu, npu or fpga, got 'cpu,gpu'");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"metrics":[]})") == "args.metrics: expected an object, got a list");
    CHECK(add(R"({"cs_id":1,"id":1,"sids":["::1"],"extra":1})") ==
          "args.extra: unknown key (expected one of: cs_id, id, sids, name, metrics)");
    CHECK(args_error(R"({"cs_id":1,"id":1})", InstanceCmd::Set) ==
          "args: nothing to set (give sids or at least one metric)");
    CHECK(args_error(R"({"cs_id":1,"id":1,"name":"x","metrics":{"score":1}})", InstanceCmd::Set) ==
          "args.name: unknown key (expected one of: cs_id, id, sids, metrics)");
    CHECK(args_error(R"({"cs_id":1,"id":1,"sids":["::1"]})", InstanceCmd::Del) ==
          "args.sids: unknown key (expected one of: cs_id, id)");
}

TEST_CASE("ctl wire: flow and no-argument commands", "[ctl]") {
    FlowArgs f;
    REQUIRE(parse_flow_args(Json::object(), f).empty());
    CHECK_FALSE(f.cs_id);
    CHECK(f.limit == kDefaultFlowLimit);
    REQUIRE(parse_flow_args(Json::parse(R"({"cs_id":100,"instance_id":2,"limit":5})"), f).empty());
    CHECK(f.cs_id == 100u);
    CHECK(f.instance_id == 2u);
    CHECK(f.limit == 5u);
    CHECK(parse_flow_args(Json::parse(R"({"limit":0})"), f) == "args.limit: must be 1..1000000, got 0");
    CHECK(parse_flow_args(Json::parse(R"({"service":1})"), f) ==
          "args.service: unknown key (expected one of: cs_id, instance_id, limit)");
    CHECK(parse_no_args(Json::object()).empty());
    CHECK(parse_no_args(Json::parse(R"({"x":1})")) == "args.x: unknown key (no arguments expected)");
}

TEST_CASE("ctl wire: responses", "[ctl]") {
    Response r;
    REQUIRE(parse_response(encode_ok({{"a", 1}}), r).empty());
    CHECK(r.ok);
    CHECK(r.result["a"] == 1);
    REQUIRE(parse_response(encode_error("boom"), r).empty());
    CHECK_FALSE(r.ok);
    CHECK(r.error == "boom");
    CHECK(parse_response("nope", r) == "response is not a JSON object");
    CHECK(parse_response(R"({"v":1,"ok":true})", r) == "response: unsupported version");
    CHECK(parse_response(R"({"v":0,"ok":false})", r) == "response.error: expected a string");
    // Text that is not UTF-8 (a service name from a config) never throws.
    const std::string line = encode_ok({{"name", std::string("bad\xff")}});
    REQUIRE(parse_response(line, r).empty());
    CHECK(r.result["name"] == "bad\xEF\xBF\xBD");
}

TEST_CASE("ctl wire: compute types and SIDs as text", "[ctl]") {
    CHECK(parse_compute_types("cpu") == 1);
    CHECK(parse_compute_types("gpu,fpga") == 10);
    CHECK_FALSE(parse_compute_types(""));
    CHECK_FALSE(parse_compute_types("cpu,"));
    CHECK_FALSE(parse_compute_types("cpu,cpu"));
    CHECK_FALSE(parse_compute_types("CPU"));
    CHECK(compute_types_to_string(0) == "-");
    CHECK(compute_types_to_string(3) == "cpu,gpu");
    CHECK(compute_types_to_string(0x11) == "cpu,0x10");
    CHECK(parse_sid("2001:db8::1"));
    CHECK_FALSE(parse_sid("2001:db8::1%eth0"));
    CHECK_FALSE(parse_sid(std::string("::1\0x", 5)));
    CHECK(format_sid(*parse_sid("2001:DB8:0::1")) == "2001:db8::1");
}

TEST_CASE("ctl wire: a service name that is not UTF-8 or too long is refused", "[ctl][name]") {
    // Built as a Json value: a JSON text with such bytes fails to parse
    // earlier; the argument decoder must hold on its own.
    Json args = {{"cs_id", 1}, {"id", 1}, {"sids", {"::1"}}, {"name", std::string("bad\xff\xfe")}};
    InstanceArgs a;
    CHECK(parse_instance_args(args, InstanceCmd::Add, a) == "args.name: not valid UTF-8 (byte 3 is 0xff)");
    args["name"] = std::string(65, 'n');
    CHECK(parse_instance_args(args, InstanceCmd::Add, a) == "args.name: at most 64 bytes, got 65");
    args["name"] = "caf\xc3\xa9";
    CHECK(parse_instance_args(args, InstanceCmd::Add, a) == "");
}

TEST_CASE("ctl wire: service.list page arguments", "[ctl]") {
    ServiceListArgs a;
    REQUIRE(parse_service_list_args(Json::object(), a) == "");
    CHECK_FALSE(a.after);
    CHECK(a.limit == kDefaultServicePage);
    REQUIRE(parse_service_list_args(Json::parse(R"({"after":100,"limit":5})"), a) == "");
    CHECK(a.after == 100u);
    CHECK(a.limit == 5u);
    CHECK(parse_service_list_args(Json::parse(R"({"limit":0})"), a) == "args.limit: must be 1..4096, got 0");
    CHECK(parse_service_list_args(Json::parse(R"({"limit":4097})"), a) == "args.limit: must be 1..4096, got 4097");
    CHECK(parse_service_list_args(Json::parse(R"({"offset":1})"), a) ==
          "args.offset: unknown key (expected one of: after, limit)");
}

TEST_CASE("ctl wire: neighbor.list and port.list are requests without arguments", "[ctl][neigh]") {
    Request r;
    REQUIRE(parse_request(R"({"v":0,"cmd":"neighbor.list"})", r).empty());
    CHECK(r.cmd == kNeighborList);
    REQUIRE(parse_request(R"({"v":0,"cmd":"port.list","args":{}})", r).empty());
    CHECK(r.cmd == kPortList);
    CHECK(request_error(R"({"v":0,"cmd":"neighbour.list"})")
              .find("request.cmd: unknown command 'neighbour.list'") == 0);
    CHECK(parse_no_args(Json::parse(R"({"port":0})")) == "args.port: unknown key (no arguments expected)");
}

TEST_CASE("ctl wire: route.list from the dataplane's stats", "[ctl][neigh][kernel_routes]") {
    Request req;
    REQUIRE(parse_request(R"({"v":0,"cmd":"route.list"})", req).empty());
    CHECK(req.cmd == kRouteList);
    const Json stats = Json::parse(R"({"rx":1,
      "config_routes":[{"prefix":"2001:db8:a1::/48","via":"2001:db8:1::2","port":"p0","state":"installed"}],
      "kernel_routes":{"table":254,"routes_installed":1,"skipped":{"multipath":1},
        "routes":[{"prefix":"::/0","via":"fe80::1","port":"p1","metric":1024,"state":"installed"}]}})");
    Json out;
    REQUIRE(route_list_result(stats, out) == "");
    CHECK(out == Json::parse(R"({"routes":[
        {"prefix":"2001:db8:a1::/48","via":"2001:db8:1::2","port":"p0","state":"installed","source":"config"},
        {"prefix":"::/0","via":"fe80::1","port":"p1","metric":1024,"state":"installed","source":"kernel"}],
      "kernel":{"table":254,"routes_installed":1,"skipped":{"multipath":1}}})"));
    // Not mirrored: only the config's; kernel null.
    Json plain = stats;
    plain["kernel_routes"] = nullptr;
    REQUIRE(route_list_result(plain, out) == "");
    CHECK(out["routes"].size() == 1);
    CHECK(out["kernel"].is_null());
    plain.erase("kernel_routes");
    REQUIRE(route_list_result(plain, out) == "");
    CHECK(out["kernel"].is_null());

    out = "untouched";
    CHECK(route_list_result(Json::parse(R"({"rx":1})"), out) ==
          "dataplane stats: no config routes in them (is cats-dataplane older than neighbor discovery?)");
    CHECK(route_list_result(Json::parse(R"({"config_routes":[],"kernel_routes":[]})"), out) ==
          "dataplane stats.kernel_routes: expected an object, got a list");
    CHECK(route_list_result(Json::parse(R"({"config_routes":[],"kernel_routes":{"routes":{}}})"), out) ==
          "dataplane stats.kernel_routes.routes: expected a list, got an object");
    CHECK(route_list_result(Json::parse(R"({"config_routes":[],"kernel_routes":{"routes":[{},"x"]}})"), out) ==
          "dataplane stats.kernel_routes.routes[1]: expected an object, got a string");
    CHECK(route_list_result(Json::parse(R"({"config_routes":[3]})"), out) ==
          "dataplane stats.config_routes[0]: expected an object, got 3");
    CHECK(out == "untouched");
}

TEST_CASE("ctl wire: neighbor.list and port.list results from the dataplane's stats", "[ctl][neigh]") {
    const Json stats = Json::parse(R"({"rx":1,
      "kernel_ports":[{"port":"p0","port_id":0,"mode":"dpdk","mac":"02:00:00:00:00:01","mtu":1500,
                       "addresses":["2001:db8:1::1/64"],"kernel_interface":"cats-p0","punted":4}],
      "neighbors":[{"address":"2001:db8:1::2","state":"reachable","mac":"02:00:00:00:00:02","port":"p0",
                    "port_id":0,"age_s":1.5,"probes":0,"usable":true,"interface":"cats-p0"}],
      "held":{"now":1,"sent":2,"dropped":3}})");
    Json out;
    REQUIRE(neighbor_list_result(stats, out) == "");
    // Only these parts, the entries as the dataplane wrote them.
    CHECK(out == Json{{"neighbors", stats["neighbors"]}, {"held", stats["held"]}});
    REQUIRE(port_list_result(stats, out) == "");
    CHECK(out == Json{{"ports", stats["kernel_ports"]}});

    // A dataplane without a kernel path holds nothing: held is null.
    Json no_held = stats;
    no_held.erase("held");
    REQUIRE(neighbor_list_result(no_held, out) == "");
    CHECK(out["held"].is_null());
    CHECK(out["neighbors"].size() == 1);
    no_held["neighbors"] = Json::array();
    REQUIRE(neighbor_list_result(no_held, out) == "");
    CHECK(out["neighbors"] == Json::array());

    // A dataplane that does not report them, or reports them wrong.
    out = "untouched";
    CHECK(neighbor_list_result(Json::parse(R"({"rx":1})"), out) ==
          "dataplane stats: no neighbors in them (is cats-dataplane older than neighbor discovery?)");
    CHECK(port_list_result(Json::parse(R"({"rx":1})"), out) ==
          "dataplane stats: no kernel ports in them (is cats-dataplane older than neighbor discovery?)");
    CHECK(out == "untouched");
    CHECK(neighbor_list_result(Json::array(), out) == "dataplane stats: expected an object, got a list");
    CHECK(neighbor_list_result(Json::parse(R"({"neighbors":{}})"), out) ==
          "dataplane stats.neighbors: expected a list, got an object");
    CHECK(neighbor_list_result(Json::parse(R"({"neighbors":[{},7]})"), out) ==
          "dataplane stats.neighbors[1]: expected an object, got 7");
    CHECK(neighbor_list_result(Json::parse(R"({"neighbors":[],"held":[1]})"), out) ==
          "dataplane stats.held: expected an object, got a list");
    CHECK(port_list_result(Json::parse(R"({"kernel_ports":"p0"})"), out) ==
          "dataplane stats.kernel_ports: expected a list, got a string");
}

TEST_CASE("ctl wire: unresolved instances from the dataplane's STATUS", "[ctl]") {
    const Json status = Json::parse(R"({"table_version":4,"unresolved_count":1,
      "unresolved":[{"cs_id":100,"id":9,"reason":"neighbor_failed"}]})");
    const Unresolved u = unresolved_from_status(status);
    CHECK(u.known);
    CHECK(u.complete);
    REQUIRE(u.reasons.size() == 1);
    CHECK(u.reasons.at({100, 9}) == "neighbor_failed");
    Json list = Json::parse(R"({"services":[{"cs_id":100,"instances":[
      {"id":9,"push_state":"in_sync"},{"id":1,"push_state":"in_sync"},{"id":2,"push_state":"pending"}]}]})");
    annotate_resolution(list, u);
    CHECK(list["services"][0]["instances"][0]["resolved"] == false);
    CHECK(list["services"][0]["instances"][0]["unresolved_reason"] == "neighbor_failed");
    CHECK(list["services"][0]["instances"][1]["resolved"] == true);
    CHECK_FALSE(list["services"][0]["instances"][2].contains("resolved"));  // not in the dataplane yet

    // Cut short: the instances not listed are of unknown state.
    Json cut = status;
    cut["unresolved_count"] = 5;
    Json list2 = Json::parse(R"({"services":[{"cs_id":100,"instances":[{"id":1,"push_state":"in_sync"}]}]})");
    annotate_resolution(list2, unresolved_from_status(cut));
    CHECK_FALSE(list2["services"][0]["instances"][0].contains("resolved"));
    // An older dataplane, or nonsense: nothing is claimed.
    CHECK_FALSE(unresolved_from_status(Json::parse(R"({"table_version":4})")).known);
    CHECK_FALSE(unresolved_from_status(Json::parse(R"({"unresolved":[{"cs_id":-1,"id":1}],"unresolved_count":1})")).known);
    CHECK_FALSE(unresolved_from_status(Json::parse(R"({"unresolved":[7],"unresolved_count":1})")).known);
    CHECK_FALSE(unresolved_from_status(Json::array()).known);
    Json junk = Json::parse(R"({"services":[{"cs_id":"x"},7,{"cs_id":1,"instances":[3,{"id":"y"}]}]})");
    annotate_resolution(junk, u);  // no throw, nothing claimed
    CHECK(junk == Json::parse(R"({"services":[{"cs_id":"x"},7,{"cs_id":1,"instances":[3,{"id":"y"}]}]})"));
}

namespace {

std::string sid_error(const std::string& args, SidCmd cmd) {
    cats::mgmt::SidOp op;
    return parse_sid_args(Json::parse(args), cmd, op);
}

}  // namespace

TEST_CASE("ctl wire: sid.add and sid.del arguments", "[ctl][sid]") {
    namespace mgmt = cats::mgmt;
    mgmt::SidOp op;
    REQUIRE(parse_sid_args(Json::parse(R"({"sid":"fc00:e::d6","behavior":"End.DX6","next_hop":"2001:db8:ff::d"})"),
                           SidCmd::Add, op) == "");
    CHECK(op.op == mgmt::SidOpType::Add);
    CHECK(format_sid(op.sid) == "fc00:e::d6");
    CHECK(op.prefix_len == 128);
    CHECK(op.behavior == mgmt::SidBehavior::EndDX6);
    REQUIRE(op.next_hop);
    CHECK(format_sid(*op.next_hop) == "2001:db8:ff::d");
    CHECK(sid_args_to_json(op) ==
          Json{{"sid", "fc00:e::d6"}, {"behavior", "End.DX6"}, {"next_hop", "2001:db8:ff::d"}});

    // A prefix, a behaviour in any case, none needing a next hop.
    REQUIRE(parse_sid_args(Json::parse(R"({"sid":"FC00:E:0:E000::/64","behavior":"end"})"), SidCmd::Add, op) == "");
    CHECK(op.prefix_len == 64);
    CHECK(op.behavior == mgmt::SidBehavior::End);
    CHECK_FALSE(op.next_hop);
    CHECK(sid_args_to_json(op) == Json{{"sid", "fc00:e:0:e000::/64"}, {"behavior", "End"}});
    mgmt::SidOp back;
    REQUIRE(parse_sid_args(sid_args_to_json(op), SidCmd::Add, back) == "");
    CHECK(back == op);

    REQUIRE(parse_sid_args(Json::parse(R"({"sid":"fc00:e::d6"})"), SidCmd::Del, op) == "");
    CHECK(op.op == mgmt::SidOpType::Del);
    CHECK(sid_args_to_json(op) == Json{{"sid", "fc00:e::d6"}});
    // Host bits, the /16 floor and reachability are the dataplane's to check.
    CHECK(sid_error(R"({"sid":"fc00:e::1/8","behavior":"End"})", SidCmd::Add) == "");
}

TEST_CASE("ctl wire: sid argument errors name their field", "[ctl][sid]") {
    CHECK(sid_error(R"({"behavior":"End"})", SidCmd::Add) == "args.sid: required key is missing");
    CHECK(sid_error(R"({"sid":5,"behavior":"End"})", SidCmd::Add) ==
          "args.sid: expected an IPv6 address or prefix, got 5");
    CHECK(sid_error(R"({"sid":"fc00::zz","behavior":"End"})", SidCmd::Add) ==
          "args.sid: 'fc00::zz' is not an IPv6 address or prefix (addr or addr/len)");
    CHECK(sid_error(R"({"sid":"fc00::/129","behavior":"End"})", SidCmd::Add) ==
          "args.sid: 'fc00::/129' is not an IPv6 address or prefix (addr or addr/len)");
    CHECK(sid_error(R"({"sid":"fc00::1"})", SidCmd::Add) ==
          "args.behavior: required key is missing (End, End.X, End.DX6, End.DT6)");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":["End"]})", SidCmd::Add) ==
          "args.behavior: expected one of End, End.X, End.DX6, End.DT6, got a list");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End.DX4"})", SidCmd::Add) ==
          "args.behavior: 'End.DX4' is not a behavior (End, End.X, End.DX6, End.DT6; End.DX4 and End.DT4 need "
          "IPv4 forwarding, which cats does not do)");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End.DX6"})", SidCmd::Add) ==
          "args.next_hop: End.DX6 needs a next hop (required key is missing)");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End.X"})", SidCmd::Add) ==
          "args.next_hop: End.X needs a next hop (required key is missing)");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End.DT6","next_hop":"fc00::2"})", SidCmd::Add) ==
          "args.next_hop: End.DT6 takes no next hop (End.X and End.DX6 do)");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End.X","next_hop":"fe80::1%eth0"})", SidCmd::Add) ==
          "args.next_hop: 'fe80::1%eth0' is not an IPv6 address");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End.X","next_hop":1})", SidCmd::Add) ==
          "args.next_hop: expected an IPv6 address, got 1");
    CHECK(sid_error(R"({"sid":"fc00::1","behaviour":"End"})", SidCmd::Add) ==
          "args.behaviour: unknown key (expected one of: sid, behavior, next_hop)");
    CHECK(sid_error(R"({"sid":"fc00::1","behavior":"End"})", SidCmd::Del) ==
          "args.behavior: unknown key (expected one of: sid)");
    CHECK(sid_error(R"({})", SidCmd::Del) == "args.sid: required key is missing");
}

TEST_CASE("ctl wire: SIDs as text, /128 without its length", "[ctl][sid]") {
    const auto p = parse_sid_prefix("fc00:e::d6");
    REQUIRE(p);
    CHECK(p->second == 128);
    CHECK(format_sid_prefix(p->first, 128) == "fc00:e::d6");
    const auto q = parse_sid_prefix("fc00:e::/48");
    REQUIRE(q);
    CHECK(q->second == 48);
    CHECK(format_sid_prefix(q->first, q->second) == "fc00:e::/48");
    CHECK(parse_sid_prefix("fc00:e::d6/128")->second == 128);
    CHECK_FALSE(parse_sid_prefix("fc00:e::/"));
    CHECK_FALSE(parse_sid_prefix("fc00:e::/1a"));
    CHECK_FALSE(parse_sid_prefix("/64"));
    CHECK_FALSE(parse_sid_prefix(""));
}

TEST_CASE("ctl wire: sid.list and policy.list from the dataplane's stats", "[ctl][sid]") {
    const Json stats = Json::parse(R"({"rx":1,
      "local_sids":[{"sid":"fc00:e::d6","behavior":"End.DX6","next_hop":"2001:db8:ff::d","packets":3,"bytes":300,
                     "dropped":1,"drops":{"decap_inner_bad":1}}],
      "policies":{"ingress":[{"source":"2001:db8:ff::1","sid":"2001:db8:a1::100","segments":["2001:db8:a1::100"],
                              "cs_id":100,"instance":1,"packets":5,"bytes":500}],
                  "egress":[{"source":"2001:db8:ff::9","sid":"fc00:e::d6","packets":3,"bytes":300}],
                  "egress_overflow":0,"egress_capacity":4096}})");
    Json out;
    REQUIRE(sid_list_result(stats, out) == "");
    CHECK(out == Json{{"sids", stats["local_sids"]}});
    REQUIRE(policy_list_result(stats, out) == "");
    CHECK(out == stats["policies"]);
    // Same keys at both ends.
    for (const char* k : {"source", "sid", "packets", "bytes"}) {
        CHECK(out["ingress"][0].contains(k));
        CHECK(out["egress"][0].contains(k));
    }

    out = "untouched";
    CHECK(sid_list_result(Json::parse(R"({"rx":1})"), out) ==
          "dataplane stats: no local SIDs in them (is cats-dataplane older than the local SID table?)");
    CHECK(policy_list_result(Json::parse(R"({"rx":1})"), out) ==
          "dataplane stats: no policies in them (is cats-dataplane older than the local SID table?)");
    CHECK(out == "untouched");
    CHECK(sid_list_result(Json::parse(R"({"local_sids":[1]})"), out) ==
          "dataplane stats.local_sids[0]: expected an object, got 1");
    CHECK(policy_list_result(Json::parse(R"({"policies":[]})"), out) ==
          "dataplane stats.policies: expected an object, got a list");
    CHECK(policy_list_result(Json::parse(R"({"policies":{"ingress":[]}})"), out) ==
          "dataplane stats.policies.egress: missing");
    CHECK(policy_list_result(Json::parse(R"({"policies":{"ingress":[],"egress":[null]}})"), out) ==
          "dataplane stats.policies.egress[0]: expected an object, got null");
    CHECK(policy_list_result(Json::array(), out) == "dataplane stats: expected an object, got a list");
}
