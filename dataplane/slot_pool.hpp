// SPDX-License-Identifier: BSD-3-Clause
// Counter slots for the service table: services by CS-ID, instances by
// (CS-ID, id), each an index into every worker's counter arrays.
//
// A key keeps its slot while it is in the table, and after it is gone for
// as long as no other key needs that slot, so an instance that flaps keeps
// its counters. Once every slot has been handed out, a new key takes the
// slot of a key that is gone (in no published snapshot) and the caller
// resets that slot's counters before publishing: the table never runs out
// of slots while fewer than `max` keys are in it at once.
//
// Slots are staged while a snapshot is built: commit() keeps what was
// staged, the next begin() forgets it, so a refused update takes none.
//
// Thread safety: the management thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace cats::dp {

template <class Key>
class SlotPool {
public:
    explicit SlotPool(std::uint32_t max) : max_(max) {}

    std::uint32_t max() const noexcept { return max_; }

    // Start staging the slots of a new snapshot.
    void begin() noexcept {
        staged_.clear();
        reclaimed_.clear();
        used_.clear();
        candidates_.reset();
        fresh_ = 0;
    }

    // The slot of `k` in the snapshot being built, std::nullopt when every
    // slot is taken by a key of the published snapshot or of this one.
    // `live(slot)` says whether the published snapshot uses a slot; it is
    // asked (for every slot held) only when no slot was ever free.
    template <class Live>
    std::optional<std::uint32_t> stage(const Key& k, Live&& live) {
        if (const auto it = staged_.find(k); it != staged_.end())
            return it->second;
        if (const auto it = slots_.find(k); it != slots_.end() && !reclaimed_.contains(k)) {
            used_.insert(k);
            return it->second;
        }
        std::uint32_t slot;
        if (next_ + fresh_ < max_) {
            slot = next_ + fresh_++;
        } else {
            if (!candidates_) {
                candidates_.emplace();
                for (const auto& [key, s] : slots_)
                    if (!live(s))
                        candidates_->push_back({key, s});
            }
            // A gone key that this snapshot has not asked for.
            for (;;) {
                if (candidates_->empty())
                    return std::nullopt;
                const auto [gone, s] = candidates_->back();
                candidates_->pop_back();
                if (!used_.contains(gone)) {
                    reclaimed_.emplace(gone, s);
                    slot = s;
                    break;
                }
            }
        }
        staged_.emplace(k, slot);
        return slot;
    }

    // How many slots commit() will report for a reset.
    std::size_t staged_resets() const noexcept { return reclaimed_.size(); }

    // Keep what was staged, appending to `reset` the slots that went from
    // a gone key to a new one (reset their counters before the snapshot is
    // published). Allocates nothing: `reset` must have room for
    // staged_resets() more, so that a caller can commit two pools or none.
    void commit(std::vector<std::uint32_t>& reset) noexcept {
        for (const auto& [gone, s] : reclaimed_) {
            slots_.erase(gone);
            reset.push_back(s);
        }
        while (!staged_.empty())
            slots_.insert(staged_.extract(staged_.begin()));  // the node moves, no allocation
        next_ += fresh_;
        begin();
    }

private:
    std::uint32_t max_;
    std::uint32_t next_ = 0;  // slots below it have been handed out
    std::map<Key, std::uint32_t> slots_;
    // The build in progress.
    std::map<Key, std::uint32_t> staged_;     // keys given a slot they did not hold
    std::map<Key, std::uint32_t> reclaimed_;  // gone keys whose slot went to a new key
    std::set<Key> used_;                      // held keys this build asked for
    std::optional<std::vector<std::pair<Key, std::uint32_t>>> candidates_;  // gone keys, when needed
    std::uint32_t fresh_ = 0;                 // slots taken at or above next_
};

}  // namespace cats::dp
