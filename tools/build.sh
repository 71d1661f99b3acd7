#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Configure (if needed) and build into BUILD_DIR (default: build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[ -f "$build/build.ninja" ] || meson setup "$build" "$root" "$@" >/dev/null
ninja -C "$build"
