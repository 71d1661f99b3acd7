#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One libFuzzer target in the test suite: replay the committed corpus, then
# fuzz from it for SECONDS with a seed printed first, so that a failure can
# be run again exactly (same seed, same corpus, same binary).
#
#   run_fuzz.sh TARGET CORPUS_DIR SECONDS ARTIFACT_DIR
#
# CATS_FUZZ_SEED and CATS_FUZZ_SECONDS override the seed and the duration.
# New inputs go to a scratch directory, never to the committed corpus; a
# crashing input is kept in ARTIFACT_DIR.
set -euo pipefail
target=$1 corpus=$2 seconds=${CATS_FUZZ_SECONDS:-$3} artifacts=$4
name=$(basename "$target")
seed=${CATS_FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) + 1 ))}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
echo "$name: seed $seed, corpus $corpus, ${seconds} s of fresh fuzzing"
echo "$name: to run it again: CATS_FUZZ_SEED=$seed meson test $name (or: $target -seed=$seed -max_total_time=$seconds SCRATCH_DIR $corpus)"
rc=0
"$target" -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$scratch" "$corpus" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "$name: FAILED (exit $rc, seed $seed); the input is in $artifacts (rerun it: $target $artifacts/$name-<file>)"
fi
exit "$rc"
