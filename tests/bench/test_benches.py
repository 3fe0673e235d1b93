"""The seal benchmarks that docs/performance.md tells people to run still run: a few seals each,
through the real CLI-made installation, the real daemon, client processes and the in-process
floor. The figures are not checked (this machine is shared); that every row has data and no
seal failed recovery is."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench import seal_bench
from tests.helpers.softhsm import skip_without_softhsm

ROOT = Path(__file__).resolve().parents[2]
STAGE = re.compile(r"^(?P<name>.+?)\s+(?P<wall>\d+) µs\s+(?P<cpu>\d+) µs$")
ROW = re.compile(r"^(?P<name>.+?)\s+(?P<median>\d+\.\d+)\s+(?P<p99>\d+\.\d+)\s+(?P<rate>\d+)$")


def test_seal_bench_rows() -> None:
    skip_without_softhsm()
    rows = seal_bench.bench(seals=4, keystore=False)
    table = [row for row in rows if ROW.match(row)]
    names = [ROW.match(row).group("name") for row in table]  # type: ignore[union-attr]
    assert names == [
        "floor: SoftHSM in process, 1 process",
        "floor: SoftHSM in process, 4 processes, 4 keys",
        "rules alone: engine in process, 1 caller",
        "sealward, rules, guard on (SQLite), 1 client",
        "sealward, rules, guard on (SQLite), 4 client processes",
        "sealward, rules, guard off, 1 client",
        "sealward, rules, guard off, 4 client processes",
    ], rows
    assert not any("ERRORS" in row for row in rows), rows
    notes = "\n".join(rows)
    for note in (
        "start-up to a served socket",
        "RSS at rest",
        "RSS under 4-client load",
        "2 cores allow at most",
    ):
        assert note in notes, notes


def test_seal_breakdown_stages() -> None:
    # In its own process: it loads the PKCS#11 module with its own token, once per process.
    skip_without_softhsm()
    done = subprocess.run(
        [sys.executable, "-m", "bench.seal_breakdown", "--seals", "5"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    stages = {}
    for line in done.stdout.splitlines():
        found = STAGE.match(line)
        if found:
            stages[found.group("name")] = (float(found.group("wall")), float(found.group("cpu")))
    assert set(stages) >= {"plan", "rules", "find", "sign", "guard", "whole request in process"}, done.stdout
    assert stages["whole request in process"][0] > 0 and stages["sign"][0] > 0 and stages["guard"][0] > 0
