#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 2: the dataplane's management socket, with the real binaries.

  1. under umask 000 the socket is created 0660 and its missing directory
     0750 (not 0777/0755);
  2. an unprivileged user (uid/gid 65534, no groups) cannot connect, and
     even with the file modes opened up by hand its empty replace_all is
     refused by the SO_PEERCRED check: the table is unchanged;
  3. 8 clients that send a 32 MiB length header and stall do not keep
     cats-control out: it connects and syncs, and the stalled ones are
     dropped after the read deadline;
  4. with --mgmt-group, members of the group (65534 here) take at most 7
     slots: 8 stalled members still leave room for root;
  5. a client that sends STATS requests and never reads does not hold up
     the management thread: another client's requests are answered in well
     under a second throughout, and the non-reader is dropped;
  6. a second cats-dataplane on the same --mgmt-socket refuses to start
     (naming the live socket) and leaves the path alone: the first one
     stays manageable on it.

usage: test_mgmt_socket.py BUILD_DIR
"""
import grp
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

from robust_common import (CATSCTL, CONTROL, ERROR, STATS_REQ, STATUS, STATUS_REQ, UPDATE, UPDATE_ACK, _procs,
                           batch, check, decode_ack, finish, header, message, mgmt_connect, mgmt_reply, need_root,
                           output, run_as_nobody, start_dataplane, status, stop)

need_root("cats-dataplane's EAL writes under /var/run/dpdk; the test switches users with setpriv")

BIG = 32 << 20  # the protocol's bound (mgmt_wire.hpp kMaxPayload)


def stallers(path, n):
    """n connections that announce a 32 MiB UPDATE and send nothing more."""
    out = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(path)
            s.sendall(header(UPDATE, BIG, 1) + b"\0" * 64)
            out.append(s)
        except OSError as e:
            print("a staller could not connect: %s" % e)
            s.close()
    return out


def closed_by_peer(s, within):
    """Has the dataplane closed this connection within `within` seconds?"""
    s.settimeout(0.5)
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            data = s.recv(65536)
            if not data:
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def catsctl_json(ctl_sock, *args):
    p = subprocess.run([CATSCTL, "-s", ctl_sock, "--json"] + list(args), capture_output=True, text=True, timeout=30)
    import json
    return json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None


with tempfile.TemporaryDirectory(prefix="cats-robust-mgmt-") as tmp:
    os.chmod(tmp, 0o755)  # so that uid 65534 can reach what is below
    rundir = os.path.join(tmp, "run")
    sock = os.path.join(rundir, "dataplane.sock")
    dp = start_dataplane(tmp, "a", ["--mgmt-socket", sock], umask=0, wait_socket=sock)
    up = check(dp.poll() is None and os.path.exists(sock),
               "cats-dataplane starts under umask 000 with --mgmt-socket in a missing directory (%s)"
               % output(dp).strip()[-300:])

    # 1. Modes.
    if up:
        m = stat.S_IMODE(os.stat(sock).st_mode)
        check(m == 0o660, "the socket is mode 0660 under umask 000 (got %o)" % m)
        m = stat.S_IMODE(os.stat(rundir).st_mode)
        check(m == 0o750, "the directory it made is mode 0750 under umask 000 (got %o)" % m)

    stop(dp)

    # The rest on a socket in a directory the test made (0750, as the
    # dataplane makes it), so that each part stands on its own.
    rundir = os.path.join(tmp, "run2")
    os.mkdir(rundir, 0o750)
    sock = os.path.join(rundir, "dataplane.sock")
    dp = start_dataplane(tmp, "c", ["--mgmt-socket", sock], wait_socket=sock)
    up = check(dp.poll() is None and os.path.exists(sock), "cats-dataplane starts (%s)" % output(dp).strip()[-300:])

    # 2. An unprivileged user.
    empty_replace_all = message(UPDATE, 5, batch([], replace_all=True))
    probe = r'''
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(%r)
except OSError as e:
    print("connect-refused", e.errno); sys.exit(0)
try:
    s.sendall(%r)
    h = b""
    while len(h) < 16:
        c = s.recv(16 - len(h))
        if not c: break
        h += c
    if len(h) < 16:
        print("closed"); sys.exit(0)
    t = struct.unpack("!IHHII", h)[2]
    print("reply", t)
except OSError as e:
    print("closed", e.errno)
''' % (sock, empty_replace_all)
    if up:
        before = status(sock)
        r = run_as_nobody(probe)
        check(r.stdout.startswith("connect-refused"), "uid 65534 cannot connect to the socket (%s%s)"
              % (r.stdout.strip(), r.stderr.strip()[-200:]))
        # An administrator's mistake opens the file modes: SO_PEERCRED
        # still refuses.
        os.chmod(rundir, 0o755)
        os.chmod(sock, 0o666)
        r = run_as_nobody(probe)
        check(r.stdout.strip() in ("closed", "reply %d" % ERROR) or r.stdout.startswith("closed"),
              "with the socket opened up to everyone, uid 65534's empty replace_all is refused (%s)"
              % r.stdout.strip())
        after = status(sock)
        check(after["services"] == before["services"] and after["table_version"] == before["table_version"],
              "the table is unchanged (%d services, version %d)" % (after["services"], after["table_version"]))
        os.chmod(sock, 0o660)
        os.chmod(rundir, 0o750)

    # 3. 8 stalled clients, then cats-control.
    if up:
        held = stallers(sock, 8)
        time.sleep(0.3)
        ctl_sock = os.path.join(tmp, "control.sock")
        cfg = os.path.join(tmp, "control.yaml")
        with open(cfg, "w") as f:
            f.write("listen: []\nctl_socket: %s\ndataplane_socket: %s\npolicy: {startup_hold_s: 0}\n"
                    "services:\n  - cs_id: 300\n    name: from-control\n"
                    "    instances: [{id: 1, sids: ['fc00::3']}]\n" % (ctl_sock, sock))
        log = open(os.path.join(tmp, "control.log"), "w+b")
        control = subprocess.Popen([CONTROL, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
        _procs.append(control)
        t0 = time.time()
        state = None
        while time.time() - t0 < 4:
            j = catsctl_json(ctl_sock, "dataplane", "status") if os.path.exists(ctl_sock) else None
            state = j and j["link"]["state"]
            if state == "up" and j["link"]["in_sync"]:
                break
            time.sleep(0.2)
        check(state == "up", "with 8 stalled clients connected, cats-control connects and syncs within 4 s "
              "(link %s)" % state)
        if state == "up":
            check(status(sock)["services"] == 1, "the dataplane runs cats-control's table")
        dropped = [closed_by_peer(s, 8) for s in held]
        check(len(held) == 8 and all(dropped), "the stalled clients are dropped after the read deadline (%d of %d)"
              % (sum(dropped), len(held)))
        for s in held:
            s.close()
        stop(control)

    # 5. A client that asks for stats and never reads.
    if up:
        hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hog.connect(sock)
        hog.setblocking(False)

        def flood(t_end):
            req = message(STATS_REQ, 1) * 256
            while time.time() < t_end:
                try:
                    hog.send(req)
                except BlockingIOError:
                    time.sleep(0.02)
                except OSError:
                    return  # dropped by the dataplane
        flooder = threading.Thread(target=flood, args=(time.time() + 6,), daemon=True)
        flooder.start()
        time.sleep(0.2)
        worst = 0.0
        answered = 0
        good = mgmt_connect(sock, timeout=10)
        t_end = time.time() + 7
        while time.time() < t_end:
            t = time.time()
            try:
                good.sendall(message(STATUS_REQ, 2))
                mtype, _, _ = mgmt_reply(good)
                answered += mtype == STATUS
            except OSError as e:
                print("status request failed:", e)
                worst = 99
                break
            worst = max(worst, time.time() - t)
            time.sleep(0.05)
        good.close()
        flooder.join(10)
        check(answered > 20 and worst < 0.5, "while a client floods STATS requests and never reads, another "
              "client's %d requests were answered, the slowest in %.3f s (want < 0.5)" % (answered, worst))
        check(closed_by_peer(hog, 3), "the client that never reads is dropped after the write deadline")
        hog.close()

    # 6. A second dataplane on the same path.
    if up:
        dp2 = start_dataplane(tmp, "b", ["--mgmt-socket", sock])
        try:
            rc = dp2.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
            stop(dp2)  # the old behaviour: it took the path over; its exit unlinks it
        out2 = output(dp2)
        check(rc not in (None, 0) and "another process answers" in out2,
              "a second cats-dataplane on the same --mgmt-socket refuses to start (exit %s: %s)"
              % (rc, out2.strip()[-200:]))
        check(os.path.exists(sock), "the socket path is still there after the second one exited")
        try:
            st = status(sock)
            check(st["services"] == 1, "the first gateway still answers on the path with its table")
        except OSError as e:
            check(False, "the first gateway still answers on the path (%s)" % e)

    stop(dp)
    check(not os.path.exists(sock), "the first gateway removes its own socket on exit")

    # 4. --mgmt-group: members share 7 slots; root still gets in.
    try:
        nogroup = grp.getgrgid(65534).gr_name
    except KeyError:
        nogroup = "65534"
    sock_b = os.path.join(tmp, "run-b", "dataplane.sock")
    dpb = start_dataplane(tmp, "g", ["--mgmt-socket", sock_b, "--mgmt-group", nogroup], wait_socket=sock_b)
    if check(dpb.poll() is None, "cats-dataplane starts with --mgmt-group %s (%s)" % (nogroup, output(dpb)[-300:])):
        st = os.stat(sock_b)
        check(st.st_gid == 65534 and stat.S_IMODE(st.st_mode) == 0o660, "the socket is 0660 with group %s" % nogroup)
        os.chmod(tmp, 0o755)
        members = r'''
import socket, struct, sys, time
held, refused = [], 0
for i in range(8):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(%r)
    try:
        s.sendall(struct.pack("!IHHII", 0x4341544D, 0, 1, 32 << 20, 1))
    except OSError:  # closed on accept already: refused
        refused += 1
        s.close()
        continue
    held.append(s)
time.sleep(1.0)
for s in held:
    s.settimeout(0.2)
    try:
        s.recv(4096)  # an error reply or the close: refused
        refused += 1
    except socket.timeout:
        pass  # admitted, waiting for the rest of its message
    except OSError:
        refused += 1
print("refused", refused, flush=True)
time.sleep(3)
''' % sock_b
        p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                              members], stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().strip()
        check(line == "refused 1", "8 stalled group members: 7 admitted, 1 refused (%s)" % line)
        try:
            st = status(sock_b, timeout=3)
            check(st["mgmt_clients"] >= 7, "root still gets a slot with 7 members holding theirs (%d clients)"
                  % st["mgmt_clients"])
        except (OSError, ValueError) as e:
            check(False, "root still gets a slot with 7 members holding theirs (%s)" % e)
        p.wait(30)
    stop(dpb)

finish()
