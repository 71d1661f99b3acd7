#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What a new user types first (issue 21, items 5, 7, 9):

  1. every binary answers --version with its name, the project's version
     and `git describe` of the tree (meson's vcs_tag), exit 0;
  2. cats-dataplane --help and --check-config need no EAL (this machine
     has no hugepages: EAL would fail without --no-huge); the sample
     configs check ok; a bad config is one line naming the file once, then
     the YAML path, exit 2; cats-control says the same way;
  3. catsctl and cats-control usage errors are one line plus where to look.

Usage: test_cli.py SOURCE_ROOT BUILD_DIR.
"""
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import ROOT, BUILD, check, run, finish

BINS = {"cats-dataplane": "dataplane", "cats-control": "control", "catsctl": "tools/catsctl",
        "cats-agent": "tools/agent", "cats-trafgen": "tools/trafgen", "cats-bench": "tools/bench"}







def binary(name):
    return os.path.join(BUILD, BINS[name], name)


def main():
    git = run("git", "-C", ROOT, "describe", "--always", "--dirty", "--tags")
    describe = git.stdout.strip() if git.returncode == 0 else "unknown"
    version = next(l.split("'")[1] for l in open(os.path.join(ROOT, "meson.build")) if "version:" in l)
    for name in BINS:
        if not os.access(binary(name), os.X_OK):
            check(False, "%s is built" % name)
            continue
        p = run(binary(name), "--version")
        check(p.returncode == 0 and p.stdout == "%s %s (git %s)\n" % (name, version, describe),
              "%s --version: %r (want git %s)" % (name, p.stdout.strip(), describe))

    dp = binary("cats-dataplane")
    p = run(dp, "--help")
    check(p.returncode == 0 and p.stdout.startswith("usage: cats-dataplane") and "--check-config" in p.stdout,
          "cats-dataplane --help: the application's usage, no EAL (exit %d)" % p.returncode)
    for cfg in ("gateway.yaml", "gateway-network.yaml"):
        path = os.path.join(ROOT, "configs", cfg)
        p = run(dp, "--check-config", path)
        check(p.returncode == 0 and p.stdout.startswith(path + ": ok ("), "--check-config %s: %s" %
              (cfg, (p.stdout + p.stderr).strip()))
    with tempfile.TemporaryDirectory(prefix="cats-cli-") as tmp:
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as fh:
            fh.write("gateway: {encap_source: zz}\nports: [{name: p0}]\n")
        p = run(dp, "--check-config", bad)
        check(p.returncode == 2 and p.stderr == "cats-dataplane: %s: gateway.encap_source: 'zz' is not an IPv6 "
              "address\n" % bad, "a bad config: one line, the file once: %r" % p.stderr)
        p = run(dp, "--check-config", os.path.join(tmp, "none.yaml"))
        check(p.returncode == 2 and p.stderr.count(tmp) == 1, "a missing file, named once: %r" % p.stderr)
        p = run(binary("cats-control"), "--check", "--config", bad)
        check(p.returncode == 1 and ("config: %s: gateway: unknown key" % bad) in p.stderr and
              p.stderr.count(bad) == 1, "cats-control names the file once too: %r" % p.stderr.strip())
        p = run(binary("cats-control"), "--check", "--config", os.path.join(ROOT, "configs", "control.yaml"))
        check(p.returncode == 0 and ": ok (" in p.stdout, "cats-control --check on the sample: %s" % p.stdout.strip())

    p = run(binary("cats-control"), "--bogus")
    check(p.returncode == 2 and p.stderr == "cats-control: unknown argument '--bogus'\n"
          "  (cats-control --help for usage)\n", "cats-control usage error: %r" % p.stderr)
    p = run(binary("catsctl"), "servce", "list")
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 2 and "did you mean 'service'?" in p.stderr,
          "catsctl usage error: %r" % p.stderr)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
