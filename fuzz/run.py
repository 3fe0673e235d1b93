"""Run one fuzz target under atheris (libFuzzer): ``python -m fuzz.run TARGET [libFuzzer flags]``.

The signer's modules are instrumented for coverage as they are imported. Inputs that crash are
written to ``fuzz/findings/<target>/`` and replayed by tests/fuzz/test_regressions.py once copied
to ``fuzz/regressions/<target>/``; the growing corpus stays in ``fuzz/corpus/<target>/`` (not in git).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["signer", "backends", "fuzz"]):
    from fuzz.targets import TARGETS, WARM_UP

HERE = Path(__file__).resolve().parent


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.run TARGET [libFuzzer flags]; targets: {', '.join(TARGETS)}")
    name = sys.argv[1]
    corpus = HERE / "corpus" / name
    findings = HERE / "findings" / name
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    seeds = HERE / "seeds" / name
    flags = [f"-artifact_prefix={findings}/", "-max_len=8192", "-timeout=10", "-rss_limit_mb=2048"]
    flags += sys.argv[2:]
    dirs = [str(corpus)] + ([str(seeds)] if seeds.is_dir() else [])
    if name in WARM_UP:
        WARM_UP[name]()
    atheris.Setup([sys.argv[0], *flags, *dirs], TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
