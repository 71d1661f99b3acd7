# SPDX-License-Identifier: BSD-3-Clause
"""What every ops test (tests/ops) shares: its arguments (SOURCE_ROOT
BUILD_DIR), the binaries, checks that print ok/FAIL and are counted, and
the exit status."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
SKIP = 77
ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
BUILD = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "build")
DP = os.path.join(BUILD, "dataplane", "cats-dataplane")
CONTROL = os.path.join(BUILD, "control", "cats-control")
CATSCTL = os.path.join(BUILD, "tools", "catsctl", "catsctl")
AGENT = os.path.join(BUILD, "tools", "agent", "cats-agent")

failures = []


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        failures.append(msg)
    return cond


def run(*args, timeout=120, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)


def wait_for(pred, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def finish():
    """The exit status: 1 if any check failed."""
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def isolated_main(script, inside, prefix, tools=()):
    """main() of a test that runs in fresh mount and network namespaces:
    re-runs `script` under `unshare --mount --net` with a scratch directory,
    where `inside(tmp)` does the work (after private_run()). Skips (77)
    with one line without root, unshare or one of `tools` ((name, Debian
    package) pairs)."""
    import shutil
    import tempfile
    if "--inside" in sys.argv:
        private_run()
        inside(sys.argv[sys.argv.index("--inside") + 1])
        return finish()
    if os.geteuid() != 0:
        print("SKIP: needs root (mount and network namespaces)")
        return SKIP
    for tool, pkg in (("unshare", "util-linux"),) + tuple(tools):
        if shutil.which(tool) is None:
            print("SKIP: %s is not installed (Debian: %s)" % (tool, pkg))
            return SKIP
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        p = subprocess.run(["unshare", "--mount", "--net", "/usr/bin/python3", os.path.abspath(script), ROOT, BUILD,
                            "--inside", tmp], timeout=240)
        return p.returncode


def private_run():
    """Inside the namespaces: tmpfs on /run and /var/lib (sockets, state
    of our own), and a loopback that is up."""
    for m in ("/run", "/var/lib"):
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", m], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
