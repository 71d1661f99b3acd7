// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"
#include "neigh.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace cats::dp {

namespace {

constexpr std::uint64_t kRetryMs = 1000;  // how often an unresolved next hop is asked for again
// States in which the kernel has a MAC the workers may use (RFC 4861 7.3.2:
// STALE, DELAY and PROBE still send, while reachability is confirmed).
constexpr std::uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

std::optional<KernelRouteMsg> parse_route_message(const void* p) {
    const auto* nlh = static_cast<const nlmsghdr*>(p);
    if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
        nlh->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg)))
        return std::nullopt;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    if (rtm->rtm_family != AF_INET6 || rtm->rtm_dst_len > 128)
        return std::nullopt;
    KernelRouteMsg m;
    m.add = nlh->nlmsg_type == RTM_NEWROUTE;
    m.prefix.len = rtm->rtm_dst_len;
    m.source_specific = rtm->rtm_src_len != 0;
    m.table = rtm->rtm_table;
    m.type = rtm->rtm_type;
    m.protocol = rtm->rtm_protocol;
    // Every attribute whole, up to the end of the message (mnl_attr_parse
    // would stop quietly at one that runs past it).
    const nlattr* tb[RTA_MAX + 1] = {};
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(rtmsg)));
    int left = static_cast<int>(nlh->nlmsg_len) - static_cast<int>(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(rtmsg)));
    for (; mnl_attr_ok(attr, left); attr = mnl_attr_next(attr)) {
        left -= static_cast<int>(MNL_ALIGN(attr->nla_len));
        if (mnl_attr_get_type(attr) <= RTA_MAX)
            tb[mnl_attr_get_type(attr)] = attr;
    }
    if (left > 0)
        return std::nullopt;
    auto u32 = [&](int type, std::uint32_t& out) {
        if (tb[type] == nullptr)
            return true;
        if (mnl_attr_validate(tb[type], MNL_TYPE_U32) < 0)
            return false;
        out = mnl_attr_get_u32(tb[type]);
        return true;
    };
    if (tb[RTA_DST] != nullptr) {
        if (mnl_attr_get_payload_len(tb[RTA_DST]) != 16)
            return std::nullopt;
        std::memcpy(m.prefix.addr.data(), mnl_attr_get_payload(tb[RTA_DST]), 16);
    } else if (m.prefix.len != 0) {
        return std::nullopt;
    }
    m.prefix.addr = network_of(m.prefix);
    if (tb[RTA_GATEWAY] != nullptr) {
        if (mnl_attr_get_payload_len(tb[RTA_GATEWAY]) != 16)
            return std::nullopt;
        Ipv6Addr gw;
        std::memcpy(gw.data(), mnl_attr_get_payload(tb[RTA_GATEWAY]), 16);
        m.gateway = gw;
    }
    std::uint32_t oif = 0;
    if (!u32(RTA_TABLE, m.table) || !u32(RTA_PRIORITY, m.metric) || !u32(RTA_OIF, oif))
        return std::nullopt;
    m.oif = oif;
    m.multipath = tb[RTA_MULTIPATH] != nullptr;
    m.nexthop_object = tb[RTA_NH_ID] != nullptr;
    return m;
}

std::string route_protocol_name(std::uint8_t p) {
    switch (p) {
    case RTPROT_UNSPEC: return "unspec";
    case RTPROT_REDIRECT: return "redirect";
    case RTPROT_KERNEL: return "kernel";
    case RTPROT_BOOT: return "boot";
    case RTPROT_STATIC: return "static";
    case RTPROT_RA: return "ra";
    case RTPROT_ZEBRA: return "zebra";
    case RTPROT_BIRD: return "bird";
    case RTPROT_BGP: return "bgp";
    case RTPROT_ISIS: return "isis";
    case RTPROT_OSPF: return "ospf";
    case RTPROT_RIP: return "rip";
    default: return std::to_string(p);
    }
}

std::string nud_state_name(std::uint16_t s) {
    switch (s) {
    case 0: return "none";
    case NUD_INCOMPLETE: return "incomplete";
    case NUD_REACHABLE: return "reachable";
    case NUD_STALE: return "stale";
    case NUD_DELAY: return "delay";
    case NUD_PROBE: return "probe";
    case NUD_FAILED: return "failed";
    case NUD_NOARP: return "noarp";
    case NUD_PERMANENT: return "permanent";
    default: return "0x" + std::to_string(s);
    }
}

NeighborMirror::NeighborMirror(Fib& fib, std::vector<KernelLink> links, std::optional<KernelRoutesConfig> routes)
    : fib_(fib), links_(std::move(links)), entries_(fib.neighbor_capacity()), configured_(fib.neighbor_count()),
      routes_cfg_(routes) {
    events_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
    req_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (events_ == nullptr || req_ == nullptr)
        throw std::runtime_error("neighbor mirror: rtnetlink socket: " + errno_text(errno));
    const unsigned groups = (1u << (RTNLGRP_NEIGH - 1)) | (routes_cfg_ ? 1u << (RTNLGRP_IPV6_ROUTE - 1) : 0u);
    if (mnl_socket_bind(events_, groups, MNL_SOCKET_AUTOPID) < 0 ||
        mnl_socket_bind(req_, 0, MNL_SOCKET_AUTOPID) < 0)
        throw std::runtime_error("neighbor mirror: rtnetlink bind: " + errno_text(errno));
    // A burst of neighbor events must not overflow the socket between polls.
    const int rcvbuf = 1 << 20;
    setsockopt(mnl_socket_get_fd(events_), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    req_port_ = mnl_socket_get_portid(req_);
}

NeighborMirror::~NeighborMirror() {
    for (const auto& [l, a] : added_) {
        try {
            address(*l, a, false, false);
        } catch (const std::exception&) {
            // Gone with its interface, or removed by someone else.
        }
    }
    if (events_ != nullptr)
        mnl_socket_close(events_);
    if (req_ != nullptr)
        mnl_socket_close(req_);
}

const KernelLink* NeighborMirror::link_of_port(std::uint16_t port_id) const noexcept {
    for (const KernelLink& l : links_)
        if (l.port_id == port_id)
            return &l;
    return nullptr;
}

const KernelLink* NeighborMirror::link_of_ifindex(unsigned ifindex) const noexcept {
    for (const KernelLink& l : links_)
        if (l.ifindex == ifindex)
            return &l;
    return nullptr;
}

int NeighborMirror::request(void* buf, const std::string& what, bool ack, int tolerated) {
    auto* nlh = static_cast<nlmsghdr*>(buf);
    nlh->nlmsg_seq = seq_++;
    if (ack)
        nlh->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(req_, nlh, nlh->nlmsg_len) < 0)
        throw std::runtime_error(what + ": " + errno_text(errno));
    if (!ack)
        return 0;
    char rbuf[MNL_SOCKET_BUFFER_SIZE];
    const ssize_t n = mnl_socket_recvfrom(req_, rbuf, sizeof rbuf);
    if (n < 0 || mnl_cb_run(rbuf, static_cast<std::size_t>(n), nlh->nlmsg_seq, req_port_, nullptr, nullptr) < 0) {
        const int e = errno;
        if (tolerated != 0 && e == tolerated)
            return e;
        throw std::runtime_error(what + ": " + errno_text(e));
    }
    return 0;
}

void NeighborMirror::address(const KernelLink& l, const InterfaceAddress& a, bool add, bool exclusive) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | (exclusive ? NLM_F_EXCL : NLM_F_REPLACE) : 0);
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET6;
    ifa->ifa_prefixlen = a.len;
    ifa->ifa_flags = IFA_F_NODAD;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = l.ifindex;
    mnl_attr_put(nlh, IFA_LOCAL, 16, a.addr.data());
    mnl_attr_put(nlh, IFA_ADDRESS, 16, a.addr.data());
    mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
    const std::string what = l.ifname + ": address " + format_ipv6(a.addr) + "/" + std::to_string(a.len);
    if (request(nlh, what, true, exclusive ? EEXIST : 0) == 0 && add && exclusive)
        added_.emplace_back(&l, a);
}

void NeighborMirror::start() {
    for (const KernelLink& l : links_) {
        // Answer NS as a router and ignore RAs: the kernel interface is the
        // gateway's, not a host's. (Per interface this is the host/router
        // behaviour only; the kernel forwards nothing unless
        // net.ipv6.conf.all.forwarding is set, so transit the XDP program
        // passes to a kernel-owned NIC is not routed behind cats's back.)
        const std::string knob = "/proc/sys/net/ipv6/conf/" + l.ifname + "/forwarding";
        std::ofstream(knob) << "1\n";
        // A TAP is ours: its addresses are set. A kernel-owned NIC may have
        // them already (the operator's): those are left as they are, and
        // only what we add is removed on exit.
        for (const InterfaceAddress& a : l.addresses)
            address(l, a, true, !l.tap);
    }
    dump_neighbors(0);
    if (routes_cfg_) {
        // Without the compat mode, a route using a nexthop object (FRR's
        // default where the kernel has them) carries only its id.
        std::ifstream compat("/proc/sys/net/ipv4/nexthop_compat_mode");
        int mode = 1;
        if (compat >> mode && mode == 0)
            cats::logf(cats::LogLevel::Warn, "kernel_routes: net.ipv4.nexthop_compat_mode is 0: routes that use "
                       "nexthop objects (FRR) are not mirrored; set it to 1");
        dump_routes();
        if (new_neighbors_) {
            new_neighbors_ = false;
            dump_neighbors(0);
        }
    }
}

// The kernel answers a failed fire-and-forget request with an error message
// on req_: read them away so that a later synchronous request or dump reads
// its own answer.
void NeighborMirror::drain_requests() {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    while (recv(mnl_socket_get_fd(req_), buf, sizeof buf, MSG_DONTWAIT) > 0)
        ++request_errors_;
}

template <class F>
void NeighborMirror::dump(std::uint16_t type, std::size_t header_size, F&& f) {
    drain_requests();
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq_++;
    // ndmsg and rtmsg both start with the family byte.
    auto* family = static_cast<std::uint8_t*>(mnl_nlmsg_put_extra_header(nlh, header_size));
    *family = AF_INET6;
    const std::string what = type == RTM_GETROUTE ? "route dump" : "neighbor dump";
    if (mnl_socket_sendto(req_, nlh, nlh->nlmsg_len) < 0)
        throw std::runtime_error(what + ": " + errno_text(errno));
    const std::uint32_t seq = nlh->nlmsg_seq;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(req_, buf, sizeof buf);
        if (n <= 0)
            throw std::runtime_error(what + ": " + errno_text(errno));
        const int rc = mnl_cb_run(buf, static_cast<std::size_t>(n), seq, req_port_,
                                  [](const nlmsghdr* h, void* data) {
                                      (*static_cast<F*>(data))(h);
                                      return MNL_CB_OK;
                                  },
                                  &f);
        if (rc == MNL_CB_ERROR)
            throw std::runtime_error(what + ": " + errno_text(errno));
        if (rc == MNL_CB_STOP)
            break;
    }
}

void NeighborMirror::dump_neighbors(std::uint64_t now_ms) {
    dump(RTM_GETNEIGH, sizeof(ndmsg), [this, now_ms](const nlmsghdr* h) { handle(h, now_ms); });
}

// The kernel's table again, from scratch: at start, after lost events, and
// when an event alone cannot say what the table became (multipath).
void NeighborMirror::dump_routes() {
    std::map<Key, Hops> fresh;
    const bool count = !routes_dumped_;
    dump(RTM_GETROUTE, sizeof(rtmsg), [&](const nlmsghdr* h) {
        const std::optional<KernelRouteMsg> m = parse_route_message(h);
        if (!m || !m->add || m->table != routes_cfg_->table)
            return;
        if (const std::optional<Hop> hop = usable(*m, count))
            fresh[Key{m->prefix.addr, m->prefix.len}][m->metric] = *hop;
    });
    routes_dumped_ = true;
    resync_routes_ = false;
    for (const auto& [k, r] : kroutes_)
        fresh.try_emplace(k);
    for (auto& [k, hops] : fresh) {
        kroutes_[k].hops = std::move(hops);
        apply_route(k);
    }
    retry_pending();
}

// Routes left out for want of room get it when others go.
void NeighborMirror::retry_pending() {
    if (!freed_)
        return;
    freed_ = false;
    for (auto& [k, r] : kroutes_)
        if (r.state == "routes_full" || r.state == "next_hops_full" || r.state == "failed")
            apply_route(k);
}

std::optional<NeighborMirror::Hop> NeighborMirror::usable(const KernelRouteMsg& m, bool count) {
    const char* why = nullptr;
    bool keep = false;  // an unusable route that still decides the prefix (lowest metric wins)
    const KernelLink* link = link_of_ifindex(m.oif);
    if (m.source_specific) {
        why = "source_specific";      // RTA_SRC: the FIB routes by destination only
    } else if (m.type == RTN_BLACKHOLE || m.type == RTN_UNREACHABLE || m.type == RTN_PROHIBIT ||
               m.type == RTN_THROW) {
        why = "not_unicast";
        keep = true;
    } else if (m.type != RTN_UNICAST) {
        why = "not_unicast";          // local, anycast, multicast: not a route to forward by
    } else if (m.multipath) {
        why = "multipath";
    } else if (m.nexthop_object && !m.gateway && m.oif == 0) {
        why = "nexthop_object";       // nexthop_compat_mode 0
    } else if (link == nullptr) {
        why = "other_interface";
    } else if (!m.gateway) {
        why = "on_link";              // connected prefixes: no next hop to resolve
        keep = true;
    }
    if (why != nullptr && count)
        ++route_skips_[why];
    if (why != nullptr && !keep)
        return std::nullopt;
    Hop h;
    if (why == nullptr) {
        h.via = *m.gateway;
        h.port_id = link->port_id;
    } else {
        h.unusable = why;
    }
    h.protocol = m.protocol;
    return h;
}

bool NeighborMirror::handle_route(const nlmsghdr* nlh) {
    const std::optional<KernelRouteMsg> m = parse_route_message(nlh);
    if (!m) {
        ++route_skips_["malformed"];
        return false;
    }
    if (m->table != routes_cfg_->table)
        return false;
    ++route_events_;
    const Key key{m->prefix.addr, m->prefix.len};
    const auto it = kroutes_.find(key);
    if (m->multipath) {
        // An appended or removed sibling: what remains is in the table.
        ++route_skips_["multipath"];
        resync_routes_ = true;
        return false;
    }
    if (!m->add) {
        const auto h = it == kroutes_.end() ? Hops::iterator{} : it->second.hops.find(m->metric);
        if (it == kroutes_.end() || h == it->second.hops.end() || (m->gateway && h->second.unusable.empty() &&
                                                                  *m->gateway != h->second.via)) {
            // Not a route we hold: a sibling of a multipath route (whose
            // survivor the kernel does not announce), or one we skipped.
            if (!m->source_specific && link_of_ifindex(m->oif) != nullptr)
                resync_routes_ = true;
            return false;
        }
        it->second.hops.erase(h);
        const bool changed = apply_route(key);
        retry_pending();
        return changed;
    }
    const std::optional<Hop> hop = usable(*m, true);
    if (!hop) {
        // A route that replaced ours with one we do not mirror.
        if (it == kroutes_.end() || it->second.hops.erase(m->metric) == 0)
            return false;
        const bool changed = apply_route(key);
        retry_pending();
        return changed;
    }
    kroutes_[key].hops[m->metric] = *hop;
    const bool changed = apply_route(key);
    retry_pending();
    return changed;
}

bool NeighborMirror::apply_route(const Key& key) {
    const auto it = kroutes_.find(key);
    if (it == kroutes_.end())
        return false;
    Route& r = it->second;
    const Ipv6Prefix prefix{key.first, key.second};
    int nbr = -1;
    if (r.hops.empty()) {
        r.state.clear();
    } else if (const Hop& best = r.hops.begin()->second; !best.unusable.empty()) {
        // The kernel routes this prefix by a route we cannot take (the
        // lowest metric wins): not ours to forward by a worse one.
        r.state = best.unusable;
    } else if (const Fib::KernelRoute room = fib_.kernel_route_room(prefix); room != Fib::KernelRoute::Installed) {
        // No next hop taken for a route that cannot go in.
        r.state = room == Fib::KernelRoute::Shadowed ? "shadowed" : "routes_full";
    } else {
        const std::size_t before = fib_.neighbor_count();
        nbr = fib_.add_neighbor(best.via, best.port_id);
        new_neighbors_ |= fib_.neighbor_count() != before;
        if (nbr < 0) {
            r.state = "next_hops_full";
        } else {
            switch (fib_.set_kernel_route(prefix, static_cast<std::size_t>(nbr))) {
            case Fib::KernelRoute::Installed: r.state = "installed"; break;
            case Fib::KernelRoute::Shadowed: r.state = "shadowed"; nbr = -1; break;
            case Fib::KernelRoute::Full: r.state = "routes_full"; nbr = -1; break;
            case Fib::KernelRoute::Failed: r.state = "failed"; nbr = -1; break;
            }
        }
    }
    if (nbr < 0)
        fib_.delete_kernel_route(prefix);
    const bool changed = nbr != r.nbr;
    if (changed) {
        if (nbr >= 0)
            ++entries_[static_cast<std::size_t>(nbr)].routes;
        if (r.nbr >= 0) {
            --entries_[static_cast<std::size_t>(r.nbr)].routes;
            freed_ |= nbr < 0;  // a FIB route went: room for a pending one
        }
    }
    r.nbr = nbr;
    if (r.hops.empty())
        kroutes_.erase(it);
    return changed;
}

// One RTM_NEWNEIGH / RTM_DELNEIGH from the kernel. True when a worker-visible
// word changed.
bool NeighborMirror::handle(const void* p, std::uint64_t now_ms) {
    const auto* nlh = static_cast<const nlmsghdr*>(p);
    if (routes_cfg_ && (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE))
        return handle_route(nlh);
    if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
        nlh->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg)))
        return false;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ndm->ndm_family != AF_INET6)
        return false;
    const KernelLink* link = link_of_ifindex(static_cast<unsigned>(ndm->ndm_ifindex));
    if (link == nullptr)
        return false;
    const nlattr* tb[NDA_MAX + 1] = {};
    mnl_attr_parse(nlh, sizeof(ndmsg),
                   [](const nlattr* attr, void* data) {
                       const unsigned type = mnl_attr_get_type(attr);
                       if (type <= NDA_MAX)
                           static_cast<const nlattr**>(data)[type] = attr;
                       return MNL_CB_OK;
                   },
                   tb);
    const nlattr* dst = tb[NDA_DST] && mnl_attr_get_payload_len(tb[NDA_DST]) == 16 ? tb[NDA_DST] : nullptr;
    const nlattr* lladdr = tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6 ? tb[NDA_LLADDR] : nullptr;
    const std::uint32_t probes =
        tb[NDA_PROBES] && mnl_attr_validate(tb[NDA_PROBES], MNL_TYPE_U32) == 0 ? mnl_attr_get_u32(tb[NDA_PROBES]) : 0;
    if (dst == nullptr)
        return false;
    Ipv6Addr addr;
    std::memcpy(addr.data(), mnl_attr_get_payload(dst), 16);
    bool changed = false;
    for (std::size_t i = 0; i < fib_.neighbor_count(); ++i) {
        const Neighbor& n = fib_.neighbor(i);
        if (!n.dynamic || n.address != addr || n.port_id != link->port_id)
            continue;
        Entry& e = entries_[i];
        const std::uint16_t nud = nlh->nlmsg_type == RTM_DELNEIGH ? 0 : ndm->ndm_state;
        if (nud != e.nud || !e.seen)
            e.changed_ms = now_ms;
        e.nud = nud;
        e.seen = nlh->nlmsg_type == RTM_NEWNEIGH;
        e.probes = probes;
        if ((nud & kUsable) && lladdr != nullptr) {
            std::memcpy(e.mac.data(), mnl_attr_get_payload(lladdr), 6);
            changed |= fib_.set_mac(i, e.mac);
        } else if (nud == NUD_FAILED) {
            changed |= fib_.set_failed(i);
        } else if (!fib_.failed(i)) {
            // INCOMPLETE, gone: unresolved - unless it failed before, which
            // stands until a MAC is learned (no flapping while retrying).
            changed |= fib_.set_unresolved(i);
        }
    }
    return changed;
}

void NeighborMirror::request_resolution(std::size_t i, std::uint64_t now_ms) {
    const Neighbor& n = fib_.neighbor(i);
    const KernelLink* link = link_of_port(n.port_id);
    if (link == nullptr)
        return;
    entries_[i].asked_ms = now_ms;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
    nlh->nlmsg_seq = seq_++;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET6;
    ndm->ndm_ifindex = static_cast<int>(link->ifindex);
    ndm->ndm_state = NUD_NONE;
    // NTF_USE: the kernel starts (or re-confirms) resolution as for its own
    // traffic, with its timers and probes; no state is forced.
    ndm->ndm_flags = NTF_USE;
    mnl_attr_put(nlh, NDA_DST, 16, n.address.data());
    // Fire and forget: the result arrives as a neighbor event. A refusal
    // (interface gone) shows as an entry that never resolves.
    if (mnl_socket_sendto(req_, nlh, nlh->nlmsg_len) >= 0)
        ++requests_;
}

bool NeighborMirror::poll(std::uint64_t now_ms) {
    bool changed = false;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    bool lost = false;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(events_, buf, sizeof buf);
        if (n < 0) {
            if (errno == ENOBUFS) {
                lost = true;
                continue;
            }
            break;  // EAGAIN: nothing more
        }
        // Once events were lost, those still queued are older than the lost
        // ones: applied after them they would undo them. The dumps below
        // replace them all.
        if (lost)
            continue;
        int len = static_cast<int>(n);
        for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(h, len);
             h = mnl_nlmsg_next(h, &len))
            changed |= handle(h, now_ms);
    }
    if (lost) {
        dump_neighbors(now_ms);
        if (routes_cfg_)
            resync_routes_ = true;
        changed = true;
    }
    if (resync_routes_) {
        dump_routes();
        changed = true;
    }
    // A next hop new to the FIB may be in the kernel's table already
    // (REACHABLE, PERMANENT): asking it to resolve sends no event then.
    if (new_neighbors_) {
        new_neighbors_ = false;
        dump_neighbors(now_ms);
        changed = true;
    }
    drain_requests();
    for (std::size_t i = 0; i < fib_.neighbor_count(); ++i) {
        // A next hop of kernel routes only while a route uses it.
        if (!fib_.neighbor(i).dynamic || (i >= configured_ && entries_[i].routes == 0))
            continue;
        const Entry& e = entries_[i];
        const bool wanted = fib_.take_wanted(i);
        const bool settled = (e.nud & (NUD_REACHABLE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)) != 0;
        if ((wanted && !settled && e.nud != NUD_INCOMPLETE) || (!settled && now_ms - e.asked_ms >= kRetryMs))
            request_resolution(i, now_ms);
    }
    return changed;
}

nlohmann::json NeighborMirror::list(std::uint64_t now_ms) const {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < fib_.neighbor_count(); ++i) {
        const Neighbor& n = fib_.neighbor(i);
        const KernelLink* link = link_of_port(n.port_id);
        nlohmann::json j = {{"address", format_ipv6(n.address)}, {"port", link ? link->port_name : ""},
                            {"port_id", n.port_id}};
        if (!n.dynamic) {
            j["state"] = "static";
            j["mac"] = format_mac(n.mac);
            j["age_s"] = nullptr;
            j["probes"] = 0;
        } else {
            const Entry& e = entries_[i];
            const std::optional<MacAddr> mac = fib_.resolved_mac(i);
            j["state"] = e.seen ? nud_state_name(e.nud) : std::string(fib_.failed(i) ? "failed" : "none");
            j["mac"] = mac ? format_mac(*mac) : "";
            j["age_s"] = static_cast<double>(now_ms - e.changed_ms) / 1000.0;
            j["probes"] = e.probes;
            j["usable"] = mac.has_value();
        }
        j["interface"] = link ? link->ifname : "";
        j["source"] = i < configured_ ? "config" : "kernel_route";
        if (i >= configured_)
            j["routes"] = entries_[i].routes;
        out.push_back(std::move(j));
    }
    return out;
}

nlohmann::json NeighborMirror::routes_json() const {
    if (!routes_cfg_)
        return nullptr;
    nlohmann::json list = nlohmann::json::array();
    std::uint64_t installed = 0;
    for (const auto& [k, r] : kroutes_) {
        installed += r.state == "installed";
        if (list.size() == kRouteListMax)
            continue;
        const Hop& best = r.hops.begin()->second;
        const KernelLink* link = best.unusable.empty() ? link_of_port(best.port_id) : nullptr;
        list.push_back({{"prefix", format_ipv6(k.first) + "/" + std::to_string(k.second)},
                        {"via", best.unusable.empty() ? format_ipv6(best.via) : ""},
                        {"interface", link ? link->ifname : ""},
                        {"port", link ? link->port_name : ""},
                        {"metric", r.hops.begin()->first},
                        {"protocol", route_protocol_name(best.protocol)},
                        {"state", r.state}});
    }
    const bool truncated = kroutes_.size() > list.size();
    return {{"table", routes_cfg_->table},
            {"max_routes", routes_cfg_->max_routes},
            {"max_next_hops", routes_cfg_->max_next_hops},
            {"routes_installed", installed},
            {"routes_known", kroutes_.size()},
            {"events", route_events_},
            {"skipped", route_skips_},
            {"routes", std::move(list)},
            {"truncated", truncated}};
}

}  // namespace cats::dp
