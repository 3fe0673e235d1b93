"""Shared pieces for the rule tests: the ruleset files and a recording engine factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from signer.approval.rules import MemoryStorage, RuleEngine

RULESETS = Path(__file__).with_name("rulesets")


def ruleset(name: str) -> str:
    return (RULESETS / name).read_text()


@contextmanager
def engine(
    source: str, storage: MemoryStorage | None = None, timeout: float = 10.0
) -> Iterator[tuple[RuleEngine, list[str]]]:
    """A real engine (spawned worker) whose console lines are collected instead of printed."""
    console: list[str] = []
    eng = RuleEngine(
        source, storage if storage is not None else MemoryStorage(), timeout, on_console=console.append
    )
    try:
        yield eng, console
    finally:
        eng.close()
