#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration: cats-trafgen with the real cats-dataplane, and tshark.

  1. `cats-trafgen gen` writes the lab profile (configs/trafgen-lab.yaml) to a
     pcap; the same seed gives the same file, another seed another one.
  2. tshark decodes that pcap independently: no good packet is malformed,
     every UDP/TCP checksum is correct, the CATS option (0x1E) bytes tshark
     shows and the SRH TLV (124) bytes, decoded here from SPEC.md, carry a
     version-0 body for a CS-ID of the profile; service-SID packets go to
     <prefix>:<cs_id>.
  3. cats-dataplane steers it (net_pcap, as test_pcap.py runs it);
     `cats-trafgen analyze` reports on its output: every good packet of a
     flow that should be steered arrives, shares are within tolerance of the
     expected ones, no affinity violation, nothing that should be dropped
     arrives, and the dataplane's drop counters equal, reason by reason,
     the malformed packets trafgen says it sent plus the flows the profile
     expects dropped under that reason.
  4. The output split per instance and analyzed as FILE:INSTANCE gives the
     same per-instance counts.
  5. Live: over a veth pair in a private network namespace (AF_PACKET) and
     a DPDK net_ring loopback port, everything sent is received, with
     plausible one-way latencies; and the lab profile sent live through
     cats-dataplane (net_af_packet on a veth, output received back on its
     peer) passes the same checks as in 3.
  6. Bad input: a profile error names its YAML path (exit 2), a broken
     capture is refused with a message (exit 1).

usage: test_trafgen.py BUILD_DIR SOURCE_DIR
"""
import ipaddress
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

BUILD, SRC = sys.argv[1], sys.argv[2]
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
TG = os.path.join(BUILD, "tools", "trafgen", "cats-trafgen")
GW_CONFIG = os.path.join(SRC, "configs", "gateway.yaml")
PROFILE = os.path.join(SRC, "configs", "trafgen-lab.yaml")
SEED = "11"
CS_IDS = {100, 200, 300, 999}
APP_DST = "2001:db8:5::64"
MAGIC = b"CTG1\x01"

failures = []
# EAL --file-prefix values used, whose runtime directories are removed at
# the end (DPDK leaves /var/run/dpdk/<prefix> behind).
prefixes = []


def eal_prefix(tag):
    name = "cats-tg-%d-%s" % (os.getpid(), tag)
    prefixes.append(name)
    return name


def remove_eal_dirs():
    base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(
        os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    for name in prefixes:
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 180), **kw)
    return p


def read_pcap(path):
    """[(ts, bytes)] of a classic pcap (micro or nanosecond)."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append(((sec, frac), data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return data[:24], out


def write_pcap(path, header, records):
    with open(path, "wb") as fh:
        fh.write(header)
        for (sec, frac), b in records:
            fh.write(struct.pack("<IIII", sec, frac, len(b), len(b)) + b)


def tg_flags(frame):
    """Flags of the trafgen header (0x01 malformed), None if there is none."""
    i = frame.find(MAGIC)
    return frame[i + 5] if i >= 0 else None


def decode_body(body):
    """A CATS body per proto-defs/SPEC.md 1.3: (version, flags, cs_id, sub-TLVs)."""
    ver, flags = body[0] >> 4, body[0] & 0x0F
    cs_id = struct.unpack("!I", body[4:8])[0]
    subs, off = {}, 8
    while off + 2 <= len(body):
        t, ln = body[off], body[off + 1]
        subs[t] = body[off + 2:off + 2 + ln]
        off += 2 + ln
    return ver, flags, cs_id, subs, off == len(body)


def tshark_input(pcap):
    print("== tshark on the generated pcap")
    fields = ["frame.number", "ipv6.dst", "ipv6.nxt", "ipv6.opt.type", "ipv6.opt.experimental",
              "ipv6.routing.type", "ipv6.routing.segleft", "ipv6.routing.srh.last_entry", "ipv6.routing.len",
              "ipv6.routing.srh.addr", "udp.checksum.status", "tcp.checksum.status", "tcp.flags.syn",
              "tcp.flags.fin", "esp.spi", "_ws.malformed"]
    cmd = ["tshark", "-r", pcap, "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    # One --disable-protocol each: tshark 4.0 ignores a comma-separated list,
    # and random ports would otherwise be decoded as some application.
    for proto in ["rtcp", "rtp", "tls", "bfd", "dtls", "quic", "ssh", "http", "rpc", "nbns", "dns", "mdns", "snmp"]:
        cmd += ["--disable-protocol", proto]
    for f in fields:
        cmd += ["-e", f]
    p = run(cmd)
    check(p.returncode == 0, "tshark failed: " + p.stderr[-500:])
    _, frames = read_pcap(pcap)
    lines = p.stdout.splitlines()
    check(len(lines) == len(frames), "tshark printed %d lines for %d frames" % (len(lines), len(frames)))
    seen = {"option": 0, "srh": 0, "sid": 0, "syn": 0, "fin": 0, "esp": 0, "strict-latency": 0}
    for line, (_, frame) in zip(lines, frames):
        col = dict(zip(fields, line.split("|")))
        flags = tg_flags(frame)
        if flags is None or flags & 1:
            continue  # malformed on purpose
        n = col["frame.number"]
        check(col["_ws.malformed"] == "", "frame %s: tshark says malformed" % n)
        for proto in ("udp", "tcp"):
            st = col[proto + ".checksum.status"]
            if st:
                check(st == "1", "frame %s: %s checksum status %s (1 = good)" % (n, proto, st))
        if col["tcp.flags.syn"] == "1":
            seen["syn"] += 1
        if col["tcp.flags.fin"] == "1":
            seen["fin"] += 1
        if col["esp.spi"]:
            seen["esp"] += 1
        body = None
        if "0x1e" in col["ipv6.opt.type"].split(","):
            seen["option"] += 1
            body = bytes.fromhex(col["ipv6.opt.experimental"].replace(":", "").split(",")[0])
        elif col["ipv6.routing.type"]:
            seen["srh"] += 1
            check(col["ipv6.routing.type"] == "4" and col["ipv6.routing.segleft"] == "0" and
                  col["ipv6.routing.srh.last_entry"] == "0", "frame %s: SRH type/SL/LE %s/%s/%s" % (
                      n, col["ipv6.routing.type"], col["ipv6.routing.segleft"], col["ipv6.routing.srh.last_entry"]))
            check(col["ipv6.routing.srh.addr"] == APP_DST, "frame %s: segment %s" % (n, col["ipv6.routing.srh.addr"]))
            # tshark 4.0 does not decode SRH TLVs: read them at the offset
            # and length tshark gives (RFC 8754 2.1).
            srh = 14 + 40
            total = (int(col["ipv6.routing.len"]) + 1) * 8
            tlvs = frame[srh + 24:srh + total]
            check(tlvs[0] == 124, "frame %s: first SRH TLV type %d, want 124" % (n, tlvs[0]))
            body = tlvs[2:2 + tlvs[1]]
            rest = tlvs[2 + tlvs[1]:]
            check(rest in (b"", b"\x00") or (rest[0] == 4 and len(rest) == rest[1] + 2),
                  "frame %s: SRH TLV padding %s" % (n, rest.hex()))
        else:
            dst = ipaddress.IPv6Address(col["ipv6.dst"]).packed
            check(dst[:12] == ipaddress.IPv6Address("2001:db8:5::").packed[:12] and
                  struct.unpack("!I", dst[12:])[0] in CS_IDS,
                  "frame %s: no CATS metadata and dst %s is no service SID" % (n, col["ipv6.dst"]))
            seen["sid"] += 1
            continue
        ver, fl, cs_id, subs, exact = decode_body(body)
        check(ver == 0 and exact, "frame %s: body %s" % (n, body.hex()))
        check(cs_id in CS_IDS, "frame %s: CS-ID %d" % (n, cs_id))
        if 1 in subs and struct.unpack("!I", subs[1])[0] == 1000:
            check(fl == 8, "frame %s: latency-1000 set without the S flag" % n)
            seen["strict-latency"] += 1
    print("   seen:", seen)
    for k, v in seen.items():
        check(v > 0, "tshark saw no %s packet" % k)


def run_dataplane(tmp, inp, tag):
    out = os.path.join(tmp, "out-%s.pcap" % tag)
    stats = os.path.join(tmp, "stats-%s.json" % tag)
    cmd = [DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", eal_prefix(tag),
           "-l", "0", "--log-level", "lib.eal:error", "--no-telemetry",
           "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (inp, out),
           "--", "--config", GW_CONFIG, "--idle-exit", "300", "--stats-file", stats, "--stats", "text"]
    p = run(cmd, timeout=120)
    check(p.returncode == 0, "cats-dataplane exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    with open(stats) as fh:
        return out, json.load(fh)


def analyze(args, expect_rc=0):
    p = run([TG, "analyze", "--profile", PROFILE, "--seed", SEED, "--json", "--check"] + args)
    check(p.returncode == expect_rc, "analyze %s: exit %d: %s" % (args, p.returncode, p.stderr[-1000:]))
    return json.loads(p.stdout) if p.stdout.strip() else {}


def check_against_dataplane(r, st, what):
    """The trafgen report against the dataplane's stats: nothing lost, shares
    and affinity right, drops equal reason by reason."""
    def c(cond, msg):
        check(cond, what + ": " + msg)

    t = r["totals"]
    print("   totals:", t)
    print("   checks:", r["checks"])
    c(t["sent"] > 0 and t["received"] == t["sent"] and t["lost"] == 0,
          "sent %d received %d lost %d" % (t["sent"], t["received"], t["lost"]))
    c(t["duplicates"] == 0, "duplicates %d" % t["duplicates"])
    c(t["expected_drop_sent"] > 0 and t["expected_drop_received"] == 0,
          "expected drops sent %d received %d" % (t["expected_drop_sent"], t["expected_drop_received"]))
    c(r["affinity"]["violations"] == 0 and r["affinity"]["group_violations"] == 0,
          "affinity: %s" % r["affinity"])
    c(r["run"]["affinity_groups"] > 0, "no affinity group in the lab profile")
    c(r["rx"]["unidentified_instance"] == 0 and r["rx"]["foreign"] == 0, "rx: %s" % r["rx"])
    for s in r["services"]:
        for i in s["instances"]:
            c(i["within_tolerance"], "service %d instance %s: share %.3f, expected %.3f" % (
                s["cs_id"], i["name"], i["share"], i["expected_share"]))
    c(r["checks"]["pass"], "report checks: %s" % r["checks"])
    c(st["totals"]["steered"] == t["received"], "dataplane steered %d, trafgen received %d" % (
        st["totals"]["steered"], t["received"]))

    # Drop counters, reason by reason.
    want = dict(r["malformed"]["sent"])
    c(sum(want.values()) > 0 and len(want) == 15, "malformed kinds sent: %s" % want)
    for s in r["requirement_sets"]:
        if s["expect"] == "drop":
            want[s["drop_reason"]] = want.get(s["drop_reason"], 0) + s["expected_drop_sent"]
    for reason, n in st["drops"].items():
        c(n == want.get(reason, 0), "drops[%s] = %d, trafgen sent %d" % (reason, n, want.get(reason, 0)))
    for reason, n in want.items():
        c(st["drops"].get(reason) == n, "drops[%s] missing or %s, want %d" % (reason, st["drops"].get(reason), n))


def steering(tmp):
    print("== gen, reproducibility")
    pcap = os.path.join(tmp, "lab.pcap")
    p = run([TG, "gen", "--profile", PROFILE, "--seed", SEED, "--out", pcap])
    check(p.returncode == 0, "gen: " + p.stderr)
    print("  ", p.stdout.splitlines()[0] if p.stdout else "")
    again = os.path.join(tmp, "lab-again.pcap")
    run([TG, "gen", "--profile", PROFILE, "--seed", SEED, "--out", again])
    other = os.path.join(tmp, "lab-other.pcap")
    run([TG, "gen", "--profile", PROFILE, "--seed", "12", "--out", other])
    with open(pcap, "rb") as a, open(again, "rb") as b, open(other, "rb") as c:
        da, db, dc = a.read(), b.read(), c.read()
    check(da == db, "same seed, different pcap")
    check(da != dc, "different seed, same pcap")

    tshark_input(pcap)

    print("== cats-dataplane + analyze")
    out, st = run_dataplane(tmp, pcap, "lab")
    r = analyze(["--rx", out])
    if not r:
        return
    check_against_dataplane(r, st, "pcap")

    # Per-instance captures, named on the command line.
    print("== per-instance captures")
    by_dst = {"2001:db8:a1::100": "vid-1", "2001:db8:a2::100": "vid-2", "2001:db8:a3::1": "vid-3",
              "2001:db8:a2::200": "llm-1", "2001:db8:a3::200": "llm-2"}
    header, frames = read_pcap(out)
    per = {}
    for ts, fr in frames:
        dst = str(ipaddress.IPv6Address(fr[14 + 24:14 + 40]))
        per.setdefault(by_dst[dst], []).append((ts, fr))
    args = []
    for name, recs in per.items():
        path = os.path.join(tmp, "inst-%s.pcap" % name)
        write_pcap(path, header, recs)
        args += ["--rx", "%s:%s" % (path, name)]
    r2 = analyze(args)
    if r2:
        for s1, s2 in zip(r["services"], r2["services"]):
            check([i["packets"] for i in s1["instances"]] == [i["packets"] for i in s2["instances"]],
                  "per-instance files: %s vs %s" % (s2["instances"], s1["instances"]))
        check(r2["totals"] == r["totals"], "per-instance totals differ")

    # A wrong expectation is caught: everything of video-analytics claimed
    # by one instance gives shares far off and --check fails.
    r3 = analyze(["--rx", "%s:vid-2" % out], expect_rc=1)
    if r3:
        check(not r3["checks"]["shares_within_tolerance"], "shares check did not fail")


LIVE_PROFILE = """
flows: 40
packets_per_flow: 25
rate_pps: 10000
packet_size: {min: 100, max: 1400}
transports: [udp, tcp, esp]
encodings: [srh_tlv, dest_opt, hop_by_hop, service_sid]
services:
  - cs_id: 100
    instances:
      - {name: site-1, sids: ['2001:db8:a1::100']}
"""


def check_live(r, what):
    t = r.get("totals", {})
    check(t.get("sent") == 1000 and t.get("received") == 1000 and t.get("lost") == 0,
          "%s: totals %s" % (what, t))
    lat = r.get("latency_us", {})
    check(lat.get("plausible") is True and lat.get("samples") == 1000 and 0 < lat.get("p50", 0) < 1e6,
          "%s: latency %s" % (what, lat))
    check(r.get("tx", {}).get("pps", 0) > 0, "%s: tx %s" % (what, r.get("tx")))


def live(tmp):
    profile = os.path.join(tmp, "live.yaml")
    with open(profile, "w") as fh:
        fh.write(LIVE_PROFILE)

    print("== live, DPDK net_ring loopback")
    p = run([TG, "run", "--profile", profile, "--dpdk", "--tx", "net_ring0", "--rx", "net_ring0:site-1", "--json",
             "--", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", eal_prefix("ring"), "-l", "0",
             "--log-level", "lib.eal:error", "--no-telemetry", "--vdev", "net_ring0"])
    check(p.returncode == 0, "dpdk run: exit %d: %s" % (p.returncode, p.stderr[-1000:]))
    if p.returncode == 0:
        check_live(json.loads(p.stdout), "net_ring")

    print("== live, AF_PACKET over a veth pair in a namespace")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("   skipped: needs root and iproute2")
        return
    ns = "cats-tg-%d" % os.getpid()
    try:
        for cmd in (["ip", "netns", "add", ns],
                    ["ip", "-n", ns, "link", "add", "tga", "type", "veth", "peer", "name", "tgb"],
                    ["ip", "-n", ns, "link", "set", "tga", "up"],
                    ["ip", "-n", ns, "link", "set", "tgb", "up"]):
            q = run(cmd)
            check(q.returncode == 0, "%s: %s" % (" ".join(cmd), q.stderr))
        p = run(["ip", "netns", "exec", ns, TG, "run", "--profile", profile, "--tx", "tga", "--rx", "tgb:site-1",
                 "--json", "--linger-ms", "300"])
        check(p.returncode == 0, "af_packet run: exit %d: %s" % (p.returncode, p.stderr[-1000:]))
        if p.returncode == 0:
            check_live(json.loads(p.stdout), "af_packet")
    finally:
        run(["ip", "netns", "del", ns])


def live_dataplane(tmp):
    """The lab profile sent live into cats-dataplane on net_af_packet over a
    veth pair in a namespace, its output received back on the same veth."""
    print("== live through cats-dataplane (AF_PACKET <-> net_af_packet)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("   skipped: needs root and iproute2")
        return
    ns = "cats-tgdp-%d" % os.getpid()
    config = os.path.join(tmp, "gw-afp.yaml")
    with open(GW_CONFIG) as fh:
        text = fh.read()
    with open(config, "w") as fh:
        fh.write(text.replace("net_pcap0", "net_af_packet0"))
    stats = os.path.join(tmp, "stats-live.json")
    dp = None
    try:
        # No kernel IPv6 on the pair (no NDP/MLD frames): only trafgen talks.
        for cmd in (["ip", "netns", "add", ns],
                    ["ip", "-n", ns, "link", "add", "tgc", "type", "veth", "peer", "name", "gw"],
                    ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.tgc.disable_ipv6=1"],
                    ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.gw.disable_ipv6=1"],
                    ["ip", "-n", ns, "link", "set", "gw", "address", "02:00:00:00:00:01"],
                    ["ip", "-n", ns, "link", "set", "tgc", "up"],
                    ["ip", "-n", ns, "link", "set", "gw", "up"]):
            q = run(cmd)
            check(q.returncode == 0, "%s: %s" % (" ".join(cmd), q.stderr))
        dp = subprocess.Popen(
            ["ip", "netns", "exec", ns, DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", eal_prefix("afp"),
             "-l", "0", "--no-telemetry", "--log-level", "lib.eal:error", "--vdev", "net_af_packet0,iface=gw",
             "--", "--config", config, "--stats-file", stats],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Ready once it has said how many workers run which table (stderr).
        deadline = time.time() + 60
        ready = False
        while time.time() < deadline and dp.poll() is None:
            rlist, _, _ = select.select([dp.stderr], [], [], 1)
            if rlist:
                line = dp.stderr.readline()
                if "worker(s)" in line and "table version" in line:
                    ready = True
                    break
        check(ready, "cats-dataplane did not start: %s" % (dp.stderr.read() if dp.poll() is not None else ""))
        if not ready:
            return
        p = run(["ip", "netns", "exec", ns, TG, "run", "--profile", PROFILE, "--seed", SEED, "--tx", "tgc",
                 "--rx", "tgc", "--json", "--check", "--linger-ms", "500"])
        dp.send_signal(signal.SIGTERM)
        dp.communicate(timeout=30)
        check(dp.returncode == 0, "cats-dataplane exit %s" % dp.returncode)
        check(p.returncode == 0, "live run: exit %d: %s %s" % (p.returncode, p.stderr[-1000:], p.stdout[-3000:]))
        if not p.stdout.strip():
            return
        r = json.loads(p.stdout)
        with open(stats) as fh:
            st = json.load(fh)
        check_against_dataplane(r, st, "live")
        lat = r["latency_us"]
        print("   latency_us:", lat)
        check(lat["plausible"] and 0 < lat["p50"] < 1e6, "live: latency %s" % lat)
    finally:
        if dp is not None and dp.poll() is None:
            dp.kill()
            dp.wait()
        run(["ip", "netns", "del", ns])


def bad_input(tmp):
    print("== bad input")
    bad = os.path.join(tmp, "bad.yaml")
    with open(PROFILE) as fh:
        text = fh.read()
    with open(bad, "w") as fh:
        fh.write(text.replace("sids: [2001:db8:a2::100]", "sids: [2001:db8:a2::zz]"))
    p = run([TG, "gen", "--profile", bad, "--out", os.path.join(tmp, "never.pcap")])
    check(p.returncode == 2 and "services[0].instances[1].sids[0]" in p.stderr,
          "bad profile: rc=%d stderr=%s" % (p.returncode, p.stderr))
    broken = os.path.join(tmp, "broken.pcap")
    with open(broken, "wb") as fh:
        fh.write(b"\xd4\xc3\xb2\xa1 definitely not a pcap")
    p = run([TG, "analyze", "--profile", PROFILE, "--rx", broken])
    check(p.returncode == 1 and "broken.pcap" in p.stderr, "broken pcap: rc=%d stderr=%s" % (p.returncode, p.stderr))
    p = run([TG, "analyze", "--profile", PROFILE, "--rx", broken + ":nosuch"])
    check(p.returncode == 2 and "no instance 'nosuch'" in p.stderr, "unknown instance: rc=%d %s" % (
        p.returncode, p.stderr))


def main():
    try:
        with tempfile.TemporaryDirectory() as tmp:
            steering(tmp)
            live(tmp)
            live_dataplane(tmp)
            bad_input(tmp)
    finally:
        remove_eal_dirs()
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
