#!/usr/bin/env bash
# The test command: set up (packages, venv, PostgreSQL for the seal guard), then run the whole
# suite and the static checks. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Real geth and clef peers: where Go is installed a failed build fails the run, so the tests that
# need them run on the project's machines and in CI; without Go they skip and say why.
if command -v go >/dev/null 2>&1; then
    bash scripts/peers.sh
else
    echo "test: Go is not installed: the tests against real geth and clef will be skipped" >&2
fi
bash scripts/ensure-postgres.sh || echo "test: PostgreSQL unavailable; its tests will be skipped" >&2
bash scripts/ensure-prometheus.sh || echo "test: Prometheus unavailable; the scrape test will be skipped" >&2

.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
.venv/bin/ruff check signer backends tests bench conftest.py
.venv/bin/ruff format --check --quiet signer backends tests bench conftest.py
.venv/bin/mypy signer backends
echo "test: all checks passed"
