#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""DPDK 22.11's net_af_xdp runs cats_xdp.bpf.o (its xdp_prog= devarg).

Two network namespaces joined by a veth pair, made and removed here:
  dut:  dpdk-testpmd (rxonly) on net_af_xdp0,iface=<veth>,xdp_prog=cats_xdp.bpf.o;
        the kernel keeps 2001:db8:1::1 on that veth
  peer: 2001:db8:1::2; scapy sends packets of several classes, ping6 pings
        2001:db8:1::1

Checks, with cats-xdp-probe (xdp_front: the program found on the interface
by id, its maps by name):
  - the PMD accepted the object (found xsks_map, attached the program);
  - each class's counter moved by exactly what was sent;
  - testpmd received exactly the redirected packets (its RX-packets);
  - NDP and the ping reached the kernel: ping6 gets its replies;
  - with non_cats forward, transit is redirected too.

Usage: test_af_xdp.py BUILD_ROOT. Exit 77 (skipped) without root, testpmd
or scapy, with one line saying which.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import time

SKIP = 77
COUNT = 5  # packets per class

DUT_ADDR = "2001:db8:1::1"
PEER_ADDR = "2001:db8:1::2"
SERVICE_PREFIX = "2001:db8:5::/96"
LOCAL_SID_PREFIX = "fc00:0:1::/48"
TRANSIT = "2001:db8:77::2"


def cats_body(cs_id):
    # SPEC.md 1.3: Version 0, no flags, CS-ID; no sub-TLVs.
    return bytes([0, 0, 0, 0]) + struct.pack("!I", cs_id)


def packets(dut_mac, peer_mac):
    """(class name, frame) for every class the peer sends."""
    from scapy.all import ARP, IP, UDP, Ether, IPv6, Raw, inet_pton
    from socket import AF_INET6

    def eth():
        return Ether(src=peer_mac, dst=dut_mac)

    udp = bytes(UDP(sport=4000, dport=5000) / Raw(b"x" * 16))[:8] + b"x" * 16
    seg = [inet_pton(AF_INET6, "fc00:0:3::1"), inet_pton(AF_INET6, TRANSIT)]
    # SRH (RFC 8754 2): NH UDP, 2 segments, TLV 124 then PadN to 8n.
    tlvs = bytes([124, 8]) + cats_body(100) + bytes([4, 4, 0, 0, 0, 0])
    srh_len = 8 + 32 + len(tlvs)
    srh = bytes([17, srh_len // 8 - 1, 4, 1, 1, 0, 0, 0]) + b"".join(seg) + tlvs
    # Destination Options (RFC 8200 4.6): option 0x1E then PadN to 8n.
    doh = bytes([17, 1, 0x1E, 8]) + cats_body(100) + bytes([1, 2, 0, 0])
    out = []
    for _ in range(COUNT):
        out.append(("cats_srh_tlv", eth() / IPv6(src=PEER_ADDR, dst=TRANSIT, nh=43) / Raw(srh + udp)))
        out.append(("cats_option", eth() / IPv6(src=PEER_ADDR, dst=TRANSIT, nh=60) / Raw(doh + udp)))
        out.append(("service_sid", eth() / IPv6(src=PEER_ADDR, dst="2001:db8:5::64") / UDP(dport=5000)))
        out.append(("local_sid", eth() / IPv6(src=PEER_ADDR, dst="fc00:0:1::5") / UDP(dport=5000)))
        out.append(("transit_passed", eth() / IPv6(src=PEER_ADDR, dst=TRANSIT) / UDP(dport=5000)))
        # Not IPv6: loopback-range IPv4 (a martian the kernel drops) and ARP.
        out.append(("not_ipv6", eth() / IP(src="127.0.0.2", dst="127.0.0.1") / UDP(dport=9)))
        out.append(("not_ipv6", eth() / ARP(op=1, psrc="127.0.0.2", pdst="127.0.0.1")))
    return out


def send_mode(iface, dut_mac, phase):
    """Runs inside the peer namespace: send the frames of `phase`."""
    from scapy.all import IPv6, UDP, Ether, sendp
    peer_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    if phase == "classes":
        frames = [f for _, f in packets(dut_mac, peer_mac)]
    else:  # transit, with non_cats forward
        frames = [Ether(src=peer_mac, dst=dut_mac) / IPv6(src=PEER_ADDR, dst=TRANSIT) / UDP(dport=5000)
                  for _ in range(COUNT)]
    sendp(frames, iface=iface, verbose=False)


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


class Lab:
    def __init__(self, build_root):
        tag = f"{os.getpid() % 100000}"
        self.dut_ns, self.peer_ns = f"cxd{tag}", f"cxp{tag}"
        self.dut_if, self.peer_if = f"cxd{tag}", f"cxp{tag}"
        self.prefix = f"cats-afxdp-{tag}"
        self.probe = os.path.join(build_root, "tests", "net", "cats-xdp-probe")
        self.obj = os.path.join(build_root, "dataplane", "xdp", "cats_xdp.bpf.o")
        self.testpmd = None
        self.log = ""

    def ns(self, which, *cmd):
        return ["ip", "netns", "exec", which, *cmd]

    def up(self):
        run(["ip", "netns", "add", self.dut_ns])
        run(["ip", "netns", "add", self.peer_ns])
        run(["ip", "link", "add", self.dut_if, "netns", self.dut_ns, "type", "veth",
             "peer", "name", self.peer_if, "netns", self.peer_ns])
        for ns, ifc, addr in ((self.dut_ns, self.dut_if, DUT_ADDR), (self.peer_ns, self.peer_if, PEER_ADDR)):
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", ifc, "up"])
            run(["ip", "-n", ns, "addr", "add", f"{addr}/64", "dev", ifc, "nodad"])
        self.dut_mac = run(self.ns(self.dut_ns, "cat", f"/sys/class/net/{self.dut_if}/address")).stdout.strip()

    def start_testpmd(self):
        cmd = self.ns(self.dut_ns, "dpdk-testpmd", "--no-huge", "-m", "512", "--no-pci",
                      "--file-prefix", self.prefix, "-l", "0-1", "--log-level=pmd.net.af_xdp:info",
                      "--vdev", f"net_af_xdp0,iface={self.dut_if},xdp_prog={self.obj}",
                      "--", "-i", "--forward-mode=rxonly", "--total-num-mbufs=8192")
        self.testpmd = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.testpmd.stdin.write("start\n")
        self.testpmd.stdin.flush()

    def stop_testpmd(self):
        """Ask for the port stats and quit; returns testpmd's whole output."""
        if self.testpmd is None:
            return self.log
        try:
            out, _ = self.testpmd.communicate("show port stats 0\nquit\n", timeout=30)
        except (subprocess.TimeoutExpired, BrokenPipeError, ValueError):
            self.testpmd.kill()
            out, _ = self.testpmd.communicate()
        self.testpmd = None
        self.log = out or ""
        return self.log

    def probe_run(self, *args, check=True):
        return run(self.ns(self.dut_ns, self.probe, *args), check=check)

    def counters(self):
        out = self.probe_run("counters", self.dut_if).stdout
        return {f[0]: int(f[1]) for f in (line.split() for line in out.splitlines())}

    def wait_attached(self, timeout=30):
        end = time.time() + timeout
        last = ""
        while time.time() < end:
            if self.testpmd.poll() is not None:
                return f"testpmd exited with {self.testpmd.returncode}"
            r = self.probe_run("counters", self.dut_if, check=False)
            if r.returncode == 0:
                return ""
            last = r.stderr.strip()
            time.sleep(0.2)
        return f"no cats_xdp program on {self.dut_if} after {timeout} s: {last}"

    def send(self, phase):
        run(self.ns(self.peer_ns, sys.executable, os.path.abspath(__file__), "--send",
                    self.peer_if, self.dut_mac, phase))

    def ping(self):
        return run(self.ns(self.peer_ns, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", DUT_ADDR), check=False)

    def down(self):
        if self.testpmd is not None:
            self.testpmd.kill()
            self.testpmd.wait()
        run(["ip", "netns", "del", self.dut_ns], check=False)
        run(["ip", "netns", "del", self.peer_ns], check=False)


def diff(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


def testpmd_rx(log):
    """RX-packets of the last 'show port stats' block."""
    blocks = log.split("NIC statistics for port 0")
    if len(blocks) < 2:
        return None
    m = re.search(r"RX-packets:\s+(\d+)", blocks[-1])
    return int(m.group(1)) if m else None


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--send":
        send_mode(sys.argv[2], sys.argv[3], sys.argv[4])
        return 0
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, XDP, AF_XDP)")
        return SKIP
    if shutil.which("dpdk-testpmd") is None:
        print("SKIP: dpdk-testpmd not installed (Debian package dpdk)")
        return SKIP
    try:
        import scapy.all  # noqa: F401
    except ImportError:
        print("SKIP: scapy not installed (Debian package python3-scapy)")
        return SKIP

    lab = Lab(sys.argv[1])
    failures = []
    passed = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        (passed if cond else failures).append(what)

    try:
        lab.up()
        lab.start_testpmd()
        err = lab.wait_attached()
        if err:
            log = lab.stop_testpmd()
            print(f"FAIL: {err}\n--- testpmd ---\n{log[-3000:]}")
            return 1
        check(True, "net_af_xdp loaded cats_xdp.bpf.o and xdp_front found it with its maps")
        lab.probe_run("configure", lab.dut_if, "--service-prefix", SERVICE_PREFIX,
                      "--local-sid", LOCAL_SID_PREFIX, "--host-addr", DUT_ADDR)

        # The kernel behind XDP_PASS: NDP resolves, the echo is answered.
        before = lab.counters()
        p = lab.ping()
        after = lab.counters()
        summary = (p.stdout.strip().splitlines() or [p.stderr.strip()])[-2 if p.stdout else -1]
        check(p.returncode == 0, f"ping6 {DUT_ADDR} through the XDP program is answered: {summary}")
        d = diff(after, before)
        check(d["host"] >= 3, f"the echo requests are counted as host ({d['host']})")
        check(d["ndp"] >= 1, f"the peer's NS/NA are counted as ndp ({d['ndp']})")

        before = lab.counters()
        t0 = time.time()
        lab.send("classes")
        time.sleep(1)
        after = lab.counters()
        d = diff(after, before)
        want = {"cats_srh_tlv": COUNT, "cats_option": COUNT, "service_sid": COUNT, "local_sid": COUNT,
                "transit_passed": COUNT, "not_ipv6": 2 * COUNT, "transit": 0, "malformed": 0, "walk_limit": 0}
        for name, n in want.items():
            check(d[name] == n, f"{name}: counter moved by {d[name]}, sent {n}")

        # non_cats forward: transit goes to cats too.
        lab.probe_run("configure", lab.dut_if, "--service-prefix", SERVICE_PREFIX,
                      "--local-sid", LOCAL_SID_PREFIX, "--host-addr", DUT_ADDR, "--forward")
        before = lab.counters()
        lab.send("transit")
        time.sleep(1)
        d = diff(lab.counters(), before)
        check(d["transit"] == COUNT and d["transit_passed"] == 0,
              f"non_cats forward: transit {d['transit']}, transit_passed {d['transit_passed']}, sent {COUNT}")
        print(f"sending and counting took {time.time() - t0:.1f} s")

        log = lab.stop_testpmd()
        rx = testpmd_rx(log)
        redirected = 4 * COUNT + COUNT
        check(rx == redirected, f"testpmd received {rx} packets on its AF_XDP socket, redirected {redirected}")
        check("Successfully loaded XDP program" in log, "the PMD logged loading our program")
    finally:
        lab.down()

    print(f"{len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
