#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""cats-trafgen on a terminal (issue 21, item 6 and "pictures"):

  1. the report states the share tolerance it checks against and where it
     comes from (the profile's analysis.share_tolerance, or
     --share-tolerance), in the tables and in the JSON;
  2. --plot FILE.png and --plot FILE.svg on `analyze`, over the lab profile
     (`gen --now`, so that latencies are plausible) steered by the real
     cats-dataplane on net_pcap: the PNG is a PNG of a sensible size, the
     SVG holds every instance name of the report and the titles of the three
     panels (shares, latency CDF, packets per second); the report JSON has
     the time series and per-instance latency CDF the panels are drawn
     from; a capture with no instance identified says "no latency
     samples"; a missing matplotlib is one line naming python3-matplotlib,
     exit 1; a bad file name exit 2;
  3. the progress line of a live run (DPDK net_ring loopback: no root
     needed): with --progress, newline-terminated lines with sent,
     received, rate and elapsed on stderr while --json stays clean on
     stdout; under a pty, without --progress, one line rewritten with '\\r';
     neither without a terminal nor with --no-progress; `send` over a veth
     pair in a network namespace of its own (root only) shows what it sent.

Usage: test_trafgen.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped) with one
line saying why: without cats-trafgen or python3-matplotlib.
"""
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import SKIP, ROOT, BUILD, DP, check, run, finish

TG = os.path.join(BUILD, "tools", "trafgen", "cats-trafgen")
PROFILE = os.path.join(ROOT, "configs", "trafgen-lab.yaml")
GW_CONFIG = os.path.join(ROOT, "configs", "gateway.yaml")
SEED = "11"
PANELS = ("Share per instance", "Latency CDF", "Packets per second")
PROGRESS_RE = re.compile(r"^cats-trafgen: sent (\d+)  received (\d+)  rate (\d+) pps( \(average\))?  elapsed ([\d.]+) s$")
LIVE_PROFILE = """
flows: 40
packets_per_flow: 25
rate_pps: 2000
packet_size: {min: 100, max: 400}
services:
  - cs_id: 100
    instances:
      - {name: site-1, sids: ['2001:db8:a1::100']}
"""

prefixes = []  # EAL --file-prefix values, whose runtime directories go at the end


def eal(tag, mem="256"):
    name = "cats-ops-tg-%d-%s" % (os.getpid(), tag)
    prefixes.append(name)
    return ["--no-huge", "-m", mem, "--no-pci", "--file-prefix", name, "-l", "0",
            "--log-level", "lib.eal:error", "--no-telemetry"]


def remove_eal_dirs():
    base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    for name in prefixes:
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def analyze(*args, env=None):
    return run(TG, "analyze", "--profile", PROFILE, "--seed", SEED, *args, env=env)


def steered_capture(tmp):
    """The lab profile through cats-dataplane on net_pcap (as
    tests/integration/test_pcap.py runs it): (generated pcap, output pcap)."""
    pcap = os.path.join(tmp, "lab.pcap")
    p = run(TG, "gen", "--profile", PROFILE, "--seed", SEED, "--now", "--nanosecond", "--out", pcap)
    check(p.returncode == 0, "gen: exit %d %s" % (p.returncode, p.stderr.strip()))
    out = os.path.join(tmp, "out.pcap")
    p = run(DP, *eal("dp", "512"), "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (pcap, out),
            "--", "--config", GW_CONFIG, "--idle-exit", "300", timeout=120)
    check(p.returncode == 0 and os.path.exists(out), "cats-dataplane on net_pcap: exit %d %s" % (
        p.returncode, p.stderr[-1000:]))
    return pcap, out


def tolerance(out):
    print("== the share tolerance in the report")
    p = analyze("--rx", out, "--json")
    check(p.returncode == 0, "analyze --json: exit %d %s" % (p.returncode, p.stderr.strip()))
    r = json.loads(p.stdout) if p.returncode == 0 else {}
    tol = r.get("share_tolerance", {})
    check(tol == {"value": 0.1, "from": "profile analysis.share_tolerance"}, "JSON share_tolerance: %s" % tol)
    p = analyze("--rx", out)
    check("share tolerance \u00b10.1, from profile analysis.share_tolerance" in p.stdout,
          "the tables state the profile's tolerance: %s" % [l for l in p.stdout.splitlines() if "services" in l])
    p = analyze("--rx", out, "--share-tolerance", "0.05")
    check("share tolerance \u00b10.05, from --share-tolerance" in p.stdout,
          "the tables state --share-tolerance: %s" % [l for l in p.stdout.splitlines() if "services" in l])
    p = analyze("--rx", out, "--share-tolerance", "0.05", "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["share_tolerance"] == {"value": 0.05, "from": "--share-tolerance"},
          "JSON share_tolerance with --share-tolerance: %s" % p.stdout[:200])
    return r


def series(r):
    print("== the time series and latency CDF in the report")
    tl = r.get("timeline", {})
    total = tl.get("received", [])
    check(tl.get("bin_s", 0) > 0 and total and sum(total) == r["rx"]["trafgen_packets"],
          "timeline: bin %s s, %d packets in %d bins, rx %d trafgen packets" % (
              tl.get("bin_s"), sum(total), len(total), r["rx"]["trafgen_packets"]))
    per = {i["name"]: sum(i["received"]) for i in tl.get("instances", [])}
    check(all(len(i["received"]) == len(total) for i in tl.get("instances", [])) and 0 < sum(per.values()) <= sum(total),
          "timeline per instance: %s" % per)
    cdf = r.get("latency_cdf_us", {})
    pct = cdf.get("percent", [])
    check(len(pct) > 50 and pct[0] == 0 and pct[-1] == 100 and pct == sorted(pct), "latency CDF percents: %s" % pct[:5])
    packets = {i["name"]: i["packets"] for s in r["services"] for i in s["instances"]}
    for i in cdf.get("instances", []):
        us = i["us"]
        check(i["samples"] == packets.get(i["name"]) and (i["samples"] == 0 or (len(us) == len(pct) and us == sorted(us))),
              "latency CDF of %s: %d samples for %s packets, %d points" % (
                  i["name"], i["samples"], packets.get(i["name"]), len(us)))
    check(r["latency_us"]["plausible"], "latencies plausible (gen --now): %s" % r["latency_us"])


def plots(tmp, pcap, out, r):
    print("== --plot")
    png = os.path.join(tmp, "report.png")
    p = analyze("--rx", out, "--json", "--plot", png)
    check(p.returncode == 0, "analyze --plot png: exit %d %s" % (p.returncode, p.stderr.strip()))
    try:
        json.loads(p.stdout)
        check(True, "--json stays clean on stdout with --plot")
    except ValueError:
        check(False, "--json with --plot: stdout is not JSON: %r" % p.stdout[:200])
    if check(os.path.exists(png), "the PNG is written"):
        with open(png, "rb") as fh:
            data = fh.read()
        w, h = struct.unpack("!II", data[16:24]) if len(data) >= 24 else (0, 0)
        check(data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "PNG signature and IHDR")
        check(600 <= w <= 4000 and 600 <= h <= 4000 and len(data) > 20000, "PNG %dx%d, %d bytes" % (w, h, len(data)))

    svg = os.path.join(tmp, "report.svg")
    p = analyze("--rx", out, "--plot", svg)
    check(p.returncode == 0 and os.path.exists(svg), "analyze --plot svg: exit %d %s" % (p.returncode, p.stderr.strip()))
    text = open(svg, encoding="utf-8").read() if os.path.exists(svg) else ""
    names = [i["name"] for s in r.get("services", []) for i in s["instances"]]
    check(len(names) >= 2, "instances in the report: %s" % names)
    for name in names:
        check(name in text, "the SVG names instance %s" % name)
    for panel in PANELS:
        check(panel in text, "the SVG has the panel '%s'" % panel)
    check("no latency samples" not in text, "the latency panel is drawn")
    check("tolerance \u00b10.1" in text, "the share panel states the tolerance")

    # The generated pcap as the capture: not encapsulated, so no instance
    # is identified and no latency is per instance.
    bare = os.path.join(tmp, "bare.svg")
    p = analyze("--rx", pcap, "--plot", bare)
    check(p.returncode == 0 and "no latency samples" in open(bare).read() if os.path.exists(bare) else False,
          "no instance identified: the panel says 'no latency samples' (exit %d %s)" % (p.returncode, p.stderr.strip()))

    # Without matplotlib: one line naming the Debian package, exit 1.
    fake = os.path.join(tmp, "no-mpl")
    os.makedirs(os.path.join(fake, "matplotlib"))
    with open(os.path.join(fake, "matplotlib", "__init__.py"), "w") as fh:
        fh.write("raise ImportError('No module named matplotlib')\n")
    nompl = os.path.join(tmp, "nompl.png")
    p = analyze("--rx", out, "--plot", nompl, env=dict(os.environ, PYTHONPATH=fake))
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 1 and len(lines) == 1 and "python3-matplotlib" in lines[0] and not os.path.exists(nompl),
          "no matplotlib: exit %d, %r" % (p.returncode, p.stderr))
    p = run(TG, "run", "--profile", PROFILE, "--rx", "lo", "--plot", nompl, env=dict(os.environ, PYTHONPATH=fake))
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 1 and len(lines) == 1 and "python3-matplotlib" in lines[0],
          "no matplotlib: `run` stops before it starts: exit %d, %r" % (p.returncode, p.stderr))
    p = analyze("--rx", out, "--plot", os.path.join(tmp, "x.pdf"))
    check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and ".png or .svg" in p.stderr,
          "--plot x.pdf: exit %d %r" % (p.returncode, p.stderr))
    p = analyze("--rx", out, "--plot", png, env=dict(os.environ, CATS_PLOT=os.path.join(tmp, "nosuch.py")))
    check(p.returncode == 1 and "CATS_PLOT=" in p.stderr, "CATS_PLOT to a missing file: exit %d %r" % (
        p.returncode, p.stderr))


def run_pty(cmd, timeout=60):
    """Run with stderr on a pty (stdout a pipe): (exit status, stdout,
    what was written to the terminal)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    term, out = b"", b""
    end = time.time() + timeout
    fds = [master, proc.stdout.fileno()]
    while fds and time.time() < end:
        ready, _, _ = select.select(fds, [], [], 0.5)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the pty's last writer has gone
                data = b""
            if not data:
                fds.remove(fd)
            elif fd == master:
                term += data
            else:
                out += data
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    os.close(master)
    return proc.returncode, out.decode(errors="replace"), term.decode(errors="replace")


def progress(tmp):
    profile = os.path.join(tmp, "live.yaml")
    with open(profile, "w") as fh:
        fh.write(LIVE_PROFILE)

    def ring_run(tag, *flags):
        return [TG, "run", "--profile", profile, "--duration", "2.5", "--dpdk", "--tx", "net_ring0",
                "--rx", "net_ring0:site-1", "--json", "--linger-ms", "200", *flags,
                "--", *eal(tag), "--vdev", "net_ring0"]

    print("== --progress over a DPDK net_ring loopback")
    p = run(*ring_run("lines", "--progress"), timeout=60)
    check(p.returncode == 0, "run --progress: exit %d %s" % (p.returncode, p.stderr[-500:]))
    lines = [l for l in p.stderr.splitlines() if "elapsed" in l]
    print("  ", lines)
    parsed = [PROGRESS_RE.match(l) for l in lines]
    check(len(lines) >= 3 and all(parsed), "at least 3 progress lines of sent/received/rate/elapsed: %s" % lines)
    check("\r" not in p.stderr, "--progress writes plain lines, no '\\r'")
    if all(parsed) and parsed:
        last = parsed[-1]
        check(last.group(4) is not None and int(last.group(1)) == 5000 and int(last.group(2)) == 5000,
              "the last line: everything sent and received, the average rate: %s" % lines[-1])
        check(any(1000 <= int(m.group(3)) <= 3000 for m in parsed[:-1]), "a rate near the profile's 2000 pps: %s" % lines)
        el = [float(m.group(5)) for m in parsed]
        check(el == sorted(el) and el[-1] >= 2.5, "elapsed grows to the run's length: %s" % el)
    try:
        r = json.loads(p.stdout)
        check(r["totals"]["sent"] == 5000 and r["totals"]["received"] == 5000, "--json on stdout: %s" % r["totals"])
    except (ValueError, KeyError):
        check(False, "--progress --json: stdout is not the report: %r" % p.stdout[:200])

    p = run(*ring_run("quiet"), timeout=60)
    check(p.returncode == 0 and "elapsed" not in p.stderr, "no terminal, no --progress: no progress (%r)" % p.stderr[-300:])

    print("== on a terminal (pty)")
    rc, out, term = run_pty(ring_run("tty"))
    check(rc == 0, "run on a pty: exit %d %s" % (rc, term[-300:]))
    updates = [u for u in term.split("\r") if "elapsed" in u]
    print("  ", repr(term[:200]), "...", len(updates), "updates")
    check(len(updates) >= 8, "the line is rewritten with '\\r' about 4 times a second (%d updates in ~3 s)" % len(updates))
    check(all(PROGRESS_RE.match(u.replace("\x1b[K", "").rstrip("\n")) for u in updates),
          "each update is sent/received/rate/elapsed: %r" % updates[:3])
    check(term.endswith("\n"), "the line ends with a newline at the end of the run")
    try:
        json.loads(out)
        check(True, "stdout (a pipe) holds only the JSON report")
    except ValueError:
        check(False, "stdout is not JSON: %r" % out[:200])
    rc, out, term = run_pty(ring_run("tty-off", "--no-progress"))
    check(rc == 0 and "elapsed" not in term, "--no-progress on a pty: nothing (%r)" % term[-200:])
    p = run(TG, "run", "--profile", profile, "--rx", "lo", "--progress", "--no-progress")
    check(p.returncode == 2, "--progress with --no-progress is refused (exit %d)" % p.returncode)

    print("== send over a veth pair (AF_PACKET)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("   skipped: needs root and iproute2")
        return
    ns = "cats-ops-tg-%d" % os.getpid()
    try:
        for cmd in (["ip", "netns", "add", ns],
                    ["ip", "-n", ns, "link", "add", "tga", "type", "veth", "peer", "name", "tgb"],
                    ["ip", "-n", ns, "link", "set", "tga", "up"],
                    ["ip", "-n", ns, "link", "set", "tgb", "up"]):
            q = run(*cmd)
            check(q.returncode == 0, "%s: %s" % (" ".join(cmd), q.stderr.strip()))
        p = run("ip", "netns", "exec", ns, TG, "send", "--profile", profile, "--duration", "1.5", "--tx", "tga",
                "--progress", timeout=60)
        lines = [l for l in p.stderr.splitlines() if "elapsed" in l]
        print("  ", lines)
        check(p.returncode == 0 and len(lines) >= 2, "send --progress: exit %d, %s" % (p.returncode, p.stderr[-300:]))
        check(all(re.match(r"^cats-trafgen: sent \d+  rate \d+ pps( \(average\))?  elapsed [\d.]+ s$", l) for l in lines)
              and lines and lines[-1].startswith("cats-trafgen: sent 3000 "),
              "send: sent, rate and elapsed, no received; 3000 sent at the end: %s" % lines)
    finally:
        run("ip", "netns", "del", ns)


def main():
    for path in (TG, DP):
        if not os.access(path, os.X_OK):
            print("SKIP: %s is not built" % path)
            return SKIP
    if run("/usr/bin/python3", "-c", "import matplotlib").returncode != 0:
        print("SKIP: matplotlib is not installed (Debian: python3-matplotlib)")
        return SKIP
    try:
        with tempfile.TemporaryDirectory(prefix="cats-ops-tg-") as tmp:
            pcap, out = steered_capture(tmp)
            if os.path.exists(out):
                r = tolerance(out)
                if r:
                    series(r)
                    plots(tmp, pcap, out, r)
            progress(tmp)
    finally:
        remove_eal_dirs()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
