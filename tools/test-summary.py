#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""One summary line for a meson test run, counting the skipped tests, then
each skipped test's reason (the line it printed that starts with SKIP).

usage: test-summary.py BUILD/meson-logs/testlog.json
"""
import json
import sys


def main(path):
    counts, skipped = {}, []
    with open(path) as fh:
        for line in fh:
            if not line.strip():
                continue
            t = json.loads(line)
            counts[t["result"]] = counts.get(t["result"], 0) + 1
            if t["result"] == "SKIP":
                why = next((l for l in (t.get("stdout") or "").splitlines() if l.startswith("SKIP")),
                           "SKIP: (no reason printed)")
                skipped.append("  %s: %s" % (t["name"], why))
    total = sum(counts.values())
    ok = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
    bad = total - ok - counts.get("SKIP", 0)
    print("== summary: %d tests, %d passed, %d skipped, %d failed" % (total, ok, counts.get("SKIP", 0), bad))
    for s in skipped:
        print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
