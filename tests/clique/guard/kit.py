"""Opening guards in tests: a clock that steps one second per reading, and fresh header times.

A stepping clock keeps re-seals of one height further apart than the policy's minimum interval
without sleeping; ``fresh(guard)`` stamps a header "now" on the guard's own clock.
"""

from __future__ import annotations

import time

from signer.clique.guard import Limits, SealGuard, open_guard

INSTANCE = "node-a"


class StepClock:
    """A Unix clock that moves forward ``step`` seconds every time it is read."""

    def __init__(self, start: float | None = None, step: float = 1.0) -> None:
        self.now = time.time() if start is None else start
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def guard_at(
    target: str,
    mode: str = "resubmit",
    *,
    instance: str = INSTANCE,
    limits: Limits | None = None,
    clock: StepClock | None = None,
) -> SealGuard:
    return open_guard(target, mode, instance=instance, limits=limits, clock=clock or StepClock())


def fresh(guard: SealGuard) -> int:
    """A header time of "now" on the guard's clock."""
    return int(guard.clock())
