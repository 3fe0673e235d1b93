"""The clef-vs-sealward and 4-byte benchmarks that docs/performance.md tells people to run still
run: a few seals through the real clef and the real sealward (same key, same chain, every seal
recovered, the rules deciding alone), and the 4-byte table's start-up and lookup rows. Figures are
not checked (the machine is shared); that every row is there with data is."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.helpers.peers import CLEF, require_peer
from tests.helpers.softhsm import skip_without_softhsm

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (?P<name>[^|]+) \| (?P<median>[\d.]+) \| (?P<p99>[\d.]+) \| (?P<rate>[\d.]+) \|$")


def test_clef_bench_rows() -> None:
    require_peer(CLEF)
    skip_without_softhsm()
    done = subprocess.run(
        [sys.executable, "-m", "bench.clef_bench", "--seals", "3", "--standard-seals", "0"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [m.group("name") for m in map(ROW.match, done.stdout.splitlines()) if m]
    assert rows == [
        "clef v1.17.3, keystore key, light scrypt",
        "sealward, keystore key, light scrypt",
        "floor: scrypt (light, OpenSSL) + eth-keys sign, in process",
        "sealward, SoftHSM key",
        "floor: eth-keys sign, in process (no KDF, IPC or approval)",
    ], done.stdout


def test_fourbyte_bench_rows() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.fourbyte_bench", "--starts", "1", "--lookups", "50"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for line in ("none (floor)", "clef's 268,621 selectors", "opening the table", "cold block", "warm block"):
        assert line in out, out
