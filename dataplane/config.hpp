// SPDX-License-Identifier: BSD-3-Clause
// The dataplane's YAML config, parsed into typed structs and validated once.
// An error names the YAML path and what is wrong, e.g.
//   services[0].instances[1].sids[0]: '2001:db8::zz' is not an IPv6 address
//
// Thread safety: load_config() is called once by the main thread at start.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr_text.hpp"
#include "config_error.hpp"

namespace cats::dp {

using Ipv6Addr = wire::Ipv6Addr;
using MacAddr = wire::MacAddr;
using Ipv6Prefix = wire::Ipv6Prefix;

inline constexpr std::size_t kMaxSids = 5;
inline constexpr std::size_t kMaxInstancesPerService = 1024;
inline constexpr std::uint32_t kMaxWeight = 1000000;  // an instance's operator weight, as ctl::kMaxWeight
inline constexpr std::size_t kMaxSrDomainPrefixes = 16;  // gateway.sr_domain

enum class EncapMode : std::uint8_t { Encaps, EncapsRed };
enum class NonCatsPolicy : std::uint8_t { Forward, Drop };
enum class RssMode : std::uint8_t { L3, L3L4 };

// gateway.srh_hmac (srh_hmac.hpp): HMAC-SHA256 keys by HMAC Key ID.
struct SrhHmacKey {
    std::uint32_t key_id = 0;       // 1..2^32-1, unique
    std::vector<std::uint8_t> key;  // 16..128 bytes
};
inline constexpr std::size_t kMaxSrhHmacKeys = 64;
struct SrhHmacConfig {
    // A CATS request that starts a flow (or is re-steered) on a port that is
    // not trusted must carry a valid HMAC TLV; without `require`, one that
    // carries the TLV must verify and one without goes on.
    bool require = false;
    std::vector<SrhHmacKey> keys;
    bool enabled() const noexcept { return require || !keys.empty(); }
};

// gateway.kernel_routes (neigh.hpp): mirror a kernel routing table into
// the FIB, as linux-cp does: the routes a BGP daemon (FRR, BIRD) or an
// operator installs there through the ports' kernel interfaces.
struct KernelRoutesConfig {
    std::uint32_t table = 254;         // RT_TABLE_MAIN; 1..2^32-1 but 255 (local)
    std::uint32_t max_routes = 4096;   // prefixes taken into the FIB
    std::uint32_t max_next_hops = 64;  // distinct (next hop, port) pairs they use
};

struct GatewayConfig {
    Ipv6Addr encap_source{};
    std::optional<Ipv6Prefix> service_sid_prefix;  // must be a /96
    EncapMode encap_mode = EncapMode::Encaps;
    std::uint8_t hop_limit = 64;                   // outer hop limit, 1..255
    std::uint32_t flow_table_size = 65536;         // flows per worker, 1024..16M
    std::uint32_t max_services = 4096;             // counter slots
    std::uint32_t max_instances = 65536;           // counter slots
    NonCatsPolicy non_cats = NonCatsPolicy::Forward;
    RssMode rss = RssMode::L3;
    std::uint32_t burst = 32;                      // 1..64
    std::uint32_t icmp_rate = 100;                 // ICMPv6 errors per second per worker, 0: none
    std::uint32_t exception_rate = 10000;          // packets/s each way per kernel interface, 0: no limit
    // The prefixes of the SR domain's SIDs (sr_domain.hpp): packets from
    // ports not `trusted` that address them are dropped. Empty: no check.
    std::vector<Ipv6Prefix> sr_domain;
    SrhHmacConfig srh_hmac;
    std::optional<KernelRoutesConfig> kernel_routes;  // absent: only `routes`
    // Per received policy accounting at the local SIDs (policy_table.hpp):
    // (outer source, SID) pairs each worker counts; 0: none.
    std::uint32_t policy_table_size = 4096;
};

// The gateway's own address on a port: the address, and the length of its
// on-link prefix (next hops inside it are resolved on this port).
using InterfaceAddress = Ipv6Prefix;

struct PortConfig {
    std::string name;                 // DPDK device name: "net_pcap0", "0000:01:00.0"
    std::uint16_t mtu = 1500;         // 1280..9600
    std::uint16_t rx_desc = 1024;
    std::uint16_t tx_desc = 1024;
    std::optional<MacAddr> mac;       // override the port's own MAC
    std::vector<InterfaceAddress> addresses;  // the gateway's own addresses on this port
    // The kernel interface that carries this port's host traffic (NDP, ping,
    // agents, BGP) when DPDK owns the port: a TAP of this name with the
    // port's MAC and addresses. "cats<i>" by default when `addresses` is
    // set; empty: no exception path.
    std::string kernel_interface;
    // Inside the SR domain (gateway.sr_domain): packets from this port may
    // address the domain's SIDs.
    bool trusted = false;
};

inline constexpr std::size_t kMaxPortAddresses = 16;
inline constexpr std::size_t kIfNameMax = 15;  // IFNAMSIZ - 1

struct NeighborConfig {
    Ipv6Addr address{};
    MacAddr mac{};
    std::string port;                 // a name from `ports`
};

struct RouteConfig {
    Ipv6Prefix prefix;
    Ipv6Addr via{};                   // a static neighbor, or an address on-link on a port
};

// The prefix's address with every bit past its length cleared.
Ipv6Addr network_of(const Ipv6Prefix& p) noexcept;

// The port whose addresses make `a` on-link (the longest such prefix), or -1.
int on_link_port(const std::vector<PortConfig>& ports, const Ipv6Addr& a) noexcept;

struct InstanceMetrics {
    std::uint8_t score = 10;          // L2 score 0..10
    std::uint8_t load_pct = 0;        // 0..100
    std::uint32_t free_capacity = 1;  // sessions; 0 = full
    std::uint32_t latency_us = 0;     // gateway -> instance
    std::uint32_t bandwidth_kbps = UINT32_MAX;
    std::uint16_t compute_types = 1;  // wire::kCompute* bits
    std::uint32_t weight = 100;       // operator weight, 0..kMaxWeight

    friend bool operator==(const InstanceMetrics&, const InstanceMetrics&) = default;
};

struct InstanceConfig {
    std::uint32_t id = 0;             // unique within the service
    std::vector<Ipv6Addr> sids;       // 1..5, first SID first
    InstanceMetrics metrics;
};

struct ServiceConfig {
    std::uint32_t cs_id = 0;
    std::string name;
    std::uint32_t affinity_timeout_s = 30;  // 1..86400
    std::vector<InstanceConfig> instances;
};

// local_sids (sid_table.hpp): the SRv6 endpoint behaviours of RFC 8986 4.
inline constexpr std::size_t kMaxLocalSids = 1024;
enum class SidBehavior : std::uint8_t { End, EndX, EndDX6, EndDT6 };

// "End", "End.X", "End.DX6", "End.DT6" (RFC 8986's names).
std::string_view sid_behavior_name(SidBehavior b) noexcept;
// The same names, case-insensitive.
std::optional<SidBehavior> parse_sid_behavior(std::string_view s) noexcept;
constexpr bool needs_next_hop(SidBehavior b) noexcept {
    return b == SidBehavior::EndX || b == SidBehavior::EndDX6;
}
constexpr bool decapsulates(SidBehavior b) noexcept {
    return b == SidBehavior::EndDX6 || b == SidBehavior::EndDT6;
}

struct LocalSidConfig {
    Ipv6Prefix sid;                    // host bits zero
    SidBehavior behavior = SidBehavior::End;
    std::optional<Ipv6Addr> next_hop;  // End.X and End.DX6 only
    friend bool operator==(const LocalSidConfig&, const LocalSidConfig&) = default;
};

// "fc00:b::d6" for a /128, "fc00:b:0:e000::/64" otherwise.
std::string format_sid(const Ipv6Prefix& p);

struct Config {
    GatewayConfig gateway;
    std::vector<PortConfig> ports;
    std::vector<NeighborConfig> neighbors;
    std::vector<RouteConfig> routes;
    std::vector<ServiceConfig> services;
    std::vector<LocalSidConfig> local_sids;
};

using cats::ConfigError;  // configs/config_error.hpp

// Parse and validate. Throws ConfigError naming the YAML path.
Config load_config_file(const std::string& path);
Config load_config_string(const std::string& yaml);

// Text forms used by config, stats and tools (proto-defs/addr_text.hpp).
inline std::optional<Ipv6Addr> parse_ipv6_addr(const std::string& s) { return wire::parse_ipv6(s); }
using wire::format_ipv6;
using wire::format_mac;
using wire::parse_ipv6_prefix;
using wire::parse_mac;

}  // namespace cats::dp
