"""Readiness: can the signer do its job right now? (``/readyz``, ``sealward status``)

A check is a name and a probe that returns a short detail or raises with the reason. Probes
are cheap (one round trip each) and run at most once per ``ttl`` however often readiness is
asked, so a scrape every second costs the signer a few probes a second at most. Each probe has
a deadline: one that hangs (a network database gone silent) is reported "did not answer" and is
not started again until it returns, so a hung dependency never piles up threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from backends.base import BackendError
from signer.errors import SignerError

Probe = Callable[[], str]  # returns a short detail ("ok", "3 accounts", ...); raises when not ready

DEFAULT_TTL = 1.5
DEFAULT_DEADLINE = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    probe: Probe


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    results: dict[str, Result]
    checked_at: float = field(default_factory=time.time)
    took: float = 0.0

    @property
    def ready(self) -> bool:
        return all(r.ok for r in self.results.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, r in self.results.items() if not r.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "checked_at": round(self.checked_at, 3),
            "checks": {name: {"ok": r.ok, "detail": r.detail} for name, r in self.results.items()},
        }


class NotReady(Exception):
    """A probe's answer: the message says what is missing, for a person."""


def _reason(exc: BaseException) -> str:
    # Our own and the backends' errors are written for people and carry no secrets; anything
    # else might quote data, so only its type is shown.
    if isinstance(exc, (NotReady, SignerError, BackendError)):
        return str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


class Readiness:
    def __init__(
        self,
        checks: Callable[[], list[Check]],
        *,
        ttl: float = DEFAULT_TTL,
        deadline: float = DEFAULT_DEADLINE,
        on_report: Callable[[Report], None] | None = None,
    ) -> None:
        """``checks`` is asked for the current list each time (rules may appear on reload)."""
        self._checks = checks
        self.ttl, self.deadline = ttl, deadline
        self._on_report = on_report or (lambda _: None)
        self._lock = threading.Lock()  # one evaluation at a time; others wait and share it
        self._report: Report | None = None
        self._running: dict[str, Future[str]] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sealward-ready")

    def report(self) -> Report:
        with self._lock:
            report = self._report
            if report is None or time.time() - report.checked_at >= self.ttl:
                report = self._report = self._evaluate()
                self._on_report(report)
            return report

    def _evaluate(self) -> Report:
        start = time.perf_counter()
        checks = self._checks()
        futures = {c.name: self._start(c) for c in checks}
        until = time.monotonic() + self.deadline
        results: dict[str, Result] = {}
        for name, future in futures.items():
            try:
                detail = future.result(timeout=max(0.0, until - time.monotonic()))
                results[name] = Result(True, detail)
            except TimeoutError:
                results[name] = Result(False, f"did not answer within {self.deadline:g}s")
            except Exception as exc:
                results[name] = Result(False, _reason(exc))
        return Report(results, took=time.perf_counter() - start)

    def _start(self, check: Check) -> Future[str]:
        running = self._running.get(check.name)
        if running is not None and not running.done():
            return running  # still hanging from an earlier round: do not start a second one
        future = self._pool.submit(check.probe)
        self._running[check.name] = future
        return future

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
