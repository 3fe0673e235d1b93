"""Run fuzz targets for a set time each and report executions and crashes.

    nice -n 19 .venv/bin/python -m fuzz.campaign --seconds 600 --jobs 2            # every target
    .venv/bin/python -m fuzz.campaign --seconds 5 framing hex_and_address          # a smoke

Each target runs in its own ``python -m fuzz.run`` process (libFuzzer stops at the first crash;
the campaign then starts it again so one shallow bug does not hide the rest, until the time is
used up). Prints one Markdown table row per target: executions, exec/s, coverage, crashes found.
Exit status 1 when any target crashed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fuzz.targets import TARGETS

HERE = Path(__file__).resolve().parent
_DONE = re.compile(rb"Done (\d+) runs in (\d+) second")
_COV = re.compile(rb"cov: (\d+) ft: (\d+)")
_STAT = re.compile(rb"#(\d+)\s")


@dataclass
class Result:
    target: str
    runs: int = 0
    seconds: float = 0.0
    coverage: int = 0
    features: int = 0
    crashes: int = 0
    restarts: int = 0

    def row(self) -> str:
        rate = self.runs / self.seconds if self.seconds else 0
        return (f"| {self.target} | {self.seconds:.0f} s | {self.runs:,} | {rate:,.0f} | {self.coverage} | "
                f"{self.features} | {self.crashes} |")  # fmt: skip


def run_target(name: str, seconds: float, log_dir: Path) -> Result:
    result = Result(name)
    deadline = time.monotonic() + seconds
    findings = HERE / "findings" / name
    before = set(findings.glob("*")) if findings.is_dir() else set()
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        while (left := deadline - time.monotonic()) > 2:
            started = time.monotonic()
            command = [sys.executable, "-m", "fuzz.run", name, f"-max_total_time={int(left)}"]
            proc = subprocess.run(
                command,
                cwd=HERE.parent, capture_output=True, timeout=left + 120, check=False,
            )  # fmt: skip
            out.write(proc.stdout + proc.stderr)
            text = proc.stderr
            result.seconds += time.monotonic() - started
            done = _DONE.search(text)
            stats = _STAT.findall(text)
            result.runs += int(done.group(1)) if done else (int(stats[-1]) if stats else 0)
            covs = _COV.findall(text)
            if covs:
                result.coverage = max(result.coverage, int(covs[-1][0]))
                result.features = max(result.features, int(covs[-1][1]))
            if proc.returncode == 0:
                break
            result.restarts += 1
    after = set(findings.glob("*")) if findings.is_dir() else set()
    result.crashes = len(after - before)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("targets", nargs="*", help=f"default: all of {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=float, default=60, help="time per target")
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once")
    parser.add_argument("--logs", type=Path, default=HERE / "logs")
    args = parser.parse_args()
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    args.logs.mkdir(parents=True, exist_ok=True)
    print("| target | time | executions | exec/s | coverage (edges) | features | new crashes |")
    print("|---|---|---|---|---|---|---|", flush=True)
    crashed = False
    with ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(lambda n: run_target(n, args.seconds, args.logs), names):
            print(result.row(), flush=True)
            crashed = crashed or result.crashes > 0
    sys.exit(1 if crashed else 0)


if __name__ == "__main__":
    main()
