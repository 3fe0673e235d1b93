"""One rule worker process as the parent sees it: spawn, JSON lines both ways, kill.

Why a process: dukpy evaluates while holding the GIL and can only be interrupted by a signal on
the main thread (toolchain.md §4.5), so an endless rule would freeze a threaded signer. The
worker is spawned (``subprocess``, never a bare fork) with an empty environment and no key
material; the engine SIGKILLs and replaces a worker whose call passes its deadline.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from signer.errors import RulesError

STARTUP_TIMEOUT = 30.0
# A larger message from the worker (console line, stored value) is treated as misbehaviour.
MAX_MESSAGE = 16 * 1024 * 1024
# Where ``signer`` is importable from, for the worker's isolated interpreter.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from signer.approval.rules.worker import main; sys.exit(main(sys.argv[1:]))"
)


class RuleFailed(RulesError):
    """The rule itself failed (exception, syntax error, missing function); the worker is fine."""


class WorkerProcess:
    """One live worker process and its line-buffered stdout."""

    def __init__(self, source: str, address_space: int) -> None:
        # -I and env={}: no PYTHON* variables, no user site, no cwd on sys.path, and nothing
        # from the signer's environment (which may hold secrets) for a rule to find. Its working
        # folder is an empty one, removed once the worker is in it (nothing can be made there),
        # and its only descriptors are the two pipes and /dev/null: not the signer's terminal.
        try:
            empty = tempfile.mkdtemp(prefix="sealward-rules-")
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-c", _BOOTSTRAP, _PROJECT_ROOT, str(address_space)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    cwd=empty,
                    env={},
                    close_fds=True,
                    start_new_session=True,
                )
            finally:
                os.rmdir(empty)
        except OSError as err:
            raise RulesError(f"cannot start the rule engine worker: {err}") from None
        self._buffer = b""
        self.ready = False
        self.send({"op": "init", "source": source})

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait for the worker's first "ready"; it has then built its first fresh context."""
        if self.ready:
            return
        message = self.receive(time.monotonic() + timeout)
        if message is not None and message.get("op") == "error":
            raise RulesError(f"rule engine worker did not start: {str(message.get('message'))[:500]}")
        if message is None or message.get("op") != "ready":
            raise RulesError("rule engine worker did not start")
        self.ready = True

    def alive(self) -> bool:
        return self.process.poll() is None

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
        """SIGKILL and reap, so no zombie is left behind."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
