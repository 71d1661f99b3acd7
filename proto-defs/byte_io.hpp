// SPDX-License-Identifier: BSD-3-Clause
// Big-endian byte writer and bounds-checked reader for the message codecs
// (advertisements, management channel). Not for the per-packet path: the
// writer appends to a std::vector.
//
// Thread safety: an instance belongs to one thread; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "cats_wire.hpp"

namespace cats::wire {

// Appends fields to `out`, integers in network byte order.
class ByteWriter {
public:
    explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { put(v, 2); }
    void u32(std::uint32_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void bytes(const void* p, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(p);
        out_.insert(out_.end(), b, b + n);
    }

private:
    void put(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i)
            out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    std::vector<std::uint8_t>& out_;
};

// Reads fields from a span in order: a read past the end fails (returns
// false) and consumes and writes nothing.
class ByteReader {
public:
    explicit ByteReader(std::span<const std::uint8_t> in) : in_(in) {}
    bool u8(std::uint8_t& v) { return take(1) && (v = in_[pos_ - 1], true); }
    bool u16(std::uint16_t& v) { return take(2) && (v = load_be16(&in_[pos_ - 2]), true); }
    bool u32(std::uint32_t& v) { return take(4) && (v = load_be32(&in_[pos_ - 4]), true); }
    bool u64(std::uint64_t& v) { return take(8) && (v = load_be64(&in_[pos_ - 8]), true); }
    bool bytes(void* p, std::size_t n) {
        if (!take(n))
            return false;
        if (n != 0)
            std::memcpy(p, &in_[pos_ - n], n);
        return true;
    }
    // The next n bytes as a span, consumed.
    bool sub(std::size_t n, std::span<const std::uint8_t>& out) {
        if (!take(n))
            return false;
        out = in_.subspan(pos_ - n, n);
        return true;
    }
    std::size_t left() const { return in_.size() - pos_; }

private:
    bool take(std::size_t n) {
        if (n > in_.size() - pos_)
            return false;
        pos_ += n;
        return true;
    }
    std::span<const std::uint8_t> in_;
    std::size_t pos_ = 0;
};

}  // namespace cats::wire
