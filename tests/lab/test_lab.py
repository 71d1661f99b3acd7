#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The lab scenarios (tools/lab/README.md), each on the lab of tools/lab/lab.py:
cats-trafgen sends from the tester namespace through cats-dataplane
(net_af_packet), three compute-node namespaces decapsulate with End.DX6, and
trafgen receives what each node delivers on one port per instance. Each
scenario prints the trafgen report and checks the nodes' side
independently: the End.DX6 counters of every node, and in scenarios 4 and 5
a capture on the nodes decoded with tshark.

The five scenarios run on two labs, one after the other:

  kernel  every node's kernel terminates SRv6 (seg6local, or the core SRH
          path on kernels without it: tools/lab/kernel_srv6.py)
  mixed   node 3 runs cats-dataplane as its egress (`lab.py up
          --cats-egress 3`), nodes 1 and 2 keep their kernels; after each
          scenario the two ends of every policy into node 3 must agree: the
          gateway's policies.ingress of the instance (packets, inner bytes)
          moved by exactly what node 3's policies.egress for (the gateway's
          encapsulation source, the instance's SID) did, and by what node
          3's End.DX6 forwarded

  1. baseline: flows spread over the instances as the metrics say
  2. requirements: a latency bound never reaches the far node, a GPU flow
     never the CPU-only node; an impossible bound is dropped
  3. overload: node 1 advertises 95 % load; pinned flows stay, new flows
     avoid it
  4. failure: node 2 fails (agent killed, link down): its flows move within
     the lifetime, no other flow moves, the loss is counted and bounded
  5. bad traffic: malformed packets dropped by reason, none reaches a node,
     good traffic all arrives

usage: test_lab.py BUILD_DIR SOURCE_DIR [kernel|mixed|both]   (default both)
"""
import os
import signal
import subprocess
import sys
import time

BUILD, SRC = sys.argv[1], sys.argv[2]
# topology -> the nodes whose egress is cats-dataplane
TOPOLOGIES = {"kernel": (), "mixed": (3,)}
WHICH = sys.argv[3] if len(sys.argv) > 3 else "both"
if WHICH not in list(TOPOLOGIES) + ["both"]:
    sys.exit("usage: test_lab.py BUILD_DIR SOURCE_DIR [kernel|mixed|both]")
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
    """Each node's End.DX6 counter (its kernel's, or its cats-dataplane's
    local_sids[].packets on a --cats-egress node) moved by exactly what
    trafgen received from that instance."""
    inst = per_instance(r)
    for n in labmod.NODES:
        for cs in cs_ids:
            name = instance_name(n, cs)
            want = inst[name]["packets"] if name in inst else 0
            check(d.get((n, cs), 0) == want, "%s: node %d End.DX6 %s counted %d, trafgen received %d" % (
                what, n, labmod.sid(n, cs), d.get((n, cs), 0), want))
    print("   End.DX6 packets: " + "  ".join(
        "%s %d" % (instance_name(n, cs), d.get((n, cs), 0)) for cs in cs_ids for n in labmod.NODES))


class Capture:
    """dumpcap on an interface of a lab namespace (`role`: n1, tg, ...),
    decoded with tshark afterwards."""

    def __init__(self, lab, role, dev, tag):
        self.path = lab.path("cap-%s-%s-%s.pcapng" % (tag, role, dev))
        self.err = lab.path("cap-%s-%s-%s.err" % (tag, role, dev))
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns(role), "dumpcap", "-q", "-i", dev,
                                   "-f", "ip6", "-w", self.path],
                                  stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        deadline = time.time() + 15
        while time.time() < deadline:
            if "Capturing on" in labmod.tail(self.err) or self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not check(self.p.poll() is None, "dumpcap on %s %s: %s" % (role, dev, labmod.tail(self.err))):
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


def delivered_capture(lab, n, tag):
    """A capture of what node n's End.DX6 forwards to its video app. On a
    kernel node: on its `vid`. A --cats-egress node's net_af_packet
    transmits with PACKET_QDISC_BYPASS, which a capture on the sending
    interface does not see: there, on the other end of the link (the
    tester's vid-N), which receives every frame the node sends."""
    if lab.is_cats_egress(n):
        return Capture(lab, "tg", instance_name(n, 100), tag)
    return Capture(lab, "n%d" % n, "vid", tag)


def failure(lab):
    caps = {n: delivered_capture(lab, n, "fail") for n in (1, 3)}
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
    # What the gateway sent each node: a capture on the node's uplink (a
    # --cats-egress node's too: its dataplane's packet socket and dumpcap's
    # each receive every frame).
    caps = {n: Capture(lab, "n%d" % n, "up0", "bad") for n in labmod.NODES}
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
    # each shows exactly as often as the mode says (once on a --cats-egress
    # node: its kernel takes no IPv6 there).
    total = 0
    for n, c in caps.items():
        copies = 2 if lab.state.get("srv6_termination") == "core" and not lab.is_cats_egress(n) else 1
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


def policy_snapshot(lab):
    """Both ends of the policies into the --cats-egress nodes
    (lab.policy_counters), what those nodes' End.DX6 forwarded, and what
    else their policy tables hold; None on the kernel-only lab."""
    if not lab.egress_nodes:
        return None
    eg = {n: lab.egress_stats(n) for n in lab.egress_nodes}
    dx6 = {(n, int(ls["sid"].split("::")[1])): ls["packets"] for n in eg for ls in eg[n]["local_sids"]}
    ours = {(labmod.ENCAP_SOURCE, labmod.sid(n, cs)) for n in eg for cs in labmod.SERVICES}
    stray = ["n%d %s -> %s: %d" % (n, p["source"], p["sid"], p["packets"]) for n in eg
             for p in eg[n]["policies"]["egress"] if (p["source"], p["sid"]) not in ours]
    overflow = sum(eg[n]["policies"]["egress_overflow"] for n in eg)
    totals = {n: {k: eg[n]["totals"][k] for k in ("rx_packets", "endpoint", "tx_packets", "dropped")} for n in eg}
    return {"policies": lab.policy_counters(), "dx6": dx6, "stray": stray, "overflow": overflow, "totals": totals}


def check_policies(lab, before, what):
    """Every policy into a --cats-egress node counted the same at both
    ends over the scenario: the gateway's per-instance packets and inner
    bytes = the node's per (source, SID) ones = what its End.DX6 forwarded;
    nothing counted for another source or SID, nothing overflowed, and the
    node's dataplane decapsulated and sent every packet it received. Returns
    a summary."""
    if before is None:
        return ""
    after = policy_snapshot(lab)
    parts = []
    for key in sorted(after["policies"]):
        n, cs = key
        a, b = after["policies"][key], before["policies"].get(key, {"ingress": (0, 0), "egress": (0, 0)})
        ing = tuple(x - y for x, y in zip(a["ingress"], b["ingress"]))
        egr = tuple(x - y for x, y in zip(a["egress"], b["egress"]))
        fwd = after["dx6"].get(key, 0) - before["dx6"].get(key, 0)
        check(ing == egr and ing[0] == fwd,
              "%s: policy %s -> %s: the gateway counted %d packets %d bytes, node %d %d packets %d bytes, "
              "its End.DX6 forwarded %d" % (what, labmod.ENCAP_SOURCE, labmod.sid(n, cs), ing[0], ing[1], n,
                                            egr[0], egr[1], fwd))
        parts.append("%s %d/%d" % (instance_name(n, cs), egr[0], egr[1]))
    check(not after["stray"], "%s: the egress counted policies that are not the gateway's: %s" % (
        what, after["stray"][:5]))
    check(after["overflow"] == 0, "%s: egress policy table overflow %d" % (what, after["overflow"]))
    for n, t in after["totals"].items():
        d = delta(t, before["totals"][n])
        check(d["rx_packets"] == d["endpoint"] == d["tx_packets"] and d["dropped"] == 0,
              "%s: node %d's dataplane received %d, decapsulated %d, sent %d, dropped %d" % (
                  what, n, d["rx_packets"], d["endpoint"], d["tx_packets"], d["dropped"]))
    line = "policies into the cats egress, packets/bytes at both ends: " + "  ".join(parts)
    print("   " + line)
    return "; " + line


def run_lab(topology, egress):
    """Bring the lab of `topology` up, run the five scenarios on it, bring
    it down (also on failure or timeout)."""
    name = "%s%s" % (LAB_NAME, topology[0])
    lab = labmod.Lab(name, BUILD)
    # However this process ends (SIGKILL included), the lab goes down.
    reaper = labmod.start_reaper(name)
    t_lab = time.time()
    print("\n######## %s lab%s" % (topology, " (cats-dataplane egress on node %s)" % ",".join(
        map(str, egress)) if egress else ""), flush=True)
    try:
        lab.up(cats_egress=egress)
        first = policy_snapshot(lab)
        for sname, fn in SCENARIOS:
            print("\n==== %s: scenario %s" % (topology, sname), flush=True)
            before = len(failures)
            t0 = time.time()
            try:
                pol0 = policy_snapshot(lab)
                summary = fn(lab)
                summary += check_policies(lab, pol0, sname)
            except (labmod.LabError, KeyError, ValueError, TypeError, IndexError) as e:
                check(False, "%s: scenario %s: %s: %s" % (topology, sname, type(e).__name__, e))
                summary = "error"
            ok = len(failures) == before
            results.append((topology, sname, ok, time.time() - t0, summary))
            print("==== %s: %s: %s (%.1f s): %s" % (topology, sname, "PASS" if ok else "FAIL", time.time() - t0,
                                                  summary), flush=True)
        if first is not None:
            # Over the whole run: every policy into the egress carried traffic.
            last = policy_snapshot(lab)
            for key, v in sorted(last["policies"].items()):
                check(v["ingress"] == v["egress"] and v["egress"][0] > first["policies"][key]["egress"][0],
                      "%s: policy -> %s over the run: gateway %s, node %d %s" % (
                          topology, labmod.sid(*key), v["ingress"], key[0], v["egress"]))
    except labmod.LabError as e:
        check(False, "%s lab: %s" % (topology, e))
    finally:
        if failures:
            for f in ["dataplane.log", "control.log", "agent2.log"] + ["egress%d.log" % n for n in egress]:
                print("---- %s\n%s" % (f, labmod.tail(lab.path(f), 2000)))
        try:
            lab.down()
        except labmod.LabError as e:
            check(False, "%s: down: %s" % (topology, e))
        reaper.stdin.close()      # the lab is down: the watchdog may go
    print("######## %s lab: %.1f s" % (topology, time.time() - t_lab), flush=True)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, AF_PACKET)")
        return 77
    # meson's timeout sends SIGTERM: clean up as on any failure.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t_all = time.time()
    try:
        labmod.Lab(LAB_NAME, BUILD).preflight()
    except labmod.LabError as e:
        # Only a kernel that can terminate SRv6 in no way is a skip;
        # anything else missing (binaries, tools) is a failure.
        if "CONFIG_" in str(e):
            print("SKIP: %s" % e)
            return 77
        print("FAIL: %s" % e)
        return 1
    topologies = list(TOPOLOGIES) if WHICH == "both" else [WHICH]
    for topology in topologies:
        run_lab(topology, TOPOLOGIES[topology])
    print("\nsummary (%.1f s):" % (time.time() - t_all))
    for topology, name, ok, secs, summary in results:
        print("  %-6s %-16s %s %5.1f s  %s" % (topology, name, "PASS" if ok else "FAIL", secs, summary))
    passed = sum(1 for r in results if r[2])
    print("%d passed, %d failed" % (passed, len(SCENARIOS) * len(topologies) - passed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
