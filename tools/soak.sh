#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The soak (issue 20): tools/lab/lab.py's lab for --duration seconds (600 by
# default; 60 to try it) under traffic, malformed traffic, agent and node
# churn, cats-control restarts and 1,000 updates/s, then checks: nothing
# crashed, RSS flat, per-port conservation, no flow moved without a cause.
# Exit 0 only if every check passes. tools/lab/README.md, Soak.
#
#   sudo tools/soak.sh [--duration 600] [--build build] [--name soak] [--out DIR] ...
#   sudo tools/soak.sh --help
#
# Niced (the dataplane still busy-polls its lcore). The lab is brought down
# at the end whatever happens: soak.py in a finally, lab.py's reaper if
# soak.py is killed, and the trap below.
set -u
here=$(cd "$(dirname "$0")" && pwd)
name=soak
prev=
for arg in "$@"; do
    [ "$prev" = "--name" ] && name=$arg
    case $arg in --name=*) name=${arg#--name=} ;; esac
    prev=$arg
done
case " $* " in *" -h "*|*" --help "*) exec /usr/bin/python3 "$here/soak.py" run --help ;; esac
if [ "$(id -u)" != 0 ]; then
    echo "soak: needs root (network namespaces, AF_PACKET): sudo $0 $*" >&2
    exit 2
fi
down() {
    if [ -e "/run/cats-lab/$name" ] || ip netns list 2>/dev/null | grep -q "^$name-"; then
        /usr/bin/python3 "$here/lab/lab.py" --name "$name" down >/dev/null 2>&1 || true
    fi
}
trap down EXIT
trap 'exit 130' INT TERM HUP
nice -n 10 /usr/bin/python3 "$here/soak.py" run "$@"
