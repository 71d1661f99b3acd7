// SPDX-License-Identifier: BSD-3-Clause
// Strict YAML reading shared by every config and profile loader
// (cats-dataplane, cats-control, cats-agent, cats-trafgen), in one pass
// (STYLE rule 12): maps whose keys the schema knows, lists, scalars, each
// error a ConfigError naming the YAML path ("services[2].instances[0].id:
// must be 1..4294967295, got 0"). An unknown or repeated key is an error,
// so that a typo such as `hop_limt: 8` cannot silently leave the default in
// place.
//
// Thread safety: pure functions and a reader object owned by its caller.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "addr_text.hpp"
#include "config_error.hpp"

namespace cats::yaml {

// ---------------------------------------------------------------------------
// Paths and errors

[[noreturn]] inline void fail(const std::string& path, const std::string& what) {
    throw ConfigError((path.empty() ? std::string("(root)") : path) + ": " + what);
}

// Text the user wrote, for an error message: control bytes (a NUL would
// end the message where a terminal or what() stops) as \xNN.
inline std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

inline std::string child_path(const std::string& path, std::string_view key) {
    std::string out = path;
    if (!out.empty())
        out += '.';
    out += printable(key);
    return out;
}

inline std::string item_path(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

// What the user wrote, for "expected X, got Y" messages.
inline std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Scalar: return "'" + printable(n.Scalar()) + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
    }
    return "nothing";
}

inline std::string join(std::initializer_list<std::string_view> words) {
    std::string out;
    for (const std::string_view w : words) {
        if (!out.empty())
            out += ", ";
        out += w;
    }
    return out;
}

// The one YAML document of `text` (an empty text is a null node); a second
// document is an error, not ignored. A syntax error names the line and the
// column, after `source` unless that is empty (a caller that puts the file
// name in front of every error itself).
namespace detail {

// Parses and discards: counting documents without building them.
struct DiscardEvents final : YAML::EventHandler {
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

}  // namespace detail

inline YAML::Node load_one_document(const std::string& text, const std::string& source) {
    const std::string where = source.empty() ? std::string() : source + ": ";
    // Documents are counted first, up to a bound, and never with
    // YAML::LoadAll(): yaml-cpp 0.7 (Debian 12) returns an empty document
    // for a stray ',' without consuming it, forever (jbeder/yaml-cpp#1040),
    // and LoadAll() keeps every one: a config of one comma hung the daemons
    // at start and ate memory (found by tests/fuzz).
    constexpr std::size_t kMaxDocs = 16;
    std::size_t docs = 0;
    YAML::Node doc;
    try {
        std::istringstream in(text);
        YAML::Parser parser(in);
        detail::DiscardEvents discard;
        while (docs < kMaxDocs && parser.HandleNextDocument(discard))
            ++docs;
        if (docs == 1)
            doc = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw ConfigError(where + "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (docs == kMaxDocs)
        throw ConfigError(where + "expected one YAML document, found " + std::to_string(kMaxDocs) +
                          " or more (a stray ',' outside [] or {} reads as endless empty documents)");
    if (docs > 1)
        throw ConfigError(where + "expected one YAML document, found " + std::to_string(docs));
    return doc;
}

namespace detail {

// The whole of `file`; false, with why in `why`, when it cannot be read.
inline bool slurp(const std::filesystem::path& file, std::string& text, std::string& why) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        why = "is a directory";
        return false;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return false;
    }
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) {
        why = "I/O error";
        return false;
    }
    text = out.str();
    return true;
}

}  // namespace detail

// The whole of a file a config or flag names (a key file, a metrics file);
// a ConfigError at `where` when it cannot be read.
inline std::string read_text_file(const std::filesystem::path& file, const std::string& where) {
    std::string text, why;
    if (!detail::slurp(file, text, why))
        fail(where, "cannot read " + file.string() + ": " + why);
    return text;
}

// The whole of a config file; a ConfigError "<path>: cannot read: <why>"
// when it cannot be read.
inline std::string read_config_file(const std::string& path) {
    std::string text, why;
    if (!detail::slurp(path, text, why))
        throw ConfigError(path + ": cannot read: " + why);
    return text;
}

// `s` without the blanks and line ends around it (the newline an editor
// adds at the end of a key file).
inline std::string_view trim_blanks(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && blank(s.back()))
        s.remove_suffix(1);
    while (!s.empty() && blank(s.front()))
        s.remove_prefix(1);
    return s;
}

// ---------------------------------------------------------------------------
// Shapes: maps and lists

// A YAML map whose keys were checked against the keys the schema knows (an
// empty `known`: any key, for maps of names). A null node (`metrics:` with
// nothing after it) reads as an empty map.
class MapReader {
public:
    MapReader(const YAML::Node& node, std::string map_path, std::initializer_list<std::string_view> known)
        : path_(std::move(map_path)) {
        if (node.IsNull())
            return;
        if (!node.IsMap())
            fail(path_, "expected a map, got " + describe(node));
        for (const auto& kv : node) {
            if (!kv.first.IsScalar())
                fail(path_, "map keys must be strings, got " + describe(kv.first));
            const std::string& key = kv.first.Scalar();
            if (known.size() != 0 && std::find(known.begin(), known.end(), key) == known.end())
                fail(path(key), "unknown key (expected one of: " + join(known) + ")");
            // yaml-cpp keeps both entries of a repeated key; which one wins
            // would be an accident, so refuse.
            if (find(key) != nullptr)
                fail(path(key), "duplicate key");
            entries_.emplace_back(key, kv.second);
        }
    }

    const YAML::Node* find(std::string_view key) const {
        for (const auto& [k, v] : entries_)
            if (k == key)
                return &v;
        return nullptr;
    }

    const YAML::Node& require(std::string_view key) const {
        const YAML::Node* n = find(key);
        if (n == nullptr)
            fail(path(key), "required key is missing");
        return *n;
    }

    // Calls f(value, value_path) if the key is present.
    template <class F>
    void with(std::string_view key, F&& f) const {
        if (const YAML::Node* n = find(key))
            f(*n, path(key));
    }

    std::string path(std::string_view key) const { return child_path(path_, key); }
    const std::vector<std::pair<std::string, YAML::Node>>& entries() const { return entries_; }

private:
    std::string path_;
    std::vector<std::pair<std::string, YAML::Node>> entries_;
};

// Number of items in a YAML list; a null node (`instances:` with nothing
// after it) is an empty list.
inline std::size_t list_size(const YAML::Node& n, const std::string& path) {
    if (n.IsNull())
        return 0;
    if (!n.IsSequence())
        fail(path, "expected a list, got " + describe(n));
    return n.size();
}

// Calls f(item, item_path) for each element of a YAML list.
template <class F>
void for_each_item(const YAML::Node& n, const std::string& path, F&& f) {
    if (list_size(n, path) == 0)
        return;
    std::size_t i = 0;
    for (const auto& it : n) {
        f(static_cast<const YAML::Node&>(it), item_path(path, i));
        ++i;
    }
}

// ---------------------------------------------------------------------------
// Scalars

// A non-negative decimal integer in [lo, hi]. `range` is how the allowed
// values are described in the error. Hex, floats, signs and blanks are
// refused: a config number means exactly what it says.
inline std::uint64_t read_uint(const YAML::Node& n, const std::string& path, std::uint64_t lo, std::uint64_t hi,
                               const std::string& range) {
    if (!n.IsScalar())
        fail(path, "expected an integer in " + range + ", got " + describe(n));
    const std::string& s = n.Scalar();
    const bool negative = !s.empty() && s.front() == '-';
    const std::string_view digits = std::string_view(s).substr(negative ? 1 : 0);
    const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (!all_digits)
        fail(path, "expected an integer in " + range + ", got '" + s + "'");
    if (negative)
        fail(path, "must be " + range + ", got " + s);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{} || end != digits.data() + digits.size() || v < lo || v > hi)
        fail(path, "must be " + range + ", got " + s);
    return v;
}

inline std::uint64_t read_uint(const YAML::Node& n, const std::string& path, std::uint64_t lo, std::uint64_t hi) {
    return read_uint(n, path, lo, hi, std::to_string(lo) + ".." + std::to_string(hi));
}

template <class T>
T read_int(const YAML::Node& n, const std::string& path, std::uint64_t lo,
           std::uint64_t hi = std::numeric_limits<T>::max()) {
    return static_cast<T>(read_uint(n, path, lo, hi));
}

// A non-empty string.
inline std::string read_string(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar())
        fail(path, "expected a string, got " + describe(n));
    if (n.Scalar().empty())
        fail(path, "must not be empty");
    return n.Scalar();
}

// One of `values`, by name.
template <class E>
E read_enum(const YAML::Node& n, const std::string& path,
            std::initializer_list<std::pair<std::string_view, E>> values) {
    std::string names;
    for (const auto& [name, value] : values) {
        if (n.IsScalar() && n.Scalar() == name)
            return value;
        if (!names.empty())
            names += " | ";
        names += name;
    }
    fail(path, "must be one of " + names + ", got " + describe(n));
}

// An IPv6 address in text form (wire::parse_ipv6).
inline wire::Ipv6Addr read_ipv6(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const std::optional<wire::Ipv6Addr> a = wire::parse_ipv6(s);
    if (!a)
        fail(path, "'" + s + "' is not an IPv6 address");
    return *a;
}

}  // namespace cats::yaml
