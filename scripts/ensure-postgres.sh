#!/usr/bin/env bash
# Make sure a PostgreSQL server is installed for the seal guard's tests and benchmark.
# Idempotent: does nothing when /usr/lib/postgresql/*/bin already has initdb, pg_ctl and postgres.
# Installs Debian's postgresql package only when apt-get is there and we are root; the tests
# start their own private server (tests/helpers/postgres.py), so the distribution's cluster is
# stopped again if the package's install started it.
set -euo pipefail

have_binaries() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            echo "postgresql server binaries: $dir"
            return 0
        fi
    done
    return 1
}

if have_binaries; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "postgresql server binaries missing and cannot install them (need root and apt-get);" \
         "the PostgreSQL seal guard tests will be skipped" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
# Debian's package may start its own cluster on port 5432; the tests do not need it.
if command -v pg_ctlcluster >/dev/null 2>&1; then
    for conf in /etc/postgresql/*/*; do
        [[ -d "$conf" ]] || continue
        pg_ctlcluster "$(basename "$(dirname "$conf")")" "$(basename "$conf")" stop 2>/dev/null || true
    done
fi
have_binaries
