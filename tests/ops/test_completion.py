#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""catsctl's bash completion (tools/catsctl/catsctl.bash, issue 21), run by
bash with bash-completion loaded, as if TAB had been pressed:

  1. `catsctl <TAB>` offers every command `catsctl --help` lists, and every
     command with subcommands offers those its own --help lists (the build's
     catsctl is asked, so a command added to catsctl and not to the
     completion fails here);
  2. every command's options, as its --help lists them, complete after
     `--`, as do catsctl's own (-s, --json, ... anywhere on the line), and
     an option's values when --help lists them ({a,b,...});
  3. --socket completes file names (also as --socket=...), --type and
     --compute-types their values; words before the command (options and
     their values) are skipped; ids and unknown words get nothing.

Usage: test_completion.py SOURCE_ROOT BUILD_DIR. Exit 77 (skipped) with one
line saying why without bash-completion or without catsctl (no CLI11).
"""
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_common import SKIP, ROOT, CATSCTL, check, run, finish

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
SCRIPT = os.path.join(ROOT, "tools", "catsctl", "catsctl.bash")

# Sources bash-completion and the script, sets COMP_* for the line in $1
# (completing its last word; a trailing space starts a new one) and prints
# what _catsctl offers, one per line. compopt works only inside a real
# completion: here it does nothing (it changes how the words are shown).
DRIVER = r'''
source "$BASH_COMPLETION" || exit 3
source "$SCRIPT" || exit 4
compopt() { :; }
COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_catsctl catsctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def complete(line):
    p = run("bash", "--norc", "--noprofile", "-c", DRIVER, "complete", line, timeout=30,
            env=dict(os.environ, BASH_COMPLETION=BASH_COMPLETION, SCRIPT=SCRIPT))
    if p.returncode != 0 or p.stderr.strip():
        check(False, "%r: bash exit %d: %s" % (line, p.returncode, p.stderr.strip()[-300:]))
    return set(w for w in p.stdout.split("\n") if w)


def help_of(words):
    """(subcommands, options, {option: its choices}) that `catsctl WORDS
    --help` lists."""
    p = run(CATSCTL, *words, "--help")
    if not check(p.returncode == 0, " ".join(["catsctl"] + list(words) + ["--help"])):
        return [], [], {}
    subs, opts, choices, heading = [], [], {}, None
    for line in p.stdout.split("\n"):
        if re.match(r"^\S.*:$", line):
            heading = line[:-1]
        elif heading == "Subcommands":
            m = re.match(r"^  (\S+)", line)
            if m:
                subs.append(m.group(1))
        elif heading == "Options":
            m = re.match(r"^  (-\S+)(?: \S*\{([^}]*)\})?", line)
            if m:
                opts += m.group(1).split(",")
                if m.group(2):
                    choices[m.group(1).split(",")[-1]] = set(m.group(2).split(","))
    return subs, opts, choices


def main():
    if not os.path.isfile(BASH_COMPLETION):
        print("SKIP: bash-completion is not installed (Debian: bash-completion)")
        return SKIP
    if not os.access(CATSCTL, os.X_OK):
        print("SKIP: catsctl is not built (it needs CLI11, Debian: libcli11-dev)")
        return SKIP

    # 1 and 2: the tree, walked from catsctl's own --help.
    top_subs, top_opts, _ = help_of([])
    check(len(top_subs) >= 5, "catsctl --help lists the commands: %s" % top_subs)
    got = complete("catsctl ")
    check(set(top_subs) <= got, "catsctl <TAB> offers every command of catsctl --help (missing: %s)" %
          sorted(set(top_subs) - got))
    if got - set(top_subs):
        print("note: the completion also offers %s, which catsctl --help does not list (yet)" %
              sorted(got - set(top_subs)))
    got = complete("catsctl -")
    check(set(top_opts) <= got, "catsctl -<TAB> offers catsctl's options %s (missing: %s)" %
          (top_opts, sorted(set(top_opts) - got)))
    global_opts = [o for o in top_opts if o != "--version"]
    leaves = 0
    todo = [[s] for s in top_subs]
    while todo:
        words = todo.pop(0)
        subs, opts, choices = help_of(words)
        line = "catsctl " + " ".join(words)
        if subs:
            got = complete(line + " ")
            check(set(subs) <= got and not got - set(subs),
                  "%s <TAB> offers its commands %s (got %s)" % (line, subs, sorted(got)))
            todo += [words + [s] for s in subs]
            continue
        leaves += 1
        want = set(opts) | set(global_opts)
        got = complete(line + " -")
        check(want <= got, "%s -<TAB> offers its options and catsctl's (missing: %s)" %
              (line, sorted(want - got)))
        longs = set(o for o in want if o.startswith("--"))
        got = complete(line + " --")
        check(longs == got, "%s --<TAB> offers exactly its long options (missing %s, extra %s)" %
              (line, sorted(longs - got), sorted(got - longs)))
        for opt, values in choices.items():
            got = complete("%s %s " % (line, opt))
            check(got == values, "%s %s <TAB> offers its values %s (got %s)" %
                  (line, opt, sorted(values), sorted(got)))
    check(leaves >= 10, "%d commands walked" % leaves)

    # 3. Values, positions, and what gets nothing.
    with tempfile.TemporaryDirectory(prefix="cats-completion-") as d:
        sock = os.path.join(d, "control.sock")
        open(sock, "w").close()
        for line in ("catsctl --socket %s/con" % d, "catsctl -s %s/con" % d,
                     "catsctl port list --socket %s/con" % d, "catsctl --socket=%s/con" % d):
            got = complete(line)
            check(got == {sock}, "%r completes the file name (got %s)" % (line, sorted(got)))
    expect = {
        "catsctl ins": {"instance"},
        "catsctl --json instance d": {"del", "drain"},
        "catsctl -s /run/x.sock instance ": set(help_of(["instance"])[0]),
        "catsctl -j flow list --l": {"--limit"},
        "catsctl instance add ": set(),  # CS_ID: plain
        "catsctl instance add 100 ": set(),  # ID: plain
        "catsctl instance add 100 9 --sid ": set(),
        "catsctl instance add 100 9 --compute-types cpu,g": {"cpu,gpu"},
        "catsctl instance set 100 9 --we": {"--weight"},
        "catsctl monitor --type ne": {"neighbor"},
        "catsctl bogus ": set(),
        "catsctl bogus list ": set(),
        "catsctl port bogus ": set(),
    }
    for line, want in expect.items():
        got = complete(line)
        check(got == want, "%r offers %s (got %s)" % (line, sorted(want), sorted(got)))
    got = complete("catsctl instance add 100 9 ")
    check({"--sid", "--weight", "--json"} <= got, "after the ids, instance add offers its options (got %s)" %
          sorted(got))
    got = complete("catsctl stats ")
    check({"--json", "--socket"} <= got and not got & set(top_subs),
          "a command without arguments offers options, no commands (got %s)" % sorted(got))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
