#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""catsctl sid and policy end to end (issue 18): the real cats-dataplane
(EAL without hugepages, a net_null port), cats-control and catsctl.

  catsctl --JSON lines--> cats-control --SID_UPDATE / STATS_REQ--> cats-dataplane

Checked:
  1. the SIDs of the dataplane's YAML (local_sids) are listed, origin
     config, in the table and in --json;
  2. `catsctl sid add` (addr and addr/len, End.DX6 with a next hop, End.X,
     End.DT6) installs SIDs, each one SID table version; the list shows
     them (origin cli); `sid del` removes one;
  3. bad ones are refused with a message naming the field, and nothing
     installed is lost: an unknown behaviour and End.DX6 without a next
     hop (catsctl, exit 2; cats-control's own check, over the socket), a
     next hop the FIB does not reach and host bits set (the dataplane,
     exit 1), a SID not there to delete;
  4. `catsctl policy list` shows the ingress policy of a service instance
     with the keys of the egress ones (source, sid, packets, bytes);
  5. the dataplane restarts: cats-control adds its SIDs again; the YAML's
     are back too.

usage: test_sid_cli.py BUILD_DIR SOURCE_ROOT. Exit 77 (skipped) with one
line why when catsctl is not built (no CLI11).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
CONTROL = os.path.join(BUILD, "control", "cats-control")
CATSCTL = os.path.join(BUILD, "tools", "catsctl", "catsctl")
SKIP = 77

failures = []

DP_CONFIG = """
gateway:
  encap_source: 2001:db8:ff::1
  flow_table_size: 1024
  max_services: 16
  max_instances: 64
ports:
  - name: net_null0
neighbors:
  - {address: 2001:db8:ff::d, mac: 02:00:00:00:00:0d, port: net_null0}
routes:
  - {prefix: 2001:db8:a1::/48, via: 2001:db8:ff::d}
local_sids:
  - {sid: "fc00:e:0:e000::/64", behavior: End}
  - {sid: "fc00:e::d1", behavior: End.DX6, next_hop: 2001:db8:ff::d}
"""

CONTROL_CONFIG = """
listen: []
ctl_socket: %s
dataplane_socket: %s
services:
  - cs_id: 100
    name: video
    instances:
      - {id: 1, sids: ["2001:db8:a1::100"]}
"""

YAML_SIDS = {"fc00:e:0:e000::/64", "fc00:e::d1"}


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        failures.append(msg)
    return cond


def wait_for(pred, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Gateway:
    """cats-dataplane and cats-control in `tmp`, and catsctl for them."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.dp_sock = os.path.join(tmp, "dataplane.sock")
        self.ctl_sock = os.path.join(tmp, "control.sock")
        self.dp_cfg = os.path.join(tmp, "gateway.yaml")
        with open(self.dp_cfg, "w") as f:
            f.write(DP_CONFIG)
        self.ctl_cfg = os.path.join(tmp, "control.yaml")
        with open(self.ctl_cfg, "w") as f:
            f.write(CONTROL_CONFIG % (self.ctl_sock, self.dp_sock))
        self.procs = {}
        self.starts = 0

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, "%s.log" % name), "a")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def start_dataplane(self):
        self.starts += 1
        self.start("dataplane", [DP, "--no-huge", "-m", "512", "--no-pci", "-l", "0", "--no-telemetry",
                                 "--log-level", "lib.eal:error",
                                 "--file-prefix", "cats-sid-cli-%d-%d" % (os.getpid(), self.starts),
                                 "--vdev", "net_null0",
                                 "--", "--config", self.dp_cfg, "--mgmt-socket", self.dp_sock])

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p is None:
            return None
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)

    def log(self, name):
        with open(os.path.join(self.tmp, "%s.log" % name)) as f:
            return f.read()

    def ctl(self, *args):
        return subprocess.run([CATSCTL, "-s", self.ctl_sock] + [str(a) for a in args], capture_output=True,
                              text=True, timeout=60)

    def sids(self):
        """{sid: entry} of `catsctl sid list --json`, or None."""
        p = self.ctl("sid", "list", "--json")
        if p.returncode != 0:
            return None
        return {e["sid"]: e for e in json.loads(p.stdout)["sids"]}

    def raw(self, request):
        """One JSON request line straight to cats-control's socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.ctl_sock)
        s.sendall((json.dumps(request) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf)

    def in_sync(self):
        return self.ctl("dataplane", "status").returncode == 0


def run_checks(gw):
    gw.start("control", [CONTROL, "--config", gw.ctl_cfg])
    check(wait_for(lambda: os.path.exists(gw.ctl_sock), 20), "cats-control is up")
    gw.start_dataplane()
    if not check(wait_for(gw.in_sync, 90), "cats-control is in sync with the dataplane"):
        print(gw.log("dataplane")[-3000:])
        return

    # 1. The YAML's SIDs.
    p = gw.ctl("sid", "list")
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and lines and lines[0].split() ==
          ["SID", "BEHAVIOR", "NEXT-HOP", "ORIGIN", "PACKETS", "BYTES", "DROPPED", "TOP-DROPS"],
          "sid list: a table: %r" % p.stdout)
    rows = {l.split()[0]: l.split() for l in lines[1:-1]}
    check(rows.get("fc00:e:0:e000::/64", [])[1:4] == ["End", "-", "config"] and
          rows.get("fc00:e::d1", [])[1:4] == ["End.DX6", "2001:db8:ff::d", "config"] and
          lines[-1] == "2 local SIDs", "sid list: the YAML's SIDs, origin config: %r" % p.stdout)
    sids = gw.sids()
    check(sids is not None and set(sids) == YAML_SIDS and
          all(set(e) >= {"sid", "behavior", "next_hop", "packets", "bytes", "dropped", "drops", "origin"}
              for e in sids.values()), "sid list --json: the YAML's SIDs with their counters: %s" % sids)

    # 2. Add, list, delete.
    adds = [(["fc00:e::d6", "behavior", "End.DX6", "next-hop", "2001:db8:ff::d"],
             "sid fc00:e::d6: added (End.DX6, next hop 2001:db8:ff::d); the dataplane runs SID table version "),
            (["fc00:e:1::/64", "behavior", "End.DT6"], "sid fc00:e:1::/64: added (End.DT6); the dataplane runs "),
            # End.X to a next hop a route reaches.
            (["fc00:e::d7", "behavior", "end.x", "next-hop", "2001:db8:a1::5"],
             "sid fc00:e::d7: added (End.X, next hop 2001:db8:a1::5); ")]
    versions = []
    for words, want in adds:
        p = gw.ctl("sid", "add", *words)
        check(p.returncode == 0 and p.stdout.startswith(want), "sid add %s: %r %r" %
              (" ".join(words), p.stdout, p.stderr))
        versions.append(int(p.stdout.rsplit(" ", 1)[-1]) if p.returncode == 0 else -1)
    check(versions == sorted(versions) and len(set(versions)) == 3, "one SID table version each: %s" % versions)
    sids = gw.sids() or {}
    check(set(sids) == YAML_SIDS | {"fc00:e::d6", "fc00:e:1::/64", "fc00:e::d7"},
          "sid list --json: the three added: %s" % sorted(sids))
    d6 = sids.get("fc00:e::d6", {})
    check(d6.get("behavior") == "End.DX6" and d6.get("next_hop") == "2001:db8:ff::d" and
          d6.get("origin") == "cli" and d6.get("packets") == 0, "fc00:e::d6 as added: %s" % d6)
    check(sids.get("fc00:e:1::/64", {}).get("behavior") == "End.DT6" and
          sids.get("fc00:e::d7", {}).get("behavior") == "End.X", "behaviours as added")
    p = gw.ctl("sid", "list")
    check(p.returncode == 0 and "\nfc00:e::d6" in p.stdout and "End.DX6" in p.stdout and
          p.stdout.endswith("5 local SIDs\n"), "sid list: the added ones: %r" % p.stdout)
    p = gw.ctl("sid", "del", "fc00:e::d7")
    check(p.returncode == 0 and p.stdout.startswith("sid fc00:e::d7: deleted; the dataplane runs SID table version"),
          "sid del: %r %r" % (p.stdout, p.stderr))
    installed = gw.sids() or {}
    check(set(installed) == YAML_SIDS | {"fc00:e::d6", "fc00:e:1::/64"}, "fc00:e::d7 is gone: %s" % sorted(installed))

    # 3. Bad ones: refused, naming the field; nothing installed is lost.
    bad_cli = [
        (["sid", "add", "fc00:e::d8", "behavior", "End.DX4"], 2,
         "catsctl: sid add: behavior: 'End.DX4' is not a behavior (End, End.X, End.DX6, End.DT6; "),
        (["sid", "add", "fc00:e::d8", "behavior", "End.DX6"], 2, "catsctl: sid add: next-hop: End.DX6 needs one (SID behavior End.DX6 next-hop ADDR)\n"),
        (["sid", "add", "fc00:e::d8", "behavior", "End.DX6", "next-hop", "2001:db8:77::1"], 1,
         "catsctl: dataplane refused: sid fc00:e::d8: next_hop 2001:db8:77::1 is no neighbor the FIB reaches"),
        (["sid", "add", "fc00:e::1/64", "behavior", "End"], 1,
         "catsctl: dataplane refused: sid fc00:e::1/64: host bits set (did you mean fc00:e::/64?)"),
        (["sid", "add", "fc00::/8", "behavior", "End"], 1,
         "catsctl: dataplane refused: sid fc00::/8: a SID is at least a /16"),
        (["sid", "del", "fc00:e::d8"], 1, "catsctl: dataplane refused: sid fc00:e::d8: not found\n"),
    ]
    for argv, rc, want in bad_cli:
        p = gw.ctl(*argv)
        check(p.returncode == rc and p.stderr.startswith(want) and p.stdout == "",
              "catsctl %s: exit %d, %r (want %d, %r)" % (" ".join(argv), p.returncode, p.stderr, rc, want))
    # cats-control's own checks, for a client that is not catsctl.
    for args, want in (({"sid": "fc00:e::d8", "behavior": "End.DX4"}, "args.behavior: 'End.DX4' is not a behavior"),
                       ({"sid": "fc00:e::d8", "behavior": "End.DX6"},
                        "args.next_hop: End.DX6 needs a next hop (required key is missing)"),
                       ({"sid": "fc00:e::d8", "behavior": "End", "next_hop": "2001:db8:ff::d"},
                        "args.next_hop: End takes no next hop"),
                       ({"sid": "fc00:e::zz", "behavior": "End"}, "args.sid: 'fc00:e::zz' is not an IPv6 address")):
        r = gw.raw({"v": 0, "cmd": "sid.add", "args": args})
        check(r.get("ok") is False and r.get("error", "").startswith(want), "sid.add %s: %s" % (args, r))
    after = gw.sids() or {}
    check(after == installed, "nothing installed is lost or changed: %s" % sorted(after))

    # 4. Policies: the ingress's per instance, the egress's per (source, SID).
    p = gw.ctl("policy", "list")
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and lines and lines[0].split() ==
          ["DIRECTION", "SOURCE", "SID", "PACKETS", "BYTES", "CS-ID", "INSTANCE", "SEGMENTS"] and
          any(l.split()[:3] == ["ingress", "2001:db8:ff::1", "2001:db8:a1::100"] for l in lines[1:]) and
          lines[-1].startswith("1 ingress, 0 egress policies"), "policy list: %r %r" % (p.stdout, p.stderr))
    p = gw.ctl("policy", "list", "--json")
    pol = json.loads(p.stdout) if p.returncode == 0 else {}
    ingress = pol.get("ingress", [])
    check(len(ingress) == 1 and {"source", "sid", "packets", "bytes"} <= set(ingress[0]) and
          ingress[0]["sid"] == "2001:db8:a1::100" and ingress[0]["cs_id"] == 100 and
          pol.get("egress") == [] and isinstance(pol.get("egress_capacity"), int) and pol["egress_capacity"] > 0,
          "policy list --json: %s" % pol)

    # 5. The dataplane restarts: its YAML's SIDs, then cats-control's again.
    check(gw.stop("dataplane") == 0, "cats-dataplane exits 0 on SIGTERM")
    check(wait_for(lambda: not gw.in_sync(), 20), "cats-control sees the dataplane gone")
    p = gw.ctl("sid", "add", "fc00:e::d9", "behavior", "End")
    check(p.returncode == 1 and "not connected" in p.stderr, "sid add without a dataplane: %r" % p.stderr)
    gw.start_dataplane()
    check(wait_for(gw.in_sync, 90), "in sync with the restarted dataplane")
    back = wait_for(lambda: (gw.sids() or {}) == installed and gw.sids(), 20) or gw.sids()
    check(back == installed, "the restarted dataplane has the YAML's SIDs and those added with catsctl: %s" %
          sorted(back or {}))
    check("adding again the 2 local SID(s) added with catsctl" in gw.log("control"),
          "cats-control says it adds them again")
    # A YAML SID may be deleted too (until the dataplane restarts).
    p = gw.ctl("sid", "del", "fc00:e::d1")
    check(p.returncode == 0, "sid del of a YAML SID: %r" % p.stderr)
    check(set(gw.sids() or {}) == set(installed) - {"fc00:e::d1"}, "fc00:e::d1 is gone")


def main():
    if not os.access(CATSCTL, os.X_OK):
        print("SKIP: catsctl is not built (it needs CLI11, Debian: libcli11-dev)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="cats-sid-cli-") as tmp:
        gw = Gateway(tmp)
        try:
            run_checks(gw)
        finally:
            gw.stop_all()
            if failures:
                for name in ("control", "dataplane"):
                    try:
                        print("--- %s log (tail) ---\n%s" % (name, gw.log(name)[-3000:]))
                    except OSError:
                        pass
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
