"""Parent side of the rule sandbox: ``RuleEngine`` runs rule functions in worker processes.

The workers (process.py, pool.py) are sandboxed processes with a fresh JavaScript context for
every call. Calls from different threads run in parallel on different workers, with one
exception that keeps ``storage`` consistent: a call takes the engine's storage lock at its first
``storage.get`` or ``storage.put`` and keeps it until it ends. Calls that touch storage therefore
run their storage part one after another, and a read-modify-write inside one call never loses
an update to a concurrent request. The lock follows what the call does, not what the source
text says, so a rule that reaches storage indirectly (``globalThis["stor" + "age"]``) is
serialised too, and calls that never touch storage never wait for it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from signer.approval.rules.pool import WorkerPool
from signer.approval.rules.process import RuleFailed, WorkerProcess
from signer.approval.rules.storage import ClefStorage, RuleStorage, StorageLimitExceeded, StorageLimits
from signer.errors import RulesError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# QuickJS caps its own heap at 128 MiB; this bounds everything else in the worker (Python,
# dukpy buffers) so a runaway allocation outside the JS heap cannot grow without limit either.
DEFAULT_ADDRESS_SPACE = 512 * 1024 * 1024
# Two, for the 2-core reference machine: one worker answers while the other builds contexts.
DEFAULT_WORKERS = 2
FUNCTION_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def print_console(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class RuleEngine:
    """Evaluates clef rule functions in a pool of sandboxed workers.

    ``call`` returns the function's result converted with JavaScript ``String()`` and raises
    ``RulesError`` when the rule cannot decide: a syntax error, a thrown exception, a missing
    function, a timeout or a crashed worker. Console lines go to ``on_console`` (stderr by
    default) already formatted as clef prints them; with concurrent calls it must be thread-safe.
    """

    def __init__(
        self,
        source: str,
        storage: RuleStorage,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        on_console: Callable[[str], None] = print_console,
        address_space: int = DEFAULT_ADDRESS_SPACE,
        workers: int = DEFAULT_WORKERS,
        on_event: Callable[[str], None] | None = None,
        storage_limits: StorageLimits | None = None,
    ) -> None:
        self.source = source
        self.storage = ClefStorage(storage, storage_limits)
        self.timeout = timeout
        self.on_console = on_console
        # Told "timeout" and "worker_restart" as they happen (the metrics count them).
        self._on_event = on_event or (lambda _event: None)
        self._storage_lock = threading.Lock()
        self._pool = WorkerPool(
            lambda: WorkerProcess(source, address_space),
            workers,
            on_replace=lambda: self._on_event("worker_restart"),
        )

    def call(self, function: str, argument: dict[str, Any]) -> str:
        if not FUNCTION_NAME.fullmatch(function):
            raise RulesError(f"invalid rule function name {function!r}")
        try:
            payload = json.dumps(argument, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise RulesError(f"request cannot be passed to the rules: {err}") from None
        with self._pool.borrow() as worker:
            return self._run(worker, function, payload)

    def close(self) -> None:
        """Stop every worker; calls still running finish first (each within its deadline)."""
        self._pool.close()

    def __enter__(self) -> RuleEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def _workers(self) -> list[WorkerProcess]:
        return self._pool.workers

    def _run(self, worker: WorkerProcess, function: str, payload: str) -> str:
        deadline = time.monotonic() + self.timeout
        holds_storage = False
        worker.send({"op": "call", "fn": function, "arg": payload})
        try:
            while True:
                message = worker.receive(deadline)
                if message is None:
                    self._on_event("timeout")
                    log.warning(
                        "rule %s timed out after %ss; restarting the rule engine worker",
                        function,
                        self.timeout,
                    )
                    raise RulesError(f"rule {function} timed out after {self.timeout:g}s")
                op = message.get("op")
                if op in ("get", "put") and not holds_storage:
                    # Waiting for another call's storage turn is not this rule's running time.
                    waiting = time.monotonic()
                    self._storage_lock.acquire()
                    holds_storage = True
                    self.storage.begin()
                    deadline += time.monotonic() - waiting
                if op == "log":
                    args = message.get("args")
                    if isinstance(args, list):
                        self._print(args)
                elif op == "get":
                    worker.send({"op": "value", "value": self.storage.get(str(message.get("key", "")))})
                elif op == "put":
                    try:
                        self.storage.put(str(message.get("key", "")), str(message.get("value", "")))
                    except StorageLimitExceeded as err:
                        worker.send({"op": "refused", "message": str(err)})
                    else:
                        worker.send({"op": "stored"})
                elif op == "result":
                    return str(message.get("value"))
                elif op == "error":
                    raise RuleFailed(str(message.get("message")))
                else:
                    raise RulesError(f"rule engine worker sent an unknown message {op!r}")
        finally:
            # Storage effects are exactly the messages handled above, so they are applied (one
            # write, whatever the call's outcome, as clef's puts would have been) and the lock can
            # go before a failed worker is killed: nothing it sends later is ever applied.
            if holds_storage:
                try:
                    self.storage.end()
                finally:
                    self._storage_lock.release()

    def _print(self, args: list[Any]) -> None:
        # clef joins "JS:> " and every argument with single spaces.
        try:
            self.on_console(" ".join(["JS:> ", *map(str, args)]))
        except Exception as err:
            log.warning("cannot print rule console output: %s", err)
