#!/usr/bin/env bash
# The main job: set up, then run a signer on a SoftHSM key under attested clique rules and let a
# real geth v1.13.15 mine a clique chain through its IPC socket for about 30 s. The first run
# builds that geth with Go (a few minutes, progress shown); without Go the demo says so and uses
# its built-in geth-like client. Extra arguments go to `sealward demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if command -v go >/dev/null 2>&1; then
    bash scripts/peers.sh --progress geth@v1.13.15 ||
        echo "demo: geth v1.13.15 could not be built (see above); the demo uses its geth-like client" >&2
else
    echo "demo: Go is not installed, so geth v1.13.15 cannot be built; the demo uses its geth-like client" >&2
fi
exec .venv/bin/sealward demo "$@"
