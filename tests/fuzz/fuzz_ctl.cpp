// SPDX-License-Identifier: BSD-3-Clause
// The catsctl <-> cats-control codec (proto-defs/ctl_wire.hpp) on any line:
// parse_request() and parse_response(), then every argument parser on the
// request's args (whatever its command, for coverage).
//
// Properties, beyond "no crash and no exception out of a parser":
//   - an accepted request names a known command and carries an object;
//     encode_request() of it is accepted again with the same command, and
//     encoding is stable (encode(parse(encode(r))) == encode(r));
//   - accepted instance/flow/service.list arguments are in range and
//     instance_args_to_json() of them parses back to the same arguments;
//   - an accepted response re-encodes (encode_ok/encode_error) to one that
//     parses to the same response;
//   - accepted sid.add/sid.del arguments have a next hop exactly where the
//     behaviour needs one, and sid_args_to_json() parses back to the same;
//   - neighbor_list_result()/port_list_result()/route_list_result()/
//     sid_list_result()/policy_list_result() take any result.
#include <algorithm>
#include <string>
#include <string_view>

#include "ctl_wire.hpp"
#include "fuzz_check.hpp"

using namespace cats::ctl;

namespace {

bool same_args(const InstanceArgs& a, const InstanceArgs& b) {
    return a.cs_id == b.cs_id && a.id == b.id && a.sids == b.sids && a.name == b.name && a.metrics == b.metrics;
}

void check_instance_args(const Json& args, InstanceCmd cmd) {
    InstanceArgs a;
    if (!parse_instance_args(args, cmd, a).empty())
        return;
    FUZZ_CHECK(a.sids.size() <= kMaxSids);
    if (cmd == InstanceCmd::Add)
        FUZZ_CHECK(!a.sids.empty());
    if (cmd != InstanceCmd::Add)
        FUZZ_CHECK(!a.name);
    if (cmd == InstanceCmd::Del)
        FUZZ_CHECK(a.sids.empty() && a.metrics.empty());
    if (cmd == InstanceCmd::Set)
        FUZZ_CHECK(!a.sids.empty() || !a.metrics.empty());
    const MetricArgs& m = a.metrics;
    FUZZ_CHECK(!m.score || *m.score <= 10);
    FUZZ_CHECK(!m.load_pct || *m.load_pct <= 100);
    FUZZ_CHECK(!m.weight || *m.weight <= kMaxWeight);
    FUZZ_CHECK(!m.compute_types || (*m.compute_types != 0 && (*m.compute_types & ~0x0Fu) == 0));
    if (a.name)
        FUZZ_CHECK(!a.name->empty() && a.name->size() <= kMaxNameLen);

    InstanceArgs back;
    FUZZ_CHECK(parse_instance_args(instance_args_to_json(a, cmd), cmd, back).empty());
    FUZZ_CHECK(same_args(a, back));
}

void check_sid_args(const Json& args, SidCmd cmd) {
    cats::mgmt::SidOp op;
    if (!parse_sid_args(args, cmd, op).empty())
        return;
    FUZZ_CHECK(op.prefix_len <= 128);
    if (cmd == SidCmd::Add)
        FUZZ_CHECK(op.next_hop.has_value() == cats::mgmt::sid_needs_next_hop(op.behavior));
    else
        FUZZ_CHECK(!op.next_hop);
    cats::mgmt::SidOp back;
    FUZZ_CHECK(parse_sid_args(sid_args_to_json(op), cmd, back).empty());
    FUZZ_CHECK(back == op);
}

void check_args(const Json& args) {
    for (const InstanceCmd cmd : {InstanceCmd::Add, InstanceCmd::Del, InstanceCmd::Set})
        check_instance_args(args, cmd);
    check_sid_args(args, SidCmd::Add);
    check_sid_args(args, SidCmd::Del);
    FlowArgs f;
    if (parse_flow_args(args, f).empty())
        FUZZ_CHECK(f.limit >= 1 && f.limit <= kMaxFlowLimit);
    ServiceListArgs s;
    if (parse_service_list_args(args, s).empty())
        FUZZ_CHECK(s.limit >= 1 && s.limit <= kMaxServicePage);
    EventsArgs e;
    if (parse_events_args(args, e).empty())
        FUZZ_CHECK(e.wait_ms <= kMaxEventWaitMs && e.limit >= 1 && e.limit <= kMaxEventLimit);
    if (parse_no_args(args).empty())
        FUZZ_CHECK(args.empty());
}

void check_request(std::string_view line) {
    Request r;
    if (!parse_request(line, r).empty())
        return;
    FUZZ_CHECK(std::find(kCommands.begin(), kCommands.end(), r.cmd) != kCommands.end());
    FUZZ_CHECK(r.args.is_object());
    const std::string enc = encode_request(r);
    FUZZ_CHECK(!enc.empty() && enc.back() == '\n' && std::count(enc.begin(), enc.end(), '\n') == 1);
    Request back;
    FUZZ_CHECK(parse_request(enc, back).empty());
    FUZZ_CHECK(back.cmd == r.cmd);
    // Not back.args == r.args: a float too large for a double is parsed as
    // infinity and written as null. One round trip reaches the fixed point.
    FUZZ_CHECK(encode_request(back) == enc);
    check_args(r.args);
}

void check_response(std::string_view line) {
    Response r;
    if (!parse_response(line, r).empty())
        return;
    const std::string enc = r.ok ? encode_ok(r.result) : encode_error(r.error);
    Response back;
    FUZZ_CHECK(parse_response(enc, back).empty());
    FUZZ_CHECK(back.ok == r.ok);
    if (r.ok) {
        FUZZ_CHECK(dump(back.result) == dump(r.result));
        Json out;
        (void)neighbor_list_result(r.result, out);
        (void)port_list_result(r.result, out);
        (void)route_list_result(r.result, out);
        (void)sid_list_result(r.result, out);
        (void)policy_list_result(r.result, out);
        Json annotated = r.result;
        annotate_resolution(annotated, unresolved_from_status(r.result));
    } else {
        // Not valid UTF-8 never reaches here: the JSON parser refuses it.
        FUZZ_CHECK(back.error == r.error);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    check_request(line);
    check_response(line);
    return 0;
}
