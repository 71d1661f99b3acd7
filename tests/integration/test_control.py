#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration of the whole control loop with the real binaries:

  cats-agent x3 --UDP adverts (HMAC)--> cats-control --mgmt socket--> cats-dataplane
                                            ^ catsctl                    (net_af_packet on veths)

The dataplane runs in a network namespace on two veth pairs; this script
injects UDP flows on one (AF_PACKET) and reads the encapsulated output on
the other, so it sees which instance (outer destination = first SID) each
flow reaches. Checked:
  1. advertised instances appear in the dataplane; flows spread over them;
  2. a new agent's instance takes new flows; pinned flows do not move;
  3. an agent killed (SIGKILL, no withdraw): its flows move within the
     lifetime; flows of other instances do not move;
  4. a clean withdraw (SIGTERM) moves its flows at once;
  5. catsctl service list / flow list / dataplane status agree with what the
     dataplane does;
  6. cats-control killed and restarted while traffic flows: no packet lost,
     and the table ends the same.

usage: test_control.py BUILD_DIR
"""
import ctypes
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BUILD = sys.argv[1]
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
CONTROL = os.path.join(BUILD, "control", "cats-control")
AGENT = os.path.join(BUILD, "tools", "agent", "cats-agent")
CATSCTL = os.path.join(BUILD, "tools", "catsctl", "catsctl")
NS = "cc%d" % (os.getpid() % 100000)
SERVICE_SID = "2001:db8:5::64"   # CS-ID 100
LIFETIME = 3
N_FLOWS = 48

failures = []
agents_by_node = {}
procs_by_name = {}


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)
    return cond


def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(dst_mac, sport, payload):
    src = socket.inet_pton(socket.AF_INET6, "2001:db8:c::1")
    dst = socket.inet_pton(socket.AF_INET6, SERVICE_SID)
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", sport, 5000, ulen, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!IHBB", 6 << 28, ulen, 17, 64) + src + dst
    return dst_mac + b"\x02\x00\x00\x00\x00\xc1" + b"\x86\xdd" + ip + udp


def in_netns(ns, make):
    """Call make() with this thread in network namespace `ns`, then come
    back: sockets keep the namespace they were created in."""
    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNET = 0x40000000
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        try:
            return make()
        finally:
            libc.setns(home, CLONE_NEWNET)
    finally:
        os.close(home)
        os.close(target)


class Wire:
    """AF_PACKET sockets on the test ends of the veths (inside the netns)."""

    def __init__(self, dp_in_mac):
        self.dp_in_mac = mac_bytes(dp_in_mac)

        def make():
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            tx.bind(("tin", 0))
            rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
            rx.bind(("tout", 0))
            return tx, rx
        self.tx, self.rx = in_netns(NS, make)
        self.rx.settimeout(0.2)
        self.seen = []          # (flow, seq, instance first SID)
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self._recv, daemon=True)
        self.t.start()

    def _recv(self):
        while not self.stop:
            try:
                f = self.rx.recv(4096)
            except socket.timeout:
                continue
            if len(f) < 14 + 40 or f[12:14] != b"\x86\xdd":
                continue
            ip = f[14:]
            if ip[6] != 43:
                continue
            da = socket.inet_ntop(socket.AF_INET6, ip[24:40])
            srh_len = (ip[41] + 1) * 8
            inner = ip[40 + srh_len:]
            if len(inner) < 48:
                continue
            sport = struct.unpack("!H", inner[40:42])[0]
            payload = inner[48:]
            try:
                tag, seq = payload.decode().split("-")
            except ValueError:
                continue
            with self.lock:
                self.seen.append((sport, int(seq), da))

    def send_round(self, seq, flows=range(N_FLOWS), pause=0.0):
        for i in flows:
            self.tx.send(udp_frame(self.dp_in_mac, 10000 + i, b"f-%d" % seq))
            if pause:
                time.sleep(pause)

    def where(self, seq):
        """flow -> instance SID for one round (waits for stragglers)."""
        time.sleep(0.3)
        with self.lock:
            got = [(s, da) for (s, q, da) in self.seen if q == seq]
        out = {}
        for s, da in got:
            out.setdefault(s - 10000, set()).add(da)
        return out, len(got)


def table_of(service_list_json):
    """What the dataplane is told: services and instances with SIDs and
    metrics, without timers and push states."""
    out = {}
    for svc in json.loads(service_list_json)["services"]:
        out[svc["cs_id"]] = (svc["name"], sorted(
            (i["id"], tuple(i["sids"]), json.dumps(i["metrics"], sort_keys=True))
            for i in svc.get("instances", [])))
    return out


def run_ctl(tmp, *args):
    p = subprocess.run([CATSCTL, "-s", os.path.join(tmp, "ctl.sock"), "--json", *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


KEYS = {n: "%032x" % (0x1111 * n * 0x1000100010001) for n in (1, 2, 3)}
SIDS = {n: "2001:db8:a%d::100" % n for n in (1, 2, 3)}


def agent(tmp, port, n, extra=()):
    return subprocess.Popen(
        [AGENT, "--control", "[::1]:%d" % port, "--node-id", str(n), "--key-id", str(n),
         "--key-hex", KEYS[n], "--interval", "1", "--lifetime", str(LIFETIME),
         "--service", "100:%d:%s" % (n, SIDS[n]), "--load", "10", "--score", "9", *extra],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "agent%d.log" % n), "w"))


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        print("0 passed, 0 failed, 1 skipped")
        return 0
    procs = []
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sh("ip", "netns", "add", NS)
            for a, b in (("din", "tin"), ("dout", "tout")):
                sh("ip", "link", "add", a, "type", "veth", "peer", "name", b, ns=NS)
                for d in (a, b):
                    sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % d, ns=NS, check_rc=False)
                    sh("ip", "link", "set", d, "up", ns=NS)
            din_mac = json.loads(sh("ip", "-j", "link", "show", "din", ns=NS))[0]["address"]
            port = 20000 + os.getpid() % 20000
            dp_sock = os.path.join(tmp, "dp.sock")
            ctl_sock = os.path.join(tmp, "ctl.sock")
            with open(os.path.join(tmp, "dp.yaml"), "w") as fh:
                fh.write("""
gateway: {encap_source: "2001:db8:ff::1", service_sid_prefix: "2001:db8:5::/96"}
ports: [{name: net_af_packet0}, {name: net_af_packet1}]
neighbors:
  - {address: "2001:db8:ff::a1", mac: "02:00:00:00:00:a1", port: net_af_packet1}
  - {address: "2001:db8:ff::a2", mac: "02:00:00:00:00:a2", port: net_af_packet1}
  - {address: "2001:db8:ff::a3", mac: "02:00:00:00:00:a3", port: net_af_packet1}
routes:
  - {prefix: "2001:db8:a1::/48", via: "2001:db8:ff::a1"}
  - {prefix: "2001:db8:a2::/48", via: "2001:db8:ff::a2"}
  - {prefix: "2001:db8:a3::/48", via: "2001:db8:ff::a3"}
services: []
""")
            with open(os.path.join(tmp, "control.yaml"), "w") as fh:
                fh.write("""
listen: [{address: "::1", port: %d}]
ctl_socket: %s
dataplane_socket: %s
peers:
%s
policy: {metric_threshold_pct: 5, max_pushes_per_s: 2, startup_hold_s: 2}
services:
  - {cs_id: 100, name: video, affinity_timeout_s: 60, instances: []}
""" % (port, ctl_sock, dp_sock, "\n".join(
                    '  - {node_id: %d, key_id: %d, key: "%s", name: node%d}' % (n, n, KEYS[n], n)
                    for n in (1, 2, 3))))
            dp = subprocess.Popen(
                ["ip", "netns", "exec", NS, DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", NS,
                 "-l", "0", "--no-telemetry", "--log-level", "lib.eal:error",
                 "--vdev", "net_af_packet0,iface=din", "--vdev", "net_af_packet1,iface=dout",
                 "--", "--config", os.path.join(tmp, "dp.yaml"), "--mgmt-socket", dp_sock,
                 "--stats-file", os.path.join(tmp, "dp-stats.json")],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "dp.log"), "w"))
            procs.append(dp)
            ctl_log = open(os.path.join(tmp, "control.log"), "w")
            ctrl = subprocess.Popen([CONTROL, "--config", os.path.join(tmp, "control.yaml")],
                                    stdout=ctl_log, stderr=ctl_log)
            procs.append(ctrl)
            agents = {n: agent(tmp, port, n) for n in (1, 2)}
            procs.extend(agents.values())
            agents_by_node.update(agents)
            procs_by_name["control"] = ctrl

            # Wait until the two advertised instances run in the dataplane.
            deadline = time.time() + 60
            insts, status = [], {}
            while time.time() < deadline:
                rc, out, _ = run_ctl(tmp, "service", "list")
                rc2, out2, _ = run_ctl(tmp, "dataplane", "status")
                if rc == 0 and rc2 == 0:
                    svcs = json.loads(out)["services"]
                    insts = [i for s in svcs if s["cs_id"] == 100 for i in s.get("instances", [])]
                    status = json.loads(out2)
                    if (len(insts) == 2 and all(i["push_state"] == "in_sync" for i in insts)
                            and status["link"]["in_sync"]):
                        break
                time.sleep(0.5)
            if not check(len(insts) == 2 and status.get("link", {}).get("in_sync"),
                         "instances never reached the dataplane: %s %s" % (insts, status)):
                raise RuntimeError("setup failed")

            try:
                inner(tmp, din_mac, port)
            finally:
                if failures:
                    for log in ("dp.log", "control.log", "control2.log", "agent1.log", "agent3.log"):
                        path = os.path.join(tmp, log)
                        if os.path.exists(path):
                            print("---- %s\n%s" % (log, open(path).read()[-3000:]))

            dp.send_signal(signal.SIGTERM)
            dp.wait(timeout=30)
            check(dp.returncode == 0, "cats-dataplane exit %s" % dp.returncode)
    finally:
        for p in procs + list(procs_by_name.values()):
            if p.poll() is None:
                p.kill()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


def inner(tmp, din_mac, port):
    """Traffic, agents, kills, catsctl."""
    w = Wire(din_mac)
    seq = 0

    def round_(flows=range(N_FLOWS)):
        nonlocal seq
        seq += 1
        w.send_round(seq, flows)
        return w.where(seq)

    # 1. Spread over the two advertised instances.
    where1, n1 = round_()
    check(n1 == N_FLOWS, "round 1: %d of %d packets came out" % (n1, N_FLOWS))
    used = set().union(*where1.values()) if where1 else set()
    check(used == {SIDS[1], SIDS[2]}, "round 1 used %s" % used)
    base = {f: next(iter(s)) for f, s in where1.items()}

    # 5. catsctl agrees with the dataplane.
    rc, out, err = run_ctl(tmp, "flow", "list", "--service", "100")
    check(rc == 0, "catsctl flow list: %s" % err)
    if rc == 0:
        flows = json.loads(out)
        flows = flows.get("flows", flows) if isinstance(flows, dict) else flows
        by_port = {f["sport"] - 10000: f["instance_id"] for f in flows if "sport" in f}
        for f, sid in base.items():
            want = 1 if sid == SIDS[1] else 2
            check(by_port.get(f) == want, "flow %d: catsctl says instance %s, dataplane sent to %s" % (
                f, by_port.get(f), sid))
    rc, out, err = run_ctl(tmp, "dataplane", "status")
    check(rc == 0 and (json.loads(out)["link"]["table_version"] or 0) >= 1 and
          json.loads(out)["link"]["in_sync"], "dataplane status: %s %s" % (out, err))
    # An instance whose SID the dataplane cannot route is said so where it
    # is added and where it is listed, not only in the stats.
    rc, out, err = run_ctl(tmp, "instance", "add", "100", "77", "--sid", "2001:db8:99::77", "--weight", "0")
    added = json.loads(out) if rc == 0 else {}
    check(added.get("applied") is True and added.get("resolved") is False and
          added.get("unresolved_reason") == "no_route",
          "instance add with an unroutable SID reports it unresolved (no_route): %s %s" % (out, err))
    rc, out, err = run_ctl(tmp, "service", "list")
    listed = {i["id"]: i for s in (json.loads(out)["services"] if rc == 0 else []) if s["cs_id"] == 100
              for i in s.get("instances", [])}
    check(listed.get(77, {}).get("resolved") is False and listed.get(1, {}).get("resolved") is True,
          "service list marks it unresolved, the advertised ones resolved: %s" %
          {k: (v.get("resolved"), v.get("unresolved_reason")) for k, v in listed.items()})
    rc, out, err = run_ctl(tmp, "instance", "del", "100", "77")
    check(rc == 0, "instance del 100 77: %s" % err)

    # 2. A third agent: new flows may go to it, pinned flows stay.
    a3 = agent(tmp, port, 3)
    procs_by_name["agent3"] = a3
    time.sleep(2.5)
    where2, _ = round_()
    moved = [f for f in base if where2.get(f) != {base[f]}]
    check(not moved, "pinned flows moved when an instance was added: %s" % moved)
    new_flows = range(N_FLOWS, 2 * N_FLOWS)
    where3, n3 = round_(new_flows)
    used3 = set().union(*where3.values()) if where3 else set()
    check(SIDS[3] in used3, "no new flow reached the new instance: %s" % used3)
    pinned3 = {f: next(iter(s)) for f, s in where3.items()}

    # 3. Kill agent 2 (no withdraw): within the lifetime its flows move, the
    #    others stay.
    agents_by_node[2].kill()
    t0 = time.time()
    moved_in = None
    while time.time() - t0 < LIFETIME + 4:
        where4, _ = round_()
        if all(where4.get(f) != {SIDS[2]} for f in base if base[f] == SIDS[2]):
            moved_in = time.time() - t0
            break
        time.sleep(0.3)
    check(moved_in is not None and moved_in <= LIFETIME + 2,
          "flows of the killed agent's instance did not move within the lifetime (%s s)" % moved_in)
    if moved_in is not None:
        print("flows of the killed node moved after %.1f s (lifetime %d s)" % (moved_in, LIFETIME))
        for f in base:
            if base[f] != SIDS[2]:
                check(where4.get(f) == {base[f]}, "flow %d of a live instance moved: %s -> %s" % (
                    f, base[f], where4.get(f)))

    # 4. Clean exit of agent 3 withdraws at once.
    a3.send_signal(signal.SIGTERM)
    a3.wait(timeout=10)
    time.sleep(0.5)
    where5, _ = round_(new_flows)
    check(all(s != {SIDS[3]} for s in where5.values()), "flows still on the withdrawn instance")
    for f, sid in pinned3.items():
        if sid != SIDS[3] and sid != SIDS[2]:
            check(where5.get(f) == {sid}, "flow %d moved on another instance's withdraw" % f)

    rc, before, _ = run_ctl(tmp, "service", "list")
    # 6. Kill cats-control during traffic: no loss; restart: same table.
    stop = threading.Event()
    sent = {"n": 0, "seq0": seq + 1}

    def pump():
        nonlocal seq
        while not stop.is_set():
            seq += 1
            w.send_round(seq, range(8), pause=0.001)
            sent["n"] += 8
            time.sleep(0.02)

    t = threading.Thread(target=pump)
    t.start()
    procs_by_name["control"].kill()
    time.sleep(1.5)
    ctl_log = open(os.path.join(tmp, "control2.log"), "w")
    ctrl = subprocess.Popen([CONTROL, "--config", os.path.join(tmp, "control.yaml")],
                            stdout=ctl_log, stderr=ctl_log)
    procs_by_name["control2"] = ctrl
    time.sleep(4.5)   # startup hold, agent 1 re-advertises, resync
    stop.set()
    t.join()
    time.sleep(0.5)
    with w.lock:
        got = sum(1 for (s, q, da) in w.seen if q >= sent["seq0"])
    check(got == sent["n"], "control restart: %d of %d packets came out" % (got, sent["n"]))
    rc, after, _ = run_ctl(tmp, "service", "list")
    check(rc == 0 and table_of(after) == table_of(before),
          "table after control restart differs:\n%s\n%s" % (table_of(before), table_of(after)))
    print("control restart: %d packets sent during kill/restart, %d came out" % (sent["n"], got))
    ctrl.terminate()
    ctrl.wait(timeout=10)
    w.stop = True
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
