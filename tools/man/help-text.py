#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A program's --help and --version as help2man reads them (issue 21).

help2man runs `<EXECUTABLE> --help` and `<EXECUTABLE> --version` through the
shell; tools/man/meson.build gives it `python3 help-text.py PROGRAM` as the
executable. This runs PROGRAM (argv[0] its base name, so that no build path
shows) and rewrites its text into the layout help2man understands, without
changing a word of it:

  - `usage:` becomes `Usage:` (the SYNOPSIS); further usage lines become
    `or:` lines, and a description beside one becomes a tagged paragraph;
  - an option list with no heading gets `Options:` (the OPTIONS section);
    option lines are laid out as help2man expects (option() says how);
  - CLI11's `Subcommands:` becomes a COMMANDS section: the list, then each
    command with its own --help (positionals and options), found by
    walking the tree, so that the page cannot drift from the program;
  - an `Exit status:` paragraph becomes an EXIT STATUS section;
  - `prog 1.2.3 (git abc)` becomes `prog (cats) 1.2.3`: the page's footer
    says `cats 1.2.3`.

A program whose --help reaches DPDK's EAL first (it prints EAL's own usage)
is asked again with EAL options that need no hugepages and no devices.

Usage: help-text.py PROGRAM --help|--version
"""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True

# For a --help that only works after rte_eal_init(): no hugepages, no PCI,
# no files under /run, no telemetry socket, and only errors logged.
EAL_ARGS = ["--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "64",
            "--log-level=lib.eal:error"]


def run(prog, args):
    """PROG's stdout and stderr with ARGS, argv[0] its base name."""
    p = subprocess.run([os.path.basename(prog)] + args, executable=prog, capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, LC_ALL="C", COLUMNS="80"))
    return p.returncode, p.stdout, p.stderr


def help_of(prog, words=()):
    rc, out, err = run(prog, list(words) + ["--help"])
    text = out if out.strip() else err
    if "EAL common options" in text:  # DPDK's usage, not the program's
        rc, out, err = run(prog, EAL_ARGS + ["--"] + list(words) + ["--help"])
        text = "\n".join(l for l in (out + err).splitlines() if not l.startswith("EAL: "))
    if rc != 0 or not text.strip():
        sys.exit("help-text.py: %s %s--help: exit %d: %s" %
                 (os.path.basename(prog), " ".join(words) + " " if words else "", rc, (out + err).strip()[-300:]))
    return text.expandtabs().rstrip("\n").split("\n")


def paragraphs(lines):
    """Blank-line separated blocks."""
    block = []
    for line in lines:
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def cli11_sections(lines):
    """CLI11's --help: the description above `Usage:`, the usage, then
    {heading: [lines]} in order, and the trailing paragraphs (the footer)."""
    desc, usage, sections, footer = [], "", [], []
    i = 0
    while i < len(lines) and not lines[i].startswith("Usage:"):
        desc.append(lines[i])
        i += 1
    if i < len(lines):
        usage = lines[i][len("Usage:"):].strip()
        i += 1
    for block in paragraphs(lines[i:]):
        if re.match(r"^\S.*:$", block[0]) and len(block) > 1 and block[1].startswith(" "):
            sections.append((block[0][:-1], block[1:]))
        else:
            footer.append(block)
    return [l for l in desc if l.strip()], usage, sections, footer


def entries(lines):
    """The names in a CLI11 list: `  name   description`."""
    return [m.group(1) for m in (re.match(r"^  (\S+)", l) for l in lines) if m]


def option_lines(lines):
    """A CLI11 option or positional list without -h,--help (said once, at the top)."""
    out, skip = [], False
    for l in lines:
        if re.match(r"^\s+-h,--help\b", l):
            skip = True
            continue
        if skip and re.match(r"^ {20,}\S", l):  # its description, wrapped
            continue
        skip = False
        out.append(l)
    return out


def commands(prog, words, out):
    """Each command under WORDS with its --help, depth first: a subsection
    `prog words... USAGE:` holding the description and the options."""
    desc, usage, sections, _ = cli11_sections(help_of(prog, words))
    subs = dict(sections).get("Subcommands")
    if subs is not None:
        for name in entries(subs):
            commands(prog, words + [name], out)
        return
    out.append("")
    out.append(usage + ":")
    out.extend("  " + l.strip() for l in desc)
    for heading, lines in sections:
        if heading in ("Positionals", "Options"):
            lines = option_lines(lines)
            if lines:
                out.append("")
                out.extend(o for l in lines for o in (option(l) if re.match(r"^ {1,10}-", l) else [l]))


def option(line):
    """An option line as help2man reads it, as one or more lines.

    CLI11's `-h,--help` gets a space, so that both names are set in bold; a
    line of several options without descriptions (`  --load PCT  --weight N`)
    is split, one per line; a description that starts with `-`, which
    help2man would take for another option, goes on the next line."""
    line = re.sub(r"^(\s+-\w),(-)", r"\1, \2", line)
    chunks = re.split(r"\s{2,}", line.strip())
    if len(chunks) > 1 and all(re.match(r"^--?[\w-]+(?:[ =]\S+)?$", c) for c in chunks):
        return ["  " + c for c in chunks]
    m = re.match(r"^(\s{1,10}-\S.*?)\s{2,}(-.*)$", line)
    if m:
        return [m.group(1), " " * 30 + m.group(2)]
    return [line]


def normalise(prog, lines):
    name = os.path.basename(prog)
    out, after, usage_notes = [], [], []
    exit_status = []
    have_options = False
    is_cli11 = any(l == "Subcommands:" for l in lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^[Uu]sage: ", line):
            out.append("Usage: " + line.split(":", 1)[1].strip())
            i += 1
            # Further synopses, aligned under the first: `or:` lines; a
            # description beside one goes below, as a tagged paragraph.
            while i < len(lines) and re.match(r"^\s+%s\b" % re.escape(name), lines[i]):
                syn, _, note = lines[i].strip().partition("  ")
                out.append("  or:  " + syn)
                if note.strip():
                    usage_notes.append("  %-30s  %s" % (syn, note.strip()))
                i += 1
            out.append("")
            if usage_notes:
                out.extend(usage_notes + [""])
            continue
        if line.startswith("Exit status:"):
            # This paragraph, to the end of the text, as a section of its own.
            exit_status = [line[len("Exit status:"):].strip()]
            i += 1
            while i < len(lines) and lines[i].strip():
                exit_status.append(lines[i].strip())
                i += 1
            continue
        if is_cli11 and line == "Subcommands:":
            # The list, then every command in full.
            after.append("*Commands*")
            i += 1
            while i < len(lines) and lines[i].startswith(" "):
                after.append(lines[i])
                i += 1
            cmds = []
            for sub in entries(after[1:]):
                commands(prog, [sub], cmds)
            after.extend(cmds)
            continue
        if re.match(r"^(\S.*)?Options:$", line):
            have_options = True
        elif re.match(r"^ {1,10}-", line):
            if not have_options:
                out.append("Options:")
                have_options = True
            out.extend(option(line))
            i += 1
            continue
        out.append(line)
        i += 1
    if after:
        out.append("")
        out.extend(after)
    if exit_status:
        out.extend(["", "*Exit status*", " ".join(exit_status)])
    return "\n".join(out) + "\n"


def version(prog):
    rc, out, err = run(prog, ["--version"])
    first = out.strip().split("\n")[0] if rc == 0 else ""
    if not first:
        sys.exit("help-text.py: %s --version: exit %d: %s" % (os.path.basename(prog), rc, (out + err).strip()))
    m = re.match(r"^(\S+) (\S+) \(git [^)]*\)$", first)
    return "%s (cats) %s\n" % (m.group(1), m.group(2)) if m else first + "\n"


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("--help", "--version"):
        sys.exit("usage: help-text.py PROGRAM --help|--version")
    prog = os.path.abspath(sys.argv[1])
    sys.stdout.write(version(prog) if sys.argv[2] == "--version" else normalise(prog, help_of(prog)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
