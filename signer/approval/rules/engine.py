"""Parent side of the rule sandbox: ``RuleEngine`` runs rule functions in a worker process.

Why a process: dukpy evaluates while holding the GIL and can only be interrupted by a signal on
the main thread (toolchain.md §4.5), so an endless rule would freeze a threaded signer. The
worker is spawned (``subprocess``, never a bare fork) with an empty environment and no key
material; a call that passes its deadline gets the worker SIGKILLed and replaced.

One worker serves one engine and calls go through it one at a time. That also serialises
every ``storage`` access, so a read-modify-write inside one rule call never loses an update to a
concurrent request.
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from signer.approval.rules.storage import ClefStorage, RuleStorage
from signer.errors import RulesError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# QuickJS caps its own heap at 128 MiB; this bounds everything else in the worker (Python,
# dukpy buffers) so a runaway allocation outside the JS heap cannot grow without limit either.
DEFAULT_ADDRESS_SPACE = 512 * 1024 * 1024
STARTUP_TIMEOUT = 30.0
# A larger message from the worker (console line, stored value) is treated as misbehaviour.
MAX_MESSAGE = 16 * 1024 * 1024
FUNCTION_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# Where ``signer`` is importable from, for the worker's isolated interpreter.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])


def print_console(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Worker:
    """One live worker process and its line-buffered stdout."""

    def __init__(self, source: str, address_space: int) -> None:
        bootstrap = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from signer.approval.rules.worker import main; sys.exit(main(sys.argv[1:]))"
        )
        # -I and env={}: no PYTHON* variables, no user site, no cwd on sys.path, and nothing
        # from the signer's environment (which may hold secrets) for a rule to find.
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-c", bootstrap, _PROJECT_ROOT, str(address_space)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={},
                close_fds=True,
                start_new_session=True,
            )
        except OSError as err:
            raise RulesError(f"cannot start the rule engine worker: {err}") from None
        self._buffer = b""
        self.ready = False
        self.send({"op": "init", "source": source})

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode("ascii") + b"\n")
            self.process.stdin.flush()
        except OSError as err:
            raise RulesError(f"rule engine worker is gone: {err}") from None

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The next message, or None when the deadline passes first."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            try:
                chunk = os.read(fd, 65536)
            except OSError as err:
                raise RulesError(f"rule engine worker is gone: {err}") from None
            if not chunk:
                raise RulesError(f"rule engine worker exited (status {self.process.wait()})")
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE and b"\n" not in self._buffer:
                raise RulesError("rule engine worker sent an oversized message")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            raise RulesError("rule engine worker sent a malformed message") from None
        if not isinstance(message, dict):
            raise RulesError("rule engine worker sent a malformed message")
        return message

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class RuleEngine:
    """Evaluates clef rule functions in a sandboxed worker, one call at a time.

    ``call`` returns the function's result converted with JavaScript ``String()`` and raises
    ``RulesError`` when the rule cannot decide: a syntax error, a thrown exception, a missing
    function, a timeout or a crashed worker. Console lines go to ``on_console`` (stderr by
    default) already formatted as clef prints them.
    """

    def __init__(
        self,
        source: str,
        storage: RuleStorage,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        on_console: Callable[[str], None] = print_console,
        address_space: int = DEFAULT_ADDRESS_SPACE,
    ) -> None:
        self.source = source
        self.storage = ClefStorage(storage)
        self.timeout = timeout
        self.on_console = on_console
        self._address_space = address_space
        self._lock = threading.Lock()
        self._closed = False
        self._worker: _Worker | None = None
        # Started now so the first request finds a warm context.
        self._replace_worker()

    def call(self, function: str, argument: dict[str, Any]) -> str:
        if not FUNCTION_NAME.fullmatch(function):
            raise RulesError(f"invalid rule function name {function!r}")
        try:
            payload = json.dumps(argument, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise RulesError(f"request cannot be passed to the rules: {err}") from None
        with self._lock:
            if self._closed:
                raise RulesError("rule engine is closed")
            worker = self._ready_worker()
            try:
                return self._run(worker, function, payload)
            except _RuleFailed:
                raise
            except BaseException:
                # Whatever state the worker is in (looping, dead, mid-call after an interrupt),
                # it must never answer the next call with this one's result: replace it.
                self._replace_worker()
                raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._worker is not None:
                self._worker.kill()
                self._worker = None

    def __enter__(self) -> RuleEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ready_worker(self) -> _Worker:
        if self._worker is None or self._worker.process.poll() is not None:
            self._replace_worker()
        if self._worker is None:
            raise RulesError("rule engine worker is not available")
        worker = self._worker
        if not worker.ready:
            try:
                message = worker.receive(time.monotonic() + STARTUP_TIMEOUT)
            except RulesError:
                self._replace_worker()
                raise
            if message is None or message.get("op") != "ready":
                self._replace_worker()
                raise RulesError("rule engine worker did not start")
            worker.ready = True
        return worker

    def _replace_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        # The new worker initialises while the caller falls back to the next UI.
        try:
            self._worker = _Worker(self.source, self._address_space)
        except RulesError as err:
            log.warning("%s", err)

    def _run(self, worker: _Worker, function: str, payload: str) -> str:
        deadline = time.monotonic() + self.timeout
        worker.send({"op": "call", "fn": function, "arg": payload})
        while True:
            message = worker.receive(deadline)
            if message is None:
                log.warning(
                    "rule %s timed out after %ss; restarting the rule engine worker", function, self.timeout
                )
                raise RulesError(f"rule {function} timed out after {self.timeout:g}s")
            op = message.get("op")
            if op == "log":
                args = message.get("args")
                if isinstance(args, list):
                    self._print(args)
            elif op == "get":
                worker.send({"op": "value", "value": self.storage.get(str(message.get("key", "")))})
            elif op == "put":
                self.storage.put(str(message.get("key", "")), str(message.get("value", "")))
            elif op == "result":
                return str(message.get("value"))
            elif op == "error":
                raise _RuleFailed(str(message.get("message")))
            else:
                raise RulesError(f"rule engine worker sent an unknown message {op!r}")

    def _print(self, args: list[Any]) -> None:
        # clef joins "JS:> " and every argument with single spaces.
        try:
            self.on_console(" ".join(["JS:> ", *map(str, args)]))
        except Exception as err:
            log.warning("cannot print rule console output: %s", err)


class _RuleFailed(RulesError):
    """The rule itself failed (exception, syntax error, missing function); the worker is fine."""
