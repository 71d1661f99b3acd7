#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The real cats-dataplane on a veth: net_af_xdp against net_af_packet,
plain IPv6 forwarding (the io floor) against the CATS fast path, in one run
(issue 17, "Measure").

Three network namespaces and two veth pairs, made here and removed on every
way out (an error, Ctrl-C, SIGTERM):

  src ns                        gw ns                                   snk ns
  vs<tag> ---veth--- vi<tag> [port 0]  cats-dataplane  [port 1] vo<tag> ---veth--- vk<tag>
  cats-trafgen send             (-l 0, one worker)                      (drops: not its MAC)

The gateway runs with one PMD at a time on both veths:
  af_xdp     --vdev net_af_xdp<i>,iface=<veth>,xdp_prog=<build>/dataplane/xdp/cats_xdp.bpf.o
  af_packet  --vdev net_af_packet<i>,iface=<veth>
and its config (written here, see configs/README.md) has no port address
and one static neighbor behind port 1, so no NDP and no TAP take part:
  plain  UDP to 2001:db8:77::64: non_cats forward, route 2001:db8:77::/48
         via the static neighbor (the io floor: parse, FIB, MAC rewrite)
  cats   UDP to 2001:db8:5::64, the service SID of CS-ID 100
         (service_sid_prefix 2001:db8:5::/96): one instance, H.Encaps with
         one SID (2001:db8:a1::100), routed via the same neighbor
Both are cats-trafgen's service_sid encoding (one profile each, differing
only in the /96), so the frames have the same size and layout: 94 bytes
in, plus 64 of outer IPv6 and SRH out for cats. With af_xdp, cats_xdp
redirects both to the socket (service_sid and transit classes).

Each repetition starts the gateway once per PMD (the order of the PMDs
alternates between repetitions) and, on each, measures windows in ABBA
order (plain, cats, cats, plain; the next repetition cats first). A window:
cats-trafgen sends as fast as it can for `--window` seconds after a settle
time; the rates come from the deltas of two snapshots taken inside it:
  offered    the source veth's tx packets (kernel counters, `ip -s link`)
  received   the gateway's port 0 rx_packets   } cats-dataplane's stats, printed
  forwarded  the gateway's port 1 tx_packets   } on SIGUSR1 (JSON), over its uptime_s
  delivered  the sink veth's rx packets
  worker CPU the CPU time of the gateway's main thread, the one worker
             (/proc/PID/schedstat: user and system)
On a shared host the worker gets only part of its CPU; forwarded packets
per second of the worker's CPU time take that share out (while the
receive ring stays full, the worker spends its time on packets). Each
window checks that every received packet took the mode's path (the
`steered` or `forwarded` total) and that none was dropped. The table
gives, per PMD and mode, the median of the repetitions (each the mean of
its two windows) with min-max, received / offered, the ratios cats /
plain and af_xdp / af_packet (per repetition, then the median), and the
load average before and after.

The traffic source runs on another CPU than the gateway (--source-cpu).
On a veth the kernel's side of each packet (the copy into the AF_PACKET
ring or, after cats_xdp's redirect, into the AF_XDP umem) runs in the
sender's softirq, on the source's CPU; the transmit side (the kick, the
veth's xmit, the sink's receive) runs on the gateway's. Received / offered
below 1 means the gateway's receive ring overflowed: the gateway, not the
source, was the limit. (Neither PMD counts that overflow in hw.imissed
here; the JSON has imissed per window anyway.)

Usage (root):
  tools/bench/veth_floor.py [--build DIR] [--reps N] [--window SEC]
                            [--pmds af_xdp,af_packet] [--flows N] [--json FILE]
Exit status: 0, 1 on a failure (the gateway's log tail is printed), 2 on
bad arguments, 77 when something it needs is missing (one line says what).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SKIP = 77
SERVICE_PREFIX = "2001:db8:5::/96"   # the gateway's service SID prefix
PLAIN_PREFIX = "2001:db8:77::/96"    # trafgen's "service SID" for plain: not the gateway's
NEIGHBOR = "2001:db8:f1::2"
NEIGHBOR_MAC = "02:00:00:00:00:99"   # not the sink's MAC: its kernel drops the frames at once
INSTANCE_SID = "2001:db8:a1::100"
MODES = ("plain", "cats")
PMD_DRIVER = {"af_xdp": "net_af_xdp", "af_packet": "net_af_packet"}


class Failure(Exception):
    pass


def run(cmd, check=True, timeout=60):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Failure("%s: %s" % (" ".join(str(c) for c in cmd), p.stderr.strip()))
    return p.stdout


def loadavg():
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def json_docs(text):
    """The JSON documents printed one after another in `text`."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError:
            return out  # a document still being written
        out.append(doc)


class Lab:
    """The namespaces, the veths, the gateway and the source of one run."""

    def __init__(self, args):
        self.args = args
        tag = "%d" % (os.getpid() % 100000)
        self.tag = tag
        self.ns = {k: "cvf%s-%s" % (tag, k) for k in ("src", "gw", "snk")}
        self.ifs = {"src": "vs" + tag, "in": "vi" + tag, "out": "vo" + tag, "snk": "vk" + tag}
        self.tmp = tempfile.mkdtemp(prefix="cats-veth-floor-")
        self.dp = None
        self.dp_out = None
        self.src = None
        self.starts = 0

    # --- the network ---------------------------------------------------
    def up(self):
        for n in self.ns.values():
            run(["ip", "netns", "add", n])
            run(["ip", "-n", n, "link", "set", "lo", "up"])
            # No router solicitations, MLD or DAD on the wire: only the
            # bench's packets cross the veths.
            run(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            run(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
        for a, b, na, nb in (("src", "in", "src", "gw"), ("out", "snk", "gw", "snk")):
            run(["ip", "link", "add", self.ifs[a], "netns", self.ns[na], "type", "veth",
                 "peer", "name", self.ifs[b], "netns", self.ns[nb]])
        for k, n in (("src", "src"), ("in", "gw"), ("out", "gw"), ("snk", "snk")):
            run(["ip", "-n", self.ns[n], "link", "set", self.ifs[k], "up"])
        self.gw_mac = self.mac("gw", "in")
        self.src_mac = self.mac("src", "src")

    def mac(self, ns, key):
        return json.loads(run(["ip", "-n", self.ns[ns], "-j", "link", "show", self.ifs[key]]))[0]["address"]

    def link_stats(self, ns, key):
        return json.loads(run(["ip", "-n", self.ns[ns], "-j", "-s", "link", "show", self.ifs[key]]))[0]["stats64"]

    def down(self):
        self.stop_source()
        self.stop_gateway()
        for n in self.ns.values():
            # Anything of ours still in the namespace (started here only).
            pids = subprocess.run(["ip", "netns", "pids", n], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        subprocess.run(["rm", "-rf", self.tmp])

    # --- files -----------------------------------------------------------
    def gateway_config(self, pmd):
        d = PMD_DRIVER[pmd]
        path = os.path.join(self.tmp, "gw-%s.yaml" % pmd)
        with open(path, "w") as fh:
            fh.write("""gateway: {encap_source: "2001:db8:f1::1", service_sid_prefix: %s, flow_table_size: 4096}
ports:
  - {name: %s0}
  - {name: %s1}
neighbors:
  - {address: "%s", mac: "%s", port: %s1}
routes:
  - {prefix: 2001:db8:77::/48, via: "%s"}
  - {prefix: 2001:db8:a1::/48, via: "%s"}
services:
  - cs_id: 100
    name: veth-floor
    affinity_timeout_s: 3600
    instances:
      - {id: 1, sids: ["%s"]}
""" % (SERVICE_PREFIX, d, d, NEIGHBOR, NEIGHBOR_MAC, d, NEIGHBOR, NEIGHBOR, INSTANCE_SID))
        return path

    def profile(self, mode):
        path = os.path.join(self.tmp, "src-%s.yaml" % mode)
        with open(path, "w") as fh:
            fh.write("""seed: 1
flows: %d
packets_per_flow: 1000000000
rate_pps: 0
packet_size: 64
addressing:
  src_mac: %s
  dst_mac: %s
  src_prefix: 2001:db8:c::/64
  service_sid_prefix: %s
encodings: {service_sid: 1}
transports: {udp: 1}
services:
  - {cs_id: 100}
""" % (self.args.flows, self.src_mac, self.gw_mac, SERVICE_PREFIX if mode == "cats" else PLAIN_PREFIX))
        return path

    # --- the gateway -----------------------------------------------------
    def start_gateway(self, pmd):
        a = self.args
        self.starts += 1
        vdevs = []
        for i, key in enumerate(("in", "out")):
            v = "%s%d,iface=%s" % (PMD_DRIVER[pmd], i, self.ifs[key])
            if pmd == "af_xdp":
                v += ",xdp_prog=" + a.xdp_obj
            vdevs += ["--vdev", v]
        self.dp_out = os.path.join(self.tmp, "dp-%d.out" % self.starts)
        self.dp_log = os.path.join(self.tmp, "dp-%d.log" % self.starts)
        cmd = ["ip", "netns", "exec", self.ns["gw"], a.dataplane, "--no-huge", "-m", "512", "--no-pci",
               "--file-prefix", "cats-vf-%s-%d" % (self.tag, self.starts), "-l", str(a.lcore), "--no-telemetry",
               "--log-level", "lib.eal:error", *vdevs, "--", "--config", self.gateway_config(pmd),
               "--stats-file", os.path.join(self.tmp, "dp-%d.final.json" % self.starts)]
        self.dp_cmd = cmd
        with open(self.dp_out, "w") as out, open(self.dp_log, "w") as log:
            self.dp = subprocess.Popen(cmd, stdout=out, stderr=log)
        # Ready once it says how many ports it runs (the SIGUSR1 handler is
        # in place before that); EAL zeroes its 512 MB first.
        end = time.time() + 90
        while time.time() < end:
            if self.dp.poll() is not None:
                raise Failure("cats-dataplane (%s) exited with %d:\n%s" % (pmd, self.dp.returncode, self.log_tail()))
            with open(self.dp_log) as fh:
                if " port(s), " in fh.read():
                    break
            time.sleep(0.1)
        else:
            raise Failure("cats-dataplane (%s) not ready after 90 s:\n%s" % (pmd, self.log_tail()))
        time.sleep(0.5)

    def log_tail(self):
        try:
            with open(self.dp_log) as fh:
                return fh.read()[-3000:]
        except OSError:
            return ""

    def report(self):
        """Ask the running gateway for its stats (SIGUSR1) and return them."""
        with open(self.dp_out) as fh:
            n = len(json_docs(fh.read()))
        self.dp.send_signal(signal.SIGUSR1)
        end = time.time() + 10
        while time.time() < end:
            with open(self.dp_out) as fh:
                docs = json_docs(fh.read())
            if len(docs) > n:
                return docs[-1]
            time.sleep(0.005)
        raise Failure("no stats from cats-dataplane 10 s after SIGUSR1:\n" + self.log_tail())

    def stop_gateway(self):
        if self.dp is None:
            return
        if self.dp.poll() is None:
            self.dp.send_signal(signal.SIGTERM)
            try:
                self.dp.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.dp.kill()
                self.dp.wait()
        self.dp = None

    # --- the source ------------------------------------------------------
    def start_source(self, mode):
        cpu = self.args.source_cpu
        cmd = ["ip", "netns", "exec", self.ns["src"], self.args.trafgen, "send", "--profile", self.profile(mode),
               "--tx", self.ifs["src"], "--json"]
        self.src = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu >= 0 else None)

    def stop_source(self):
        """Stop the source (SIGINT: it prints what it sent); its tx pps or None."""
        if self.src is None:
            return None
        p, self.src = self.src, None
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            return None
        docs = json_docs(out)
        if p.returncode != 0 or not docs:
            raise Failure("cats-trafgen send failed (%d): %s" % (p.returncode, err.strip()[-600:]))
        return docs[-1].get("tx", {}).get("pps")


def worker_cpu_s(pid):
    """CPU time of the gateway's main thread, which runs the worker (EAL's
    main lcore): user and system, in seconds (schedstat's nanoseconds)."""
    with open("/proc/%d/schedstat" % pid) as fh:
        return int(fh.read().split()[0]) / 1e9


def snapshot(lab):
    t = time.monotonic()
    cpu = worker_cpu_s(lab.dp.pid)
    src = lab.link_stats("src", "src")
    snk = lab.link_stats("snk", "snk")
    r = lab.report()
    ports = {p["port_id"]: p for p in r["ports"]}
    return {"t": t, "cpu": cpu, "offered": src["tx"]["packets"], "veth_dropped": src["tx"]["dropped"],
            "delivered": snk["rx"]["packets"], "uptime": r["uptime_s"],
            "received": ports[0]["rx_packets"], "forwarded": ports[1]["tx_packets"],
            "missed": ports[0]["hw"]["imissed"], "dropped": r["totals"]["dropped"],
            "steered": r["totals"]["steered"], "plain": r["totals"]["forwarded"]}


def window(lab, pmd, mode, rep):
    a = lab.args
    lab.start_source(mode)
    time.sleep(a.settle)
    if lab.src.poll() is not None:
        lab.stop_source()
        raise Failure("cats-trafgen exited at once")
    s0 = snapshot(lab)
    time.sleep(a.window)
    s1 = snapshot(lab)
    src_pps = lab.stop_source()
    time.sleep(0.3)  # let the rings drain before the next window
    dt_dp = s1["uptime"] - s0["uptime"]
    dt = s1["t"] - s0["t"]
    d = {k: s1[k] - s0[k] for k in s0}
    w = {"pmd": pmd, "mode": mode, "rep": rep, "seconds": dt_dp,
         "offered_pps": d["offered"] / dt, "veth_dropped_pps": d["veth_dropped"] / dt,
         "delivered_pps": d["delivered"] / dt,
         "worker_cpu_share": d["cpu"] / dt, "forwarded_per_cpu_s": d["forwarded"] / d["cpu"] if d["cpu"] else 0.0,
         "received_pps": d["received"] / dt_dp, "forwarded_pps": d["forwarded"] / dt_dp,
         "missed": d["missed"], "dropped": d["dropped"], "steered": d["steered"], "plain_forwarded": d["plain"],
         "source_reported_pps": src_pps}
    # The window measured what it says: every received packet took the
    # mode's path (steered for cats, forwarded for plain), none dropped.
    want = d["steered"] if mode == "cats" else d["plain"]
    other = d["plain"] if mode == "cats" else d["steered"]
    w["path_ok"] = other == 0 and d["dropped"] == 0 and abs(want - d["received"]) <= max(64, d["received"] // 1000)
    print("  rep %d %-9s %-5s offered %4.0f kpps  received %4.0f  forwarded %4.0f  delivered %4.0f  "
          "worker CPU %3.0f %%: %4.0f kpps per CPU s  (veth dropped %.0f, missed %d, dropped %d)%s" %
          (rep, pmd, mode, w["offered_pps"] / 1e3, w["received_pps"] / 1e3, w["forwarded_pps"] / 1e3,
           w["delivered_pps"] / 1e3, 100 * w["worker_cpu_share"], w["forwarded_per_cpu_s"] / 1e3,
           w["veth_dropped_pps"] / 1e3, d["missed"], d["dropped"],
           "" if w["path_ok"] else "  (path check failed: %s)" % d), flush=True)
    return w


def median_range(xs):
    return statistics.median(xs), min(xs), max(xs)


def table(windows, pmds, reps):
    """Per PMD and mode: per repetition the mean of its windows, then the
    median over repetitions with min-max."""
    per = {}
    for w in windows:
        per.setdefault((w["pmd"], w["mode"], w["rep"]), []).append(w)
    rows = {}
    for pmd in pmds:
        for mode in MODES:
            reps_ = [per[(pmd, mode, r)] for r in range(reps) if (pmd, mode, r) in per]
            if not reps_:
                continue

            def mean(key, ws):
                return sum(x[key] for x in ws) / len(ws)
            rows[(pmd, mode)] = {k: [mean(k, ws) for ws in reps_]
                                 for k in ("offered_pps", "received_pps", "forwarded_pps", "delivered_pps",
                                           "worker_cpu_share", "forwarded_per_cpu_s")}
            rows[(pmd, mode)]["path_ok"] = all(x["path_ok"] for ws in reps_ for x in ws)
    print("\nkpps, median of %d repetitions (min-max); each repetition the mean of its 2 windows" % reps)
    print("| PMD | mode | offered | received | forwarded | delivered | worker CPU | forwarded per CPU s "
          "| received/offered |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (pmd, mode), r in rows.items():
        cells = []
        for k in ("offered_pps", "received_pps", "forwarded_pps", "delivered_pps"):
            m, lo, hi = median_range(r[k])
            cells.append("%.0f (%.0f-%.0f)" % (m / 1e3, lo / 1e3, hi / 1e3))
        m, lo, hi = median_range(r["worker_cpu_share"])
        cells.append("%.0f %% (%.0f-%.0f)" % (100 * m, 100 * lo, 100 * hi))
        m, lo, hi = median_range(r["forwarded_per_cpu_s"])
        cells.append("%.0f (%.0f-%.0f)" % (m / 1e3, lo / 1e3, hi / 1e3))
        # Below 1, the gateway's receive ring overflowed: the gateway, not
        # the source, was the limit. Neither PMD counts those drops in
        # imissed here (net_af_xdp's is the socket's rx_dropped, not its
        # ring-full count), hence the difference.
        taken = [x / y for x, y in zip(r["received_pps"], r["offered_pps"])]
        print("| %s | %s | %s | %.2f%s |" % (pmd, mode, " | ".join(cells), statistics.median(taken),
                                            "" if r["path_ok"] else " (path check failed)"))
    # Per repetition, then the median: the two sides of a ratio ran
    # seconds apart, the repetitions a minute apart.
    ratios = {}
    for key, what in (("forwarded_pps", "forwarded"), ("forwarded_per_cpu_s", "forwarded per CPU s")):
        for pmd in pmds:
            if (pmd, "plain") in rows and (pmd, "cats") in rows:
                x = [c / p for c, p in zip(rows[(pmd, "cats")][key], rows[(pmd, "plain")][key])]
                ratios["%s, %s cats/plain" % (what, pmd)] = x
        if len(pmds) == 2:
            for mode in MODES:
                if all((p, mode) in rows for p in pmds):
                    x = [a / b for a, b in zip(rows[(pmds[0], mode)][key], rows[(pmds[1], mode)][key])]
                    ratios["%s, %s %s/%s" % (what, mode, pmds[0], pmds[1])] = x
    for name, x in ratios.items():
        m, lo, hi = median_range(x)
        print("%s: %.2f (%.2f-%.2f)" % (name, m, lo, hi))
    return {"%s/%s" % k: v for k, v in rows.items()}, ratios


def need(a):
    """The first thing missing, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, AF_PACKET, XDP)"
    for b in (a.dataplane, a.trafgen):
        if not os.access(b, os.X_OK):
            return "%s is not built" % b
    if "af_xdp" in a.pmds:
        if not os.path.exists(a.xdp_obj):
            return "%s is not built (clang or libbpf missing); try --pmds af_packet" % a.xdp_obj
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            return "kernel without BTF: libbpf cannot load cats_xdp; try --pmds af_packet"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (build)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions (5)")
    ap.add_argument("--window", type=float, default=3.0, help="measured seconds per window (3)")
    ap.add_argument("--settle", type=float, default=0.7, help="seconds of traffic before a window (0.7)")
    ap.add_argument("--pmds", default="af_xdp,af_packet", help="af_xdp,af_packet (both)")
    ap.add_argument("--flows", type=int, default=1024, help="flows of the source (1024)")
    ap.add_argument("--lcore", type=int, default=0, help="the gateway's EAL lcore (0)")
    ap.add_argument("--source-cpu", type=int, default=None,
                    help="CPU of the source (default: the last CPU that is not the gateway's; -1: any)")
    ap.add_argument("--json", help="write every window and the table as JSON to FILE")
    a = ap.parse_args()
    a.pmds = [p for p in a.pmds.split(",") if p]
    if not a.pmds or any(p not in PMD_DRIVER for p in a.pmds) or a.reps < 1 or a.window <= 0:
        ap.error("--pmds takes af_xdp and/or af_packet; --reps >= 1; --window > 0")
    a.dataplane = os.path.abspath(os.path.join(a.build, "dataplane", "cats-dataplane"))
    a.trafgen = os.path.abspath(os.path.join(a.build, "tools", "trafgen", "cats-trafgen"))
    a.xdp_obj = os.path.abspath(os.path.join(a.build, "dataplane", "xdp", "cats_xdp.bpf.o"))
    if a.source_cpu is None:
        cpus = sorted(os.sched_getaffinity(0))
        others = [c for c in cpus if c != a.lcore]
        a.source_cpu = others[-1] if others else -1
    why = need(a)
    if why:
        print("SKIP: " + why)
        return SKIP

    # SIGTERM (and SIGHUP) end the run as Ctrl-C does: through the cleanup.
    def stop(sig, _frame):
        raise KeyboardInterrupt("signal %d" % sig)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)

    lab = Lab(a)
    windows = []
    load_before = loadavg()
    print("load average %s; %d CPUs; gateway on lcore %d, source on CPU %s; %d repetitions of %.1f s windows"
          % (load_before, os.cpu_count(), a.lcore, a.source_cpu if a.source_cpu >= 0 else "any", a.reps, a.window),
          flush=True)
    rc = 0
    try:
        lab.up()
        for rep in range(a.reps):
            pmds = a.pmds if rep % 2 == 0 else list(reversed(a.pmds))
            for pmd in pmds:
                lab.start_gateway(pmd)
                # ABBA, the first mode alternating between repetitions.
                first, second = MODES if rep % 2 == 0 else tuple(reversed(MODES))
                for mode in (first, second, second, first):
                    windows.append(window(lab, pmd, mode, rep))
                lab.stop_gateway()
    except Failure as e:
        print("FAIL: %s" % e)
        rc = 1
    except KeyboardInterrupt as e:
        print("interrupted (%s)" % (e or "Ctrl-C"))
        rc = 1
    finally:
        lab.down()
    load_after = loadavg()
    print("load average before %s, after %s" % (load_before, load_after))
    if not windows:
        return rc or 1
    reps_done = max(w["rep"] for w in windows) + 1
    rows, ratios = table(windows, a.pmds, reps_done)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"load_before": load_before, "load_after": load_after, "window_s": a.window,
                       "flows": a.flows, "windows": windows, "rows": rows, "ratios": ratios}, fh, indent=2)
    return rc


if __name__ == "__main__":
    sys.exit(main())
