#!/usr/bin/env bash
# Make sure a Prometheus server binary is installed for the test that scrapes Sealward with it.
# Idempotent: does nothing when `prometheus` (and `promtool`) are on PATH. Installs Debian's
# prometheus package only when apt-get is there and we are root; the test starts its own
# private server, so a service the package's install started is stopped again.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "prometheus missing and cannot install it (need root and apt-get);" \
         "the test with a real Prometheus server will be skipped" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# Debian's package may start its own server on port 9090; the tests do not need it.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop prometheus 2>/dev/null || true
elif command -v service >/dev/null 2>&1; then
    service prometheus stop >/dev/null 2>&1 || true
fi
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
