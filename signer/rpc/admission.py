"""Admission control for one transport: calls and request bytes in flight, and the memory that
partly-received messages may hold (limits and their reasons: signer.rpc.limits).

``Admission.admit`` is asked once per decoded message, before any call of it is queued: either
every call gets a place or the whole message is answered "limit exceeded" at once. A place is
given back when the call has finished, however it finished (answered, failed, cancelled, or
timed out on HTTP while it went on running), because that is when its decoded request is freed.

``ReadBudget`` is what incomplete messages may hold beyond a small allowance per connection; a
reader that cannot get more waits (it stops reading), up to its message deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from signer.errors import LimitExceeded
from signer.rpc.limits import Limits


@dataclass
class _Usage:
    calls: int = 0
    size: int = 0


class Admission:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._total = _Usage()
        self._per_connection: dict[Hashable, _Usage] = {}

    def admit(self, connection: Hashable, calls: int, size: int) -> Ticket:
        """A ticket for ``calls`` calls holding ``size`` request bytes, or LimitExceeded."""
        if calls == 0:  # only inline calls: answered before the message is let go
            return Ticket(self, connection, 0, 0)
        limits = self.limits
        with self._lock:
            mine = self._per_connection.get(connection, _Usage())
            if mine.calls + calls > limits.max_calls_per_connection:
                limit = limits.max_calls_per_connection
                raise LimitExceeded(f"too many requests in flight on this connection (limit {limit})")
            if self._total.calls + calls > limits.max_calls:
                raise LimitExceeded(f"too many requests in flight (limit {limits.max_calls})")
            if mine.size + size > limits.max_bytes_per_connection:
                raise LimitExceeded(
                    f"too much request data in flight on this connection "
                    f"(limit {limits.max_bytes_per_connection} bytes)"
                )
            if self._total.size + size > limits.max_bytes_in_flight:
                raise LimitExceeded(
                    f"too much request data in flight (limit {limits.max_bytes_in_flight} bytes)"
                )
            mine.calls += calls
            mine.size += size
            self._per_connection[connection] = mine
            self._total.calls += calls
            self._total.size += size
        return Ticket(self, connection, calls, size)

    def _release(self, connection: Hashable, calls: int, size: int) -> None:
        with self._lock:
            self._total.calls -= calls
            self._total.size -= size
            mine = self._per_connection[connection]
            mine.calls -= calls
            mine.size -= size
            if mine.calls == 0:
                del self._per_connection[connection]

    def in_flight(self) -> tuple[int, int]:
        """(calls, bytes) admitted and not yet finished, for tests and diagnostics."""
        with self._lock:
            return self._total.calls, self._total.size


class Ticket:
    """The places of one message; each finished call gives its share back, the last one the rest."""

    def __init__(self, admission: Admission, connection: Hashable, calls: int, size: int) -> None:
        self._admission = admission
        self._connection = connection
        self._calls = calls
        self._size = size
        self._lock = threading.Lock()

    def finished(self) -> None:
        """One call of the message has finished."""
        with self._lock:
            if self._calls == 0:
                return
            share = self._size // self._calls
            self._calls -= 1
            self._size -= share
        self._admission._release(self._connection, 1, share)


class ReadBudget:
    """Bytes that incomplete messages may hold beyond ``small`` each, shared by one transport."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._used = 0
        self._cond = threading.Condition()

    def reserve(self, size: int, deadline: float) -> bool:
        """Wait until ``size`` bytes are free or ``deadline`` (monotonic) passes; True if reserved."""
        if size > self._total:
            return False
        with self._cond:
            while self._used + size > self._total:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            self._used += size
            return True

    def release(self, size: int) -> None:
        if size <= 0:
            return
        with self._cond:
            self._used -= size
            self._cond.notify_all()

    @property
    def used(self) -> int:
        with self._cond:
            return self._used
