// SPDX-License-Identifier: BSD-3-Clause
// Builders shared by the control tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "advert_wire.hpp"
#include "ctl_wire.hpp"
#include "mgmt_wire.hpp"
#include "rib.hpp"

namespace cats::control::test {

using namespace std::chrono_literals;

// A fixed origin: tests never read the real clock for RIB times.
inline Time t0() {
    return Time{} + std::chrono::hours(1);
}

inline Sid sid(const std::string& text) {
    return *ctl::parse_sid(text);
}

inline advert::Record record(std::uint32_t cs_id, std::uint32_t id, std::initializer_list<const char*> sids = {"2001:db8:a1::1"},
                             advert::Metrics m = {}) {
    advert::Record r;
    r.cs_id = cs_id;
    r.instance_id = id;
    for (const char* s : sids)
        r.sids.push_back(sid(s));
    r.metrics = m;
    return r;
}

inline advert::Message advertise(std::uint32_t node, std::uint64_t seq, std::vector<advert::Record> recs,
                                 std::uint16_t lifetime_s = 30, std::uint16_t key_id = 1) {
    advert::Message m;
    m.type = advert::Type::Advertise;
    m.key_id = key_id;
    m.node_id = node;
    m.sequence = seq;
    m.lifetime_s = lifetime_s;
    m.records = std::move(recs);
    return m;
}

inline advert::Message withdraw(std::uint32_t node, std::uint64_t seq, std::vector<std::pair<std::uint32_t, std::uint32_t>> keys,
                                std::uint16_t key_id = 1) {
    advert::Message m;
    m.type = advert::Type::Withdraw;
    m.key_id = key_id;
    m.node_id = node;
    m.sequence = seq;
    for (const auto& [cs, id] : keys) {
        advert::Record r;
        r.cs_id = cs;
        r.instance_id = id;
        m.records.push_back(r);
    }
    return m;
}

inline std::vector<std::uint8_t> key_bytes(std::uint8_t fill, std::size_t n = 32) {
    return std::vector<std::uint8_t>(n, fill);
}

}  // namespace cats::control::test
