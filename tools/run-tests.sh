#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every test, from scratch: install what is missing, build in a fresh
# directory, run all meson test suites (unit, integration on net_pcap, end to
# end with the kernel in network namespaces), then the unit tests again under
# ASan/UBSan, then the fuzz targets under libFuzzer (clang).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
work=${CATS_TEST_DIR:-$(mktemp -d /tmp/cats-test.XXXXXX)}
echo "== build ($work/build)"
meson setup "$work/build" "$root" >/dev/null
ninja -C "$work/build"
echo "== tests"
rc=0
meson test -C "$work/build" --print-errorlogs || rc=$?
# The last lines: one that counts the skipped tests, and each skip's reason.
summary() { /usr/bin/python3 "$root/tools/test-summary.py" "$work/build/meson-logs/testlog.json"; }
if [ "$rc" -ne 0 ]; then summary; exit "$rc"; fi
echo "== unit tests under ASan/UBSan"
meson setup "$work/build-asan" "$root" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C "$work/build-asan" tests/unit/cats-unit-tests tools/trafgen/cats-trafgen-tests
for t in tests/unit/cats-unit-tests tools/trafgen/cats-trafgen-tests; do
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$work/build-asan/$t"
done
# The fuzz suite ran above as a replay of its corpus (GCC has no libFuzzer);
# here the same targets under libFuzzer with ASan/UBSan: the corpus again,
# then 20 s of fresh fuzzing each, the seed printed (tests/fuzz/README.md).
# Only the fuzz targets are built with clang (the list is tests/fuzz/meson.build's).
echo "== fuzz targets under libFuzzer (clang)"
CC=clang CXX=clang++ meson setup "$work/build-fuzz" "$root" >/dev/null
fuzz_targets=()
for t in parse cats_body advert mgmt ctl dp_config control_config; do fuzz_targets+=("tests/fuzz/fuzz-$t"); done
ninja -C "$work/build-fuzz" "${fuzz_targets[@]}"
meson test -C "$work/build-fuzz" --suite fuzz --print-errorlogs || { rc=$?; summary; exit "$rc"; }
echo "== all tests passed"
summary
