#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tools/wireshark/cats.lua in tshark (issue 21):

  1. every packet of tests/data/lab-sample.pcap decodes to what its flow in
     the generator's manifest (tests/data/lab-sample.pcap.json) asked for:
     encoding, CS-ID, strict flag, each requirement, the version; the
     malformed bodies carry the name the dataplane drops them under;
  2. advertisements on UDP 7410: datagrams from the real cats-agent
     (--dump), and a WITHDRAW and malformed ones written here from
     proto-defs/ADVERT.md, decode field by field or are flagged by name;
  3. every truncation of a CATS packet and of an advertisement, and
     random byte flips, give expert info at most, never a Lua error.

Usage: test_wireshark.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped), with one
line saying why, without tshark built with Lua or without scapy.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import SKIP, ROOT, AGENT, check, finish

LUA = os.path.join(ROOT, "tools", "wireshark", "cats.lua")
PCAP = os.path.join(ROOT, "tests", "data", "lab-sample.pcap")





def need():
    try:
        v = subprocess.run(["tshark", "-v"], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return "tshark is not installed (Debian: tshark)"
    if "with Lua" not in v:
        return "this tshark is built without Lua"
    if subprocess.run(["/usr/bin/python3", "-c", "import scapy"], capture_output=True).returncode != 0:
        return "scapy is not importable from /usr/bin/python3"
    if not os.access(AGENT, os.X_OK):
        return "%s is not built" % AGENT
    return None


def tshark(pcap, fields, extra=()):
    """One row per packet: field -> list of its values (occurrences)."""
    cmd = ["tshark", "-n", "-X", "lua_script:" + LUA, "-r", pcap, "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=;", *extra]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("tshark: " + p.stderr[-500:])
    rows = []
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        rows.append({f: (cols[i].split(";") if i < len(cols) and cols[i] else []) for i, f in enumerate(fields)})
    return rows, p.stderr


def lua_errors(pcap):
    """Lua errors in the full decode of every packet, as tshark shows them."""
    p = subprocess.run(["tshark", "-n", "-X", "lua_script:" + LUA, "-r", pcap, "-V"], capture_output=True,
                       text=True, timeout=300)
    out = p.stdout + p.stderr
    return [l.strip() for l in out.splitlines() if "Lua Error" in l or "lua_pcall" in l], p.returncode


def write_pcap(path, frames):
    script = ("import sys, json\nsys.path.insert(0, '/usr/lib/python3/dist-packages')\n"
              "from scapy.all import Ether, wrpcap\n"
              "wrpcap(sys.argv[1], [Ether(bytes.fromhex(h)) for h in json.load(open(sys.argv[2]))])\n")
    with open(path + ".json", "w") as fh:
        json.dump([f.hex() for f in frames], fh)
    subprocess.run(["/usr/bin/python3", "-c", script, path, path + ".json"], check=True, timeout=120)


def udp6(payload, dport=7410):
    """Ethernet / IPv6 / UDP by hand (the dissector does not check the UDP checksum)."""
    src = bytes.fromhex("20010db8000000f20000000000000002")
    dst = bytes.fromhex("20010db8000000f20000000000000001")
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!IHBB", 0x60000000, len(udp), 17, 64) + src + dst
    return bytes.fromhex("0200000000010200000000c286dd") + ip + udp


def lab_sample():
    m = json.load(open(PCAP + ".json"))
    flows = {f["src"]: f for f in m["flows"]}
    fields = ["ipv6.src", "cats.encoding", "cats.cs_id", "cats.strict", "cats.version", "cats.max_latency_us",
              "cats.min_bandwidth_kbps", "cats.compute_type", "cats.min_score", "cats.affinity_key",
              "cats.priority", "cats.subtlv.type", "cats.error"]
    rows, _ = tshark(PCAP, fields)
    enc_name = {"srh": "srh_tlv", "doh": "doh_option", "hbh": "hbh_option"}
    seen = {}
    wrong = []
    bad = {"cats_truncated": 0, "cats_subtlv_overrun": 0}
    for i, r in enumerate(rows, 1):
        src = (r["ipv6.src"] or [""])[0]
        if src == "2001:db8:c::bad":
            for e in r["cats.error"]:
                bad[e] = bad.get(e, 0) + 1
            continue
        f = flows.get(src)
        if f is None:
            if r["cats.encoding"]:
                wrong.append((i, "CATS metadata in a packet of no flow", r))
            continue
        seen[src] = seen.get(src, 0) + 1
        c = f.get("cats")
        want = {"cats.encoding": [enc_name[f["encoding"]]] if c else [],
                "cats.cs_id": [str(c["cs_id"])] if c else [],
                "cats.strict": [("1" if c.get("strict") else "0")] if c else [],
                "cats.version": [str(c.get("version", 0))] if c else [],
                "cats.max_latency_us": [str(c["max_latency"])] if c and "max_latency" in c else [],
                "cats.min_bandwidth_kbps": [str(c["min_bw"])] if c and "min_bw" in c else [],
                "cats.compute_type": ["0x%04x" % c["compute"]] if c and "compute" in c else [],
                "cats.min_score": [str(c["min_score"])] if c and "min_score" in c else [],
                "cats.affinity_key": ["0x%016x" % c["affinity"]] if c and "affinity" in c else [],
                "cats.priority": [str(c["priority"])] if c and "priority" in c else []}
        errors = []
        if c and c.get("version", 0) != 0:
            errors.append("cats_bad_version")
        if f["name"] == "subtlv-bad-length":
            errors.append("cats_subtlv_bad_length")
        want["cats.error"] = errors
        for k, v in want.items():
            if r[k] != v:
                wrong.append((i, f["name"], k, r[k], v))
        if f["name"] == "unknown-subtlv" and "77" not in r["cats.subtlv.type"]:
            wrong.append((i, f["name"], "cats.subtlv.type", r["cats.subtlv.type"], "77 among them"))
    check(not wrong, "every packet of lab-sample.pcap decodes as its flow in the manifest asked (%d packets; "
          "first differences: %s)" % (len(rows), wrong[:3]))
    check(len(seen) == len(flows) and all(n == m["packets_per_flow"] for n in seen.values()),
          "all %d flows seen, %d packets each" % (len(flows), m["packets_per_flow"]))
    check(bad["cats_truncated"] == m["malformed"]["cats_truncated"] and
          bad["cats_subtlv_overrun"] == m["malformed"]["cats_subtlv_overrun"],
          "the malformed bodies are flagged by the dataplane's names: %s" % bad)
    n_cats = sum(1 for r in rows if r["cats.encoding"])
    n_want = sum(m["packets_per_flow"] for f in m["flows"] if "cats" in f) + bad["cats_truncated"] + \
        bad["cats_subtlv_overrun"]
    check(n_cats == n_want, "%d packets carry CATS metadata (%d expected)" % (n_cats, n_want))


def hmac_sha256(key, data):
    import hashlib
    import hmac
    return hmac.new(key, data, hashlib.sha256).digest()


def advert(typ, records, count=None, key_id=3, node=9, seq=5, lifetime=0, length=None, version=0):
    body = b"".join(records)
    n = 28 + len(body) + 32
    hdr = struct.pack("!IBBHHHIQHH", 0x43415441, version, typ, n if length is None else length, key_id, 0, node,
                      seq, lifetime, len(records) if count is None else count)
    msg = hdr + body
    return msg + hmac_sha256(b"k" * 16, msg)


def adverts(tmp):
    key = "000102030405060708090a0b0c0d0e0f"
    p = subprocess.run([AGENT, "--dump", "--node-id", "7", "--key-id", "3", "--key-hex", key, "--service",
                        "100:5:2001:db8::1,2001:db8::2", "--service", "200:6:2001:db8:a2::100", "--load", "40",
                        "--score", "9", "--compute-types", "cpu,gpu", "--latency-us", "250"],
                       capture_output=True, text=True, timeout=30)
    dumped = [bytes.fromhex(l) for l in p.stdout.split()]
    check(p.returncode == 0 and len(dumped) == 1, "cats-agent --dump gives one datagram (%d)" % len(dumped))
    withdraw = advert(2, [struct.pack("!II", 100, 5), struct.pack("!II", 200, 6)])
    good_rec = struct.pack("!IIBBH", 300, 1, 1, 0, 3) + bytes(16) + bytes([1, 1, 50])
    bad_metric = struct.pack("!IIBBH", 300, 2, 1, 0, 4) + bytes(16) + bytes([5, 2, 0, 9])   # L2_SCORE of 2 bytes
    bad_cases = [
        ("truncated", advert(1, [good_rec], count=3, lifetime=3)),          # 3 records claimed, 1 there
        ("bad_record", advert(1, [bad_metric], lifetime=3)),
        ("bad_version", advert(1, [good_rec], lifetime=3, version=1)),
        ("bad_length", advert(1, [good_rec], lifetime=3, length=999)),
        ("bad_length", advert(2, [struct.pack("!II", 1, 1) + b"xx"], count=1)),  # bytes after the last record
    ]
    pcap = os.path.join(tmp, "adverts.pcap")
    write_pcap(pcap, [udp6(d) for d in dumped + [withdraw] + [b for _, b in bad_cases]])
    fields = ["cats_advert.type", "cats_advert.node_id", "cats_advert.key_id", "cats_advert.record_count",
              "cats_advert.cs_id", "cats_advert.instance_id", "cats_advert.sid", "cats_advert.load_pct",
              "cats_advert.l2_score", "cats_advert.compute_types", "cats_advert.latency_us", "cats_advert.hmac",
              "cats_advert.error"]
    rows, _ = tshark(pcap, fields)
    a = rows[0]
    got = {k.split(".", 1)[1]: v for k, v in a.items() if k != "cats_advert.hmac"}
    want = {"type": ["1"], "node_id": ["7"], "key_id": ["3"], "record_count": ["2"], "cs_id": ["100", "200"],
            "instance_id": ["5", "6"], "sid": ["2001:db8::1", "2001:db8::2", "2001:db8:a2::100"],
            "load_pct": ["40", "40"], "l2_score": ["9", "9"], "compute_types": ["0x0003", "0x0003"],
            "latency_us": ["250", "250"], "error": []}
    check(got == want, "the agent's ADVERTISE decodes field by field: %s" % got)
    check(a["cats_advert.hmac"] and a["cats_advert.hmac"][0].replace(":", "") == dumped[0][-32:].hex(),
          "its HMAC is the datagram's last 32 bytes")
    w = rows[1]
    check(w["cats_advert.type"] == ["2"] and w["cats_advert.cs_id"] == ["100", "200"] and
          w["cats_advert.instance_id"] == ["5", "6"] and not w["cats_advert.error"],
          "a WITHDRAW of two instances: %s" % {k: v for k, v in w.items() if v})
    for (name, _), r in zip(bad_cases, rows[2:]):
        check(name in r["cats_advert.error"], "a malformed advertisement is flagged %s (%s)" %
              (name, r["cats_advert.error"]))
    return dumped + [withdraw]


def robustness(tmp, datagrams):
    """Truncations and byte flips: expert info at most, never a Lua error."""
    src = PCAP
    script = ("import sys, json\nsys.path.insert(0, '/usr/lib/python3/dist-packages')\n"
              "from scapy.all import rdpcap\n"
              "json.dump([bytes(p).hex() for p in rdpcap(sys.argv[1])], open(sys.argv[2], 'w'))\n")
    out = os.path.join(tmp, "frames.json")
    subprocess.run(["/usr/bin/python3", "-c", script, src, out], check=True, timeout=120)
    frames = [bytes.fromhex(h) for h in json.load(open(out))]
    rng = random.Random(21)
    cats_frames = [f for f in frames if len(f) > 60 and (b"\x1e" in f[54:80] or f[20] == 43)][:12]
    mutated = []
    for f in cats_frames + [udp6(d) for d in datagrams]:
        for cut in range(14, len(f)):
            mutated.append(f[:cut])
        for _ in range(100):
            b = bytearray(f)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(54, len(b))] = rng.randrange(256)
            mutated.append(bytes(b))
    pcap = os.path.join(tmp, "mutated.pcap")
    write_pcap(pcap, mutated)
    errs, rc = lua_errors(pcap)
    check(rc == 0 and not errs, "%d truncated and mutated frames: no Lua error (%s)" % (len(mutated), errs[:3]))


def main():
    why = need()
    if why:
        print("SKIP: " + why)
        return SKIP
    with tempfile.TemporaryDirectory(prefix="cats-ws-") as tmp:
        try:
            lab_sample()
            datagrams = adverts(tmp)
            robustness(tmp, datagrams)
        except Exception as e:  # noqa: BLE001 - report as a failure
            check(False, "exception: %r" % e)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
