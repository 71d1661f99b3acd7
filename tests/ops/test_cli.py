#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What a new user types first (issue 21, items 5, 7, 9):

  1. every binary answers --version with its name, the project's version
     and `git describe` of the tree (meson's vcs_tag), exit 0;
  2. cats-dataplane --help and --check-config need no EAL (this machine
     has no hugepages: EAL would fail without --no-huge); the sample
     configs check ok; a bad config is one line naming the file once, then
     the YAML path, exit 2; cats-control says the same way;
  3. usage errors are one line plus where to look, in the same words in
     every program: "PROG: unknown argument 'X'" then "  (PROG --help for
     usage)", exit 2; cats-dataplane says so before EAL starts (no EAL
     line, no hugepages needed);
  4. --log-level in the dataplane, cats-control and cats-agent: a bad
     level is a usage error naming the levels; at "error" the dataplane's
     and the agent's info lines are gone, at "debug" the agent logs every
     round; log lines are "PROG: LEVEL: message".

Usage: test_cli.py SOURCE_ROOT BUILD_DIR.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

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

    # 3. One style of "unknown argument".
    for name, argv, hint in (("cats-control", ["--bogus"], "cats-control"),
                             ("cats-dataplane", ["--no-huge", "--", "--bogus"], "cats-dataplane"),
                             ("cats-dataplane", ["--", "--config", "x.yaml", "extra"], "cats-dataplane"),
                             ("cats-agent", ["--bogus"], "cats-agent"),
                             ("cats-bench", ["--", "--bogus"], "cats-bench"),
                             ("catsctl", ["--bogus"], "catsctl"),
                             ("catsctl", ["service", "list", "--bogus"], "catsctl service list"),
                             ("cats-trafgen", ["--bogus"], "cats-trafgen"),
                             ("cats-trafgen", ["gen", "--bogus"], "cats-trafgen gen")):
        if not os.access(binary(name), os.X_OK):
            continue
        bad = argv[-1]
        p = run(binary(name), *argv)
        check(p.returncode == 2 and p.stderr == "%s: unknown argument '%s'\n  (%s --help for usage)\n" %
              (name, bad, hint), "%s %s: %r" % (name, " ".join(argv), p.stderr))
    p = run(dp, "--", "--config")
    check(p.returncode == 2 and p.stderr == "cats-dataplane: --config needs a value\n"
          "  (cats-dataplane --help for usage)\n", "cats-dataplane -- --config: %r" % p.stderr)
    # A flag takes no value, an option does, attached or not: the word
    # after them is the mistyped command either way.
    for argv in (["-j", "servce", "list"], ["-js", "/x", "servce"], ["-s/x", "servce"], ["--socket=/x", "servce"]):
        p = run(binary("catsctl"), *argv)
        check(p.returncode == 2 and p.stderr.startswith("catsctl: 'servce' is not a command of catsctl; did you mean "
                                                        "'service'?"), "catsctl %s: %r" % (" ".join(argv), p.stderr))
    p = run(binary("cats-dataplane"), "--", "-xy")
    check(p.returncode == 2 and p.stderr.startswith("cats-dataplane: unknown argument '-x'\n"),
          "cats-dataplane -- -xy names -x: %r" % p.stderr)
    p = run(binary("catsctl"), "servce", "list")
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 2 and "did you mean 'service'?" in p.stderr,
          "catsctl usage error: %r" % p.stderr)

    # 4. Log levels.
    VDEV = "net_pcap0,rx_pcap=%s,tx_pcap=/dev/null" % os.path.join(ROOT, "tests", "data", "lab-sample.pcap")
    for name, argv in (("cats-control", ["--log-level", "loud"]),
                       ("cats-dataplane", ["--", "--config", "x.yaml", "--log-level", "loud"]),
                       ("cats-agent", ["--log-level", "loud"])):
        p = run(binary(name), *argv)
        check(p.returncode == 2 and "'loud' is not debug, info, warn or error" in p.stderr
              or (name == "cats-control" and "takes debug, info, warn or error" in p.stderr and p.returncode == 2),
              "%s --log-level loud: %r" % (name, p.stderr))
    # The agent sends to a socket of ours (that takes its datagrams).
    sink = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sink.bind(("::1", 0))
    ctl = "[::1]:%d" % sink.getsockname()[1]
    agent = [binary("cats-agent"), "--control", ctl, "--node-id", "1", "--key-id", "1", "--key-hex", "00" * 32,
             "--service", "100:1:2001:db8::1", "--interval", "0.1"]
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}

    def agent_log(level, seconds=0.6):
        proc = subprocess.Popen(agent + ["--log-level", level], stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(seconds)
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=10)[1]
    info, debug, error = agent_log("info"), agent_log("debug"), agent_log("error")
    sink.close()
    check(info.startswith("cats-agent: info: node 1 key 1: advertising 1 instance(s)") and "debug:" not in info,
          "cats-agent at info: %r" % info[:300])
    check(debug.count("cats-agent: debug: controller %s: sent 1 datagram(s)" % ctl) >= 2,
          "cats-agent at debug logs every round: %r" % debug[:400])
    check(error == "", "cats-agent at error: nothing (%r)" % error[:300])
    p = run(dp, "--no-huge", "-m", "256", "--no-pci", "-l", "0", "--log-level", "lib.eal:error", "--file-prefix",
            "cats-cli-%d" % os.getpid(), "--vdev", VDEV, "--", "--config", os.path.join(ROOT, "configs", "gateway.yaml"),
            "--idle-exit", "100", "--log-level", "error")
    check(p.returncode == 0 and "info:" not in p.stderr,
          "cats-dataplane -- --log-level error: no info lines (rc %d): %r" % (p.returncode, p.stderr[:300]))
    p = run(dp, "--no-huge", "-m", "256", "--no-pci", "-l", "0", "--log-level", "lib.eal:error", "--file-prefix",
            "cats-cli-%d" % os.getpid(), "--vdev", VDEV, "--", "--config", os.path.join(ROOT, "configs", "gateway.yaml"),
            "--idle-exit", "100")
    check(p.returncode == 0 and "cats-dataplane: info: 1 port(s)" in p.stderr,
          "cats-dataplane at info says what it runs (rc %d): %r" % (p.returncode, p.stderr[-400:]))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
