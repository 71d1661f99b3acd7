#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""`catsctl monitor` against the real daemons (issue 21).

cats-control starts alone; `catsctl monitor --json` watches it; then:
  1. cats-dataplane starts (net_pcap replaying the lab pcap forever, whose
     malformed packets are dropped): a "link connected" event, a table
     version from the full snapshot, and "drops" events whose reasons are
     the dataplane's own drop counters, at a rate that is not zero;
  2. `catsctl instance add` and `drain`: instance events (up, drained) and a
     new table version each, in that order;
  3. cats-agent advertises an instance, then stops (SIGTERM: it withdraws):
     instance up and down, origin advert, node 1;
  4. cats-dataplane stops: a "link down" event;
  5. every event has a seq one above the one before, a UTC time, a type;
  6. the human form: `catsctl monitor --count 1 --type instance` prints
     one line "TIME  instance  cs 100 instance 9 down: by catsctl instance
     del" and exits 0 when it has it;
  7. `--type bogus` is a usage error (2) in one line.
It runs in fresh mount and network namespaces (tmpfs on /run and /var/lib,
a loopback of its own).

Usage: test_monitor.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped) with one
line saying why: without root or unshare.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import ROOT, DP, CONTROL, CATSCTL, AGENT, check, run, wait_for, failures, isolated_main

KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def read_events(path):
    out = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def inside(tmp):
    ctl_sock, dp_sock = os.path.join(tmp, "ctl.sock"), os.path.join(tmp, "dp.sock")
    cfg = os.path.join(tmp, "control.yaml")
    with open(cfg, "w") as fh:
        fh.write("""
listen: [{address: "::1", port: 7410}]
ctl_socket: %s
dataplane_socket: %s
policy: {startup_hold_s: 0}
peers:
  - {node_id: 1, key_id: 1, key: %s, name: site-a1}
services:
  - cs_id: 100
    name: video-analytics
    instances:
      - {id: 1, sids: [2001:db8:a1::100]}
      - {id: 2, sids: [2001:db8:a2::100]}
""" % (ctl_sock, dp_sock, KEY))
    ctl = [CATSCTL, "-s", ctl_sock]
    procs = {}
    logs = {}

    def start(name, argv, **kw):
        logs[name] = os.path.join(tmp, name + ".log")
        procs[name] = subprocess.Popen(argv, stdout=kw.pop("stdout", None) or open(logs[name], "w"),
                                       stderr=subprocess.STDOUT if "stdout" not in kw else open(logs[name], "w"), **kw)
        return procs[name]

    def stop(name, sig=signal.SIGTERM):
        p = procs.pop(name)
        p.send_signal(sig)
        try:
            return p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    events_path = os.path.join(tmp, "events.jsonl")
    try:
        start("control", [CONTROL, "--config", cfg])
        check(wait_for(lambda: os.path.exists(ctl_sock), 20), "cats-control is up")
        mon = subprocess.Popen(ctl + ["monitor", "--json", "--duration", "60"], stdout=open(events_path, "w"),
                               stderr=open(os.path.join(tmp, "monitor.err"), "w"))
        procs["monitor"] = mon
        time.sleep(1)

        # 1. The dataplane comes, and drops what is malformed, again and again.
        start("dataplane", [DP, "--no-huge", "-m", "512", "--no-pci", "-l", "0", "--no-telemetry",
                            "--log-level", "lib.eal:error", "--file-prefix", "cats-monitor-%d" % os.getpid(),
                            "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=/dev/null,infinite_rx=1" %
                            os.path.join(ROOT, "tests/data/lab-sample.pcap"),
                            "--", "--config", os.path.join(ROOT, "configs/gateway.yaml"), "--mgmt-socket", dp_sock])

        def in_sync():
            return run(*ctl, "dataplane", "status", timeout=30).returncode == 0
        check(wait_for(in_sync, 60), "cats-control is in sync with the dataplane")

        def has(pred):
            return any(pred(e) for e in read_events(events_path))
        check(wait_for(lambda: has(lambda e: e["type"] == "drops"), 15), "a drops event within a few seconds")

        # 2. Operator changes.
        p = run(*ctl, "instance", "add", "100", "9", "--sid", "2001:db8:a1::9")
        check(p.returncode == 0, "instance add: %s" % (p.stdout + p.stderr).strip())
        p = run(*ctl, "instance", "drain", "100", "1")
        check(p.returncode == 0, "instance drain: %s" % (p.stdout + p.stderr).strip())

        # 3. An advertised instance comes and goes.
        start("agent", [AGENT, "--control", "[::1]:7410", "--node-id", "1", "--key-id", "1", "--key-hex", KEY,
                        "--service", "100:1000:2001:db8:a2::1000", "--interval", "1"])
        check(wait_for(lambda: has(lambda e: e["type"] == "instance" and e.get("instance") == 1000), 15),
              "the advertised instance's up event")
        check(stop("agent") == 0, "cats-agent exits 0 on SIGTERM")
        check(wait_for(lambda: has(lambda e: e["type"] == "instance" and e.get("instance") == 1000 and
                                   e.get("state") == "down"), 15), "its down event (withdrawn)")

        # 6. The human form, while the JSON monitor goes on.
        one = subprocess.Popen(ctl + ["monitor", "--count", "1", "--type", "instance"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        run(*ctl, "instance", "del", "100", "9")
        try:
            out, err = one.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            one.kill()
            out, err = one.communicate()
        check(one.returncode == 0 and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  instance  cs 100 instance 9 down: by catsctl instance del\n",
            out) is not None, "monitor --count 1 --type instance: rc %s, %r %r" % (one.returncode, out, err))

        # 4. The dataplane goes.
        p = run(*ctl, "--json", "stats")
        dp_drops = json.loads(p.stdout)["dataplane"]["drops"] if p.returncode == 0 else {}
        stop("dataplane")
        check(wait_for(lambda: has(lambda e: e["type"] == "link" and e.get("state") == "down"), 15),
              "a link down event when the dataplane stops")
        stop("monitor", signal.SIGINT)

        ev = read_events(events_path)
        print("%d events: %s" % (len(ev), ", ".join(sorted({e["type"] for e in ev}))))
        # 5. Sequence, time, type.
        seqs = [e.get("seq") for e in ev]
        check(all(b == a + 1 for a, b in zip(seqs, seqs[1:])), "seqs follow one another: %s" % seqs[:40])
        check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e.get("time", "")) for e in ev),
              "every event has a UTC time")
        kinds = [(e["type"], e.get("state")) for e in ev]
        first_link = kinds.index(("link", "connected")) if ("link", "connected") in kinds else None
        check(first_link is not None, "link connected")
        snap = [e for e in ev if e["type"] == "table" and e.get("snapshot") is True]
        check(len(snap) >= 1 and isinstance(snap[0].get("version"), int) and snap[0]["version"] >= 1,
              "a table version from the snapshot: %s" % snap[:1])
        drops = [e for e in ev if e["type"] == "drops"]
        reasons = set()
        for d in drops:
            reasons |= set(d["per_s"])
        check(len(drops) >= 1 and all(d["total_per_s"] > 0 and d["interval_s"] > 0 for d in drops),
              "%d drops events, rates above 0: %s" % (len(drops), drops[:1]))
        ops = [(e["type"], e.get("cs_id"), e.get("instance"), e.get("state"), e.get("origin")) for e in ev
               if e["type"] == "instance"]
        want = [("instance", 100, 9, "up", "operator"), ("instance", 100, 1, "drained", "operator"),
                ("instance", 100, 1000, "up", "advert"), ("instance", 100, 1000, "down", "advert"),
                ("instance", 100, 9, "down", "operator")]
        check(ops == want, "instance events in order: %s" % ops)
        # Each operator change and the advert are followed by a new table version.
        versions = [e["version"] for e in ev if e["type"] == "table" and "version" in e]
        check(versions == sorted(versions) and len(versions) >= 1 + len(want),
              "table versions rise, one per change at least: %s" % versions)
        adv = [e for e in ev if e["type"] == "instance" and e.get("origin") == "advert"]
        check(all(e.get("node") == 1 for e in adv) and "withdrawn by node 1" in adv[-1].get("why", ""),
              "advert events name node 1, down says withdrawn: %s" % adv)
        check(reasons and reasons <= set(dp_drops) and all(dp_drops[r] > 0 for r in reasons),
              "drop reasons %s are the dataplane's counters that moved" % sorted(reasons))

        # 7. A bad type.
        p = run(*ctl, "monitor", "--type", "bogus")
        check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 2 and "--type" in p.stderr,
              "--type bogus: rc %d, %r" % (p.returncode, p.stderr))
    finally:
        for name in list(procs):
            stop(name)
        if failures:
            for name, path in logs.items():
                if os.path.exists(path):
                    print("--- %s\n%s" % (name, open(path).read()[-1500:]))
            err = os.path.join(tmp, "monitor.err")
            if os.path.exists(err):
                print("--- monitor.err\n" + open(err).read()[-1500:])


def main():
    return isolated_main(__file__, inside, "cats-monitor-", ())


if __name__ == "__main__":
    sys.exit(main())
