#!/usr/bin/env bash
# The main job: set up, then run a signer on a SoftHSM key under attested clique rules and seal a
# chain of clique headers through its IPC socket. Extra arguments go to `sealward demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/sealward demo "$@"
