#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 5: a node's key is scoped, and forged datagrams are not the peer's.

The reproduction of the issue, with real cats-agents and cats-control:
  1. node 1's key is limited to CS-ID 100, instance ids 1-99, 4 instances.
     Its agent advertises (cs 500, instance 1), another node's record, and
     six instances of cs 100. Before the fix all seven were installed and
     node 2 was then refused (`conflict`). Now (500, 1) is refused as
     out_of_scope, two of cs 100 as node_quota, and both are counted on
     node 1's peer entry.
  2. node 2 (scoped to CS-ID 500) advertises (500, 1): accepted.
  3. datagrams that name node 2's key id but are signed with another key
     (forged): before the fix they raised node 2's `rejected` counter and
     overwrote its last_error. Now they are counted per source address,
     and node 2's entry is untouched.
  4. a scope that two keys of one node disagree on is a config error
     naming the peer.

Usage: test_node_scope.py BUILD_DIR. No root needed.
"""
import os
import subprocess
import tempfile
import time

from robust_common import BUILD, CONTROL, _procs, check, ctl_call, run, stop

AGENT = os.path.join(BUILD, "tools", "agent", "cats-agent")
KEY1 = "00112233445566778899aabbccddeeff"
KEY2 = "ffeeddccbbaa99887766554433221100"
FORGED = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"


def config(tmp, port, extra_peer=""):
    path = os.path.join(tmp, "control.yaml")
    with open(path, "w") as fh:
        fh.write("""
listen: [{address: "::1", port: %d}]
ctl_socket: %s
dataplane_socket: %s
peers:
  - {node_id: 1, key_id: 1, key: "%s", name: squatter, cs_ids: [100], instance_ids: [1-99], max_instances: 4}
  - {node_id: 2, key_id: 2, key: "%s", name: genuine, cs_ids: [500, 600-699], instance_ids: ["1-99"]}
%s
policy: {startup_hold_s: 0}
""" % (port, os.path.join(tmp, "ctl.sock"), os.path.join(tmp, "dp.sock"), KEY1, KEY2, extra_peer))
    return path


def agent(port, node, key_id, key, services):
    args = [AGENT, "--control", "[::1]:%d" % port, "--node-id", str(node), "--key-id", str(key_id),
            "--key-hex", key, "--interval", "30", "--lifetime", "300"]
    for s in services:
        args += ["--service", s]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _procs.append(p)
    return p


def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def table(ctl):
    """{(cs_id, id): node_id} of advertised instances."""
    r, _ = ctl_call(ctl, "service.list")
    out = {}
    for s in r.get("result", {}).get("services", []):
        for i in s.get("instances", []):
            out[(s["cs_id"], i["id"])] = i.get("node_id")
    return out


def peers(ctl):
    r, _ = ctl_call(ctl, "peer.list")
    res = r.get("result", {})
    return {p["name"]: p for p in res.get("peers", [])}, res.get("unauthenticated", [])


def main():
    tmp = tempfile.mkdtemp(prefix="cats-robust-scope-")
    port = 24000 + (os.getpid() + 4000) % 8000
    cfg = config(tmp, port)
    ctl = os.path.join(tmp, "ctl.sock")
    log = open(os.path.join(tmp, "control.log"), "w")
    c = subprocess.Popen([CONTROL, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    _procs.append(c)
    if not check(wait_for(lambda: os.path.exists(ctl)), "cats-control starts with scoped peers"):
        return

    # 1. The squatter: another node's (500, 1), then more than its quota.
    sid1 = "2001:db8:a1::%x"
    agent(port, 1, 1, KEY1, ["500:1:" + sid1 % 0x500] + ["100:%d:%s" % (i, sid1 % i) for i in range(1, 7)])
    check(wait_for(lambda: peers(ctl)[0]["squatter"]["accepted"] >= 1), "node 1's advertisement is received")
    t = table(ctl)
    mine = sorted(k for k, n in t.items() if n == 1)
    check(len(mine) == 4 and all(cs == 100 for cs, _ in mine),
          "node 1 holds exactly its quota of 4 instances, all in CS-ID 100 (%s)" % mine)
    check((500, 1) not in t, "node 1 could not claim (500, 1) outside its CS-IDs")
    p1 = peers(ctl)[0]["squatter"]
    check(p1["records_refused"] == {"out_of_scope": 1, "node_quota": 2},
          "node 1's refused records are counted by reason (%s)" % p1["records_refused"])
    check(p1["scope"]["instances"] == 4 and p1["scope"]["cs_ids"] == ["100"] and p1["scope"]["max_instances"] == 4,
          "peer list shows node 1's scope and use (%s)" % p1["scope"])
    check("out_of_scope" in p1["last_error"] or "node_quota" in p1["last_error"],
          "node 1's last_error says why (%s)" % p1["last_error"])

    # 2. The genuine owner of (500, 1) is not locked out.
    agent(port, 2, 2, KEY2, ["500:1:2001:db8:a2::100"])
    check(wait_for(lambda: table(ctl).get((500, 1)) == 2), "node 2's genuine (500, 1) is installed")
    p2 = peers(ctl)[0]["genuine"]
    check(p2["records_rejected"] == 0, "node 2 had no record refused (%s)" % p2["records_refused"])

    # 3. Forged datagrams naming node 2's key id: counted on their source.
    forger = agent(port, 2, 2, FORGED, ["500:2:2001:db8:66::1"])

    def forged_seen():
        _, unauth = peers(ctl)
        return any(s["bad_mac"] >= 1 and s["last_key_id"] == 2 for s in unauth)
    check(wait_for(forged_seen), "forged datagrams are counted as bad_mac on their source address (%s)" %
          peers(ctl)[1])
    stop(forger)
    p2 = peers(ctl)[0]["genuine"]
    check(p2["rejected"] == 0 and p2["last_error"] == "",
          "node 2's rejected counter and last_error are untouched by the forgeries (%d, %r)" %
          (p2["rejected"], p2["last_error"]))
    r, _ = ctl_call(ctl, "stats")
    check(r["result"]["control"]["advert"].get("bad_mac", 0) >= 1, "the global bad_mac counter still counts them")
    check((500, 2) not in table(ctl), "nothing forged was installed")
    stop(c)

    # 4. Two keys of one node with different scopes: refused at start.
    bad = config(tmp, port, extra_peer='  - {node_id: 2, key_id: 3, key: "%s", cs_ids: [500]}' % KEY1)
    p = subprocess.run([CONTROL, "--config", bad, "--check"], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    check(p.returncode != 0 and "peers[2]" in out and "peers[1]" in out and "scope" in out,
          "keys of one node with different scopes are a config error naming both (exit %d: %s)" %
          (p.returncode, out.strip()[-240:]))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    run(main)
