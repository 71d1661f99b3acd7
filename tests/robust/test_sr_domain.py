#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 6: client SRHs into the SR domain (RFC 8754 5.1 and 7.1).

Before the fix a client could send an SRH whose segments were the compute
instances' own SIDs and reach any instance directly, past the gateway's
choice (and its counters). Now, with gateway.sr_domain set, the real
cats-dataplane on two net_pcap ports (packets made by scapy):
  - on the client port (not trusted): an SRH naming an instance SID as its
    last segment, an SRH whose active segment is one, and a plain packet to
    one are dropped and counted as sr_domain; a CATS request to a service
    SID and ordinary IPv6 outside the domain still go through;
  - on the trusted port the same three are not refused for the domain;
  - a domain prefix overlapping the service-SID prefix is a config error
    naming the field.

Usage: test_sr_domain.py BUILD_DIR. Root for EAL (else skipped).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import UDP, Ether, rdpcap, wrpcap  # noqa: E402
from scapy.layers.inet6 import IPv6, IPv6ExtHdrSegmentRouting  # noqa: E402

from robust_common import check, need_root, run, run_dataplane  # noqa: E402

CLIENT_MAC = "02:00:00:00:00:c1"
GW_MAC = "02:ca:75:00:00:00"  # net_pcap takes any destination MAC

CONFIG = """
gateway:
  encap_source: 2001:db8:ff::1
  service_sid_prefix: 2001:db8:5::/96
  sr_domain: [2001:db8:a0::/44, 2001:db8:ff::/48]
ports:
  - {name: net_pcap0}
  - {name: net_pcap1, trusted: true}
neighbors:
  - {address: 2001:db8:ff::a1, mac: "02:00:00:00:00:a1", port: net_pcap1}
routes:
  - {prefix: 2001:db8:a0::/44, via: 2001:db8:ff::a1}
  - {prefix: 2001:db8:100::/40, via: 2001:db8:ff::a1}
services:
  - cs_id: 100
    name: video
    instances:
      - {id: 1, sids: [2001:db8:a1::100]}
"""


def eth(pkt):
    return Ether(src=CLIENT_MAC, dst=GW_MAC) / pkt


def packets():
    c = "2001:db8:1::10"
    payload = UDP(sport=4000, dport=5000) / (b"x" * 32)
    return [
        # 0: the client's own route to instance 1: its SID as the last segment.
        eth(IPv6(src=c, dst="2001:db8:100::1") /
            IPv6ExtHdrSegmentRouting(addresses=["2001:db8:a1::100", "2001:db8:100::1"], segleft=1) / payload),
        # 1: the active segment (the destination) is an instance SID.
        eth(IPv6(src=c, dst="2001:db8:a1::100") /
            IPv6ExtHdrSegmentRouting(addresses=["2001:db8:100::9", "2001:db8:a1::100"], segleft=1) / payload),
        # 2: plain IPv6 straight to an instance SID.
        eth(IPv6(src=c, dst="2001:db8:a1::100") / payload),
        # 3: a CATS request to the service SID of CS-ID 100: steered.
        eth(IPv6(src=c, dst="2001:db8:5::64") / payload),
        # 4: ordinary IPv6 outside the domain: forwarded.
        eth(IPv6(src=c, dst="2001:db8:100::1") / payload),
    ]


def run_ports(tmp, cfg, client_pcap, trusted_pcap, tag):
    out0, out1 = os.path.join(tmp, "out0-%s.pcap" % tag), os.path.join(tmp, "out1-%s.pcap" % tag)
    stats = os.path.join(tmp, "stats-%s.json" % tag)
    p = run_dataplane("srd-" + tag, cfg, ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (client_pcap, out0),
                                          "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (trusted_pcap, out1)],
                      ["--idle-exit", "300", "--stats-file", stats])
    if not check(p.returncode == 0, "%s: cats-dataplane exits 0 (%d: %s)" % (tag, p.returncode, p.stderr[-600:])):
        return None, [], []
    with open(stats) as fh:
        st = json.load(fh)
    def read(path):
        return list(rdpcap(path)) if os.path.getsize(path) > 24 else []
    return st, read(out0), read(out1)


def main():
    need_root("EAL (net_pcap) runs as root here")
    tmp = tempfile.mkdtemp(prefix="cats-robust-srd-")
    cfg = os.path.join(tmp, "gateway.yaml")
    with open(cfg, "w") as fh:
        fh.write(CONFIG)
    pk = packets()
    client = os.path.join(tmp, "client.pcap")
    trusted = os.path.join(tmp, "trusted.pcap")
    empty = os.path.join(tmp, "empty.pcap")
    wrpcap(client, pk)
    wrpcap(trusted, pk[:3])
    wrpcap(empty, [])

    # From the client port: 0, 1, 2 dropped; 3 steered, 4 forwarded.
    st, out0, out1 = run_ports(tmp, cfg, client, empty, "client")
    if st is None:
        return
    drops = st["drops"]
    check(drops.get("sr_domain") == 3, "three client packets into the domain are counted as sr_domain (%s)" %
          {k: v for k, v in drops.items() if v})
    check(sum(v for k, v in drops.items() if k != "sr_domain") == 0, "and nothing else was dropped")
    outs = out0 + out1
    check(len(outs) == 2, "two packets come out (%d)" % len(outs))
    das = sorted(p[IPv6].dst for p in outs)
    check(das == ["2001:db8:100::1", "2001:db8:a1::100"],
          "the service request is encapsulated to its instance, the plain packet forwarded (%s)" % das)
    inner_ok = any(p[IPv6].dst == "2001:db8:a1::100" and IPv6 in p[IPv6].payload and
                   p[IPv6].payload[IPv6].dst == "2001:db8:5::64" for p in outs)
    check(inner_ok, "the steered packet is the client's request inside H.Encaps")

    # The same three from the trusted port are not refused for the domain.
    st, out0, out1 = run_ports(tmp, cfg, empty, trusted, "trusted")
    if st is None:
        return
    check(st["drops"].get("sr_domain", 0) == 0, "from the trusted port nothing is dropped as sr_domain (%s)" %
          {k: v for k, v in st["drops"].items() if v})
    check(len(out0) + len(out1) == 3, "the three go on from the trusted port (%d out)" % (len(out0) + len(out1)))

    # A domain over the service SIDs: refused, naming the field.
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as fh:
        fh.write(CONFIG.replace("sr_domain: [2001:db8:a0::/44, 2001:db8:ff::/48]", "sr_domain: [2001:db8::/32]"))
    p = run_dataplane("srd-bad", bad, ["net_null0"], mem="256")
    out = p.stdout + p.stderr
    check(p.returncode != 0 and "gateway.sr_domain[0]" in out and "service_sid_prefix" in out,
          "a domain over the service SIDs is a config error naming gateway.sr_domain[0] (%d: %s)" %
          (p.returncode, out.strip()[-200:]))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    run(main)
