#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Item 3: updates cost no more than their size, with the real binary.

  1. peak memory: a batch at the op cap (1,048,576 ops, 8.9 MB: every
     service upserted and removed again) is applied, and cats-dataplane's
     VmHWM grows by a small multiple of the batch, not by the ~150 bytes
     per op a decoded batch used to take (issue: an 8 MiB RemoveService
     batch raised it by 243 MB);
  2. the issue's 8 MiB RemoveService batch (1.7M ops) is refused by its
     operation count alone, naming it, and the table is unchanged;
  3. the quadratic case: N UpsertInstance ops of new ids into one service
     (issue: 40k 0.5 s, 80k 2.9 s, 160k 9.4 s). 160k is answered within a
     few seconds, refused at the op that passes the service's bound, and
     the management thread's CPU time per op at 160k is at most 4x that
     at 20k (CPU time, not wall time: a loaded machine cannot fail it);
  4. a legal batch that is applied grows linearly too: 20k and 160k
     UpsertInstance ops over services of 1000 instances each;
  5. SIGTERM right after the 160k-op batch into one service: the process
     exits within 5 s.

Bounds are generous (seconds, 4x ratios, tens of MB): they catch a
quadratic apply or a per-op decode, not a slow machine.

usage: test_update_cost.py BUILD_DIR
"""
import os
import socket
import struct
import tempfile
import time

from robust_common import (ERROR, UPDATE, UPDATE_ACK, check, decode_ack, finish, message, mgmt_connect, mgmt_reply,
                           need_root, output, start_dataplane, status, stop)

need_root("cats-dataplane's EAL writes under /var/run/dpdk")

MAX_BATCH_OPS = 1 << 20           # proto-defs/mgmt_wire.hpp kMaxBatchOps
MAX_INSTANCES_PER_SERVICE = 1024  # dataplane/config.hpp

SID = socket.inet_pton(socket.AF_INET6, "fc00::1")
METRICS = struct.pack("!BBHIIII", 10, 0, 1, 1, 0, 0xFFFFFFFF, 100)


def yaml():
    return (b"gateway: {encap_source: '2001:db8:ff::1', max_services: 4096, max_instances: 262144}\n"
            b"ports: [{name: net_null0}]\n"
            b"neighbors: [{address: 'fe80::1', mac: '02:00:00:00:00:01', port: net_null0}]\n"
            b"routes: [{prefix: 'fc00::/16', via: 'fe80::1'}]\n"
            b"services:\n"
            b"  - cs_id: 100\n"
            b"    name: video\n"
            b"    instances: [{id: 1, sids: ['fc00::1']}]\n")


def head(n_ops):
    return struct.pack("!BBHI", 0, 0, 0, n_ops)


def upsert_service(cs_id, name=b""):
    return b"\x01" + struct.pack("!IIB", cs_id, 30, len(name)) + name + struct.pack("!H", 0)


def remove_service(cs_id):
    return b"\x02" + struct.pack("!I", cs_id)


def upsert_instance(cs_id, iid):
    return b"\x03" + struct.pack("!IIB", cs_id, iid, 1) + SID + METRICS


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise ValueError("no VmHWM")


def mgmt_cpu_s(pid):
    """CPU seconds of the management thread: unlike wall time, not inflated
    by a loaded machine (the thread shares its CPU with others)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() != "cats-mgmt":
                continue
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    raise ValueError("no cats-mgmt thread")


def update(sock_path, payload, seq, timeout=120, pid=None):
    """(ack status, version, error text, wall seconds from first byte sent to
    reply, management thread CPU seconds meanwhile if pid is given)."""
    s = mgmt_connect(sock_path, timeout)
    try:
        c0 = mgmt_cpu_s(pid) if pid else 0.0
        t0 = time.monotonic()
        s.sendall(message(UPDATE, seq, payload))
        mtype, rseq, body = mgmt_reply(s)
        dt = time.monotonic() - t0
        cpu = mgmt_cpu_s(pid) - c0 if pid else 0.0
    finally:
        s.close()
    st, version, err = decode_ack(body)
    return st, version, err, dt, cpu


# CPU time is counted in ticks (10 ms): a cost per op is taken over at
# least this long, so that a tick more or less cannot fail a ratio.
CPU_FLOOR_S = 0.05


def main():
    tmp = tempfile.mkdtemp(prefix="cats-robust-cost-")
    os.chmod(tmp, 0o755)
    sock = os.path.join(tmp, "mgmt.sock")
    dp = start_dataplane(tmp, "cost", ["--mgmt-socket", sock], yaml=yaml(), wait_socket=sock)
    if not check(dp.poll() is None, "cats-dataplane is up"):
        print(output(dp))
        return

    # Warm up the paths a batch takes (decode, apply, publish, ack) first,
    # so that the peak below is the big batch's alone.
    warm = head(2000) + b"".join(upsert_service(5000 + k) + remove_service(5000 + k) for k in range(1000))
    st, _, err, _, _ = update(sock, warm, 1)
    check(st == 0, "a small batch of service upserts and removals is applied (%s)" % err)
    v0 = status(sock)["table_version"]

    # 1. Peak memory for a batch at the op cap.
    pairs = MAX_BATCH_OPS // 2
    big = head(2 * pairs) + b"".join(upsert_service(10000 + k) + remove_service(10000 + k) for k in range(pairs))
    hwm0 = vm_hwm_kb(dp.pid)
    st, version, err, dt, _ = update(sock, big, 2)
    hwm1 = vm_hwm_kb(dp.pid)
    grew_mb = (hwm1 - hwm0) / 1024.0
    batch_mb = len(big) / 1e6
    print("batch of %d ops, %.1f MB: applied in %.2f s, VmHWM %d -> %d kB (+%.1f MB)"
          % (2 * pairs, batch_mb, dt, hwm0, hwm1, grew_mb))
    check(st == 0 and version == v0 + 1, "a batch of %d ops (the cap) is applied (%s)" % (2 * pairs, err))
    # The batch is buffered once (in) and read in place; what apply holds is
    # bounded by the table. Before: ~150 bytes per decoded op, 160+ MB here.
    check(grew_mb <= 4 * batch_mb + 16,
          "peak memory grew by %.1f MB for a %.1f MB batch (at most 4x + 16 MB)" % (grew_mb, batch_mb))

    # 2. The 8 MiB RemoveService batch: over the op cap.
    n = (8 << 20) // 5
    rm = head(n) + b"".join(remove_service(100) for _ in range(n))
    hwm0 = vm_hwm_kb(dp.pid)
    st, version, err, dt, _ = update(sock, rm, 3)
    grew_mb = (vm_hwm_kb(dp.pid) - hwm0) / 1024.0
    check(st == 1 and err == "operation count %d exceeds %d per batch" % (n, MAX_BATCH_OPS),
          "an 8 MiB batch of %d RemoveService ops is refused by its count (status %d: %s)" % (n, st, err))
    check(grew_mb <= 4 * len(rm) / 1e6 + 16, "and costs no more than its size in memory (+%.1f MB)" % grew_mb)
    check(status(sock)["table_version"] == v0 + 1, "the table is unchanged")

    # 3. The quadratic case: one service, new ids. Refused at the bound,
    # fast, and the cost per op does not grow with the batch.
    per_op = {}
    for n, seq in ((20000, 4), (160000, 5)):
        payload = head(n) + b"".join(upsert_instance(100, 1000 + k) for k in range(n))
        st, _, err, dt, cpu = update(sock, payload, seq, pid=dp.pid)
        per_op[n] = max(cpu, CPU_FLOOR_S) / n
        print("%d UpsertInstance ops into one service: answered in %.3f s, %.2f s CPU: %s" % (n, dt, cpu, err))
        # The service has one instance: the op that adds instance 1025 is refused.
        want = "op %d: service 100 instance %d: more than %d instances" % (
            MAX_INSTANCES_PER_SERVICE - 1, 1000 + MAX_INSTANCES_PER_SERVICE - 1, MAX_INSTANCES_PER_SERVICE)
        check(st == 2 and err == want, "%d ops into one service are refused at its bound (%s)" % (n, err))
        check(dt < 5.0, "%d ops into one service are answered in %.2f s (under 5 s; was 9.4 s at 160k)" % (n, dt))
    check(per_op[160000] <= 4 * per_op[20000],
          "CPU time per op at 160k (%.0f ns) is at most 4x that at 20k (%.0f ns)"
          % (per_op[160000] * 1e9, per_op[20000] * 1e9))

    # 4. Batches that are applied: 1000 instances per service.
    per_op = {}
    for n, base, seq in ((20000, 20000, 6), (160000, 40000, 7)):
        services = n // 1000
        create = head(services) + b"".join(upsert_service(base + s, b"s%d" % s) for s in range(services))
        st, _, err, _, _ = update(sock, create, seq * 10)
        check(st == 0, "%d empty services are created (%s)" % (services, err))
        payload = head(n) + b"".join(upsert_instance(base + k // 1000, k % 1000 + 1) for k in range(n))
        st, _, err, dt, cpu = update(sock, payload, seq, pid=dp.pid)
        per_op[n] = max(cpu, CPU_FLOOR_S) / n
        print("%d UpsertInstance ops over %d services: applied in %.3f s, %.2f s CPU" % (n, services, dt, cpu))
        check(st == 0, "%d UpsertInstance ops over %d services are applied (%s)" % (n, services, err))
        check(dt < 10.0, "in %.2f s (under 10 s)" % dt)
    check(per_op[160000] <= 4 * per_op[20000],
          "CPU time per applied op at 160k (%.0f ns) is at most 4x that at 20k (%.0f ns)"
          % (per_op[160000] * 1e9, per_op[20000] * 1e9))
    st = status(sock)
    check(st.get("services") == 1 + 20 + 160, "the table holds the 181 services (%s)" % st.get("services"))

    stop(dp, timeout=60)

    # 5. SIGTERM right after a batch: the management thread is not held up
    # by it (before: 160k ops into one service held it for 10-20 s, and
    # SIGTERM waited for them). A gateway of its own, with a small table:
    # the final stats report at exit lists every instance, and 180k of
    # them take seconds to print.
    sock = os.path.join(tmp, "mgmt-term.sock")
    dp = start_dataplane(tmp, "term", ["--mgmt-socket", sock], yaml=yaml(), wait_socket=sock)
    if not check(dp.poll() is None, "a second cats-dataplane is up"):
        return
    s = mgmt_connect(sock, 30)
    s.sendall(message(UPDATE, 8, head(160000) + b"".join(upsert_instance(100, 1000 + k) for k in range(160000))))
    t0 = time.monotonic()
    rc = stop(dp, timeout=60)
    dt = time.monotonic() - t0
    s.close()
    check(dt < 5.0 and rc == 0, "SIGTERM right after a 160k-op batch into one service: exited in %.2f s (rc %s)"
          % (dt, rc))


try:
    main()
finally:
    finish()
