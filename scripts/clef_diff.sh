#!/usr/bin/env bash
# A longer differential run against the real clef than CI's: the whole corpus plus N generated
# EIP-712 documents (default 2000), niced. Writes the per-case outcome to $OUT (default
# /tmp/clef-diff.json) and the generated documents' tally to $OUT.typed.json.
#   bash scripts/clef_diff.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/peers.sh
out=${OUT:-/tmp/clef-diff.json}
SEALWARD_DIFF_EXAMPLES=${1:-2000} SEALWARD_DIFF_REPORT=$out \
    nice -n 19 .venv/bin/python -m pytest -q -p no:cacheprovider tests/differential
echo "clef-diff: corpus outcome in $out, generated documents in $out.typed.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]); print(json.load(open(sys.argv[1] + ".typed.json")))' "$out"
