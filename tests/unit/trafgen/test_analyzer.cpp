// SPDX-License-Identifier: BSD-3-Clause
// The receive-side analyzer on synthetic received packets: loss,
// duplicates, reordering, affinity violations and planned moves, shares,
// latency percentiles, instance identification from SRv6 encapsulation, and
// leaked malformed packets.
#include <catch2/catch.hpp>

#include <cstring>

#include "analyzer.hpp"
#include "helpers.hpp"

using namespace cats::trafgen;
using namespace cats::trafgen::test;
namespace wire = cats::wire;

namespace {

const char* kTwoInstances = R"(
seed: 3
flows: 400
packets_per_flow: 5
services:
  - cs_id: 100
    instances:
      - {name: a, sids: [2001:db8:a1::100], weight: 1}
      - {name: b, sids: [2001:db8:a2::1, 2001:db8:a2::100], weight: 3}
requirement_sets:
  - {name: any, share: 9}
  - {name: doomed, share: 1, expect: drop, drop_reason: no_eligible_instance}
)";

// Wrap an inner IPv6 packet (the frame without its Ethernet header) the way
// the gateway does: outer IPv6 to `sids[0]`, an SRH listing the SIDs
// reversed (RFC 8986 H.Encaps).
Bytes encapsulate(const Bytes& frame, const std::vector<Ipv6Addr>& sids) {
    Bytes out(frame.begin(), frame.begin() + 14);
    const std::size_t srh_len = 8 + 16 * sids.size();
    const std::size_t inner = frame.size() - 14;
    Bytes ip(40 + srh_len, 0);
    ip[0] = 0x60;
    wire::store_be16(&ip[4], static_cast<std::uint16_t>(srh_len + inner));
    ip[6] = 43;
    ip[7] = 64;
    ip[8] = 0x20;  // source 2001:db8:ff::1, roughly
    ip[23] = 1;
    std::memcpy(&ip[24], sids.front().data(), 16);
    std::uint8_t* srh = &ip[40];
    srh[0] = 41;
    srh[1] = static_cast<std::uint8_t>(srh_len / 8 - 1);
    srh[2] = 4;
    srh[3] = static_cast<std::uint8_t>(sids.size() - 1);
    srh[4] = static_cast<std::uint8_t>(sids.size() - 1);
    for (std::size_t i = 0; i < sids.size(); ++i)
        std::memcpy(srh + 8 + 16 * i, sids[sids.size() - 1 - i].data(), 16);
    out.insert(out.end(), ip.begin(), ip.end());
    out.insert(out.end(), frame.begin() + 14, frame.end());
    return out;
}

}  // namespace

TEST_CASE("analyzer: loss, duplicates, reordering, affinity, shares, latency", "[trafgen][analyzer]") {
    Profile p = load_profile_string(kTwoInstances);
    p.allow_moves_from = {"a"};
    Generator gen(p);
    Analyzer an(gen);
    an.set_tx(plan_tx(gen, 0));
    const std::int32_t a = an.instance_by_name("a"), b = an.instance_by_name("b");
    REQUIRE(a == 0);
    REQUIRE(b == 1);

    // Steered flows: every 4th on a, the others on b (expected 1:3).
    // Latency of every packet: (seq + 1) microseconds.
    std::size_t steered = 0, doomed = 0;
    std::uint32_t lose_flow = UINT32_MAX, dup_flow = UINT32_MAX, move_flow = UINT32_MAX, bad_flow = UINT32_MAX,
                  reorder_flow = UINT32_MAX;
    for (const FlowSpec& f : gen.flows()) {
        if (p.requirement_sets[f.set].expect_drop) {
            ++doomed;
            continue;  // dropped as expected: nothing arrives
        }
        const std::size_t k = steered++;
        std::int32_t inst = k % 4 == 0 ? a : b;
        for (std::uint64_t seq = 0; seq < 5; ++seq) {
            std::uint64_t rx_ns = 1000000 * (f.id + 1) + seq * 10;
            RxPacket pk{.instance = inst, .flow = f.id, .seq = seq, .tx_ns = rx_ns - (seq + 1) * 1000, .rx_ns = rx_ns, .len = 100};
            if (k == 1 && seq == 2) {
                lose_flow = f.id;  // lost
                continue;
            }
            if (k == 2 && seq == 1) {
                dup_flow = f.id;
                an.add(pk);  // and once more below
            }
            if (k == 4 && seq >= 3) {
                move_flow = f.id;  // a -> b at seq 3: planned (a is being withdrawn)
                pk.instance = b;
            }
            if (k == 5 && seq == 2) {
                bad_flow = f.id;  // b -> a -> b: a violation
                pk.instance = a;
            }
            if (k == 6 && seq == 1) {
                reorder_flow = f.id;  // arrives after seq 2
                pk.rx_ns += 15;
            }
            an.add(pk);
        }
    }
    REQUIRE(doomed > 10);
    REQUIRE(bad_flow != UINT32_MAX);

    const nlohmann::json r = an.report();
    INFO(r.dump(1));
    CHECK(r["totals"]["sent"] == steered * 5);
    CHECK(r["totals"]["received"] == steered * 5 - 1);
    CHECK(r["totals"]["lost"] == 1);
    CHECK(r["totals"]["duplicates"] == 1);
    CHECK(r["totals"]["reordered"] == 1);
    CHECK(r["totals"]["expected_drop_sent"] == doomed * 5);
    CHECK(r["totals"]["expected_drop_received"] == 0);
    CHECK(r["affinity"]["violations"] == 1);
    CHECK(r["affinity"]["planned_moves"] == 1);
    CHECK(r["checks"]["no_loss"] == false);
    CHECK(r["checks"]["affinity_ok"] == false);
    CHECK(r["checks"]["pass"] == false);

    // Shares: a takes every 4th flow; expected 1/(1+3).
    const nlohmann::json& insts = r["services"][0]["instances"];
    CHECK(insts[0]["name"] == "a");
    CHECK(insts[0]["expected_share"].get<double>() == Approx(0.25));
    CHECK(insts[1]["expected_share"].get<double>() == Approx(0.75));
    CHECK(insts[0]["share"].get<double>() == Approx(0.25).margin(0.01));
    CHECK(insts[0]["within_tolerance"] == true);

    // Latency: a fifth of the samples each at 1..5 us.
    const nlohmann::json& lat = r["latency_us"];
    CHECK(lat["samples"] == steered * 5 - 1);
    CHECK(lat["min"].get<double>() == Approx(1.0));
    CHECK(lat["p50"].get<double>() == Approx(3.0));
    CHECK(lat["p90"].get<double>() == Approx(5.0));
    CHECK(lat["max"].get<double>() == Approx(5.0));
    CHECK(lat["negative"] == 0);

    // The flows with a problem are listed, with what went wrong.
    std::map<std::uint64_t, nlohmann::json> listed;
    for (const auto& f : r["flows"])
        listed[f["id"].get<std::uint64_t>()] = f;
    CHECK(listed.at(lose_flow)["lost"] == 1);
    CHECK(listed.at(dup_flow)["duplicates"] == 1);
    CHECK(listed.at(bad_flow)["affinity_violation"] == true);
    CHECK(listed.at(bad_flow)["instances"] == nlohmann::json::array({"b", "a"}));
    CHECK(listed.count(move_flow) == 0);
    CHECK(listed.count(reorder_flow) == 0);

    // The text form renders.
    const std::string text = render_text(r);
    CHECK_THAT(text, Catch::Contains("affinity: 1 violations, 1 planned moves"));
    CHECK_THAT(text, Catch::Contains("instance a"));
}

TEST_CASE("analyzer: shares off the expected ones fail the check", "[trafgen][analyzer]") {
    const Profile p = load_profile_string(kTwoInstances);
    Generator gen(p);
    Analyzer an(gen);
    an.set_tx(plan_tx(gen, 0));
    for (const FlowSpec& f : gen.flows()) {
        if (p.requirement_sets[f.set].expect_drop)
            continue;
        for (std::uint64_t seq = 0; seq < 5; ++seq)
            an.add(RxPacket{.instance = 0, .flow = f.id, .seq = seq, .tx_ns = 1, .rx_ns = 2, .len = 64});
    }
    const nlohmann::json r = an.report();
    CHECK(r["checks"]["no_loss"] == true);
    CHECK(r["checks"]["affinity_ok"] == true);
    CHECK(r["services"][0]["instances"][0]["share"].get<double>() == Approx(1.0));
    CHECK(r["services"][0]["instances"][0]["within_tolerance"] == false);
    CHECK(r["checks"]["shares_within_tolerance"] == false);
}

TEST_CASE("analyzer: frames are identified by their SRv6 encapsulation", "[trafgen][analyzer]") {
    Profile p = load_profile_string(kSmallProfile);
    p.malformed_share = 0.2;
    p.malformed_kinds.fill(1);
    p.malformed_kinds[0] = 0;
    Generator gen(p);
    Analyzer an(gen);
    an.set_tx(plan_tx(gen, 0));
    std::vector<Slot> slots;
    const std::vector<Bytes> pkts = all_packets(gen, &slots);
    const auto a_sids = p.services[0].instances[0].sids;
    const auto b_sids = p.services[0].instances[1].sids;
    const auto g_sids = p.services[1].instances[0].sids;
    std::size_t good = 0, leaked = 0;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        if (slots[i].bad != BadKind::None) {
            // A malformed packet that (wrongly) got through, untouched.
            if (slots[i].bad == BadKind::CatsBadVersion) {
                an.add_frame(pkts[i], 2000 + i, kUnknownInstance);
                ++leaked;
            }
            continue;
        }
        const FlowSpec& f = gen.flows()[slots[i].flow];
        const auto& sids = f.service == 1 ? g_sids : (f.id % 2 ? b_sids : a_sids);
        an.add_frame(encapsulate(pkts[i], sids), 2000 + i, kUnknownInstance);
        ++good;
    }
    // Noise: a frame of another run and a frame with no trafgen header.
    Profile other = p;
    other.seed = 99;
    Generator og(other);
    an.add_frame(all_packets(og).front(), 5, kUnknownInstance);
    an.add_frame(Bytes(60, 0xEE), 5, kUnknownInstance);

    const nlohmann::json r = an.report();
    INFO(r.dump(1));
    CHECK(r["rx"]["foreign"] == 1);
    CHECK(r["rx"]["other_run"] == 1);
    CHECK(r["rx"]["unidentified_instance"] == 0);
    CHECK(r["totals"]["received"] == good);
    CHECK(r["totals"]["lost"] == 0);
    CHECK(r["malformed"]["received"]["cats_bad_version"] == leaked);
    CHECK(r["malformed"]["sent_total"].get<std::uint64_t>() == pkts.size() - good);
    CHECK(r["checks"]["malformed_dropped"] == (leaked == 0));
    // Instance g got all of service 200; a and b split service 100.
    const auto& s100 = r["services"][0]["instances"];
    const auto& s200 = r["services"][1]["instances"];
    CHECK(s200[0]["share"].get<double>() == Approx(1.0));
    CHECK(s100[0]["packets"].get<std::uint64_t>() + s100[1]["packets"].get<std::uint64_t>() ==
          r["services"][0]["received"].get<std::uint64_t>());
}

TEST_CASE("decode_rx: plain, encapsulated, reduced, VLAN-tagged", "[trafgen][rx]") {
    const Profile p = load_profile_string(kSmallProfile);
    Generator gen(p);
    const std::vector<Bytes> pkts = all_packets(gen);
    const Ipv6Addr sid = p.services[0].instances[1].sids.front();
    RxDecoded d;
    REQUIRE(decode_rx(pkts[0], d));
    CHECK_FALSE(d.encapsulated);
    CHECK_FALSE(d.by_scan);
    const Bytes enc = encapsulate(pkts[0], p.services[0].instances[1].sids);
    REQUIRE(decode_rx(enc, d));
    CHECK(d.encapsulated);
    CHECK(d.outer_dst == sid);
    CHECK(d.srh_last_sid == p.services[0].instances[1].sids.back());
    // 802.1Q tag in front.
    Bytes tagged(enc.begin(), enc.begin() + 12);
    for (const std::uint8_t x : {0x81, 0x00, 0x00, 0x64})
        tagged.push_back(x);
    tagged.insert(tagged.end(), enc.begin() + 12, enc.end());
    REQUIRE(decode_rx(tagged, d));
    CHECK(d.encapsulated);
    CHECK_FALSE(d.by_scan);
    // Truncated in the middle of the headers: nothing to find.
    CHECK_FALSE(decode_rx(std::span(enc).first(60), d));
}

TEST_CASE("decode_rx and the analyzer take any bytes", "[trafgen][rx]") {
    // Every prefix of every packet (good and malformed, plain and
    // encapsulated) and random garbage: no crash (run under ASan/UBSan),
    // and nothing counted twice.
    Profile p = load_profile_string(kSmallProfile);
    p.malformed_share = 0.3;
    p.malformed_kinds.fill(1);
    p.malformed_kinds[0] = 0;
    p.packets_per_flow = 1;
    Generator gen(p);
    Analyzer an(gen);
    std::size_t frames = 0;
    for (const Bytes& pkt : all_packets(gen)) {
        const Bytes enc = encapsulate(pkt, p.services[0].instances[1].sids);
        for (const Bytes* b : {&pkt, &enc})
            for (std::size_t n = 0; n <= b->size(); ++n) {
                RxDecoded d;
                (void)decode_rx(std::span(*b).first(n), d);
                an.add_frame(std::span(*b).first(n), n, kUnknownInstance);
                ++frames;
            }
    }
    Rng rng(5);
    for (int i = 0; i < 20000; ++i) {
        Bytes junk(rng.below(200));
        for (std::uint8_t& x : junk)
            x = static_cast<std::uint8_t>(rng.next());
        if (junk.size() > 14 && rng.below(2)) {
            junk[12] = 0x86;  // IPv6 ethertype and version, to go deeper
            junk[13] = 0xDD;
            junk[14] = static_cast<std::uint8_t>(0x60 | (junk[14] & 0x0F));
        }
        an.add_frame(junk, 1, kUnknownInstance);
        ++frames;
    }
    const nlohmann::json r = an.report();
    CHECK(r["rx"]["frames"] == frames);
    CHECK(r["rx"]["trafgen_packets"].get<std::uint64_t>() + r["rx"]["foreign"].get<std::uint64_t>() +
              r["rx"]["other_run"].get<std::uint64_t>() + r["malformed"]["received_total"].get<std::uint64_t>() ==
          frames);
}
