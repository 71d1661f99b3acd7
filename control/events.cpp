// SPDX-License-Identifier: BSD-3-Clause
#include "events.hpp"

#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

namespace cats::control {

using Json = nlohmann::json;

std::string utc_time_text(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

EventLog::EventLog(boost::asio::io_context& io)
    : io_(io),
      boot_(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count())) {}

EventLog::~EventLog() {
    for (auto& [id, w] : waiters_)
        w.timer->cancel();
}

void EventLog::add(Json event) {
    event["seq"] = next_seq_++;
    event["time"] = utc_time_text(std::chrono::system_clock::now());
    log_.push_back(std::move(event));
    if (log_.size() > kCapacity)
        log_.pop_front();
    // Every waiting poll has nothing yet: each gets this one (and more, if
    // several were added before it is answered).
    std::vector<std::uint64_t> ids;
    for (const auto& [id, w] : waiters_)
        ids.push_back(id);
    for (const std::uint64_t id : ids)
        answer(id);
}

Json EventLog::collect(std::uint64_t after, std::uint32_t limit) const {
    const std::uint64_t oldest = next_seq_ - log_.size();  // seq of log_.front()
    Json events = Json::array();
    std::uint64_t lost = 0;
    std::uint64_t cursor = after;
    if (after >= next_seq_) {
        // A cursor from before a restart: start again from now.
        cursor = next_seq_ - 1;
    } else {
        std::uint64_t from = after + 1;
        if (from < oldest) {
            lost = oldest - from;
            from = oldest;
        }
        for (std::uint64_t s = from; s < next_seq_ && events.size() < limit; ++s) {
            events.push_back(log_[s - oldest]);
            cursor = s;
        }
        if (events.empty() && lost != 0)
            cursor = oldest - 1;
    }
    return {{"events", std::move(events)}, {"after", cursor}, {"lost", lost}, {"boot", boot_}};
}

void EventLog::poll(const ctl::EventsArgs& args, Reply reply) {
    last_poll_ = Clock::now();
    if (!args.after)
        return reply({{"events", Json::array()}, {"after", next_seq_ - 1}, {"lost", 0}, {"boot", boot_}});
    Json r = collect(*args.after, args.limit);
    if (!r["events"].empty() || r["lost"].get<std::uint64_t>() != 0 || *args.after >= next_seq_ ||
        args.wait_ms == 0 || stopped_)
        return reply(std::move(r));
    if (waiters_.size() >= kMaxWaiters)
        return reply("too many monitors wait for events (" + std::to_string(kMaxWaiters) + "); try again later");
    const std::uint64_t id = next_waiter_++;
    Waiter& w = waiters_[id];
    w.after = *args.after;
    w.limit = args.limit;
    w.reply = std::move(reply);
    w.timer = std::make_unique<boost::asio::steady_timer>(io_);
    w.timer->expires_after(std::chrono::milliseconds(args.wait_ms));
    w.timer->async_wait([this, id](const boost::system::error_code& e) {
        if (!e)
            answer(id);
    });
}

void EventLog::answer(std::uint64_t id) {
    const auto it = waiters_.find(id);
    if (it == waiters_.end())
        return;
    Waiter w = std::move(it->second);
    waiters_.erase(it);
    w.timer->cancel();
    last_poll_ = Clock::now();  // a client waiting all along is watching
    w.reply(collect(w.after, w.limit));
}

void EventLog::stop() {
    stopped_ = true;
    while (!waiters_.empty())
        answer(waiters_.begin()->first);
}

bool EventLog::watched(Clock::time_point now) const noexcept {
    return !waiters_.empty() || (last_poll_ && now - *last_poll_ < kWatchWindow);
}

namespace {

std::uint64_t count_of(const Json& j) {
    // Parsed text gives non-negative integers as unsigned; built in code,
    // they may be signed.
    if (j.is_number_unsigned())
        return j.get<std::uint64_t>();
    return j.is_number_integer() && j.get<std::int64_t>() > 0 ? static_cast<std::uint64_t>(j.get<std::int64_t>()) : 0;
}

}  // namespace

Json drop_rates(const Json& before, const Json& after, double seconds) {
    if (!after.is_object() || seconds <= 0)
        return nullptr;
    Json per_s = Json::object();
    std::uint64_t total = 0;
    for (const auto& [reason, v] : after.items()) {
        const std::uint64_t now = count_of(v);
        const std::uint64_t was = before.is_object() && before.contains(reason) ? count_of(before[reason]) : 0;
        const std::uint64_t d = now >= was ? now - was : now;
        if (d == 0)
            continue;
        per_s[reason] = static_cast<double>(d) / seconds;
        total += d;
    }
    if (total == 0)
        return nullptr;
    return {{"type", "drops"},
            {"interval_s", seconds},
            {"total_per_s", static_cast<double>(total) / seconds},
            {"per_s", std::move(per_s)}};
}

std::vector<Json> neighbor_changes(const Json& before, const Json& after) {
    // (address, port_id) -> the entry; what is compared is state and MAC.
    using Key = std::pair<std::string, std::uint64_t>;
    auto index = [](const Json& list) {
        std::map<Key, const Json*> m;
        if (!list.is_array())
            return m;
        for (const Json& n : list)
            if (n.is_object() && n.contains("address") && n["address"].is_string())
                m[{n["address"].get<std::string>(), count_of(n.value("port_id", Json()))}] = &n;
        return m;
    };
    auto text = [](const Json& n, const char* key) {
        const auto it = n.find(key);
        return it != n.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const auto old = index(before), cur = index(after);
    std::vector<Json> out;
    auto event = [&](const Key& k, const Json* was, const Json* now) {
        const Json& n = now ? *now : *was;
        Json e = {{"type", "neighbor"},
                  {"address", k.first},
                  {"port", text(n, "port")},
                  {"state", now ? text(*now, "state") : "gone"},
                  {"mac", now ? text(*now, "mac") : ""},
                  {"was", was ? text(*was, "state") : "new"}};
        out.push_back(std::move(e));
    };
    for (const auto& [k, n] : cur) {
        const auto it = old.find(k);
        if (it == old.end())
            event(k, nullptr, n);
        else if (text(*it->second, "state") != text(*n, "state") || text(*it->second, "mac") != text(*n, "mac"))
            event(k, it->second, n);
    }
    for (const auto& [k, n] : old)
        if (!cur.contains(k))
            event(k, n, nullptr);
    return out;
}

}  // namespace cats::control
