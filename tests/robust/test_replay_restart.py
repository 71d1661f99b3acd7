#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 4: replay protection survives a restart of cats-control.

The reproduction of the issue: an authentic ADVERTISE is recorded, then
withdrawn; cats-control restarts; the same bytes are sent again. Before the
fix they were accepted (the withdrawn instance came back). Now the last
accepted sequence of each node is kept in `state_dir`:
  1. a real cats-agent's datagrams are captured on a UDP socket (its
     advertisement, then its withdraw on SIGTERM);
  2. sent to cats-control: the instance appears, then goes;
  3. cats-control is killed with SIGKILL (no clean shutdown) and started
     again on the same state_dir: the recorded ADVERTISE is refused as
     replay, the instance stays gone;
  4. the same after a clean restart (SIGTERM);
  5. a state file that does not parse: cats-control refuses to start,
     naming the file and line.

Usage: test_replay_restart.py BUILD_DIR. No root needed.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time

from robust_common import BUILD, CONTROL, _procs, check, ctl_call, run, stop

AGENT = os.path.join(BUILD, "tools", "agent", "cats-agent")
KEY = "00112233445566778899aabbccddeeff"
SID = "2001:db8:a1::100"


def config(tmp, port):
    path = os.path.join(tmp, "control.yaml")
    with open(path, "w") as fh:
        fh.write("""
listen: [{address: "::1", port: %d}]
ctl_socket: %s
dataplane_socket: %s
state_dir: state
peers:
  - {node_id: 7, key_id: 7, key: "%s", name: edge7}
policy: {startup_hold_s: 0}
services:
  - {cs_id: 100, name: video, instances: []}
""" % (port, os.path.join(tmp, "ctl.sock"), os.path.join(tmp, "dp.sock"), KEY))
    return path


def start_control(cfg, log):
    p = subprocess.Popen([CONTROL, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    _procs.append(p)
    return p


def wait_socket(path, proc, timeout=10):
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if os.path.exists(path):
            try:
                ctl_call(path, "peer.list", timeout=2)
                return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


def instances(ctl):
    r, _ = ctl_call(ctl, "service.list")
    for s in r.get("result", {}).get("services", []):
        if s["cs_id"] == 100:
            return [i["id"] for i in s.get("instances", [])]
    return []


def replays(ctl):
    r, _ = ctl_call(ctl, "stats")
    return r["result"]["control"]["advert"].get("replay", 0) if r.get("ok") else None


def capture():
    """A real agent's advertisement and withdraw, as sent."""
    rx = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    rx.bind(("::1", 0))
    rx.settimeout(5)
    port = rx.getsockname()[1]
    agent = subprocess.Popen([AGENT, "--control", "[::1]:%d" % port, "--node-id", "7", "--key-id", "7",
                              "--key-hex", KEY, "--interval", "30", "--lifetime", "300",
                              "--service", "100:1:%s" % SID], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _procs.append(agent)
    adv = rx.recv(65535)
    agent.send_signal(signal.SIGTERM)
    wd = rx.recv(65535)
    agent.wait(timeout=10)
    rx.close()
    return adv, wd


def send(port, data):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.sendto(data, ("::1", port))
    s.close()


def wait_for(pred, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def main():
    tmp = tempfile.mkdtemp(prefix="cats-robust-replay-")
    port = 24000 + os.getpid() % 8000
    cfg = config(tmp, port)
    ctl = os.path.join(tmp, "ctl.sock")
    log = open(os.path.join(tmp, "control.log"), "w")
    adv, wd = capture()
    check(len(adv) > 0 and len(wd) > 0 and adv != wd, "captured the agent's advertisement (%d bytes) and withdraw "
          "(%d bytes)" % (len(adv), len(wd)))

    c = start_control(cfg, log)
    if not check(wait_socket(ctl, c), "cats-control starts with state_dir"):
        return
    send(port, adv)
    check(wait_for(lambda: instances(ctl) == [1]), "the advertisement installs instance 1")
    send(port, wd)
    check(wait_for(lambda: instances(ctl) == []), "the withdraw removes it")
    state = os.path.join(tmp, "state", "replay-sequences")
    check(wait_for(lambda: os.path.exists(state)), "the replay state is on disk (%s)" % state)
    st = oct(os.stat(os.path.join(tmp, "state")).st_mode & 0o777)
    check(st == "0o700", "the state directory is created 0700 (got %s)" % st)

    for how, sig in (("SIGKILL", signal.SIGKILL), ("SIGTERM", signal.SIGTERM)):
        stop(c, sig)
        c = start_control(cfg, log)
        if not check(wait_socket(ctl, c), "cats-control starts again after %s" % how):
            return
        send(port, adv)
        check(wait_for(lambda: replays(ctl) == 1), "after %s and a restart the recorded advertisement is refused as "
              "replay (replay counter %s)" % (how, replays(ctl)))
        time.sleep(0.3)
        check(instances(ctl) == [], "the withdrawn instance stays gone after %s (%s)" % (how, instances(ctl)))

    stop(c, signal.SIGTERM)
    with open(state, "a") as fh:
        fh.write("7 not-a-number\n")
    p = subprocess.run([CONTROL, "--config", cfg], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    check(p.returncode != 0 and "replay-sequences:3:" in out,
          "a corrupt state file stops cats-control at start, naming file and line (exit %d: %s)" %
          (p.returncode, out.strip()[-200:]))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    run(main)
