#!/usr/bin/env bash
# Set up everything Sealward needs on a fresh Debian 12 machine. Idempotent and quick when done.
#   - system packages: softhsm2 (PKCS#11 tests and the demo), installed with apt-get when missing
#   - .venv with the exact pinned dependency set (requirements.lock) and sealward itself (editable)
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sealward needs Python 3.11 or newer")'

if [[ ! -e /usr/lib/softhsm/libsofthsm2.so ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing softhsm2" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq softhsm2 >/dev/null
    else
        echo "setup: softhsm2 is missing; install it with: sudo apt-get install softhsm2" >&2
    fi
fi

# libseccomp: the rule worker's system-call filter (signer/approval/rules/confine.py). Debian
# installs it with systemd and apt; a minimal image may lack it, and then rules never run.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2 '; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing libseccomp2" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq libseccomp2 >/dev/null
    else
        echo "setup: libseccomp2 is missing; install it with: sudo apt-get install libseccomp2" >&2
    fi
fi

if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv" >&2
    python3 -m venv .venv
fi

# Re-install only when the pins or the package metadata changed.
stamp=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ "$(cat .venv/.sealward-stamp 2>/dev/null)" != "$stamp" ]]; then
    echo "setup: installing the pinned dependency set (log: .venv/install.log)" >&2
    if ! {
        .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
        .venv/bin/python -m pip install --disable-pip-version-check -r requirements.lock &&
        .venv/bin/python -m pip install --disable-pip-version-check --no-deps -e .
    } >.venv/install.log 2>&1; then
        tail -n 40 .venv/install.log >&2
        echo "setup: pip install failed (full log: .venv/install.log)" >&2
        exit 1
    fi
    echo "$stamp" > .venv/.sealward-stamp
fi
