#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The soak (issue 20): the lab of tools/lab/lab.py under load for a long
time, with everything that can go wrong going wrong at once, then checks.

  tools/soak.sh [--duration 600] [--build DIR] [--name NAME] [--out DIR] ...
  tools/soak.py run ...          (what soak.sh runs, niced, with a trap)
  tools/soak.py inject ...       (internal: the malformed-frame sender, run
                                  in the tester's namespace)

For `--duration` seconds, concurrently:
  - traffic: cats-trafgen through the lab, back-to-back segments of up to
    60 s, each with new flows (its own seed and source prefix), 2 % of the
    packets malformed (trafgen's 15 kinds);
  - more malformed frames, of the kinds trafgen cannot make (bad extension
    header chains, a second SRH, routing type 0, an SRH too short, three
    VLAN tags, IPv4, ARP, an unknown CS-ID, hop limit 1), from a raw socket
    on the tester's client port;
  - churn, in cycles: an agent killed (no withdraw) and restarted, an agent
    stopped (withdraw) and restarted, a node failed (agent killed, IPv6 off)
    and restored, cats-control restarted (SIGTERM and SIGKILL in turn),
    node 3's load changed;
  - 1,000 updates/s: `instance.set` on cats-control's ctl socket (JSON
    lines, the protocol catsctl speaks), over persistent connections, on
    CLI-made instances of a service no traffic uses (CS-ID 300); each
    answer comes once the dataplane has the change (control/README.md).
Sampled every 2 s: RSS of the dataplane, cats-control and the agents, and
whether each still runs. A dumpcap on the tester's six instance ports
keeps, per packet, which instance it reached and trafgen's header (flow,
sequence, TX time), for the re-steer analysis.

Checks at the end (exit 0 only if all pass), see tools/lab/README.md, Soak.
"""
import argparse
import json
import math
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lab"))
import lab as labmod  # noqa: E402

UPDATE_CS = 300                 # the service the update load works on (no traffic uses it)
CAUSES = ("agent_kill", "agent_stop", "node_fail")   # events after which a flow may move
MAGIC = b"CTG1"                 # trafgen header (tools/trafgen/README.md)
TRAFGEN_KINDS = ("ipv6_truncated", "ipv6_bad_version", "ipv6_bad_payload_len", "ext_truncated", "hbh_not_first",
                 "opt_overrun", "srh_bad_last_entry", "srh_bad_segments_left", "srh_tlv_overrun", "cats_truncated",
                 "cats_bad_version", "cats_subtlv_overrun", "cats_subtlv_bad_length", "cats_bad_value",
                 "l4_truncated")


def log(msg):
    print("[soak %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ----------------------------------------------------------------------
# Malformed frames of our own (`inject`): each with the drop reason the
# dataplane must count it under (dataplane/drop_reason.hpp).

def _eth(ethertype, body, tags=()):
    h = bytes.fromhex("02ca75010000") + bytes.fromhex("02ca75030000")
    for tpid in tags:
        h += struct.pack(">HH", tpid, 100)
    return h + struct.pack(">H", ethertype) + body


def _ip6(nh, payload, dst="2001:db8:5::64", hlim=64, src="2001:db8:c:ff::1"):
    return struct.pack(">IHBB", 0x60000000, len(payload), nh, hlim) + socket.inet_pton(
        socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + payload


UDP = struct.pack(">HHHH", 40000, 5000, 16, 0) + b"soak-bad"


def _srh(nh, segs=("2001:db8:5::64",), sl=0):
    body = b"".join(socket.inet_pton(socket.AF_INET6, s) for s in segs)
    return struct.pack(">BBBBBBH", nh, len(body) // 8, 4, sl, len(segs) - 1, 0, 0) + body


def injected_frames():
    """kind -> (frame, drop reason). Kinds trafgen does not send."""
    doh = lambda nh: struct.pack(">BB", nh, 0) + b"\x01\x04\x00\x00\x00\x00"   # 8 bytes, PadN
    chain = UDP
    nh = 17
    for _ in range(9):                                   # 9 > kMaxExtHeaders (8)
        chain, nh = doh(nh) + chain, 60
    rt0 = struct.pack(">BBBB", 17, 2, 0, 1) + b"\0" * 4 + socket.inet_pton(socket.AF_INET6, "2001:db8:5::64")
    short_srh = struct.pack(">BBBBBBH", 17, 1, 4, 0, 0, 0, 0) + b"\0" * 8   # 16 bytes < 8 + 16
    two_srh = _srh(43) + _srh(17) + UDP
    ipv4 = bytes.fromhex("4500001c000100004011") + b"\0\0" + bytes([192, 0, 2, 1, 192, 0, 2, 2]) + UDP[:8]
    arp = bytes.fromhex("0001080006040001") + bytes.fromhex("02ca75030000") + bytes([192, 0, 2, 1]) + \
        b"\0" * 6 + bytes([192, 0, 2, 2])
    return {
        "ext_chain_too_long": (_eth(0x86DD, _ip6(nh, chain)), "ext_chain_too_long"),
        "rh_unsupported": (_eth(0x86DD, _ip6(43, rt0 + UDP)), "rh_unsupported"),
        "srh_bad_length": (_eth(0x86DD, _ip6(43, short_srh + UDP)), "srh_bad_length"),
        "srh_duplicate": (_eth(0x86DD, _ip6(43, two_srh)), "srh_duplicate"),
        "vlan_too_deep": (_eth(0x86DD, _ip6(17, UDP), tags=(0x88A8, 0x8100, 0x8100)), "vlan_too_deep"),
        "ipv4": (_eth(0x0800, ipv4), "ipv4"),
        "non_ip": (_eth(0x0806, arp), "non_ip"),
        # A well-formed request for a CS-ID nobody serves (service SID of 999).
        "unknown_service": (_eth(0x86DD, _ip6(17, UDP, dst="2001:db8:5::3e7")), "unknown_service"),
        # Plain IPv6 towards a routed prefix with hop limit 1: dropped, and a
        # Time Exceeded goes back out of port 0 (rate limited).
        "hop_limit_exceeded": (_eth(0x86DD, _ip6(17, UDP, dst="2001:db8:a1::99", hlim=1)), "hop_limit_exceeded"),
    }


def cmd_inject(a):
    """Send the frames of injected_frames() round robin on an interface at
    a rate until SIGTERM; write the count per kind to --out."""
    frames = list(injected_frames().items())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    counts = {k: 0 for k, _ in frames}
    errors = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    period = 1.0 / a.pps
    nxt = time.monotonic()
    i = 0
    while not stop:
        k, (f, _) = frames[i % len(frames)]
        try:
            s.send(f)
            counts[k] += 1
        except OSError as e:
            errors[k] = str(e)
        i += 1
        nxt += period
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
    with open(a.out + ".tmp", "w") as fh:
        json.dump({"sent": counts, "errors": errors}, fh)
    os.replace(a.out + ".tmp", a.out)
    return 0


# ----------------------------------------------------------------------
# The soak's own record: events, process incarnations, samples.

class Record:
    def __init__(self):
        self.lock = threading.Lock()
        self.events = []          # {t, kind, node, detail}
        self.incarnations = []    # {role, pid, popen, t_start, t_end, rc, expect}
        self.problems = []        # strings: something the soak itself saw go wrong
        self.rss = {}             # pid -> [(t, kib)]

    def event(self, kind, node=None, detail=""):
        with self.lock:
            self.events.append({"t": time.time(), "kind": kind, "node": node, "detail": detail})
        log("event %s%s%s" % (kind, " node %d" % node if node else "", " " + detail if detail else ""))

    def problem(self, msg):
        with self.lock:
            self.problems.append(msg)
        log("PROBLEM: " + msg)

    def born(self, role, popen):
        with self.lock:
            self.incarnations.append({"role": role, "pid": popen.pid, "popen": popen, "t_start": time.time(),
                                      "t_end": None, "rc": None, "expect": None})

    def current(self, role):
        with self.lock:
            for inc in reversed(self.incarnations):
                if inc["role"] == role:
                    return inc
        return None

    def expect_exit(self, role, how):
        inc = self.current(role)
        if inc is not None and inc["t_end"] is None:
            inc["expect"] = how


# ----------------------------------------------------------------------
# Churn

def plan_events(duration):
    """(t offset, action, node) over the soak, in cycles of up to 60 s:
    agent A killed then started, control restarted, node B failed then
    restored, node 3's load changed, agent A stopped (withdraw) then
    started. A and B alternate between nodes 1 and 2; node 3 (and its
    agent) is never churned, so that one agent lives the whole soak. No
    control restart in the last 40 %: its last incarnation is long enough
    to judge its RSS. Nothing in the last 10 s."""
    period = min(60.0, max(20.0, duration - 20.0))
    plan = []
    c = 0
    restart_kill = False
    while 10.0 + (c + 1) * period <= duration - 10.0 + 1e-9:
        s = 10.0 + c * period
        a, b = (1, 2) if c % 2 == 0 else (2, 1)
        plan += [(s + 0.05 * period, "agent_kill", a), (s + 0.20 * period, "agent_start", a)]
        if s + 0.30 * period < 0.6 * duration:
            plan.append((s + 0.30 * period, "control_restart_kill" if restart_kill else "control_restart", None))
            restart_kill = not restart_kill
        plan += [(s + 0.45 * period, "node_fail", b), (s + 0.70 * period, "node_restore", b),
                 (s + 0.60 * period, "metrics", 3),
                 (s + 0.80 * period, "agent_stop", a), (s + 0.92 * period, "agent_start", a)]
        c += 1
    return sorted(plan)


class Churn(threading.Thread):
    def __init__(self, lab, rec, t0, duration, stop):
        super().__init__(daemon=True)
        self.lab, self.rec, self.t0, self.stop = lab, rec, t0, stop
        self.plan = plan_events(duration)
        self.load3 = labmod.NODE_METRICS[3]["load_pct"]

    def run(self):
        for off, action, node in self.plan:
            while not self.stop.is_set() and time.time() < self.t0 + off:
                self.stop.wait(min(0.2, self.t0 + off - time.time()))
            if self.stop.is_set():
                return
            try:
                self.do(action, node)
            except Exception as e:    # noqa: BLE001 - any failure of a step is reported, the soak goes on
                self.rec.problem("churn step %s %s failed: %s" % (action, node or "", e))

    def do(self, action, node):
        lab, rec = self.lab, self.rec
        role = "agent%d" % node if node else None
        if action in ("agent_kill", "agent_stop", "node_fail"):
            sig = signal.SIGTERM if action == "agent_stop" else signal.SIGKILL
            rec.expect_exit(role, "SIGTERM" if sig == signal.SIGTERM else "SIGKILL")
            rec.event(action, node)
            lab.stop_agent(node, sig)
            if action == "node_fail":
                lab.node_stack(node, False)
        elif action in ("agent_start", "node_restore"):
            if action == "node_restore":
                lab.node_stack(node, True)
            rec.event(action, node)
            rec.born(role, lab.start_agent(node))
        elif action.startswith("control_restart"):
            kill = action.endswith("kill")
            rec.expect_exit("control", "SIGKILL" if kill else "SIGTERM")
            rec.event("control_restart", None, "SIGKILL" if kill else "SIGTERM")
            lab.restart_control(signal.SIGKILL if kill else signal.SIGTERM)
            rec.born("control", lab.procs["control"])
        elif action == "metrics":
            self.load3 = 60 if self.load3 != 60 else labmod.NODE_METRICS[3]["load_pct"]
            m = dict(lab.state.get("metrics", {}).get("3", labmod.NODE_METRICS[3]))
            m["load_pct"] = self.load3
            rec.event("metrics", node, "load_pct=%d" % self.load3)
            lab.write_metrics(node, m)


# ----------------------------------------------------------------------
# Sampler: RSS and liveness every 2 s.

def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Sampler(threading.Thread):
    def __init__(self, rec, stop, interval=2.0):
        super().__init__(daemon=True)
        self.rec, self.stop, self.interval = rec, stop, interval

    def sample(self):
        now = time.time()
        with self.rec.lock:
            incs = list(self.rec.incarnations)
        for inc in incs:
            if inc["t_end"] is not None:
                continue
            rc = inc["popen"].poll()
            if rc is None:
                kib = rss_kib(inc["pid"])
                if kib is not None:
                    self.rec.rss.setdefault(inc["pid"], []).append((now, kib))
                continue
            inc["t_end"], inc["rc"] = now, rc
            if inc["expect"] is None:
                self.rec.problem("%s (pid %d) exited with %s, not by the soak's doing" % (
                    inc["role"], inc["pid"], rc_text(rc)))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


def rc_text(rc):
    if rc is None:
        return "running"
    if rc < 0:
        try:
            return "signal %s" % signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "exit %d" % rc


# ----------------------------------------------------------------------
# Updates: instance.set on the ctl socket, paced, over persistent
# connections. Each request is answered once the dataplane has acked the
# change (control/daemon.cpp instance_cmd), so one connection carries one
# update per dataplane round trip; many connections carry many, coalesced
# by cats-control into one UPDATE per round trip.

class Updater(threading.Thread):
    def __init__(self, sock_path, rate, conns, per_conn, stop):
        super().__init__(daemon=True)
        self.sock_path, self.rate, self.n_conns, self.per_conn, self.stop = sock_path, rate, conns, per_conn, stop
        self.stats = {"sent": 0, "applied": 0, "not_applied": 0, "errors": 0, "reconnects": 0, "adds": 0}
        self.last_error = ""
        self.per_second = {}      # int(time) -> applied
        self.latency = []         # seconds, applied updates
        self.t_start = self.t_stop = None

    def run(self):
        sel = selectors.DefaultSelector()
        conns = []
        for i in range(self.n_conns):
            ids = [1 + i * self.per_conn + k for k in range(self.per_conn)]
            conns.append({"i": i, "ids": ids, "sock": None, "state": "down", "retry": 0.0, "buf": b"",
                          "add": 0, "next": 0, "load": {k: 1 for k in ids}, "t": 0.0})
        tokens, last = 0.0, time.monotonic()
        self.t_start = time.time()
        rr = 0
        while not self.stop.is_set():
            now = time.monotonic()
            tokens = min(tokens + (now - last) * self.rate, max(1.0, self.rate * 0.1))
            last = now
            for c in conns:
                if c["state"] == "down" and now >= c["retry"]:
                    self.connect(sel, c)
            idle = [c for c in conns if c["state"] == "idle"]
            if idle:
                for k in range(len(idle)):
                    if tokens < 1:
                        break
                    c = idle[(rr + k) % len(idle)]
                    iid = c["ids"][c["next"] % len(c["ids"])]
                    c["next"] += 1
                    c["load"][iid] = 2 if c["load"][iid] == 1 else 1    # always a change
                    self.send(sel, c, "instance.set", {"cs_id": UPDATE_CS, "id": iid,
                                                        "metrics": {"load_pct": c["load"][iid]}})
                    if c["state"] == "busy":
                        tokens -= 1
                        self.stats["sent"] += 1
                rr += 1
            for key, _ in sel.select(timeout=0.002):
                self.readable(sel, key.data)
        self.t_stop = time.time()
        for c in conns:
            if c["sock"] is not None:
                c["sock"].close()

    def connect(self, sel, c):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock_path)
            s.setblocking(False)
        except OSError:
            c["retry"] = time.monotonic() + 0.1
            return
        c.update(sock=s, buf=b"", add=0, state="adding")
        sel.register(s, selectors.EVENT_READ, c)
        self.send_add(sel, c)

    def send_add(self, sel, c):
        iid = c["ids"][c["add"]]
        self.send(sel, c, "instance.add", {"cs_id": UPDATE_CS, "id": iid, "name": "soak-updates",
                                           "sids": ["2001:db8:a1::3:%x" % iid]}, state="adding")

    def send(self, sel, c, cmd, args, state="busy"):
        line = (json.dumps({"v": 0, "cmd": cmd, "args": args}, separators=(",", ":")) + "\n").encode()
        try:
            c["sock"].sendall(line)      # small; the socket buffer takes it
        except OSError:
            self.down(sel, c)
            return
        c["state"], c["t"] = state, time.monotonic()

    def down(self, sel, c):
        if c["sock"] is not None:
            try:
                sel.unregister(c["sock"])
            except (KeyError, ValueError):
                pass
            c["sock"].close()
        c.update(sock=None, state="down", retry=time.monotonic() + 0.1)
        self.stats["reconnects"] += 1

    def readable(self, sel, c):
        try:
            data = c["sock"].recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.down(sel, c)
            return
        c["buf"] += data
        while b"\n" in c["buf"]:
            line, c["buf"] = c["buf"].split(b"\n", 1)
            try:
                r = json.loads(line)
            except ValueError:
                r = {"ok": False, "error": "unparsable answer"}
            if c["state"] == "adding":
                if r.get("ok") or "exists" in r.get("error", ""):
                    self.stats["adds"] += 1
                    c["add"] += 1
                    if c["add"] < len(c["ids"]):
                        self.send_add(sel, c)
                    else:
                        c["state"] = "idle"
                else:
                    self.stats["errors"] += 1
                    self.last_error = r.get("error", "")
                    c["state"] = "idle"
                continue
            lat = time.monotonic() - c["t"]
            c["state"] = "idle"
            if r.get("ok") and r["result"].get("applied"):
                self.stats["applied"] += 1
                sec = int(time.time())
                self.per_second[sec] = self.per_second.get(sec, 0) + 1
                self.latency.append(lat)
            elif r.get("ok"):
                self.stats["not_applied"] += 1
            else:
                self.stats["errors"] += 1
                self.last_error = r.get("error", "")
                if "does not exist" in self.last_error:
                    c.update(add=0, state="adding")     # lost with a control restart: add again
                    self.send_add(sel, c)

    def summary(self):
        span = (self.t_stop or time.time()) - (self.t_start or time.time())
        lat = sorted(self.latency)
        secs = sorted(self.per_second.items())[1:-1]     # whole seconds only
        rates = sorted(v for _, v in secs)
        pct = lambda p: lat[min(len(lat) - 1, int(math.ceil(p / 100.0 * len(lat))) - 1)] * 1e3 if lat else None
        return dict(self.stats, seconds=round(span, 1), rate=round(self.stats["applied"] / span, 1) if span else 0,
                    rate_sent=round(self.stats["sent"] / span, 1) if span else 0,
                    per_second_min=rates[0] if rates else 0,
                    per_second_median=rates[len(rates) // 2] if rates else 0,
                    latency_ms_p50=pct(50), latency_ms_p99=pct(99), last_error=self.last_error,
                    timeline=sorted(self.per_second.items()))


# ----------------------------------------------------------------------
# Traffic: trafgen segments

def write_profile(path, seed, seg, rate, flows, index):
    inst = lambda p: "\n".join("      - {name: %s-%d, sids: ['2001:db8:a%d::%s'], weight: %s}" % (
        p, n, n, "100" if p == "vid" else "200", w) for n, w in ((1, 81.82), (2, 54.55), (3, 27.27)))
    with open(path, "w") as fh:
        fh.write("""# soak segment %d (written by tools/soak.py)
seed: %d
flows: %d
duration_s: %s
rate_pps: %d
packet_size: {min: 100, max: 700}
encodings: {srh_tlv: 2, dest_opt: 2, hop_by_hop: 1, service_sid: 1}
transports: {udp: 6, tcp: 3, esp: 1}
addressing:
  src_mac: 02:ca:75:03:00:00
  dst_mac: 02:ca:75:01:00:00
  src_prefix: 2001:db8:c:5%03x::/64
  app_dst: 2001:db8:5::64
  service_sid_prefix: 2001:db8:5::/96
services:
  - cs_id: 100
    name: video-analytics
    share: 2
    instances:
%s
  - cs_id: 200
    name: llm-inference
    share: 1
    instances:
%s
requirement_sets:
  - name: any
    share: 5
  - name: grouped
    share: 1
    services: [100]
    affinity_group: 4
malformed:
  share: 0.02
  kinds: [%s]
analysis:
  share_tolerance: 1.0
""" % (index, seed, flows, seg, rate, index, inst("vid"), inst("llm"), ", ".join(TRAFGEN_KINDS)))


class Traffic(threading.Thread):
    def __init__(self, lab, rec, out, duration, rate, flows, seg_max, stop):
        super().__init__(daemon=True)
        self.lab, self.rec, self.out, self.duration, self.rate, self.flows = lab, rec, out, duration, rate, flows
        self.seg_max, self.stop = seg_max, stop
        self.segments = []     # {index, seed, t_start, t_end, report, rc}

    def run(self):
        t_end = time.time() + self.duration
        i = 0
        while not self.stop.is_set():
            left = t_end - time.time()
            if left < 5:
                break
            seg = min(self.seg_max, left)
            seed = 2000 + i
            prof = os.path.join(self.out, "segment-%02d.yaml" % i)
            write_profile(prof, seed, "%.1f" % seg, self.rate, self.flows, i)
            s = {"index": i, "seed": seed, "t_start": time.time(), "planned_s": seg}
            try:
                run = self.lab.traffic(prof, "--all-flows", background=True)
                run.wait(timeout=seg + 120)
                s.update(report=run.report, rc=run.rc)
            except labmod.LabError as e:
                self.rec.problem("trafgen segment %d: %s" % (i, e))
                s.update(report=None, rc=None)
            s["t_end"] = time.time()
            self.segments.append(s)
            if s.get("report"):
                t = s["report"]["totals"]
                log("segment %d: sent %d received %d lost %d, affinity %s" % (
                    i, t["sent"], t["received"], t["lost"], s["report"]["affinity"]))
            i += 1


# ----------------------------------------------------------------------
# Counters

def veth_counters(lab):
    """Kernel counters of the gateway's four veths (the dataplane's ports)."""
    out = {}
    j = json.loads(labmod.sh("ip", "-s", "-j", "link", "show", ns=lab.ns("gw")))
    for link in j:
        if link["ifname"] in ("p0", "p1", "p2", "p3"):
            st = link["stats64"]
            out[link["ifname"]] = {"rx": st["rx"]["packets"], "tx": st["tx"]["packets"],
                                   "rx_dropped": st["rx"]["dropped"], "tx_dropped": st["tx"]["dropped"]}
    return out


def flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[prefix + k] = v
    return out


def dp_counters(stats):
    """The dataplane's STATS reply reduced to what conservation needs."""
    c = {"totals": dict(stats["totals"]), "drops": dict(stats["drops"]), "icmp": dict(stats["icmp"]),
         "ports": {}, "table_version": stats.get("table_version", 0)}
    for p in stats["ports"]:
        c["ports"][p["port_id"]] = {"name": p["name"], "rx": p["rx_packets"], "tx": p["tx_packets"],
                                    "hw": dict(p["hw"])}
    c["punted"] = sum(k.get("punted", 0) for k in stats.get("kernel_ports", []))
    c["held"] = dict(stats.get("held", {}))
    return c


def sub(a, b):
    if isinstance(a, dict):
        return {k: sub(a[k], b.get(k, 0) if isinstance(b, dict) else 0) for k in a}
    if isinstance(a, (int, float)):
        return a - (b or 0)
    return a


# ----------------------------------------------------------------------
# Captures: which instance each trafgen packet reached

def read_pcapng(path):
    """Yield the packet bytes of every Enhanced/Simple Packet Block."""
    with open(path, "rb") as fh:
        data = fh.read()
    off, end = 0, len(data)
    bo = "<"
    while off + 12 <= end:
        btype, blen = struct.unpack_from(bo + "II", data, off)
        if btype == 0x0A0D0D0A:
            bo = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack_from(bo + "II", data, off)
        if blen < 12 or off + blen > end:
            break
        if btype == 6:
            caplen = struct.unpack_from(bo + "I", data, off + 20)[0]
            yield data[off + 28:off + 28 + caplen]
        off += blen


def instance_of_mac(mac):
    """Node n's port towards the app of service k: 02:ca:75:02:0n:0k."""
    if mac[:4] != b"\x02\xca\x75\x02" or mac[4] not in (1, 2, 3) or mac[5] not in (1, 2):
        return None
    return "%s-%d" % ("vid" if mac[5] == 1 else "llm", mac[4])


def analyze_capture(path):
    """(run id, flow) -> [(seq, tx_ns, instance)], and what did not fit."""
    flows = {}
    odd = {"no_header": 0, "unknown_mac": 0, "malformed_flagged": 0}
    for f in read_pcapng(path):
        inst = instance_of_mac(f[6:12])
        o = f.find(MAGIC)
        if o < 0 or len(f) < o + 32:
            odd["no_header"] += 1
            continue
        if inst is None:
            odd["unknown_mac"] += 1
            continue
        flags = f[o + 5]
        if flags & 1:
            odd["malformed_flagged"] += 1
            continue
        run, flow, seq, tx = struct.unpack_from(">IIQQ", f, o + 8)
        flows.setdefault((run, flow), []).append((seq, tx, inst))
    return flows, odd


def reception_gaps(flows, segments, t0, rate, bin_s=0.5, frac=0.25):
    """Half-seconds (by trafgen's TX time) in which the instances together
    received under `frac` of what trafgen sent: the whole gateway stalled
    (a node failure takes at most half of the traffic)."""
    bins = {}
    for pk in flows.values():
        for _, tx, _ in pk:
            b = int((tx / 1e9 - t0) / bin_s)
            bins[b] = bins.get(b, 0) + 1
    want = rate * bin_s * 0.98
    low = []
    for s in segments:
        b0, b1 = int((s["t_start"] - t0 + 1.0) / bin_s), int((s["t_end"] - t0 - 2.0) / bin_s)
        low += [b for b in range(b0, b1) if bins.get(b, 0) < frac * want]
    ranges = []
    for b in sorted(set(low)):
        if ranges and ranges[-1][1] == b - 1:
            ranges[-1][1] = b
        else:
            ranges.append([b, b])
    return ", ".join("t+%.1f..%.1f s" % (r0 * bin_s, (r1 + 1) * bin_s) for r0, r1 in ranges)


def ring_frames(lab):
    """The RX ring of the dataplane's packet sockets (net_af_packet), in
    frames, from ss."""
    out = labmod.sh("ss", "-0", "-e", "-n", ns=lab.ns("gw"), check=False)
    for line in out.splitlines():
        if "ring_rx(" in line and "frm_nr:" in line:
            return int(line.split("frm_nr:")[1].split(",")[0])
    return None


def node_of(inst):
    return int(inst.rsplit("-", 1)[1])


def find_cause(events, node, t, before, after, kinds=CAUSES):
    for e in events:
        if e["kind"] in kinds and e["node"] == node and e["t"] - before <= t <= e["t"] + after:
            return e
    return None


def analyze_moves(flows, events, window_after, sent_per_flow):
    """Every instance change of every flow, in sequence order, with the
    churn event that explains it (a kill, stop or failure of the node it
    left, at most `window_after` s before the first packet at the new
    instance), and every lost packet with its estimated TX time and whether
    a node failure explains it."""
    moves, lost = [], []
    for key, pk in flows.items():
        pk.sort()
        seen = []
        last_seq = None
        for seq, tx, inst in pk:
            if seq == last_seq:
                continue          # a duplicate: the first arrival counts
            last_seq = seq
            seen.append((seq, tx, inst))
        for (s0, t0, i0), (s1, t1, i1) in zip(seen, seen[1:]):
            if i1 != i0:
                cause = find_cause(events, node_of(i0), t1 / 1e9, 0.2, window_after)
                moves.append({"run": key[0], "flow": key[1], "from": i0, "to": i1, "t": t1 / 1e9,
                              "last_before": t0 / 1e9, "cause": cause})
        sent = sent_per_flow.get(key)
        if sent is None or not seen:
            continue
        got = {s for s, _, _ in seen}
        if len(got) >= sent:
            continue
        # TX time of a lost packet: interpolated between its received
        # neighbours (the flow is sent at a steady rate).
        span = (seen[-1][1] - seen[0][1]) / max(1, seen[-1][0] - seen[0][0])
        idx = 0
        for s in range(sent):
            if s in got:
                continue
            while idx + 1 < len(seen) and seen[idx + 1][0] < s:
                idx += 1
            a = seen[idx]
            if a[0] > s:      # before the first received packet
                t, inst = a[1] - (a[0] - s) * span, a[2]
            elif idx + 1 < len(seen):
                b = seen[idx + 1]
                t = a[1] + (b[1] - a[1]) * (s - a[0]) / (b[0] - a[0])
                inst = a[2]
            else:
                t, inst = a[1] + (s - a[0]) * span, a[2]
            cause = find_cause(events, node_of(inst), t / 1e9, 0.5, window_after, kinds=("node_fail",))
            lost.append({"run": key[0], "flow": key[1], "seq": s, "t": t / 1e9, "instance": inst, "cause": cause})
    return moves, lost


# ----------------------------------------------------------------------
# Checks

def delay_text(moves, kind):
    d = sorted(m["t"] - m["cause"]["t"] for m in moves if m["cause"] and m["cause"]["kind"] == kind)
    return "%.2f/%.2f/%.2f s" % (d[0], median(d), d[-1]) if d else "-"


def build_source(build):
    """The source tree and commit a meson build directory was set up from."""
    try:
        with open(os.path.join(build, "meson-info", "meson-info.json")) as fh:
            src = json.load(fh)["directories"]["source"]
    except (OSError, ValueError, KeyError):
        return "?"
    rev = subprocess.run(["git", "-C", src, "describe", "--always", "--dirty"], capture_output=True,
                         text=True).stdout.strip()
    return "%s (%s)" % (src, rev or "not a git checkout")


def rss_series(rec, pid):
    return rec.rss.get(pid, [])


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def rss_growth(series, t_warm, t_end, window=10.0):
    """RSS (KiB) around the end of the warm-up and over the last `window`
    s: medians, so one sample's noise does not decide."""
    base = [k for t, k in series if abs(t - t_warm) <= window]
    last = [k for t, k in series if t >= t_end - window]
    if not base or not last:
        return None
    b, l = median(base), median(last)
    return {"warm": b, "end": l, "growth_pct": 100.0 * (l - b) / b, "max": max(k for _, k in series)}


def fmt_mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def converge(lab, n_cli, timeout=15.0):
    """Once the churn is over: every instance of the lab back in cats-control's
    table and pushed, the CLI instances of the update load too, the link in
    sync, and the dataplane's table holding the same instances, resolved.
    Returns what was seen when it held, or at the timeout."""
    t0 = time.time()
    want = {(cs, n) for cs in labmod.SERVICES for n in labmod.NODES}
    seen = {}
    while True:
        try:
            insts = lab.instances()
            link = lab.catsctl("dataplane", "status")["link"]
            dp = {(svc["cs_id"], i["id"]): i["resolved"] for svc in lab.dataplane_stats()["services"]
                  for i in svc["instances"]}
            traffic = {k: v.get("push_state") for k, v in insts.items() if k in want}
            cli = [v.get("push_state") for k, v in insts.items() if k[0] == UPDATE_CS]
            seen = {"seconds": round(time.time() - t0, 2), "instances": len(traffic),
                    "in_sync": sum(1 for v in traffic.values() if v == "in_sync"),
                    "cli": len(cli), "cli_in_sync": sum(1 for v in cli if v == "in_sync"),
                    "link_in_sync": bool(link.get("in_sync")), "table_version": link.get("table_version"),
                    "dataplane_resolved": sum(1 for k in want if dp.get(k)),
                    "dataplane_cli": sum(1 for k in dp if k[0] == UPDATE_CS)}
            seen["ok"] = (seen["in_sync"] == len(want) and seen["cli_in_sync"] == n_cli and seen["link_in_sync"]
                          and seen["dataplane_resolved"] == len(want) and seen["dataplane_cli"] == n_cli)
            if seen["ok"]:
                return seen
        except (labmod.LabError, ValueError, KeyError) as e:
            seen["error"] = str(e)
        if time.time() - t0 > timeout:
            return dict(seen, ok=False)
        time.sleep(0.2)


def main_run(a):
    rec = Record()
    out = os.path.abspath(a.out or "/tmp/cats-soak-%s" % time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    os.chdir(out)       # the lab's processes inherit it: a core file lands here
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError) as e:
        log("cannot raise the core size limit: %s" % e)
    with open("/proc/sys/kernel/core_pattern") as fh:
        core_pattern = fh.read().strip()
    log("output in %s; core_pattern '%s'" % (out, core_pattern))
    git = build_source(a.build)

    lab = labmod.Lab(a.name, a.build)
    if lab.is_up():
        log("lab %s is up or left over: bringing it down first" % a.name)
        lab.down(log=log)
        lab = labmod.Lab(a.name, a.build)
    reaper = labmod.start_reaper(a.name)   # down even if this process is SIGKILLed
    stop = threading.Event()
    threads = []
    injector = dumpcap = None
    results = {"out": out, "git": git, "duration_s": a.duration}
    converged = {}
    try:
        t_up = time.time()
        lab.up(lcore=a.lcore, log=log)
        results["up_s"] = round(time.time() - t_up, 1)
        for role in ["dataplane", "control"] + ["agent%d" % n for n in labmod.NODES]:
            rec.born(role, lab.procs[role])
        # The captures, before any traffic.
        cap = os.path.join(out, "rx.pcapng")
        cmd = ["ip", "netns", "exec", lab.ns("tg"), "dumpcap", "-q", "-s", "256", "-B", "16", "-w", cap]
        for i in labmod.INSTANCES:
            cmd += ["-i", i]
        dumpcap = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(out, "dumpcap.log"), "w"))
        time.sleep(2)
        if dumpcap.poll() is not None:
            raise labmod.LabError("dumpcap exited %s: %s" % (dumpcap.returncode,
                                                              labmod.tail(os.path.join(out, "dumpcap.log"))))
        results["ring_frames"] = ring_frames(lab)
        results["dpdk"] = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True,
                                         text=True).stdout.strip() or "?"
        st0 = dp_counters(lab.dataplane_stats())
        veth0 = veth_counters(lab)
        t0 = time.time()
        results["t0"] = t0
        log("soak starts: %d s, traffic %d pps in segments of up to %d s, %d updates/s over %d connections" % (
            a.duration, a.rate, a.segment, a.updates, a.update_conns))
        sampler = Sampler(rec, stop)
        churn = Churn(lab, rec, t0, a.duration, stop)
        updater = Updater(lab.path("ctl.sock"), a.updates, a.update_conns, a.update_per_conn, stop)
        traffic = Traffic(lab, rec, out, a.duration, a.rate, a.flows, a.segment, stop)
        inj_out = os.path.join(out, "injected.json")
        injector = subprocess.Popen(["ip", "netns", "exec", lab.ns("tg"), sys.executable, os.path.abspath(__file__),
                                     "inject", "--iface", "c0", "--pps", str(a.inject_pps), "--out", inj_out],
                                    stdin=subprocess.DEVNULL)
        threads = [sampler, churn, updater, traffic]
        for t in threads:
            t.start()
        last_report = 0
        while time.time() < t0 + a.duration and traffic.is_alive():
            time.sleep(1)
            if time.time() - last_report >= 30:
                last_report = time.time()
                u = updater.summary()
                log("t+%3.0f s: updates applied %d (%.0f/s), events %d, problems %d" % (
                    time.time() - t0, u["applied"], u["rate"], len(rec.events), len(rec.problems)))
        traffic.join(timeout=a.segment + 180)
        stop.set()
        for t in (churn, updater, sampler):
            t.join(timeout=30)
        injector.send_signal(signal.SIGTERM)
        injector.wait(timeout=10)
        time.sleep(2)      # in-flight packets land, counters settle
        converged = converge(lab, a.update_conns * a.update_per_conn)
        t_end = time.time()
        sampler.sample()
        st1 = dp_counters(lab.dataplane_stats())
        veth1 = veth_counters(lab)
        dumpcap.send_signal(signal.SIGTERM)
        dumpcap.wait(timeout=20)
        ctl_stats = lab.catsctl("stats")["control"]

        # Still running? Then a clean exit on SIGTERM, each.
        still = {}
        with rec.lock:
            incs = list(rec.incarnations)
        for inc in incs:
            if inc["t_end"] is None:
                still[inc["role"]] = inc
        shutdown = {}
        for role in ["agent1", "agent2", "agent3", "control", "dataplane"]:
            inc = still.get(role)
            if inc is None:
                continue
            inc["expect"] = "SIGTERM"
            inc["popen"].send_signal(signal.SIGTERM)
            try:
                rc = inc["popen"].wait(timeout=30)
            except subprocess.TimeoutExpired:
                inc["popen"].kill()
                rc = inc["popen"].wait()
                rec.problem("%s did not exit within 30 s of SIGTERM" % role)
            inc["t_end"], inc["rc"] = time.time(), rc
            shutdown[role] = rc
        for f in os.listdir(lab.dir):
            if f.endswith(".log") or f.startswith("report-") or f.endswith("stats.json"):
                try:
                    with open(os.path.join(lab.dir, f), "rb") as src, open(os.path.join(out, "lab-" + f), "wb") as dst:
                        dst.write(src.read())
                except OSError:
                    pass
    except BaseException as e:
        stop.set()
        rec.problem("the soak stopped early: %s: %s" % (type(e).__name__, e))
        for p in (injector, dumpcap):
            if p is not None and p.poll() is None:
                p.kill()
        raise
    finally:
        stop.set()
        try:
            lab.down(log=log)
        except labmod.LabError as e:
            log("down: %s" % e)
        reaper.stdin.close()

    # ------------------------------------------------------------------
    # Analysis
    checks = []     # (name, ok, figures)
    events = rec.events

    # 1. Nothing crashed.
    by_role = {}
    bad = []
    for inc in rec.incarnations:
        by_role.setdefault(inc["role"].rstrip("123") if inc["role"].startswith("agent") else inc["role"],
                           []).append(inc)
        want = {"SIGKILL": -signal.SIGKILL, "SIGTERM": 0}.get(inc["expect"])
        if inc["rc"] != want:
            bad.append("%s pid %d: %s%s" % (inc["role"], inc["pid"], rc_text(inc["rc"]),
                                             " (the soak sent %s: expected %s)" % (inc["expect"], rc_text(want))
                                             if inc["expect"] else " (the soak did not stop it)"))
    cores = [f for f in os.listdir(out) if f.startswith("core")]
    logs_bad = []
    for f in os.listdir(out):
        if f.startswith("lab-") and f.endswith(".log"):
            with open(os.path.join(out, f), errors="replace") as fh:
                for line in fh:
                    if any(w in line for w in ("Segmentation", "terminate called", "Assertion", "AddressSanitizer",
                                               "core dumped", "Aborted", "PANIC")):
                        logs_bad.append("%s: %s" % (f, line.strip()[:200]))
    crash_ok = not bad and not cores and not logs_bad and all(rc == 0 for rc in shutdown.values()) and \
        set(shutdown) == {"agent1", "agent2", "agent3", "control", "dataplane"}
    restarts = [e for e in events if e["kind"] == "control_restart"]
    figs = ["dataplane: 1 run, exit %s on SIGTERM at the end" % rc_text(shutdown.get("dataplane")),
            "cats-control: %d runs (%d restarts by the soak: %d SIGTERM, %d SIGKILL), last exit %s" % (
                len(by_role.get("control", [])), len(restarts),
                sum(1 for e in restarts if e["detail"] == "SIGTERM"),
                sum(1 for e in restarts if e["detail"] == "SIGKILL"), rc_text(shutdown.get("control"))),
            "agents: %d runs (%d stopped by the soak), last exits %s" % (
                len(by_role.get("agent", [])), sum(1 for e in events if e["kind"] in CAUSES),
                ", ".join("%s %s" % (r, rc_text(shutdown.get(r))) for r in ("agent1", "agent2", "agent3"))),
            "cores: %s (core_pattern '%s', RLIMIT_CORE unlimited)" % (", ".join(cores) or "none", core_pattern)]
    figs += ["UNEXPECTED: " + b for b in bad] + ["LOG: " + b for b in logs_bad[:10]]
    checks.append(("nothing crashed", crash_ok, figs))

    # 2. RSS flat after warm-up.
    warm = max(30.0, a.warmup if a.warmup is not None else 0.2 * a.duration)
    figs, rss_ok = [], True
    rss_rows = []

    def judge(label, inc, t_warm, t_stop):
        nonlocal rss_ok
        g = rss_growth(rss_series(rec, inc["pid"]), t_warm, t_stop)
        if g is None:
            figs.append("%s: not enough samples" % label)
            return
        ok = g["growth_pct"] < a.rss_threshold
        rss_ok = rss_ok and ok
        rss_rows.append(dict(g, what=label))
        figs.append("%s: %s at t+%.0f s -> %s at the end (%+.2f %%), max %s%s" % (
            label, fmt_mib(g["warm"]), t_warm - t0, fmt_mib(g["end"]), g["growth_pct"], fmt_mib(g["max"]),
            "" if ok else "  GROWS"))

    for inc in by_role.get("dataplane", []):
        judge("dataplane", inc, t0 + warm, t_end)
    ctl = by_role.get("control", [])
    if ctl:
        last = ctl[-1]
        span = t_end - last["t_start"]
        if span >= 60 + 30:
            judge("cats-control (last run, %.0f s)" % span, last, last["t_start"] + 30, t_end)
        else:
            figs.append("cats-control: last run too short to judge (%.0f s)" % span)
        earlier = []
        for inc in ctl[:-1]:
            s = rss_series(rec, inc["pid"])
            if s:
                earlier.append(max(k for _, k in s))
        if earlier:
            figs.append("cats-control earlier runs: max RSS %s" % ", ".join(fmt_mib(k) for k in earlier))
    for inc in by_role.get("agent", []):
        if inc["role"] == "agent3" and inc["t_start"] < t0:
            judge("agent3 (never churned)", inc, t0 + warm, t_end)
    agent_max = [max(k for _, k in rss_series(rec, inc["pid"])) for inc in by_role.get("agent", [])
                 if rss_series(rec, inc["pid"])]
    if agent_max:
        figs.append("agents, every run: max RSS %s .. %s" % (fmt_mib(min(agent_max)), fmt_mib(max(agent_max))))
    figs.insert(0, "threshold: growth < %.1f %% from the end of the warm-up (%.0f s; medians of the samples "
                   "within 10 s) to the end (median of the last 10 s)" % (a.rss_threshold, warm))
    checks.append(("RSS flat after warm-up", rss_ok and bool(rss_rows), figs))

    # The capture: which instance each trafgen packet reached.
    cap = os.path.join(out, "rx.pcapng")
    flows, odd = analyze_capture(cap) if os.path.exists(cap) else ({}, {})
    gaps_text = reception_gaps(flows, traffic.segments, t0, a.rate)
    ring_text = "%s frames per port, %.2f s at %d pps; a worker that does not run for longer loses the rest, " \
                "and DPDK %s's net_af_packet does not report them in hw.imissed" % (
                    results.get("ring_frames", "?"), results.get("ring_frames", 0) / float(a.rate), a.rate,
                    results.get("dpdk", "?"))

    # 3. Conservation, from the dataplane's counters (deltas over the soak).
    d = sub(st1, st0)
    dv = {p: sub(veth1[p], veth0[p]) for p in veth1}
    figs, cons_ok = [], True
    figs.append("%-15s %10s %10s %8s %8s | %10s %10s %10s %8s" % (
        "port", "veth rx", "dp rx", "hw.imiss", "hw.ierr", "dp tx", "hw.opkts", "veth tx", "veth drp"))
    wire_ok, wire_figs = True, []
    for pid in sorted(d["ports"]):
        p = d["ports"][pid]
        v = dv.get("p%d" % pid, {"rx": 0, "tx": 0, "tx_dropped": 0})
        # The dataplane's own books: software counters = the PMD's.
        ok_dp = p["rx"] == p["hw"]["ipackets"] and p["tx"] == p["hw"]["opackets"]
        # The wire: what the kernel's veth took in = what the dataplane
        # counted (received or missed); what it sent = what the veth carried.
        ok_in = v["rx"] == p["rx"] + p["hw"]["imissed"] + p["hw"]["ierrors"]
        ok_out = p["hw"]["opackets"] == v["tx"] + p["hw"]["oerrors"]
        cons_ok = cons_ok and ok_dp
        wire_ok = wire_ok and ok_in and ok_out
        figs.append("%-15s %10d %10d %8d %8d | %10d %10d %10d %8d%s" % (
            st1["ports"][pid]["name"], v["rx"], p["rx"], p["hw"]["imissed"], p["hw"]["ierrors"], p["tx"],
            p["hw"]["opackets"], v["tx"], v["tx_dropped"],
            "" if ok_dp and ok_in and ok_out else "  " + " ".join(
                w for w, ok in (("SW!=HW", ok_dp), ("RX-UNCOUNTED %d" % (v["rx"] - p["rx"] - p["hw"]["imissed"] -
                                                                       p["hw"]["ierrors"]), ok_in),
                                ("TX-MISMATCH", ok_out)) if not ok)))
        if not ok_in:
            wire_figs.append("%s: the kernel delivered %d frames to the port that the dataplane counts nowhere "
                             "(not received, not hw.imissed): lost in net_af_packet's RX ring (%s)" % (
                                 st1["ports"][pid]["name"], v["rx"] - p["rx"] - p["hw"]["imissed"] -
                                 p["hw"]["ierrors"], ring_text))
    rx, tx = d["totals"]["rx_packets"], d["totals"]["tx_packets"]
    drops = sum(d["drops"].values())
    icmp = d["icmp"]["too_big_sent"] + d["icmp"]["time_exceeded_sent"]
    held = d["held"].get("now", 0) + d["held"].get("sent", 0) + d["held"].get("dropped", 0) if d["held"] else 0
    sinks = d["punted"] + held
    ok_sum = rx == tx + drops - icmp + sinks and rx == sum(p["rx"] for p in d["ports"].values()) and \
        tx == sum(p["tx"] for p in d["ports"].values())
    cons_ok = cons_ok and ok_sum
    figs.append("all ports: rx %d = tx %d + drops %d - ICMP errors sent %d (a dropped packet turned into "
                "the reply) + punted %d + held %d: %s" % (rx, tx, drops, icmp, d["punted"], held,
                                                         "holds" if ok_sum else "DOES NOT HOLD (%+d)" % (
                                                             rx - (tx + drops - icmp + sinks))))
    figs.append("rx = steered %d + forwarded %d + dropped %d (totals.dropped %d)" % (
        d["totals"]["steered"], d["totals"]["forwarded"], drops, d["totals"]["dropped"]))
    # Drops by reason against what was sent of each malformed kind.
    tg_sent = {}
    for s in traffic.segments:
        if s.get("report"):
            for k, v in s["report"]["malformed"]["sent"].items():
                tg_sent[k] = tg_sent.get(k, 0) + v
    inj = {"sent": {}, "errors": {}}
    if os.path.exists(os.path.join(out, "injected.json")):
        with open(os.path.join(out, "injected.json")) as fh:
            inj = json.load(fh)
    want = dict(tg_sent)
    for k, (_, reason) in injected_frames().items():
        want[reason] = want.get(reason, 0) + inj["sent"].get(k, 0)
    reason_bad = []
    for k in sorted(want):
        if d["drops"].get(k, 0) != want[k]:
            reason_bad.append("%s: dropped %d, sent %d" % (k, d["drops"].get(k, 0), want[k]))
    others = {k: v for k, v in d["drops"].items() if v and k not in want}
    figs.append("drops by reason = malformed sent (trafgen + injector), each of %d kinds: %s" % (
        len(want), "yes" if not reason_bad else "NO: " + "; ".join(reason_bad)))
    figs.append("drops by reason: " + ", ".join("%s %d" % (k, v) for k, v in sorted(d["drops"].items()) if v))
    if others:
        figs.append("other drops (no malformed packet of that kind was sent): " + ", ".join(
            "%s %d" % kv for kv in sorted(others.items())))
    if inj.get("errors"):
        figs.append("injector send errors: %s" % inj["errors"])
    cons_ok = cons_ok and not reason_bad
    checks.append(("per-port conservation", cons_ok, figs))
    if wire_ok:
        wire_figs.append("every port: veth rx = dp rx + hw.imissed + hw.ierrors, and hw.opackets = veth tx")
    else:
        wire_figs.append("the reception gaps in the capture (all instances at once, while trafgen sent): %s" % (
            gaps_text or "none found"))
    checks.append(("ports: nothing lost uncounted", wire_ok, wire_figs))

    # 4. No flow changed instance without a cause.
    sent_per_flow = {}
    tg = {"sent": 0, "received": 0, "lost": 0, "duplicates": 0, "violations": 0, "planned": 0, "flows": 0,
          "malformed_sent": 0, "malformed_received": 0, "tx_packets": 0}
    for s in traffic.segments:
        r = s.get("report")
        if not r:
            continue
        run_id = r["run"]["run_id"]
        for f in r.get("flows", []):
            sent_per_flow[(run_id, f["id"])] = f["sent"]
        t = r["totals"]
        for k in ("sent", "received", "lost", "duplicates", "flows"):
            tg[k] += t[k]
        tg["violations"] += r["affinity"]["violations"]
        tg["planned"] += r["affinity"]["planned_moves"]
        tg["malformed_sent"] += sum(r["malformed"]["sent"].values())
        tg["malformed_received"] += sum(r["malformed"]["received"].values())
        tg["tx_packets"] += r["tx"]["packets"]
    window = labmod.LIFETIME_S + a.slack
    moves, lost = analyze_moves(flows, events, window, sent_per_flow)
    unexplained = [m for m in moves if m["cause"] is None]
    moved_flows = {(m["run"], m["flow"]) for m in moves}
    by_cause = {}
    for m in moves:
        if m["cause"]:
            k = m["cause"]["kind"]
            by_cause[k] = by_cause.get(k, 0) + 1
    figs = ["capture: %d packets of %d flows in %d segments; not trafgen's or unknown port: %s" % (
        sum(len(v) for v in flows.values()), len(flows), len(traffic.segments), odd),
        "trafgen: %d flow moves counted (%d flows with an affinity violation, %d planned); "
        "the capture finds %d moves in %d flows" % (tg["violations"] + tg["planned"], tg["violations"],
                                                    tg["planned"], len(moves), len(moved_flows)),
        "rule: a move away from node N's instance is legitimate if its first packet at the new instance was "
        "sent within [-0.2, +%.1f] s (lifetime %d s + %.1f s) of an agent kill/stop or a failure of node N" % (
            window, labmod.LIFETIME_S, a.slack),
        "moves by cause (delay from the event to the first packet at the new instance, min/median/max): %s" % (
            "; ".join("%s %d (%s)" % (k, n, delay_text(moves, k)) for k, n in sorted(by_cause.items())) or "none")]
    for m in unexplained[:20]:
        near = sorted(events, key=lambda e: abs(e["t"] - m["t"]))[:2]
        figs.append("UNEXPLAINED: run %08x flow %d %s -> %s at %s (t+%.2f s; last packet on %s at t+%.2f s); "
                    "nearest events: %s" % (
                        m["run"], m["flow"], m["from"], m["to"], time.strftime("%H:%M:%S", time.gmtime(m["t"])),
                        m["t"] - t0, m["from"], m["last_before"] - t0,
                        "; ".join("%s %s%s at t+%.2f s" % (e["kind"], e["node"] or "", (" " + e["detail"]) if
                                                          e["detail"] else "", e["t"] - t0) for e in near)))
    if len(unexplained) > 20:
        figs.append("... and %d more unexplained moves" % (len(unexplained) - 20))
    # trafgen counts flows (one violation per flow however many moves):
    # the capture's moved flows must be the same number.
    aff_ok = bool(flows) and not unexplained and len(moved_flows) == tg["violations"] + tg["planned"]
    if len(moved_flows) != tg["violations"] + tg["planned"]:
        figs.append("MISMATCH: the capture's moved flows (%d) differ from trafgen's count (%d)" % (
            len(moved_flows), tg["violations"] + tg["planned"]))
    checks.append(("no flow moved without a cause", aff_ok, figs))

    # 5. Converged once the churn stopped.
    checks.append(("converged after the churn", bool(converged.get("ok")), [
        "%.1f s after the load stopped: %d/%d lab instances in cats-control, %d pushed (in_sync); "
        "%d/%d CLI instances of CS-ID %d, %d pushed; link in sync %s at table version %s; the dataplane "
        "holds %d/%d lab instances resolved and %d CLI instances%s" % (
            converged.get("seconds", -1), converged.get("instances", 0), len(labmod.INSTANCES),
            converged.get("in_sync", 0), converged.get("cli", 0), a.update_conns * a.update_per_conn, UPDATE_CS,
            converged.get("cli_in_sync", 0), converged.get("link_in_sync"), converged.get("table_version"),
            converged.get("dataplane_resolved", 0), len(labmod.INSTANCES), converged.get("dataplane_cli", 0),
            ("; " + converged["error"]) if converged.get("error") else "")]))

    # 6. The load was what the soak claims.
    u = updater.summary()
    planned_tx = a.rate * sum(s["planned_s"] for s in traffic.segments)
    load_ok = u["rate"] >= 0.9 * a.updates and tg["tx_packets"] >= 0.9 * planned_tx
    unexplained_loss = [x for x in lost if x["cause"] is None]
    figs = ["updates: %d applied in %.0f s = %.0f/s (target %d; per whole second min %d, median %d); "
            "%d answered before the dataplane had them (during a control restart), %d refused, %d reconnects; "
            "latency p50 %s ms, p99 %s ms" % (
                u["applied"], u["seconds"], u["rate"], a.updates, u["per_second_min"], u["per_second_median"],
                u["not_applied"], u["errors"], u["reconnects"],
                "%.1f" % u["latency_ms_p50"] if u["latency_ms_p50"] is not None else "-",
                "%.1f" % u["latency_ms_p99"] if u["latency_ms_p99"] is not None else "-"),
            "dataplane table versions during the soak: %d (UPDATEs applied, each carrying the updates "
            "coalesced behind the previous one); flows: %d new, %d re-steered, %d expired" % (
                d["table_version"], d["totals"]["new_flows"], d["totals"]["resteered"], d["totals"]["expired"]),
            "traffic: %d packets sent by trafgen (%.0f pps; %d malformed, %d of them received), %d good sent, "
            "%d received, %d lost, %d duplicates; injector: %d frames of %d kinds" % (
                tg["tx_packets"], tg["tx_packets"] / max(1.0, sum(s["t_end"] - s["t_start"] for s in traffic.segments)),
                tg["malformed_sent"], tg["malformed_received"], tg["sent"], tg["received"], tg["lost"],
                tg["duplicates"], sum(inj["sent"].values()), len(inj["sent"])),
            "loss (informational): %d packets lost, %d within a node failure's window on that node, %d not%s" % (
                len(lost), len(lost) - len(unexplained_loss), len(unexplained_loss),
                (": " + ", ".join("%s t+%.1f s" % (x["instance"], x["t"] - t0) for x in unexplained_loss[:10]))
                if unexplained_loss else ""),
            "control (last run) advert counters: %s" % {k: v for k, v in ctl_stats["advert"].items() if v},
            "events: %s" % ", ".join("%s %d" % (k, sum(1 for e in events if e["kind"] == k)) for k in sorted(
                {e["kind"] for e in events}))]
    checks.append(("load applied (>= 90 % of target)", load_ok, figs))
    if rec.problems:
        checks.append(("soak ran without problems", False, rec.problems[:20]))

    # Report
    print()
    print("=" * 100)
    print("cats soak: %d s, lab %s, build %s from %s, output %s" % (a.duration, a.name, a.build, git, out))
    print("=" * 100)
    print("%-36s %-6s" % ("check", "result"))
    print("-" * 100)
    for name, ok, _ in checks:
        print("%-36s %s" % (name, "PASS" if ok else "FAIL"))
    print("-" * 100)
    for name, ok, figs in checks:
        print("\n%s: %s" % (name, "PASS" if ok else "FAIL"))
        for f in figs:
            print("  " + f)
    print("\nevent log (t from the start of traffic, %s UTC):" % time.strftime("%H:%M:%S", time.gmtime(t0)))
    for e in events:
        print("  t+%7.2f  %-16s %s %s" % (e["t"] - t0, e["kind"], e["node"] or "", e["detail"]))
    summary = {"checks": [{"name": n, "pass": ok, "figures": f} for n, ok, f in checks], "events": events,
               "updates": u, "traffic": tg, "moves": [dict(m, cause=m["cause"]["kind"] if m["cause"] else None)
                                                      for m in moves],
               "lost": len(lost), "lost_unexplained": len(unexplained_loss),
               "rss": {str(pid): s for pid, s in rec.rss.items()},
               "incarnations": [{k: v for k, v in inc.items() if k != "popen"} for inc in rec.incarnations],
               "dataplane_delta": d, "veth_delta": dv}
    summary.update(results)
    summary["converged"] = converged
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=1, default=str)
    if not a.keep_capture and all(ok for _, ok, _ in checks):
        os.remove(os.path.join(out, "rx.pcapng"))
    ok = all(ok for _, ok, _ in checks)
    print("\nsoak %s (summary.json and the logs in %s)" % ("PASSED" if ok else "FAILED", out))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="cats soak: the lab under traffic, churn, restarts, malformed "
                                             "traffic and 1000 updates/s, then checks (tools/lab/README.md, Soak)")
    sub_ = ap.add_subparsers(dest="cmd", required=True)
    r = sub_.add_parser("run", help="run the soak")
    r.add_argument("--duration", type=int, default=600, help="seconds of soak (default %(default)s)")
    r.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"), help="meson build directory")
    r.add_argument("--name", default="soak", help="lab name (default %(default)s)")
    r.add_argument("--out", help="directory for the logs, captures and summary.json (default /tmp/cats-soak-TIME)")
    r.add_argument("--lcore", type=int, default=0, help="the dataplane's lcore (default 0)")
    r.add_argument("--rate", type=int, default=1000, help="trafgen packets/s (default %(default)s)")
    r.add_argument("--flows", type=int, default=240, help="flows per trafgen segment (default %(default)s)")
    r.add_argument("--segment", type=int, default=60, help="seconds per trafgen segment (default %(default)s)")
    r.add_argument("--updates", type=int, default=1000, help="instance.set per second (default %(default)s)")
    r.add_argument("--update-conns", type=int, default=56, help="ctl connections for them (default %(default)s)")
    r.add_argument("--update-per-conn", type=int, default=4, help="instances each connection updates")
    r.add_argument("--inject-pps", type=int, default=30, help="injected malformed frames/s (default %(default)s)")
    r.add_argument("--warmup", type=float, help="RSS warm-up in s (default 20 %% of the duration, at least 30)")
    r.add_argument("--rss-threshold", type=float, default=5.0, help="allowed RSS growth, %% (default %(default)s)")
    r.add_argument("--slack", type=float, default=2.0,
                   help="s after lifetime within which a move still counts as caused (default %(default)s)")
    r.add_argument("--keep-capture", action="store_true", help="keep rx.pcapng when every check passes")
    i = sub_.add_parser("inject", help="(internal) send malformed frames until SIGTERM")
    i.add_argument("--iface", required=True)
    i.add_argument("--pps", type=float, default=30)
    i.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "inject":
        return cmd_inject(a)
    if os.geteuid() != 0:
        print("soak: needs root (the lab's namespaces)", file=sys.stderr)
        return 2
    a.build = os.path.abspath(a.build)
    try:
        return main_run(a)
    except labmod.LabError as e:
        print("soak: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
