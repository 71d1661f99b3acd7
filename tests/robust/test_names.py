#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 1: a service name that is not UTF-8 must never end cats-dataplane.

The three ways the issue reproduced it, each with the real binaries:
  1. an UPDATE on the management socket naming a service b'bad\\xff\\xfe':
     refused (ERROR, Malformed, naming the field), and the STATS request
     that used to abort the process (type_error.316) is answered;
  2. the same name in control.yaml: `cats-control --check` refuses it,
     naming services[0].name (and peers[0].name for a peer label);
  3. the same name in the dataplane's YAML, run with --stats-interval 1:
     refused at start with exit 1 naming services[0].name, not an abort.
Also: a name over 64 bytes on the socket is refused the same way.

usage: test_names.py BUILD_DIR
"""
import os
import subprocess
import tempfile
import time

from robust_common import (CONTROL, ERROR, STATS, STATS_REQ, UPDATE, batch, check, decode_ack, finish,
                           gateway_yaml, mgmt_connect, mgmt_reply, message, need_root, output, start_dataplane,
                           status, stop)

BAD = b"bad\xff\xfe"

need_root("cats-dataplane's EAL writes under /var/run/dpdk")

with tempfile.TemporaryDirectory(prefix="cats-robust-names-") as tmp:
    # 1. Over the management socket.
    sock = os.path.join(tmp, "dp.sock")
    dp = start_dataplane(tmp, "names", ["--mgmt-socket", sock], wait_socket=sock)
    if check(dp.poll() is None, "dataplane started with a management socket"):
        before = status(sock)
        s = mgmt_connect(sock)
        s.sendall(message(UPDATE, 7, batch([(200, BAD)])))
        mtype, seq, payload = mgmt_reply(s)
        st, version, text = decode_ack(payload)
        check(mtype == ERROR and st == 1, "an UPDATE naming a service %r is refused as malformed (got type %d "
              "status %d: %s)" % (BAD, mtype, st, text))
        check("name" in text and "UTF-8" in text, "the error names the field and the rule: %s" % text)
        s.sendall(message(UPDATE, 8, batch([(201, b"n" * 65)])))
        mtype, seq, payload = mgmt_reply(s)
        st, version, text = decode_ack(payload)
        check(mtype == ERROR and "at most 64" in text, "a 65-byte name is refused: %s" % text)
        s.sendall(message(STATS_REQ, 9))
        try:
            mtype, seq, payload = mgmt_reply(s)
            check(mtype == STATS and seq == 9, "STATS after the refused update is answered")
        except (OSError, ConnectionError, ValueError) as e:
            check(False, "STATS after the refused update is answered (%s)" % e)
        s.close()
        time.sleep(0.5)
        check(dp.poll() is None, "cats-dataplane is still running (exit %s): %s" % (dp.poll(), output(dp)[-600:]))
        if dp.poll() is None:
            after = status(sock)
            check(after["table_version"] == before["table_version"], "the table did not change")
    stop(dp)

    # 2. From control.yaml: --check refuses it.
    for what, yaml, where in (
            ("service", b"listen: []\nservices:\n  - cs_id: 1\n    name: \"" + BAD + b"\"\n", "services[0].name"),
            ("peer", b"listen: []\npeers:\n  - node_id: 1\n    key_id: 1\n    key: " + b"a1" * 16 +
             b"\n    name: \"" + BAD + b"\"\n", "peers[0].name")):
        cfg = os.path.join(tmp, "control-%s.yaml" % what)
        with open(cfg, "wb") as f:
            f.write(yaml)
        p = subprocess.run([CONTROL, "--config", cfg, "--check"], capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        check(p.returncode == 1 and where in err and "UTF-8" in err,
              "cats-control --check refuses a %s name that is not UTF-8, naming %s (exit %d: %s)"
              % (what, where, p.returncode, err.strip()[-300:]))

    # 3. From the dataplane's own YAML, with stats printed every second.
    dp = start_dataplane(tmp, "yaml", ["--stats-interval", "1"], yaml=gateway_yaml(BAD))
    try:
        rc = dp.wait(20)
    except subprocess.TimeoutExpired:
        rc = None
    out = output(dp)
    check(rc == 1, "cats-dataplane refuses the config at start with exit 1 (got %s; %s)" % (rc, out.strip()[-300:]))
    check("services[0].name" in out and "UTF-8" in out, "the error names services[0].name: %s" % out.strip()[-300:])
    stop(dp)

finish()
