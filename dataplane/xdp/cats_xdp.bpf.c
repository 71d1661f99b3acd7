// SPDX-License-Identifier: BSD-3-Clause
/*
 * cats_xdp: the XDP program in front of a kernel-owned NIC that cats drives
 * through DPDK's net_af_xdp PMD. It sends to the receive queue's AF_XDP
 * socket only the packets cats handles and leaves everything else to the
 * kernel (XDP_PASS), which keeps doing NDP, BGP, the advertisements and the
 * host's own traffic. Every decision is counted in `verdicts` by class
 * (cats_xdp.h); README.md beside this file has the table.
 *
 * It follows the rules of the dataplane's parser (dataplane/parse.cpp,
 * proto-defs/SPEC.md 3): Ethernet with up to two 802.1Q/802.1ad tags; IPv6
 * with Payload Length != 0 and inside the frame; HBH (first only), DOH,
 * Routing, Fragment and AH, at most 8; an SRH validated as Linux
 * seg6_validate_srh() does (routing type 4, Last Entry fits Hdr Ext Len,
 * Segments Left <= Last Entry + 1, TLVs walked to the exact end); a second
 * SRH, or a routing header of another type with Segments Left != 0, is
 * malformed; TCP/UDP/SCTP/ESP shorter than the parser reads is malformed.
 * The CATS body itself is not checked here: a packet that carries TLV 124
 * or option 0x1E goes to cats, whose parser counts a bad body by its name.
 *
 * Malformed packets go to the kernel (XDP_PASS), not to cats: with a header
 * we cannot walk we cannot tell whether the packet is for cats or for the
 * host, and the host's own traffic must not disappear into cats. The kernel
 * owns this interface: it drops what is malformed for it and counts it in
 * /proc/net/snmp6 (Ip6InHdrErrors, Ip6InTruncatedPkts), and answers with
 * the ICMPv6 Parameter Problem RFC 8200 4 asks for. Our `malformed`
 * counter shows how many there were.
 *
 * Configuration is in maps the loader fills (xdp_front.hpp); with them
 * empty, only CATS-marked packets are redirected.
 *
 * It must work as DPDK 22.11 net_af_xdp's `xdp_prog=` devarg: the PMD opens
 * the object with bpf_object__open_file(), loads it, attaches the object's
 * first program with XDP_FLAGS_UPDATE_IF_NOEXIST, looks up the map named
 * exactly `xsks_map` and puts each queue's socket at key = queue id. So this
 * object holds one program and that XSKMAP, and redirects with key
 * rx_queue_index; a queue without a socket falls back to XDP_PASS.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#include "cats_xdp.h"

char LICENSE[] SEC("license") = "BSD-3-Clause";

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, CATS_XDP_MAX_QUEUES);
    __type(key, __u32);
    __type(value, __u32);
} xsks_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct cats_xdp_config);
} cats_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, CATS_XDP_MAX_LOCAL_SIDS);
    __uint(map_flags, BPF_F_NO_PREALLOC);  /* required for LPM tries */
    __type(key, struct cats_xdp_lpm_key);
    __type(value, __u8);
} local_sids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, CATS_XDP_MAX_HOST_ADDRS);
    __type(key, struct cats_xdp_addr);
    __type(value, __u8);
} host_addrs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, CATS_XDP_CLASS_COUNT);
    __type(key, __u32);
    __type(value, struct cats_xdp_counter);
} verdicts SEC(".maps");

/* Offsets past this cannot be in a single-buffer XDP frame; bounding every
 * offset by it lets the verifier accept `data + off`. */
#define MAX_OFF 0x3FFF

/* `off` & MAX_OFF in a form clang cannot drop: after `if (off > MAX_OFF)`
 * it would remove a plain mask as redundant, and test a copy of `off`
 * other than the one added to the packet pointer, so the verifier would not
 * see the bound. */
static __always_inline __u64 bounded(__u32 off)
{
    __u64 v = off;
    asm volatile("%0 &= 0x3fff" : "+r"(v));
    return v;
}

#define ETH_P_IPV6_ 0x86DD
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_ESP 50
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132

#define ROUTING_TYPE_SRH 4
#define TLV_PAD1 0 /* SRH Pad1 (RFC 8754 2.1.1.1) and option Pad1 (RFC 8200 4.2) */

/* What a TLV/option walk found. */
enum walk_result { WALK_NONE = 0, WALK_FOUND, WALK_OVERRUN, WALK_LIMIT };

static __always_inline __u16 load_be16(const __u8 *p)
{
    return (__u16)((p[0] << 8) | p[1]);
}

/*
 * Walk the TLVs (RFC 8754 2.1) or options (RFC 8200 4.2), which share the
 * layout Type(8) Length(8) Value, that occupy [start, end) of the frame,
 * looking for type `want`. Pad1 (type 0 in both) is one byte; every other
 * type, PadN included, is skipped by its length. The area must be walked to
 * its exact end, as seg6_validate_srh() does, within CATS_XDP_MAX_TLVS.
 *
 * A global (not static) function: the verifier checks it once for any
 * arguments, instead of once per extension header per path through the
 * chain walk, which exceeds its one-million-instruction budget. So it takes
 * the context and offsets, never a packet pointer.
 */
__attribute__((noinline)) int cats_walk_tlvs(struct xdp_md *ctx, __u32 start, __u32 end, __u32 want)
{
    const __u8 *data = (const __u8 *)(long)ctx->data;
    const __u8 *data_end = (const __u8 *)(long)ctx->data_end;
    enum walk_result found = WALK_NONE;
    __u32 off = start;

    for (int i = 0; i < CATS_XDP_MAX_TLVS; i++) {
        if (off >= end)
            return found;
        if (off > MAX_OFF)
            return WALK_OVERRUN;
        const __u8 *t = data + bounded(off);
        if (t + 1 > data_end)
            return WALK_OVERRUN;
        const __u8 type = t[0];
        if (type == TLV_PAD1) {
            off += 1;
            continue;
        }
        if (end - off < 2 || t + 2 > data_end)
            return WALK_OVERRUN;
        const __u32 len = t[1];
        if (len > end - off - 2)
            return WALK_OVERRUN;
        if (type == want)
            found = WALK_FOUND;
        off += 2 + len;
    }
    return off >= end ? found : WALK_LIMIT;
}

/* The minimum upper-layer header the dataplane's parser reads (parse.hpp
 * l4_min_len), 0 when it reads none. */
static __always_inline __u32 l4_min_len(__u8 proto)
{
    switch (proto) {
    case PROTO_TCP: return 20;
    case PROTO_UDP: return 8;
    case PROTO_SCTP: return 12;
    case PROTO_ESP: return 8;
    default: return 0;
    }
}

static __always_inline int is_ext_header(__u8 nh)
{
    return nh == PROTO_HOPOPTS || nh == PROTO_DSTOPTS || nh == PROTO_ROUTING || nh == PROTO_FRAGMENT ||
           nh == PROTO_AH;
}

/* What cats_ext_step() found, in the top byte of its result. */
#define STEP_OPT 0x01         /* option 0x1E */
#define STEP_TLV 0x02         /* SRH TLV 124 */
#define STEP_SRH 0x04         /* this header was an SRH */
#define STEP_LIMIT 0x08       /* a TLV/option walk hit CATS_XDP_MAX_TLVS */
#define STEP_NON_INITIAL 0x10 /* a non-initial fragment: no upper-layer header follows */
#define STEP_MALFORMED 0x20

/*
 * The extension header `nh` at frame offset `off` (of an IPv6 packet that
 * ends at `end`):
 * returns (STEP_* flags << 24) | (its Next Header << 16) | the offset after
 * it. `seen_srh` is STEP_SRH when an earlier header was an SRH.
 *
 * Global, like cats_walk_tlvs(), so that it is verified once: the chain
 * walk calls it up to CATS_XDP_MAX_EXT_HEADERS times and the states of an
 * inlined walk multiply past the verifier's budget.
 */
__attribute__((noinline)) int cats_ext_step(struct xdp_md *ctx, __u32 nh, __u32 off, __u32 end, __u32 seen_srh)
{
    const __u8 *data = (const __u8 *)(long)ctx->data;
    const __u8 *data_end = (const __u8 *)(long)ctx->data_end;
    const __u32 bad = (__u32)STEP_MALFORMED << 24;

    if (off > end || end - off < 8 || off > MAX_OFF)
        return bad; /* ext_truncated */
    const __u8 *h = data + bounded(off);
    if (h + 8 > data_end)
        return bad;
    __u32 len;
    if (nh == PROTO_FRAGMENT)
        len = 8;
    else if (nh == PROTO_AH)
        len = ((__u32)h[1] + 2) * 4; /* RFC 4302 2.2 */
    else
        len = ((__u32)h[1] + 1) * 8;
    if (len > end - off)
        return bad; /* ext_truncated */

    __u32 flags = 0;
    int w = WALK_NONE;
    if (nh == PROTO_HOPOPTS || nh == PROTO_DSTOPTS) {
        w = cats_walk_tlvs(ctx, off + 2, off + len, CATS_XDP_OPT_CATS);
        if (w == WALK_FOUND)
            flags |= STEP_OPT;
    } else if (nh == PROTO_ROUTING) {
        if (h[2] == ROUTING_TYPE_SRH) {
            /* RFC 8754 2 as seg6_validate_srh() checks it. */
            if (seen_srh)
                return bad; /* srh_duplicate */
            flags |= STEP_SRH;
            const __u32 last_entry = h[4];
            const __u32 tlv_off = 8 + (last_entry + 1) * 16;
            if (len < 8 + 16 || tlv_off > len || h[3] > last_entry + 1)
                return bad; /* srh_bad_length, srh_bad_last_entry, srh_bad_segments_left */
            w = cats_walk_tlvs(ctx, off + tlv_off, off + len, CATS_XDP_SRH_TLV_CATS);
            if (w == WALK_FOUND)
                flags |= STEP_TLV;
        } else if (h[3] != 0) {
            return bad; /* rh_unsupported (RFC 8200 4.4) */
        }
    } else if (nh == PROTO_FRAGMENT) {
        /* A non-initial fragment carries no upper-layer header. */
        if ((load_be16(h + 2) & 0xFFF8) != 0)
            flags |= STEP_NON_INITIAL;
    }
    if (w == WALK_OVERRUN)
        return bad; /* opt_overrun, srh_tlv_overrun */
    if (w == WALK_LIMIT)
        flags |= STEP_LIMIT;
    return (int)((flags << 24) | ((__u32)h[0] << 16) | ((off + len) & 0xFFFF));
}

static __always_inline int prefix96_equal(const __u8 *dst, const __u8 *prefix)
{
    __u32 a[3], b[3];
    __builtin_memcpy(a, dst, 12);
    __builtin_memcpy(b, prefix, 12);
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static __always_inline enum cats_xdp_class classify(struct xdp_md *ctx)
{
    const __u8 *data = (const __u8 *)(long)ctx->data;
    const __u8 *data_end = (const __u8 *)(long)ctx->data_end;

    /* Ethernet, up to CATS_XDP_MAX_VLANS tags. */
    if (data + 14 > data_end)
        return CATS_XDP_MALFORMED;
    __u32 l3 = 14;
    __u16 type = load_be16(data + 12);
    for (int i = 0; i < CATS_XDP_MAX_VLANS; i++) {
        if (type != ETH_P_8021Q_ && type != ETH_P_8021AD_)
            break;
        if (data + l3 + 4 > data_end)
            return CATS_XDP_MALFORMED;
        type = load_be16(data + l3 + 2);
        l3 += 4;
    }
    if (type == ETH_P_8021Q_ || type == ETH_P_8021AD_)
        return CATS_XDP_MALFORMED; /* the parser's vlan_too_deep */
    if (type != ETH_P_IPV6_)
        return CATS_XDP_NOT_IPV6;

    /* IPv6 header (RFC 8200 3). */
    const __u8 *ip = data + l3;
    if (ip + 40 > data_end)
        return CATS_XDP_MALFORMED;
    if ((ip[0] >> 4) != 6)
        return CATS_XDP_MALFORMED;
    const __u32 frame_len = (__u32)(data_end - data);
    const __u32 payload_len = load_be16(ip + 4);
    /* 0 is a jumbogram (RFC 2675), which the dataplane does not carry. */
    if (payload_len == 0 || l3 + 40 + payload_len > frame_len)
        return CATS_XDP_MALFORMED;
    /* Offsets below are from the start of the frame; `end` is the end of
     * the IPv6 packet (Ethernet padding is not ours to parse). */
    const __u32 end = l3 + 40 + payload_len;
    __u8 dst[16];
    __builtin_memcpy(dst, ip + 24, 16);

    __u32 nh = ip[6];
    __u32 off = l3 + 40;
    __u32 flags = 0;
    for (int i = 0; i <= CATS_XDP_MAX_EXT_HEADERS; i++) {
        if (!is_ext_header(nh))
            break;
        if (i == CATS_XDP_MAX_EXT_HEADERS)
            return CATS_XDP_MALFORMED; /* ext_chain_too_long */
        if (nh == PROTO_HOPOPTS && i != 0)
            return CATS_XDP_MALFORMED; /* hbh_not_first (RFC 8200 4.1) */
        const __u32 r = (__u32)cats_ext_step(ctx, nh, off, end, flags & STEP_SRH);
        flags |= r >> 24;
        if (flags & STEP_MALFORMED)
            return CATS_XDP_MALFORMED;
        off = r & 0xFFFF;
        nh = (r >> 16) & 0xFF;
        if (flags & STEP_NON_INITIAL)
            break;
    }
    const int l4_present = !(flags & STEP_NON_INITIAL);

    /* Upper layer: NDP and the parser's minimum lengths. */
    if (l4_present) {
        if (end - off < l4_min_len(nh))
            return CATS_XDP_MALFORMED; /* l4_truncated */
        if (nh == PROTO_ICMPV6 && end > off && off <= MAX_OFF) {
            const __u8 *icmp = data + bounded(off);
            if (icmp + 1 > data_end)
                return CATS_XDP_MALFORMED;
            /* RS, RA, NS, NA, Redirect (RFC 4861 4). */
            if (icmp[0] >= 133 && icmp[0] <= 137)
                return CATS_XDP_NDP;
        }
    }

    /* CATS-marked: SRH TLV, then option (SPEC.md 1: the TLV wins). */
    if (flags & STEP_TLV)
        return CATS_XDP_CATS_SRH_TLV;
    if (flags & STEP_OPT)
        return CATS_XDP_CATS_OPTION;
    if (flags & STEP_LIMIT)
        return CATS_XDP_WALK_LIMIT;

    const __u32 zero = 0;
    const struct cats_xdp_config *cfg = bpf_map_lookup_elem(&cats_config, &zero);
    if (!cfg)
        return CATS_XDP_MALFORMED; /* cannot happen: an array map has key 0 */
    if (cfg->service_prefix_set && prefix96_equal(dst, cfg->service_prefix))
        return CATS_XDP_SERVICE_SID;

    struct cats_xdp_lpm_key sid = {.prefixlen = 128};
    __builtin_memcpy(sid.addr, dst, 16);
    if (bpf_map_lookup_elem(&local_sids, &sid))
        return CATS_XDP_LOCAL_SID;

    /* The host's: multicast ff00::/8, link-local fe80::/10, its addresses. */
    if (dst[0] == 0xFF || (dst[0] == 0xFE && (dst[1] & 0xC0) == 0x80))
        return CATS_XDP_HOST;
    struct cats_xdp_addr host;
    __builtin_memcpy(host.addr, dst, 16);
    if (bpf_map_lookup_elem(&host_addrs, &host))
        return CATS_XDP_HOST;

    return cfg->non_cats_forward ? CATS_XDP_TRANSIT : CATS_XDP_TRANSIT_PASSED;
}

SEC("xdp")
int cats_xdp(struct xdp_md *ctx)
{
    const __u32 cls = classify(ctx);
    struct cats_xdp_counter *c = bpf_map_lookup_elem(&verdicts, &cls);
    if (c) {
        /* Per-CPU: XDP does not preempt itself on one CPU. */
        c->packets += 1;
        c->bytes += ctx->data_end - ctx->data;
    }
    if (cls < CATS_XDP_FIRST_PASS_CLASS)
        return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
    return XDP_PASS;
}
