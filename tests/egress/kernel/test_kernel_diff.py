#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Differential test: cats-dataplane's End and End.DT6 against the Linux
kernel's core SRH processing (net/ipv6/exthdrs.c, ipv6_srh_rcv()).

The same input frames (built byte by byte, egress_common.py) go

  (a) through a kernel, in network namespaces made here:

        src ns              rt ns (the kernel under comparison)            sink ns
        s0 (02:aa::0a) ---- r0 (02:50::00)   r1 (02:50::01) ----------- k0
        AF_PACKET: sends    2001:db8:aa::1   2001:db8:ff::1               AF_PACKET:
        and captures the    SIDs fc00:e::1, fc00:e::d7 on lo;            captures what
        ICMPv6 errors       seg6_enabled=1, forwarding=1;                 the kernel
                            fc00:b::/32 via B, 2001:db8:f::/48 via H      forwards
                            (static neighbors), icmp ratelimit 0

      The kernel has no per-SID behaviour here: a local SID with Segments
      Left > 0 gets End, one with Segments Left 0 and an inner IPv6 packet
      is decapsulated and the inner packet routed (what End.DT6 does).

  (b) through cats-dataplane on two net_pcap ports, with fc00:e::1 End and
      fc00:e::d7 End.DT6 and the same routes and neighbors.

Every case's inner UDP payload carries a tag, so its packets are found on
either side wherever they come out. Compared from the IPv6 header on (the
Ethernet header is the two implementations' own, though here both use the
same addresses), byte for byte, and both against the expectation written
by hand (RFC 8754 4.3.1, RFC 8986 4.1 and 4.6):
  - End, Segments Left > 0: SRH of 2 and of 3 segments, the SID in the
    middle of the list, SRH TLVs (PadN), a reduced SRH (with a TLV: see
    below), the outer traffic class and flow label kept;
  - decapsulation, Segments Left 0: SRH of 1, of 3 (several segments), a
    reduced SRH's last hop, a TLV, outer hop limit 1 (neither looks at
    it), a 1200-byte inner packet.
Negative checks (both drop and answer with the same ICMPv6 error):
  - Segments Left > Last Entry + 1 at End and at the decapsulating SID:
    Parameter Problem code 0, pointer 43 (Segments Left), the packet quoted;
  - End with hop limit 1, and a decapsulated inner packet with hop limit 1:
    Time Exceeded code 0 to the right source.

Fields excluded from the comparison, and why:
  - Ethernet header: each forwarder writes its own (L2 is not compared).
  - In an ICMPv6 error, the IPv6 source address, the hop limit and the
    checksum (which covers the source): RFC 4443 2.2 lets the sender pick
    its source address (the kernel answers from the SID or from the
    egress interface's address, cats from gateway.encap_source) and RFC
    4443 leaves the hop limit to the sender (kernel: its default 64, cats
    255). Type, code, pointer, destination and the quoted packet are
    compared.
  - In the Time Exceeded for End with hop limit 1, the quoted packet: the
    kernel performs S13-S14 (Segments Left - 1, new destination) before
    ip6_forward() finds the hop limit spent, so it quotes the packet as
    rewritten; RFC 8986 4.1 puts the hop limit check (S05-S06) first and
    cats quotes the packet as it came. cats' quote is checked against the
    input; the kernel's is printed.

Known kernel divergences (cats is checked against the RFC; the kernel's
verdict is printed, and compared when it agrees):
  - Reduced SRH, Segments Left = Last Entry + 1, no TLVs: the kernel
    refuses it (its test is Segments Left >= Hdr Ext Len / 2), RFC 8986 4.1
    S09 accepts it. With a TLV making Hdr Ext Len larger the kernel
    accepts it: that variant is compared byte for byte.
  - Last Entry past the header: the kernel does not read Last Entry and
    forwards; RFC 8986 4.1 S09 (and cats) answer Parameter Problem.
  - A TLV running past the SRH: the kernel does not walk the TLVs of a
    packet it receives (without HMAC) and forwards; cats drops it.

Everything created (3 namespaces, 2 veth pairs) is removed, also on
failure or SIGTERM. Skips (exit 77, one line) without root, `ip netns`,
veth or IPv6 segment routing in the kernel.

usage: test_kernel_diff.py BUILD_DIR SOURCE_DIR
"""
import collections
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from egress_common import (  # noqa: E402
    CLIENT, ENCAP_SOURCE, INGRESS, IP6_HDR, MAC_A, MAC_B, MAC_H, NBR_B, NBR_H, NEXT, PORT_MAC, SID_DT6,
    SID_END, after_decap, after_end, check, eth, finish, first_diff, hexdump, inner_packet, ip6s, ipv6,
    need_dataplane, padn, run_dataplane, skip, srh)

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
TAG = "ckd%d" % (os.getpid() % 100000)
NS = {k: "%s-%s" % (TAG, k) for k in ("src", "rt", "sink")}
RT_R0 = "2001:db8:aa::1"
PREV_HOP = "2001:db8:aa::a"        # A, as the kernel sees it: s0
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000
PTR_SL = IP6_HDR + 3

CONFIG = """
gateway:
  encap_source: %(src)s
  icmp_rate: 100000
ports:
  - {name: net_pcap0}
  - {name: net_pcap1}
neighbors:
  - {address: "%(a)s", mac: "%(ma)s", port: net_pcap0}
  - {address: "%(b)s", mac: "%(mb)s", port: net_pcap1}
  - {address: "%(h)s", mac: "%(mh)s", port: net_pcap1}
routes:
  - {prefix: "2001:db8:e::/48", via: "%(a)s"}
  - {prefix: "2001:db8:1::/48", via: "%(a)s"}
  - {prefix: "fc00:b::/32", via: "%(b)s"}
  - {prefix: "2001:db8:f::/48", via: "%(h)s"}
local_sids:
  - {sid: "%(end)s", behavior: End}
  - {sid: "%(dt6)s", behavior: End.DT6}
""" % {"src": ENCAP_SOURCE, "a": PREV_HOP, "b": NBR_B, "h": NBR_H,
       "ma": MAC_A, "mb": MAC_B, "mh": MAC_H, "end": SID_END, "dt6": SID_DT6}

# kind: "fwd" both forward, compared; "icmp" both drop with this error,
# compared; "diverge" a known kernel divergence, cats checked alone.
Case = collections.namedtuple("Case", "name tag frame kind want icmp")
Icmp = collections.namedtuple("Icmp", "type code param to quote")


# --- Namespaces --------------------------------------------------------------------

def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def teardown():
    for n in NS.values():
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def preflight():
    if os.geteuid() != 0:
        skip("needs root (network namespaces, AF_PACKET)")
    if shutil.which("ip") is None:
        skip("no iproute2 `ip` command")
    need_dataplane(BUILD)
    if not os.path.exists("/proc/sys/net/ipv6/conf/all/seg6_enabled"):
        skip("this kernel has no IPv6 segment routing (net.ipv6.conf.all.seg6_enabled missing)")
    probe = "%s-probe" % TAG
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        skip("cannot create a network namespace (`ip netns add` failed)")
    try:
        p = subprocess.run(["ip", "netns", "exec", probe, "ip", "link", "add", "p0", "type", "veth", "peer",
                            "name", "p1"], capture_output=True, text=True)
        if p.returncode != 0:
            skip("cannot create a veth pair (CONFIG_VETH): %s" % p.stderr.strip())
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def setup():
    for n in NS.values():
        sh("ip", "netns", "add", n)
    sh("ip", "link", "add", "s0", "netns", NS["src"], "type", "veth", "peer", "name", "r0", "netns", NS["rt"])
    sh("ip", "link", "add", "r1", "netns", NS["rt"], "type", "veth", "peer", "name", "k0", "netns", NS["sink"])
    # The ends that only send and capture: no addresses, no ND, no MLD.
    for ns, dev, mac in ((NS["src"], "s0", MAC_A), (NS["sink"], "k0", MAC_B)):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev, ns=ns)
        sh("ip", "link", "set", dev, "address", mac, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
    rt = NS["rt"]
    sh("ip", "link", "set", "r0", "address", PORT_MAC[0], ns=rt)
    sh("ip", "link", "set", "r1", "address", PORT_MAC[1], ns=rt)
    for d in ("lo", "r0", "r1"):
        sh("ip", "link", "set", d, "up", ns=rt)
    for d in ("all", "default", "r0", "r1"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.seg6_enabled=1" % d, ns=rt)
    sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=rt)
    sh("sysctl", "-qw", "net.ipv6.icmp.ratelimit=0", ns=rt)
    sh("ip", "-6", "addr", "add", RT_R0 + "/64", "dev", "r0", "nodad", ns=rt)
    sh("ip", "-6", "addr", "add", "2001:db8:ff::1/64", "dev", "r1", "nodad", ns=rt)
    for sid in (SID_END, SID_DT6):
        sh("ip", "-6", "addr", "add", sid + "/128", "dev", "lo", ns=rt)
    sh("ip", "-6", "neigh", "replace", PREV_HOP, "lladdr", MAC_A, "dev", "r0", "nud", "permanent", ns=rt)
    sh("ip", "-6", "neigh", "replace", NBR_B, "lladdr", MAC_B, "dev", "r1", "nud", "permanent", ns=rt)
    sh("ip", "-6", "neigh", "replace", NBR_H, "lladdr", MAC_H, "dev", "r1", "nud", "permanent", ns=rt)
    for prefix, via, dev in (("fc00:b::/32", NBR_B, "r1"), ("2001:db8:f::/48", NBR_H, "r1"),
                             ("2001:db8:e::/48", PREV_HOP, "r0"), ("2001:db8:1::/48", PREV_HOP, "r0")):
        sh("ip", "-6", "route", "add", prefix, "via", via, "dev", dev, ns=rt)


_libc = ctypes.CDLL(None, use_errno=True)


def packet_socket(ns, dev):
    """An AF_PACKET socket on `dev` in namespace `ns` (setns() there and
    back: a socket stays in the namespace it was made in)."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(os.path.join("/run/netns", ns), os.O_RDONLY)
    try:
        if _libc.setns(there, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns(%s): %s" % (ns, os.strerror(e)))
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((dev, 0))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        finally:
            if _libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the test's namespace")
    finally:
        os.close(there)
        os.close(home)
    return s


def drain(socks, quiet_s=0.8, max_s=6.0):
    """Everything the sockets receive until `quiet_s` passes without a
    frame: {socket: [frames]}, outgoing frames left out."""
    got = {s: [] for s in socks}
    end = time.time() + max_s
    last = time.time()
    while time.time() < end and time.time() - last < quiet_s:
        r, _, _ = select.select(socks, [], [], 0.1)
        for s in r:
            data, addr = s.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING:
                got[s].append(data)
                last = time.time()
    return got


def run_kernel(cases):
    """Send every case's frame through the kernel; returns
    ({tag: [frames forwarded]}, {tag: [frames sent back]})."""
    tx = packet_socket(NS["src"], "s0")
    back = packet_socket(NS["src"], "s0")
    sink = packet_socket(NS["sink"], "k0")
    try:
        drain([back, sink], quiet_s=0.3, max_s=1.0)      # whatever the links said at start
        for c in cases:
            tx.send(c.frame)
            time.sleep(0.01)
        got = drain([back, sink])
    finally:
        for s in (tx, back, sink):
            s.close()
    return by_tag(cases, got[sink]), by_tag(cases, got[back])


def by_tag(cases, frames):
    out = collections.defaultdict(list)
    for f in frames:
        for c in cases:
            if c.tag in f:
                out[c.tag].append(f)
                break
    return out


# --- Cases --------------------------------------------------------------------------

def cases():
    cs = []
    n = iter(range(1000))

    def mk(name, kind, build, want=None, icmp=None, **kw):
        tag = b"KDIFF%03d" % next(n)
        i = inner_packet(tag, **kw)
        ip = build(i)
        w = want(ip, i) if want else None
        ic = icmp(ip, i) if icmp else None
        cs.append(Case(name, tag, eth(PORT_MAC[0], MAC_A) + ip, kind, w, ic))

    end = lambda ip, i: after_end(ip)           # noqa: E731
    dec = lambda ip, i: after_decap(i)          # noqa: E731
    mk("End, SRH of 2", "fwd", lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1) + i), end)
    mk("End, SRH of 3", "fwd",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, "fc00:b::8", SID_END], 2) + i), end)
    mk("End, the SID in the middle of 3", "fwd",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END, "fc00:a::1"], 1) + i), end)
    mk("End, SRH with a PadN TLV", "fwd",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, tlvs=padn(8)) + i), end)
    mk("End, reduced SRH (Last Entry 0, Segments Left 1) with a 16-byte PadN TLV", "fwd",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT], 1, le=0, tlvs=padn(16)) + i), end)
    mk("End, outer traffic class 0xb8 and flow label 0xabcde kept", "fwd",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1) + i, tc=0xB8, fl=0xABCDE), end)
    mk("decap, SRH of 1", "fwd", lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i), dec)
    mk("decap, SRH of 3 (several segments)", "fwd",
       lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6, "fc00:a::2", "fc00:a::1"], 0) + i), dec)
    mk("decap, a reduced SRH's last hop (Last Entry 1 of a 3-SID list)", "fwd",
       lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6, "fc00:a::2"], 0) + i), dec)
    mk("decap, SRH with a PadN TLV", "fwd",
       lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0, tlvs=padn(8)) + i), dec)
    mk("decap, outer hop limit 1", "fwd", lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i, hl=1), dec)
    mk("decap, 1200-byte inner packet", "fwd", lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i), dec,
       size=1152)

    pp = lambda ip, i: Icmp(4, 0, PTR_SL, INGRESS, ip)     # noqa: E731
    mk("Segments Left 3 > Last Entry + 1 at End", "icmp",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 3) + i), icmp=pp)
    mk("Segments Left 2 > Last Entry + 1 at the decapsulating SID", "icmp",
       lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 2) + i), icmp=pp)
    mk("End with hop limit 1", "icmp", lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1) + i, hl=1),
       icmp=lambda ip, i: Icmp(3, 0, 0, INGRESS, ip))
    mk("decap, inner hop limit 1", "icmp", lambda i: ipv6(INGRESS, SID_DT6, 43, srh([SID_DT6], 0) + i),
       icmp=lambda ip, i: Icmp(3, 0, 0, CLIENT, i), hl=1)

    mk("reduced SRH (Last Entry 0, Segments Left 1), no TLV", "diverge",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT], 1, le=0) + i), end)
    mk("Last Entry 5 in an SRH of 2", "diverge",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, le=5) + i), icmp=pp)
    mk("a TLV running past the SRH", "diverge",
       lambda i: ipv6(INGRESS, SID_END, 43, srh([NEXT, SID_END], 1, tlvs=bytes([0x80, 0x10]) + bytes(6)) + i))
    return cs


# --- Comparison ---------------------------------------------------------------------

def ip_part(frame):
    """From the IPv6 header to the end of the IPv6 packet (no padding)."""
    ip = frame[14:]
    if len(ip) < IP6_HDR:
        return ip
    return ip[:IP6_HDR + struct.unpack("!H", ip[4:6])[0]]


def icmp_fields(frame):
    """(type, code, param, destination, quoted packet) of an ICMPv6 error."""
    ip = ip_part(frame)
    if len(ip) < IP6_HDR + 8 or ip[6] != 58:
        return None
    b = ip[IP6_HDR:]
    return b[0], b[1], struct.unpack("!I", b[4:8])[0], ip6s(ip[24:40]), b[8:]


def verdict(fwd, back):
    if fwd:
        return "forwarded (%d)" % len(fwd)
    if back:
        f = icmp_fields(back[0])
        return "ICMPv6 type %d code %d param %d" % f[:3] if f else "something sent back"
    return "dropped silently"


def same_bytes(what, want, got):
    if check(want == got, what):
        return True
    d = first_diff(want, got)
    print("  first difference at IPv6 byte %s\n  want:\n%s\n  got:\n%s" % (d, hexdump(want), hexdump(got)))
    return False


def compare(cs, k_fwd, k_back, c_fwd, c_back):
    rows = []
    for c in cs:
        kf, kb, cf, cb = k_fwd.get(c.tag, []), k_back.get(c.tag, []), c_fwd.get(c.tag, []), c_back.get(c.tag, [])
        rows.append((c.name, verdict(kf, kb), verdict(cf, cb)))
        if c.kind == "fwd":
            if check(len(kf) == 1, "kernel forwards once: %s (%s)" % (c.name, verdict(kf, kb))):
                same_bytes("kernel output as RFC 8986 expects: %s" % c.name, c.want, ip_part(kf[0]))
            if check(len(cf) == 1, "cats forwards once: %s (%s)" % (c.name, verdict(cf, cb))):
                same_bytes("cats output as RFC 8986 expects: %s" % c.name, c.want, ip_part(cf[0]))
            if len(kf) == 1 and len(cf) == 1:
                same_bytes("cats == kernel, from the IPv6 header on: %s" % c.name, ip_part(kf[0]), ip_part(cf[0]))
            check(not kb and not cb, "nothing sent back for: %s" % c.name)
        elif c.kind == "icmp":
            check(not kf and not cf, "neither forwards: %s" % c.name)
            e = c.icmp
            got = {}
            for who, back in (("kernel", kb), ("cats", cb)):
                f = icmp_fields(back[0]) if len(back) == 1 else None
                if not check(f is not None, "%s answers with one ICMPv6 error: %s (%s)" % (who, c.name,
                                                                                          verdict([], back))):
                    continue
                got[who] = f
                check(f[:4] == (e.type, e.code, e.param, e.to), "%s: type %d code %d param %d to %s: %s (got %s)" %
                      (who, e.type, e.code, e.param, e.to, c.name, f[:4]))
            if kb and cb:
                # The excluded fields, for the record.
                kip, cip = ip_part(kb[0]), ip_part(cb[0])
                print("  excluded: kernel's error from %s hop limit %d, cats' from %s hop limit %d" %
                      (ip6s(kip[8:24]), kip[7], ip6s(cip[8:24]), cip[7]))
            if "kernel" in got and "cats" in got:
                check(got["kernel"][:4] == got["cats"][:4], "cats == kernel, type/code/param/destination: %s" %
                      c.name)
                if e.type == 3 and e.to == INGRESS:
                    # Excluded (see the docstring): the kernel quotes the
                    # packet after S13-S14; cats as it came (RFC 8986 4.1).
                    same_bytes("cats quotes the packet as it came: %s" % c.name, e.quote, got["cats"][4])
                    kq = got["kernel"][4]
                    print("  kernel quotes: destination %s, Segments Left %d (cats: %s, %d)" %
                          (ip6s(kq[24:40]), kq[43], ip6s(e.quote[24:40]), e.quote[43]))
                else:
                    same_bytes("cats == kernel, the quoted packet: %s" % c.name, got["kernel"][4], got["cats"][4])
                    same_bytes("the quote is the offending packet: %s" % c.name, e.quote, got["cats"][4])
        else:
            # A known divergence: cats is held to the RFC, the kernel printed.
            print("  divergence, %s: kernel %s, cats %s" % (c.name, verdict(kf, kb), verdict(cf, cb)))
            if c.want is not None:
                if check(len(cf) == 1, "cats forwards (RFC 8986 4.1 S09 accepts): %s" % c.name):
                    same_bytes("cats output as RFC 8986 expects: %s" % c.name, c.want, ip_part(cf[0]))
                if len(kf) == 1:
                    same_bytes("cats == kernel (this kernel agrees): %s" % c.name, ip_part(kf[0]), ip_part(cf[0]))
            elif c.icmp is not None:
                f = icmp_fields(cb[0]) if len(cb) == 1 else None
                check(not cf and f is not None and f[:4] == (c.icmp.type, c.icmp.code, c.icmp.param, c.icmp.to),
                      "cats answers Parameter Problem code 0 pointer 43 (RFC 8986 4.1 S09): %s (%s)" %
                      (c.name, verdict(cf, cb)))
            else:
                check(not cf and not cb, "cats drops it silently: %s (%s)" % (c.name, verdict(cf, cb)))
    w = max(len(r[0]) for r in rows)
    print("\n%-*s | %-34s | %s" % (w, "case", "kernel", "cats"))
    for r in rows:
        print("%-*s | %-34s | %s" % (w, r[0], r[1], r[2]))
    print()


def main():
    preflight()
    cs = cases()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    teardown()
    try:
        try:
            setup()
        except RuntimeError as e:
            skip("cannot build the kernel side: %s" % str(e).splitlines()[0][:200])
        # The reference must work before it can judge: one End packet.
        k_fwd, k_back = run_kernel(cs[:1])
        if not k_fwd.get(cs[0].tag):
            skip("the kernel did not perform End on a probe packet (core SRH processing missing): %s" %
                 verdict(k_fwd.get(cs[0].tag), k_back.get(cs[0].tag)))
        k_fwd, k_back = run_kernel(cs)
    finally:
        teardown()
    left = [n for n in NS.values() if os.path.exists(os.path.join("/run/netns", n))]
    check(not left, "every namespace made is gone (%s)" % left)

    with tempfile.TemporaryDirectory(prefix="cats-egress-kdiff-") as tmp:
        st, out0, out1 = run_dataplane(BUILD, tmp, "kdiff", CONFIG, [c.frame for c in cs])
    if st is not None:
        compare(cs, k_fwd, k_back, by_tag(cs, out1), by_tag(cs, out0))
        n_fwd = sum(1 for c in cs if c.kind == "fwd") + 1      # + the reduced SRH without a TLV
        check(st["totals"]["endpoint"] == n_fwd, "cats totals.endpoint = %d (got %d)" %
              (n_fwd, st["totals"]["endpoint"]))
        print("cats drops: %s" % json.dumps({k: v for k, v in st["drops"].items() if v}))
    return finish("test_kernel_diff")


if __name__ == "__main__":
    sys.exit(main())
