# SPDX-License-Identifier: BSD-3-Clause
"""The Linux kernel as an SRv6 peer, on whatever kernel this is.

The lab (tools/lab/lab.py) and the end-to-end test (tests/e2e) use the
kernels of their namespaces as compute nodes and transit routers. How a
kernel terminates a SID depends on what it was built with:

  seg6local  CONFIG_IPV6_SEG6_LWTUNNEL: `ip -6 route add SID encap seg6local
             action End.DX6 nh6 NH count dev DEV`, and `action End count` for
             a transit SID; the packet counters are the routes' own (`count`).
  core       no lightweight tunnels (many distribution and container-host
             kernels): the SID is a local address of the node and the
             kernel's core SRH processing (net/ipv6/exthdrs.c,
             ipv6_srh_rcv) does the rest. With Segments Left > 0 it performs
             End; with Segments Left 0 and an inner IPv6 packet it strips
             the outer header and routes the inner packet on (netif_rx).
             End.DX6's "towards this next hop" comes from policy routing: an
             nftables rule marks packets to the SID before the decap, the
             mark stays on the inner packet (same namespace, so the skb is
             not scrubbed), and `ip -6 rule fwmark` sends it to a table with
             one default route via the next hop. The per-SID counters are
             nftables named counters: a transit SID's counts what arrived
             for it, a terminating SID's counts the inner packets it
             forwarded, so both count what the node really did.

Which one is used is decided at setup by probing the kernel in a scratch
namespace (`detect()`), never by the kernel's version; CATS_SRV6_TERMINATION
= seg6local | core forces one (core runs on every kernel that has seg6local).
Both need `net.ipv6.conf.{all,DEV}.seg6_enabled=1` on the receiving
interface and forwarding on; `Node` sets them.

The parts that decide (parse_kconfig, choose) are pure and unit-tested
without root (tests/lab/test_kernel_srv6.py).
"""
import gzip
import json
import os
import platform
import subprocess

SEG6LOCAL, CORE = "seg6local", "core"
MODES = (SEG6LOCAL, CORE)
ENV_FORCE = "CATS_SRV6_TERMINATION"

# What each mode needs from the kernel: capability -> the CONFIG_ option
# that provides it (for the one-line message when it is missing).
NEEDS = {
    SEG6LOCAL: {"seg6local": "CONFIG_IPV6_SEG6_LWTUNNEL"},
    CORE: {"seg6": "CONFIG_IPV6", "nftables": "CONFIG_NF_TABLES",
           "policy_routing": "CONFIG_IPV6_MULTIPLE_TABLES"},
}
NFT_TABLE = "cats_srv6"
MARK_BASE = 0xca750000      # fwmark = routing table id = MARK_BASE + n


class Unsupported(Exception):
    """The kernel cannot terminate SRv6 in any mode; the message names the
    missing CONFIG_ option(s) in one line."""


def parse_kconfig(text):
    """A kernel config's text -> {CONFIG_X: 'y' | 'm' | value | 'n'}
    ('# CONFIG_X is not set' gives 'n')."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# CONFIG_") and line.endswith(" is not set"):
            out[line[2:-len(" is not set")]] = "n"
        elif line.startswith("CONFIG_") and "=" in line:
            k, _, v = line.partition("=")
            out[k] = v.strip('"')
    return out


def read_kconfig():
    """This kernel's config, from /proc/config.gz or /boot; {} if neither."""
    try:
        with gzip.open("/proc/config.gz", "rt") as fh:
            return parse_kconfig(fh.read())
    except OSError:
        pass
    try:
        with open("/boot/config-" + platform.release()) as fh:
            return parse_kconfig(fh.read())
    except OSError:
        return {}


def choose(caps, forced=None, kconfig=None):
    """Pick the termination mode from the probed capabilities.

    caps: {capability: bool} for every capability in NEEDS. forced: a mode
    the caller insists on (CATS_SRV6_TERMINATION), or None for the best one
    available (seg6local first: the kernel's own End.DX6). kconfig: the
    parsed kernel config, only to word the message. Returns the mode;
    raises Unsupported with one line naming the missing CONFIG_ options."""
    if forced is not None and forced not in MODES:
        raise ValueError("%s: '%s' is not one of %s" % (ENV_FORCE, forced, ", ".join(MODES)))
    kconfig = kconfig or {}

    def missing(mode):
        return [opt for cap, opt in NEEDS[mode].items() if not caps.get(cap)]

    def why(mode):
        parts = []
        for opt in missing(mode):
            state = kconfig.get(opt)
            parts.append("%s (%s)" % (opt, "not set in this kernel's config" if state == "n" else
                                      "probe failed" if state is None else "config says %s, probe failed" % state))
        return ", ".join(parts)

    if forced is not None:
        if missing(forced):
            raise Unsupported("SRv6 termination '%s' (forced by %s) needs %s" % (forced, ENV_FORCE, why(forced)))
        return forced
    for mode in MODES:
        if not missing(mode):
            return mode
    raise Unsupported("the kernel cannot terminate SRv6: seg6local needs %s; the core SRH path needs %s" % (
        why(SEG6LOCAL), why(CORE)))


def _run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def probe():
    """{capability: bool}, by trying each one in a scratch network namespace
    (needs root). Nothing is left behind."""
    ns = "cats-probe-%d" % os.getpid()
    _run("ip", "netns", "del", ns)
    if _run("ip", "netns", "add", ns).returncode != 0:
        raise Unsupported("cannot create a network namespace (needs root and CONFIG_NET_NS)")
    try:
        def ok(*args):
            return _run("ip", "netns", "exec", ns, *args).returncode == 0
        ok("ip", "link", "set", "lo", "up")
        return {
            "seg6local": ok("ip", "-6", "route", "add", "fc00:ca75::1/128", "encap", "seg6local",
                            "action", "End", "dev", "lo"),
            "seg6": os.path.exists("/proc/sys/net/ipv6/conf/all/seg6_enabled"),
            "nftables": ok("nft", "add", "table", "inet", NFT_TABLE),
            "policy_routing": ok("ip", "-6", "rule", "add", "fwmark", "1", "table", "100"),
        }
    finally:
        _run("ip", "netns", "del", ns)


def detect():
    """The mode to use on this machine (see choose())."""
    return choose(probe(), forced=os.environ.get(ENV_FORCE) or None, kconfig=read_kconfig())


class Node:
    """One kernel (a network namespace) acting as SRv6 endpoint.

    sh(*args, ns=...) runs a command in a namespace and raises on failure
    (the caller's own helper, so errors read as the caller's)."""

    def __init__(self, ns, mode, sh):
        if mode not in MODES:
            raise ValueError("mode '%s' is not one of %s" % (mode, ", ".join(MODES)))
        self.ns, self.mode, self.sh = ns, mode, sh
        self.sids = {}            # SID -> "end" | "dx6"
        self._nft_ready = False
        self._tables = 0          # policy routing tables made, one per End.DX6

    def enable(self, *devs):
        """seg6_enabled on all and on each receiving interface; forwarding on."""
        for d in ("all", "default") + devs:
            self.sh("sysctl", "-qw", "net.ipv6.conf.%s.seg6_enabled=1" % d, ns=self.ns)
        self.sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=self.ns)

    def _counter(self, sid):
        return "sid_" + sid.replace(":", "_")

    def _nft(self):
        if not self._nft_ready:
            # raw priority: before conntrack and before the routing decision.
            self.sh("nft", "add", "table", "inet", NFT_TABLE, ns=self.ns)
            self.sh("nft", "add", "chain", "inet", NFT_TABLE, "arrive",
                    "{ type filter hook prerouting priority -300; policy accept; }", ns=self.ns)
            self.sh("nft", "add", "chain", "inet", NFT_TABLE, "decapped",
                    "{ type filter hook forward priority 0; policy accept; }", ns=self.ns)
            self._nft_ready = True

    def _local(self, sid):
        self.sh("ip", "-6", "addr", "add", sid + "/128", "dev", "lo", ns=self.ns)

    def end(self, sid, dev):
        """Transit SID: End (RFC 8986 4.1), on traffic arriving on any
        interface; `dev` is where seg6local hangs the route. In core mode
        the counter counts SRv6 packets (routing header type 4) that arrive
        for the SID; a SID reached by looping back inside the same node
        (the SID before it was local too) is processed without passing
        netfilter again, so give each node's SIDs their own hop."""
        if self.mode == SEG6LOCAL:
            self.sh("ip", "-6", "route", "add", sid + "/128", "encap", "seg6local", "action", "End",
                    "count", "dev", dev, ns=self.ns)
        else:
            self._local(sid)
            self._nft()
            c = self._counter(sid)
            self.sh("nft", "add", "counter", "inet", NFT_TABLE, c, ns=self.ns)
            self.sh("nft", "add", "rule", "inet", NFT_TABLE, "arrive", "ip6", "daddr", sid,
                    "rt", "type", "4", "counter", "name", c, ns=self.ns)
        self.sids[sid] = "end"

    def dx6(self, sid, nh, dev):
        """Terminating SID: End.DX6 (RFC 8986 4.4) towards next hop `nh` on
        `dev`."""
        if self.mode == SEG6LOCAL:
            self.sh("ip", "-6", "route", "add", sid + "/128", "encap", "seg6local", "action", "End.DX6",
                    "nh6", nh, "count", "dev", dev, ns=self.ns)
        else:
            self._tables += 1
            mark = MARK_BASE + self._tables
            self._local(sid)
            self._nft()
            c = self._counter(sid)
            self.sh("nft", "add", "counter", "inet", NFT_TABLE, c, ns=self.ns)
            self.sh("nft", "add", "rule", "inet", NFT_TABLE, "arrive", "ip6", "daddr", sid,
                    "meta", "mark", "set", str(mark), ns=self.ns)
            # The inner packet, decapsulated and forwarded: what End.DX6 did.
            self.sh("nft", "add", "rule", "inet", NFT_TABLE, "decapped", "meta", "mark", str(mark),
                    "ip6", "daddr", "!=", sid, "counter", "name", c, ns=self.ns)
            self.sh("ip", "-6", "route", "add", "default", "via", nh, "dev", dev, "table", str(mark), ns=self.ns)
            self.sh("ip", "-6", "rule", "add", "fwmark", str(mark), "table", str(mark), ns=self.ns)
        self.sids[sid] = "dx6"

    def counters(self):
        """SID -> packets the node processed for it (End: arrived for it;
        End.DX6: decapsulated and forwarded)."""
        out = {}
        if self.mode == SEG6LOCAL:
            for r in json.loads(self.sh("ip", "-s", "-j", "-6", "route", "show", ns=self.ns) or "[]"):
                if r.get("encap") == "seg6local" and r["dst"] in self.sids:
                    out[r["dst"]] = r["stats64"]["packets"]
        elif self.sids:
            data = json.loads(self.sh("nft", "-j", "list", "counters", "table", "inet", NFT_TABLE, ns=self.ns))
            by_name = {e["counter"]["name"]: e["counter"]["packets"]
                       for e in data.get("nftables", []) if "counter" in e}
            for s in self.sids:
                out[s] = by_name.get(self._counter(s), 0)
        return out
