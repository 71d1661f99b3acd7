#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a pcap of lab traffic for cats-dataplane, built with scapy.

The CATS option/TLV bodies are encoded here from the spec in
proto-defs/SPEC.md, independently of the C++ encoder, so that the engine is
checked against a second implementation. A JSON manifest beside the pcap
lists every flow with what the engine should do with it.

usage: gen_lab_pcap.py OUT.pcap [--seed N] [--flows N] [--packets N]
"""
import argparse
import json
import random
import struct
import sys
from socket import AF_INET6, inet_pton

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether, IPv6, IP, UDP, TCP, Raw, ARP, raw, wrpcap  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrSegmentRouting,
    IPv6ExtHdrSegmentRoutingTLV, IPv6ExtHdrFragment, HBHOptUnknown, fragment6)
from scapy.layers.ipsec import ESP  # noqa: E402

GW_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:c1"
GW_ADDR = "2001:db8:ff::1"
SID_PREFIX = "2001:db8:5::"
APP_DST = "2001:db8:5::64"

SUB_MAX_LATENCY, SUB_MIN_BW, SUB_COMPUTE, SUB_MIN_SCORE, SUB_AFFINITY, SUB_PRIORITY = 1, 2, 3, 4, 5, 6


def cats_body(cs_id, strict=False, max_latency=None, min_bw=None, compute=None, min_score=None,
              affinity=None, priority=None, version=0, extra=b""):
    b = bytes([(version << 4) | (0x08 if strict else 0), 0, 0, 0]) + struct.pack("!I", cs_id)
    if max_latency is not None:
        b += struct.pack("!BBI", SUB_MAX_LATENCY, 4, max_latency)
    if min_bw is not None:
        b += struct.pack("!BBI", SUB_MIN_BW, 4, min_bw)
    if compute is not None:
        b += struct.pack("!BBH", SUB_COMPUTE, 2, compute)
    if min_score is not None:
        b += struct.pack("!BBB", SUB_MIN_SCORE, 1, min_score)
    if affinity is not None:
        b += struct.pack("!BBQ", SUB_AFFINITY, 8, affinity)
    if priority is not None:
        b += struct.pack("!BBB", SUB_PRIORITY, 1, priority)
    return b + extra


def l4(rng, proto, sport, dport, size):
    payload = Raw(bytes(rng.getrandbits(8) for _ in range(size)))
    if proto == "tcp":
        return TCP(sport=sport, dport=dport, flags="PA") / payload
    if proto == "esp":
        return ESP(spi=sport << 16 | dport, seq=1) / payload
    return UDP(sport=sport, dport=dport) / payload


def build(flow, rng, seq):
    """One packet of a flow, as bytes."""
    enc = flow["encoding"]
    src = flow["src"]
    body = cats_body(**flow["cats"]) if "cats" in flow else None
    upper = l4(rng, flow.get("proto", "udp"), flow["sport"], flow["dport"], flow.get("size", 64))
    eth = Ether(src=CLIENT_MAC, dst=GW_MAC)
    if enc == "srh":
        # The SRH is laid out by hand (RFC 8754 2): scapy pads odd-sized
        # TLVs wrongly. One segment (the destination), Segments Left 0, then
        # TLV 124 and PadN/Pad1 to a multiple of 8 bytes.
        tlvs = bytes([124, len(body)]) + body
        pad = -(8 + 16 + len(tlvs)) % 8
        tlvs += b"\x00" if pad == 1 else (bytes([4, pad - 2]) + bytes(pad - 2) if pad else b"")
        nh = {"udp": 17, "tcp": 6, "esp": 50}[flow.get("proto", "udp")]
        srh = bytes([nh, (16 + len(tlvs)) // 8, 4, 0, 0, 0, 0, 0]) + inet_pton(AF_INET6, APP_DST) + tlvs
        ip = IPv6(src=src, dst=APP_DST, nh=43)
        # L4 checksums over the pseudo-header of the final destination.
        upper = upper.__class__(raw(IPv6(src=src, dst=APP_DST) / upper)[40:])
        pkt = eth / ip / Raw(srh + raw(upper))
    elif enc == "doh":
        pkt = eth / IPv6(src=src, dst=APP_DST) / IPv6ExtHdrDestOpt(
            options=[HBHOptUnknown(otype=0x1E, optlen=len(body), optdata=body)]) / upper
    elif enc == "hbh":
        pkt = eth / IPv6(src=src, dst=APP_DST) / IPv6ExtHdrHopByHop(
            options=[HBHOptUnknown(otype=0x1E, optlen=len(body), optdata=body)]) / upper
    elif enc == "sid":
        pkt = eth / IPv6(src=src, dst=SID_PREFIX + "%x:%x" % (flow["cs_id"] >> 16, flow["cs_id"] & 0xFFFF)) / upper
    elif enc == "plain":
        pkt = eth / IPv6(src=src, dst=flow["dst"]) / upper
    else:
        raise ValueError(enc)
    return bytes(pkt)


def flows_for(rng, n):
    """The flow mix: name, encoding, request, expected verdict."""
    flows = []
    k = 0

    def add(count, **kw):
        nonlocal k
        for _ in range(count):
            k += 1
            f = dict(kw)
            f["id"] = k
            f["src"] = "2001:db8:c::%x" % (0x100 + k)
            f["sport"] = 10000 + k
            f["dport"] = 443 if f.get("proto") == "tcp" else 5000
            flows.append(f)

    add(n, name="srh-any", encoding="srh", cats=dict(cs_id=100), expect="steer")
    add(n, name="doh-any", encoding="doh", cats=dict(cs_id=100), expect="steer", proto="tcp")
    add(n // 2, name="hbh-any", encoding="hbh", cats=dict(cs_id=100), expect="steer")
    add(n, name="sid-any", encoding="sid", cs_id=100, expect="steer")
    add(n // 2, name="latency-1000", encoding="srh", cats=dict(cs_id=100, max_latency=1000, strict=True),
        expect="steer", allowed=[1, 2])
    add(n // 2, name="gpu", encoding="doh", cats=dict(cs_id=200, compute=2, strict=True), expect="steer")
    add(n // 4, name="strict-impossible", encoding="srh",
        cats=dict(cs_id=100, max_latency=50, strict=True), expect="drop:no_eligible_instance")
    add(n // 4, name="besteffort", encoding="srh", cats=dict(cs_id=100, max_latency=50),
        expect="steer")
    add(n // 4, name="unknown-service", encoding="doh", cats=dict(cs_id=999), expect="drop:unknown_service")
    add(n // 4, name="no-instance", encoding="sid", cs_id=300, expect="drop:no_instance")
    add(n // 2, name="plain", encoding="plain", dst="2001:db8:100::5", expect="forward")
    add(n // 4, name="esp", encoding="doh", proto="esp", cats=dict(cs_id=100), expect="steer")
    add(n // 4, name="bad-version", encoding="doh", cats=dict(cs_id=100, version=1), expect="drop:cats_bad_version")
    add(n // 4, name="subtlv-bad-length", encoding="srh",
        cats=dict(cs_id=100, extra=bytes([SUB_MIN_SCORE, 2, 1, 1])), expect="drop:cats_subtlv_bad_length")
    add(n // 4, name="unknown-subtlv", encoding="srh",
        cats=dict(cs_id=100, extra=bytes([77, 3, 1, 2, 3])), expect="steer")
    # Several 5-tuples grouped by one AFFINITY_KEY must land on one instance.
    for g in range(max(1, n // 4)):
        add(4, name="affinity-%d" % g, encoding="doh",
            cats=dict(cs_id=100, affinity=0xA0000000 + g), expect="steer", group="aff-%d" % g)
    return flows


def malformed(rng):
    """Packets that must be dropped with a named reason, and never forwarded."""
    out = []
    eth = Ether(src=CLIENT_MAC, dst=GW_MAC)
    body = cats_body(100)
    # SRH whose Segments Left exceeds Last Entry + 1.
    srh = IPv6ExtHdrSegmentRouting(addresses=[APP_DST], segleft=5, lastentry=0)
    out.append(("srh_bad_segments_left", bytes(eth / IPv6(src="2001:db8:c::bad", dst=APP_DST) / srh / UDP())))
    # CATS body shorter than 8 bytes in a DOH.
    out.append(("cats_truncated", bytes(eth / IPv6(src="2001:db8:c::bad", dst=APP_DST) / IPv6ExtHdrDestOpt(
        options=[HBHOptUnknown(otype=0x1E, optlen=4, optdata=body[:4])]) / UDP())))
    # A sub-TLV whose length runs past the body.
    over = body + bytes([SUB_MAX_LATENCY, 9, 0, 0, 0, 1])
    out.append(("cats_subtlv_overrun", bytes(eth / IPv6(src="2001:db8:c::bad", dst=APP_DST) / IPv6ExtHdrDestOpt(
        options=[HBHOptUnknown(otype=0x1E, optlen=len(over), optdata=over)]) / UDP())))
    # IPv6 payload length larger than the frame.
    p = bytearray(bytes(eth / IPv6(src="2001:db8:c::bad", dst=APP_DST) / UDP() / Raw(b"x" * 16)))
    struct.pack_into("!H", p, 14 + 4, 4000)
    out.append(("ipv6_bad_payload_len", bytes(p)))
    out.append(("ipv4", bytes(eth / IP(src="192.0.2.1", dst="198.51.100.1") / UDP())))
    out.append(("non_ip", bytes(Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP())))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flows", type=int, default=16, help="flows per main class")
    ap.add_argument("--packets", type=int, default=4, help="packets per flow")
    ap.add_argument("--malformed-copies", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    flows = flows_for(rng, args.flows)
    pkts = []
    for rnd in range(args.packets):
        order = list(flows)
        rng.shuffle(order)
        for f in order:
            pkts.append(build(f, rng, rnd))
    bad = malformed(rng)
    for _ in range(args.malformed_copies):
        for _, raw in bad:
            pkts.insert(rng.randrange(len(pkts) + 1), raw)

    wrpcap(args.out, [Ether(p) for p in pkts])
    manifest = {"flows": flows, "packets_per_flow": args.packets,
                "malformed": {name: args.malformed_copies for name, _ in bad}}
    with open(args.out + ".json", "w") as fh:
        json.dump(manifest, fh, indent=1, default=lambda o: o.hex())
    print("%s: %d packets, %d flows" % (args.out, len(pkts), len(flows)))


if __name__ == "__main__":
    main()
