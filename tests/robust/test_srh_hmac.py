#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 6, second part: the SRH HMAC TLV (RFC 8754 2.1.2) on client requests.

Before the fix any client could ask for priority or GPU compute: nothing
authenticated the request. Now, with gateway.srh_hmac {require: true}, the
real cats-dataplane on net_pcap steers a new flow only if its SRH carries an
HMAC TLV that verifies. The HMACs here are computed with Python's hmac
module from the RFC's text, independently of dataplane/srh_hmac.cpp.
(No dissector cross-checks the TLV's layout: tshark 4.0 does not dissect
SRH TLVs, and scapy 2.5's IPv6ExtHdrSegmentRoutingTLVHMAC computes its
length as HMAC + 48 instead of + 6.)
  - valid HMAC: encapsulated towards the instance;
  - a wrong key, an unknown Key ID, no HMAC TLV: dropped, each counted
    (srh_hmac_bad, srh_hmac_unknown_key, srh_hmac_missing);
  - the second packet of the valid flow carries a broken HMAC: still
    steered (a pinned flow is not re-checked; only choices are).

Usage: test_srh_hmac.py BUILD_DIR. Root for EAL (else skipped).
"""
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import sys
import tempfile

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import UDP, Ether, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

from robust_common import check, need_root, run, run_dataplane  # noqa: E402

KEY = bytes(range(0x40, 0x60))
KEY_ID = 0x00C0FFEE
CLIENT = "2001:db8:1::10"
SEGS = ["2001:db8:9::2", "2001:db8:9::1"]  # Segment List[0] (last), [1] (active)

CONFIG = """
gateway:
  encap_source: 2001:db8:ff::1
  service_sid_prefix: 2001:db8:5::/96
  srh_hmac:
    require: true
    keys: [{key_id: %d, key: "%s"}]
ports: [{name: net_pcap0}]
neighbors: [{address: 2001:db8:ff::a1, mac: "02:00:00:00:00:a1", port: net_pcap0}]
routes: [{prefix: 2001:db8:a0::/44, via: 2001:db8:ff::a1}]
services:
  - cs_id: 100
    name: gpu
    instances: [{id: 1, sids: [2001:db8:a1::100]}]
""" % (KEY_ID, KEY.hex())


def a16(text):
    return socket.inet_pton(socket.AF_INET6, text)


def hmac_tlv(src, key, key_id, corrupt=False):
    """RFC 8754 2.1.2.1: HMAC over Source Address, Last Entry, Flags, Key ID, Segment List."""
    text = a16(src) + bytes([len(SEGS) - 1, 0]) + struct.pack("!I", key_id) + b"".join(a16(s) for s in SEGS)
    mac = bytearray(hmac.new(key, text, hashlib.sha256).digest())
    if corrupt:
        mac[0] ^= 0x80
    return bytes([5, 38, 0, 0]) + struct.pack("!I", key_id) + bytes(mac)


def request(sport, tlv=None):
    """A CATS request for CS-ID 100 in the SRH (TLV 124), then the HMAC TLV last."""
    body = bytes([0, 0, 0, 0]) + struct.pack("!I", 100)
    tlvs = bytes([124, len(body)]) + body
    pad = -(8 + 32 + len(tlvs)) % 8
    tlvs += b"\x00" if pad == 1 else (bytes([4, pad - 2]) + bytes(pad - 2) if pad else b"")
    if tlv is not None:
        tlvs += tlv
    srh = bytes([17, (32 + len(tlvs)) // 8, 4, 1, len(SEGS) - 1, 0, 0, 0]) + b"".join(a16(s) for s in SEGS) + tlvs
    udp = bytes(UDP(sport=sport, dport=443, chksum=0) / Raw(b"q" * 24))
    ip = IPv6(src=CLIENT, dst=SEGS[1], nh=43, plen=len(srh) + len(udp))
    return Ether(src="02:00:00:00:00:c1", dst="02:00:00:00:00:01", type=0x86DD) / Raw(bytes(ip) + srh + udp)


def main():
    need_root("EAL (net_pcap) runs as root here")
    tmp = tempfile.mkdtemp(prefix="cats-robust-hmac-")
    cfg = os.path.join(tmp, "gateway.yaml")
    with open(cfg, "w") as fh:
        fh.write(CONFIG)
    pkts = [
        request(1000, hmac_tlv(CLIENT, KEY, KEY_ID)),                # 0 valid: steered
        request(1000, hmac_tlv(CLIENT, KEY, KEY_ID, corrupt=True)),  # 1 same flow, broken: pinned, steered
        request(2000, hmac_tlv(CLIENT, b"x" * 32, KEY_ID)),          # 2 wrong key: srh_hmac_bad
        request(3000, hmac_tlv(CLIENT, KEY, 12345)),                 # 3 unknown key id
        request(4000),                                               # 4 no HMAC TLV: missing
    ]
    inp = os.path.join(tmp, "in.pcap")
    wrpcap(inp, pkts)

    out = os.path.join(tmp, "out.pcap")
    stats = os.path.join(tmp, "stats.json")
    p = run_dataplane("hmac", cfg, ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (inp, out)],
                      ["--idle-exit", "300", "--stats-file", stats])
    if not check(p.returncode == 0, "cats-dataplane exits 0 (%d: %s)" % (p.returncode, p.stderr[-600:])):
        return
    with open(stats) as fh:
        st = json.load(fh)
    drops = {k: v for k, v in st["drops"].items() if v}
    check(drops == {"srh_hmac_bad": 1, "srh_hmac_unknown_key": 1, "srh_hmac_missing": 1},
          "each bad request is dropped under its reason (%s)" % drops)
    verified = st.get("totals", st).get("srh_hmac_verified")
    check(verified == 1, "one HMAC verified: the valid flow's first packet only (%s)" % verified)
    outs = list(rdpcap(out)) if os.path.getsize(out) > 24 else []
    check(len(outs) == 2, "the valid flow's two packets come out (%d)" % len(outs))
    check(len(outs) == 2 and all(o[IPv6].dst == "2001:db8:a1::100" and o.getlayer(IPv6, 2) is not None and
                                 o.getlayer(IPv6, 2).src == CLIENT for o in outs),
          "both are the client's packet encapsulated towards the instance (%s)" % [o[IPv6].dst for o in outs])
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(main)
