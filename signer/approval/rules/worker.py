"""Child side of the rule sandbox: one process, a fresh QuickJS context for every call.

``RuleEngine`` starts it as ``python -I -m signer.approval.rules.worker <address-space-bytes>``
with an empty environment, so nothing of the signer (keys, passwords, environment variables)
exists in this process. It imports only the standard library and dukpy, and speaks JSON lines:

    parent -> worker  {"op": "init", "source": str}            first line: the rule file
                      {"op": "call", "fn": str, "arg": str}      arg is the request's JSON text
                      {"op": "value", "value": str}             the answer to a "get"
    worker -> parent  {"op": "ready"}                           after init, before the first call
                      {"op": "log", "args": [str, ...]}         console.log / console.error
                      {"op": "get", "key": str}                 storage.get; waits for "value"
                      {"op": "put", "key": str, "value": str}   storage.put; no answer
                      {"op": "result", "value": str} or {"op": "error", "message": str}

Clef's semantics for the storage values themselves live in the parent (``ClefStorage``).
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from dukpy import _dukpy

FUNCTION_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

# dukpy re-creates the ``call_python`` and ``dukpy`` globals before every evaluation. The shim
# keeps a private reference for console and storage and turns both names into accessors that
# read as undefined and ignore writes, so rules see only console, storage and BigNumber.
_SHIM = b"""
(function (callPython) {
    function render(args) {
        var out = [];
        for (var i = 0; i < args.length; i++) out.push(String(args[i]));
        return out;
    }
    globalThis.console = {
        log: function () { callPython('console', render(arguments)); },
        error: function () { callPython('console', render(arguments)); }
    };
    globalThis.storage = {
        get: function (key) { return callPython('storage_get', String(key)); },
        put: function (key, value) { callPython('storage_put', String(key), String(value)); return null; }
    };
})(call_python);
['call_python', 'dukpy'].forEach(function (name) {
    delete globalThis[name];
    Object.defineProperty(globalThis, name, {
        get: function () { return undefined; }, set: function () {}, enumerable: false, configurable: false
    });
});
"""
_BIGNUMBER = Path(__file__).with_name("bignumber.js").read_bytes()


class Channel:
    """JSON lines over a pair of binary pipes."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO) -> None:
        self._rfile = rfile
        self._wfile = wfile

    def send(self, message: dict[str, Any]) -> None:
        self._wfile.write(json.dumps(message).encode("ascii") + b"\n")
        self._wfile.flush()

    def receive(self) -> dict[str, Any] | None:
        line = self._rfile.readline()
        if not line:
            return None
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("protocol error: expected a JSON object")
        return message


def _host_functions(channel: Channel) -> dict[str, Callable[..., Any]]:
    # Closures over the channel only: a sandbox must not reference itself through its callbacks,
    # or its 128 MiB QuickJS heap would wait for the cycle collector instead of being freed.
    def console(args: list[str]) -> None:
        channel.send({"op": "log", "args": [str(a) for a in args]})

    def storage_get(key: str) -> str:
        channel.send({"op": "get", "key": str(key)})
        answer = channel.receive()
        if answer is None or answer.get("op") != "value" or not isinstance(answer.get("value"), str):
            raise RuntimeError("storage is unavailable")
        return str(answer["value"])

    def storage_put(key: str, value: str) -> None:
        channel.send({"op": "put", "key": str(key), "value": str(value)})

    return {"console": console, "storage_get": storage_get, "storage_put": storage_put}


class Sandbox:
    """One fresh QuickJS context with console, storage and BigNumber installed.

    dukpy's C code calls ``_check_exported_function_exists`` and ``_call_python`` on the object
    passed to ``eval_string`` and reads its ``_ctx``; this class provides exactly that instead of
    subclassing ``JSInterpreter``, whose constructor installs ``require`` and ``process.env``.
    """

    def __init__(self, channel: Channel) -> None:
        self._ctx = _dukpy.create_context()
        self._funcs = _host_functions(channel)
        self.evaluate(_SHIM)
        self.evaluate(_BIGNUMBER)

    def evaluate(self, code: bytes) -> Any:
        result = _dukpy.eval_string(self, code, b"{}", False, "<rules>")
        return None if result is None else json.loads(result)

    def call(self, source: str, function: str, argument: str) -> str:
        """Run the rule file, then ``function(JSON.parse(argument))``; the result as JS String()."""
        if not FUNCTION_NAME.fullmatch(function):
            raise ValueError(f"invalid function name {function!r}")
        try:
            self.evaluate(source.encode("utf-8"))
        except _dukpy.JSRuntimeError as err:
            raise RuntimeError(f"rule file failed: {_js_message(err)}") from None
        invocation = f"String({function}(JSON.parse({json.dumps(argument)})))"
        try:
            value = self.evaluate(invocation.encode("utf-8"))
        except _dukpy.JSRuntimeError as err:
            raise RuntimeError(f"{function} failed: {_js_message(err)}") from None
        return str(value)

    def _check_exported_function_exists(self, name: bytes) -> bool:
        return name.decode("utf-8") in self._funcs

    def _call_python(self, name: bytes, json_args: bytes) -> bytes | None:
        result = self._funcs[name.decode("utf-8")](*json.loads(json_args))
        return None if result is None else json.dumps(result).encode("utf-8")


def _js_message(err: Exception) -> str:
    # QuickJS appends the whole stack on further lines; the message and the innermost frame
    # are what a rule author needs, on one line that a log can hold.
    lines = [line.strip() for line in str(err).strip().splitlines()] or [type(err).__name__]
    if len(lines) > 1 and lines[1].startswith("at "):
        return f"{lines[0][:1000]} ({lines[1][:200]})"
    return lines[0][:1000]


def serve(channel: Channel) -> int:
    init = channel.receive()
    if init is None or init.get("op") != "init" or not isinstance(init.get("source"), str):
        return 2
    source: str = init["source"]
    sandbox = Sandbox(channel)
    channel.send({"op": "ready"})
    while True:
        message = channel.receive()
        if message is None:
            return 0
        if message.get("op") != "call":
            return 2
        try:
            reply = {"op": "result", "value": sandbox.call(source, str(message["fn"]), str(message["arg"]))}
        except Exception as err:
            reply = {"op": "error", "message": str(err) or type(err).__name__}
        # A context is used once (clef's fresh VM per call); the next one is built while the
        # parent handles this answer, so its cost stays off the next request's path.
        del sandbox
        channel.send(reply)
        sandbox = Sandbox(channel)


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
    if len(argv) > 1 and int(argv[1]) > 0:
        limit = int(argv[1])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return serve(Channel(sys.stdin.buffer, sys.stdout.buffer))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
