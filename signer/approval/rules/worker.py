"""Child side of the rule sandbox: one process, a fresh QuickJS context for every call.

``RuleEngine`` starts it as ``python -I -m signer.approval.rules.worker <address-space-bytes>``
with an empty environment, in an empty folder, with only its two pipes (and /dev/null as
stderr), so nothing of the signer (keys, passwords, environment variables) exists in this
process. Before it reads the rule file it confines itself for good (confine.py: no new
privileges, a seccomp filter, rlimits). It needs only the standard library and dukpy
(sandbox.py), and speaks JSON lines:

    parent -> worker  {"op": "init", "source": str}            first line: the rule file
                      {"op": "call", "fn": str, "arg": str}      arg is the request's JSON text
                      {"op": "value", "value": str}             the answer to a "get"
                      {"op": "stored"} or {"op": "refused", "message": str}   the answer to a "put"
                      {"op": "idle"}                            no call follows at once: build
    worker -> parent  {"op": "ready"}                           after init, before the first call
                      {"op": "error", "message": str}           instead, when it cannot confine itself
                      {"op": "log", "args": [str, ...]}         console.log / console.error
                      {"op": "get", "key": str}                 storage.get; waits for "value"
                      {"op": "put", "key": str, "value": str}   storage.put; waits for the answer
                      {"op": "result", "value": str} or {"op": "error", "message": str}

Clef's semantics for the storage values themselves live in the parent (``ClefStorage``).
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import sys
from collections import deque
from typing import Any, BinaryIO

from signer.approval.rules.confine import ConfinementError, confine
from signer.approval.rules.sandbox import Sandbox

# Fresh contexts kept built ahead of requests: two, so that a caller who was waiting for this
# worker can start at once after a call, on the second one.
SPARE_CONTEXTS = 2


class Channel:
    """JSON lines over a pair of pipes; reads go through our own buffer so ``pending`` is exact."""

    def __init__(self, rfd: int, wfile: BinaryIO) -> None:
        self._rfd = rfd
        self._wfile = wfile
        self._buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        self._wfile.write(json.dumps(message).encode("ascii") + b"\n")
        self._wfile.flush()

    def pending(self) -> bool:
        """Whether input (a message, or EOF) is waiting to be read."""
        return b"\n" in self._buffer or bool(select.select([self._rfd], [], [], 0)[0])

    def receive(self) -> dict[str, Any] | None:
        while b"\n" not in self._buffer:
            chunk = os.read(self._rfd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("protocol error: expected a JSON object")
        return message


def serve(channel: Channel) -> int:
    init = channel.receive()
    if init is None or init.get("op") != "init" or not isinstance(init.get("source"), str):
        return 2
    source: str = init["source"]
    bignumber_now = "BigNumber" in source  # textual, so a false positive only costs time
    # Fresh contexts, each used by exactly one call (clef's fresh VM per call). A build (~2 ms)
    # cannot be interrupted, so it should not start just before a request arrives: after a call,
    # while a context is still ready, the worker waits for the parent's word, the next "call" if
    # a caller is already waiting for this worker, else "idle", and only then builds.
    spare = deque([Sandbox(channel, bignumber_now)])
    channel.send({"op": "ready"})
    hold = False
    while True:
        if len(spare) < SPARE_CONTEXTS and not hold and not channel.pending():
            spare.append(Sandbox(channel, bignumber_now))
            continue
        message = channel.receive()
        if message is None:
            return 0
        if message.get("op") == "idle":
            hold = False
            continue
        if message.get("op") != "call":
            return 2
        sandbox = spare.popleft() if spare else Sandbox(channel, bignumber_now)
        try:
            reply = {"op": "result", "value": sandbox.call(source, str(message["fn"]), str(message["arg"]))}
        except Exception as err:
            reply = {"op": "error", "message": str(err) or type(err).__name__}
        channel.send(reply)
        # Freed at once (~0.1 ms, after the answer so the caller does not wait for it): a call
        # that filled its heap does not hold it until the next call.
        del sandbox
        hold = bool(spare)


def exit_with_parent(interval: float = 1.0) -> None:
    """Exit when the signer is gone, even in the middle of an endless rule.

    Between calls the worker sees EOF on stdin, but during a call nobody would stop a looping
    rule. A periodic SIGALRM reaches Python even then, because dukpy's QuickJS interrupt handler
    runs pending signal handlers. (PR_SET_PDEATHSIG would fire when the spawning *thread*
    exits, which in a thread pool is not the signer exiting.)
    """
    parent = os.getppid()

    def check(signum: int, frame: object) -> None:
        if os.getppid() != parent:
            os._exit(0)

    signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, interval, interval)


def main(argv: list[str]) -> int:
    # The parent owns interruption (it kills us on a deadline); a terminal Ctrl-C is not ours.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()
    channel = Channel(sys.stdin.fileno(), sys.stdout.buffer)
    try:
        if len(argv) > 1 and int(argv[1]) > 0:
            limit = int(argv[1])
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        # Everything the worker will use is loaded by now (dukpy, json, the BigNumber source).
        confine()
    except (ConfinementError, OSError, ValueError) as err:
        channel.send({"op": "error", "message": f"cannot confine the rule worker: {err}"})
        return 2
    return serve(channel)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
