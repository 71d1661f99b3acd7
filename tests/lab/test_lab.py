#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The lab scenarios (tools/lab/README.md), each on the lab of tools/lab/lab.py:
cats-trafgen sends from the tester namespace through cats-dataplane
(net_af_packet), three compute-node namespaces decapsulate with the kernel's
End.DX6 (seg6local, or the core SRH path on kernels without it:
tools/lab/kernel_srv6.py), and trafgen receives what each node delivers on
one port per instance. Each scenario prints the trafgen report and checks
the kernel side independently: the End.DX6 counters of every node, and in
scenarios 4 and 5 a capture on the nodes decoded with tshark.

  1. baseline: flows spread over the instances as the metrics say
  2. requirements: a latency bound never reaches the far node, a GPU flow
     never the CPU-only node; an impossible bound is dropped
  3. overload: node 1 advertises 95 % load; pinned flows stay, new flows
     avoid it
  4. failure: node 2 fails (agent killed, link down): its flows move within
     the lifetime, no other flow moves, the loss is counted and bounded
  5. bad traffic: malformed packets dropped by reason, none reaches a node,
     good traffic all arrives

usage: test_lab.py BUILD_DIR SOURCE_DIR
"""
import os
import signal
import subprocess
import sys
import time

BUILD, SRC = sys.argv[1], sys.argv[2]
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(SRC, "tools", "lab"))
import lab as labmod  # noqa: E402

PROFILES = os.path.join(SRC, "tools", "lab", "profiles")
LAB_NAME = "lt%d" % (os.getpid() % 100000)
MALFORMED_FLAGS = (1, 3, 5, 7)   # trafgen header flags with the malformed bit
# One --disable-protocol each: tshark 4.0 ignores a comma-separated list.
TSHARK_OFF = ("manolito", "rtcp", "rtp", "tls", "bfd", "dtls", "quic", "ssh", "http", "rpc", "nbns", "dns", "mdns",
              "snmp")

failures = []
results = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)
    return cond


def profile(name):
    return os.path.join(PROFILES, name + ".yaml")


def instance_name(node, cs):
    return "%s-%d" % (labmod.SERVICES[cs][0], node)


def per_instance(report):
    return {i["name"]: i for s in report["services"] for i in s["instances"]}


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}


def show(run):
    print(run.summary(), flush=True)


def check_trafgen_clean(r, what):
    t = r["totals"]
    check(t["sent"] > 0 and t["received"] == t["sent"] and t["lost"] == 0,
          "%s: sent %d received %d lost %d" % (what, t["sent"], t["received"], t["lost"]))
    check(t["duplicates"] == 0, "%s: %d duplicates" % (what, t["duplicates"]))
    check(r["affinity"]["violations"] == 0 and r["affinity"]["group_violations"] == 0,
          "%s: affinity %s" % (what, r["affinity"]))
    check(r["rx"]["unidentified_instance"] == 0, "%s: rx %s" % (what, r["rx"]))
    check(r["checks"]["pass"], "%s: trafgen checks %s" % (what, r["checks"]))


def check_kernel_counts(r, d, what, cs_ids=(100, 200)):
    """Each node's End.DX6 counter moved by exactly what trafgen received
    from that instance."""
    inst = per_instance(r)
    for n in labmod.NODES:
        for cs in cs_ids:
            name = instance_name(n, cs)
            want = inst[name]["packets"] if name in inst else 0
            check(d.get((n, cs), 0) == want, "%s: node %d End.DX6 %s counted %d, trafgen received %d" % (
                what, n, labmod.sid(n, cs), d.get((n, cs), 0), want))
    print("   kernel End.DX6 packets: " + "  ".join(
        "%s %d" % (instance_name(n, cs), d.get((n, cs), 0)) for cs in cs_ids for n in labmod.NODES))


class Capture:
    """dumpcap on a node's interface, decoded with tshark afterwards."""

    def __init__(self, lab, node, dev, tag):
        self.path = lab.path("cap-%s-n%d-%s.pcapng" % (tag, node, dev))
        self.err = lab.path("cap-%s-n%d-%s.err" % (tag, node, dev))
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns("n%d" % node), "dumpcap", "-q", "-i", dev,
                                   "-f", "ip6", "-w", self.path],
                                  stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        deadline = time.time() + 15
        while time.time() < deadline:
            if "Capturing on" in labmod.tail(self.err) or self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not check(self.p.poll() is None, "dumpcap on n%d %s: %s" % (node, dev, labmod.tail(self.err))):
            raise labmod.LabError("dumpcap failed")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def fields(self, fields, display_filter=None):
        # Payloads are random bytes: keep tshark's port-guessing dissectors
        # (Manolito on UDP 41170, RTP, DNS, ...) from calling them malformed.
        cmd = ["tshark", "-r", self.path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=f",
               "-o", "frame.generate_md5_hash:TRUE"]
        for proto in TSHARK_OFF:
            cmd += ["--disable-protocol", proto]
        if display_filter:
            cmd += ["-Y", display_filter]
        for f in fields:
            cmd += ["-e", f]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "tshark -r %s: %s" % (self.path, p.stderr[-500:]))
        return [dict(zip(fields, line.split("|"))) for line in p.stdout.splitlines()]


def malformed_filter():
    return " || ".join("frame contains 43:54:47:31:01:%02x" % f for f in MALFORMED_FLAGS)


# ----------------------------------------------------------------------

def baseline(lab):
    c0 = lab.seg6_counters()
    st0 = lab.dataplane_stats()
    run = lab.traffic(profile("baseline"))
    show(run)
    r = run.report
    d = delta(lab.seg6_counters(), c0)
    st1 = lab.dataplane_stats()
    check_trafgen_clean(r, "baseline")
    for s in r["services"]:
        for i in s["instances"]:
            check(i["packets"] > 0 and i["within_tolerance"], "baseline: %s share %.3f, expected %.3f" % (
                i["name"], i["share"], i["expected_share"]))
    check(r["run"]["affinity_groups"] > 0, "baseline: no affinity group")
    check_kernel_counts(r, d, "baseline")
    steered = st1["totals"]["steered"] - st0["totals"]["steered"]
    check(steered == r["totals"]["received"], "baseline: dataplane steered %d, trafgen received %d" % (
        steered, r["totals"]["received"]))
    shares = {i["name"]: i["share"] for i in per_instance(r).values()}
    return "shares " + " ".join("%s %.3f" % (k, v) for k, v in sorted(shares.items()))


def requirements(lab):
    c0 = lab.seg6_counters()
    st0 = lab.dataplane_stats()
    run = lab.traffic(profile("requirements"), "--all-flows")
    show(run)
    r = run.report
    d = delta(lab.seg6_counters(), c0)
    st1 = lab.dataplane_stats()
    check_trafgen_clean(r, "requirements")
    inst = per_instance(r)
    check(inst["vid-3"]["packets"] == 0, "requirements: %d latency-bound packets reached the far node 3" %
          inst["vid-3"]["packets"])
    check(inst["llm-1"]["packets"] == 0, "requirements: %d GPU packets reached the CPU-only node 1" %
          inst["llm-1"]["packets"])
    for name in ("vid-1", "vid-2", "llm-2", "llm-3"):
        check(inst[name]["packets"] > 0, "requirements: %s got nothing" % name)
    allowed = {"near": {"vid-1", "vid-2"}, "gpu": {"llm-2", "llm-3"}, "gpu-near": {"llm-2"}, "impossible": set()}
    for f in r["flows"]:
        check(set(f["instances"]) <= allowed[f["set"]], "requirements: flow %d (%s) reached %s" % (
            f["id"], f["set"], f["instances"]))
    # The kernel of node 3 never decapsulated a video packet, node 1 never an llm one.
    check(d.get((3, 100), 0) == 0 and d.get((1, 200), 0) == 0,
          "requirements: kernel counters n3/100 %d, n1/200 %d" % (d.get((3, 100), 0), d.get((1, 200), 0)))
    check_kernel_counts(r, d, "requirements")
    drop_sent = sum(s["expected_drop_sent"] for s in r["requirement_sets"] if s["name"] == "impossible")
    dropped = st1["drops"]["no_eligible_instance"] - st0["drops"]["no_eligible_instance"]
    check(drop_sent > 0 and dropped == drop_sent, "requirements: no_eligible_instance %d, trafgen sent %d" % (
        dropped, drop_sent))
    return "far node 0 pkts, CPU node 0 GPU pkts, %d impossible dropped" % dropped


def overload(lab):
    # Pin: the flows go out once with the usual metrics.
    run1 = lab.traffic(profile("overload-pinned"), "--all-flows")
    show(run1)
    r1 = run1.report
    check_trafgen_clean(r1, "overload (before)")
    first = {f["id"]: f["instances"] for f in r1["flows"]}
    on1 = [f for f, i in first.items() if i == ["vid-1"] or i == ["llm-1"]]
    check(len(on1) > 0, "overload: no flow pinned on node 1 before the overload")

    # Node 1 advertises 95 % load.
    t0 = time.time()
    lab.write_metrics(1, dict(labmod.NODE_METRICS[1], load_pct=95))
    took = lab.wait_in_sync(6, timeout=15, cond=lambda insts: all(
        insts[(cs, 1)]["metrics"]["load_pct"] == 95 for cs in (100, 200)))
    print("   node 1 advertises load 95 %%: in the dataplane after %.2f s" % (time.time() - t0))
    st = lab.dataplane_stats()
    for s in st["services"]:
        for i in s["instances"]:
            if i["id"] == 1:
                check(abs(i.get("effective_weight", i.get("weight", -1)) - 4.545) < 0.1,
                      "overload: dataplane weight of %d/1 is %s" % (s["cs_id"], i))

    # The pinned flows again: every one on the same instance, node 1's too.
    c0 = lab.seg6_counters()
    run2 = lab.traffic(profile("overload-pinned"), "--all-flows")
    show(run2)
    r2 = run2.report
    c1 = lab.seg6_counters()
    check_trafgen_clean(r2, "overload (pinned)")
    moved = [f["id"] for f in r2["flows"] if f["instances"] != first.get(f["id"])]
    check(not moved, "overload: %d pinned flows moved: %s" % (len(moved), moved[:10]))
    check_kernel_counts(r2, delta(c1, c0), "overload (pinned)")
    pinned_pkts = per_instance(r2)["vid-1"]["packets"] + per_instance(r2)["llm-1"]["packets"]
    check(pinned_pkts > 0, "overload: nothing pinned reached node 1")

    # New flows avoid node 1.
    run3 = lab.traffic(profile("overload-new"))
    show(run3)
    r3 = run3.report
    d3 = delta(lab.seg6_counters(), c1)
    check_trafgen_clean(r3, "overload (new flows)")
    s_before = per_instance(r1)["vid-1"]["share"]
    s_after = per_instance(r3)["vid-1"]["share"]
    check(s_after < 0.12 and s_after < s_before / 3, "overload: new flows' share on node 1 %.3f (before %.3f)" % (
        s_after, s_before))
    check_kernel_counts(r3, d3, "overload (new flows)")

    lab.write_metrics(1, labmod.NODE_METRICS[1])
    lab.wait_in_sync(6, timeout=15, cond=lambda insts: insts[(100, 1)]["metrics"]["load_pct"] == 10)
    return "load 95 in dataplane after %.2f s; %d pinned flows on node 1 stayed; node-1 share of new flows %.3f " \
           "(was %.3f)" % (took, len(on1), s_after, s_before)


def failure(lab):
    caps = {n: Capture(lab, n, "vid", "fail") for n in (1, 3)}
    c0 = lab.seg6_counters()
    snmp0 = lab.node_snmp6(2)
    run = lab.traffic(profile("failure"), "--all-flows", background=True)
    time.sleep(2.5)
    # Node 2 hangs: its agent dies without a withdraw, its kernel stops
    # taking packets; its link stays up, so only the lifetime tells.
    t_kill = time.time()
    lab.stop_agent(2, signal.SIGKILL)
    lab.node_stack(2, False)
    gone = None
    while run.p.poll() is None and time.time() - t_kill < 8:
        try:
            if (100, 2) not in lab.instances():
                gone = time.time() - t_kill
                break
        except labmod.LabError:
            pass
        time.sleep(0.05)
    run.wait(timeout=60)
    c1 = lab.seg6_counters()
    discarded = lab.node_snmp6(2).get("Ip6InDiscards", 0) - snmp0.get("Ip6InDiscards", 0)
    for c in caps.values():
        c.stop()
    show(run)
    r = run.report
    d = delta(c1, c0)
    check(gone is not None and gone <= labmod.LIFETIME_S + 1.0,
          "failure: instance 100/2 left the table after %s s (lifetime %d s)" % (gone, labmod.LIFETIME_S))

    flows = {f["id"]: f for f in r["flows"]}
    check(len(flows) == r["run"]["flows"], "failure: %d flows listed of %d" % (len(flows), r["run"]["flows"]))
    on2 = [f for f in flows.values() if f["instances"][:1] == ["vid-2"]]
    others = [f for f in flows.values() if f["instances"][:1] != ["vid-2"]]
    check(len(on2) > 0 and len(others) > 0, "failure: flows on node 2 %d, elsewhere %d" % (len(on2), len(others)))
    for f in on2:
        check(len(f["instances"]) == 2 and f["instances"][1] in ("vid-1", "vid-3"),
              "failure: flow %d of node 2 went %s" % (f["id"], f["instances"]))
    for f in others:
        check(len(f["instances"]) == 1 and f["lost"] == 0 and f["received"] == f["sent"],
              "failure: flow %d of a live node moved or lost: %s" % (f["id"], f))
    check(r["affinity"]["violations"] == 0 and r["affinity"]["planned_moves"] == len(on2),
          "failure: affinity %s, %d flows on node 2" % (r["affinity"], len(on2)))
    lost = r["totals"]["lost"]
    pps = r["tx"]["pps"]
    flows_total = r["run"]["flows"]
    rate_on2 = pps * len(on2) / flows_total
    outage = lost / rate_on2 if rate_on2 else float("inf")
    bound = rate_on2 * (labmod.LIFETIME_S + 1.0)
    check(0 < lost <= bound, "failure: %d packets lost, bound %.0f (%.0f pps to node 2 x (lifetime + 1 s))" % (
        lost, bound, rate_on2))
    check(sum(f["lost"] for f in on2) == lost, "failure: loss outside node 2's flows")
    check(r["totals"]["duplicates"] == 0, "failure: duplicates %d" % r["totals"]["duplicates"])
    check_kernel_counts(r, d, "failure", cs_ids=(100,))
    # What trafgen lost is what node 2's kernel threw away.
    check(discarded == lost, "failure: node 2's kernel discarded %d packets, trafgen lost %d" % (discarded, lost))

    # The kernels of nodes 1 and 3: when the first packet of a moved flow
    # left them (a tshark-decoded capture of what End.DX6 forwarded).
    moved_src = {f["src"] for f in on2}
    first_seen = None
    per_node = {}
    for n, c in caps.items():
        rows = c.fields(["frame.time_epoch", "ipv6.src"], "frame contains 43:54:47:31")
        per_node[n] = len(rows)
        for row in rows:
            if row["ipv6.src"] in moved_src:
                t = float(row["frame.time_epoch"])
                first_seen = t if first_seen is None else min(first_seen, t)
    for n in caps:
        check(per_node[n] == d.get((n, 100), 0), "failure: capture on node %d holds %d trafgen packets, its "
              "End.DX6 counted %d" % (n, per_node[n], d.get((n, 100), 0)))
    move_s = first_seen - t_kill if first_seen is not None else None
    check(move_s is not None and 0 < move_s <= labmod.LIFETIME_S + 1.0,
          "failure: moved flows first seen on another node %s s after the kill (lifetime %d s)" % (
              move_s, labmod.LIFETIME_S))
    print("   node 2 failed: instance expired after %.2f s, moved flows delivered by another node after %.2f s; "
          "%d packets lost (node 2's kernel discarded %d) of %d flows on node 2 = %.2f s of their traffic, "
          "bound %.0f" % (gone or -1, move_s or -1, lost, discarded, len(on2), outage, bound))

    lab.node_stack(2, True)
    lab.start_agent(2)
    lab.wait_in_sync(6, timeout=15)
    return "expired %.2f s, moved after %.2f s, lost %d (%.2f s x %.0f pps), %d/%d flows moved" % (
        gone or -1, move_s or -1, lost, outage, rate_on2, len(on2), flows_total)


def bad_traffic(lab):
    caps = {n: Capture(lab, n, "up0", "bad") for n in labmod.NODES}
    c0 = lab.seg6_counters()
    st0 = lab.dataplane_stats()
    run = lab.traffic(profile("bad-traffic"))
    c1 = lab.seg6_counters()
    st1 = lab.dataplane_stats()
    for c in caps.values():
        c.stop()
    show(run)
    r = run.report
    d = delta(c1, c0)
    check_trafgen_clean(r, "bad traffic")
    sent = r["malformed"]["sent"]
    check(len(sent) == 15 and all(v > 0 for v in sent.values()), "bad traffic: kinds sent %s" % sent)
    check(sum(r["malformed"]["received"].values()) == 0, "bad traffic: received %s" % r["malformed"]["received"])
    for kind, n in sent.items():
        got = st1["drops"].get(kind, 0) - st0["drops"].get(kind, 0)
        check(got == n, "bad traffic: drops[%s] +%d, trafgen sent %d" % (kind, got, n))
    check_kernel_counts(r, d, "bad traffic")
    check(sum(d.values()) == r["totals"]["received"], "bad traffic: kernels decapsulated %d, trafgen received %d" % (
        sum(d.values()), r["totals"]["received"]))

    # What reached each node from the gateway, decoded by tshark: SRv6 only,
    # nothing malformed by tshark's standards, no trafgen packet marked
    # malformed, as many as the node's End.DX6 counted. Where the kernel's
    # core SRH path decapsulates, the capture holds every frame twice: the
    # inner packet is received again on the same interface (netif_rx) and
    # the packet socket sees it from its original link-layer header. (The
    # gateway's side of the link shows nothing: net_af_packet transmits
    # with PACKET_QDISC_BYPASS.) So count distinct frames, and check that
    # each shows exactly as often as the mode says.
    copies = 2 if lab.state.get("srv6_termination") == "core" else 1
    total = 0
    for n, c in caps.items():
        gw = labmod.GW_MAC[n]
        all_rows = c.fields(["frame.md5_hash", "ipv6.nxt", "ipv6.routing.type", "ipv6.routing.segleft",
                             "_ws.malformed"], "eth.src == %s" % gw)
        seen = {}
        for x in all_rows:
            seen[x["frame.md5_hash"]] = seen.get(x["frame.md5_hash"], 0) + 1
        odd = {h: k for h, k in seen.items() if k != copies}
        check(not odd, "bad traffic: node %d: %d frames not captured %d time(s) each: %s" % (
            n, len(odd), copies, list(odd.values())[:5]))
        rows = list({x["frame.md5_hash"]: x for x in all_rows}.values())
        total += len(rows)
        want = d.get((n, 100), 0) + d.get((n, 200), 0)
        check(len(rows) == want, "bad traffic: node %d captured %d frames from the gateway, End.DX6 counted %d" % (
            n, len(rows), want))
        bad_rows = [x for x in rows if x["ipv6.nxt"] != "43" or x["ipv6.routing.type"] != "4"
                    or x["ipv6.routing.segleft"] != "0" or x["_ws.malformed"]]
        check(not bad_rows, "bad traffic: node %d: %d frames are not clean SRv6: %s" % (n, len(bad_rows), bad_rows[:3]))
        leaked = c.fields(["frame.number"], "eth.src == %s && (%s)" % (gw, malformed_filter()))
        check(not leaked, "bad traffic: node %d received %d malformed trafgen packets" % (n, len(leaked)))
    print("   tshark: %d SRv6 frames reached the nodes, none malformed; drops by reason equal the kinds sent" % total)
    return "%d malformed sent (15 kinds), 0 reached a node, drops equal by reason; %d good all delivered" % (
        sum(sent.values()), r["totals"]["received"])


SCENARIOS = [("1 baseline", baseline), ("2 requirements", requirements), ("3 overload", overload),
             ("4 failure", failure), ("5 bad traffic", bad_traffic)]


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, AF_PACKET)")
        return 77
    # meson's timeout sends SIGTERM: clean up as on any failure.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    lab = labmod.Lab(LAB_NAME, BUILD)
    # However this process ends (SIGKILL included), the lab goes down.
    reaper = labmod.start_reaper(LAB_NAME)  # noqa: F841 (kept open until exit)
    t_all = time.time()
    try:
        try:
            lab.preflight()
        except labmod.LabError as e:
            # Only a kernel that can terminate SRv6 in no way is a skip;
            # anything else missing (binaries, tools) is a failure.
            if "CONFIG_" in str(e):
                print("SKIP: %s" % e)
                return 77
            raise
        lab.up()
        for name, fn in SCENARIOS:
            print("\n==== scenario %s" % name, flush=True)
            before = len(failures)
            t0 = time.time()
            try:
                summary = fn(lab)
            except (labmod.LabError, KeyError, ValueError, TypeError, IndexError) as e:
                check(False, "scenario %s: %s: %s" % (name, type(e).__name__, e))
                summary = "error"
            ok = len(failures) == before
            results.append((name, ok, time.time() - t0, summary))
            print("==== %s: %s (%.1f s): %s" % (name, "PASS" if ok else "FAIL", time.time() - t0, summary), flush=True)
    except labmod.LabError as e:
        check(False, "lab: %s" % e)
    finally:
        if failures:
            for f in ("dataplane.log", "control.log", "agent2.log"):
                print("---- %s\n%s" % (f, labmod.tail(lab.path(f), 2000)))
        try:
            lab.down()
        except labmod.LabError as e:
            check(False, "down: %s" % e)
    print("\nsummary (%.1f s):" % (time.time() - t_all))
    for name, ok, secs, summary in results:
        print("  %-16s %s %5.1f s  %s" % (name, "PASS" if ok else "FAIL", secs, summary))
    passed = sum(1 for r in results if r[1])
    print("%d passed, %d failed" % (passed, len(SCENARIOS) - passed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
