#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""cats-control's Prometheus endpoint against the real tools (issue 21).

cats-dataplane steers the lab pcap (configs/gateway.yaml, net_pcap) and
stays up; cats-control, with `metrics: {address: "::1", port: 9741}`,
connects to it. Then:
  1. a scrape of http://[::1]:9741/metrics is text format 0.0.4 and
     `promtool check metrics` (Debian's prometheus) finds nothing wrong;
  2. its counters are the dataplane's own: the port's received packets,
     steered packets and each drop reason equal `catsctl --json stats`;
  3. a real prometheus server, started here with a 1 s scrape interval,
     scrapes it, and a query through its HTTP API returns the port's
     received packets (530, the pcap's size) and cats_dataplane_up 1;
  4. another path is 404, a POST 405.
It runs in fresh mount and network namespaces (tmpfs on /run and /var/lib,
a loopback of its own), so the fixed ports are free and nothing outside is
touched.

Usage: test_metrics.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped) with one
line saying why: without root, unshare, promtool or prometheus.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import ROOT, DP, CONTROL, CATSCTL, check, wait_for, failures, isolated_main

METRICS = "http://[::1]:9741/metrics"
PROM = "127.0.0.1:9090"







def http(url, method="GET"):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return None, {}, str(e)


def samples(text):
    """name{labels} -> float"""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def inside(tmp):
    ctl_sock, dp_sock = os.path.join(tmp, "ctl.sock"), os.path.join(tmp, "dp.sock")
    cfg = os.path.join(tmp, "control.yaml")
    with open(cfg, "w") as fh:
        fh.write("""
listen: [{address: "::1", port: 7410}]
ctl_socket: %s
dataplane_socket: %s
metrics: {address: "::1", port: 9741}
policy: {startup_hold_s: 0}
services:
  - cs_id: 100
    name: video-analytics
    instances:
      - {id: 1, sids: [2001:db8:a1::100]}
      - {id: 2, sids: [2001:db8:a2::100]}
""" % (ctl_sock, dp_sock))
    procs = []
    try:
        procs.append(subprocess.Popen(
            [DP, "--no-huge", "-m", "512", "--no-pci", "-l", "0", "--no-telemetry", "--log-level", "lib.eal:error",
             "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (os.path.join(ROOT, "tests/data/lab-sample.pcap"),
                                                           os.path.join(tmp, "out.pcap")),
             "--", "--config", os.path.join(ROOT, "configs/gateway.yaml"), "--mgmt-socket", dp_sock],
            stdout=open(os.path.join(tmp, "dp.log"), "w"), stderr=subprocess.STDOUT))
        check(wait_for(lambda: os.path.exists(dp_sock), 60), "cats-dataplane is up")
        procs.append(subprocess.Popen([CONTROL, "--config", cfg], stdout=open(os.path.join(tmp, "control.log"), "w"),
                                      stderr=subprocess.STDOUT))

        def in_sync():
            p = subprocess.run([CATSCTL, "-s", ctl_sock, "dataplane", "status"], capture_output=True, timeout=30)
            return p.returncode == 0
        check(wait_for(in_sync, 30), "cats-control is in sync with it")
        # The pcap is steered in the first second; let the counters settle.
        time.sleep(1)

        # 1. The scrape and promtool.
        status, headers, body = http(METRICS)
        check(status == 200 and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              "GET /metrics: %s %s" % (status, headers.get("Content-Type")))
        p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "promtool check metrics passes on a real scrape (%d lines): %s" %
              (len(body.splitlines()), (p.stdout + p.stderr).strip()[:800]))

        # 2. The same numbers as catsctl.
        st = json.loads(subprocess.run([CATSCTL, "-s", ctl_sock, "--json", "stats"], capture_output=True,
                                       text=True, timeout=30).stdout)["dataplane"]
        s = samples(body)
        port = st["ports"][0]["name"]
        want = {'cats_port_rx_packets_total{port="%s"}' % port: st["ports"][0]["rx_packets"],
                "cats_steered_packets_total": st["totals"]["steered"],
                "cats_dropped_packets_total": st["totals"]["dropped"],
                "cats_dataplane_up": 1, "cats_control_dataplane_link_up": 1}
        for reason, n in st["drops"].items():
            want['cats_drops_total{reason="%s"}' % reason] = n
        for svc in st["services"]:
            for i in svc["instances"]:
                want['cats_instance_packets_total{cs_id="%d",instance="%d"}' % (svc["cs_id"], i["id"])] = i["packets"]
        wrong = {k: (s.get(k), v) for k, v in want.items() if s.get(k) != v}
        check(not wrong and st["ports"][0]["rx_packets"] == 530,
              "%d samples equal catsctl's stats (rx %d): %s" % (len(want), st["ports"][0]["rx_packets"], wrong))

        # 4. Not found, not allowed.
        st404, _, _ = http("http://[::1]:9741/")
        st405, h405, _ = http(METRICS, "POST")
        check(st404 == 404 and st405 == 405 and h405.get("Allow") == "GET, HEAD",
              "/ is 404, POST is 405 with Allow: %s %s %s" % (st404, st405, h405.get("Allow")))

        # 3. A real prometheus scrapes it.
        prom_cfg = os.path.join(tmp, "prometheus.yml")
        with open(prom_cfg, "w") as fh:
            fh.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                     "scrape_configs:\n  - job_name: cats\n    static_configs:\n      - targets: ['[::1]:9741']\n")
        procs.append(subprocess.Popen(
            ["prometheus", "--config.file=" + prom_cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
             "--web.listen-address=" + PROM], stdout=open(os.path.join(tmp, "prometheus.log"), "w"),
            stderr=subprocess.STDOUT))

        def query(q):
            st, _, b = http("http://%s/api/v1/query?%s" % (PROM, urllib.parse.urlencode({"query": q})))
            if st != 200:
                return None
            r = json.loads(b).get("data", {}).get("result", [])
            return float(r[0]["value"][1]) if r else None
        rx = wait_for(lambda: query('cats_port_rx_packets_total{port="%s"}' % port), 40, step=0.5)
        up = query("cats_dataplane_up")
        check(rx == 530 and up == 1, "prometheus scraped it: cats_port_rx_packets_total = %s, cats_dataplane_up = %s"
              % (rx, up))
        targets = http("http://%s/api/v1/targets" % PROM)[2]
        check('"health":"up"' in targets, "its target is healthy: %s" % targets[:300])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if failures:
            for log in ("dp.log", "control.log", "prometheus.log"):
                path = os.path.join(tmp, log)
                if os.path.exists(path):
                    print("--- %s\n%s" % (log, open(path).read()[-1500:]))


def main():
    return isolated_main(__file__, inside, "cats-metrics-", (("promtool", "prometheus"), ("prometheus", "prometheus")))


if __name__ == "__main__":
    sys.exit(main())
