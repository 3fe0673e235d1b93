"""The benchmarks that docs/performance.md and docs/reliability.md tell people to run still run: a few seals each,
through the real CLI-made installation, the real daemon, client processes and the in-process
floor. The figures are not checked (this machine is shared); that every row has data and no
seal failed recovery is."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench import seal_bench
from tests.helpers.peers import GETH_SEALER, require_peer
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


def test_soak_run_samples_and_checks_a_real_geth_chain() -> None:
    """A short soak: real geth seals through the real signer; every sample row has data, every
    block is the key's (geth's clique_getSigner), nothing was refused, the audit chain verifies."""
    skip_without_softhsm()
    require_peer(GETH_SEALER)
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--minutes", "0.3", "--every", "6"],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    samples = [line.split() for line in done.stdout.splitlines() if re.match(r"^\s+\d+\.\d\s+\d+", line)]
    assert len(samples) >= 2, done.stdout
    assert all(len(row) == 13 and int(row[1]) > 0 for row in samples), done.stdout
    assert int(samples[-1][1]) > int(samples[0][1]), "the chain did not grow between samples"
    assert "every one signed by the sealer per clique_getSigner: True" in done.stdout
    assert re.search(r"guard: refused 0\b", done.stdout), done.stdout
    assert "audit verify: OK" in done.stdout, done.stdout
