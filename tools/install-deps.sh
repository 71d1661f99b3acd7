#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages cats needs to build and test, if missing.
set -euo pipefail
pkgs=(g++ pkg-config meson ninja-build libdpdk-dev dpdk dpdk-dev libbpf-dev libmnl-dev clang
      libyaml-cpp-dev catch2 nlohmann-json3-dev libboost-dev libssl-dev libpcap-dev libcli11-dev
      python3 python3-scapy python3-matplotlib tshark iproute2 ethtool nftables prometheus
      help2man man-db bash-completion)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
