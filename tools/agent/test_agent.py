#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""cats-agent end to end: runs the agent against UDP sockets on 127.0.0.1
and decodes what it sends with an independent Python decoder of
proto-defs/ADVERT.md (header, HMAC-SHA256 with Python's hmac module,
records, metric TLVs).

usage: test_agent.py PATH/TO/cats-agent
Prints one line per check and 'N passed, M failed'; exits 1 on a failure.
"""
import hashlib
import hmac
import ipaddress
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

AGENT = sys.argv[1] if len(sys.argv) > 1 else "cats-agent"
KEY_HEX = "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef"
KEY = bytes.fromhex(KEY_HEX)

MAGIC = 0x43415441
HEADER = struct.Struct(">IBBHHHIQHH")  # 28 bytes
MAC_LEN = 32
ADVERTISE, WITHDRAW = 1, 2
# type -> (name, struct format)
METRICS = {1: ("load_pct", ">B"), 2: ("free_capacity", ">I"), 3: ("queue_delay_us", ">I"),
           4: ("bandwidth_kbps", ">I"), 5: ("score", ">B"), 6: ("compute_types", ">H"),
           7: ("weight", ">I"), 8: ("latency_us", ">I")}

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what)
    return cond


class DecodeError(Exception):
    pass


def decode(d, key=KEY):
    """The datagram as a dict, or DecodeError. Follows ADVERT.md section 3."""
    if len(d) < HEADER.size:
        raise DecodeError("truncated")
    magic, ver, typ, length, key_id, _rsv, node, seq, lifetime, count = HEADER.unpack_from(d)
    if magic != MAGIC or ver != 0 or typ not in (ADVERTISE, WITHDRAW):
        raise DecodeError("bad header")
    if length != len(d) or length < HEADER.size + MAC_LEN:
        raise DecodeError("bad length")
    body, mac = d[:-MAC_LEN], d[-MAC_LEN:]
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), mac):
        raise DecodeError("bad mac")
    off = HEADER.size
    records = []
    for _ in range(count):
        if typ == WITHDRAW:
            if off + 8 > len(body):
                raise DecodeError("truncated record")
            cs, inst = struct.unpack_from(">II", body, off)
            off += 8
            records.append({"cs_id": cs, "id": inst})
            continue
        if off + 12 > len(body):
            raise DecodeError("truncated record")
        cs, inst, nsids, _r, mlen = struct.unpack_from(">IIBBH", body, off)
        off += 12
        if not 1 <= nsids <= 5:
            raise DecodeError("bad SID count")
        if off + 16 * nsids + mlen > len(body):
            raise DecodeError("record overruns")
        sids = [str(ipaddress.IPv6Address(body[off + 16 * i:off + 16 * i + 16])) for i in range(nsids)]
        off += 16 * nsids
        metrics = {}
        tlvs, off = body[off:off + mlen], off + mlen
        t = 0
        while t < len(tlvs):
            if t + 2 > len(tlvs) or t + 2 + tlvs[t + 1] > len(tlvs):
                raise DecodeError("TLV overruns")
            mtype, mlen1 = tlvs[t], tlvs[t + 1]
            if mtype in METRICS:
                name, fmt = METRICS[mtype]
                if struct.calcsize(fmt) != mlen1:
                    raise DecodeError("bad metric length")
                metrics[name] = struct.unpack_from(fmt, tlvs, t + 2)[0]
            t += 2 + mlen1
        records.append({"cs_id": cs, "id": inst, "sids": sids, "metrics": metrics})
    if off != len(body):
        raise DecodeError("trailing bytes")
    return {"type": typ, "key_id": key_id, "node_id": node, "sequence": seq, "lifetime": lifetime,
            "records": records, "size": len(d)}


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    return s


def port_of(s):
    return s.getsockname()[1]


def recv(s, timeout=5.0):
    s.settimeout(timeout)
    try:
        return s.recv(65535)
    except socket.timeout:
        return None


def run(args, **kw):
    return subprocess.run([AGENT] + args, capture_output=True, text=True, timeout=30, **kw)


def base_flags(port):
    return ["--control", "127.0.0.1:%d" % port, "--node-id", "42", "--key-id", "7", "--key-hex", KEY_HEX]


def test_once():
    s = udp_socket()
    now_us = time.time() * 1e6
    r = run(base_flags(port_of(s)) + [
        "--service", "100:1:2001:db8::1,2001:db8::2", "--service", "200:9:2001:db8:9::1",
        "--load", "40", "--free-capacity", "12", "--queue-delay-us", "300", "--bandwidth-kbps", "1000000",
        "--score", "9", "--compute-types", "cpu,gpu", "--weight", "50", "--latency-us", "25", "--once"])
    check(r.returncode == 0, "--once exits 0 (stderr: %r)" % r.stderr)
    d = recv(s)
    if not check(d is not None, "--once sends a datagram"):
        return
    try:
        m = decode(d)
    except DecodeError as e:
        check(False, "--once datagram decodes: %s" % e)
        return
    check(True, "--once datagram decodes and its HMAC verifies")
    check(m["type"] == ADVERTISE and m["node_id"] == 42 and m["key_id"] == 7, "header: advertise, node 42, key 7")
    check(m["lifetime"] == 3, "default lifetime is 3 x the 1 s interval")
    check(abs(m["sequence"] - now_us) < 60e6, "sequence starts at the current time in microseconds")
    want_metrics = {"load_pct": 40, "free_capacity": 12, "queue_delay_us": 300, "bandwidth_kbps": 1000000,
                    "score": 9, "compute_types": 3, "weight": 50, "latency_us": 25}
    check(m["records"] == [
        {"cs_id": 100, "id": 1, "sids": ["2001:db8::1", "2001:db8::2"], "metrics": want_metrics},
        {"cs_id": 200, "id": 9, "sids": ["2001:db8:9::1"], "metrics": want_metrics}],
        "records carry CS-ID, instance, SIDs in order and every metric")
    with_other_key = bytearray(KEY)
    with_other_key[0] ^= 1
    try:
        decode(d, bytes(with_other_key))
        check(False, "another key does not verify")
    except DecodeError as e:
        check(str(e) == "bad mac", "another key does not verify")
    check(recv(s, 0.3) is None, "--once sends exactly one datagram")


def test_dump_and_split():
    flags = ["--node-id", "1", "--key-id", "2", "--key-hex", KEY_HEX, "--score", "5", "--load", "10",
             "--free-capacity", "1", "--queue-delay-us", "1", "--bandwidth-kbps", "1", "--weight", "1",
             "--latency-us", "1", "--compute-types", "cpu"]
    for i in range(30):
        flags += ["--service", "%d:%d:%s" % (1000, i, ",".join("2001:db8::%x" % (i * 8 + k) for k in range(5)))]
    r = run(flags + ["--dump"])
    check(r.returncode == 0, "--dump without a controller exits 0")
    lines = [l for l in r.stdout.splitlines() if l]
    msgs = []
    try:
        msgs = [decode(bytes.fromhex(l)) for l in lines]
    except (ValueError, DecodeError) as e:
        check(False, "--dump prints decodable hex: %s" % e)
        return
    check(len(msgs) > 1, "30 large instances are split over %d datagrams" % len(msgs))
    check(all(m["size"] <= 1400 for m in msgs), "every datagram is at most 1400 bytes")
    check([r["id"] for m in msgs for r in m["records"]] == list(range(30)), "all 30 instances, each once, in order")
    seqs = [m["sequence"] for m in msgs]
    check(all(b == a + 1 for a, b in zip(seqs, seqs[1:])), "split datagrams have consecutive sequences")


def test_errors():
    cases = [
        (["--node-id", "1"], "missing key_id"),
        (["--bogus"], "unknown argument '--bogus'"),
        (base_flags(1) + ["--service", "1:1:2001:db8::zz"], "is not an IPv6 address"),
        (base_flags(1) + ["--service", "1:1:" + ",".join(["::1"] * 6)], "1..5 SIDs"),
        (base_flags(1) + ["--service", "1:1:::1", "--score", "11"], "--score: must be 0..10"),
        (base_flags(1) + ["--service", "1:1:::1", "--interval", "2", "--lifetime", "2"], "longer than the interval"),
        (base_flags(1) + ["--service", "1:1:::1", "--service", "1:1:::2"], "given twice"),
        (["--node-id", "1", "--key-id", "1", "--key-hex", "abcd", "--service", "1:1:::1", "--dump"], "key of 2 bytes"),
        (["--config", "/nonexistent/agent.yaml"], "cannot read"),
    ]
    for args, want in cases:
        r = run(args)
        check(r.returncode == 2 and want in r.stderr, "exit 2 and '%s' for %s (got %d: %r)" %
              (want, " ".join(args[-2:]), r.returncode, r.stderr.strip()))
    with tempfile.TemporaryDirectory() as tmp:
        for text, want in [
            ("node_id: 1\nkey_id: 1\nkey: %s\ncontrollers: ['127.0.0.1:1']\n"
             "instances:\n  - {cs_id: 1, id: 1, sids: ['2001:db8::zz']}\n" % KEY_HEX,
             "instances[0].sids[0]: '2001:db8::zz' is not an IPv6 address"),
            ("node_id: 1\nkey_id: 1\nkey: %s\ncontrollers: ['127.0.0.1:1']\n"
             "instances:\n  - {cs_id: 1, id: 1, sids: ['::1'], metrics: {load_pct: 101}}\n" % KEY_HEX,
             "instances[0].metrics.load_pct: must be 0..100"),
            ("node_id: 1\nkey_idd: 1\n", "key_idd: unknown key"),
            ("node_id: [1\n", "YAML syntax error"),
            ("node_id: 1\n---\nnode_id: 2\n", "expected one YAML document, found 2"),
            ("node_id: 1\nkey_id: 1\nkey_file: nokey\n", "key_file: cannot read"),
        ]:
            path = os.path.join(tmp, "agent.yaml")
            with open(path, "w") as f:
                f.write(text)
            r = run(["--config", path])
            check(r.returncode == 2 and want in r.stderr and r.stderr.count(path) == 1,
                  "config error exits 2 naming the file once and '%s' (got %d: %r)" %
                  (want, r.returncode, r.stderr.strip()))


def test_example_config():
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent.example.yaml")
    r = run(["--config", example, "--dump"])
    try:
        m = decode(bytes.fromhex(r.stdout.split()[0]))
    except (ValueError, IndexError, DecodeError) as e:
        check(False, "the example config loads: %s %r" % (e, r.stderr))
        return
    check(r.returncode == 0 and m["node_id"] == 42 and [x["id"] for x in m["records"]] == [1, 2] and
          m["records"][1]["sids"] == ["2001:db8:a2::1", "2001:db8:a2::100"] and
          0 <= m["records"][0]["metrics"]["load_pct"] <= 100 and "free_capacity" in m["records"][0]["metrics"],
          "the example config loads and measures")


def test_measure():
    with tempfile.TemporaryDirectory() as tmp:
        loadavg = os.path.join(tmp, "loadavg")
        with open(loadavg, "w") as f:
            f.write("1.50 0.80 0.30 2/345 6789\n")
        sessions = os.path.join(tmp, "sessions")
        with open(sessions, "w") as f:
            f.write("30\n")
        procnet = os.path.join(tmp, "net")
        os.mkdir(procnet)
        hdr = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        with open(os.path.join(procnet, "tcp6"), "w") as f:
            f.write(hdr)
            # Two established to port 8080 (0x1F90), one listening, one to another port.
            for st, port in [("01", 0x1F90), ("01", 0x1F90), ("0A", 0x1F90), ("01", 0x1F91)]:
                f.write("   0: 00000000000000000000000001000000:%04X 00000000000000000000000001000000:C350 %s 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 20 4 0 10 -1\n" % (port, st))
        with open(os.path.join(procnet, "tcp"), "w") as f:
            f.write("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
            f.write("   0: 0100007F:1F90 0100007F:C351 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0 20 4 30 10 -1\n")
        common = ("node_id: 5\nkey_id: 6\nkey: %s\n"
                  "instances:\n  - {cs_id: 1, id: 1, sids: ['2001:db8::1'], metrics: {load_pct: 1, score: 7}}\n" % KEY_HEX)
        for source, want_free in [("sessions_file: %s" % sessions, 70),
                                  ("sessions_command: 'echo 95'", 5),
                                  ("sessions_command: 'echo 150'", 0),
                                  ("sessions_tcp_port: 8080\n  proc_net_dir: %s" % procnet, 97)]:
            path = os.path.join(tmp, "agent.yaml")
            with open(path, "w") as f:
                f.write(common + "measure:\n  loadavg_path: %s\n  cpus: 2\n  max_sessions: 100\n  %s\n" % (loadavg, source))
            r = run(["--config", path, "--dump"])
            try:
                m = decode(bytes.fromhex(r.stdout.split()[0]))
                got = m["records"][0]["metrics"]
            except (ValueError, IndexError, DecodeError) as e:
                check(False, "measure (%s): %s %r" % (source.split(":")[0], e, r.stderr))
                continue
            check(got == {"load_pct": 75, "free_capacity": want_free, "score": 7},
                  "measured load 1.5/2 CPUs = 75%%, free capacity %d (%s): %r" % (want_free, source.split(":")[0], got))
            # And it says what it measured (issue 21, item 10).
            used = 100 - want_free if want_free else (150 if "150" in source else 100)
            want_log = ("cats-agent: info: measured: load_pct 75 (1-min load 1.50 over 2 CPUs, capped at 100), "
                        "free_capacity %d (%d sessions of 100)" % (want_free, used))
            check(want_log in r.stderr, "it logs what it measured: %r" % r.stderr.strip())


def wait_until(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_long_running():
    a, b = udp_socket(), udp_socket()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "node.key"), "w") as f:
            f.write(KEY_HEX + "\n")
        metrics = os.path.join(tmp, "metrics.yaml")
        with open(metrics, "w") as f:
            f.write("load_pct: 20\n")
        cfg = os.path.join(tmp, "agent.yaml")
        with open(cfg, "w") as f:
            f.write("node_id: 42\nkey_id: 7\nkey_file: node.key\n"
                    "controllers: ['127.0.0.1:%d', '[::ffff:127.0.0.1]:%d']\n"
                    "interval_s: 0.1\nlifetime_s: 2\nmetrics_file: %s\n"
                    "instances:\n"
                    "  - {cs_id: 100, id: 1, sids: ['2001:db8::1'], metrics: {score: 8, compute_types: [gpu]}}\n"
                    "  - {cs_id: 100, id: 2, sids: ['2001:db8::2', '2001:db8::3']}\n" % (port_of(a), port_of(b), metrics))
        p = subprocess.Popen([AGENT, "--config", cfg], stderr=subprocess.PIPE, text=True)
        try:
            got = {"a": [], "b": []}
            for _ in range(3):
                for name, s in (("a", a), ("b", b)):
                    d = recv(s)
                    if d is not None:
                        got[name].append(decode(d))
            check(len(got["a"]) == 3 and len(got["b"]) == 3, "advertises every interval to both controllers")
            seqs = [m["sequence"] for m in got["a"]]
            check(seqs == sorted(set(seqs)), "sequences strictly increase")
            first = got["a"][0]
            check(first["lifetime"] == 2 and [r["id"] for r in first["records"]] == [1, 2],
                  "lifetime and both instances from the YAML config")
            check(first["records"][0]["metrics"] == {"score": 8, "compute_types": 2, "load_pct": 20} and
                  first["records"][1]["metrics"] == {"load_pct": 20},
                  "config metrics with the metrics file on top: %r" % [r["metrics"] for r in first["records"]])

            # Change the load live, and one instance's score.
            tmpname = metrics + ".new"
            with open(tmpname, "w") as f:
                f.write("load_pct: 77\n'100:2': {score: 3}\n")
            os.rename(tmpname, metrics)

            def changed():
                d = recv(a, 1.0)
                if d is None:
                    return False
                m = decode(d)
                return (m["records"][0]["metrics"].get("load_pct") == 77 and
                        m["records"][1]["metrics"] == {"load_pct": 77, "score": 3})
            check(wait_until(changed), "a new metrics file is picked up without a restart")

            # A broken metrics file keeps the last good values.
            with open(metrics, "w") as f:
                f.write("load_pct: 500\n")
            time.sleep(0.3)
            while recv(a, 0.05) is not None:
                pass
            d = recv(a)
            check(d is not None and decode(d)["records"][0]["metrics"].get("load_pct") == 77,
                  "an invalid metrics file keeps the last good values")

            last_seq = 0
            while True:
                d = recv(a, 0.05)
                if d is None:
                    break
                last_seq = decode(d)["sequence"]
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=5)
            check(rc == 0, "SIGTERM: exits 0 (got %s)" % rc)
            for name, s in (("a", a), ("b", b)):
                wd = None
                while True:
                    d = recv(s, 0.5)
                    if d is None:
                        break
                    m = decode(d)
                    if m["type"] == WITHDRAW:
                        wd = m
                if check(wd is not None, "controller %s gets a WITHDRAW" % name):
                    check(wd["records"] == [{"cs_id": 100, "id": 1}, {"cs_id": 100, "id": 2}] and wd["size"] == 28 + 16 + 32,
                          "the WITHDRAW names both instances in 8-byte records")
                    if name == "a":
                        check(wd["sequence"] > last_seq, "the WITHDRAW's sequence is above every advertisement's")
            err = p.stderr.read()
            lines = err.strip().splitlines()
            check(any("advertising 2 instance(s)" in l for l in lines) and any("withdrew 2" in l for l in lines),
                  "logs the start and the withdraw")
            check(sum("metrics file" in l for l in lines) == 1, "logs the bad metrics file once: %r" % lines)
            check(len(lines) <= 4, "logs per event, not per datagram (%d lines)" % len(lines))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_dead_controller_and_sigint():
    # Nobody listens on this port: the kernel answers port unreachable and
    # the connected socket reports it on a later send.
    dead = udp_socket()
    port = port_of(dead)
    dead.close()
    live = udp_socket()
    p = subprocess.Popen([AGENT] + base_flags(port) + ["--control", "127.0.0.1:%d" % port_of(live),
                         "--interval", "0.05", "--service", "1:1:2001:db8::1"], stderr=subprocess.PIPE, text=True)
    try:
        n = 0
        end = time.time() + 1.0
        while time.time() < end:
            if recv(live, 0.5) is not None:
                n += 1
        check(n >= 10, "keeps advertising to a live controller while another is down (%d)" % n)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=5)
        check(rc == 0, "SIGINT: exits 0")
        kinds = []
        while True:
            d = recv(live, 0.3)
            if d is None:
                break
            kinds.append(decode(d)["type"])
        check(WITHDRAW in kinds, "SIGINT withdraws too")
        lines = p.stderr.read().strip().splitlines()
        fails = [l for l in lines if ("controller 127.0.0.1:%d:" % port) in l]
        check(len(fails) == 1, "a dead controller is logged once, not per datagram: %r" % lines)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    if not os.access(AGENT, os.X_OK):
        print("cannot run %s" % AGENT)
        return 1
    for t in (test_once, test_dump_and_split, test_errors, test_example_config, test_measure, test_long_running,
              test_dead_controller_and_sigint):
        try:
            t()
        except Exception as e:  # a crash in one test is one failure, not the end
            check(False, "%s raised %r" % (t.__name__, e))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
