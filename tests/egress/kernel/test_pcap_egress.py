#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The real cats-dataplane as an SRv6 egress, on net_pcap.

Local SIDs (RFC 8986 4): fc00:e::1 End, fc00:e::2 End.X via C, fc00:e::d6
End.DX6 via H, fc00:e::d7 End.DT6, fc00:e:1::/48 End.DT6 (a locator). The
network is tests/egress/test_endpoint.cpp's (egress_common.py draws it):
everything comes in on port 0 from A; what is forwarded leaves port 1.

The input pcap holds, for every behaviour, packets it must forward (full,
reduced and absent SRHs, several segments, a Destination Options header in
front of the SRH, SRH TLVs, an Ethernet trailer, outer hop limit 1 on a
decapsulation) and every malformed or refused SRv6 packet that can reach a
local SID, one per drop reason at least:
  parser:    srh_bad_length, srh_bad_last_entry, srh_bad_segments_left,
             srh_tlv_overrun, srh_duplicate, ext_truncated,
             ipv6_bad_payload_len, hbh_not_first, opt_overrun,
             ext_chain_too_long, l4_truncated
  behaviour: sid_segments_left, sid_upper_layer, sid_fragment,
             decap_inner_bad, hop_limit_exceeded, no_route
Every expected output is written here by hand from the input bytes (RFC
8754 4.3.1, RFC 8986 4.1/4.2/4.4/4.6), not by the code under test.

Checked:
  - port 1 carries exactly the expected packets, byte for byte (End: hop
    limit, Segments Left, destination; decapsulation: the inner packet with
    its hop limit - 1 behind a new Ethernet header, no trailer, no 802.1Q
    tag), and so no malformed packet ever goes on;
  - port 0 carries exactly the expected ICMPv6 errors, dissected by scapy:
    Parameter Problem code 0 pointer 43 (Segments Left) for an SRH layout
    RFC 8986 4.1 S09 rejects and for Segments Left != 0 at a decapsulating
    SID, code 4 (SR Upper-layer Header Error) pointing at the upper-layer
    header (pointers counted past a Destination Options header too), Time
    Exceeded code 0; each from gateway.encap_source to the offending
    packet's source (the inner packet's, for an error about the
    decapsulated packet), back to A with the packet's 802.1Q tag, its
    checksum valid, the offending packet quoted;
  - the stats JSON: drops.{reason} globally, local_sids[].drops per SID,
    local_sids[].packets/bytes, totals.endpoint, icmp.param_problem_sent and
    time_exceeded_sent, and policies.egress: one entry per (outer source,
    SID) with packets and bytes = the inner IPv6 packets' lengths.

usage: test_pcap_egress.py BUILD_DIR SOURCE_DIR
"""
import collections
import os
import struct
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from egress_common import (  # noqa: E402
    CLIENT, ENCAP_SOURCE, INGRESS, INGRESS2, IP6_HDR, MAC_A, MAC_B, MAC_C, MAC_H, NBR_A, NBR_B, NBR_C,
    NBR_H, NEXT, PORT_MAC, SID_DT6, SID_DX6, SID_END, SID_LOC, SID_X, after_decap, after_end, check, eth,
    finish, first_diff, hexdump, inner_packet, ip6s, ipv6, need_dataplane, padn, run_dataplane, srh)

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether  # noqa: E402
from scapy.layers.inet6 import ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"

CONFIG = """
gateway:
  encap_source: %(src)s
  icmp_rate: 100000          # every error of this run is sent (default 100/s)
  policy_table_size: 4096
ports:
  - {name: net_pcap0}
  - {name: net_pcap1}
neighbors:
  - {address: "%(a)s", mac: "%(ma)s", port: net_pcap0}
  - {address: "%(b)s", mac: "%(mb)s", port: net_pcap1}
  - {address: "%(c)s", mac: "%(mc)s", port: net_pcap1}
  - {address: "%(h)s", mac: "%(mh)s", port: net_pcap1}
routes:
  - {prefix: "fc00:a::/32", via: "%(a)s"}
  - {prefix: "fc00:b::/32", via: "%(b)s"}
  - {prefix: "2001:db8:f::/48", via: "%(h)s"}
local_sids:
  - {sid: "%(end)s", behavior: End}
  - {sid: "%(x)s", behavior: End.X, next_hop: "%(c)s"}
  - {sid: "%(dx6)s", behavior: End.DX6, next_hop: "%(h)s"}
  - {sid: "%(dt6)s", behavior: End.DT6}
  - {sid: "%(loc)s", behavior: End.DT6}
""" % {"src": ENCAP_SOURCE, "a": NBR_A, "b": NBR_B, "c": NBR_C, "h": NBR_H,
       "ma": MAC_A, "mb": MAC_B, "mc": MAC_C, "mh": MAC_H, "end": SID_END, "x": SID_X, "dx6": SID_DX6,
       "dt6": SID_DT6, "loc": SID_LOC}

PTR_SL = IP6_HDR + 3          # Segments Left of an SRH right after the IPv6 header
PARAM_PROBLEM, TIME_EXCEEDED = 4, 3
ERRONEOUS_FIELD, SR_UPPER_LAYER = 0, 4    # Parameter Problem codes (RFC 4443 3.4, RFC 8754 11.2)


Case = collections.namedtuple("Case", "name frame sid drop icmp out policy")
Icmp = collections.namedtuple("Icmp", "type code param to quote")


def case(name, ip, sid, drop=None, icmp=None, out=None, policy=None, trailer=b"", vlan=None):
    l2 = eth(PORT_MAC[0], MAC_A)
    if vlan is not None:
        l2 = l2[:12] + struct.pack("!HH", 0x8100, vlan) + l2[12:]
    return Case(name, l2 + ip + trailer, sid, drop, icmp, out, policy)


def fwd(mac, ip):
    """The frame out of port 1 to the neighbor with `mac` (the source MAC
    is replaced by the one net_pcap really has, see port_mac())."""
    return eth(mac, PORT_MAC[1]) + ip


def doh(nh, body=b"\x01\x04\x00\x00\x00\x00"):
    """A Destination Options header, 8 bytes: PadN of 6 by default."""
    return bytes([nh, 0]) + body


def cases():
    cs = []
    tag = iter(range(1000))

    def inner(**kw):
        return inner_packet(b"EGRESS%03d" % next(tag), **kw)

    # --- Forwarded --------------------------------------------------------
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1) + i)
    cs.append(case("End, full SRH of 2", ip, SID_END, out=fwd(MAC_B, after_end(ip)), policy=(INGRESS, SID_END, len(i))))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT], 1, le=0) + i)
    cs.append(case("End, reduced SRH (Last Entry 0, Segments Left 1)", ip, SID_END, out=fwd(MAC_B, after_end(ip)),
                   policy=(INGRESS, SID_END, len(i))))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, "fc00:b::8", SID_END], 2) + i)
    cs.append(case("End, full SRH of 3 (next: fc00:b::8)", ip, SID_END, out=fwd(MAC_B, after_end(ip)),
                   policy=(INGRESS, SID_END, len(i))))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 60, doh(43) + srh([NEXT, SID_END], 1, tlvs=padn(8)) + i)
    cs.append(case("End, Destination Options before the SRH, a PadN TLV", ip, SID_END,
                   out=fwd(MAC_B, after_end(ip, IP6_HDR + 8)), policy=(INGRESS, SID_END, len(i))))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1) + i)
    cs.append(case("End, 802.1Q tag 100 in (untagged out)", ip, SID_END, out=fwd(MAC_B, after_end(ip)),
                   policy=(INGRESS, SID_END, len(i)), vlan=100))
    i = inner()
    ip = ipv6(INGRESS, SID_X, 43, srh([NEXT, SID_X], 1) + i)
    cs.append(case("End.X to its next hop C", ip, SID_X, out=fwd(MAC_C, after_end(ip)),
                   policy=(INGRESS, SID_X, len(i))))
    i = inner()
    cs.append(case("End.DX6, SRH of 1", ipv6(INGRESS, SID_DX6, 43, srh([SID_DX6], 0) + i), SID_DX6,
                   out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DX6, len(i))))
    i = inner()
    cs.append(case("End.DX6, SRH of 2", ipv6(INGRESS, SID_DX6, 43, srh([SID_DX6, "fc00:a::1"], 0) + i), SID_DX6,
                   out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DX6, len(i))))
    i = inner(size=1150)
    cs.append(case("End.DX6, reduced (no SRH), 1200-byte inner, a second ingress", ipv6(INGRESS2, SID_DX6, 41, i),
                   SID_DX6, out=fwd(MAC_H, after_decap(i)), policy=(INGRESS2, SID_DX6, len(i))))
    i = inner()
    cs.append(case("End.DX6, 802.1Q tag 100 and a trailer in", ipv6(INGRESS, SID_DX6, 43, srh([SID_DX6], 0) + i),
                   SID_DX6, out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DX6, len(i)), vlan=100,
                   trailer=bytes(4)))
    i = inner()
    cs.append(case("End.DT6, SRH of 1", ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i), SID_DT6,
                   out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DT6, len(i))))
    i = inner()
    cs.append(case("End.DT6, SRH of 2 with a PadN TLV, an Ethernet trailer",
                   ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6, "fc00:a::1"], 0, tlvs=padn(8)) + i), SID_DT6,
                   out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DT6, len(i)), trailer=bytes(6)))
    i = inner()
    cs.append(case("End.DT6, Destination Options before the SRH",
                   ipv6(INGRESS, SID_DT6, 60, doh(43) + srh([SID_DT6], 0) + i), SID_DT6,
                   out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DT6, len(i))))
    i = inner()
    cs.append(case("End.DT6, outer hop limit 1 (a decapsulation does not look at it)",
                   ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i, hl=1), SID_DT6,
                   out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_DT6, len(i))))
    i = inner()
    cs.append(case("End.DT6 locator, arguments in the low bits, no SRH", ipv6(INGRESS, "fc00:e:1::42", 41, i),
                   SID_LOC, out=fwd(MAC_H, after_decap(i)), policy=(INGRESS, SID_LOC, len(i))))

    # --- Malformed: the parser drops them ---------------------------------
    i = inner()
    cs.append(case("srh_bad_length: Hdr Ext Len 0", ipv6(INGRESS, SID_DT6, 43, srh([], 0, le=0) + i), SID_DT6,
                   drop="srh_bad_length"))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, le=5) + i)
    cs.append(case("srh_bad_last_entry: Last Entry 5 in a header of 2", ip, SID_END, drop="srh_bad_last_entry",
                   icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 3) + i)
    cs.append(case("srh_bad_segments_left: 3 > Last Entry + 1 (End)", ip, SID_END, drop="srh_bad_segments_left",
                   icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 2) + i)
    cs.append(case("srh_bad_segments_left: 2 > Last Entry + 1 (End.DT6)", ip, SID_DT6,
                   drop="srh_bad_segments_left", icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 60, doh(43) + srh([NEXT, SID_END], 3) + i)
    cs.append(case("srh_bad_segments_left: behind Destination Options (pointer 51)", ip, SID_END,
                   drop="srh_bad_segments_left", icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL + 8, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 3) + i)
    cs.append(case("srh_bad_segments_left: 802.1Q tag 100 (the error goes back tagged)", ip, SID_END, vlan=100,
                   drop="srh_bad_segments_left", icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL, INGRESS, ip)))
    i = inner()
    cs.append(case("srh_tlv_overrun: a TLV of 16 bytes in 8",
                   ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, tlvs=bytes([0x80, 0x10]) + bytes(6)) + i),
                   SID_END, drop="srh_tlv_overrun"))
    i = inner()
    cs.append(case("srh_duplicate: two SRHs",
                   ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, nh=43) + srh([NEXT, SID_END], 1) + i),
                   SID_END, drop="srh_duplicate"))
    cs.append(case("ext_truncated: Hdr Ext Len 10, 40 bytes there",
                   ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, hdr_ext_len=10)), SID_END,
                   drop="ext_truncated"))
    i = inner()
    body = srh([NEXT, SID_END], 1) + i
    cs.append(case("ipv6_bad_payload_len: Payload Length 100 past the frame",
                   ipv6(INGRESS, SID_END, 43, body, plen=len(body) + 100), SID_END, drop="ipv6_bad_payload_len"))
    i = inner()
    cs.append(case("hbh_not_first: a Hop-by-Hop header after the SRH",
                   ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, nh=0) + doh(41) + i), SID_END,
                   drop="hbh_not_first"))
    i = inner()
    cs.append(case("opt_overrun: a PadN of 8 in a 6-byte option area before the SRH",
                   ipv6(INGRESS, SID_END, 60, doh(43, b"\x01\x08\x00\x00\x00\x00") + srh([NEXT, SID_END], 1) + i),
                   SID_END, drop="opt_overrun"))
    i = inner()
    cs.append(case("ext_chain_too_long: 9 Destination Options headers, then the SRH",
                   ipv6(INGRESS, SID_END, 60, doh(60) * 8 + doh(43) + srh([NEXT, SID_END], 1) + i), SID_END,
                   drop="ext_chain_too_long"))
    cs.append(case("l4_truncated: a 3-byte UDP header after the SRH",
                   ipv6(INGRESS, SID_END, 43, srh([SID_END], 0, nh=17) + b"\x9c\x40\x01"), SID_END,
                   drop="l4_truncated"))

    # --- Refused by the behaviour (RFC 8986 4) ---------------------------
    i = inner()
    ip = ipv6(INGRESS, SID_DX6, 43, srh(["fc00:a::1", SID_DX6], 1) + i)
    cs.append(case("sid_segments_left: End.DX6 with Segments Left 1", ip, SID_DX6, drop="sid_segments_left",
                   icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, "fc00:e:1::7", 43, srh(["fc00:a::1", "fc00:e:1::7"], 1) + i)
    cs.append(case("sid_segments_left: End.DT6 locator with Segments Left 1", ip, SID_LOC, drop="sid_segments_left",
                   icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_DT6, 60, doh(43) + srh(["fc00:a::1", SID_DT6], 1) + i)
    cs.append(case("sid_segments_left: End.DT6 behind Destination Options (pointer 51)", ip, SID_DT6,
                   drop="sid_segments_left", icmp=Icmp(PARAM_PROBLEM, ERRONEOUS_FIELD, PTR_SL + 8, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([SID_END], 0) + i)
    cs.append(case("sid_upper_layer: End with Segments Left 0", ip, SID_END, drop="sid_upper_layer",
                   icmp=Icmp(PARAM_PROBLEM, SR_UPPER_LAYER, IP6_HDR + 24, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 41, i)
    cs.append(case("sid_upper_layer: End without an SRH", ip, SID_END, drop="sid_upper_layer",
                   icmp=Icmp(PARAM_PROBLEM, SR_UPPER_LAYER, IP6_HDR, INGRESS, ip)))
    i = inner()
    ip = ipv6(INGRESS, SID_X, 43, srh([SID_X], 0) + i)
    cs.append(case("sid_upper_layer: End.X with Segments Left 0", ip, SID_X, drop="sid_upper_layer",
                   icmp=Icmp(PARAM_PROBLEM, SR_UPPER_LAYER, IP6_HDR + 24, INGRESS, ip)))
    ip = ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0, nh=17) + struct.pack("!HHHH", 1, 2, 16, 0) + bytes(8))
    cs.append(case("sid_upper_layer: End.DT6 with UDP after the SRH", ip, SID_DT6, drop="sid_upper_layer",
                   icmp=Icmp(PARAM_PROBLEM, SR_UPPER_LAYER, IP6_HDR + 24, INGRESS, ip)))
    i = inner()
    frag = struct.pack("!BBHI", 41, 0, 0x0001, 7)       # offset 0, M = 1
    cs.append(case("sid_fragment: End.DT6, a first fragment, no SRH", ipv6(INGRESS, SID_DT6, 44, frag + i),
                   SID_DT6, drop="sid_fragment"))
    i = inner()
    cs.append(case("sid_fragment: End.DX6, SRH then a first fragment",
                   ipv6(INGRESS, SID_DX6, 43, srh([SID_DX6], 0, nh=44) + frag + i), SID_DX6, drop="sid_fragment"))
    later = struct.pack("!BBHI", 41, 0, 0x0008, 7)      # offset 8 bytes, M = 0
    cs.append(case("sid_fragment: End.DT6, a non-initial fragment", ipv6(INGRESS, SID_DT6, 44, later + b"Z" * 16),
                   SID_DT6, drop="sid_fragment"))
    cs.append(case("decap_inner_bad: 39 bytes inside", ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + b"\x60" * 39),
                   SID_DT6, drop="decap_inner_bad"))
    bad = bytearray(inner())
    bad[0] = 0x45
    cs.append(case("decap_inner_bad: version 4 inside", ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + bytes(bad)),
                   SID_DT6, drop="decap_inner_bad"))
    bad = bytearray(inner())
    bad[5] += 1
    cs.append(case("decap_inner_bad: inner Payload Length 1 past the outer packet",
                   ipv6(INGRESS, SID_DX6, 41, bytes(bad)), SID_DX6, drop="decap_inner_bad"))
    i = inner()
    ip = ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1) + i, hl=1)
    cs.append(case("hop_limit_exceeded: End with hop limit 1 (quoted as it came)", ip, SID_END,
                   drop="hop_limit_exceeded", icmp=Icmp(TIME_EXCEEDED, 0, 0, INGRESS, ip)))
    i = inner(hl=1)
    cs.append(case("hop_limit_exceeded: End.DX6, inner hop limit 1 (to the inner source)",
                   ipv6(INGRESS, SID_DX6, 43, srh([SID_DX6], 0) + i), SID_DX6, drop="hop_limit_exceeded",
                   icmp=Icmp(TIME_EXCEEDED, 0, 0, CLIENT, i)))
    i = inner(dst="2001:db8:99::1")
    cs.append(case("no_route: End.DT6, the inner destination unrouted",
                   ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i), SID_DT6, drop="no_route"))
    return cs


def port_mac(frames, port):
    """net_pcap will not take a configured MAC and the stats do not name
    the one it reports: learn it from what the port sent (all alike)."""
    macs = {f[6:12] for f in frames}
    check(len(macs) <= 1, "port %d sends from one MAC (%s)" % (port, sorted(m.hex(":") for m in macs)))
    return macs.pop() if macs else None


def check_outputs(cs, out0, out1):
    mac0, mac1 = port_mac(out0, 0), port_mac(out1, 1)
    check(mac0 is None or mac0 != mac1, "ports 0 and 1 have their own MACs")
    if mac1 is not None:
        # The expected frames name port 1's MAC as PORT_MAC[1]: the one seen.
        cs = [c._replace(out=c.out[:6] + mac1 + c.out[12:]) if c.out else c for c in cs]
    # Port 1: exactly the forwarded packets.
    want = collections.Counter(c.out for c in cs if c.out is not None)
    got = collections.Counter(out1)
    check(sum(got.values()) == sum(want.values()),
          "port 1 carries %d packets (got %d)" % (sum(want.values()), sum(got.values())))
    for c in cs:
        if c.out is None:
            continue
        if not check(got[c.out] > 0, "forwarded byte-exact: %s" % c.name):
            near = [f for f in out1 if len(f) == len(c.out)]
            if near:
                d = first_diff(near[0], c.out)
                print("  first difference at byte %s\n  want:\n%s\n  got (same length):\n%s" %
                      (d, hexdump(c.out), hexdump(near[0])))
    for f in out1:
        check(want[f] > 0, "nothing unexpected on port 1 (%d bytes to %s)" %
              (len(f), ip6s(f[38:54]) if len(f) >= 54 else "?"))

    # Port 0: exactly the ICMPv6 errors.
    errs = [c for c in cs if c.icmp is not None]
    check(len(out0) == len(errs), "port 0 carries %d ICMPv6 errors (got %d)" % (len(errs), len(out0)))
    seen = []
    for f in out0:
        p = Ether(f)
        if not check(IPv6 in p and p[IPv6].nh == 58, "port 0: an ICMPv6 packet"):
            continue
        ip = p[IPv6]
        b = bytes(ip.payload)
        quote = b[8:]
        match = [c for c in errs if c.icmp.quote[:len(quote)] == quote and len(quote) > 0]
        if not check(len(match) == 1, "port 0: the error quotes one input packet (%d matches)" % len(match)):
            print(hexdump(f))
            continue
        c = match[0]
        seen.append(c.name)
        e = c.icmp
        layer = ICMPv6ParamProblem if e.type == PARAM_PROBLEM else ICMPv6TimeExceeded
        ok = check(layer in p, "%s: ICMPv6 %s (type %d)" % (c.name, layer.__name__, b[0]))
        if ok:
            icmp = p[layer]
            check(icmp.code == e.code, "%s: code %d (got %d)" % (c.name, e.code, icmp.code))
            if e.type == PARAM_PROBLEM:
                check(icmp.ptr == e.param, "%s: pointer %d (got %d)" % (c.name, e.param, icmp.ptr))
            else:
                check(icmp.length == 0 and icmp.unused == 0, "%s: unused field 0 (got %s)" % (c.name, b[4:8].hex()))
            chk = icmp.cksum
            again = Ether(f)
            del again[layer].cksum
            check(Ether(bytes(again))[layer].cksum == chk, "%s: ICMPv6 checksum valid" % c.name)
        check(ip.src == ENCAP_SOURCE and ip.dst == e.to and ip.hlim == 255,
              "%s: from %s to %s, hop limit 255 (got %s -> %s, %d)" % (c.name, ENCAP_SOURCE, e.to, ip.src, ip.dst,
                                                                      ip.hlim))
        check(p.dst == MAC_A, "%s: back to A (%s)" % (c.name, p.dst))
        l2 = (18 if c.frame[12:14] == b"\x81\x00" else 14)
        check(f[12:l2] == c.frame[12:l2], "%s: the same 802.1Q tag (or none) as the packet (%s)" %
              (c.name, f[12:l2].hex()))
        check(quote == e.quote[:1232], "%s: the offending packet quoted whole (%d of %d bytes)" %
              (c.name, len(quote), len(e.quote)))
    for c in errs:
        check(c.name in seen, "an ICMPv6 error came back for: %s" % c.name)


def check_stats(cs, st):
    drops = collections.Counter(c.drop for c in cs if c.drop)
    for reason, n in sorted(drops.items()):
        check(st["drops"].get(reason) == n, "drops.%s = %d (got %s)" % (reason, n, st["drops"].get(reason)))
    others = {k: v for k, v in st["drops"].items() if v and k not in drops}
    check(not others, "no other drop reason counted (%s)" % others)
    good = [c for c in cs if c.out is not None]
    t = st["totals"]
    check(t["endpoint"] == len(good), "totals.endpoint = %d (got %d)" % (len(good), t["endpoint"]))
    check(t["rx_packets"] == len(cs), "totals.rx_packets = %d (got %d)" % (len(cs), t["rx_packets"]))
    check(t["dropped"] == sum(drops.values()), "totals.dropped = %d (got %d)" % (sum(drops.values()), t["dropped"]))
    check(t["forwarded"] == 0 and t["steered"] == 0, "nothing counted as plain forwarding or steering (%d, %d)" %
          (t["forwarded"], t["steered"]))
    n_pp = sum(1 for c in cs if c.icmp and c.icmp.type == PARAM_PROBLEM)
    n_te = sum(1 for c in cs if c.icmp and c.icmp.type == TIME_EXCEEDED)
    ic = st["icmp"]
    check(ic["param_problem_sent"] == n_pp, "icmp.param_problem_sent = %d (got %d)" % (n_pp, ic["param_problem_sent"]))
    check(ic["time_exceeded_sent"] == n_te, "icmp.time_exceeded_sent = %d (got %d)" % (n_te, ic["time_exceeded_sent"]))
    check(ic["not_sent"] == 0, "icmp.not_sent = 0 (got %d)" % ic["not_sent"])

    # Per SID: packets and frame bytes of what it sent on, drops per reason.
    by_sid = {s["sid"]: s for s in st.get("local_sids", [])}
    want_behavior = {SID_END: "End", SID_X: "End.X", SID_DX6: "End.DX6", SID_DT6: "End.DT6", SID_LOC: "End.DT6"}
    check(sorted(by_sid) == sorted(want_behavior), "local_sids lists the 5 SIDs (%s)" % sorted(by_sid))
    for sid, beh in want_behavior.items():
        s = by_sid.get(sid)
        if s is None:
            continue
        check(s["behavior"] == beh, "local_sids[%s].behavior = %s (got %s)" % (sid, beh, s["behavior"]))
        mine = [c for c in cs if c.sid == sid]
        pk = [c for c in mine if c.out is not None]
        check(s["packets"] == len(pk), "local_sids[%s].packets = %d (got %d)" % (sid, len(pk), s["packets"]))
        nb = sum(len(c.frame) for c in pk)
        check(s["bytes"] == nb, "local_sids[%s].bytes = %d, the frames as received (got %d)" % (sid, nb, s["bytes"]))
        want_d = collections.Counter(c.drop for c in mine if c.drop)
        got_d = s.get("drops", {})
        for reason, n in sorted(want_d.items()):
            msg = "local_sids[%s].drops.%s = %d (got %s)" % (sid, reason, n, got_d.get(reason))
            check(got_d.get(reason) == n, msg)
        extra = {k: v for k, v in got_d.items() if k not in want_d}
        check(not extra, "local_sids[%s]: no other drop reason (%s)" % (sid, extra))
        msg = "local_sids[%s].dropped = %d (got %d)" % (sid, sum(want_d.values()), s["dropped"])
        check(s["dropped"] == sum(want_d.values()), msg)

    # Per received policy: (outer source, SID) -> packets, inner bytes.
    pol = st.get("policies", {})
    want_p = collections.defaultdict(lambda: [0, 0])
    for c in cs:
        if c.policy:
            src, sid, n = c.policy
            want_p[(src, sid)][0] += 1
            want_p[(src, sid)][1] += n
    got_p = {(e["source"], e["sid"]): [e["packets"], e["bytes"]] for e in pol.get("egress", [])}
    for k, v in sorted(want_p.items()):
        check(got_p.get(k) == v, "policies.egress (%s, %s): packets %d, inner bytes %d (got %s)" %
              (k[0], k[1], v[0], v[1], got_p.get(k)))
    extra = {k: v for k, v in got_p.items() if k not in want_p}
    check(not extra, "policies.egress: no other entry (%s)" % extra)
    check(pol.get("egress_overflow") == 0, "policies.egress_overflow = 0 (got %s)" % pol.get("egress_overflow"))
    check((pol.get("egress_capacity") or 0) >= 4096, "policies.egress_capacity >= 4096 (got %s)" %
          pol.get("egress_capacity"))


def main():
    need_dataplane(BUILD)
    cs = cases()
    print("%d packets: %d to forward, %d ICMPv6 errors, %d silent drops" % (
        len(cs), sum(1 for c in cs if c.out), sum(1 for c in cs if c.icmp),
        sum(1 for c in cs if c.drop and not c.icmp)))
    with tempfile.TemporaryDirectory(prefix="cats-egress-pcap-") as tmp:
        st, out0, out1 = run_dataplane(BUILD, tmp, "egress", CONFIG, [c.frame for c in cs])
        if st is not None:
            check_outputs(cs, out0, out1)
            check_stats(cs, st)
    return finish("test_pcap_egress")


if __name__ == "__main__":
    sys.exit(main())
