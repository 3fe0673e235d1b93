"""The worker processes of one ``RuleEngine``, lent to one call at a time each.

Several workers let calls run in parallel, and even calls that must run one after another
(those touching ``storage``, see engine.py) gain from them: a worker builds its next fresh
contexts (~2 ms each, not interruptible) right after it answers, and meanwhile the next call
goes to another worker. Calls therefore borrow the worker that has been idle longest, the one
most likely to have finished building.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from signer.approval.rules.process import RuleFailed, WorkerProcess
from signer.errors import RulesError

log = logging.getLogger(__name__)


class WorkerPool:
    """``size`` worker slots; a slot is borrowed by one call, or idle, or being replaced."""

    def __init__(
        self, spawn: Callable[[], WorkerProcess], size: int, on_replace: Callable[[], None] | None = None
    ) -> None:
        if size < 1:
            raise ValueError("a rule engine needs at least one worker")
        self._spawn = spawn
        self._on_replace = on_replace or (lambda: None)
        self._cond = threading.Condition()
        self._closed = False
        self._waiting = 0  # callers blocked in _take
        # Started now so the first requests find warm contexts.
        self._workers: list[WorkerProcess | None] = [self._start() for _ in range(size)]
        self._idle: deque[int] = deque(range(size))

    @property
    def workers(self) -> list[WorkerProcess]:
        with self._cond:
            return [worker for worker in self._workers if worker is not None]

    @contextmanager
    def borrow(self) -> Iterator[WorkerProcess]:
        """A started worker for one call; any failure but the rule's own replaces it."""
        slot = self._take()
        kept: WorkerProcess | None = None
        try:
            worker = self._ready(slot)
            try:
                yield worker
            except RuleFailed:
                kept = worker
                raise
            except BaseException:
                # Whatever state the worker is in (looping, dead, mid-call after an interrupt),
                # it must never answer a later call with this one's result: replace it.
                self._replace(slot)
                raise
            kept = worker
        finally:
            self._give_back(slot, kept)

    def close(self) -> None:
        """Kill every worker, after the calls in flight (each bounded by its deadline) end."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            while len(self._idle) < len(self._workers):
                self._cond.wait()
            workers, self._workers = self._workers, [None] * len(self._workers)
        for worker in workers:
            if worker is not None:
                worker.kill()

    def _take(self) -> int:
        with self._cond:
            self._waiting += 1
            try:
                while not self._idle and not self._closed:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            if self._closed:
                raise RulesError("rule engine is closed")
            return self._idle.popleft()

    def _give_back(self, slot: int, kept: WorkerProcess | None) -> None:
        with self._cond:
            # More callers waiting than idle slots to take: one of them takes this slot next.
            queued = self._waiting > len(self._idle)
        # A kept worker holds back its next build (worker.py) until told that no call follows at
        # once; a queued caller takes it next and starts on its ready context instead. Sent while
        # the slot is still ours, so it cannot interleave with the next call's request.
        if kept is not None and not queued:
            # If the worker is gone, the next call to borrow it starts a new one.
            with suppress(RulesError):
                kept.send({"op": "idle"})
        with self._cond:
            self._idle.append(slot)
            self._cond.notify_all()

    # The slot is this thread's from _take until it is handed back: no lock needed below.

    def _ready(self, slot: int) -> WorkerProcess:
        worker = self._workers[slot]
        if worker is None or not worker.alive():
            worker = self._replace(slot)
        if worker is None:
            raise RulesError("rule engine worker is not available")
        try:
            worker.wait_ready()
        except RulesError:
            self._replace(slot)
            raise
        return worker

    def _replace(self, slot: int) -> WorkerProcess | None:
        old, self._workers[slot] = self._workers[slot], None
        if old is not None:
            old.kill()
        # The new worker initialises while the caller falls back to the next UI.
        self._workers[slot] = worker = self._start()
        self._on_replace()
        return worker

    def _start(self) -> WorkerProcess | None:
        try:
            return self._spawn()
        except RulesError as err:
            log.warning("%s", err)
            return None
