// SPDX-License-Identifier: BSD-3-Clause
#include "worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include "endpoint.hpp"

namespace cats::dp {

namespace {

constexpr unsigned kPrefetchAhead = 4;

// The flow key of a parsed packet, stored in `k`; returns its hash. The key
// is built as five 8-byte words in registers, stored once and hashed from
// the registers. No load here spans two of the parser's stores
// (ports_word()), and nothing is stored to be read back wider: either would
// stall on the store buffer for every packet.
std::uint32_t make_key(const PacketInfo& pi, FlowKey& k) noexcept {
    static_assert(std::endian::native == std::endian::little);
    static_assert(offsetof(FlowKey, sport) == 32 && offsetof(FlowKey, dport) == 34 &&
                  offsetof(FlowKey, proto) == 36 && offsetof(FlowKey, kind) == 37);
    std::uint64_t w0, w1, w2, w3, w4;
    if (pi.meta_source != MetaSource::None && pi.meta.has_affinity_key) {
        // src = AFFINITY_KEY and CS-ID, both big-endian; the rest zero.
        w0 = __builtin_bswap64(pi.meta.affinity_key);
        w1 = __builtin_bswap32(pi.meta.cs_id);
        w2 = w3 = 0;
        w4 = std::uint64_t{static_cast<std::uint8_t>(FlowKind::Affinity)} << 40;
    } else {
        std::memcpy(&w0, pi.src, 8);
        std::memcpy(&w1, pi.src + 8, 8);
        std::memcpy(&w2, pi.dst, 8);
        std::memcpy(&w3, pi.dst + 8, 8);
        // Keeps these four 8-byte loads: the compiler would merge them into
        // two 16-byte loads, and the parser may have stored an address as
        // two 8-byte halves.
        asm("" : "+r"(w0), "+r"(w1), "+r"(w2), "+r"(w3));
        std::uint32_t ports;
        std::uint8_t proto;
        FlowKind kind;
        if (pi.non_initial_fragment) {
            kind = FlowKind::Fragment;
            proto = kProtoFragment;
            ports = (pi.frag_id >> 16) | (pi.frag_id << 16);  // sport = high half
        } else {
            kind = FlowKind::FiveTuple;
            proto = pi.l4_proto;
            ports = pi.has_spi ? (pi.spi >> 16) | (pi.spi << 16) : ports_word(pi);
        }
        w4 = ports | (std::uint64_t{proto} << 32) | (std::uint64_t{static_cast<std::uint8_t>(kind)} << 40);
    }
    auto* p = reinterpret_cast<std::uint8_t*>(&k);
    std::memcpy(p, &w0, 8);
    std::memcpy(p + 8, &w1, 8);
    std::memcpy(p + 16, &w2, 8);
    std::memcpy(p + 24, &w3, 8);
    std::memcpy(p + 32, &w4, 8);
    return FlowTable::hash_words(w0, w1, w2, w3, w4);
}

// rte_prefetch0_write() without its experimental-API tag: the same builtin.
inline void prefetch_write(const void* p) noexcept { __builtin_prefetch(p, 1, 3); }

// H.Encaps writes its outer headers in front of the inner IPv6 header,
// which follows at least an untagged Ethernet header: into one line of
// headroom, or two for an outer header of more than 78 bytes (two SIDs or
// more). In a NIC's receive path those lines are cold: the mbuf went round
// the descriptor ring since its last use.
inline bool encap_needs_two_lines(const Snapshot& snap) noexcept {
    return snap.max_encap_len > kEthHdrLen + RTE_CACHE_LINE_SIZE;
}

inline void prefetch_packet(rte_mbuf* m, bool two_lines) noexcept {
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    rte_prefetch0(p);
    prefetch_write(p - RTE_CACHE_LINE_SIZE);
    if (two_lines)
        prefetch_write(p - 2 * RTE_CACHE_LINE_SIZE);
}

constexpr unsigned kChooseAhead = 2;
constexpr unsigned kSeedAhead = 4;

// A new flow's selection reads the first line of each of its service's
// instances (seed, weight); with many services they are not in cache. At
// most the first kSelectionPrefetchMax: a service of hundreds of instances
// would flood the line fill buffers four new flows ahead.
constexpr std::size_t kSelectionPrefetchMax = 32;

inline void prefetch_selection(const Service& svc) noexcept {
    const std::size_t n = std::min(svc.instances.size(), kSelectionPrefetchMax);
    for (std::size_t k = 0; k < n; ++k)
        rte_prefetch0(&svc.instances[k]);
}

// Lines [first, 3) of an instance: what steering a packet to it reads (its
// first line has the pin checks' fields, the next two the encapsulation).
inline void prefetch_instance(const Instance& in, unsigned first) noexcept {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&in);
    for (unsigned l = first; l < 3; ++l)
        rte_prefetch0(p + l * RTE_CACHE_LINE_SIZE);
}

const Instance* find_instance(const Service& svc, const FlowEntry& fe) noexcept {
    if (fe.index_hint < svc.instances.size() && svc.instances[fe.index_hint].id == fe.instance_id)
        return &svc.instances[fe.index_hint];
    for (const Instance& in : svc.instances)
        if (in.id == fe.instance_id)
            return &in;
    return nullptr;
}

inline std::uint8_t traffic_class(const std::uint8_t* ip) noexcept {
    return static_cast<std::uint8_t>(((ip[0] & 0x0F) << 4) | (ip[1] >> 4));
}

// H.Encaps towards `in`. Checks everything before touching the mbuf.
DropReason encapsulate(const Engine& e, rte_mbuf* m, const PacketInfo& pi, const Instance& in,
                       std::uint32_t sig) noexcept {
    const std::size_t outer_len = std::size_t{pi.ip6_len} + in.encap.ip_len;
    if (outer_len > e.port_mtu[in.port_id] || outer_len > 0xFFFF) [[unlikely]]
        return DropReason::TooBig;
    if (std::size_t{rte_pktmbuf_headroom(m)} + pi.ip6_off < in.encap.len) [[unlikely]]
        return DropReason::NoHeadroom;
    const std::uint8_t tc = traffic_class(rte_pktmbuf_mtod_offset(m, const std::uint8_t*, pi.ip6_off));
    // One segment (checked at parse): the old L2 header and any trailer go,
    // the outer headers come in front of the inner IPv6 packet. What
    // rte_pktmbuf_adj(), _trim() and _prepend() would do, without their
    // checks, all made above.
    const auto data_off = static_cast<std::uint16_t>(m->data_off + pi.ip6_off - in.encap.len);
    const auto len = static_cast<std::uint16_t>(pi.ip6_len + in.encap.len);
    m->data_off = data_off;
    m->data_len = len;
    m->pkt_len = len;
    write_encap(static_cast<std::uint8_t*>(m->buf_addr) + data_off, in.encap, pi.ip6_len, tc,
                flow_label_from_hash(mix64(sig)));
    m->port = in.port_id;
    return DropReason::None;
}

// Plain IPv6 forwarding to a FIB neighbor: new Ethernet header, hop limit - 1.
// `out` is the output port, or kVerdictPunt (for the gateway itself: to the
// receiving port's kernel interface, untouched), or kVerdictHold (rewritten
// but for the destination MAC: the next hop is being resolved).
DropReason forward(const Engine& e, rte_mbuf* m, const PacketInfo& pi, std::uint64_t nh,
                   std::uint16_t& out) noexcept {
    if (nh == Fib::kPunt) {
        // Before the hop limit check: NDP and MLD arrive with 255 and 1.
        if (m->port >= kMaxPorts || e.punt_ring[m->port] == nullptr) [[unlikely]]
            return DropReason::HostNoKernel;
        out = kVerdictPunt;
        return DropReason::None;
    }
    if (nh == Fib::kNoRoute) [[unlikely]]
        return DropReason::NoRoute;
    if (pi.hop_limit <= 1) [[unlikely]]
        return DropReason::HopLimitExceeded;
    const Neighbor& nbr = e.fib->neighbor(nh - 1);
    if (pi.ip6_len > e.port_mtu[nbr.port_id]) [[unlikely]]
        return DropReason::TooBig;
    const std::uint64_t word = e.fib->mac_word(nh - 1);
    if (!(word & kMacValid)) [[unlikely]] {
        if (word & kMacFailed)
            return DropReason::NeighborFailed;
        e.fib->want(nh - 1);
        if (e.held_ring == nullptr)
            return DropReason::NeighborIncomplete;
        out = kVerdictHold;
        m->hash.usr = static_cast<std::uint32_t>(nh - 1);
    } else {
        out = nbr.port_id;
    }
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(pi.ip6_off - kEthHdrLen));
    if (m->data_len > pi.ip6_len + kEthHdrLen)
        rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - pi.ip6_len - kEthHdrLen));
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    write_mac(p, word);
    std::memcpy(p + 6, e.port_mac[nbr.port_id].data(), 6);
    wire::store_be16(p + 12, kEtherTypeIpv6);
    p[kEthHdrLen + 7] = static_cast<std::uint8_t>(pi.hop_limit - 1);
    m->port = nbr.port_id;
    return DropReason::None;
}

// The Parameter Problem code for a local SID's drop (RFC 8986 4), or -1.
constexpr int param_problem_code(DropReason r) noexcept {
    switch (r) {
    case DropReason::SidUpperLayer: return kParamSrUpperLayer;
    case DropReason::SidSegmentsLeft:
    case DropReason::SrhBadSegmentsLeft:
    case DropReason::SrhBadLastEntry: return kParamErroneousField;
    default: return -1;
    }
}

// A packet dropped for `r` (and counted by the caller): for too_big,
// hop_limit_exceeded and a local SID's Parameter Problem an ICMPv6 error
// goes back out of the port it came in on instead, when RFC 4443 2.4 and
// the rate limit allow. `param`: what fits, for Packet Too Big; the
// pointer, for Parameter Problem (the caller knows a local SID's drop).
void reply_icmp6(Worker& w, const Engine& e, rte_mbuf* m, const PacketInfo& pi, DropReason r, std::uint32_t param,
                 std::uint32_t now_ms, std::uint16_t& out_port, bool local_sid = false) noexcept {
    const bool too_big = r == DropReason::TooBig;
    const int code = local_sid ? param_problem_code(r) : -1;
    if (!too_big && r != DropReason::HopLimitExceeded && code < 0)
        return;
    // The token only for an error that can be made.
    if (m->port < kMaxPorts && icmp6_error_possible(m, pi) && w.icmp.take(now_ms)) {
        const MacAddr& mac = e.port_mac[m->port];
        if (too_big) {
            make_packet_too_big(m, pi, param, e.icmp_source, mac);
            w.ctr->icmp_too_big.add();
        } else if (code >= 0) {
            make_param_problem(m, pi, static_cast<std::uint8_t>(code), param, e.icmp_source, mac);
            w.ctr->icmp_param_problem.add();
        } else {
            make_time_exceeded(m, pi, e.icmp_source, mac);
            w.ctr->icmp_time_exceeded.add();
        }
        out_port = m->port;
    } else {
        w.ctr->icmp_limited.add();
    }
}

// A packet the parser dropped for `r`, addressed to a local SID: counted
// for the SID too, and an SRH whose layout RFC 8986 4.1 S08-S10 rejects
// gets its Parameter Problem (pointer: Segments Left). The general parser
// left `pi` filled up to the error: the addresses once the IPv6 header is
// there (from ipv6_bad_payload_len on), srh_off relative to the IPv6 header.
void local_sid_parse_drop(Worker& w, const Engine& e, const SidSnapshot& sids, rte_mbuf* m, const PacketInfo& pi,
                          DropReason r, std::uint32_t now_ms, std::uint16_t& out_port) noexcept {
    if (pi.ip6_len == 0 && r != DropReason::Ipv6BadPayloadLen)
        return;
    const LocalSid* ls = sids.find(pi.dst);
    if (ls == nullptr)
        return;
    w.ctr->sids[ls->slot].drops[static_cast<std::size_t>(r)].add();
    if (param_problem_code(r) >= 0 && pi.srh_off != 0)
        reply_icmp6(w, e, m, pi, r, std::uint32_t{pi.srh_off} + 3, now_ms, out_port, true);
}

// A packet a local SID's behaviour handed to forward(), which said `r`:
// counted for the SID, and per policy when it goes on (then true).
bool local_sid_done(Worker& w, const Engine& e, rte_mbuf* m, const PacketInfo& pi, unsigned i, DropReason r,
                    std::uint64_t nh, std::uint32_t now_ms, std::uint16_t& out_port) noexcept {
    BurstScratch& b = *w.scratch;
    WorkerCounters& c = *w.ctr;
    const LocalSid& ls = *b.sid[i];
    if (r != DropReason::None) [[unlikely]] {
        c.sid_drop(ls.slot, r);
        const std::uint32_t mtu = r == DropReason::TooBig ? e.port_mtu[e.fib->neighbor(nh - 1).port_id] : 0;
        reply_icmp6(w, e, m, pi, r, mtu, now_ms, out_port);
        return false;
    }
    SidCounters& sc = c.sids[ls.slot];
    sc.packets.add();
    sc.bytes.add(b.rx_len[i]);
    if (w.policies)
        w.policies->count(b.outer_src[i], ls.sid.data(), ls.len, b.policy_bytes[i]);
    return true;
}

}  // namespace

void process_burst(Worker& w, const Engine& e, const Snapshot& snap, rte_mbuf** pkts,
                   std::uint16_t n, std::uint32_t now_ms, std::uint16_t* out_port) noexcept {
    BurstScratch& b = *w.scratch;
    WorkerCounters& c = *w.ctr;
    unsigned n_flow = 0, n_fwd = 0, n_miss = 0, n_local = 0, n_endpoint = 0;
    std::uint64_t n_hits = 0;
    std::uint64_t n_by_source[kMetaSources] = {};
    // Loaded once: the counter stores below would make the compiler reload
    // the unique_ptrs for every packet.
    PacketCounters* const svc_ctr = c.services.get();
    PacketCounters* const inst_ctr = c.instances.get();
    // The local SIDs, when there are any: loaded once a burst, as `snap`.
    const SidSnapshot* const sids =
        e.local_sids != nullptr && !e.local_sids->current()->empty() ? e.local_sids->current() : nullptr;

    // 1. Parse every packet; sort into flow lookups and FIB lookups. The
    //    packet's first line is prefetched for reading; the headroom in
    //    front of it, where H.Encaps writes its outer headers, for writing.
    const bool two_lines = encap_needs_two_lines(snap);
    for (unsigned i = 0; i < kPrefetchAhead && i < n; ++i)
        prefetch_packet(pkts[i], two_lines);
    for (unsigned i = 0; i < n; ++i) {
        if (i + kPrefetchAhead < n)
            prefetch_packet(pkts[i + kPrefetchAhead], two_lines);
        rte_mbuf* m = pkts[i];
        PacketInfo& pi = b.info[i];
        out_port[i] = kVerdictDrop;
        b.path[i] = Path::Drop;
        if (m->nb_segs != 1) [[unlikely]] {
            c.drop(DropReason::NonContiguous);
            continue;
        }
        const DropReason r = parse_packet({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}, e.parse, pi);
        if (r != DropReason::None) [[unlikely]] {
            c.drop(r);
            if (sids != nullptr)
                local_sid_parse_drop(w, e, *sids, m, pi, r, now_ms, out_port[i]);
            continue;
        }
        if (!e.sr_domain.empty() && !e.trusted(m->port) &&
            e.sr_domain.entered_by({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}, pi)) [[unlikely]] {
            c.drop(DropReason::SrDomain);
            continue;
        }
        if (sids != nullptr) {
            if (const LocalSid* ls = sids->find(pi.dst)) {
                b.sid[i] = ls;
                b.local_idx[n_local++] = static_cast<std::uint8_t>(i);
                b.path[i] = Path::Local;
                continue;
            }
        }
        if (pi.meta_source != MetaSource::None || pi.non_initial_fragment) {
            b.sigs[n_flow] = make_key(pi, b.keys[n_flow]);
            b.key_ptrs[n_flow] = &b.keys[n_flow];
            b.flow_idx[n_flow++] = static_cast<std::uint8_t>(i);
            b.path[i] = Path::Flow;
        } else {
            b.path[i] = Path::Forward;
        }
    }
    b.n_flow = n_flow;

    // 2. One bulk lookup for every flow of the burst.
    if (n_flow != 0)
        w.flows->lookup_bulk(b.key_ptrs, b.sigs, n_flow, b.pos);
    // Prefetch each hit's entry and resolve each flow's service, which does
    // not need the entry: the entries' lines arrive meanwhile.
    for (unsigned f = 0; f < n_flow; ++f) {
        if (b.pos[f] >= 0)
            prefetch_write(w.flows->entry_addr(b.pos[f]));
        const PacketInfo& pi = b.info[b.flow_idx[f]];
        b.svcs[f] = pi.meta_source != MetaSource::None ? snap.find(pi.meta.cs_id) : nullptr;
    }
    // Prefetch the lines of the instance each pin names: with many services
    // they are not in cache, and each packet would otherwise wait for its own.
    for (unsigned f = 0; f < n_flow; ++f) {
        const Service* svc = b.svcs[f];
        if (svc == nullptr)
            continue;
        if (b.pos[f] < 0) {
            // A new flow: its choice starts from the service's own line. (A
            // service without instances drops it before any choice.)
            rte_prefetch0(svc);
            if (!svc->instances.empty())
                b.miss[n_miss++] = static_cast<std::uint8_t>(f);
            continue;
        }
        const std::uint16_t hint = w.flows->entry(b.pos[f]).index_hint;
        if (hint < svc->instances.size())
            prefetch_instance(svc->instances[hint], 0);
    }

    // New flows (lookups that missed, of a service with instances): the choice of
    // the k-th is made while the (k - kChooseAhead)-th is steered, and the
    // chosen instance's lines prefetched; what the choice reads (each
    // instance's first line) is prefetched before that. With many services
    // none of it is in cache. The choice is a pure function of (service,
    // request, hash): made early, it is the same.
    const auto prefetch_choice_input = [&](unsigned k) noexcept {
        if (k < n_miss)
            prefetch_selection(*b.svcs[b.miss[k]]);
    };
    const auto choose_early = [&](unsigned k) noexcept {
        if (k >= n_miss)
            return;
        const unsigned g = b.miss[k];
        const Service& svc = *b.svcs[g];
        b.choice[g] = select_instance(svc, b.info[b.flow_idx[g]].meta.req, b.sigs[g]);
        if (b.choice[g].index >= 0) {
            // Its first line was read by the choice.
            const Instance& in = svc.instances[static_cast<std::size_t>(b.choice[g].index)];
            prefetch_instance(in, 1);
            rte_prefetch0(&svc_ctr[svc.slot]);
            rte_prefetch0(&inst_ctr[in.slot]);
        }
    };
    for (unsigned k = 0; k < kSeedAhead; ++k)
        prefetch_choice_input(k);
    for (unsigned k = 0; k < kChooseAhead; ++k)
        choose_early(k);
    b.miss[n_miss] = kNoMiss;  // no flow index: ends the list for the loop below
    unsigned next_miss = 0;

    // 3. Steer: keep the pinned instance while it is there and eligible,
    //    otherwise choose and pin.
    for (unsigned f = 0; f < n_flow; ++f) {
        const bool chosen_early = b.miss[next_miss] == f;
        if (chosen_early) {
            ++next_miss;
            prefetch_choice_input(next_miss - 1 + kSeedAhead);
            choose_early(next_miss - 1 + kChooseAhead);
        }
        const unsigned i = b.flow_idx[f];
        rte_mbuf* m = pkts[i];
        PacketInfo& pi = b.info[i];
        const std::uint32_t sig = b.sigs[f];
        FlowTable& ft = *w.flows;
        std::int32_t pos = b.pos[f];
        const FlowEntry* fe = pos >= 0 ? &ft.entry(pos) : nullptr;

        // A non-initial fragment may follow a first fragment pinned earlier
        // in this very burst, after the bulk lookup: look again. One that
        // matches no pin is plain traffic unless it carries its own request.
        if (pi.non_initial_fragment && fe == nullptr) {
            pos = ft.lookup(b.keys[f], sig);
            fe = pos >= 0 ? &ft.entry(pos) : nullptr;
        }
        if (pi.non_initial_fragment && pi.meta_source == MetaSource::None) {
            if (fe == nullptr || !(fe->flags & kFlowValid)) {
                b.path[i] = Path::Forward;
                continue;
            }
            pi.meta.cs_id = fe->cs_id;
        }
        const Service* svc = pi.meta_source != MetaSource::None ? b.svcs[f] : snap.find(pi.meta.cs_id);
        if (svc == nullptr) [[unlikely]] {
            c.drop(DropReason::UnknownService);
            continue;
        }
        if (svc->instances.empty()) [[unlikely]] {
            c.drop(DropReason::NoInstance);
            continue;
        }

        // A miss inserts the key now, so that a second packet of the same new
        // flow later in this burst finds the pin made for the first.
        if (fe == nullptr) {
            pos = ft.add(b.keys[f], sig);
            if (pos >= 0)
                fe = &ft.entry(pos);
        }
        const Instance* in = nullptr;
        bool was_pinned = false;
        if (fe != nullptr && (fe->flags & kFlowValid) && fe->cs_id == svc->cs_id &&
            now_ms - fe->last_seen_ms <= svc->affinity_timeout_ms) {
            const Instance* pinned = find_instance(*svc, *fe);
            was_pinned = true;
            if (pinned != nullptr && available(*pinned) &&
                ((fe->flags & kFlowBestEffort) || meets(pinned->metrics, pi.meta.req))) {
                in = pinned;
                ft.touch(pos, now_ms);
                ++n_hits;
            }
        }
        if (in == nullptr) {
            // Choosing an instance is what a request buys: authenticate it
            // here, and only here (a pinned flow gains nothing from a spoof).
            if (e.srh_hmac != nullptr && !e.trusted(m->port)) [[unlikely]] {
                const DropReason hr =
                    e.srh_hmac->verify({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}, pi);
                if (hr != DropReason::None) {
                    if (fe != nullptr && !(fe->flags & kFlowValid))
                        ft.remove(pos);
                    c.drop(hr);
                    continue;
                }
                c.srh_hmac_verified.add();
            }
            const Choice ch = chosen_early ? b.choice[f] : select_instance(*svc, pi.meta.req, sig);
            if (ch.index < 0) [[unlikely]] {
                if (fe != nullptr && !(fe->flags & kFlowValid))
                    ft.remove(pos);
                c.drop(pi.meta.req.strict        ? DropReason::NoEligibleInstance
                       : svc->neighbor_failed ? DropReason::NeighborFailed
                                              : DropReason::NoRoute);
                continue;
            }
            in = &svc->instances[static_cast<std::size_t>(ch.index)];
            if (ch.best_effort)
                c.best_effort.add();
            if (fe != nullptr) {
                if (was_pinned)
                    c.resteered.add();
                c.new_flows.add();
                c.services[svc->slot].new_flows.add();
                c.instances[in->slot].new_flows.add();
                ft.store_entry(pos, FlowEntry{svc->cs_id, in->id, now_ms, static_cast<std::uint16_t>(ch.index),
                                              static_cast<std::uint8_t>(kFlowValid |
                                                                        (ch.best_effort ? kFlowBestEffort : 0)),
                                              0});
            } else {
                c.flow_table_full.add();
            }
        }
        // The first fragment pins the datagram so that later fragments,
        // which carry no ports, follow it.
        if (pi.is_fragment && !pi.non_initial_fragment) {
            PacketInfo frag = pi;
            frag.non_initial_fragment = true;
            frag.meta.has_affinity_key = false;
            FlowKey fk;
            const std::uint32_t fsig = make_key(frag, fk);
            const std::int32_t fpos = ft.add(fk, fsig);
            if (fpos >= 0)
                ft.store_entry(fpos, FlowEntry{svc->cs_id, in->id, now_ms,
                                               static_cast<std::uint16_t>(in - svc->instances.data()),
                                               kFlowValid | kFlowBestEffort, 0});
        }

        const std::uint32_t len = m->pkt_len;
        const std::uint32_t ip_len = pi.ip6_len;
        const DropReason r = encapsulate(e, m, pi, *in, sig);
        if (r != DropReason::None) [[unlikely]] {
            c.drop(r);
            reply_icmp6(w, e, m, pi, r, max_inner_len(*in, e.port_mtu[in->port_id]), now_ms, out_port[i]);
            continue;
        }
        out_port[i] = in->port_id;
        ++n_by_source[static_cast<std::size_t>(pi.meta_source)];
        PacketCounters& sc = svc_ctr[svc->slot];
        PacketCounters& ic = inst_ctr[in->slot];
        sc.packets.add();
        sc.bytes.add(len);
        ic.packets.add();
        ic.bytes.add(len);
        ic.ip_bytes.add(ip_len);
    }

    // Burst totals: one counter update per burst, not per packet.
    c.flow_hits.add(n_hits);
    std::uint64_t n_steered = 0;
    for (std::size_t k = 0; k < std::size(n_by_source); ++k) {
        if (n_by_source[k] != 0)
            c.by_source[k].add(n_by_source[k]);
        n_steered += n_by_source[k];
    }
    c.steered.add(n_steered);

    // 4. Local SIDs: each behaviour (endpoint.hpp), then to its next hop,
    //    or to the FIB below.
    for (unsigned k = 0; k < n_local; ++k) {
        const unsigned i = b.local_idx[k];
        rte_mbuf* m = pkts[i];
        PacketInfo& pi = b.info[i];
        const LocalSid& ls = *b.sid[i];
        b.rx_len[i] = m->pkt_len;
        b.policy_bytes[i] = policy_bytes(pi);
        std::memcpy(b.outer_src[i], pi.src, 16);
        std::uint32_t pointer = 0;
        const DropReason r = run_endpoint(m, pi, ls, pointer);
        if (r != DropReason::None) [[unlikely]] {
            c.sid_drop(ls.slot, r);
            reply_icmp6(w, e, m, pi, r, pointer, now_ms, out_port[i], true);
            continue;
        }
        if (ls.next_hop != 0) {
            const DropReason fr = forward(e, m, pi, ls.next_hop, out_port[i]);
            n_endpoint += local_sid_done(w, e, m, pi, i, fr, ls.next_hop, now_ms, out_port[i]);
        } else {
            b.path[i] = Path::LocalFib;
        }
    }

    // 5. Non-CATS IPv6, and what local SIDs left to the FIB: one bulk FIB
    //    lookup, then forward.
    for (unsigned i = 0; i < n; ++i) {
        if (b.path[i] == Path::LocalFib) [[unlikely]] {
            std::memcpy(b.fwd_ips[n_fwd], b.info[i].dst, 16);
            b.fwd_idx[n_fwd++] = static_cast<std::uint8_t>(i);
            continue;
        }
        if (b.path[i] != Path::Forward)
            continue;
        if (e.non_cats == NonCatsPolicy::Drop) [[unlikely]] {
            c.drop(DropReason::NonCats);
            continue;
        }
        std::memcpy(b.fwd_ips[n_fwd], b.info[i].dst, 16);
        b.fwd_idx[n_fwd++] = static_cast<std::uint8_t>(i);
    }
    if (n_fwd != 0) {
        e.fib->lookup_bulk(b.fwd_ips, b.fwd_nh, n_fwd);
        for (unsigned f = 0; f < n_fwd; ++f) {
            const unsigned i = b.fwd_idx[f];
            const DropReason r = forward(e, pkts[i], b.info[i], b.fwd_nh[f], out_port[i]);
            if (b.path[i] == Path::LocalFib) [[unlikely]] {
                n_endpoint += local_sid_done(w, e, pkts[i], b.info[i], i, r, b.fwd_nh[f], now_ms, out_port[i]);
                continue;
            }
            if (r != DropReason::None) [[unlikely]] {
                c.drop(r);
                // The neighbor (and its port's MTU) exists only past no_route.
                const std::uint32_t mtu =
                    r == DropReason::TooBig ? e.port_mtu[e.fib->neighbor(b.fwd_nh[f] - 1).port_id] : 0;
                reply_icmp6(w, e, pkts[i], b.info[i], r, mtu, now_ms, out_port[i]);
                continue;
            }
            if (out_port[i] != kVerdictPunt)
                c.forwarded.add();
        }
    }
    if (n_endpoint != 0)
        c.endpoint.add(n_endpoint);
}

void sweep_idle(Worker& w, const Snapshot& snap, std::uint32_t now_ms, unsigned budget) noexcept {
    FlowTable& ft = *w.flows;
    std::uint32_t cur = ft.sweep_cursor();
    for (unsigned k = 0; k < budget; ++k) {
        if (cur >= ft.capacity())
            cur = 0;
        const auto pos = static_cast<std::int32_t>(cur++);
        const FlowEntry& fe = ft.entry(pos);
        if (!(fe.flags & kFlowValid))
            continue;
        const Service* svc = snap.find(fe.cs_id);
        const std::uint32_t timeout = svc != nullptr ? svc->affinity_timeout_ms : 0;
        if (now_ms - fe.last_seen_ms > timeout) {
            ft.remove(pos);
            w.ctr->expired.add();
        }
    }
    ft.sweep_cursor() = cur;
}

void sweep_tick(Worker& w, const Snapshot& snap, std::uint32_t now_ms) noexcept {
    const std::uint32_t elapsed = std::min<std::uint32_t>(now_ms - w.last_sweep_ms, 1000);
    if (elapsed == 0)
        return;
    w.last_sweep_ms = now_ms;
    const std::uint32_t cap = w.flows->capacity();
    sweep_idle(w, snap, now_ms, std::min(cap, elapsed * (cap / 1000 + 1)));
}

namespace {
// Enqueue n packets on a multi-producer ring; the ones it cannot take go to
// `drops` (returned: how many), counted under `r`.
unsigned enqueue_or_drop(rte_ring* ring, rte_mbuf** pkts, unsigned n, rte_mbuf** drops, WorkerCounters& c,
                         DropReason r) noexcept {
    const unsigned done = rte_ring_mp_enqueue_burst(ring, reinterpret_cast<void* const*>(pkts), n, nullptr);
    if (done == n)
        return 0;
    c.drops[static_cast<std::size_t>(r)].add(n - done);
    std::copy(pkts + done, pkts + n, drops);
    return n - done;
}
}  // namespace

void forward_burst(Worker& w, const Engine& e, const Snapshot& snap, std::uint16_t port, rte_mbuf** rx,
                   std::uint16_t n, std::uint32_t now_ms) noexcept {
    WorkerCounters& c = *w.ctr;
    BurstScratch& b = *w.scratch;
    std::uint64_t bytes = 0;
    for (unsigned i = 0; i < n; ++i)
        bytes += rx[i]->pkt_len;
    c.rx_packets.add(n);
    c.rx_bytes.add(bytes);
    c.port_rx[port].add(n);
    c.port_rx_bytes[port].add(bytes);

    process_burst(w, e, snap, rx, n, now_ms, b.out);

    // Sort by output port a run at a time (a burst mostly goes out of one
    // port): a count updated in memory for every packet would make each
    // packet wait for the previous one's store.
    unsigned n_drop = 0, n_punt = 0, n_held = 0;
    for (unsigned i = 0; i < n;) {
        const std::uint16_t op = b.out[i];
        unsigned end = i + 1;
        while (end < n && b.out[end] == op)
            ++end;
        if (op == kVerdictDrop) {
            std::copy(rx + i, rx + end, b.drops + n_drop);
            n_drop += end - i;
        } else if (op == kVerdictPunt) [[unlikely]] {
            std::copy(rx + i, rx + end, b.punts + n_punt);
            n_punt += end - i;
        } else if (op == kVerdictHold) [[unlikely]] {
            std::copy(rx + i, rx + end, b.held + n_held);
            n_held += end - i;
        } else {
            std::copy(rx + i, rx + end, b.tx[op] + b.n_tx[op]);
            b.n_tx[op] = static_cast<std::uint16_t>(b.n_tx[op] + (end - i));
        }
        i = end;
    }
    // To the exception path (exception.hpp): what the ring does not take is
    // dropped and counted; the exception thread counts what it takes.
    if (n_punt != 0) [[unlikely]]
        n_drop += enqueue_or_drop(e.punt_ring[port], b.punts, n_punt, b.drops + n_drop, c, DropReason::PuntQueueFull);
    if (n_held != 0) [[unlikely]]
        n_drop += enqueue_or_drop(e.held_ring, b.held, n_held, b.drops + n_drop, c, DropReason::NeighborIncomplete);
    if (n_drop != 0)
        rte_pktmbuf_free_bulk(b.drops, n_drop);
    for (const std::uint16_t op : e.port_ids) {
        const std::uint16_t cnt = b.n_tx[op];
        if (cnt == 0)
            continue;
        b.n_tx[op] = 0;
        rte_mbuf** tx = b.tx[op];
        std::uint64_t tx_bytes = 0;
        for (unsigned i = 0; i < cnt; ++i)
            tx_bytes += tx[i]->pkt_len;
        const std::uint16_t sent = rte_eth_tx_burst(op, w.queue, tx, cnt);
        for (unsigned i = sent; i < cnt; ++i)
            tx_bytes -= tx[i]->pkt_len;
        if (sent < cnt) [[unlikely]] {
            c.drops[static_cast<std::size_t>(DropReason::TxFull)].add(cnt - sent);
            rte_pktmbuf_free_bulk(&tx[sent], cnt - sent);
        }
        c.tx_packets.add(sent);
        c.tx_bytes.add(tx_bytes);
        c.port_tx[op].add(sent);
        c.port_tx_bytes[op].add(tx_bytes);
    }
}

// The exception thread's packets for each port (Engine::inject_ring), on
// this worker's TX queue. An empty ring costs one read of its indexes.
void send_injected(Worker& w, const Engine& e) noexcept {
    rte_mbuf* m[kMaxBurst];
    for (const std::uint16_t port : e.port_ids) {
        rte_ring* r = e.inject_ring[port];
        if (r == nullptr || rte_ring_empty(r))
            continue;
        const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(m), kMaxBurst, nullptr);
        const std::uint16_t sent = rte_eth_tx_burst(port, w.queue, m, static_cast<std::uint16_t>(n));
        if (sent < n) [[unlikely]] {
            e.inject_tx_full[port]->fetch_add(n - sent, std::memory_order_relaxed);
            rte_pktmbuf_free_bulk(m + sent, n - sent);
        }
    }
}

int worker_main(void* arg) {
    Worker& w = *static_cast<Worker*>(arg);
    const Engine& e = *w.engine;
    rte_mbuf* rx[kMaxBurst];

    rte_rcu_qsbr_thread_register(e.qsbr, w.index);
    rte_rcu_qsbr_thread_online(e.qsbr, w.index);
    while (!e.quit.load(std::memory_order_relaxed)) {
        const Snapshot& snap = *e.services->current();
        const std::uint64_t tsc = rte_rdtsc();
        const auto now_ms = static_cast<std::uint32_t>(tsc / e.tsc_per_ms);
        for (const std::uint16_t port : e.port_ids) {
            const std::uint16_t n = rte_eth_rx_burst(port, w.queue, rx, e.burst);
            if (n == 0)
                continue;
            w.last_rx_tsc.store(tsc, std::memory_order_relaxed);
            forward_burst(w, e, snap, port, rx, n, now_ms);
        }
        if (w.index == 0)
            send_injected(w, e);
        sweep_tick(w, snap, now_ms);
        rte_rcu_qsbr_quiescent(e.qsbr, w.index);
    }
    rte_rcu_qsbr_thread_offline(e.qsbr, w.index);
    rte_rcu_qsbr_thread_unregister(e.qsbr, w.index);
    return 0;
}

}  // namespace cats::dp
