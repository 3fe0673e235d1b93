"""The fuzz targets in the suite: every input the fuzzer ever found a crash with (fuzz/regressions/)
and every seed is replayed; each target gets a quick in-process smoke of mutated seeds; the
atheris runner itself runs a short campaign. The long campaign is fuzz/campaign.py (figures in
docs/reliability.md)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.targets import TARGETS

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"


def _inputs(folder: str) -> list[tuple[str, Path]]:
    return sorted((p.parent.name, p) for p in (FUZZ / folder).glob("*/*") if p.is_file())


@pytest.mark.parametrize(("target", "path"), _inputs("regressions"), ids=lambda v: getattr(v, "name", v))
def test_every_crash_found_by_fuzzing_stays_fixed(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())


def test_every_target_has_seeds() -> None:
    assert {t for t, _ in _inputs("seeds")} == set(TARGETS)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        pos = rng.randrange(len(buf) + 1)
        if choice < 0.4 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif choice < 0.7:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif buf:
            del buf[pos : pos + rng.randint(1, 8)]
    return bytes(buf)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_smoke_each_target_on_mutated_seeds(target: str) -> None:
    """Not a fuzzer, a smoke: 300 random mutations of the seeds must stay within the contract."""
    rng = random.Random(f"sealward-{target}")
    seeds = [p.read_bytes() for t, p in _inputs("seeds") if t == target]
    for seed in seeds:
        TARGETS[target](seed)
    for _ in range(300):
        TARGETS[target](_mutate(rng.choice(seeds), rng))


def test_the_atheris_runner_reports_executions_and_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (pip install -r requirements.lock)")
    result = subprocess.run(
        [sys.executable, "-m", "fuzz.campaign", "--seconds", "3", "--logs", str(tmp_path), "hex_and_address"],
        cwd=FUZZ.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    row = result.stdout.strip().splitlines()[-1].split("|")
    assert (
        row[1].strip() == "hex_and_address" and int(row[3].replace(",", "")) > 100 and row[7].strip() == "0"
    )
