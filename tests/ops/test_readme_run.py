#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The README's minimal run, as written (issue 21, item 1).

Takes the shell block between `<!-- minimal-run -->` and
`<!-- /minimal-run -->` in README.md and runs its lines from the source
root, changing nothing but the `build/` directory at the start of each
command (to this build). It runs in fresh mount and network namespaces:
tmpfs on /run (so /run/cats, EAL's /var/run/dpdk) and on /var/lib (so
cats-control's state_dir), a loopback of its own for [::1]:7410, so that
the paths and ports the README names are used as they are without touching
the machine's. The lines ending in `&` are the daemons and the agent; each
other line (catsctl) must exit 0 and show what its comment says within
40 s: instance 1000 from node 1 in_sync, the link up and in sync.

Usage: test_readme_run.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped), with
one line saying why, without root or unshare.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import SKIP, ROOT, BUILD, check, failures, finish






def readme_lines():
    text = open(os.path.join(ROOT, "README.md")).read()
    m = re.search(r"<!-- minimal-run -->\s*```sh\n(.*?)```\s*<!-- /minimal-run -->", text, re.S)
    if not m:
        return None
    lines, cur = [], ""
    for raw in m.group(1).splitlines():
        cur += raw.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
    return lines


def rebuild(cmd):
    """`build/...` at the start of the command -> this build."""
    return re.sub(r"^build/", BUILD + "/", cmd)


# (what the comment promises, a regex over the output)
EXPECT = {
    "service list": r"^100\s+\S+\s+1000\s+advert\s+1\s+2001:db8:a2::1000\b.*\bin_sync\s*$",
    "dataplane status": r"^link\s+up \(in sync\)\s*$",
}


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (mount and network namespaces, /run/cats)")
        return SKIP
    if shutil.which("unshare") is None:
        print("SKIP: unshare (util-linux) is not installed")
        return SKIP
    lines = readme_lines()
    if not check(lines is not None, "README.md has the minimal-run block"):
        return 1
    daemons = [l for l in lines if l.endswith("&")]
    checks = [l for l in lines if not l.endswith("&")]
    check(len(daemons) == 3 and len(checks) == 2, "3 background lines and 2 checks: %s" % lines)
    out_pcap = "/tmp/cats-min-out.pcap"
    had_pcap = os.path.exists(out_pcap)
    with tempfile.TemporaryDirectory(prefix="cats-readme-") as tmp:
        script = ["set -u", "mount -t tmpfs tmpfs /run", "mount -t tmpfs tmpfs /var/lib", "ip link set lo up",
                  "cd %s" % shlex.quote(ROOT)]
        for i, d in enumerate(daemons):
            cmd = rebuild(d[:-1].split("#")[0].strip())
            script.append("%s > %s/bg%d.log 2>&1 &" % (cmd, tmp, i))
        for i, c in enumerate(checks):
            cmd = rebuild(c.split("#")[0].strip())
            what = next((k for k in EXPECT if k in cmd), None)
            pattern = EXPECT.get(what, ".")
            # Retry until the output shows what the comment says.
            script.append("ok=0; for t in $(seq 1 80); do if %s > %s/check%d.out 2>&1 && "
                          "grep -Eq %s %s/check%d.out; then ok=1; break; fi; sleep 0.5; done; "
                          "echo \"check%d=$ok\"" % (cmd, tmp, i, shlex.quote(pattern), tmp, i, i))
        script.append("kill $(jobs -p) 2>/dev/null; wait")
        p = subprocess.run(["unshare", "--mount", "--net", "bash", "-c", "\n".join(script)], capture_output=True,
                           text=True, timeout=240)
        status = dict(re.findall(r"^(check\d)=(\d)$", p.stdout, re.M))
        for i, c in enumerate(checks):
            out = open(os.path.join(tmp, "check%d.out" % i)).read() if os.path.exists(
                os.path.join(tmp, "check%d.out" % i)) else ""
            check(status.get("check%d" % i) == "1", "`%s` exits 0 and shows what its comment says:\n%s" %
                  (c, out.strip()))
        if failures:
            for i in range(len(daemons)):
                log = os.path.join(tmp, "bg%d.log" % i)
                if os.path.exists(log):
                    print("--- %s\n%s" % (daemons[i][:60], open(log).read()[-1500:]))
            print(p.stderr[-1500:])
    if not had_pcap and os.path.exists(out_pcap):
        os.unlink(out_pcap)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
