"""Group commit: concurrent seal records share one transaction and one durable commit.

With several sealers on one signer (four validator keys, four geth nodes), each seal used to wait
for its own COMMIT, and every COMMIT is an fsync: the fsyncs ran one after another, and the guard
became the signer's bottleneck. Here the first caller to arrive while no commit is running
becomes the leader: it takes every record queued so far and runs them in one transaction, in
arrival order, each exactly as if alone (each sees the records before it, and one that fails
leaves the others alone), then commits once. Callers that arrive meanwhile queue for the next
batch, which the first of them leads once the commit has returned.

Nothing leaves earlier than before: every caller returns only after the commit that holds its
record is durable. A single sealer waits no longer than before either: a batch starts at once,
never waiting for company.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

Item = TypeVar("Item")
Result = TypeVar("Result")

# A batch is one transaction holding the database's write lock; this bounds how long it is held.
MAX_BATCH = 64


class _Slot(Generic[Item, Result]):
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.result: Result | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """``submit`` runs one item through ``run_batch`` together with whatever else is queued.

    ``run_batch(items)`` runs the items in one transaction and returns, per item, its result or
    the exception it raised; if it raises, every item of the batch fails with that exception.
    """

    def __init__(
        self,
        run_batch: Callable[[Sequence[Item]], Sequence[Result | BaseException]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Slot[Item, Result]] = []
        self._leading = False
        self.batches = 0  # statistics: batches run and items in them
        self.items = 0

    def submit(self, item: Item) -> Result:
        slot: _Slot[Item, Result] = _Slot(item)
        with self._cond:
            self._queue.append(slot)
        while True:
            with self._cond:
                while not slot.done and self._leading:
                    self._cond.wait()
                if slot.done:
                    return self._outcome(slot)
                # No commit running and ours not done: lead the next batch (it holds ours unless
                # more than max_batch were queued before it; then we lead again).
                self._leading = True
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                self._lead(batch)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()

    def _lead(self, batch: list[_Slot[Item, Result]]) -> None:
        try:
            results: Sequence[Result | BaseException] = self._run_batch([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError("group commit: a batch returned the wrong number of results")
        except BaseException as exc:
            results = [exc] * len(batch)
        with self._cond:
            self.batches += 1
            self.items += len(batch)
            for slot, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    slot.error = result
                else:
                    slot.result = result
                slot.done = True

    @staticmethod
    def _outcome(slot: _Slot[Item, Result]) -> Result:
        if slot.error is not None:
            raise slot.error
        return cast(Result, slot.result)
