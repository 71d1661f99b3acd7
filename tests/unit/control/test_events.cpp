// SPDX-License-Identifier: BSD-3-Clause
// control/events: the event log behind `catsctl monitor` (issue 21), the
// "events" arguments, and the sampling of the dataplane's STATS.
#include "events.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>

#include "ctl.hpp"

using namespace cats::control;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

cats::ctl::EventsArgs args(std::optional<std::uint64_t> after, std::uint32_t wait_ms = 0,
                           std::uint32_t limit = cats::ctl::kMaxEventLimit) {
    cats::ctl::EventsArgs a;
    a.after = after;
    a.wait_ms = wait_ms;
    a.limit = limit;
    return a;
}

// One poll, answered before the io_context runs out of work.
Json poll_now(boost::asio::io_context& io, EventLog& log, const cats::ctl::EventsArgs& a) {
    std::optional<Json> got;
    log.poll(a, [&](Json r) { got = std::move(r); });
    io.restart();
    io.run();
    REQUIRE(got.has_value());
    return *got;
}

}  // namespace

TEST_CASE("events: seq, time, cursor, limit", "[events]") {
    boost::asio::io_context io;
    EventLog log(io);
    // Without `after`: at once, no events, where to start.
    Json r = poll_now(io, log, args(std::nullopt));
    const Json boot = r["boot"];
    CHECK(boot.is_number_unsigned());
    r.erase("boot");
    CHECK(r == Json{{"events", Json::array()}, {"after", 0}, {"lost", 0}});
    CHECK_FALSE(log.watched(EventLog::Clock::now() + EventLog::kWatchWindow));
    CHECK(log.watched(EventLog::Clock::now()));
    for (int i = 0; i < 5; ++i)
        log.add({{"type", "table"}, {"version", i}});
    r = poll_now(io, log, args(0, 0, 2));
    CHECK(r["boot"] == boot);
    REQUIRE(r["events"].size() == 2);
    CHECK(r["events"][0]["seq"] == 1);
    CHECK(r["events"][1]["version"] == 1);
    CHECK(r["after"] == 2);
    CHECK(r["events"][0]["time"].get<std::string>().size() == 24);  // 2026-12-07T21:40:01.123Z
    CHECK(r["events"][0]["time"].get<std::string>().back() == 'Z');
    r = poll_now(io, log, args(2));
    REQUIRE(r["events"].size() == 3);
    CHECK(r["after"] == 5);
    CHECK(r["lost"] == 0);
    // Nothing new and no wait: empty at once, the cursor kept.
    r = poll_now(io, log, args(5));
    CHECK(r["events"].empty());
    CHECK(r["after"] == 5);
    // A cursor from the future (a client of a cats-control that restarted):
    // from now.
    r = poll_now(io, log, args(99, 10000));
    CHECK(r["events"].empty());
    CHECK(r["after"] == 5);
}

TEST_CASE("events: a client that falls behind is told how many it lost", "[events]") {
    boost::asio::io_context io;
    EventLog log(io);
    const std::size_t n = EventLog::kCapacity + 10;
    for (std::size_t i = 0; i < n; ++i)
        log.add({{"type", "table"}, {"version", i}});
    CHECK(log.size() == EventLog::kCapacity);
    CHECK(log.last_seq() == n);
    Json r = poll_now(io, log, args(3, 0, 5));
    CHECK(r["lost"] == 7);  // seqs 4..10 are gone; 11 is the oldest kept
    REQUIRE(r["events"].size() == 5);
    CHECK(r["events"][0]["seq"] == 11);
    CHECK(r["after"] == 15);
}

TEST_CASE("events: a long poll is answered by the next event, or empty when its wait is over", "[events]") {
    boost::asio::io_context io;
    EventLog log(io);
    log.add({{"type", "link"}, {"state", "connected"}});
    std::optional<Json> got;
    log.poll(args(1, 5000), [&](Json r) { got = std::move(r); });
    CHECK_FALSE(got);
    CHECK(log.waiting() == 1);
    CHECK(log.watched(EventLog::Clock::now() + 1h));  // waiting is watching
    log.add({{"type", "link"}, {"state", "down"}});
    REQUIRE(got);
    CHECK((*got)["events"].size() == 1);
    CHECK((*got)["events"][0]["state"] == "down");
    CHECK(log.waiting() == 0);

    got.reset();
    const auto t0 = std::chrono::steady_clock::now();
    log.poll(args(2, 50), [&](Json r) { got = std::move(r); });
    io.restart();
    io.run();
    REQUIRE(got);
    CHECK((*got)["events"].empty());
    CHECK((*got)["after"] == 2);
    CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);

    // Shutdown answers whoever waits; then polls no longer wait.
    got.reset();
    log.poll(args(2, 30000), [&](Json r) { got = std::move(r); });
    log.stop();
    REQUIRE(got);
    CHECK((*got)["events"].empty());
    got.reset();
    log.poll(args(2, 30000), [&](Json r) { got = std::move(r); });
    CHECK(got);
}

TEST_CASE("events: at most kMaxWaiters polls wait, well below the ctl sessions", "[events]") {
    STATIC_REQUIRE(EventLog::kMaxWaiters <= CtlServer::kMaxSessions / 2);
    boost::asio::io_context io;
    EventLog log(io);
    std::size_t answered = 0, refused = 0;
    for (std::size_t i = 0; i < EventLog::kMaxWaiters + 3; ++i)
        log.poll(args(0, 30000), [&](Json r) {
            ++answered;
            if (r.is_string() && r.get<std::string>().rfind("too many monitors", 0) == 0)
                ++refused;
        });
    CHECK(log.waiting() == EventLog::kMaxWaiters);
    CHECK(answered == 3);
    CHECK(refused == 3);
    log.add({{"type", "link"}});
    CHECK(answered == EventLog::kMaxWaiters + 3);
}

TEST_CASE("events: arguments", "[events][ctl]") {
    cats::ctl::EventsArgs a;
    CHECK(cats::ctl::parse_events_args(Json::object(), a).empty());
    CHECK_FALSE(a.after);
    CHECK(a.wait_ms == 0);
    CHECK(a.limit == cats::ctl::kMaxEventLimit);
    CHECK(cats::ctl::parse_events_args({{"after", 7}, {"wait_ms", 1000}, {"limit", 3}}, a).empty());
    CHECK(a.after == 7u);
    CHECK(a.wait_ms == 1000);
    CHECK(a.limit == 3);
    CHECK(cats::ctl::parse_events_args({{"wait_ms", 30001}}, a) == "args.wait_ms: must be 0..30000, got 30001");
    CHECK(cats::ctl::parse_events_args({{"limit", 0}}, a) == "args.limit: must be 1..1000, got 0");
    CHECK(cats::ctl::parse_events_args({{"after", -1}}, a).rfind("args.after: must be 0..", 0) == 0);
    CHECK(cats::ctl::parse_events_args({{"after", "x"}}, a).rfind("args.after: expected an integer", 0) == 0);
    CHECK(cats::ctl::parse_events_args({{"since", 1}}, a).find("since") != std::string::npos);
}

TEST_CASE("events: drops per second from two STATS replies", "[events]") {
    const Json before = {{"no_route", 10}, {"bad_srh", 5}, {"ipv4", 0}};
    CHECK(drop_rates(before, before, 1.0).is_null());
    const Json after = {{"no_route", 30}, {"bad_srh", 5}, {"ipv4", 4}, {"new_reason", 2}};
    const Json d = drop_rates(before, after, 2.0);
    REQUIRE(d.is_object());
    CHECK(d["type"] == "drops");
    CHECK(d["interval_s"] == 2.0);
    CHECK(d["total_per_s"] == 13.0);  // (20 + 4 + 2) / 2
    CHECK(d["per_s"] == Json{{"no_route", 10.0}, {"ipv4", 2.0}, {"new_reason", 1.0}});
    // The dataplane restarted: its counters start again from 0.
    const Json again = drop_rates({{"no_route", 1000}}, {{"no_route", 8}}, 1.0);
    CHECK(again["per_s"]["no_route"] == 8.0);
    // Nonsense in, nothing out (never a throw).
    CHECK(drop_rates(Json(), Json("x"), 1.0).is_null());
    CHECK(drop_rates(Json(), {{"a", "x"}, {"b", -3}}, 1.0).is_null());
    CHECK(drop_rates(before, after, 0.0).is_null());
}

TEST_CASE("events: neighbor changes from two STATS replies", "[events]") {
    const Json before = Json::parse(R"([
      {"address":"fe80::1","port":"p0","port_id":0,"state":"reachable","mac":"02:00:00:00:00:01","age_s":1.5},
      {"address":"fe80::2","port":"p0","port_id":0,"state":"incomplete","mac":"","age_s":0.1},
      {"address":"fe80::3","port":"p1","port_id":1,"state":"static","mac":"02:00:00:00:00:03"}])");
    // Ages move on every sample: no event for them.
    Json same = before;
    same[0]["age_s"] = 9.0;
    CHECK(neighbor_changes(before, same).empty());
    const Json after = Json::parse(R"([
      {"address":"fe80::1","port":"p0","port_id":0,"state":"stale","mac":"02:00:00:00:00:01"},
      {"address":"fe80::2","port":"p0","port_id":0,"state":"reachable","mac":"02:00:00:00:00:02"},
      {"address":"fe80::2","port":"p1","port_id":1,"state":"incomplete","mac":""}])");
    const std::vector<Json> ch = neighbor_changes(before, after);
    REQUIRE(ch.size() == 4);
    CHECK(ch[0] == Json{{"type", "neighbor"}, {"address", "fe80::1"}, {"port", "p0"}, {"state", "stale"},
                        {"mac", "02:00:00:00:00:01"}, {"was", "reachable"}});
    CHECK(ch[1]["address"] == "fe80::2");
    CHECK(ch[1]["state"] == "reachable");
    CHECK(ch[1]["was"] == "incomplete");
    CHECK(ch[2]["port"] == "p1");  // the same address on another port is another neighbor
    CHECK(ch[2]["was"] == "new");
    CHECK(ch[3]["address"] == "fe80::3");
    CHECK(ch[3]["state"] == "gone");
    CHECK(ch[3]["was"] == "static");
    CHECK(neighbor_changes(Json(), Json::parse(R"([1, "x", {"address": 5}, {}])")).empty());
}
