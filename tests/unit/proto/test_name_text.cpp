// SPDX-License-Identifier: BSD-3-Clause
// Names (proto-defs/name_text.hpp): the UTF-8 rule of RFC 3629 section 4 and
// the length limit, and that every entry point of the dataplane refuses a
// bad name naming the field: the management batch decoder and the YAML
// schema (cats-control's config and catsctl decoder: tests/unit/control).
#include <catch2/catch.hpp>

#include <string>

#include "config.hpp"
#include "config_error.hpp"
#include "mgmt_wire.hpp"
#include "name_text.hpp"

using cats::wire::check_name;
using cats::wire::is_valid_utf8;
using cats::wire::kMaxNameLen;
using cats::wire::utf8_error_offset;

namespace {

constexpr auto npos = std::string_view::npos;

std::string bytes(std::initializer_list<unsigned> b) {
    std::string s;
    for (const unsigned c : b)
        s.push_back(static_cast<char>(c));
    return s;
}

}  // namespace

TEST_CASE("name: valid UTF-8", "[name]") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("video-analytics"));
    CHECK(is_valid_utf8("caf\xc3\xa9"));                         // U+00E9
    CHECK(is_valid_utf8("\xe2\x82\xac"));                        // U+20AC
    CHECK(is_valid_utf8("\xed\x9f\xbf"));                        // U+D7FF, below the surrogates
    CHECK(is_valid_utf8("\xee\x80\x80"));                        // U+E000, above them
    CHECK(is_valid_utf8("\xf0\x90\x80\x80"));                    // U+10000
    CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));                    // U+10FFFF
    CHECK(is_valid_utf8(std::string("a\0b", 3)));                // NUL is a code point
}

TEST_CASE("name: each kind of invalid UTF-8, at its offset", "[name]") {
    CHECK(utf8_error_offset("bad\xff\xfe") == 3);                // the name
    CHECK(utf8_error_offset("\x80") == 0);                       // lone continuation
    CHECK(utf8_error_offset(bytes({0xC0, 0xAF})) == 0);          // overlong '/'
    CHECK(utf8_error_offset(bytes({0xC1, 0xBF})) == 0);          // overlong
    CHECK(utf8_error_offset(bytes({0xE0, 0x80, 0xAF})) == 1);    // overlong 3-byte
    CHECK(utf8_error_offset(bytes({0xF0, 0x80, 0x80, 0xAF})) == 1);  // overlong 4-byte
    CHECK(utf8_error_offset(bytes({0xED, 0xA0, 0x80})) == 1);    // U+D800 surrogate
    CHECK(utf8_error_offset(bytes({0xED, 0xBF, 0xBF})) == 1);    // U+DFFF surrogate
    CHECK(utf8_error_offset(bytes({0xF4, 0x90, 0x80, 0x80})) == 1);  // U+110000
    CHECK(utf8_error_offset(bytes({0xF5, 0x80, 0x80, 0x80})) == 0);
    CHECK(utf8_error_offset("ab\xc3") == 3);                     // cut off at the end
    CHECK(utf8_error_offset("\xe2\x82") == 2);
    CHECK(utf8_error_offset("\xc3(") == 1);                      // continuation missing
    CHECK(utf8_error_offset("ok") == npos);
}

TEST_CASE("name: check_name says what is wrong", "[name]") {
    CHECK(check_name("video") == "");
    CHECK(check_name(std::string(kMaxNameLen, 'n')) == "");
    CHECK(check_name(std::string(kMaxNameLen + 1, 'n')) == "at most 64 bytes, got 65");
    CHECK(check_name("bad\xff\xfe") == "not valid UTF-8 (byte 3 is 0xff)");
    CHECK(check_name("ab\xc3") == "not valid UTF-8 (a sequence is cut off at the end)");
    // The one limit: the channels' constants are this one.
    STATIC_REQUIRE(cats::mgmt::kMaxNameLen == kMaxNameLen);
}

TEST_CASE("name: the management batch decoder refuses a bad name, naming it", "[name][mgmt]") {
    namespace mg = cats::mgmt;
    mg::Batch b;
    mg::Op op;
    op.service.cs_id = 200;
    op.service.name = "bad\xff\xfe";
    mg::InstanceRec in;
    in.id = 1;
    in.sids.push_back({0xfc});
    op.service.instances.push_back(in);
    b.ops.push_back(op);
    std::vector<std::uint8_t> p;
    mg::encode_batch(b, p);
    mg::Batch out;
    CHECK(mg::decode_batch(p, out) == "op 0: service 200: name: not valid UTF-8 (byte 3 is 0xff)");
    b.ops[0].service.name = "caf\xc3\xa9";
    p.clear();
    mg::encode_batch(b, p);
    CHECK(mg::decode_batch(p, out) == "");
    CHECK(out.ops[0].service.name == "caf\xc3\xa9");
}

TEST_CASE("name: the dataplane's YAML refuses a bad or long name, naming the path", "[name][config]") {
    const auto load = [](const std::string& name) {
        try {
            cats::dp::load_config_string("gateway:\n  encap_source: 2001:db8:ff::1\nports:\n  - name: p0\n"
                                         "services:\n  - cs_id: 1\n    name: \"" + name + "\"\n");
        } catch (const cats::ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(load("bad\xff\xfe") == "services[0].name: not valid UTF-8 (byte 3 is 0xff)");
    CHECK(load(std::string(65, 'n')) == "services[0].name: at most 64 bytes, got 65");
    CHECK(load("caf\xc3\xa9") == "");
}
