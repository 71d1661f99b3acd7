# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the robustness tests: start cats-dataplane on a net_null vdev
(no traffic needed), speak the management channel (proto-defs/mgmt_wire.hpp)
and the catsctl channel (proto-defs/ctl_wire.hpp) by hand, collect failures.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
CONTROL = os.path.join(BUILD, "control", "cats-control")
CATSCTL = os.path.join(BUILD, "tools", "catsctl", "catsctl")

MAGIC = 0x4341544D
UPDATE, UPDATE_ACK, STATUS_REQ, STATUS, STATS_REQ, STATS, FLOWS_REQ, FLOWS, ERROR = range(1, 10)

failures = []
_procs = []
_prefixes = []


@atexit.register
def _kill_leftovers():
    """A test that ends by an exception (before finish()) still leaves no
    cats-dataplane or cats-control running."""
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)
    else:
        print("ok:", msg, flush=True)
    return cond


def need_root(why):
    if os.geteuid() != 0:
        print("SKIP: needs root: %s" % why)
        sys.exit(77)


def finish():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    for name in _prefixes:
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    if failures:
        print("%d failure(s):" % len(failures))
        for f in failures:
            print("  -", f)
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def gateway_yaml(name=b"video"):
    """A gateway config (bytes) on one net_null port, one service."""
    return (b"gateway: {encap_source: '2001:db8:ff::1'}\n"
            b"ports: [{name: net_null0}]\n"
            b"neighbors: [{address: 'fe80::1', mac: '02:00:00:00:00:01', port: net_null0}]\n"
            b"routes: [{prefix: 'fc00::/16', via: 'fe80::1'}]\n"
            b"services:\n"
            b"  - cs_id: 100\n"
            b"    name: \"" + name + b"\"\n"
            b"    instances: [{id: 1, sids: ['fc00::1']}]\n")


def start_dataplane(tmp, tag, args, yaml=None, umask=None, wait_socket=None):
    cfg = os.path.join(tmp, "gw-%s.yaml" % tag)
    with open(cfg, "wb") as f:
        f.write(yaml if yaml is not None else gateway_yaml())
    prefix = "cats-robust-%d-%s" % (os.getpid(), tag)
    _prefixes.append(prefix)
    cmd = [DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "-l", "0",
           "--log-level", "lib.eal:error", "--no-telemetry", "--vdev", "net_null0",
           "--", "--config", cfg] + args
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    log = open(os.path.join(tmp, "dp-%s.log" % tag), "w+b")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec)
    p.log = log
    _procs.append(p)
    if wait_socket:
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None:
            try:
                s = mgmt_connect(wait_socket, timeout=1)
                s.close()
                break
            except OSError:
                time.sleep(0.2)
    return p


def run_dataplane(tag, cfg, vdevs, args=(), mem="512"):
    """cats-dataplane to completion on `vdevs` (net_pcap ones end with their
    input): the CompletedProcess, output as text."""
    prefix = "cats-robust-%d-%s" % (os.getpid(), tag)
    _prefixes.append(prefix)
    cmd = [DP, "--no-huge", "-m", mem, "--no-pci", "--file-prefix", prefix, "-l", "0",
           "--log-level", "lib.eal:error", "--no-telemetry"]
    for v in vdevs:
        cmd += ["--vdev", v]
    return subprocess.run(cmd + ["--", "--config", cfg] + list(args), capture_output=True, text=True, timeout=120)


def run(main):
    """A test's entry point: an exception is a failure, never a pass, and
    finish() reports and cleans up whatever happened."""
    try:
        main()
    except Exception as e:  # noqa: BLE001 - a crash of the test is a failure, not a pass
        check(False, "test raised %r" % e)
    finally:
        finish()


def output(p):
    p.log.flush()
    p.log.seek(0)
    return p.log.read().decode("utf-8", "replace")


def stop(p, sig=signal.SIGTERM, timeout=30):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


# --- the management channel --------------------------------------------------

def header(mtype, length, seq):
    return struct.pack("!IHHII", MAGIC, 0, mtype, length, seq)


def message(mtype, seq, payload=b""):
    return header(mtype, len(payload), seq) + payload


def service_rec(cs_id, name, instances=((1, "fc00::1"),)):
    out = struct.pack("!IIB", cs_id, 30, len(name)) + name + struct.pack("!H", len(instances))
    for iid, sid in instances:
        out += struct.pack("!IB", iid, 1) + socket.inet_pton(socket.AF_INET6, sid)
        out += struct.pack("!BBHIIII", 10, 0, 1, 1, 0, 0xFFFFFFFF, 100)
    return out


def batch(services, replace_all=False):
    out = struct.pack("!BBHI", 1 if replace_all else 0, 0, 0, len(services))
    for cs_id, name in services:
        out += b"\x01" + service_rec(cs_id, name)
    return out


def mgmt_connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed by the dataplane")
        buf += chunk
    return buf


def mgmt_reply(s):
    """(type, seq, payload)."""
    magic, ver, mtype, length, seq = struct.unpack("!IHHII", recv_exact(s, 16))
    if magic != MAGIC:
        raise ValueError("bad magic in reply")
    return mtype, seq, recv_exact(s, length)


def decode_ack(payload):
    st, _, el, version = struct.unpack("!BBHQ", payload[:12])
    return st, version, payload[12:12 + el].decode("utf-8", "replace")


def mgmt_request(path, mtype, payload=b"", seq=1, timeout=5):
    s = mgmt_connect(path, timeout)
    try:
        s.sendall(message(mtype, seq, payload))
        return mgmt_reply(s)
    finally:
        s.close()


def status(path, timeout=5):
    mtype, _, payload = mgmt_request(path, STATUS_REQ, timeout=timeout)
    if mtype != STATUS:
        raise ValueError("reply type %d to STATUS_REQ" % mtype)
    return json.loads(payload)


# --- cats-control's catsctl channel -------------------------------------------

def ctl_call(path, cmd, args=None, timeout=60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        req = {"v": 0, "cmd": cmd}
        if args:
            req["args"] = args
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = bytearray()
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                raise ConnectionError("cats-control closed the connection")
            buf += chunk
        return json.loads(bytes(buf)), len(buf)
    finally:
        s.close()


def run_as_nobody(code, timeout=30):
    """Run python code as uid/gid 65534 without supplementary groups."""
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
