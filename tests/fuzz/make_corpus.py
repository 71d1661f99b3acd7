#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/<target>/.

  make_corpus.py FUZZ_SEEDS_BIN

FUZZ_SEEDS_BIN is the fuzz-seeds program (make_seeds.cpp; build it with
`ninja -C BUILD tests/fuzz/fuzz-seeds`): it writes the binary seeds with the
project's own builders and encoders (packets, CATS bodies, signed
advertisements, management messages). This script adds frames from
tests/data/lab-sample.pcap, catsctl request and response lines, and YAML
configs (configs/*.yaml as they are and without comments, and small ones
below). Existing files of the same name are overwritten; other files (for
example a crash reproducer, crash-<sha1>) are kept.
"""
import pathlib
import struct
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def pcap_frames(path):
    """The frames of a classic little-endian pcap file."""
    data = path.read_bytes()
    magic, = struct.unpack_from("<I", data, 0)
    if magic != 0xA1B2C3D4:
        raise SystemExit(f"{path}: not a little-endian pcap")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def parse_seeds():
    # One frame per header shape (ether type, first Next Header, the byte
    # after the IPv6 header), byte 0 = 3: the service-SID /96 is the frame's
    # own destination's.
    seen = set()
    for i, f in enumerate(pcap_frames(ROOT / "tests/data/lab-sample.pcap")):
        shape = (f[12:14], f[20:21], f[54:55], len(f) // 64)
        if shape in seen:
            continue
        seen.add(shape)
        put("parse", f"lab-{i:03d}", b"\x03" + f)


CTL_REQUESTS = [
    '{"v":0,"cmd":"service.list"}',
    '{"v":0,"cmd":"service.list","args":{"after":100,"limit":64}}',
    '{"v":0,"cmd":"instance.add","args":{"cs_id":100,"id":4,"sids":["2001:db8::1","2001:db8::2"],'
    '"name":"video","metrics":{"score":7,"load_pct":20,"free_capacity":100,"latency_us":500,'
    '"bandwidth_kbps":10000,"compute_types":["cpu","gpu"],"weight":10}}}',
    '{"v":0,"cmd":"instance.del","args":{"cs_id":100,"id":4}}',
    '{"v":0,"cmd":"instance.set","args":{"cs_id":100,"id":4,"metrics":{"weight":0,"compute_types":["npu","fpga"]}}}',
    '{"v":0,"cmd":"instance.set","args":{"cs_id":1,"id":2,"sids":["fc00::1"]}}',
    '{"v":0,"cmd":"flow.list","args":{"cs_id":100,"instance_id":4,"limit":10}}',
    '{"v":0,"cmd":"peer.list","args":{}}',
    '{"v":0,"cmd":"stats"}\n',
    '{"v":0,"cmd":"dataplane.status"}',
    '{"v":0,"cmd":"neighbor.list"}',
    '{"v":0,"cmd":"port.list"}',
]
CTL_RESPONSES = [
    '{"v":0,"ok":true,"result":{"neighbors":[{"address":"fe80::1","state":"reachable"}],"held":{"packets":3}}}',
    '{"v":0,"ok":true,"result":{"kernel_ports":[{"name":"p0","ifindex":5}]}}',
    '{"v":0,"ok":false,"error":"args.sids[0]: \'x\' is not an IPv6 address"}',
    '{"v":0,"ok":true,"result":[1.5,-2,1e300,"\\u00e9",null,true]}',
]


def ctl_seeds():
    for i, line in enumerate(CTL_REQUESTS):
        put("ctl", f"request-{i:02d}", line)
    for i, line in enumerate(CTL_RESPONSES):
        put("ctl", f"response-{i:02d}", line)


KEY = "00112233445566778899aabbccddeeff"
DP_YAML = {
    "small": "gateway:\n  encap_source: 2001:db8:ff::1\nports:\n  - name: p0\n",
    "services": (
        "gateway:\n  encap_source: 2001:db8:ff::1\n  service_sid_prefix: 2001:db8:5::/96\n"
        "ports:\n  - name: p0\n"
        "neighbors:\n  - {address: 2001:db8:ff::a1, mac: 02:00:00:00:00:a1, port: p0}\n"
        "services:\n  - cs_id: 1\n    name: s\n    instances:\n      - id: 1\n"
        "        sids: [2001:db8::1, 2001:db8::2]\n"
        "        metrics: {score: 7, load_pct: 10, compute_types: [cpu, gpu], weight: 3}\n"),
    "flow": "gateway: {encap_source: '2001:db8:ff::1', encap_mode: encaps_red, hop_limit: 9}\nports: [{name: p0}]\n",
    "yaml-cpp-1040-comma": ",",
}
CONTROL_YAML = {
    "empty": "",
    # yaml-cpp 0.7's endless LoadAll() (jbeder/yaml-cpp#1040): hung both
    # loaders until c043695; kept as a regression input.
    "yaml-cpp-1040-comma": ",",
    "listen": "listen: []\n",
    "peer-key": f"peers: [{{node_id: 3, key_id: 4, key: {KEY}, name: a1, lifetime_cap_s: 60}}]\n",
    "peer-key-file": "peers: [{node_id: 1, key_id: 1, key_file: good.key}]\n",
    "policy": "policy: {metric_threshold_pct: 10, max_pushes_per_s: 100, max_services: 16}\n",
    "services": (
        "services:\n  - cs_id: 100\n    name: video\n    instances:\n      - id: 1\n"
        "        sids: ['2001:db8:a::1']\n"),
}


def strip_comments(text):
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def yaml_seeds():
    for target, files, extra in (("dp_config", ["gateway.yaml", "gateway-network.yaml"], DP_YAML),
                                 ("control_config", ["control.yaml"], CONTROL_YAML)):
        for name in files:
            text = (ROOT / "configs" / name).read_text()
            put(target, name, text)
            put(target, name.replace(".yaml", "-bare.yaml"), strip_comments(text))
        for name, text in extra.items():
            put(target, name if name.startswith("yaml-cpp") else name + ".yaml", text)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    subprocess.run([sys.argv[1], str(CORPUS)], check=True)
    parse_seeds()
    ctl_seeds()
    yaml_seeds()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    count = sum(1 for f in CORPUS.rglob("*") if f.is_file())
    print(f"{CORPUS}: {count} files, {total} bytes")


if __name__ == "__main__":
    main()
