// SPDX-License-Identifier: BSD-3-Clause
// The dataplane's side of cats_xdp.bpf.o, the XDP program in front of a
// kernel-owned NIC driven through net_af_xdp (README.md beside this file):
// find the program on an interface, fill the maps it classifies with, and
// read its per-class verdict counters. Also loads and attaches the object
// itself with libbpf, for tests and for PMDs that do not take `xdp_prog=`.
//
// Thread safety: an XdpProgram is owned by one thread at a time, the
// management thread; it is not safe to share one between threads. Every
// call is a bpf() or netlink system call: never call one from a worker
// (the fast path makes no system calls). The XDP program keeps running on
// every CPU meanwhile; see configure() for what it may see during an
// update. Functions return an error message, never throw for a kernel or
// file error, and never abort.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "addr_text.hpp"
#include "cats_xdp.h"

struct bpf_object;

namespace cats::dp::xdp {

// The classes of cats_xdp.h, in the same order.
enum class XdpClass : std::uint8_t {
    CatsSrhTlv = CATS_XDP_CATS_SRH_TLV,
    CatsOption = CATS_XDP_CATS_OPTION,
    ServiceSid = CATS_XDP_SERVICE_SID,
    LocalSid = CATS_XDP_LOCAL_SID,
    Transit = CATS_XDP_TRANSIT,
    WalkLimit = CATS_XDP_WALK_LIMIT,
    Ndp = CATS_XDP_NDP,
    Host = CATS_XDP_HOST,
    NotIpv6 = CATS_XDP_NOT_IPV6,
    TransitPassed = CATS_XDP_TRANSIT_PASSED,
    Malformed = CATS_XDP_MALFORMED,
    Count = CATS_XDP_CLASS_COUNT
};

inline constexpr std::size_t kXdpClassCount = CATS_XDP_CLASS_COUNT;

// Names in stats and catsctl output.
inline constexpr std::array<std::string_view, kXdpClassCount> kXdpClassNames = {
    "cats_srh_tlv", "cats_option", "service_sid", "local_sid",      "transit",   "walk_limit",
    "ndp",          "host",        "not_ipv6",    "transit_passed", "malformed",
};

namespace detail {
constexpr bool all_named() {
    for (std::string_view n : kXdpClassNames)
        if (n.empty())
            return false;
    return true;
}
}  // namespace detail
static_assert(detail::all_named(), "every XdpClass needs a name in kXdpClassNames");

// True for the classes sent to the AF_XDP socket; false for XDP_PASS.
constexpr bool redirected(XdpClass c) noexcept {
    return static_cast<unsigned>(c) < static_cast<unsigned>(CATS_XDP_FIRST_PASS_CLASS);
}

constexpr std::string_view class_name(XdpClass c) noexcept {
    return kXdpClassNames[static_cast<std::size_t>(c)];
}

// A value or the reason there is none.
template <class T>
struct XdpResult {
    std::optional<T> value;
    std::string error;  // set when !value

    explicit operator bool() const noexcept { return value.has_value(); }
    static XdpResult fail(std::string why) { return XdpResult{std::nullopt, std::move(why)}; }
};

// What the program needs from the dataplane's configuration.
struct XdpFilterConfig {
    std::optional<wire::Ipv6Prefix> service_sid_prefix;  // gateway.service_sid_prefix, a /96
    bool non_cats_forward = false;                       // gateway.non_cats == forward
    std::vector<wire::Ipv6Prefix> local_sids;            // SIDs cats terminates (up to 1024)
    std::vector<wire::Ipv6Addr> host_addrs;              // the host's own addresses (up to 256)
};

struct XdpCounter {
    XdpClass cls = XdpClass::Count;
    std::string_view name;
    bool redirected = false;
    std::uint64_t packets = 0;  // summed over CPUs
    std::uint64_t bytes = 0;
};

// Where load_and_attach() puts the program (the XDP_FLAGS_*_MODE).
enum class AttachMode : std::uint8_t {
    Auto,     // the driver's native XDP if it has one, else generic
    Native,   // XDP_FLAGS_DRV_MODE: fail if the driver has no native XDP
    Generic,  // XDP_FLAGS_SKB_MODE: any interface, slower
};

// The maps of cats_xdp.bpf.c, by their names there.
enum class XdpMap : std::uint8_t { Xsks, Config, LocalSids, HostAddrs, Verdicts, Count };
inline constexpr std::array<std::string_view, static_cast<std::size_t>(XdpMap::Count)> kXdpMapNames = {
    "xsks_map", "cats_config", "local_sids", "host_addrs", "verdicts",
};

// The loaded program and its maps (file descriptors it owns).
class XdpProgram {
public:
    // The program attached to `ifindex` (by net_af_xdp's xdp_prog= or by
    // anyone), found by its id, with its maps found by name. Fails with a
    // message if there is none, or if it is not cats_xdp (a map is missing
    // or has another layout). The program stays attached when this object
    // goes away.
    static XdpResult<XdpProgram> from_ifindex(unsigned ifindex);

    // Open and load the object at `path` with libbpf, not attached: for
    // BPF_PROG_TEST_RUN (prog_fd()).
    static XdpResult<XdpProgram> load(const std::string& path);

    // load(), then attach to `ifindex` with XDP_FLAGS_UPDATE_IF_NOEXIST (it
    // never replaces a program already there) and `mode`. The destructor
    // (or detach()) removes it again, only if it is still ours.
    static XdpResult<XdpProgram> load_and_attach(const std::string& path, unsigned ifindex,
                                                 AttachMode mode = AttachMode::Auto);

    XdpProgram(XdpProgram&& o) noexcept;
    XdpProgram& operator=(XdpProgram&& o) noexcept;
    XdpProgram(const XdpProgram&) = delete;
    XdpProgram& operator=(const XdpProgram&) = delete;
    ~XdpProgram();

    // Replace the program's configuration with `cfg`: the cats_config entry,
    // then local_sids and host_addrs (new entries inserted first, stale ones
    // deleted after, so an entry in both the old and the new set is never
    // missing). Returns "" or what is wrong (checked before anything is
    // written: a prefix that is not a /96, too many entries). The 16-byte
    // cats_config entry is copied by the kernel without a lock: a packet
    // classified during that copy may see part old, part new.
    std::string configure(const XdpFilterConfig& cfg);

    // The verdict counters, one per class in XdpClass order, summed over
    // the CPUs.
    XdpResult<std::vector<XdpCounter>> counters() const;

    // Detach a program that load_and_attach() attached. "" on success or
    // when nothing was attached.
    std::string detach();

    int prog_fd() const noexcept { return prog_fd_; }
    std::uint32_t prog_id() const noexcept { return prog_id_; }
    int map_fd(XdpMap m) const noexcept { return map_fds_[static_cast<std::size_t>(m)]; }

private:
    XdpProgram() = default;
    void close_all() noexcept;
    std::string find_maps();

    bpf_object* obj_ = nullptr;  // owned when loaded by us
    int prog_fd_ = -1;           // owned when found by id (obj_ == nullptr)
    std::uint32_t prog_id_ = 0;
    std::array<int, static_cast<std::size_t>(XdpMap::Count)> map_fds_{-1, -1, -1, -1, -1};
    bool own_map_fds_ = false;   // true when found by id
    unsigned attached_ifindex_ = 0;
    std::uint32_t attach_flags_ = 0;
};

}  // namespace cats::dp::xdp
