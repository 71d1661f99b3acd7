#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration: the real cats-dataplane on net_pcap vdevs.

Input: a pcap made by scapy (tests/data/gen_lab_pcap.py), independent of the
C++ encoders. Output: checked packet by packet with scapy and decoded with
tshark:
  - every output packet is valid SRv6 (H.Encaps) that tshark decodes without
    a malformed-packet warning, or a plain forwarded IPv6 packet;
  - the inner packet is byte-identical to the IPv6 packet that came in;
  - the same flow is always on the same instance, an AFFINITY_KEY group on one
    instance, requirement-constrained flows only on allowed instances;
  - malformed packets never come out and are counted under their reason;
  - the stats JSON agrees with what came out.
A second run checks that the same input gives the same steering (no state
carried between runs: the selection is a consistent hash).

usage: test_pcap.py BUILD_DIR SOURCE_DIR
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether, UDP, rdpcap, raw, wrpcap  # noqa: E402
from scapy.layers.inet6 import ICMPv6PacketTooBig, IPv6, IPv6ExtHdrSegmentRouting  # noqa: E402

BUILD, SRC = sys.argv[1], sys.argv[2]
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
CONFIG = os.path.join(SRC, "configs", "gateway.yaml")
GEN = os.path.join(SRC, "tests", "data", "gen_lab_pcap.py")

# From configs/gateway.yaml: first SID -> (service, instance id).
INSTANCE_BY_DA = {
    "2001:db8:a1::100": (100, 1), "2001:db8:a2::100": (100, 2), "2001:db8:a3::1": (100, 3),
    "2001:db8:a2::200": (200, 1), "2001:db8:a3::200": (200, 2),
}
NEIGHBOR_MAC = {"2001:db8:a1": "02:00:00:00:00:a1", "2001:db8:a2": "02:00:00:00:00:a2",
                "2001:db8:a3": "02:00:00:00:00:a3"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def eal_runtime_dir(prefix):
    """Where EAL keeps a process's config and fbarray files (eal_get_runtime_dir)."""
    base = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def check_no_runtime_dir(prefix, what):
    check(not os.path.exists(eal_runtime_dir(prefix)),
          "%s: left %s behind" % (what, eal_runtime_dir(prefix)))


def run_dataplane(tmp, inp, tag, extra_eal=(), config=CONFIG, want_stderr=None):
    out = os.path.join(tmp, "out-%s.pcap" % tag)
    stats = os.path.join(tmp, "stats-%s.json" % tag)
    prefix = "cats-it-%d-%s" % (os.getpid(), tag)
    cmd = [DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
           "-l", "0", "--log-level", "lib.eal:error", "--no-telemetry",
           "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (inp, out), *extra_eal,
           "--", "--config", config, "--idle-exit", "300", "--stats-file", stats, "--stats", "text"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(p.stdout)
    if want_stderr is not None:
        want_stderr.append(p.stderr)
        want_stderr.append(p.stdout)
    check(p.returncode == 0, "%s: cats-dataplane exited %d: %s" % (tag, p.returncode, p.stderr[-2000:]))
    check_no_runtime_dir(prefix, tag)
    with open(stats) as fh:
        return out, json.load(fh)


def flow_key(ip6):
    """The inner packet's identity: its source address is unique per flow."""
    return ip6.src


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # The bundled sample (what tools/demo.sh runs) and a fresh one.
        fresh = os.path.join(tmp, "lab.pcap")
        subprocess.run(["/usr/bin/python3", GEN, fresh, "--seed", "7", "--flows", "24", "--packets", "3"],
                       check=True, capture_output=True)
        sample = os.path.join(SRC, "tests", "data", "lab-sample.pcap")
        where = {}
        for inp in (sample, fresh):
            where[inp] = check_one(tmp, inp)
        two_workers(tmp, sample, where[sample])
        small_mtu(tmp)
        bad_config(tmp)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


def check_one(tmp, inp):
    print("== %s" % inp)
    if True:
        manifest = json.load(open(inp + ".json"))
        flows = {f["src"]: f for f in manifest["flows"]}
        ppf = manifest["packets_per_flow"]

        # Index of the input: the IPv6 bytes of every packet.
        inputs = collections.Counter()
        for p in rdpcap(inp):
            if p.haslayer(IPv6):
                ip = raw(p[IPv6])
                plen = int.from_bytes(ip[4:6], "big")
                inputs[ip[:40 + plen]] += 1

        tag = os.path.basename(inp).split(".")[0]
        out, st = run_dataplane(tmp, inp, tag + "-a")
        outs = rdpcap(out)

        where = collections.defaultdict(set)     # flow src -> instance DAs
        encap_len = {}                           # (service, instance) -> outer bytes added, as seen
        group_where = collections.defaultdict(set)
        steered = forwarded = 0
        for p in outs:
            ip = p[IPv6]
            if ip.src == "2001:db8:ff::1":       # encapsulated by the gateway
                steered += 1
                check(ip.nh == 43, "outer next header %d, want 43 (SRH)" % ip.nh)
                srh = ip[IPv6ExtHdrSegmentRouting]
                check(srh.type == 4 and srh.nh == 41, "SRH type/nh %d/%d" % (srh.type, srh.nh))
                check(srh.segleft == len(srh.addresses) - 1 and srh.lastentry == len(srh.addresses) - 1,
                      "SRH segleft/lastentry %d/%d for %d SIDs" % (srh.segleft, srh.lastentry,
                                                                    len(srh.addresses)))
                check(srh.addresses[-1] == ip.dst, "DA %s is not Segment List[last] %s" %
                      (ip.dst, srh.addresses[-1]))
                check(ip.fl != 0, "outer flow label is 0")
                check(p.dst == NEIGHBOR_MAC[":".join(ip.dst.split(":")[:3])],
                      "dst MAC %s for DA %s" % (p.dst, ip.dst))
                inner = raw(srh.payload)
                check(inputs[inner] > 0, "inner packet not byte-identical to any input")
                check(ip.plen == len(raw(srh)), "outer payload length %d != %d" % (ip.plen, len(raw(srh))))
                iv6 = IPv6(inner)
                f = flows.get(flow_key(iv6))
                check(f is not None, "inner source %s is no flow of the manifest" % iv6.src)
                if f is None:
                    continue
                check(f["expect"] == "steer", "flow %s (%s) steered, expected %s" % (
                    f["name"], f["id"], f["expect"]))
                where[f["src"]].add(ip.dst)
                if "group" in f:
                    group_where[f["group"]].add(ip.dst)
                svc, inst = INSTANCE_BY_DA.get(ip.dst, (None, None))
                encap_len[(svc, inst)] = len(raw(ip)) - len(inner)
                want_svc = f.get("cs_id", f.get("cats", {}).get("cs_id"))
                check(svc == want_svc, "flow %s to %s: service %s, want %s" % (f["name"], ip.dst, svc, want_svc))
                if "allowed" in f:
                    check(inst in f["allowed"], "flow %s on instance %s, allowed %s" % (
                        f["name"], inst, f["allowed"]))
            else:
                forwarded += 1
                f = flows.get(ip.src)
                check(f is not None and f["expect"] == "forward", "unexpected output from %s" % ip.src)
                check(ip.hlim == 63, "forwarded hop limit %d, want 63" % ip.hlim)
                check(p.dst == NEIGHBOR_MAC["2001:db8:a1"], "forwarded to MAC %s" % p.dst)

        # Affinity: one instance per flow, one per AFFINITY_KEY group.
        for src, das in where.items():
            check(len(das) == 1, "flow %s seen on %d instances: %s" % (src, len(das), das))
        for g, das in group_where.items():
            check(len(das) == 1, "affinity group %s on %d instances: %s" % (g, len(das), das))
        # Every steerable flow came out whole; nothing else did.
        for f in manifest["flows"]:
            if f["expect"] == "steer":
                check(f["src"] in where, "flow %s (%s) never came out" % (f["id"], f["name"]))
        expect_steer = sum(ppf for f in manifest["flows"] if f["expect"] == "steer")
        expect_fwd = sum(ppf for f in manifest["flows"] if f["expect"] == "forward")
        check(steered == expect_steer, "steered %d packets, expected %d" % (steered, expect_steer))
        check(forwarded == expect_fwd, "forwarded %d packets, expected %d" % (forwarded, expect_fwd))

        # Drops by reason: every expected reason with its exact count.
        want = collections.Counter()
        for f in manifest["flows"]:
            if f["expect"].startswith("drop:"):
                want[f["expect"][5:]] += ppf
        for reason, n in manifest["malformed"].items():
            want[reason] += n
        for reason, n in st["drops"].items():
            check(n == want.get(reason, 0), "drops[%s] = %d, expected %d" % (reason, n, want.get(reason, 0)))
        t = st["totals"]
        check(t["steered"] == steered and t["forwarded"] == forwarded, "stats totals disagree with output")
        check(t["rx_packets"] == sum(1 for _ in rdpcap(inp)), "rx_packets %d" % t["rx_packets"])
        check(t["tx_packets"] == len(outs), "tx_packets %d, pcap has %d" % (t["tx_packets"], len(outs)))
        n_flows_steer = len({f["src"] for f in manifest["flows"] if f["expect"] == "steer"
                             and "group" not in f}) + len(group_where)
        check(t["new_flows"] == n_flows_steer, "new_flows %d, expected %d" % (t["new_flows"], n_flows_steer))
        per_inst = sum(i["packets"] for s in st["services"] for i in s["instances"])
        # What the stats say fits: the port's MTU (1500) less the
        # encapsulation the output packets show for that instance (each
        # instance is seen at least in the bundled sample).
        if tag == "lab-sample":
            check(set(encap_len) == set(INSTANCE_BY_DA.values()),
                  "instances seen in the output: %s" % sorted(encap_len))
        for s in st["services"]:
            for i in s["instances"]:
                k = (s["cs_id"], i["id"])
                if k in encap_len:
                    check(i["max_inner_len"] == 1500 - encap_len[k],
                          "instance %s: max_inner_len %d, output shows %d bytes of encapsulation" %
                          (k, i["max_inner_len"], encap_len[k]))
        check(per_inst == steered, "per-instance packets %d != steered %d" % (per_inst, steered))

        # tshark, an independent decoder: SRv6 decoded, nothing malformed.
        # Random payloads are data, not RTP/RTCP/TLS: no heuristic guesses.
        tsh = subprocess.run(["tshark", "-r", out, "--disable-protocol", "rtcp,rtp,tls",
                              "-d", "udp.port==5000,data", "-T", "fields", "-E", "separator=|",
                              "-e", "ipv6.src", "-e", "ipv6.routing.type", "-e", "ipv6.routing.segleft",
                              "-e", "_ws.malformed", "-e", "_ws.expert.severity"],
                             capture_output=True, text=True, timeout=120)
        check(tsh.returncode == 0, "tshark failed: " + tsh.stderr)
        srv6_lines = 0
        for line in tsh.stdout.splitlines():
            cols = line.split("|")
            check(cols[3] == "", "tshark: malformed packet: " + line)
            if cols[0].startswith("2001:db8:ff::1"):
                srv6_lines += 1
                check(cols[1].split(",")[0] == "4", "tshark: routing type %s" % cols[1])
        check(srv6_lines == steered, "tshark decoded %d SRv6 packets, expected %d" % (srv6_lines, steered))

        # Same input again: the same flows land on the same instances.
        out2, _ = run_dataplane(tmp, inp, tag + "-b")
        where2 = collections.defaultdict(set)
        for p in rdpcap(out2):
            ip = p[IPv6]
            if ip.src == "2001:db8:ff::1":
                where2[IPv6(raw(ip[IPv6ExtHdrSegmentRouting].payload)).src].add(ip.dst)
        check(where2 == where, "second run steered flows differently")
        return where


def steering_of(pcaps):
    where = collections.defaultdict(set)
    for path in pcaps:
        for p in rdpcap(path):
            ip = p[IPv6]
            if ip.src == "2001:db8:ff::1":
                where[IPv6(raw(ip[IPv6ExtHdrSegmentRouting].payload)).src].add(ip.dst)
    return where


def two_workers(tmp, inp, where_one):
    """Two worker lcores, each on its own RX/TX queue (net_pcap gives one
    queue per rx_pcap/tx_pcap pair), fed the same input: each worker has its
    own flow table, yet both steer every flow to the instance the single
    worker chose, because selection is a consistent hash."""
    print("== two workers")
    outs = [os.path.join(tmp, "out-2w-%d.pcap" % q) for q in (0, 1)]
    stats = os.path.join(tmp, "stats-2w.json")
    cmd = [DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", "cats-it-%d-2w" % os.getpid(),
           "-l", "0-1", "--log-level", "lib.eal:error", "--no-telemetry",
           "--vdev", "net_pcap0,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s" % (inp, inp, outs[0], outs[1]),
           "--", "--config", CONFIG, "--idle-exit", "300", "--stats-file", stats]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "two workers: exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    st = json.load(open(stats))
    per = st["flow_table"]["per_worker"]
    check(len(per) == 2 and per[0] > 0 and per[0] == per[1], "per-worker flow tables %s" % per)
    for q in (0, 1):
        w = steering_of([outs[q]])
        check(w == where_one, "worker %d steered differently from the single worker" % q)



def small_mtu(tmp):
    """Port MTU 1344: 1-SID instances (64 bytes of encapsulation) still
    carry 1280-byte packets, and one byte more gets a Packet Too Big; the
    3-SID instance (96 bytes) cannot, and the dataplane says so at start
    and in its stats."""
    # Two UDP datagrams for service 200 (service SID 2001:db8:5::c8, both
    # instances 1 SID): IPv6 packets of 1280 and 1281 bytes.
    def udp6(src, total):
        return (Ether(src="02:00:00:00:00:99", dst="02:00:00:00:00:01") /
                IPv6(src=src, dst="2001:db8:5::c8", hlim=64) / UDP(sport=4000, dport=5000) /
                (b"m" * (total - 48)))
    inp = os.path.join(tmp, "mtu.pcap")
    wrpcap(inp, [udp6("2001:db8:100::1", 1280), udp6("2001:db8:100::2", 1281)])
    cfg = os.path.join(tmp, "mtu1344.yaml")
    with open(CONFIG) as fh:
        text = fh.read()
    check("    mtu: 1500\n" in text, "configs/gateway.yaml no longer has 'mtu: 1500'")
    with open(cfg, "w") as fh:
        fh.write(text.replace("    mtu: 1500\n", "    mtu: 1344\n"))
    out = []
    _, st = run_dataplane(tmp, inp, "mtu1344", config=cfg, want_stderr=out)
    stderr, stdout = out
    warned = re.findall(r"warn: service (\d+) instance (\d+): port MTU 1344 less (\d+) bytes of "
                        r"encapsulation leaves (\d+), below IPv6's minimum 1280", stderr)
    check(warned == [("100", "3", "96", "1248")], "MTU warnings at start: %s" % warned)
    inner = {(s["cs_id"], i["id"]): i["max_inner_len"] for s in st["services"] for i in s["instances"]}
    check(inner == {(100, 1): 1280, (100, 2): 1280, (100, 3): 1248, (200, 1): 1280, (200, 2): 1280},
          "max_inner_len with MTU 1344: %s" % inner)
    check(stdout.count("MTU: inner packets above") == 1 and "above 1248 bytes" in stdout,
          "text stats flag the one instance: %s" % stdout[-1500:])
    encapsulated, too_big = [], []
    for p in rdpcap(os.path.join(tmp, "out-mtu1344.pcap")):
        ip = p[IPv6]
        if ip.nh == 43:
            encapsulated.append((len(raw(ip)), IPv6(raw(ip[IPv6ExtHdrSegmentRouting].payload)).src))
        elif p.haslayer(ICMPv6PacketTooBig):
            too_big.append((ip.src, ip.dst, p[ICMPv6PacketTooBig].mtu))
    check(encapsulated == [(1344, "2001:db8:100::1")], "encapsulated at MTU 1344: %s" % encapsulated)
    check(too_big == [("2001:db8:ff::1", "2001:db8:100::2", 1280)], "Packet Too Big: %s" % too_big)
    check(st["drops"]["too_big"] == 1, "too_big drops %d" % st["drops"]["too_big"])


def bad_config(tmp):
    if True:
        # A bad config is refused with the YAML path named, exit code non-zero.
        bad = os.path.join(tmp, "bad.yaml")
        with open(CONFIG) as fh:
            text = fh.read()
        with open(bad, "w") as fh:
            fh.write(text.replace("hop_limit: 64", "hop_limit: 300"))
        prefix = "cats-it-bad-%d" % os.getpid()
        p = subprocess.run([DP, "--no-huge", "-m", "256", "--no-pci", "--file-prefix",
                            prefix, "-l", "0", "--no-telemetry",
                            "--vdev", "net_null0", "--", "--config", bad],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "gateway.hop_limit" in p.stderr,
              "bad config: rc=%d stderr=%s" % (p.returncode, p.stderr[-500:]))
        check_no_runtime_dir(prefix, "bad config")


if __name__ == "__main__":
    sys.exit(main())
