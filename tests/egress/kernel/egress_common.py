# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the egress tests in this folder (test_kernel_diff.py,
test_pcap_egress.py): SRv6 packets written byte by byte, pcap files read
and written without scapy (so that a malformed packet is stored exactly as
built, never "fixed" by a dissector), cats-dataplane on net_pcap vdevs, and
the pass/fail bookkeeping.

The network is the one of tests/egress/test_endpoint.cpp:

  port 0 (02:50::00) -- A 2001:db8:ff::a 02:aa::0a  fc00:a::/32 (the ingress side)
  port 1 (02:50::01) -- B 2001:db8:ff::b 02:bb::0b  fc00:b::/32
                     -- C 2001:db8:ff::c 02:cc::0c  (End.X's next hop)
                     -- H 2001:db8:ff::d 02:dd::0d  2001:db8:f::/48 (the app)

The port MACs are the kernel router's in test_kernel_diff.py; net_pcap
keeps its own (it refuses ports[].mac), so the pcap runs learn them.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Raw, raw  # noqa: E402
from scapy.layers.inet import UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

SKIP = 77

PORT_MAC = ("02:50:00:00:00:00", "02:50:00:00:00:01")
MAC_A, MAC_B, MAC_C, MAC_H = "02:aa:00:00:00:0a", "02:bb:00:00:00:0b", "02:cc:00:00:00:0c", "02:dd:00:00:00:0d"
NBR_A, NBR_B, NBR_C, NBR_H = "2001:db8:ff::a", "2001:db8:ff::b", "2001:db8:ff::c", "2001:db8:ff::d"

ENCAP_SOURCE = "2001:db8:e::1"     # also the source of cats' ICMPv6 errors
INGRESS = "2001:db8:e::100"        # the ingress gateway's encapsulation source
INGRESS2 = "2001:db8:e::200"       # a second ingress (a second policy)
CLIENT = "2001:db8:1::10"
APP = "2001:db8:f::10"             # behind H
SID_END, SID_X, SID_DX6, SID_DT6 = "fc00:e::1", "fc00:e::2", "fc00:e::d6", "fc00:e::d7"
SID_LOC = "fc00:e:1::/48"          # an End.DT6 locator prefix
NEXT = "fc00:b::9"                 # a SID beyond, routed via B

ETH_HDR = 14
IP6_HDR = 40

failures = []
passed = [0]


def check(cond, msg):
    """Record one assertion; print it either way, so the log shows what ran."""
    print(("ok:   " if cond else "FAIL: ") + msg, flush=True)
    if cond:
        passed[0] += 1
    else:
        failures.append(msg)
    return cond


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def finish(name):
    """The summary line, and the exit code meson reads."""
    if failures:
        print("%s: %d passed, %d failed:" % (name, passed[0], len(failures)))
        for f in failures:
            print("  - " + f)
        return 1
    print("%s: %d passed, 0 failed" % (name, passed[0]))
    return 0


# --- Bytes -------------------------------------------------------------------

def ip6b(a):
    return socket.inet_pton(socket.AF_INET6, a)


def ip6s(b):
    return socket.inet_ntop(socket.AF_INET6, bytes(b))


def macb(m):
    return bytes(int(x, 16) for x in m.split(":"))


def hexdump(b):
    b = bytes(b)
    return "\n".join(b[i:i + 16].hex(" ") for i in range(0, len(b), 16))


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def eth(dst, src, ethertype=0x86DD):
    return macb(dst) + macb(src) + struct.pack("!H", ethertype)


def ipv6(src, dst, nh, payload, hl=63, tc=0, fl=0, plen=None):
    """An IPv6 header and `payload`; `plen` overrides the Payload Length."""
    n = len(payload) if plen is None else plen
    return struct.pack("!IHBB", (6 << 28) | (tc << 20) | fl, n, nh, hl) + ip6b(src) + ip6b(dst) + payload


def srh(segs, sl, nh=41, le=None, tlvs=b"", hdr_ext_len=None, flags=0, tag=0):
    """A Segment Routing Header (RFC 8754 2): Segment List `segs` in wire
    order ([0] is the last segment), Segments Left `sl`, Last Entry `le`
    (default len(segs) - 1), then `tlvs`. Hdr Ext Len is what the bytes
    make unless `hdr_ext_len` says otherwise (a malformed header)."""
    body = b"".join(ip6b(s) for s in segs) + tlvs
    if hdr_ext_len is None:
        assert len(body) % 8 == 0, "SRH not a multiple of 8 bytes"
        hdr_ext_len = len(body) // 8
    le = len(segs) - 1 if le is None else le
    return struct.pack("!BBBBBBH", nh, hdr_ext_len, 4, sl, le, flags, tag) + body


def padn(n):
    """An SRH PadN TLV (RFC 8754 2.1.1.2) of `n` bytes in all (n >= 2)."""
    return bytes([4, n - 2]) + bytes(n - 2)


def inner_packet(tag, hl=64, dst=APP, src=CLIENT, size=24):
    """The steered packet: IPv6/UDP from the client to the app, its UDP
    payload starting with `tag` (bytes) so that every case's packets can be
    told apart wherever they come out. UDP checksum by scapy."""
    data = (tag + b"Z" * size)[:max(size, len(tag))]
    return raw(IPv6(src=src, dst=dst, hlim=hl, tc=0x28, fl=0x12345) / UDP(sport=40000, dport=443) / Raw(data))


def after_end(ip, srh_off=IP6_HDR):
    """The IPv6 packet `ip` after End (RFC 8986 4.1 S12-S14): hop limit - 1,
    Segments Left - 1, the destination the segment it now points at."""
    b = bytearray(ip)
    b[7] -= 1
    sl = b[srh_off + 3] - 1
    b[srh_off + 3] = sl
    seg = srh_off + 8 + 16 * sl
    b[24:40] = b[seg:seg + 16]
    return bytes(b)


def after_decap(inner):
    """The inner packet once decapsulated and forwarded: hop limit - 1."""
    b = bytearray(inner)
    b[7] -= 1
    return bytes(b)


# --- pcap (classic format, Ethernet) ------------------------------------------

def write_pcap(path, frames):
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            fh.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)))
            fh.write(bytes(f))


def read_pcap(path):
    """The frames of a pcap file (either byte order, µs or ns)."""
    if not os.path.exists(path) or os.path.getsize(path) < 24:
        return []
    with open(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


# --- cats-dataplane ------------------------------------------------------------

def eal_runtime_dir(prefix):
    base = "/var/run" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def run_dataplane(build, tmp, tag, config_text, rx0, rx1=None):
    """cats-dataplane on two net_pcap ports: `rx0` (frames) in on port 0,
    `rx1` on port 1 (none by default). Returns (stats JSON, frames out of
    port 0, frames out of port 1), or (None, [], []) after a failed check."""
    dp = os.path.join(build, "dataplane", "cats-dataplane")
    cfg = os.path.join(tmp, "%s.yaml" % tag)
    with open(cfg, "w") as fh:
        fh.write(config_text)
    ins, outs = [], []
    for port, frames in ((0, rx0), (1, rx1 or [])):
        ins.append(os.path.join(tmp, "%s-in%d.pcap" % (tag, port)))
        outs.append(os.path.join(tmp, "%s-out%d.pcap" % (tag, port)))
        write_pcap(ins[-1], frames)
    stats = os.path.join(tmp, "%s-stats.json" % tag)
    prefix = "cats-egk-%d-%s" % (os.getpid(), tag)
    cmd = [dp, "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "-l", "0",
           "--log-level", "lib.eal:error", "--no-telemetry",
           "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (ins[0], outs[0]),
           "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (ins[1], outs[1]),
           "--", "--config", cfg, "--idle-exit", "300", "--stats-file", stats]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        check(False, "%s: cats-dataplane did not exit within 180 s" % tag)
        return None, [], []
    finally:
        shutil.rmtree(eal_runtime_dir(prefix), ignore_errors=True)
    if p.returncode != 0:
        check(False, "%s: cats-dataplane exits 0 (got %d: %s)" %
              (tag, p.returncode, (p.stderr + p.stdout).strip()[-1500:]))
        return None, [], []
    check(True, "%s: cats-dataplane ran and exited 0" % tag)
    with open(stats) as fh:
        st = json.load(fh)
    return st, read_pcap(outs[0]), read_pcap(outs[1])


def need_dataplane(build):
    dp = os.path.join(build, "dataplane", "cats-dataplane")
    if not os.access(dp, os.X_OK):
        skip("no cats-dataplane at %s (build it first)" % dp)
    if os.geteuid() != 0:
        skip("needs root (EAL with net_pcap runs as root here)")
