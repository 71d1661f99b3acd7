#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job on an embedded default: cats-dataplane steers the bundled lab
# traffic (tests/data/lab-sample.pcap) with configs/gateway.yaml through the
# net_pcap vdev (no NIC, no hugepages) and prints what went where. The
# encapsulated output is left in $OUT (default /tmp/cats-demo-out.pcap).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
"$root/tools/build.sh" >/dev/null
out=${OUT:-/tmp/cats-demo-out.pcap}
exec "$root/build/dataplane/cats-dataplane" \
    --no-huge -m 512 --no-pci -l 0 --file-prefix "cats-demo-$$" --no-telemetry \
    --log-level lib.eal:error \
    --vdev "net_pcap0,rx_pcap=$root/tests/data/lab-sample.pcap,tx_pcap=$out" \
    -- --config "$root/configs/gateway.yaml" --idle-exit 300 --stats text "$@"
