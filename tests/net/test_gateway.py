#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The gateway on a real network: no static MAC anywhere, the kernel as
every peer (issue 17).

  cl ns                      gw ns (cats-dataplane, cats-control)             r1 ns            cn1 ns
  cl0 c::1 ---veth--- gwc [net_af_packet0] c::fe/64  (TAP cats0)
                          [net_af_packet1] f1::1/64  (TAP cats1) ---veth--- r1a f1::2 | r1b e1::1 --- cn1 e1::2
                          [net_af_packet2] f2::1/64  (TAP cats2) ---veth--- cn2 f2::2                  (cn2 ns)

(all addresses in 2001:db8::/32). The gateway's config has port addresses
and routes whose next hops (f1::2, f2::2) are only on-link: cats learns
their MACs from the kernel behind its TAPs (the neighbor mirror), and the
client and r1 learn the gateway's MAC by NDP through the TAPs. The compute
nodes terminate SRv6 with the kernel's core SRH processing (the SID a local
address, seg6_enabled): the decapsulated datagram goes to a UDP socket
bound to the service address on the node itself.

Checked, in order:
  1. the gateway as a host: ping6 from the client to c::fe is answered; a
     TCP connection to a listener in the gateway's kernel carries data both
     ways; the port counters show punted and injected packets;
  2. agents over the data port: cats-agent on cn1 (behind r1) and on cn2
     send their advertisements to f1::1 / f2::1, i.e. through the DPDK
     ports and the TAPs to cats-control; both instances show up in
     `catsctl service list` and the dataplane's table;
  3. NDP only: CATS traffic (UDP to the service SID) from the client is
     steered to both nodes; every datagram arrives once; the neighbors of
     the gateway are the real MACs of r1 and cn2, learned, not configured;
  4. neighbor failure: r1's link goes down; the neighbor f1::2 reaches
     FAILED, instance 1 is ineligible ("neighbor_failed", counted),
     traffic keeps flowing to cn2; the link comes back and, with no
     restart, f1::2 is reachable again and new flows reach cn1 again;
     `catsctl monitor --json --type neighbor` showed it go FAILED and back;
  5. malformed NDP (hop limit 254, a truncated NS, a bad option length) and
     a frame larger than the port MTU: dropped (counted by the kernel or
     the gateway), nothing crashes, the gateway still answers ping6;
  6. routes from the kernel (gateway.kernel_routes): a prefix the config
     does not route is dropped as no_route until `ip -6 route add` puts it
     in the gateway's main table through the kernel interface towards cn2,
     via cn2's link-local address (as a BGP daemon would) at metric 50 and
     via its global address at metric 100; the lower metric is installed
     and traffic reaches cn2, its next hop resolved by NDP; deleting it
     installs the other, deleting that drops as no_route again; a route
     the config has is not overridden (shadowed).

With --af-xdp the same runs with the kernel owning the gateway's veths:
net_af_xdp ports with cats_xdp.bpf.o as their xdp_prog. No TAP then: the
kernel has the addresses on the veths themselves, the XDP program passes
NDP and the host's traffic to it and redirects CATS traffic to DPDK, and
its verdict counters (catsctl port list) must match what was sent: every
steered datagram as service_sid, the plain packets as transit. The
malformed-NDP step checks only that nothing breaks (the kernel gets NDP
directly, cats never sees it).

Usage: test_gateway.py BUILD_DIR [--af-xdp]. Exit 77 (skipped) without
root or without what the kernel needs, with one line saying which.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
SKIP = 77
BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
AF_XDP = "--af-xdp" in sys.argv[2:]
XDP_OBJ = os.path.join(BUILD, "dataplane", "xdp", "cats_xdp.bpf.o")
PMD = "net_af_xdp" if AF_XDP else "net_af_packet"
GW_IFS = ["gwc", "gwr", "gwn"]                      # the gateway's veths, port order
KIF = GW_IFS if AF_XDP else ["cats0", "cats1", "cats2"]   # its kernel interfaces
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
CONTROL = os.path.join(BUILD, "control", "cats-control")
AGENT = os.path.join(BUILD, "tools", "agent", "cats-agent")
CATSCTL = os.path.join(BUILD, "tools", "catsctl", "catsctl")
TAG = ("cx%d" if AF_XDP else "cn%d") % (os.getpid() % 100000)
NS = {k: "%s-%s" % (TAG, k) for k in ("cl", "gw", "r1", "cn1", "cn2")}
APP = "2001:db8:5::64"      # service SID of CS-ID 100; bound on each node
SID = {1: "2001:db8:a1::100", 2: "2001:db8:a2::100"}
GW_C, GW_F1, GW_F2 = "2001:db8:c::fe", "2001:db8:f1::1", "2001:db8:f2::1"
R1, CN2 = "2001:db8:f1::2", "2001:db8:f2::2"
UDP_PORT = 5000
KEYS = {n: "%032x" % (0x2222 * n * 0x1000100010001) for n in (1, 2)}

failures = []


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        failures.append(msg)
    return cond


def sh(*args, ns=None, check_rc=True, timeout=60):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def mac_of(ns, dev):
    return json.loads(sh("ip", "-j", "link", "show", dev, ns=ns))[0]["address"]


def wait_for(pred, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def teardown():
    for n in NS.values():
        pids = subprocess.run(["ip", "netns", "pids", n], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def need():
    """The first thing missing, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, TAP, AF_PACKET)"
    for b in (DP, CONTROL, AGENT, CATSCTL):
        if not os.access(b, os.X_OK):
            return "%s is not built" % b
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (CONFIG_TUN): net_tap cannot make the kernel interfaces"
    if not os.path.exists("/proc/sys/net/ipv6/conf/all/seg6_enabled"):
        return "kernel without IPv6 Segment Routing (CONFIG_IPV6_SEG6): the nodes cannot terminate SRv6"
    if subprocess.run(["/usr/bin/python3", "-c", "import scapy"], capture_output=True).returncode != 0:
        return "scapy is not importable from /usr/bin/python3"
    if AF_XDP:
        if not os.path.exists(XDP_OBJ):
            return "cats_xdp.bpf.o is not built (clang or libbpf missing)"
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            return "kernel without BTF (CONFIG_DEBUG_INFO_BTF): libbpf cannot load cats_xdp"
        if subprocess.run(["grep", "-qw", "xdp", "/proc/net/protocols"]).returncode != 0 and \
                not os.path.exists("/proc/sys/net/core/bpf_jit_enable"):
            return "kernel without XDP sockets (CONFIG_XDP_SOCKETS)"
    return None


def setup():
    for n in NS.values():
        sh("ip", "netns", "add", n)
        sh("ip", "link", "set", "lo", "up", ns=n)
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0", ns=n, check_rc=False)
    links = (("cl", "cl0", "gw", "gwc"), ("gw", "gwr", "r1", "r1a"), ("r1", "r1b", "cn1", "cn1a"),
             ("gw", "gwn", "cn2", "cn2a"))
    for a, da, b, db in links:
        sh("ip", "link", "add", da, "netns", NS[a], "type", "veth", "peer", "name", db, "netns", NS[b])
    for a, da, b, db in links:
        for n, d in ((a, da), (b, db)):
            sh("ip", "link", "set", d, "up", ns=NS[n])
    # DPDK owns the gateway's veths: no kernel IPv6 on them (with af_xdp
    # the kernel keeps them, and cats puts the addresses there).
    if not AF_XDP:
        for d in GW_IFS:
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % d, ns=NS["gw"])
    # Checksums in software: AF_PACKET hands the gateway what the kernel wrote.
    for n, d in (("cl", "cl0"), ("r1", "r1a"), ("cn2", "cn2a"), ("cn1", "cn1a"), ("r1", "r1b")):
        sh("ethtool", "-K", d, "tx", "off", ns=NS[n], check_rc=False)
    sh("ip", "-6", "addr", "add", "2001:db8:c::1/64", "dev", "cl0", "nodad", ns=NS["cl"])
    sh("ip", "-6", "route", "add", "2001:db8:5::/96", "via", GW_C, ns=NS["cl"])
    sh("ip", "-6", "route", "add", "2001:db8:a1::/48", "via", GW_C, ns=NS["cl"])
    # Room for a frame larger than the gateway's port MTU (1500) on the wire
    # (gwc's own MTU is what DPDK sets; step 5 raises it).
    sh("ip", "link", "set", "cl0", "mtu", "1900", ns=NS["cl"])
    sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=NS["r1"])
    # The link goes down and up in step 4: keep its address meanwhile.
    sh("sysctl", "-qw", "net.ipv6.conf.r1a.keep_addr_on_down=1", ns=NS["r1"])
    sh("ip", "-6", "addr", "add", R1 + "/64", "dev", "r1a", "nodad", ns=NS["r1"])
    sh("ip", "-6", "addr", "add", "2001:db8:e1::1/64", "dev", "r1b", "nodad", ns=NS["r1"])
    sh("ip", "-6", "route", "add", "2001:db8:a1::/48", "via", "2001:db8:e1::2", ns=NS["r1"])
    sh("ip", "-6", "addr", "add", "2001:db8:e1::2/64", "dev", "cn1a", "nodad", ns=NS["cn1"])
    sh("ip", "-6", "route", "add", "default", "via", "2001:db8:e1::1", ns=NS["cn1"])
    sh("ip", "-6", "addr", "add", CN2 + "/64", "dev", "cn2a", "nodad", ns=NS["cn2"])
    sh("ip", "-6", "route", "add", "default", "via", GW_F2, ns=NS["cn2"])
    # r1 forwards what cn1 sends to the gateway's f1 address; the default
    # route of r1 points at the gateway for the rest.
    sh("ip", "-6", "route", "add", "default", "via", GW_F1, ns=NS["r1"])
    for i, dev in ((1, "cn1a"), (2, "cn2a")):
        n = NS["cn%d" % i]
        for d in ("all", "default", dev):
            sh("sysctl", "-qw", "net.ipv6.conf.%s.seg6_enabled=1" % d, ns=n)
        sh("ip", "-6", "addr", "add", SID[i] + "/128", "dev", "lo", ns=n)
        sh("ip", "-6", "addr", "add", APP + "/128", "dev", "lo", ns=n)


def configs(tmp, adv_port):
    dp_sock = os.path.join(tmp, "dp.sock")
    ctl_sock = os.path.join(tmp, "ctl.sock")
    with open(os.path.join(tmp, "gw.yaml"), "w") as fh:
        fh.write("""
gateway: {encap_source: "%s", service_sid_prefix: "2001:db8:5::/96", flow_table_size: 4096,
          kernel_routes: {table: main, max_next_hops: 8}}
ports:
  - {name: %s0, addresses: ["%s/64"]}
  - {name: %s1, addresses: ["%s/64"]}
  - {name: %s2, addresses: ["%s/64"]}
routes:
  - {prefix: "2001:db8:a1::/48", via: "%s"}
  - {prefix: "2001:db8:a2::/48", via: "%s"}
services: []
""" % (GW_F1, PMD, GW_C, PMD, GW_F1, PMD, GW_F2, R1, CN2))
    with open(os.path.join(tmp, "control.yaml"), "w") as fh:
        fh.write("""
listen: [{address: "::", port: %d}]
ctl_socket: %s
dataplane_socket: %s
peers:
%s
policy: {metric_threshold_pct: 5, max_pushes_per_s: 5, startup_hold_s: 0}
services:
  - {cs_id: 100, name: steer, affinity_timeout_s: 60, instances: []}
""" % (adv_port, ctl_sock, dp_sock, "\n".join(
            '  - {node_id: %d, key_id: %d, key: "%s", name: cn%d}' % (n, n, KEYS[n], n) for n in (1, 2))))
    return dp_sock, ctl_sock


def catsctl(ctl_sock, *args):
    p = subprocess.run([CATSCTL, "-s", ctl_sock, "--json", *args], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def dp_stats(ctl_sock):
    r = catsctl(ctl_sock, "stats")
    return (r or {}).get("dataplane") if isinstance(r, dict) else None


def neighbors(ctl_sock):
    st = dp_stats(ctl_sock)
    return {n["address"]: n for n in (st or {}).get("neighbors", [])}


def ports(ctl_sock):
    st = dp_stats(ctl_sock)
    return {p["port"]: p for p in (st or {}).get("kernel_ports", [])}


LISTENER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[2], %d))
s.settimeout(0.3)
out = open(sys.argv[1], "a")
while True:
    try:
        data, addr = s.recvfrom(4096)
    except socket.timeout:
        continue
    out.write("%%s\n" %% data.decode(errors="replace"))
    out.flush()
""" % UDP_PORT

# One datagram per flow (source port) with a tag, from the client's kernel.
SENDER = r"""
import socket, sys
tag, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for f in range(first, first + n):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("2001:db8:c::1", 20000 + f))
    s.sendto(("%%s-%%d" %% (tag, f)).encode(), ("%s", %d))
    s.close()
""" % (APP, UDP_PORT)

TCP_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080))
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
data = c.recv(100)
c.sendall(b"pong:" + data)
c.close()
"""

TCP_CLIENT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], 8080), timeout=10)
c.sendall(b"hello-gateway")
print(c.recv(100).decode())
"""

# Malformed NDP and an oversized frame at the gateway's port 0 (scapy).
MALFORMED = r"""
import sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether, IPv6, Raw, sendp, raw
from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
gw_mac, cl_mac, target = sys.argv[1], sys.argv[2], sys.argv[3]
snm = "ff02::1:ff" + target.split(":")[-1].zfill(6)[-6:-4] + ":" + target.split(":")[-1].zfill(4)[-4:]
frames = []
# Hop limit 254: RFC 4861 7.1.1 says drop.
frames.append(Ether(src=cl_mac, dst=gw_mac) / IPv6(src="2001:db8:c::1", dst=target, hlim=254) /
              ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=cl_mac))
# An option of length 0: drop.
ns = raw(IPv6(src="2001:db8:c::1", dst=target, hlim=255) / ICMPv6ND_NS(tgt=target) /
         ICMPv6NDOptSrcLLAddr(lladdr=cl_mac))
bad = bytearray(ns)
bad[40 + 24 + 1] = 0
frames.append(Ether(src=cl_mac, dst=gw_mac, type=0x86DD) / Raw(bytes(bad)))
# Truncated: the NS cut inside its target address (payload length says so too).
cut = bytearray(ns[:40 + 12])
cut[4:6] = (12).to_bytes(2, "big")
frames.append(Ether(src=cl_mac, dst=gw_mac, type=0x86DD) / Raw(bytes(cut)))
# Larger than the port's MTU (1500), to the gateway's own address (the
# veths take 1900; net_af_packet's frames hold 2048 bytes).
frames.append(Ether(src=cl_mac, dst=gw_mac) / IPv6(src="2001:db8:c::1", dst=target, nh=59) / Raw(b"o" * 1700))
import time
for f in frames:
    sendp(f, iface="cl0", verbose=False)
    time.sleep(0.05)
print(len(frames))
"""


# Plain UDP (no CATS marking) from the client, one datagram per tag.
PLAIN_SENDER = r"""
import socket, sys
dst, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(("%%s-%%d" %% (tag, i)).encode(), (dst, %d))
""" % UDP_PORT


def kernel_routes_step(ctl_sock, tmp, procs):
    """6. Routes mirrored from the gateway's kernel table."""
    prefix, dst = "2001:db8:a9::/48", "2001:db8:a9::5"
    gw = NS["gw"]
    sh("ip", "-6", "addr", "add", dst + "/128", "dev", "lo", ns=NS["cn2"])
    sh("ip", "-6", "route", "add", prefix, "via", GW_C, ns=NS["cl"])
    rx = os.path.join(tmp, "rx-kr.txt")
    procs.append(subprocess.Popen(["ip", "netns", "exec", NS["cn2"], "/usr/bin/python3", "-c", LISTENER, rx, dst]))
    time.sleep(1)
    cn2_ll = next(a["local"] for l in json.loads(sh("ip", "-j", "-6", "addr", "show", "dev", "cn2a", ns=NS["cn2"]))
                  for a in l.get("addr_info", []) if a.get("local", "").startswith("fe80:"))

    def got(tag, path=rx):
        return sum(1 for l in open(path) if l.startswith(tag + "-")) if os.path.exists(path) else 0

    def send(tag, n=8, to=dst, path=rx):
        sh("/usr/bin/python3", "-c", PLAIN_SENDER, to, tag, n, ns=NS["cl"])
        return wait_for(lambda: got(tag, path) >= n, 5) and got(tag, path)

    def no_route():
        return (dp_stats(ctl_sock) or {}).get("drops", {}).get("no_route", 0)

    def kroutes():
        return (dp_stats(ctl_sock) or {}).get("kernel_routes") or {}

    def route(p):
        return next((r for r in kroutes().get("routes", []) if r.get("prefix") == p), None)

    before = no_route()
    send("kr0", 5)
    time.sleep(0.5)
    check(got("kr0") == 0 and no_route() - before == 5,
          "before any kernel route, 5 datagrams to %s are dropped as no_route (%d)" % (dst, no_route() - before))

    sh("ip", "-6", "route", "add", prefix, "via", CN2, "dev", KIF[2], "metric", "100", "proto", "static", ns=gw)
    sh("ip", "-6", "route", "add", prefix, "via", cn2_ll, "dev", KIF[2], "metric", "50", "proto", "static", ns=gw)
    r = wait_for(lambda: (lambda x: x if x and x.get("via") == cn2_ll else None)(route(prefix)), 10)
    check(r is not None and r.get("state") == "installed" and r.get("metric") == 50 and
          r.get("interface") == KIF[2] and r.get("protocol") == "static",
          "the lower-metric kernel route is installed: %s" % r)
    # The mirror has the kernel resolve a new route's next hop at once, with
    # no traffic (in af_xdp mode nothing holds packets meanwhile).
    nb = wait_for(lambda: (lambda x: x if x.get("usable") else None)(neighbors(ctl_sock).get(cn2_ll, {})), 10) or \
        neighbors(ctl_sock).get(cn2_ll, {})
    check(nb.get("mac") == mac_of(NS["cn2"], "cn2a") and nb.get("source") == "kernel_route" and
          nb.get("routes") == 1, "its link-local next hop is resolved by NDP before any traffic: %s" % nb)
    n = send("kr1")
    check(n == 8, "8 of 8 datagrams to %s reach cn2 through the kernel route (%s)" % (dst, n))

    sh("ip", "-6", "route", "del", prefix, "via", cn2_ll, "dev", KIF[2], "metric", "50", ns=gw)
    r = wait_for(lambda: (lambda x: x if x and x.get("via") == CN2 else None)(route(prefix)), 10)
    check(r is not None and r.get("state") == "installed" and r.get("metric") == 100,
          "deleted, the metric-100 route takes its place: %s" % r)
    n = send("kr2")
    check(n == 8, "8 of 8 datagrams reach cn2 via %s (%s)" % (CN2, n))
    p = subprocess.run([CATSCTL, "-s", ctl_sock, "route", "list"], capture_output=True, text=True, timeout=30)
    rows = {tuple(l.split()[:2]): l.split() for l in p.stdout.splitlines()[1:] if l.startswith("2001:")}
    check(p.returncode == 0 and rows.get((prefix, CN2), [])[-4:] == ["kernel", "static", "100", "installed"] and
          rows.get(("2001:db8:a1::/48", R1), [])[-1:] == ["installed"],
          "catsctl route list shows the config's route and the kernel's: %s" % p.stdout.strip().splitlines())

    # A lower-metric blackhole decides the prefix, as in the kernel: not
    # installed, dropped as no_route; deleted, the route via cn2 is back.
    sh("ip", "-6", "route", "add", "blackhole", prefix, "metric", "10", ns=gw)
    r = wait_for(lambda: (lambda x: x if x and x.get("state") == "not_unicast" else None)(route(prefix)), 10)
    before = no_route()
    send("kr-bh", 5)
    time.sleep(0.5)
    check(r is not None and got("kr-bh") == 0 and no_route() - before == 5,
          "a blackhole at metric 10 wins over the route at 100: not installed, 5 dropped as no_route (%s, %d)" %
          (r, no_route() - before))
    sh("ip", "-6", "route", "del", "blackhole", prefix, "metric", "10", ns=gw)
    r = wait_for(lambda: (lambda x: x if x and x.get("state") == "installed" else None)(route(prefix)), 10)
    check(r is not None and r.get("via") == CN2, "the blackhole deleted, the route via %s is installed again: %s" %
          (CN2, r))

    # Multipath is not taken; when one sibling goes, the kernel announces
    # only its deletion, and the survivor must be mirrored all the same.
    sh("ip", "-6", "route", "append", prefix, "via", cn2_ll, "dev", KIF[2], "metric", "100", ns=gw)
    check(wait_for(lambda: route(prefix) is None, 10), "a second next hop at the same metric (multipath): the "
          "prefix is not mirrored (%s)" % route(prefix))
    sh("ip", "-6", "route", "del", prefix, "via", cn2_ll, "dev", KIF[2], "metric", "100", ns=gw)
    r = wait_for(lambda: (lambda x: x if x and x.get("state") == "installed" else None)(route(prefix)), 10)
    check(r is not None and r.get("via") == CN2 and send("kr-mp") == 8,
          "one sibling deleted: the survivor via %s is installed and carries traffic (%s)" % (CN2, r))

    # A next hop the kernel already knows (PERMANENT: no resolution, no
    # event) is usable at once.
    q_prefix, q_dst, q_hop = "2001:db8:aa::/48", "2001:db8:aa::5", "fe80::99"
    q_rx = os.path.join(tmp, "rx-kr-q.txt")
    sh("ip", "-6", "addr", "add", q_dst + "/128", "dev", "lo", ns=NS["cn2"])
    sh("ip", "-6", "route", "add", q_prefix, "via", GW_C, ns=NS["cl"])
    procs.append(subprocess.Popen(["ip", "netns", "exec", NS["cn2"], "/usr/bin/python3", "-c", LISTENER, q_rx,
                                   q_dst]))
    sh("ip", "-6", "neigh", "replace", q_hop, "lladdr", mac_of(NS["cn2"], "cn2a"), "dev", KIF[2], "nud",
       "permanent", ns=gw)
    time.sleep(1)
    sh("ip", "-6", "route", "add", q_prefix, "via", q_hop, "dev", KIF[2], ns=gw)
    nb = wait_for(lambda: (lambda x: x if x.get("usable") else None)(neighbors(ctl_sock).get(q_hop, {})), 5) or \
        neighbors(ctl_sock).get(q_hop, {})
    n = send("kr-q", 8, q_dst, q_rx)
    check(nb.get("state") == "permanent" and n == 8, "a next hop the kernel has as PERMANENT is usable at once "
          "(%s) and 8 of 8 datagrams reach cn2 (%s)" % (nb.get("state"), n))
    sh("ip", "-6", "route", "del", q_prefix, "via", q_hop, "dev", KIF[2], ns=gw)
    sh("ip", "-6", "neigh", "del", q_hop, "dev", KIF[2], ns=gw)

    # A route the config has (2001:db8:a1::/48 via r1) is not overridden.
    sh("ip", "-6", "route", "add", "2001:db8:a1::/48", "via", CN2, "dev", KIF[2], ns=gw)
    r = wait_for(lambda: route("2001:db8:a1::/48"), 10)
    check(r is not None and r.get("state") == "shadowed", "a kernel route for a configured prefix is shadowed: %s"
          % r)
    sh("ip", "-6", "route", "del", "2001:db8:a1::/48", "via", CN2, "dev", KIF[2], ns=gw)

    sh("ip", "-6", "route", "del", prefix, "via", CN2, "dev", KIF[2], "metric", "100", ns=gw)
    check(wait_for(lambda: route(prefix) is None and route("2001:db8:a1::/48") is None, 10),
          "both routes deleted, none is mirrored: %s" % kroutes().get("routes"))
    before = no_route()
    send("kr3", 5)
    time.sleep(0.5)
    kr = kroutes()
    check(got("kr3") == 0 and no_route() - before == 5,
          "without it, 5 datagrams are dropped as no_route again (%d)" % (no_route() - before))
    check(kr.get("skipped", {}).get("on_link", 0) > 0 and kr.get("routes_installed") == 0,
          "the kernel interfaces' connected prefixes are not taken (skipped %s)" % kr.get("skipped"))


def run(tmp):
    adv_port = 17000 + os.getpid() % 1000
    dp_sock, ctl_sock = configs(tmp, adv_port)
    dp_log = open(os.path.join(tmp, "dp.log"), "w")
    procs = []
    vdevs = []
    for i, d in enumerate(GW_IFS):
        vdevs += ["--vdev", "%s%d,iface=%s" % (PMD, i, d) + (",xdp_prog=" + XDP_OBJ if AF_XDP else "")]
    dp = subprocess.Popen(
        ["ip", "netns", "exec", NS["gw"], DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", TAG,
         "-l", "0", "--no-telemetry", "--log-level", "lib.eal:error", *vdevs,
         "--", "--config", os.path.join(tmp, "gw.yaml"), "--mgmt-socket", dp_sock],
        stdout=dp_log, stderr=subprocess.STDOUT)
    procs.append(dp)

    def addressed():
        out = subprocess.run(["ip", "netns", "exec", NS["gw"], "ip", "-6", "-o", "addr", "show", "dev", KIF[1]],
                             capture_output=True, text=True).stdout
        return GW_F1 + "/64" in out
    t0 = time.time()
    # EAL with --no-huge zeroes its 512 MB first: allow for a loaded machine.
    if not check(wait_for(lambda: addressed() or dp.poll() is not None, 90) and dp.poll() is None,
                 "cats-dataplane starts in %.1f s; its kernel interfaces %s carry the ports' addresses" %
                 (time.time() - t0, ", ".join(KIF))):
        return procs, dp
    tap_mac, port_mac = mac_of(NS["gw"], KIF[1]), mac_of(NS["gw"], "gwr")
    # Faster NUD on the kernel interfaces, so that a dead neighbor is FAILED
    # in seconds.
    for d in KIF:
        for k, v in (("base_reachable_time_ms", 3000), ("delay_first_probe_time", 1), ("retrans_time_ms", 500),
                     ("ucast_solicit", 3), ("mcast_solicit", 3)):
            sh("sysctl", "-qw", "net.ipv6.neigh.%s.%s=%d" % (d, k, v), ns=NS["gw"])

    ctl_log = open(os.path.join(tmp, "control.log"), "w")
    ctrl = subprocess.Popen(["ip", "netns", "exec", NS["gw"], CONTROL, "--config",
                             os.path.join(tmp, "control.yaml")], stdout=ctl_log, stderr=subprocess.STDOUT)
    procs.append(ctrl)
    check(wait_for(lambda: os.path.exists(ctl_sock), 10), "cats-control starts in the gateway's namespace")

    # 1. The gateway as a host.
    p = subprocess.run(["ip", "netns", "exec", NS["cl"], "ping", "-6", "-c", "3", "-i", "0.3", "-W", "2", GW_C],
                       capture_output=True, text=True, timeout=30)
    m = re.search(r"(\d+) received", p.stdout)
    check(m is not None and int(m.group(1)) >= 2, "ping6 from the client to the gateway's %s: %s" %
          (GW_C, (m.group(0) if m else p.stdout + p.stderr).strip()))
    cl_neigh = sh("ip", "-6", "neigh", "show", GW_C, ns=NS["cl"])
    check(mac_of(NS["gw"], "gwc") in cl_neigh and "router" in cl_neigh,
          "the client learned the gateway's port MAC by NDP, as a router (%s)" % cl_neigh.strip())
    srv = subprocess.Popen(["ip", "netns", "exec", NS["gw"], "/usr/bin/python3", "-c", TCP_SERVER, GW_C],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    cli = subprocess.run(["ip", "netns", "exec", NS["cl"], "/usr/bin/python3", "-c", TCP_CLIENT, GW_C],
                         capture_output=True, text=True, timeout=30)
    check(cli.stdout.strip() == "pong:hello-gateway",
          "TCP to a listener in the gateway's kernel: %r %s" % (cli.stdout.strip(), cli.stderr[-300:]))
    srv.wait(timeout=30)
    pc = ports(ctl_sock)
    p0 = pc.get(PMD + "0", {})
    if AF_XDP:
        cls = p0.get("xdp", {}).get("classes", {})
        check(p0.get("kernel_interface") == "gwc" and p0.get("mode") == "af_xdp" and
              cls.get("ndp", {}).get("packets", 0) > 0 and cls.get("host", {}).get("packets", 0) >= 3,
              "port 0 is af_xdp on gwc; cats_xdp passed NDP and the host's traffic to the kernel: %s" % p0)
    else:
        check(p0.get("kernel_interface") == "cats0" and p0.get("punted", 0) > 0 and p0.get("injected", 0) > 0
              and p0.get("mode") == "dpdk", "port 0's kernel interface and counters: %s" % p0)
        check(tap_mac == port_mac, "the TAP carries the port's MAC (%s, port %s)" % (tap_mac, port_mac))

    # 2. Agents over the data port.
    for i, ns, dst in ((1, "cn1", GW_F1), (2, "cn2", GW_F2)):
        a = subprocess.Popen(
            ["ip", "netns", "exec", NS[ns], AGENT, "--control", "[%s]:%d" % (dst, adv_port), "--node-id", str(i),
             "--key-id", str(i), "--key-hex", KEYS[i], "--interval", "1", "--lifetime", "120",
             "--service", "100:%d:%s" % (i, SID[i]), "--load", "10", "--score", "9"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "agent%d.log" % i), "w"))
        procs.append(a)

    def instances():
        r = catsctl(ctl_sock, "service", "list")
        out = {}
        for s in (r or {}).get("services", []):
            if s.get("cs_id") == 100:
                out = {i["id"]: i["sids"] for i in s.get("instances", [])}
        return out
    inst = wait_for(lambda: (lambda x: x if len(x) == 2 else None)(instances()), 20)
    check(inst == {1: [SID[1]], 2: [SID[2]]}, "both agents' instances, advertised through the DPDK ports, are in "
          "catsctl service list (%s)" % instances())

    def dp_instances():
        st = dp_stats(ctl_sock) or {}
        for s in st.get("services", []):
            if s.get("cs_id") == 100:
                return {i["id"]: i for i in s.get("instances", [])}
        return {}
    check(wait_for(lambda: len(dp_instances()) == 2, 15), "the dataplane's table has both (%s)" %
          sorted(dp_instances()))

    # 3. CATS traffic, NDP only.
    rx = {i: os.path.join(tmp, "rx%d.txt" % i) for i in (1, 2)}
    for i in (1, 2):
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS["cn%d" % i], "/usr/bin/python3", "-c", LISTENER,
                                       rx[i], APP]))
    time.sleep(1)

    def received():
        out = {}
        for i in (1, 2):
            if os.path.exists(rx[i]):
                for line in open(rx[i]):
                    out.setdefault(line.strip(), []).append(i)
        return out

    sent = [0]

    def send(tag, first, n):
        sent[0] += n
        p = subprocess.run(["ip", "netns", "exec", NS["cl"], "/usr/bin/python3", "-c", SENDER, tag, str(first),
                            str(n)], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            check(False, "sender %s ran (%s)" % (tag, p.stderr[-300:]))
        return wait_for(lambda: (lambda r: r if sum(1 for k in r if k.startswith(tag + "-")) >= n else None)(
            received()), 10) or received()

    N = 64
    got = send("a", 0, N)
    mine = {k: v for k, v in got.items() if k.startswith("a-")}
    check(len(mine) == N and all(len(v) == 1 for v in mine.values()),
          "%d of %d steered datagrams arrived, each once (the first ones may wait for NDP)" % (len(mine), N))
    per = {i: sum(1 for v in mine.values() if v == [i]) for i in (1, 2)}
    check(per[1] > 0 and per[2] > 0, "both compute nodes got flows: %s" % per)
    nb = neighbors(ctl_sock)
    r1_mac, cn2_mac = mac_of(NS["r1"], "r1a"), mac_of(NS["cn2"], "cn2a")
    check(nb.get(R1, {}).get("mac") == r1_mac and nb.get(CN2, {}).get("mac") == cn2_mac,
          "the gateway learned r1 and cn2 by NDP: %s" % {a: (n.get("state"), n.get("mac")) for a, n in nb.items()})

    # What an operator sees: catsctl's tables, from the same data.
    p = subprocess.run([CATSCTL, "-s", ctl_sock, "neighbor", "list"], capture_output=True, text=True, timeout=30)
    row = [l for l in p.stdout.splitlines() if l.split()[:1] == [R1]]
    check(p.returncode == 0 and row and r1_mac in row[0] and KIF[1] in row[0],
          "catsctl neighbor list shows %s with its MAC on %s: %s" % (R1, KIF[1], row))
    pl = catsctl(ctl_sock, "port", "list") or {}
    check(sorted(x.get("port") for x in pl.get("ports", [])) == ["%s%d" % (PMD, i) for i in range(3)] and
          all(x.get("mode") == ("af_xdp" if AF_XDP else "dpdk") for x in pl.get("ports", [])),
          "catsctl --json port list: three ports, mode %s" % ("af_xdp" if AF_XDP else "dpdk"))

    # 4. Neighbor failure and recovery, watched as an operator would.
    mon_path = os.path.join(tmp, "monitor.jsonl")
    mon = subprocess.Popen([CATSCTL, "-s", ctl_sock, "monitor", "--json", "--type", "neighbor"],
                           stdout=open(mon_path, "w"), stderr=subprocess.STDOUT)
    procs.append(mon)
    time.sleep(1.5)  # its first sample is the baseline
    sh("ip", "link", "set", "r1a", "down", ns=NS["r1"])
    # Traffic keeps the kernel asking (the mirror reports use of a stale entry).
    def failed():
        send("p", 1000, 4)
        return neighbors(ctl_sock).get(R1, {}).get("state") == "failed"
    check(wait_for(failed, 30, step=1.0), "with r1's link down, neighbor %s reaches FAILED (%s)" %
          (R1, neighbors(ctl_sock).get(R1)))
    di = dp_instances()
    check(di.get(1, {}).get("unresolved_reason") == "neighbor_failed" and
          not di.get(2, {}).get("unresolved_reason"),
          "instance 1 is ineligible, reason neighbor_failed; instance 2 is not (%s)" %
          {k: v.get("unresolved_reason") for k, v in di.items()})
    got = send("b", 2000, 32)
    mine = {k: v for k, v in got.items() if k.startswith("b-")}
    check(len(mine) == 32 and all(v == [2] for v in mine.values()),
          "new flows during the failure all reach cn2 (%d of 32)" % sum(1 for v in mine.values() if v == [2]))
    # Plain IPv6 routed to the failed next hop: dropped, counted by name.
    before = (dp_stats(ctl_sock) or {}).get("drops", {}).get("neighbor_failed", 0)
    sh("/usr/bin/python3", "-c", "import socket\nfor i in range(5):\n    socket.socket(socket.AF_INET6, "
       "socket.SOCK_DGRAM).sendto(b'plain', ('2001:db8:a1::99', 9))", ns=NS["cl"])
    time.sleep(0.5)
    drops = (dp_stats(ctl_sock) or {}).get("drops", {})
    check(drops.get("neighbor_failed", 0) - before == 5, "5 plain packets routed via the failed neighbor are "
          "dropped as neighbor_failed (drops %s)" % {k: v for k, v in drops.items() if v})
    sh("ip", "link", "set", "r1a", "up", ns=NS["r1"])
    sh("ip", "-6", "route", "replace", "default", "via", GW_F1, ns=NS["r1"])

    def recovered():
        send("c", 3000, 8)
        return neighbors(ctl_sock).get(R1, {}).get("state") in ("reachable", "stale", "delay", "probe") and \
            not dp_instances().get(1, {}).get("unresolved_reason")
    check(wait_for(recovered, 30, step=1.0), "the link back: %s usable again, instance 1 eligible, no restart (%s)" %
          (R1, neighbors(ctl_sock).get(R1)))
    time.sleep(1.5)  # one more sample
    mon.terminate()
    mon.wait(timeout=10)
    ev = []
    for line in open(mon_path):
        try:
            ev.append(json.loads(line))
        except ValueError:
            ev.append({"unparsed": line})
    r1 = [(e.get("state"), e.get("was")) for e in ev if e.get("address") == R1]
    states = [st for st, _ in r1]
    check("failed" in states and any(st in ("reachable", "stale", "delay", "probe")
                                     for st in states[states.index("failed") + 1:]) and
          all(e.get("type") == "neighbor" for e in ev),
          "catsctl monitor showed %s going FAILED and back: %s" % (R1, r1))
    got = send("d", 4000, N)
    mine = {k: v for k, v in got.items() if k.startswith("d-")}
    per = {i: sum(1 for v in mine.values() if v == [i]) for i in (1, 2)}
    check(len(mine) == N and per[1] > 0, "after recovery new flows reach cn1 again: %s of %d" % (per, N))

    if AF_XDP:
        # Every steered datagram was redirected as service_sid; the plain
        # ones to the failed next hop as transit (non_cats: forward).
        cls = ports(ctl_sock).get(PMD + "0", {}).get("xdp", {}).get("classes", {})
        got = {k: cls.get(k, {}).get("packets") for k in ("service_sid", "transit")}
        check(got == {"service_sid": sent[0], "transit": 5},
              "cats_xdp's verdict counters match what was sent: %s, sent %d steered and 5 plain" % (got, sent[0]))

    # 5. Malformed input.
    p0_before = ports(ctl_sock).get(PMD + "0", {})
    # The veth takes a frame larger than the port's MTU only if its own MTU
    # (which net_af_packet set to the port's) lets it.
    sh("ip", "link", "set", "gwc", "mtu", "1900", ns=NS["gw"])
    m = subprocess.run(["ip", "netns", "exec", NS["cl"], "/usr/bin/python3", "-c", MALFORMED,
                        mac_of(NS["gw"], "gwc"), mac_of(NS["cl"], "cl0"), GW_C],
                       capture_output=True, text=True, timeout=60)
    check(m.returncode == 0, "malformed frames sent (%s)" % m.stderr[-600:])
    time.sleep(1)
    check(dp.poll() is None and ctrl.poll() is None, "cats-dataplane and cats-control still run")
    p0 = ports(ctl_sock).get(PMD + "0", {})
    if not AF_XDP:
        nd0, nd1 = p0_before.get("ndp_invalid", {}), p0.get("ndp_invalid", {})
        delta = {k: nd1.get(k, 0) - nd0.get(k, 0) for k in ("hop_limit", "code", "truncated", "bad_option")}
        check(delta == {"hop_limit": 1, "code": 0, "truncated": 1, "bad_option": 1},
              "each bad NDP message is dropped before the kernel and counted by reason: %s" % delta)
        check(p0.get("punt_oversize", 0) - p0_before.get("punt_oversize", 0) == 1,
              "the frame larger than the port MTU is not punted, counted (%s)" % p0.get("punt_oversize"))
    p = subprocess.run(["ip", "netns", "exec", NS["cl"], "ping", "-6", "-c", "2", "-i", "0.3", "-W", "2", GW_C],
                       capture_output=True, text=True, timeout=30)
    check(" 0 received" not in p.stdout and p.returncode == 0, "the gateway still answers ping6")
    kernel_routes_step(ctl_sock, tmp, procs)
    print("ports:", json.dumps(ports(ctl_sock)))
    print("neighbors:", json.dumps(neighbors(ctl_sock)))
    return procs, dp


def main():
    why = need()
    if why:
        print("SKIP: " + why)
        return SKIP
    teardown()
    procs = []
    tmp = tempfile.mkdtemp(prefix="cats-net-gw-")
    try:
        setup()
        procs, dp = run(tmp)
    except Exception as e:   # noqa: BLE001 - report, clean up, fail
        check(False, "exception: %r" % e)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if failures:
            for f in ("dp.log", "control.log", "agent1.log", "agent2.log"):
                path = os.path.join(tmp, f)
                if os.path.exists(path):
                    print("---- %s" % f)
                    print(open(path).read()[-3000:])
        teardown()
        subprocess.run(["rm", "-rf", tmp])
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
