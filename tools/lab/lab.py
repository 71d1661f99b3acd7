#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The cats lab on one machine: network namespaces, veth pairs, the real
binaries, Linux SRv6 compute nodes (or cats-dataplane as a node's egress).

  tools/lab/lab.py up [--build DIR] [--name NAME] [--cats-egress N[,N]]
                                                    create the lab, start everything
  tools/lab/lab.py status [--name NAME]             namespaces, processes, table, kernel counters
  tools/lab/lab.py traffic PROFILE [--name NAME] [-- TRAFGEN OPTIONS]
                                                    cats-trafgen run through the lab, report
  tools/lab/lab.py ctl [--name NAME] -- CATSCTL ARGS  catsctl against the lab's cats-control
  tools/lab/lab.py agent N kill|stop|start [--name NAME]
  tools/lab/lab.py metrics N KEY=VALUE... [--name NAME]
  tools/lab/lab.py node N fail|restore [--name NAME]
  tools/lab/lab.py control restart [--kill] [--name NAME]
  tools/lab/lab.py down [--name NAME]               remove everything the lab created

Topology and addresses: tools/lab/README.md. Everything `up` creates is
named after the lab (namespaces NAME-tg, NAME-gw, NAME-n1..3; EAL file
prefixes NAME and, for a node running cats-dataplane, NAME-nN; state in
/run/cats-lab/NAME) and removed by `down`, and by `up` itself when it fails
midway. tests/lab/test_lab.py imports this file.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernel_srv6  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_BASE = "/run/cats-lab"
DEFAULT_NAME = "catslab"
NODES = (1, 2, 3)
# CS-ID -> the prefix of its instance names (= the tester's receive ports).
SERVICES = {100: ("vid", "video-analytics"), 200: ("llm", "llm-inference")}
INSTANCES = ["%s-%d" % (SERVICES[cs][0], n) for cs in SERVICES for n in NODES]
INTERVAL_S = 0.5            # agents advertise every INTERVAL_S ...
LIFETIME_S = 2              # ... with this lifetime
AFFINITY_TIMEOUT_S = 30
CONTROL_PORT = 7410
MGMT_PREFIX = "fdca:75:1::"  # ULA management network (agents -> cats-control)
ENCAP_SOURCE = "2001:db8:ff::1"   # the gateway's H.Encaps source: the policies' source at the nodes
# A node that runs cats-dataplane as its egress (`up --cats-egress N`):
# its DPDK ports, in this order, are its three data interfaces.
EGRESS_PORTS = ("up0",) + tuple(SERVICES[cs][0] for cs in SERVICES)
# The compute nodes' metrics at `up`: node 1 near and CPU only, node 2 near
# with CPU and GPU, node 3 far (5 ms) and GPU only; loads 10/40/70 %, so the
# effective weights (weight x (100 - load)/100 x (score + 1)/11) are
# 81.82 / 54.55 / 27.27: shares 1/2, 1/3, 1/6.
NODE_METRICS = {
    1: {"load_pct": 10, "score": 9, "latency_us": 200, "compute_types": ["cpu"]},
    2: {"load_pct": 40, "score": 9, "latency_us": 400, "compute_types": ["cpu", "gpu"]},
    3: {"load_pct": 70, "score": 9, "latency_us": 5000, "compute_types": ["gpu"]},
}
KEYS = {n: "%064x" % (0xCA75 * (n + 1) * 0x100010001000100010001) for n in NODES}


class LabError(Exception):
    """A lab step failed; the message says which and why."""


# MAC addresses are fixed so that configs and trafgen profiles are static.
def mac(*octets):
    return "02:ca:75:" + ":".join("%02x" % o for o in octets)


TESTER_MAC = mac(3, 0, 0)           # the client port (trafgen sends here)
GW_MAC = {p: mac(1, 0, p) for p in range(4)}   # gateway port p (0: client side, n: node n)
NODE_MAC = {n: mac(2, n, 0) for n in NODES}     # node n, towards the gateway


def app_mac(node, k, tester):
    """Node `node`'s link to the app of service index k (1 video, 2 llm):
    the node end, or the tester end."""
    return mac(3 if tester else 2, node, k)


def sid(node, cs):
    return "2001:db8:a%d::%d" % (node, cs)


def sh(*args, ns=None, check=True, timeout=30):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError("%s: timed out after %d s" % (" ".join(cmd), timeout))
    if check and p.returncode != 0:
        raise LabError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def tail(path, n=3000):
    try:
        with open(path, errors="replace") as fh:
            return fh.read()[-n:]
    except OSError:
        return ""


# The dataplane's management socket (proto-defs/mgmt_wire.hpp, version 0):
# a 16-byte header {magic "CATM", version, type, payload length, seq}, then
# the payload; one answer per request, with the same seq. The lab asks an
# egress node's dataplane, which has no cats-control of its own, for its
# stats this way: STATS_REQ (empty) -> STATS (JSON text).
MGMT_MAGIC, MGMT_VERSION = 0x4341544D, 0
MGMT_STATS_REQ, MGMT_STATS = 5, 6
MGMT_MAX_PAYLOAD = 32 << 20
MGMT_HEADER = struct.Struct("!IHHII")


def mgmt_stats(path, timeout=5.0):
    """The stats JSON of the cats-dataplane listening on `path`."""
    def recv_exact(s, n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise LabError("%s: the dataplane closed the connection" % path)
            buf += chunk
        return buf

    seq = os.getpid() & 0xFFFFFFFF
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            s.sendall(MGMT_HEADER.pack(MGMT_MAGIC, MGMT_VERSION, MGMT_STATS_REQ, 0, seq))
            magic, version, mtype, length, rseq = MGMT_HEADER.unpack(recv_exact(s, MGMT_HEADER.size))
            if magic != MGMT_MAGIC or version != MGMT_VERSION or length > MGMT_MAX_PAYLOAD:
                raise LabError("%s: not a version %d management answer (magic %#x, version %d, length %d)" % (
                    path, MGMT_VERSION, magic, version, length))
            payload = recv_exact(s, length)
    except OSError as e:
        raise LabError("%s: %s" % (path, e))
    if mtype != MGMT_STATS or rseq != seq:
        raise LabError("%s: answer type %d seq %d to STATS_REQ seq %d: %s" % (
            path, mtype, rseq, seq, payload[:200].decode(errors="replace")))
    try:
        return json.loads(payload)
    except ValueError as e:
        raise LabError("%s: the stats are not JSON: %s" % (path, e))


class Lab:
    def __init__(self, name=DEFAULT_NAME, build=None):
        if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", name):
            raise LabError("--name: 1..12 lowercase letters and digits, starting with a letter, got '%s'" % name)
        self.name = name
        self.dir = os.path.join(RUN_BASE, name)
        self.state_path = os.path.join(self.dir, "state.json")
        self.state = {}
        if os.path.exists(self.state_path):
            try:
                with open(self.state_path) as fh:
                    self.state = json.load(fh)
            except (OSError, ValueError) as e:
                # `down` still works from the names alone.
                print("lab.py: %s: unreadable (%s); going by the lab's names" % (self.state_path, e),
                      file=sys.stderr)
        self.build = os.path.abspath(build or self.state.get("build") or os.path.join(SRC, "build"))
        self.procs = {}      # role -> Popen, for processes started by this object
        self.reports = 0

    # ------------------------------------------------------------------
    # Names and paths

    def ns(self, role):
        return "%s-%s" % (self.name, role)

    def namespaces(self):
        return [self.ns(r) for r in ["tg", "gw"] + ["n%d" % n for n in NODES]]

    def bin(self, rel):
        return os.path.join(self.build, rel)

    @property
    def egress_nodes(self):
        """The nodes whose egress is cats-dataplane (`up --cats-egress`),
        not their kernel."""
        return tuple(self.state.get("cats_egress", ()))

    def is_cats_egress(self, n):
        return n in self.egress_nodes

    def egress_prefix(self, n):
        """Node n's dataplane's EAL file prefix (/var/run/dpdk/<prefix>)."""
        return "%s-n%d" % (self.name, n)

    @property
    def dataplane_bin(self):
        return self.bin("dataplane/cats-dataplane")

    @property
    def control_bin(self):
        return self.bin("control/cats-control")

    @property
    def agent_bin(self):
        return self.bin("tools/agent/cats-agent")

    @property
    def catsctl_bin(self):
        return self.bin("tools/catsctl/catsctl")

    @property
    def trafgen_bin(self):
        return self.bin("tools/trafgen/cats-trafgen")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _save(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.state, fh, indent=2)
        os.replace(tmp, self.state_path)

    # ------------------------------------------------------------------
    # up / down

    def is_up(self):
        existing = set(sh("ip", "netns", "list").split())
        return os.path.exists(self.state_path) or any(n in existing for n in self.namespaces())

    def preflight(self):
        """What `up` needs, checked before it creates anything: root, the
        built binaries, the tools, and a kernel that can terminate SRv6
        (kernel_srv6). Returns the SRv6 termination mode; raises LabError
        with one sentence saying what is missing and how to get it."""
        if os.geteuid() != 0:
            raise LabError("needs root (network namespaces, AF_PACKET): run it with sudo")
        for b in (self.dataplane_bin, self.control_bin, self.agent_bin, self.catsctl_bin, self.trafgen_bin):
            if not os.access(b, os.X_OK):
                raise LabError("%s is not built: run `meson setup %s && ninja -C %s`, or give --build DIR" % (
                    b, self.build, self.build))
        for tool in ("ip", "sysctl", "dumpcap", "tshark", "nft"):
            if shutil.which(tool) is None:
                raise LabError("%s is not installed: tools/install-deps.sh installs it" % tool)
        for knob in ("net/ipv6/conf/all/seg6_enabled", "net/ipv6/conf/all/forwarding"):
            if not os.path.exists("/proc/sys/" + knob):
                raise LabError("the sysctl %s is missing: the kernel needs CONFIG_IPV6" % knob.replace("/", "."))
        try:
            return kernel_srv6.detect()
        except kernel_srv6.Unsupported as e:
            raise LabError("%s; use a kernel built with it" % e)
        except ValueError as e:
            raise LabError(str(e))

    def up(self, lcore=0, log=print, cats_egress=(), egress_lcore=None):
        """Create the lab and start everything. cats_egress: the nodes that
        terminate SRv6 with cats-dataplane (End.DX6) instead of their kernel;
        their dataplanes run on egress_lcore (default: the CPU after
        `lcore`), each with a file prefix of its own."""
        cats_egress = tuple(sorted(set(cats_egress)))
        bad = [n for n in cats_egress if n not in NODES]
        if bad:
            raise LabError("--cats-egress: no node %s (the nodes are %s)" % (
                ",".join(map(str, bad)), ",".join(map(str, NODES))))
        if egress_lcore is None:
            egress_lcore = (lcore + 1) % (os.cpu_count() or 1)
        mode = self.preflight()
        if self.is_up():
            raise LabError("lab '%s' is already up, or left over: run `lab.py down --name %s` first" % (
                self.name, self.name))
        try:
            os.makedirs(self.dir, mode=0o700)
            self.state = {"name": self.name, "build": self.build, "pids": {}, "started": time.time(),
                          "srv6_termination": mode, "cats_egress": list(cats_egress),
                          "lcore": lcore, "egress_lcore": egress_lcore}
            self._save()
        except OSError as e:
            self._remove_run_dirs()
            raise LabError("cannot create the lab's state directory %s: %s" % (self.dir, e))
        kernel_nodes = [n for n in NODES if n not in cats_egress]
        if kernel_nodes:
            log("lab %s: the kernels of node%s %s terminate SRv6 with %s" % (
                self.name, "s" if len(kernel_nodes) > 1 else "", ",".join(map(str, kernel_nodes)),
                "seg6local End.DX6" if mode == kernel_srv6.SEG6LOCAL else
                "the core SRH processing (local SIDs, nftables counters): no seg6local in this kernel"
                if mode == kernel_srv6.CORE and "CATS_SRV6_TERMINATION" not in os.environ else
                "the core SRH processing (local SIDs, nftables counters)"))
        if cats_egress:
            log("lab %s: node%s %s terminate%s SRv6 with cats-dataplane End.DX6 (lcore %d)" % (
                self.name, "s" if len(cats_egress) > 1 else "", ",".join(map(str, cats_egress)),
                "" if len(cats_egress) > 1 else "s", egress_lcore))
        t0 = time.time()
        try:
            self._topology()
            log("lab %s: namespaces and links up (%.1f s)" % (self.name, time.time() - t0))
            self._configs()
            self._start_dataplane(lcore)
            for n in cats_egress:
                self._start_egress(n, egress_lcore)
            self._start_control()
            for n in NODES:
                self.write_metrics(n, NODE_METRICS[n])
                self.start_agent(n)
            self.wait_in_sync(expect=len(NODES) * len(SERVICES), timeout=30)
            log("lab %s: up in %.1f s: %d instances in the dataplane" % (
                self.name, time.time() - t0, len(NODES) * len(SERVICES)))
        except BaseException:
            log("lab %s: up failed, removing what was made" % self.name)
            for f in ["dataplane.log", "control.log"] + ["egress%d.log" % n for n in cats_egress]:
                if os.path.exists(self.path(f)):
                    log("---- %s\n%s" % (f, tail(self.path(f))))
            self.down(log=lambda *_: None)
            raise

    def _topology(self):
        for n in self.namespaces():
            sh("ip", "netns", "add", n)
        tg, gw = self.ns("tg"), self.ns("gw")

        def veth(ns_a, a, mac_a, ns_b, b, mac_b):
            sh("ip", "link", "add", a, "netns", ns_a, "address", mac_a, "type", "veth",
               "peer", "name", b, "netns", ns_b, "address", mac_b)

        def no_ipv6(ns, dev):
            # Before the link comes up: no MLD, RS or DAD from this port.
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev, ns=ns)

        # Tester (client) <-> gateway port 0.
        veth(tg, "c0", TESTER_MAC, gw, "p0", GW_MAC[0])
        # Gateway port n <-> node n; node n <-> the tester's app ports.
        for n in NODES:
            node = self.ns("n%d" % n)
            veth(gw, "p%d" % n, GW_MAC[n], node, "up0", NODE_MAC[n])
            for k, cs in enumerate(SERVICES, 1):
                prefix = SERVICES[cs][0]
                veth(node, prefix, app_mac(n, k, False), tg, "%s-%d" % (prefix, n), app_mac(n, k, True))
        # Management network: a bridge in the gateway namespace, one leg per node.
        sh("ip", "link", "add", "mgmt", "type", "bridge", "mcast_snooping", "0", ns=gw)
        for n in NODES:
            sh("ip", "link", "add", "m%d" % n, "netns", gw, "type", "veth", "peer", "name", "mg0",
               "netns", self.ns("n%d" % n))
            sh("ip", "link", "set", "m%d" % n, "master", "mgmt", ns=gw)

        # The tester's and the gateway's data ports carry no kernel IPv6: the
        # tester's are only trafgen's, the gateway's belong to DPDK.
        for d in ["c0"] + INSTANCES:
            no_ipv6(tg, d)
        for p in range(4):
            no_ipv6(gw, "p%d" % p)
        for d in ["c0", "lo"] + INSTANCES:
            sh("ip", "link", "set", d, "up", ns=tg)
        for d in ["p0", "p1", "p2", "p3", "mgmt", "m1", "m2", "m3", "lo"]:
            sh("ip", "link", "set", d, "up", ns=gw)
        sh("ip", "-6", "addr", "add", MGMT_PREFIX + "1/64", "dev", "mgmt", "nodad", ns=gw)

        for n in NODES:
            node = self.ns("n%d" % n)
            if self.is_cats_egress(n):
                # cats-dataplane owns the node's data interfaces (net_af_packet
                # on up0, vid, llm) and terminates the tunnel itself: like the
                # gateway's ports they carry no kernel IPv6, so the node's
                # kernel neither answers nor forwards there. The management
                # leg stays the kernel's: the agent talks to cats-control.
                for d in EGRESS_PORTS:
                    no_ipv6(node, d)
                for d in EGRESS_PORTS + ("mg0", "lo"):
                    sh("ip", "link", "set", d, "up", ns=node)
                sh("ip", "-6", "addr", "add", "%s1%d/64" % (MGMT_PREFIX, n), "dev", "mg0", "nodad", ns=node)
                continue
            self.srv6_node(n).enable("up0")
            for d in ["up0", "mg0", "lo"] + [SERVICES[cs][0] for cs in SERVICES]:
                sh("ip", "link", "set", d, "up", ns=node)
            sh("ip", "-6", "addr", "add", "2001:db8:ff:%d::2/64" % n, "dev", "up0", "nodad", ns=node)
            sh("ip", "-6", "addr", "add", "%s1%d/64" % (MGMT_PREFIX, n), "dev", "mg0", "nodad", ns=node)
            for k, cs in enumerate(SERVICES, 1):
                dev = SERVICES[cs][0]
                link = "2001:db8:e%d:%d::" % (n, k)
                sh("ip", "-6", "addr", "add", link + "1/64", "dev", dev, "nodad", ns=node)
                # The tester's app port runs no IPv6: a static neighbor.
                sh("ip", "-6", "neigh", "add", link + "2", "lladdr", app_mac(n, k, True), "dev", dev,
                   "nud", "permanent", ns=node)
                # The node's kernel terminates the tunnel: End.DX6 towards
                # the app (seg6local never delivers locally without a VRF),
                # counted per SID (kernel_srv6).
                self.srv6_node(n).dx6(sid(n, cs), link + "2", dev)

    def _configs(self):
        neighbors = "\n".join(
            '  - {address: "2001:db8:ff:%d::2", mac: "%s", port: net_af_packet%d}' % (n, NODE_MAC[n], n)
            for n in NODES)
        routes = "\n".join('  - {prefix: "2001:db8:a%d::/48", via: "2001:db8:ff:%d::2"}' % (n, n) for n in NODES)
        with open(self.path("gateway.yaml"), "w") as fh:
            fh.write("""# cats lab gateway (written by tools/lab/lab.py)
gateway:
  encap_source: %s
  service_sid_prefix: 2001:db8:5::/96
  flow_table_size: 65536
ports:
%s
neighbors:
%s
routes:
%s
services: []
""" % (ENCAP_SOURCE, "\n".join("  - {name: net_af_packet%d}" % p for p in range(4)), neighbors, routes))
        for n in self.egress_nodes:
            self._egress_config(n)
        peers = "\n".join('  - {node_id: %d, key_id: %d, key: "%s", name: node%d}' % (n, n, KEYS[n], n)
                          for n in NODES)
        services = "\n".join("  - {cs_id: %d, name: %s, affinity_timeout_s: %d, instances: []}" % (
            cs, SERVICES[cs][1], AFFINITY_TIMEOUT_S) for cs in SERVICES)
        with open(self.path("control.yaml"), "w") as fh:
            fh.write("""# cats lab control (written by tools/lab/lab.py)
listen: [{address: "%s1", port: %d}]
ctl_socket: %s
dataplane_socket: %s
peers:
%s
policy: {metric_threshold_pct: 5, max_pushes_per_s: 4, startup_hold_s: 1}
services:
%s
""" % (MGMT_PREFIX, CONTROL_PORT, self.path("ctl.sock"), self.path("dp.sock"), peers, services))

    def _egress_config(self, n):
        """Node n's cats-dataplane as the SRv6 egress: End.DX6 per instance
        SID towards the tester's port of that instance, as the kernel nodes
        do (a static neighbor each: the tester runs no NDP). No services,
        no routes: what is not for a local SID is dropped (no_route)."""
        ports = "\n".join("  - {name: net_af_packet%d}   # %s" % (i, d) for i, d in enumerate(EGRESS_PORTS))
        neighbors, sids = [], []
        for k, cs in enumerate(SERVICES, 1):
            nh = "2001:db8:e%d:%d::2" % (n, k)
            neighbors.append('  - {address: "%s", mac: "%s", port: net_af_packet%d}' % (
                nh, app_mac(n, k, True), EGRESS_PORTS.index(SERVICES[cs][0])))
            sids.append('  - {sid: "%s", behavior: End.DX6, next_hop: "%s"}   # %s' % (
                sid(n, cs), nh, SERVICES[cs][1]))
        with open(self.path("n%d-egress.yaml" % n), "w") as fh:
            fh.write("""# cats lab node %d: cats-dataplane as the SRv6 egress (written by tools/lab/lab.py)
gateway:
  # The node's own address (the source of its ICMPv6 errors); it
  # encapsulates nothing.
  encap_source: "2001:db8:ff:%d::2"
  flow_table_size: 1024
  # Per (outer source, SID) accounting: the gateway's policies.
  policy_table_size: 64
ports:
%s
neighbors:
%s
local_sids:
%s
services: []
""" % (n, n, ports, "\n".join(neighbors), "\n".join(sids)))

    def _spawn(self, role, cmd, ns=None):
        full = (["ip", "netns", "exec", ns] if ns else []) + cmd
        logf = open(self.path(role + ".log"), "a")
        # A session of its own: the lab outlives `lab.py up`, and a Ctrl-C
        # in the shell that ran `up` does not reach it.
        p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             start_new_session=True)
        logf.close()
        self.procs[role] = p
        self.state["pids"][role] = p.pid
        self._save()
        return p

    def _start_dataplane(self, lcore):
        cmd = [self.dataplane_bin, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", self.name,
               "-l", str(lcore), "--no-telemetry", "--log-level", "lib.eal:error"]
        for p in range(4):
            cmd += ["--vdev", "net_af_packet%d,iface=p%d" % (p, p)]
        cmd += ["--", "--config", self.path("gateway.yaml"), "--mgmt-socket", self.path("dp.sock"),
                "--stats-file", self.path("dataplane-stats.json")]
        p = self._spawn("dataplane", cmd, ns=self.ns("gw"))
        deadline = time.time() + 60
        while time.time() < deadline:
            if p.poll() is not None:
                raise LabError("cats-dataplane exited %s:\n%s" % (p.returncode, tail(self.path("dataplane.log"))))
            if "worker(s)" in tail(self.path("dataplane.log"), 100000) and os.path.exists(self.path("dp.sock")):
                return
            time.sleep(0.2)
        raise LabError("cats-dataplane did not start within 60 s:\n%s" % tail(self.path("dataplane.log")))

    def _start_egress(self, n, lcore):
        """cats-dataplane in node n's namespace on its three data
        interfaces, with a management socket of its own (read by
        egress_stats; no cats-control talks to it)."""
        role = "egress%d" % n
        sock = self.path("n%d-dp.sock" % n)
        cmd = [self.dataplane_bin, "--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.egress_prefix(n),
               "-l", str(lcore), "--no-telemetry", "--log-level", "lib.eal:error"]
        for i, d in enumerate(EGRESS_PORTS):
            cmd += ["--vdev", "net_af_packet%d,iface=%s" % (i, d)]
        cmd += ["--", "--config", self.path("n%d-egress.yaml" % n), "--mgmt-socket", sock,
                "--stats-file", self.path("n%d-egress-stats.json" % n)]
        p = self._spawn(role, cmd, ns=self.ns("n%d" % n))
        deadline = time.time() + 60
        while time.time() < deadline:
            if p.poll() is not None:
                raise LabError("cats-dataplane of node %d exited %s:\n%s" % (n, p.returncode,
                                                                               tail(self.path(role + ".log"))))
            if "worker(s)" in tail(self.path(role + ".log"), 100000) and os.path.exists(sock):
                return
            time.sleep(0.2)
        raise LabError("cats-dataplane of node %d did not start within 60 s:\n%s" % (n, tail(self.path(role + ".log"))))

    def _start_control(self):
        p = self._spawn("control", [self.control_bin, "--config", self.path("control.yaml")], ns=self.ns("gw"))
        deadline = time.time() + 20
        while time.time() < deadline:
            if p.poll() is not None:
                raise LabError("cats-control exited %s:\n%s" % (p.returncode, tail(self.path("control.log"))))
            if os.path.exists(self.path("ctl.sock")):
                return
            time.sleep(0.1)
        raise LabError("cats-control did not open its socket within 20 s:\n%s" % tail(self.path("control.log")))

    def restart_control(self, sig=signal.SIGTERM):
        """Stop cats-control (SIGTERM: a clean exit; SIGKILL: as if it
        crashed) and start it again as `up` does, with the same config. The
        dataplane keeps forwarding meanwhile (control/README.md, Restarts).
        Returns the old process's exit status if this object started it,
        else None."""
        pid = self.state.get("pids", {}).get("control")
        if pid and alive(pid) and self._ours(pid):
            os.kill(pid, sig)
            deadline = time.time() + 10
            while alive(pid) and self._ours(pid) and time.time() < deadline:
                if "control" in self.procs:
                    self.procs["control"].poll()
                time.sleep(0.02)
            if alive(pid) and self._ours(pid):
                raise LabError("cats-control (pid %d) did not exit within 10 s of signal %d" % (pid, sig))
        rc = self.procs["control"].wait(timeout=5) if "control" in self.procs else None
        try:
            os.unlink(self.path("ctl.sock"))   # left behind by SIGKILL; _start_control waits for a new one
        except FileNotFoundError:
            pass
        self._start_control()
        return rc

    def down(self, log=print):
        """Remove everything: processes (ours by pid, then whatever still
        runs in the lab's namespaces), namespaces, DPDK runtime dir, state."""
        pids = dict(self.state.get("pids", {}))
        order = sorted(pids, key=lambda r: (r == "dataplane", r == "control"))  # agents first
        for role in order:
            pid = pids[role]
            if alive(pid) and self._ours(pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        for role in order:
            while alive(pids[role]) and time.time() < deadline:
                if role in self.procs:
                    self.procs[role].poll()
                time.sleep(0.05)
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        existing = set(sh("ip", "netns", "list", check=False).split())
        ours = [n for n in self.namespaces() if n in existing]
        deadline = time.time() + 5
        while time.time() < deadline:
            pids = [pid for n in ours for pid in sh("ip", "netns", "pids", n, check=False).split()]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            time.sleep(0.1)
        for n in ours:
            sh("ip", "netns", "del", n, check=False)
        shutil.rmtree(os.path.join("/var/run/dpdk", self.name), ignore_errors=True)
        for n in NODES:      # from the names: the state may be gone
            shutil.rmtree(os.path.join("/var/run/dpdk", self.egress_prefix(n)), ignore_errors=True)
        self._remove_run_dirs()
        self.state = {}
        left = [n for n in self.namespaces() if n in set(sh("ip", "netns", "list", check=False).split())]
        if left:
            raise LabError("namespaces left behind: %s" % " ".join(left))
        log("lab %s: down" % self.name)

    def _remove_run_dirs(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            os.rmdir(RUN_BASE)       # only if no other lab uses it
        except OSError:
            pass

    def _ours(self, pid):
        """The pid still runs one of our binaries (not a recycled pid)."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                cmd = fh.read().split(b"\0")
        except OSError:
            return False
        return any(os.path.basename(c.decode(errors="replace")).startswith("cats-") for c in cmd[:1])

    # ------------------------------------------------------------------
    # Agents and nodes

    def write_metrics(self, n, metrics):
        """The file node n's agent re-reads every interval."""
        lines = []
        for k, v in metrics.items():
            lines.append("%s: %s" % (k, "[%s]" % ", ".join(v) if isinstance(v, list) else v))
        tmp = self.path("n%d-metrics.yaml.tmp" % n)
        with open(tmp, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, self.path("n%d-metrics.yaml" % n))
        self.state.setdefault("metrics", {})[str(n)] = dict(metrics)
        self._save()

    def start_agent(self, n):
        role = "agent%d" % n
        pid = self.state.get("pids", {}).get(role)
        if pid and alive(pid) and self._ours(pid):
            raise LabError("agent %d already runs (pid %d)" % (n, pid))
        cmd = [self.agent_bin, "--control", "[%s1]:%d" % (MGMT_PREFIX, CONTROL_PORT), "--node-id", str(n),
               "--key-id", str(n), "--key-hex", KEYS[n], "--interval", str(INTERVAL_S),
               "--lifetime", str(LIFETIME_S), "--metrics-file", self.path("n%d-metrics.yaml" % n)]
        for cs in SERVICES:
            cmd += ["--service", "%d:%d:%s" % (cs, n, sid(n, cs))]
        p = self._spawn(role, cmd, ns=self.ns("n%d" % n))
        time.sleep(0.05)
        if p.poll() is not None:
            raise LabError("cats-agent %d exited %s:\n%s" % (n, p.returncode, tail(self.path(role + ".log"))))
        return p

    def stop_agent(self, n, sig=signal.SIGKILL):
        """SIGKILL: the agent dies without a withdraw; SIGTERM: it withdraws."""
        role = "agent%d" % n
        pid = self.state.get("pids", {}).get(role)
        if not pid or not alive(pid) or not self._ours(pid):
            raise LabError("agent %d does not run" % n)
        os.kill(pid, sig)
        deadline = time.time() + 5
        while alive(pid) and time.time() < deadline:
            if role in self.procs:
                self.procs[role].poll()
            time.sleep(0.02)
        if role in self.procs:
            self.procs[role].wait(timeout=5)

    def node_stack(self, n, up):
        """Node n's IPv6 stack on its link to the gateway: off (the node
        hangs: every packet the gateway still sends it is dropped by its
        kernel, counted as Ip6InDiscards) or on again. The link itself stays
        up, so only the instance's lifetime tells the gateway. (Not the
        veth down: net_af_packet towards a carrier-less veth behaves
        unevenly, see README.md.) Not for a node whose egress is
        cats-dataplane: its kernel runs no IPv6 on up0 to turn off."""
        if self.is_cats_egress(n):
            raise LabError("node %d runs cats-dataplane as its egress: its kernel has no IPv6 on up0 to turn "
                           "off (`agent %d kill` makes it go from the table)" % (n, n))
        node = self.ns("n%d" % n)
        sh("sysctl", "-qw", "net.ipv6.conf.up0.disable_ipv6=%d" % (0 if up else 1), ns=node)
        if up:
            sh("ip", "-6", "addr", "replace", "2001:db8:ff:%d::2/64" % n, "dev", "up0", "nodad", ns=node)

    def node_snmp6(self, n, dev="up0"):
        """The kernel's per-interface IPv6 counters of node n."""
        out = {}
        for line in sh("cat", "/proc/net/dev_snmp6/" + dev, ns=self.ns("n%d" % n)).splitlines():
            k, _, v = line.partition(" ")
            if v.strip().isdigit():
                out[k] = int(v)
        return out

    # ------------------------------------------------------------------
    # Observing

    def catsctl(self, *args, timeout=30):
        p = subprocess.run([self.catsctl_bin, "-s", self.path("ctl.sock"), "--json"] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        # 3: answered, but unhealthy (the link not in sync, no dataplane):
        # the answer says how, and the callers look at it.
        if p.returncode not in (0, 3):
            raise LabError("catsctl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        return json.loads(p.stdout)

    def instances(self):
        """(cs_id, id) -> the instance as `catsctl service list` shows it."""
        out = {}
        for svc in self.catsctl("service", "list")["services"]:
            for i in svc.get("instances", []):
                out[(svc["cs_id"], i["id"])] = i
        return out

    def wait_in_sync(self, expect, timeout=30, cond=None):
        """Until `expect` instances are in the table, each pushed to the
        dataplane, the link in sync, and cond(instances) holds. Returns the
        seconds it took."""
        t0 = time.time()
        last = None
        while time.time() - t0 < timeout:
            try:
                insts = self.instances()
                link = self.catsctl("dataplane", "status")["link"]
                last = (insts, link)
                if (len(insts) == expect and all(i.get("push_state") == "in_sync" for i in insts.values())
                        and link.get("in_sync") and (cond is None or cond(insts))):
                    return time.time() - t0
            except (LabError, ValueError, KeyError):
                pass
            for role in ("dataplane", "control"):
                p = self.procs.get(role)
                if p is not None and p.poll() is not None:
                    raise LabError("cats-%s exited %s:\n%s" % (role, p.returncode, tail(self.path(role + ".log"))))
            time.sleep(0.1)
        raise LabError("the table did not reach %d instances in sync within %d s: %s" % (
            expect, timeout, json.dumps(last, default=str)[:2000]))

    def dataplane_stats(self):
        st = self.catsctl("stats").get("dataplane")
        if not st:
            raise LabError("catsctl stats: no dataplane counters")
        return st

    def egress_stats(self, n):
        """The stats of node n's cats-dataplane (a --cats-egress node), from
        its management socket: local_sids, policies.egress, ports, drops."""
        if not self.is_cats_egress(n):
            raise LabError("node %d's egress is its kernel, not cats-dataplane" % n)
        return mgmt_stats(self.path("n%d-dp.sock" % n))

    def srv6_node(self, n):
        """Node n's kernel as SRv6 endpoint, in the mode `up` chose."""
        if not hasattr(self, "_srv6_nodes"):
            self._srv6_nodes = {}
        if n not in self._srv6_nodes:
            mode = self.state.get("srv6_termination", kernel_srv6.SEG6LOCAL)
            node = kernel_srv6.Node(self.ns("n%d" % n), mode, sh)
            for cs in SERVICES:      # what _topology installs
                node.sids[sid(n, cs)] = "dx6"
            self._srv6_nodes[n] = node
        return self._srv6_nodes[n]

    def seg6_counters(self):
        """(node, cs_id) -> packets node n terminated (End.DX6) for the SID
        of that service and forwarded to its next hop: on a kernel node
        seg6local's `count` or the nftables counter, whichever the lab runs
        on; on a --cats-egress node the dataplane's local_sids[].packets."""
        out = {}
        for n in NODES:
            if self.is_cats_egress(n):
                counts = {ls["sid"]: ls["packets"] for ls in self.egress_stats(n).get("local_sids", [])}
            else:
                counts = self.srv6_node(n).counters()
            for s, packets in counts.items():
                out[(n, int(s.split("::")[1]))] = packets
        return out

    def policy_counters(self, gw_stats=None):
        """Both ends of every policy that ends on a --cats-egress node:
        (node, cs_id) -> {"ingress": (packets, bytes), "egress": (packets,
        bytes)}. Ingress: the gateway's policies.ingress of that instance
        (instance id = node, its last SID = sid(node, cs_id)); egress: the
        node's policies.egress for (ENCAP_SOURCE, that SID). Bytes are the
        inner IPv6 packet's on both ends. (0, 0) where a side has no entry."""
        if not self.egress_nodes:
            return {}
        gw = (gw_stats or self.dataplane_stats()).get("policies")
        if gw is None:
            raise LabError("the gateway's stats have no policies")
        out = {}
        for n in self.egress_nodes:
            eg = self.egress_stats(n).get("policies")
            if eg is None:
                raise LabError("node %d's stats have no policies" % n)
            for cs in SERVICES:
                ing = [(p["packets"], p["bytes"]) for p in gw.get("ingress", [])
                       if p["cs_id"] == cs and p["instance"] == n and p["source"] == ENCAP_SOURCE
                       and p["sid"] == sid(n, cs)]
                egr = [(p["packets"], p["bytes"]) for p in eg.get("egress", [])
                       if p["source"] == ENCAP_SOURCE and p["sid"] == sid(n, cs)]
                out[(n, cs)] = {"ingress": ing[0] if ing else (0, 0), "egress": egr[0] if egr else (0, 0)}
        return out

    def link_counters(self, n, dev):
        st = json.loads(sh("ip", "-s", "-j", "link", "show", dev, ns=self.ns("n%d" % n)))[0]["stats64"]
        return {"rx": st["rx"]["packets"], "tx": st["tx"]["packets"]}

    # ------------------------------------------------------------------
    # Traffic

    def traffic(self, profile, *extra, instances=None, linger_ms=500, background=False):
        """cats-trafgen run in the tester namespace: send on c0, receive on
        one port per instance (the app behind each node). Returns a Run."""
        self.reports += 1
        out = self.path("report-%d.json" % self.reports)
        cmd = ["ip", "netns", "exec", self.ns("tg"), self.trafgen_bin, "run", "--profile", profile, "--tx", "c0",
               "--linger-ms", str(linger_ms), "--json-out", out]
        for i in instances or profile_instances(profile):
            cmd += ["--rx", "%s:%s" % (i, i)]
        cmd += list(extra)
        return TrafgenRun(cmd, out, background)


def start_reaper(name):
    """A watchdog for a lab that a script brings up and down: a process of
    its own session that waits for the caller to go away (its stdin hits
    end of file when the caller exits or is killed, however it dies) and
    then runs `down` if the lab is still there. The caller keeps the
    returned Popen referenced until it exits."""
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--name", name, "reap"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def profile_instances(profile):
    """The lab instance names a profile mentions (trafgen refuses a port
    named for an instance the profile does not have)."""
    try:
        with open(profile) as fh:
            text = fh.read()
    except OSError as e:
        raise LabError("%s: cannot read the profile: %s" % (profile, e.strerror))
    names = [i for i in INSTANCES if re.search(r"name:\s*['\"]?%s['\"]?\s*[,}\n]" % re.escape(i), text)]
    if not names:
        raise LabError("%s: names none of the lab's instances (%s)" % (profile, ", ".join(INSTANCES)))
    return names


class TrafgenRun:
    def __init__(self, cmd, json_path, background):
        self.cmd, self.json_path = cmd, json_path
        self.started = time.time()
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.rc, self.text, self.err, self.report = None, "", "", None
        if not background:
            self.wait()

    def wait(self, timeout=120):
        try:
            self.text, self.err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.text, self.err = self.p.communicate()
            raise LabError("cats-trafgen did not finish within %d s" % timeout)
        self.rc = self.p.returncode
        if os.path.exists(self.json_path):
            with open(self.json_path) as fh:
                self.report = json.load(fh)
        if self.report is None:
            raise LabError("cats-trafgen exit %d, no report: %s" % (self.rc, self.err.strip()[-2000:]))
        return self

    def summary(self):
        """The report as trafgen prints it, without the per-flow listing."""
        return self.text.split("\nflows listed:")[0].rstrip()


# ----------------------------------------------------------------------
# Command line

METRIC_RANGES = {"load_pct": 100, "score": 10, "weight": 1000000, "free_capacity": 2**32 - 1,
                 "queue_delay_us": 2**32 - 1, "bandwidth_kbps": 2**32 - 1, "latency_us": 2**32 - 1}
COMPUTE_TYPES = ("cpu", "gpu", "npu", "fpga")


def parse_metric(kv):
    """KEY=VALUE of `lab.py metrics`, checked as cats-agent would."""
    k, sep, v = kv.partition("=")
    if not sep or (k not in METRIC_RANGES and k != "compute_types"):
        raise LabError("metrics: expected KEY=VALUE with KEY one of %s, got '%s'" % (
            ", ".join(list(METRIC_RANGES) + ["compute_types"]), kv))
    if k == "compute_types":
        types = v.split(",")
        if not v or any(t not in COMPUTE_TYPES for t in types):
            raise LabError("metrics: compute_types must be a comma list of %s, got '%s'" % (
                ", ".join(COMPUTE_TYPES), v))
        return {k: types}
    if not v.isdigit() or int(v) > METRIC_RANGES[k]:
        raise LabError("metrics: %s must be an integer 0..%d, got '%s'" % (k, METRIC_RANGES[k], v))
    return {k: int(v)}


def cmd_status(lab):
    if not lab.is_up():
        print("lab %s: down" % lab.name)
        return 1
    existing = set(sh("ip", "netns", "list").split())
    print("lab %s (%s)" % (lab.name, lab.dir))
    print("namespaces: " + "  ".join("%s %s" % (n, "ok" if n in existing else "MISSING") for n in lab.namespaces()))
    for role, pid in sorted(lab.state.get("pids", {}).items()):
        print("  %-10s pid %-7d %s" % (role, pid, "running" if alive(pid) and lab._ours(pid) else "not running"))
    rc = 0
    try:
        insts = lab.instances()
        link = lab.catsctl("dataplane", "status")["link"]
        print("dataplane: table version %s, in sync %s" % (link.get("table_version"), link.get("in_sync")))
        for (cs, iid), i in sorted(insts.items()):
            m = i.get("metrics", {})
            print("  cs %d instance %d  %-22s load %3s%%  latency %5s us  %-9s %s" % (
                cs, iid, ",".join(i.get("sids", [])), m.get("load_pct"), m.get("latency_us"),
                ",".join(m.get("compute_types", [])), i.get("push_state")))
    except LabError as e:
        print("control: %s" % e)
        rc = 1
    try:
        c = lab.seg6_counters()
        print("End.DX6 packets (kernel: %s%s): " % (lab.state.get("srv6_termination"), "".join(
            "; n%d: cats-dataplane" % n for n in lab.egress_nodes)) + "  ".join(
            "n%d/%d %d" % (n, cs, v) for (n, cs), v in sorted(c.items())))
    except LabError as e:
        print("End.DX6 counters: %s" % e)
        rc = 1
    try:
        for (n, cs), v in sorted(lab.policy_counters().items()):
            print("  policy %s -> %s: gateway %d pkts %d B, node %d %d pkts %d B" % (
                ENCAP_SOURCE, sid(n, cs), v["ingress"][0], v["ingress"][1], n, v["egress"][0], v["egress"][1]))
    except LabError as e:
        print("policies: %s" % e)
        rc = 1
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description="cats lab: namespaces, cats-dataplane, cats-control, agents, "
                                             "Linux SRv6 nodes (tools/lab/README.md)")
    ap.add_argument("--name", default=DEFAULT_NAME, help="lab name: prefix of namespaces etc. (default %(default)s)")
    # --name also after the subcommand (`lab.py up --name x`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--name", default=argparse.SUPPRESS, help="lab name (default %s)" % DEFAULT_NAME)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def command(name, **kw):
        return sub.add_parser(name, parents=[common], **kw)
    p_up = command("up", help="create the namespaces and links, start every process")
    p_up.add_argument("--build", help="meson build directory (default: <source>/build)")
    p_up.add_argument("--lcore", type=int, default=0, help="the dataplane's lcore (default 0)")
    p_up.add_argument("--cats-egress", default="", metavar="N[,N]",
                      help="nodes that terminate SRv6 with cats-dataplane (End.DX6) instead of their kernel")
    p_up.add_argument("--egress-lcore", type=int, default=None,
                      help="the lcore of the --cats-egress nodes' dataplanes (default: the CPU after --lcore)")
    command("down", help="remove everything the lab made")
    command("status", help="namespaces, processes, table, kernel counters")
    command("reap", help="(for scripts, see start_reaper) wait for end of file on stdin, then down")
    p_tr = command("traffic", help="cats-trafgen run through the lab and print its report")
    p_tr.add_argument("profile")
    p_tr.add_argument("trafgen_args", nargs=argparse.REMAINDER, help="after --: more cats-trafgen run options")
    p_ctl = command("ctl", help="catsctl against the lab's cats-control")
    p_ctl.add_argument("args", nargs=argparse.REMAINDER)
    p_ag = command("agent", help="kill (no withdraw), stop (withdraw) or start a node's agent")
    p_ag.add_argument("node", type=int, choices=NODES)
    p_ag.add_argument("action", choices=["kill", "stop", "start"])
    p_no = command("node", help="fail (agent killed, IPv6 stack off) or restore a compute node")
    p_no.add_argument("node", type=int, choices=NODES)
    p_no.add_argument("action", choices=["fail", "restore"])
    p_co = command("control", help="restart cats-control (SIGTERM, or SIGKILL with --kill) with the same config")
    p_co.add_argument("action", choices=["restart"])
    p_co.add_argument("--kill", action="store_true", help="SIGKILL instead of SIGTERM (no clean exit)")
    p_me = command("metrics", help="set the metrics a node's agent advertises, e.g. load_pct=95")
    p_me.add_argument("node", type=int, choices=NODES)
    p_me.add_argument("values", nargs="+")
    a = ap.parse_args(argv)
    try:
        lab = Lab(a.name, getattr(a, "build", None))
        if a.cmd == "up":
            try:
                egress = [int(x) for x in a.cats_egress.split(",") if x.strip()]
            except ValueError:
                raise LabError("--cats-egress: a comma list of node numbers (%s), got '%s'" % (
                    ",".join(map(str, NODES)), a.cats_egress))
            lab.up(lcore=a.lcore, cats_egress=egress, egress_lcore=a.egress_lcore)
            print("lab %s is up; `%s status`, `%s down`" % (lab.name, sys.argv[0], sys.argv[0]))
            return 0
        if a.cmd == "down":
            lab.down()
            return 0
        if a.cmd == "status":
            return cmd_status(lab)
        if a.cmd == "reap":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            sys.stdin.buffer.read()          # until the caller is gone
            if lab.is_up():
                Lab(a.name).down()
            return 0
        if not os.path.exists(lab.state_path):
            raise LabError("lab '%s' is not up (run `lab.py up` first)" % lab.name)
        if a.cmd == "traffic":
            extra = a.trafgen_args[1:] if a.trafgen_args[:1] == ["--"] else a.trafgen_args
            r = lab.traffic(os.path.abspath(a.profile), *extra)
            print(r.text, end="")
            if r.err:
                print(r.err, end="", file=sys.stderr)
            return r.rc
        if a.cmd == "ctl":
            args = a.args[1:] if a.args[:1] == ["--"] else a.args
            return subprocess.call([lab.catsctl_bin, "-s", lab.path("ctl.sock")] + args)
        if a.cmd == "agent":
            if a.action == "start":
                lab.start_agent(a.node)
            else:
                lab.stop_agent(a.node, signal.SIGKILL if a.action == "kill" else signal.SIGTERM)
            return 0
        if a.cmd == "node":
            if a.action == "fail":
                if lab.is_cats_egress(a.node):
                    lab.node_stack(a.node, False)    # refuses, saying why, before the agent is killed
                lab.stop_agent(a.node, signal.SIGKILL)
                lab.node_stack(a.node, False)
            else:
                lab.node_stack(a.node, True)
                lab.start_agent(a.node)
            return 0
        if a.cmd == "control":
            lab.restart_control(signal.SIGKILL if a.kill else signal.SIGTERM)
            print("cats-control restarted (pid %d)" % lab.state["pids"]["control"])
            return 0
        if a.cmd == "metrics":
            m = dict(lab.state.get("metrics", {}).get(str(a.node), NODE_METRICS[a.node]))
            for kv in a.values:
                m.update(parse_metric(kv))
            lab.write_metrics(a.node, m)
            print("node %d advertises %s from its next interval" % (a.node, m))
            return 0
    except LabError as e:
        print("lab.py: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
