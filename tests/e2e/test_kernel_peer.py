#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""End to end with the Linux kernel as the peer.

  client ns             gateway ns (cats-dataplane)      compute node ns x2    app ns x2
  cl0 ---veth--- gwc [net_af_packet0]
                     [net_af_packet1] gwn1 ---veth--- cn1: End.DX6 ---veth--- UDP socket
                                                       x1 | End a1::1
                                                       x2 | End a2::1
                     [net_af_packet2] gwn2 ---veth--- cn2: End.DX6 ---veth--- UDP sockets

(End.DX6 hands the inner packet to a next hop: the application's namespace
behind each node.) The compute nodes' kernels terminate SRv6 in whichever
way this kernel supports (tools/lab/kernel_srv6.py, printed at the start):
seg6local End.DX6 routes, or, on kernels without CONFIG_IPV6_SEG6_LWTUNNEL,
the SID as a local address and the core SRH processing, with nftables
counters per SID.

CS-ID 101 has one instance with three SIDs, 2001:db8:a2::1 (End on cn2),
2001:db8:a1::1 (End on cn1, reached over the x1-x2 link) and
2001:db8:a2::300 (End.DX6 on cn2): every such packet crosses two kernels
that perform End before the one that decapsulates it.

The client sends real UDP: from a kernel socket to the service SID
(2001:db8:5::64 asks for CS-ID 100), and with scapy carrying the CATS
Destination option and the SRH TLV. cats-dataplane encapsulates (H.Encaps);
each compute node's kernel decapsulates with seg6local End.DX6 and delivers
the inner packet to a listening socket. Checked: every datagram arrives once,
byte-identical, each flow at one node only, both nodes used; the engine's
counters agree. Then path MTU discovery through the gateway: a 1500-byte
packet does not fit once encapsulated, the gateway answers with an ICMPv6
Packet Too Big, and the client's kernel accepts it (checksum, quoted
packet) and lowers the path MTU of its socket to what fits; and a plain
datagram with hop limit 1 gets an ICMPv6 Time Exceeded from the gateway,
which the client's kernel hands to the socket's error queue. Everything
created is removed, also on failure.

usage: test_kernel_peer.py BUILD_DIR
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools", "lab"))
import kernel_srv6  # noqa: E402

BUILD = sys.argv[1]
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
TAG = "ce%d" % (os.getpid() % 100000)
NS = {k: "%s-%s" % (TAG, k) for k in ("cl", "gw", "cn1", "cn2", "app1", "app2")}
APP = "2001:db8:5::64"          # service SID of CS-ID 100, also the app address
APP_MULTI = "2001:db8:5::65"    # service SID of CS-ID 101 (the 3-SID instance), app address behind cn2
PORT = 5000
N_SOCKET_FLOWS, N_OPT_FLOWS, N_SRH_FLOWS, N_MULTI_FLOWS, PKTS = 24, 8, 8, 6, 5
SID = {1: "2001:db8:a1::100", 2: "2001:db8:a2::100"}
MULTI_SIDS = ["2001:db8:a2::1", "2001:db8:a1::1", "2001:db8:a2::300"]

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def mac_of(ns, dev):
    return json.loads(sh("ip", "-j", "link", "show", dev, ns=ns))[0]["address"]


def setup(mode):
    for n in NS.values():
        sh("ip", "netns", "add", n)
    sh("ip", "link", "add", "cl0", "netns", NS["cl"], "type", "veth", "peer", "name", "gwc", "netns", NS["gw"])
    for i in (1, 2):
        sh("ip", "link", "add", "cn%d" % i, "netns", NS["cn%d" % i], "type", "veth",
           "peer", "name", "gwn%d" % i, "netns", NS["gw"])
    for n, devs in ((NS["cl"], ["cl0", "lo"]), (NS["gw"], ["gwc", "gwn1", "gwn2", "lo"]),
                    (NS["cn1"], ["cn1", "lo"]), (NS["cn2"], ["cn2", "lo"])):
        for d in devs:
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=0" % d if d != "lo" else
               "net.ipv6.conf.all.disable_ipv6=0", ns=n, check_rc=False)
            sh("ip", "link", "set", d, "up", ns=n)
    # The gateway's interfaces belong to DPDK: no kernel addresses, no ND.
    for d in ("gwc", "gwn1", "gwn2"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % d, ns=NS["gw"])
    # Client: checksums in software (AF_PACKET hands the engine the frame as
    # the kernel wrote it), a route to the service prefix via the gateway.
    gwc_mac = mac_of(NS["gw"], "gwc")
    sh("ip", "-6", "addr", "add", "2001:db8:c::1/64", "dev", "cl0", "nodad", ns=NS["cl"])
    sh("ethtool", "-K", "cl0", "tx", "off", ns=NS["cl"], check_rc=False)
    sh("ip", "-6", "neigh", "add", "fe80::1", "lladdr", gwc_mac, "dev", "cl0", "nud", "permanent", ns=NS["cl"])
    sh("ip", "-6", "route", "add", "2001:db8:5::/96", "via", "fe80::1", "dev", "cl0", ns=NS["cl"])
    sh("ip", "-6", "route", "add", "2001:db8:a1::/48", "via", "fe80::1", "dev", "cl0", ns=NS["cl"])
    # Compute nodes: End.DX6 for their SID towards the app behind them; a
    # link between them for the 3-SID instance's path.
    nodes = {i: kernel_srv6.Node(NS["cn%d" % i], mode, sh) for i in (1, 2)}
    sh("ip", "link", "add", "x1", "netns", NS["cn1"], "type", "veth", "peer", "name", "x2", "netns", NS["cn2"])
    for i in (1, 2):
        n, dev, app = NS["cn%d" % i], "cn%d" % i, NS["app%d" % i]
        sh("sysctl", "-qw", "net.ipv6.conf.x%d.disable_ipv6=0" % i, ns=n, check_rc=False)
        sh("ip", "link", "set", "x%d" % i, "up", ns=n)
        sh("ip", "-6", "addr", "add", "2001:db8:12::%d/64" % i, "dev", "x%d" % i, "nodad", ns=n)
        sh("ip", "-6", "route", "add", "2001:db8:a%d::/48" % (3 - i), "via", "2001:db8:12::%d" % (3 - i), ns=n)
        sh("ip", "link", "add", "up%d" % i, "netns", n, "type", "veth", "peer", "name", "ap0", "netns", app)
        for ns_, d in ((n, "up%d" % i), (app, "ap0"), (app, "lo")):
            sh("ip", "link", "set", d, "up", ns=ns_)
        sh("ip", "-6", "addr", "add", "2001:db8:e%d::1/64" % i, "dev", "up%d" % i, "nodad", ns=n)
        sh("ip", "-6", "addr", "add", "2001:db8:e%d::2/64" % i, "dev", "ap0", "nodad", ns=app)
        sh("ip", "-6", "addr", "add", APP + "/128", "dev", "lo", ns=app)
        if i == 2:
            sh("ip", "-6", "addr", "add", APP_MULTI + "/128", "dev", "lo", ns=app)
        sh("ip", "-6", "route", "add", "default", "via", "2001:db8:e%d::1" % i, ns=app)
        # The app host accepts the inner SRH (Segments Left 0) of SRH-TLV flows.
        sh("sysctl", "-qw", "net.ipv6.conf.all.seg6_enabled=1", ns=app)
        sh("sysctl", "-qw", "net.ipv6.conf.ap0.seg6_enabled=1", ns=app)
        nodes[i].enable(dev, "x%d" % i)
        sh("ip", "-6", "addr", "add", "2001:db8:ff::a%d/64" % i, "dev", dev, "nodad", ns=n)
        nodes[i].dx6(SID[i], "2001:db8:e%d::2" % i, "up%d" % i)
        # Replies go back to the client through the gateway's FIB.
        sh("ip", "-6", "route", "add", "2001:db8:c::/64", "via", "2001:db8:ff::1", "dev", dev, ns=n,
           check_rc=False)
    nodes[2].end(MULTI_SIDS[0], "cn2")
    nodes[1].end(MULTI_SIDS[1], "cn1")
    nodes[2].dx6(MULTI_SIDS[2], "2001:db8:e2::2", "up2")
    return gwc_mac, nodes


def teardown():
    for n in NS.values():
        subprocess.run(["ip", "netns", "pids", n], capture_output=True)
        pids = subprocess.run(["ip", "netns", "pids", n], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def config(tmp):
    cn = {i: mac_of(NS["cn%d" % i], "cn%d" % i) for i in (1, 2)}
    text = """
gateway:
  encap_source: 2001:db8:ff::1
  service_sid_prefix: 2001:db8:5::/96
  flow_table_size: 4096
ports:
  - name: net_af_packet0
  - name: net_af_packet1
  - name: net_af_packet2
neighbors:
  - {address: "2001:db8:ff::a1", mac: "%s", port: net_af_packet1}
  - {address: "2001:db8:ff::a2", mac: "%s", port: net_af_packet2}
routes:
  - {prefix: "2001:db8:a1::/48", via: "2001:db8:ff::a1"}
  - {prefix: "2001:db8:a2::/48", via: "2001:db8:ff::a2"}
services:
  - cs_id: 100
    name: e2e
    affinity_timeout_s: 60
    instances:
      - {id: 1, sids: ["2001:db8:a1::100"], metrics: {weight: 100}}
      - {id: 2, sids: ["2001:db8:a2::100"], metrics: {weight: 100}}
  - cs_id: 101
    name: e2e-multi
    affinity_timeout_s: 60
    instances:
      - {id: 3, sids: ["%s"], metrics: {weight: 100}}
""" % (cn[1], cn[2], '", "'.join(MULTI_SIDS))
    path = os.path.join(tmp, "e2e.yaml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


LISTENER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[3], %d))
s.settimeout(0.5)
out = open(sys.argv[1], "w")
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        data, addr = s.recvfrom(4096)
    except socket.timeout:
        continue
    out.write("%%s %%d %%s\n" %% (addr[0], addr[1], data.hex()))
    out.flush()
""" % PORT

SENDER = r"""
import socket, struct, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether, IPv6, UDP, Raw, sendp, raw
from scapy.layers.inet6 import IPv6ExtHdrDestOpt, HBHOptUnknown
gw_mac, n_sock, n_opt, n_srh, pkts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
n_multi = int(sys.argv[6])
APP, APP_MULTI, PORT = "%s", "%s", %d
body = bytes([0, 0, 0, 0]) + struct.pack("!I", 100)
frames = []
socks = []
for f in range(n_sock):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("2001:db8:c::1", 20000 + f))
    socks.append(s)
msocks = []
for f in range(n_multi):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("2001:db8:c::1", 25000 + f))
    msocks.append(s)
for seq in range(pkts):
    for f, s in enumerate(socks):
        s.sendto(b"sock-%%d-%%d" %% (f, seq), (APP, PORT))
    for f, s in enumerate(msocks):
        s.sendto(b"multi-%%d-%%d" %% (f, seq), (APP_MULTI, PORT))
    for f in range(n_opt):
        frames.append(Ether(dst=gw_mac) / IPv6(src="2001:db8:c::1", dst=APP) /
                      IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optlen=len(body), optdata=body)]) /
                      UDP(sport=30000 + f, dport=PORT) / Raw(b"opt-%%d-%%d" %% (f, seq)))
    for f in range(n_srh):
        u = UDP(sport=40000 + f, dport=PORT) / Raw(b"srh-%%d-%%d" %% (f, seq))
        u = raw(IPv6(src="2001:db8:c::1", dst=APP) / u)[40:]
        tlv = bytes([124, len(body)]) + body + bytes([4, 4, 0, 0, 0, 0])
        srh = bytes([17, (16 + len(tlv)) // 8, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, APP) + tlv
        frames.append(Ether(dst=gw_mac) / IPv6(src="2001:db8:c::1", dst=APP, nh=43) / Raw(srh + u))
sendp(frames, iface="cl0", verbose=False)
""" % (APP, APP_MULTI, PORT)


# Path MTU discovery from a connected socket that may not fragment: the
# first datagram makes a 1500-byte packet, too big once encapsulated; the
# socket's path MTU must drop to what the gateway reports, a datagram of
# that old size must then be refused locally, and one of the new size
# must go through. Prints: MTU before, MTU after, errno of the refused send.
PMTU = r"""
import re, socket, subprocess, time
APP = "%s"
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO, IPV6_MTU = 23, 2, 24
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
s.bind(("2001:db8:c::1", 21000))
s.connect((APP, %d))
before = s.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)
s.send(b"pmtu-big-" + b"x" * (before - 48 - 9))
# The kernel keeps what a Packet Too Big taught it as a route exception
# (the socket's own IPV6_MTU still shows the route it cached).
after = before
deadline = time.time() + 5
while after == before and time.time() < deadline:
    time.sleep(0.05)
    route = subprocess.run(["ip", "-6", "route", "get", APP, "from", "2001:db8:c::1"],
                           capture_output=True, text=True).stdout
    m = re.search(r" mtu (\d+)", route)
    after = int(m.group(1)) if m else before
refused = 0
try:
    s.send(b"pmtu-big-" + b"x" * (before - 48 - 9))
except OSError as e:
    refused = e.errno
# The Packet Too Big also left EMSGSIZE pending on the connected socket.
s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
s.send(b"pmtu-fits-" + b"z" * (after - 48 - 10))
print(before, after, refused)
""" % (APP, PORT)
PMTU_EXPECTED = 1500 - 64   # one SID: H.Encaps adds 40 + 8 + 16 bytes

# A plain (not steered) datagram with hop limit 1 to an address the
# gateway's FIB routes: the gateway must answer Time Exceeded, which the
# client's kernel queues on the socket (IPV6_RECVERR). Prints origin, type,
# code and the offender's address, or "none".
TRACE = r"""
import socket, struct, time
IPV6_RECVERR = 25
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
s.bind(("2001:db8:c::1", 22000))
s.sendto(b"trace", ("2001:db8:a1::99", 33434))
out = "none"
anc = []
deadline = time.time() + 5
while not anc and time.time() < deadline:
    try:
        _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except BlockingIOError:
        time.sleep(0.05)
for level, kind, data in anc:
    if level == socket.IPPROTO_IPV6 and kind == IPV6_RECVERR:
        _errno, origin, typ, code = struct.unpack_from("=IBBB", data)
        offender = socket.inet_ntop(socket.AF_INET6, data[16 + 8:16 + 24])
        out = "%d %d %d %s" % (origin, typ, code, offender)
print(out)
"""


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, AF_PACKET)")
        return 77
    try:
        mode = kernel_srv6.detect()
    except kernel_srv6.Unsupported as e:
        print("SKIP: %s" % e)
        return 77
    print("SRv6 termination on the compute nodes: %s" % mode, flush=True)
    teardown()
    dp = None
    nodes = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            gwc_mac, nodes = setup(mode)
            cfg = config(tmp)
            stats_path = os.path.join(tmp, "stats.json")
            dp = subprocess.Popen(
                ["ip", "netns", "exec", NS["gw"], DP, "--no-huge", "-m", "512", "--no-pci",
                 "--file-prefix", TAG, "-l", "0", "--no-telemetry", "--log-level", "lib.eal:error",
                 "--vdev", "net_af_packet0,iface=gwc", "--vdev", "net_af_packet1,iface=gwn1",
                 "--vdev", "net_af_packet2,iface=gwn2",
                 "--", "--config", cfg, "--stats-file", stats_path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            listeners = {}
            for i, app, addr in ((1, "app1", APP), (2, "app2", APP), ("m", "app2", APP_MULTI)):
                out = os.path.join(tmp, "rx%s.txt" % i)
                listeners[i] = (out, subprocess.Popen(
                    ["ip", "netns", "exec", NS[app], "/usr/bin/python3", "-c", LISTENER, out, "20", addr]))
            time.sleep(3)   # EAL up, ports started, listeners bound
            check(dp.poll() is None, "cats-dataplane exited early: %s" % (dp.stderr.read() if dp.poll() is not None else ""))
            snd = subprocess.run(["ip", "netns", "exec", NS["cl"], "/usr/bin/python3", "-c", SENDER, gwc_mac,
                                  str(N_SOCKET_FLOWS), str(N_OPT_FLOWS), str(N_SRH_FLOWS), str(PKTS),
                                  str(N_MULTI_FLOWS)],
                                 capture_output=True, text=True, timeout=120)
            check(snd.returncode == 0, "sender failed: " + snd.stderr[-1000:])
            pm = subprocess.run(["ip", "netns", "exec", NS["cl"], "/usr/bin/python3", "-c", PMTU],
                                capture_output=True, text=True, timeout=60)
            check(pm.returncode == 0, "path MTU probe failed: " + pm.stderr[-1000:])
            pmtu = [int(x) for x in pm.stdout.split()] if pm.returncode == 0 else [0, 0, 0]
            check(pmtu[0] == 1500 and pmtu[1] == PMTU_EXPECTED,
                  "client's path MTU to the service went %d -> %d, want 1500 -> %d" % (pmtu[0], pmtu[1], PMTU_EXPECTED))
            check(pmtu[2] == 90, "a 1500-byte datagram after the Packet Too Big: errno %d, want EMSGSIZE" % pmtu[2])
            tr = subprocess.run(["ip", "netns", "exec", NS["cl"], "/usr/bin/python3", "-c", TRACE],
                                capture_output=True, text=True, timeout=30)
            # SO_EE_ORIGIN_ICMP6 (3), Time Exceeded (3), code 0, from the gateway.
            check(tr.stdout.strip() == "3 3 0 2001:db8:ff::1",
                  "hop limit 1 through the gateway: %s %s" % (tr.stdout.strip(), tr.stderr[-500:]))
            for out, p in listeners.values():
                p.wait(timeout=30)
            kernel = {i: nodes[i].counters() for i in (1, 2)}
            dp.send_signal(signal.SIGTERM)
            dp_out, dp_err = dp.communicate(timeout=30)
            check(dp.returncode == 0, "cats-dataplane exit %s: %s" % (dp.returncode, dp_err[-1000:]))
            st = json.load(open(stats_path))

            seen = {}        # payload -> node
            flows = {}       # flow name -> set of nodes
            pmtu_rx = []     # the path MTU probe's datagrams that arrived
            for i, (out, _) in listeners.items():
                for line in open(out):
                    src, sport, data = line.split()
                    payload = bytes.fromhex(data).decode()
                    if payload.startswith("pmtu-"):
                        pmtu_rx.append((payload.split("-")[1], len(payload), i))
                        continue
                    check(payload not in seen, "datagram %s delivered twice" % payload)
                    seen[payload] = i
                    kind, f, _seq = payload.split("-")
                    flows.setdefault((kind, f), set()).add(i)
                    check(src == "2001:db8:c::1", "inner source changed: %s" % src)
            total = (N_SOCKET_FLOWS + N_OPT_FLOWS + N_SRH_FLOWS + N_MULTI_FLOWS) * PKTS
            check(len(seen) == total, "delivered %d of %d datagrams" % (len(seen), total))
            for fl, where in flows.items():
                check(len(where) == 1, "flow %s reached nodes %s" % (fl, sorted(where, key=str)))
                check((fl[0] == "multi") == (where == {"m"}), "flow %s reached %s" % (fl, where))
            per_node = {i: sum(1 for v in seen.values() if v == i) for i in (1, 2, "m")}
            check(all(per_node.values()), "a compute node got nothing: %s" % per_node)
            enc = st["encodings"]
            # The socket flows and the path MTU probe's datagram that fitted.
            check(enc["service_sid"] == (N_SOCKET_FLOWS + N_MULTI_FLOWS) * PKTS + len(pmtu_rx),
                  "service_sid count %s" % enc)
            check(enc["option"] == N_OPT_FLOWS * PKTS and enc["srh_tlv"] == N_SRH_FLOWS * PKTS,
                  "encodings %s" % enc)
            # Of the probe, only the datagram that fits the new MTU arrives.
            check([(k, n) for k, n, _ in pmtu_rx] == [("fits", PMTU_EXPECTED - 48)],
                  "path MTU probe datagrams received: %s" % pmtu_rx)
            for _, _, node in pmtu_rx:
                per_node[node] += 1
            check(st["icmp"]["too_big_sent"] == 1 and st["drops"]["too_big"] == 1,
                  "icmp %s, too_big drops %d" % (st["icmp"], st["drops"]["too_big"]))
            check(st["icmp"]["time_exceeded_sent"] == 1 and st["drops"]["hop_limit_exceeded"] == 1,
                  "icmp %s, hop_limit_exceeded drops %d" % (st["icmp"], st["drops"]["hop_limit_exceeded"]))
            svc = {s["cs_id"]: s for s in st["services"]}
            inst = {i["id"]: i["packets"] for cs in (100, 101) for i in svc[cs]["instances"]}
            check(inst.get(1) == per_node[1] and inst.get(2) == per_node[2] and inst.get(3) == per_node["m"],
                  "engine says %s, kernels received %s" % (inst, per_node))
            # What each node's kernel terminated (End.DX6) is what the engine
            # sent to that instance; the 3-SID instance's packets were
            # processed by End on cn2, then on cn1, before cn2 decapsulated.
            want = {(1, SID[1]): inst.get(1), (2, SID[2]): inst.get(2),
                    (2, MULTI_SIDS[0]): inst.get(3), (1, MULTI_SIDS[1]): inst.get(3),
                    (2, MULTI_SIDS[2]): inst.get(3)}
            got = {(i, s): kernel[i].get(s) for i, s in want}
            check(got == want and inst.get(3) == N_MULTI_FLOWS * PKTS,
                  "kernel SID counters (%s) %s, engine %s" % (mode, got, want))
            # The largest inner packet the stats report is the path MTU the
            # client's kernel learned from the Packet Too Big.
            inner = [i["max_inner_len"] for i in svc[100]["instances"]]
            check(inner == [PMTU_EXPECTED, PMTU_EXPECTED], "max_inner_len %s, want %d (the path MTU the "
                  "client's kernel must learn)" % (inner, PMTU_EXPECTED))
            print("delivered %d datagrams: node1 %d, node2 %d, 3-SID instance %d; kernel (%s) %s; flows %d; "
                  "drops %s" % (len(seen), per_node[1], per_node[2], per_node["m"], mode,
                                {"%s@cn%d" % (s, i): v for (i, s), v in got.items()}, len(flows),
                {k: v for k, v in st["drops"].items() if v}))
    finally:
        if failures:   # what the kernels saw, for the log
            for i in (1, 2):
                print(sh("ip", "-s", "link", "show", "cn%d" % i, ns=NS["cn%d" % i], check_rc=False))
                snmp = sh("cat", "/proc/net/snmp6", ns=NS["cn%d" % i], check_rc=False)
                print(" ".join(l for l in snmp.splitlines()
                               if l.split()[-1] != "0" and ("Ip6" in l or "Udp6" in l)))
        if dp is not None and dp.poll() is None:
            dp.kill()
        teardown()
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
