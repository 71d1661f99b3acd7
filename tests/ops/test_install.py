#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""`meson install` and the systemd units (issue 21):

  1. `meson install --destdir` puts the binaries, the sample configs under
     <sysconfdir>/cats, the XDP program and the units in their places;
  2. the installed binaries accept the installed configs (--check-config,
     --check, the agent's --dump);
  3. `systemd-analyze verify` finds nothing to say about the units (their
     paths moved under the destdir, nothing else changed), and
     `systemd-analyze security` rates cats-control and cats-agent OK
     (exposure at most 3.0 of 10); cats-dataplane's is printed: DPDK needs
     more (hugepages, devices, raw sockets).
  4. the man pages (tools/man, help2man) are in share/man/man8 and man1,
     and `man -l` renders each without a warning, with NAME, SYNOPSIS,
     DESCRIPTION, OPTIONS and the program's version; without help2man the
     build has none, and this says so;
  5. catsctl's bash completion is in share/bash-completion/completions.

Usage: test_install.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped) with one
line saying why without systemd-analyze.
"""
import glob
import json
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import SKIP, BUILD, ROOT, check, run, finish

UNITS = ("cats-dataplane", "cats-control", "cats-agent")
# Each program's man page section and its binary in the build (tools/man).
MAN_PAGES = (("cats-dataplane", 8, "dataplane"), ("cats-control", 8, "control"), ("cats-agent", 8, "tools/agent"),
             ("catsctl", 8, "tools/catsctl"), ("cats-trafgen", 1, "tools/trafgen"), ("cats-bench", 1, "tools/bench"))


def built_man_pages():
    """The man pages the build makes: none when help2man was missing at
    configure time (tools/man/meson.build)."""
    with open(os.path.join(BUILD, "meson-info", "intro-targets.json")) as f:
        return set(t["name"] for t in json.load(f) if t["type"] == "custom" and re.match(r".*\.[18]$", t["name"]))


def check_man_pages(prefix):
    """4. Every built program's page is installed in share/man/manN, and man
    renders it without a warning, with NAME, SYNOPSIS, DESCRIPTION and
    OPTIONS, and the program's version."""
    built = built_man_pages()
    if not built:
        print("SKIP (man pages): the build has none: help2man was not found when meson configured it "
              "(Debian: help2man; then meson setup --reconfigure)")
        return
    man = shutil.which("man")
    if man is None:
        print("SKIP (man pages rendered): man is not installed (Debian: man-db)")
    for name, section, subdir in MAN_PAGES:
        binary = os.path.join(BUILD, subdir, name)
        if not os.access(binary, os.X_OK):
            print("note: %s is not built, so it has no man page" % name)
            continue
        page = os.path.join(prefix, "share", "man", "man%d" % section, "%s.%d" % (name, section))
        if not check(os.path.isfile(page), "%s is installed" % os.path.relpath(page, prefix)):
            continue
        if man is None:
            continue
        p = run(man, "--warnings", "-l", page, env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat"))
        check(p.returncode == 0 and p.stderr.strip() == "", "man -l %s.%d: no warnings (%s)" %
              (name, section, p.stderr.strip()[-300:]))
        text = p.stdout
        sections = re.findall(r"^([A-Z][A-Z ]+)$", text, re.M)
        check({"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS"} <= set(sections), "%s.%d has NAME, SYNOPSIS, "
              "DESCRIPTION and OPTIONS (it has %s)" % (name, section, sections))
        check(re.search(r"^NAME\n\s+%s +- +\S" % re.escape(name), text, re.M) is not None and
              re.search(r"^SYNOPSIS\n\s+%s +\S" % re.escape(name), text, re.M) is not None,
              "%s.%d: NAME and SYNOPSIS name %s" % (name, section, name))
        v = run(binary, "--version").stdout.split()
        version = v[1] if len(v) > 1 else "?"
        check(re.search(r"\b%s\b" % re.escape(version), text) is not None, "%s.%d says version %s" %
              (name, section, version))


def check_completion(prefix):
    """5. catsctl's bash completion, where bash-completion looks for it."""
    if not os.access(os.path.join(BUILD, "tools", "catsctl", "catsctl"), os.X_OK):
        print("note: catsctl is not built, so it has no completion")
        return
    comp = os.path.join(prefix, "share", "bash-completion", "completions", "catsctl")
    check(os.path.isfile(comp) and
          open(comp).read() == open(os.path.join(ROOT, "tools", "catsctl", "catsctl.bash")).read(),
          "share/bash-completion/completions/catsctl is tools/catsctl/catsctl.bash")


def main():
    if shutil.which("systemd-analyze") is None:
        print("SKIP: systemd-analyze is not installed (Debian: systemd)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="cats-install-") as dest:
        p = run("meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild", "--quiet")
        if not check(p.returncode == 0, "meson install --destdir: %s" % (p.stdout + p.stderr)[-500:]):
            return 1
        units = sorted(glob.glob(os.path.join(dest, "**", "lib", "systemd", "system", "cats-*.service"),
                                 recursive=True))
        check([os.path.basename(u) for u in units] == sorted(u + ".service" for u in UNITS),
              "the three units are installed: %s" % [os.path.relpath(u, dest) for u in units])
        if not units:
            return 1
        prefix = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(units[0]))))  # <dest><prefix>
        bindir = os.path.join(prefix, "bin")
        etc = glob.glob(os.path.join(dest, "**", "cats", "control.yaml"), recursive=True)
        check(len(etc) == 1, "control.yaml is installed once: %s" % etc)
        confdir = os.path.dirname(etc[0]) if etc else ""
        for f in ("gateway.yaml", "control.yaml", "agent.yaml"):
            check(os.path.isfile(os.path.join(confdir, f)), "%s is in %s" % (f, os.path.relpath(confdir, dest)))
        for b in ("cats-dataplane", "cats-control", "catsctl", "cats-agent"):
            check(os.access(os.path.join(bindir, b), os.X_OK), "%s is installed" % b)
        check(glob.glob(os.path.join(dest, "**", "cats_xdp.bpf.o"), recursive=True) != [] or
              not os.path.exists(os.path.join(BUILD, "dataplane", "xdp", "cats_xdp.bpf.o")),
              "the XDP program is installed with the binaries")

        # 2. The installed configs load.
        p = run(os.path.join(bindir, "cats-dataplane"), "--check-config", os.path.join(confdir, "gateway.yaml"))
        check(p.returncode == 0, "cats-dataplane --check-config on the installed gateway.yaml: %s" %
              (p.stdout + p.stderr).strip())
        p = run(os.path.join(bindir, "cats-control"), "--check", "--config", os.path.join(confdir, "control.yaml"))
        check(p.returncode == 0, "cats-control --check on the installed control.yaml: %s" % (p.stdout + p.stderr).strip())
        p = run(os.path.join(bindir, "cats-agent"), "--config", os.path.join(confdir, "agent.yaml"), "--dump")
        check(p.returncode == 0 and p.stdout.strip() != "", "cats-agent --dump on the installed agent.yaml: %s" %
              p.stderr.strip()[-300:])

        # 3. The units: the installed paths moved under the destdir.
        installed_prefix = prefix[len(dest):]
        vdir = os.path.join(dest, "verify")
        os.makedirs(vdir)
        for u in units:
            text = open(u).read()
            check(re.search(r"^ExecStart=%s/bin/" % re.escape(installed_prefix), text, re.M) is not None,
                  "%s starts %s/bin/..." % (os.path.basename(u), installed_prefix))
            with open(os.path.join(vdir, os.path.basename(u)), "w") as fh:
                fh.write(text.replace(installed_prefix + "/", prefix + "/"))
        vunits = sorted(glob.glob(os.path.join(vdir, "*.service")))
        p = run("systemd-analyze", "verify", *vunits)
        check(p.returncode == 0 and (p.stdout + p.stderr).strip() == "",
              "systemd-analyze verify: nothing to say (%s)" % (p.stdout + p.stderr).strip()[:800])
        for u in vunits:
            p = run("systemd-analyze", "security", "--offline=true", u)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", p.stdout)
            name = os.path.basename(u)
            if name == "cats-dataplane.service":
                check(m is not None, "%s: exposure %s %s (DPDK: hugepages, devices, raw sockets)" %
                      (name, m and m.group(1), m and m.group(2)))
            else:
                check(m is not None and float(m.group(1)) <= 3.0, "%s: exposure %s %s (at most 3.0)" %
                      (name, m and m.group(1), m and m.group(2)))

        # 4 and 5. The man pages and catsctl's completion.
        check_man_pages(prefix)
        check_completion(prefix)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
