/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the XDP program cats_xdp.bpf.c and its C++ front (xdp_front.hpp)
 * share: the constants it matches, the classes it counts, the layout of the
 * maps the loader fills. Plain C with <linux/types.h>, so that clang
 * -target bpf and g++ read the same bytes.
 *
 * The CATS constants are proto-defs' (cats_wire.hpp): xdp_front.cpp
 * static_asserts that these equal wire::kSrhTlvCats and wire::kOptCats, so a
 * change there fails the build instead of silently splitting the two.
 */
#ifndef CATS_XDP_H
#define CATS_XDP_H

#include <linux/types.h>

#define CATS_XDP_SRH_TLV_CATS 124 /* = cats::wire::kSrhTlvCats */
#define CATS_XDP_OPT_CATS 0x1E    /* = cats::wire::kOptCats */

/* Bounds of the walks (the verifier needs every loop bounded). */
#define CATS_XDP_MAX_EXT_HEADERS 8 /* = cats::dp::kMaxExtHeaders */
#define CATS_XDP_MAX_TLVS 16       /* TLVs/options walked per header */
#define CATS_XDP_MAX_VLANS 2       /* as the dataplane's parser */

/*
 * What the program decided for a packet: one per-CPU counter each. Values
 * are stable (they index the `verdicts` map); append before COUNT.
 * The first group is redirected to the AF_XDP socket of the receive queue,
 * the second is passed to the kernel (XDP_PASS).
 */
enum cats_xdp_class {
    /* Redirected to cats. */
    CATS_XDP_CATS_SRH_TLV = 0, /* an SRH carrying TLV 124 */
    CATS_XDP_CATS_OPTION,      /* option 0x1E in a Hop-by-Hop or Destination Options header */
    CATS_XDP_SERVICE_SID,      /* destination inside the service-SID /96 */
    CATS_XDP_LOCAL_SID,        /* destination inside one of the `local_sids` prefixes */
    CATS_XDP_TRANSIT,          /* other IPv6, non_cats: forward */
    CATS_XDP_WALK_LIMIT,       /* more TLVs/options than the program walks: cats's parser decides */
    /* Passed to the kernel. */
    CATS_XDP_NDP,              /* ICMPv6 133..137 (RFC 4861) */
    CATS_XDP_HOST,             /* to a `host_addrs` address, multicast or link-local */
    CATS_XDP_NOT_IPV6,         /* ARP, IPv4, LLDP, ... */
    CATS_XDP_TRANSIT_PASSED,   /* other IPv6, non_cats: drop */
    CATS_XDP_MALFORMED,        /* a truncated or inconsistent header */
    CATS_XDP_CLASS_COUNT
};

/* The first class that is passed to the kernel. */
#define CATS_XDP_FIRST_PASS_CLASS CATS_XDP_NDP

/* `cats_config`: an array map of one entry, key 0. */
struct cats_xdp_config {
    __u8 service_prefix[12];  /* the service-SID /96 */
    __u8 service_prefix_set;  /* 0: no service-SID prefix configured */
    __u8 non_cats_forward;    /* 1: gateway.non_cats is forward */
    __u8 reserved[2];
};

/* `local_sids`: an LPM trie; prefixlen counts bits of addr. */
struct cats_xdp_lpm_key {
    __u32 prefixlen;
    __u8 addr[16];
};

/* `host_addrs`: a hash keyed by the 16-byte address, value a __u8 (1). */
struct cats_xdp_addr {
    __u8 addr[16];
};

/* `verdicts`: a per-CPU array indexed by enum cats_xdp_class. */
struct cats_xdp_counter {
    __u64 packets;
    __u64 bytes;  /* frame bytes as XDP saw them (Ethernet header included) */
};

/* Map sizes. */
#define CATS_XDP_MAX_QUEUES 256      /* xsks_map: AF_XDP sockets by queue id */
#define CATS_XDP_MAX_LOCAL_SIDS 1024
#define CATS_XDP_MAX_HOST_ADDRS 256

#endif /* CATS_XDP_H */
