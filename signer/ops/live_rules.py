"""The active rule engine, replaceable while requests run through it (SIGHUP reload).

``RulesetUI`` calls ``LiveRules.call``; a reload swaps in a new engine with ``replace``. A call
that already started finishes on the engine it started on, and that engine is closed only when
its last call has returned, so a reload never fails or drops a request. Rule timing and the
decisions rules make are counted here when metrics are on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from signer.approval.rules import RuleEngine
from signer.approval.rules.ruleset_ui import APPROVE, REJECT
from signer.errors import RulesError
from signer.ops.metrics import Metrics


class LiveRules:
    def __init__(self, engine: RuleEngine, digest: str, metrics: Metrics | None = None) -> None:
        self._lock = threading.Lock()
        self._engine = engine
        self.digest = digest  # sha256 of the active rule file, hex
        self._users: Counter[RuleEngine] = Counter()
        self._metrics = metrics
        if metrics is not None:
            metrics.rules_loaded.set(1)

    def call(self, function: str, argument: dict[str, Any]) -> str:
        with self._lock:
            engine = self._engine
            self._users[engine] += 1
        start = time.perf_counter()
        result: str | None = None
        try:
            result = engine.call(function, argument)
            return result
        finally:
            self._observe(function, time.perf_counter() - start, result)
            with self._lock:
                self._users[engine] -= 1
                retired = engine is not self._engine and self._users[engine] == 0
                if retired:
                    del self._users[engine]
            if retired:
                _close_later(engine)

    def _observe(self, function: str, seconds: float, result: str | None) -> None:
        if self._metrics is None:
            return
        self._metrics.rule_duration.observe(seconds)
        if function.startswith("Approve"):
            outcome = {APPROVE: "approved", REJECT: "rejected"}.get(result or "", "undecided")
            self._metrics.approvals.labels("rules", outcome).inc()

    def replace(self, engine: RuleEngine, digest: str) -> None:
        with self._lock:
            old, self._engine, self.digest = self._engine, engine, digest
            idle = self._users[old] == 0
            if idle:
                del self._users[old]
        if idle:
            _close_later(old)

    def close(self) -> None:
        with self._lock:
            engine = self._engine
        engine.close()  # waits for the calls in flight, each bounded by its deadline


def _close_later(engine: RuleEngine) -> None:
    # Stopping worker processes takes a few milliseconds: not on a request's time.
    threading.Thread(target=engine.close, name="sealward-rules-retire", daemon=True).start()


__all__ = ["LiveRules", "RulesError"]
