"""The gate every call into a PKCS#11 module passes: shared for ordinary calls, exclusive for the
few that tear state down under other threads' feet.

With OS locking the module protects its own tables, but not the lifetime of what a call in flight
is using: SoftHSM2 segfaulted when C_CloseAllSessions ran while other threads were inside
C_Sign, and PKCS#11 itself forbids C_Finalize while other calls are running. So ordinary calls
share the gate and run in parallel, and C_Login, C_Logout, C_CloseAllSessions and
C_Finalize/C_Initialize wait until the calls in flight have left, and keep new ones out meanwhile.

When the module cannot lock at all, every call is exclusive: one lock for the whole module.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class CallGate:
    def __init__(self, serialise: bool) -> None:
        self.serialise = serialise
        self._cond = threading.Condition(threading.Lock())
        self._serial = threading.RLock()
        self._active = 0  # shared holders
        self._writers_waiting = 0
        self._writer: int | None = None  # thread id holding the exclusive side
        self._depth = threading.local()  # nested shared use by one thread must not wait for a writer

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        if self.serialise:
            with self._serial:
                yield
            return
        depth = getattr(self._depth, "n", 0)
        me = threading.get_ident()
        if depth == 0 and self._writer != me:
            with self._cond:
                # Writers go first, or a steady stream of signatures would starve them.
                while self._writer is not None or self._writers_waiting:
                    self._cond.wait()
                self._active += 1
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0 and self._writer != me:
                with self._cond:
                    self._active -= 1
                    if self._active == 0:
                        self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        if self.serialise:
            with self._serial:
                yield
            return
        if getattr(self._depth, "n", 0):
            raise RuntimeError("an exclusive PKCS#11 call inside a shared one would deadlock")
        me = threading.get_ident()
        if self._writer == me:  # re-entered (reinitialize -> login)
            yield
            return
        with self._cond:
            self._writers_waiting += 1
            while self._writer is not None or self._active:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = me
        try:
            yield
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()
