// SPDX-License-Identifier: BSD-3-Clause
// YAML -> typed config structs, validated in one pass (STYLE rule 12).
//
// Every check throws ConfigError("<yaml path>: <what is wrong>") at the first
// problem found, in document order. The schema is strict: an unknown or
// repeated key is an error, so a typo such as `hop_limt: 8` cannot silently
// leave the default in place.
#include "config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <map>
#include <utility>

#include "addr_text.hpp"
#include "advert_wire.hpp"
#include "cats_wire.hpp"
#include "service_schema.hpp"
#include "yaml_schema.hpp"

namespace cats::dp {

namespace {

using namespace cats::yaml;

// Descriptor ring sizes: the PMDs want powers of two.
std::uint16_t read_desc(const YAML::Node& n, const std::string& path) {
    constexpr std::uint64_t kLo = 64;
    constexpr std::uint64_t kHi = 16384;
    const std::string range = "a power of two in 64..16384";
    const std::uint64_t v = read_uint(n, path, kLo, kHi, range);
    if ((v & (v - 1)) != 0)
        fail(path, "must be " + range + ", got " + std::to_string(v));
    return static_cast<std::uint16_t>(v);
}

std::string format_prefix(const Ipv6Prefix& p) {
    return format_ipv6(p.addr) + "/" + std::to_string(p.len);
}

// A prefix whose host bits are zero, as a FIB entry must be.
Ipv6Prefix read_prefix(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const std::optional<Ipv6Prefix> p = parse_ipv6_prefix(s);
    if (!p)
        fail(path, "'" + s + "' is not an IPv6 prefix (expected addr/len, len 0..128)");
    const Ipv6Prefix net{network_of(*p), p->len};
    if (net.addr != p->addr)
        fail(path, s + " has host bits set (did you mean " + format_prefix(net) + "?)");
    return *p;
}

MacAddr read_mac(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const std::optional<MacAddr> m = parse_mac(s);
    if (!m)
        fail(path, "'" + s + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
    return *m;
}

// ---------------------------------------------------------------------------
// Sections

SrhHmacConfig parse_srh_hmac(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"require", "keys"});
    SrhHmacConfig h;
    m.with("require", [&](const YAML::Node& v, const std::string& p) {
        h.require = read_enum<bool>(v, p, {{"true", true}, {"false", false}});
    });
    m.with("keys", [&](const YAML::Node& list, const std::string& lp) {
        if (list_size(list, lp) > kMaxSrhHmacKeys)
            fail(lp, "at most " + std::to_string(kMaxSrhHmacKeys) + " keys");
        std::map<std::uint32_t, std::string> seen;
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            const MapReader k(v, p, {"key_id", "key"});
            SrhHmacKey key;
            // Key ID 0 is what an SRH without HMAC would hold: not a key.
            key.key_id = read_int<std::uint32_t>(k.require("key_id"), k.path("key_id"), 1);
            const auto [it, fresh] = seen.emplace(key.key_id, p);
            if (!fresh)
                fail(k.path("key_id"), "duplicate key_id " + std::to_string(key.key_id) + " (first at " + it->second + ")");
            std::string error;
            std::optional<std::vector<std::uint8_t>> bytes =
                advert::parse_hex_key(read_string(k.require("key"), k.path("key")), error);
            if (!bytes)
                fail(k.path("key"), error);
            key.key = std::move(*bytes);
            h.keys.push_back(std::move(key));
        });
    });
    if (h.require && h.keys.empty())
        fail(path, "require: true needs at least one key in keys");
    return h;
}

KernelRoutesConfig parse_kernel_routes(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"table", "max_routes", "max_next_hops"});
    KernelRoutesConfig k;
    m.with("table", [&](const YAML::Node& v, const std::string& p) {
        if (v.IsScalar() && v.Scalar() == "main")
            return;
        k.table = read_int<std::uint32_t>(v, p, 1, UINT32_MAX);
        if (k.table == 255)
            fail(p, "255 is the local table (the gateway's own addresses), not one to route by");
    });
    m.with("max_routes", [&](const YAML::Node& v, const std::string& p) {
        k.max_routes = read_int<std::uint32_t>(v, p, 1, 65536);
    });
    m.with("max_next_hops", [&](const YAML::Node& v, const std::string& p) {
        k.max_next_hops = read_int<std::uint32_t>(v, p, 1, 4096);
    });
    return k;
}

GatewayConfig parse_gateway(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path,
                      {"encap_source", "service_sid_prefix", "encap_mode", "hop_limit", "flow_table_size",
                       "max_services", "max_instances", "non_cats", "rss", "burst", "icmp_rate",
                       "exception_rate", "sr_domain", "srh_hmac", "kernel_routes", "policy_table_size"});
    GatewayConfig g;
    g.encap_source = read_ipv6(m.require("encap_source"), m.path("encap_source"));
    // The outer source of every packet we encapsulate (RFC 8986 H.Encaps):
    // it must be an address a reply can come back to.
    if (g.encap_source == Ipv6Addr{} || g.encap_source[0] == 0xFF)
        fail(m.path("encap_source"), format_ipv6(g.encap_source) + " is not a unicast address");
    m.with("service_sid_prefix", [&](const YAML::Node& v, const std::string& p) {
        const Ipv6Prefix pfx = read_prefix(v, p);
        // The low 32 bits of a service SID carry the CS-ID.
        if (pfx.len != 96)
            fail(p, "must be a /96 (the low 32 bits carry the CS-ID), got /" + std::to_string(pfx.len));
        g.service_sid_prefix = pfx;
    });
    m.with("encap_mode", [&](const YAML::Node& v, const std::string& p) {
        g.encap_mode = read_enum<EncapMode>(v, p, {{"encaps", EncapMode::Encaps}, {"encaps_red", EncapMode::EncapsRed}});
    });
    m.with("hop_limit", [&](const YAML::Node& v, const std::string& p) {
        g.hop_limit = read_int<std::uint8_t>(v, p, 1, 255);
    });
    m.with("flow_table_size", [&](const YAML::Node& v, const std::string& p) {
        g.flow_table_size = read_int<std::uint32_t>(v, p, 1024, 16777216);
    });
    m.with("max_services", [&](const YAML::Node& v, const std::string& p) {
        g.max_services = read_int<std::uint32_t>(v, p, 1, 1048576);
    });
    m.with("max_instances", [&](const YAML::Node& v, const std::string& p) {
        g.max_instances = read_int<std::uint32_t>(v, p, 1, 16777216);
    });
    m.with("non_cats", [&](const YAML::Node& v, const std::string& p) {
        g.non_cats = read_enum<NonCatsPolicy>(v, p, {{"forward", NonCatsPolicy::Forward}, {"drop", NonCatsPolicy::Drop}});
    });
    m.with("rss", [&](const YAML::Node& v, const std::string& p) {
        g.rss = read_enum<RssMode>(v, p, {{"l3", RssMode::L3}, {"l3l4", RssMode::L3L4}});
    });
    m.with("burst", [&](const YAML::Node& v, const std::string& p) {
        g.burst = read_int<std::uint32_t>(v, p, 1, 64);
    });
    m.with("icmp_rate", [&](const YAML::Node& v, const std::string& p) {
        g.icmp_rate = read_int<std::uint32_t>(v, p, 0, 1000000);
    });
    m.with("exception_rate", [&](const YAML::Node& v, const std::string& p) {
        g.exception_rate = read_int<std::uint32_t>(v, p, 0, 10000000);
    });
    m.with("sr_domain", [&](const YAML::Node& list, const std::string& lp) {
        if (list_size(list, lp) > kMaxSrDomainPrefixes)
            fail(lp, "at most " + std::to_string(kMaxSrDomainPrefixes) + " prefixes");
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            const Ipv6Prefix pfx = read_prefix(v, p);
            if (pfx.len == 0)
                fail(p, "::/0 would take every address into the domain");
            g.sr_domain.push_back(pfx);
        });
        // Clients reach services through the service SIDs: those must stay
        // outside the domain, or every CATS packet would be dropped.
        if (g.service_sid_prefix)
            for (std::size_t i = 0; i < g.sr_domain.size(); ++i) {
                const Ipv6Prefix& d = g.sr_domain[i];
                const std::uint8_t len = std::min(d.len, g.service_sid_prefix->len);
                if (network_of({d.addr, len}) == network_of({g.service_sid_prefix->addr, len}))
                    fail(item_path(lp, i), format_prefix(d) + " overlaps service_sid_prefix " +
                                               format_prefix(*g.service_sid_prefix) +
                                               ": clients' packets to service SIDs would be dropped");
            }
    });
    m.with("srh_hmac", [&](const YAML::Node& v, const std::string& p) { g.srh_hmac = parse_srh_hmac(v, p); });
    m.with("policy_table_size", [&](const YAML::Node& v, const std::string& p) {
        g.policy_table_size = read_int<std::uint32_t>(v, p, 0, 1u << 20);
    });
    m.with("kernel_routes", [&](const YAML::Node& v, const std::string& p) {
        g.kernel_routes = parse_kernel_routes(v, p);
    });
    return g;
}

// An interface address: addr/len with host bits (the address itself), a
// unicast address that is not link-local (the kernel makes those).
InterfaceAddress read_interface_address(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    const std::optional<Ipv6Prefix> p = parse_ipv6_prefix(s);
    if (!p || s.find('/') == std::string::npos)
        fail(path, "'" + s + "' is not an interface address (expected addr/len, e.g. 2001:db8:1::1/64)");
    if (p->len == 0)
        fail(path, s + ": the prefix length must be 1..128");
    if (p->addr == Ipv6Addr{} || p->addr[0] == 0xFF)
        fail(path, s + " is not a unicast address");
    if (p->addr[0] == 0xFE && (p->addr[1] & 0xC0) == 0x80)
        fail(path, s + " is link-local: the kernel interface makes its own (fe80::/64 from the MAC)");
    if (network_of(*p) == p->addr && p->len < 127)
        fail(path, s + " is the prefix itself, not an address in it");
    return *p;
}

std::string read_ifname(const YAML::Node& n, const std::string& path) {
    const std::string s = read_string(n, path);
    if (s.empty() || s.size() > kIfNameMax)
        fail(path, "'" + s + "': an interface name is 1.." + std::to_string(kIfNameMax) + " characters");
    for (const char ch : s)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_' || ch == '.'))
            fail(path, "'" + s + "': an interface name has only letters, digits, '-', '_' and '.'");
    return s;
}

PortConfig parse_port(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path,
                      {"name", "mtu", "rx_desc", "tx_desc", "mac", "addresses", "kernel_interface", "trusted"});
    PortConfig port;
    port.name = read_string(m.require("name"), m.path("name"));
    m.with("mtu", [&](const YAML::Node& v, const std::string& p) {
        // 1280: the IPv6 minimum link MTU (RFC 8200 section 5).
        port.mtu = read_int<std::uint16_t>(v, p, 1280, 9600);
    });
    m.with("rx_desc", [&](const YAML::Node& v, const std::string& p) { port.rx_desc = read_desc(v, p); });
    m.with("tx_desc", [&](const YAML::Node& v, const std::string& p) { port.tx_desc = read_desc(v, p); });
    m.with("mac", [&](const YAML::Node& v, const std::string& p) { port.mac = read_mac(v, p); });
    m.with("addresses", [&](const YAML::Node& list, const std::string& lp) {
        if (list_size(list, lp) > kMaxPortAddresses)
            fail(lp, "at most " + std::to_string(kMaxPortAddresses) + " addresses per port");
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            port.addresses.push_back(read_interface_address(v, p));
        });
    });
    m.with("kernel_interface", [&](const YAML::Node& v, const std::string& p) {
        port.kernel_interface = read_ifname(v, p);
    });
    m.with("trusted", [&](const YAML::Node& v, const std::string& p) {
        port.trusted = read_enum<bool>(v, p, {{"true", true}, {"false", false}});
    });
    return port;
}

NeighborConfig parse_neighbor(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"address", "mac", "port"});
    NeighborConfig nb;
    nb.address = read_ipv6(m.require("address"), m.path("address"));
    nb.mac = read_mac(m.require("mac"), m.path("mac"));
    nb.port = read_string(m.require("port"), m.path("port"));
    return nb;
}

RouteConfig parse_route(const YAML::Node& n, const std::string& path) {
    const MapReader m(n, path, {"prefix", "via"});
    RouteConfig r;
    r.prefix = read_prefix(m.require("prefix"), m.path("prefix"));
    r.via = read_ipv6(m.require("via"), m.path("via"));
    return r;
}

Config parse_config(const YAML::Node& root) {
    const MapReader m(root, "", {"gateway", "ports", "neighbors", "routes", "services", "local_sids"});
    Config c;
    c.gateway = parse_gateway(m.require("gateway"), m.path("gateway"));

    const YAML::Node& ports = m.require("ports");
    if (list_size(ports, "ports") == 0)
        fail("ports", "at least one port is required");
    std::map<std::string, std::string> port_names;  // name -> path of first use
    for_each_item(ports, "ports", [&](const YAML::Node& v, const std::string& p) {
        PortConfig port = parse_port(v, p);
        const auto [it, fresh] = port_names.emplace(port.name, p);
        if (!fresh)
            fail(child_path(p, "name"), "duplicate port name '" + port.name + "' (first at " + it->second + ")");
        c.ports.push_back(std::move(port));
    });
    std::map<Ipv6Addr, std::string> own_addrs;        // address -> path of first use
    std::map<std::string, std::string> kernel_names;  // kernel interface -> path
    for (std::size_t i = 0; i < c.ports.size(); ++i) {
        PortConfig& port = c.ports[i];
        const std::string pp = "ports[" + std::to_string(i) + "]";
        for (std::size_t k = 0; k < port.addresses.size(); ++k) {
            const std::string ap = pp + ".addresses[" + std::to_string(k) + "]";
            const auto [it, fresh] = own_addrs.emplace(port.addresses[k].addr, ap);
            if (!fresh)
                fail(ap, "duplicate address " + format_ipv6(port.addresses[k].addr) + " (first at " + it->second + ")");
        }
        if (port.kernel_interface.empty() && !port.addresses.empty())
            port.kernel_interface = "cats" + std::to_string(i);
        if (!port.kernel_interface.empty()) {
            const auto [it, fresh] = kernel_names.emplace(port.kernel_interface, pp + ".kernel_interface");
            if (!fresh)
                fail(pp + ".kernel_interface",
                     "duplicate kernel interface '" + port.kernel_interface + "' (first at " + it->second + ")");
        }
    }

    // Routes are mirrored from the kernel interfaces' table: there must be one.
    if (c.gateway.kernel_routes && kernel_names.empty())
        fail("gateway.kernel_routes", "no port has a kernel interface to learn routes on (give a port addresses)");

    // The outer source of what we encapsulate: replies (ICMPv6 errors about
    // the tunnel, return traffic) come back to it, so it must be the
    // gateway's own: one of the ports' addresses, or outside every port's
    // on-link prefix (a loopback address the network routes to the
    // gateway). Inside a link's prefix, any other address is another host's.
    if (!own_addrs.contains(c.gateway.encap_source)) {
        const int link = on_link_port(c.ports, c.gateway.encap_source);
        if (link >= 0)
            fail("gateway.encap_source",
                 format_ipv6(c.gateway.encap_source) + " is on the link of ports[" + std::to_string(link) +
                     "] but is not one of its addresses: use one of them, or a loopback address of the gateway "
                     "outside the ports' prefixes");
    }

    std::map<Ipv6Addr, std::string> neighbor_addrs;  // address -> path of first use
    m.with("neighbors", [&](const YAML::Node& list, const std::string& lp) {
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            NeighborConfig nb = parse_neighbor(v, p);
            const auto [it, fresh] = neighbor_addrs.emplace(nb.address, p);
            if (!fresh)
                fail(child_path(p, "address"),
                     "duplicate neighbor " + format_ipv6(nb.address) + " (first at " + it->second + ")");
            if (port_names.count(nb.port) == 0)
                fail(child_path(p, "port"), "'" + nb.port + "' is not in ports");
            c.neighbors.push_back(std::move(nb));
        });
    });

    std::map<std::pair<Ipv6Addr, std::uint8_t>, std::string> prefixes;  // prefix -> path of first use
    m.with("routes", [&](const YAML::Node& list, const std::string& lp) {
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            RouteConfig r = parse_route(v, p);
            // Two next hops for one prefix would leave the FIB's choice to
            // insertion order.
            const auto [it, fresh] = prefixes.emplace(std::pair{r.prefix.addr, r.prefix.len}, p);
            if (!fresh)
                fail(child_path(p, "prefix"),
                     "duplicate route " + format_prefix(r.prefix) + " (first at " + it->second + ")");
            if (own_addrs.count(r.via) != 0)
                fail(child_path(p, "via"), format_ipv6(r.via) + " is the gateway's own address");
            if (neighbor_addrs.count(r.via) == 0 && on_link_port(c.ports, r.via) < 0)
                fail(child_path(p, "via"), format_ipv6(r.via) +
                                               " is neither a static neighbor nor on-link on a port "
                                               "(ports[].addresses)");
            c.routes.push_back(r);
        });
    });

    m.with("services", [&](const YAML::Node& list, const std::string& lp) {
        // Counter slots are sized from the gateway's limits at start.
        c.services = read_services<ServiceConfig>(list, lp,
                                                  {.max_sids = kMaxSids,
                                                   .max_instances_per_service = kMaxInstancesPerService,
                                                   .max_weight = kMaxWeight,
                                                   .limits_owner = "gateway",
                                                   .max_services = c.gateway.max_services,
                                                   .max_instances = c.gateway.max_instances});
    });

    m.with("local_sids", [&](const YAML::Node& list, const std::string& lp) {
        if (list_size(list, lp) > kMaxLocalSids)
            fail(lp, "at most " + std::to_string(kMaxLocalSids) + " local SIDs");
        std::map<std::pair<Ipv6Addr, std::uint8_t>, std::string> seen;
        for_each_item(list, lp, [&](const YAML::Node& v, const std::string& p) {
            const MapReader ls(v, p, {"sid", "behavior", "next_hop"});
            LocalSidConfig sc;
            const std::string sp = ls.path("sid");
            const YAML::Node& sn = ls.require("sid");
            const std::string text = read_string(sn, sp);
            if (text.find('/') == std::string::npos)
                sc.sid = {read_ipv6(sn, sp), 128};
            else
                sc.sid = read_prefix(sn, sp);
            if (sc.sid.len < 16)
                fail(sp, "a SID is at least a /16 (a locator and a function), got /" + std::to_string(sc.sid.len));
            if (sc.sid.addr[0] == 0xFF || (sc.sid.addr[0] == 0xFE && (sc.sid.addr[1] & 0xC0) == 0x80))
                fail(sp, format_sid(sc.sid) + " is multicast or link-local: a SID is a global or unique-local address");
            const auto [it, fresh] = seen.emplace(std::pair{sc.sid.addr, sc.sid.len}, p);
            if (!fresh)
                fail(sp, "duplicate SID " + format_sid(sc.sid) + " (first at " + it->second + ")");
            if (own_addrs.contains(sc.sid.addr))
                fail(sp, format_sid(sc.sid) + " is one of the ports' addresses (" + own_addrs[sc.sid.addr] +
                             "): the kernel answers those; a SID is the dataplane's");
            const std::string bp = ls.path("behavior");
            const std::string bname = read_string(ls.require("behavior"), bp);
            const std::optional<SidBehavior> b = parse_sid_behavior(bname);
            if (!b)
                fail(bp, "'" + bname + "' is not a behavior (End, End.X, End.DX6, End.DT6; End.DX4 and End.DT4 "
                         "need IPv4 forwarding, which cats does not do)");
            sc.behavior = *b;
            ls.with("next_hop", [&](const YAML::Node& nv, const std::string& np) {
                if (!needs_next_hop(sc.behavior))
                    fail(np, std::string(sid_behavior_name(sc.behavior)) + " takes no next_hop (" +
                                 (sc.behavior == SidBehavior::End ? "End.X" : "End.DX6") + " does)");
                const Ipv6Addr nh = read_ipv6(nv, np);
                if (neighbor_addrs.count(nh) == 0 && on_link_port(c.ports, nh) < 0)
                    fail(np, format_ipv6(nh) + " is neither a static neighbor nor on-link on a port "
                                               "(ports[].addresses)");
                sc.next_hop = nh;
            });
            if (needs_next_hop(sc.behavior) && !sc.next_hop)
                fail(p, std::string(sid_behavior_name(sc.behavior)) + " needs next_hop");
            c.local_sids.push_back(sc);
        });
    });
    return c;
}

// `source` names the text in errors that are not about one YAML path.
Config load_from_text(const std::string& text, const std::string& source) {
    const YAML::Node doc = load_one_document(text, source);
    try {
        return parse_config(doc);
    } catch (const YAML::Exception& e) {
        // The readers above check every shape before use; this is a net so
        // that nothing but ConfigError ever leaves this file.
        throw ConfigError(source + ": " + e.what());
    }
}

}  // namespace

namespace {

constexpr std::array<std::string_view, 4> kBehaviorNames = {"End", "End.X", "End.DX6", "End.DT6"};

bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string_view sid_behavior_name(SidBehavior b) noexcept {
    return kBehaviorNames[static_cast<std::size_t>(b)];
}

std::optional<SidBehavior> parse_sid_behavior(std::string_view s) noexcept {
    for (std::size_t i = 0; i < kBehaviorNames.size(); ++i)
        if (iequal(s, kBehaviorNames[i]))
            return static_cast<SidBehavior>(i);
    return std::nullopt;
}

std::string format_sid(const Ipv6Prefix& p) {
    return p.len == 128 ? format_ipv6(p.addr) : format_ipv6(p.addr) + "/" + std::to_string(p.len);
}

// The prefix with every bit past `len` cleared.
Ipv6Addr network_of(const Ipv6Prefix& p) noexcept {
    Ipv6Addr out = p.addr;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::size_t first_bit = i * 8;
        if (first_bit >= p.len)
            out[i] = 0;
        else if (p.len - first_bit < 8)
            out[i] &= static_cast<std::uint8_t>(0xFF << (8 - (p.len - first_bit)));
    }
    return out;
}

int on_link_port(const std::vector<PortConfig>& ports, const Ipv6Addr& a) noexcept {
    int best = -1;
    int best_len = -1;
    for (std::size_t i = 0; i < ports.size(); ++i)
        for (const InterfaceAddress& ia : ports[i].addresses)
            if (ia.len > best_len && network_of(ia) == network_of({a, ia.len}) && a != ia.addr) {
                best = static_cast<int>(i);
                best_len = ia.len;
            }
    return best;
}

Config load_config_file(const std::string& path) {
    return load_from_text(read_config_file(path), path);
}

Config load_config_string(const std::string& yaml) {
    return load_from_text(yaml, "<string>");
}

}  // namespace cats::dp
