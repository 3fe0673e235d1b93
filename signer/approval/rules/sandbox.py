"""One fresh QuickJS context for one rule call, with console, storage and BigNumber installed.

Used only inside the worker process (worker.py); ``Link`` is the worker's pipe to the parent,
through which console lines and storage requests go.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from dukpy import _dukpy

FUNCTION_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class Link(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...

    def receive(self) -> dict[str, Any] | None: ...


# dukpy re-creates the ``call_python`` and ``dukpy`` globals before every evaluation. The prelude
# keeps a private reference for console and storage and turns both names into accessors that
# read as undefined and ignore writes, so rules see only console, storage and BigNumber.
#
# Compiling BigNumber is most of a context's cost, and many rule files (clique sealers) never
# use it. For a file that does not contain the name, the prelude (``%LAZY%`` = true) defines an
# accessor instead, which fetches bignumber.js from the worker and evaluates it on first use: a
# computed name (globalThis["Big" + "Number"]) still finds it, and bignumber.js's own
# ``global.BigNumber = ...`` goes through the setter, leaving the same plain global property, in
# the same place, as when loaded up front. (Its setup then runs after the rule's top level, so
# only a rule that breaks built-ins such as Object.defineProperty and then reaches BigNumber by a
# computed name could tell the difference.) The source stays in Python until then: parsing it as
# a string literal in every context cost more than the rest of the context together.
_PRELUDE = b"""
(function (global, callPython, define, evaluate, lazy) {
    function render(args) {
        var out = [];
        for (var i = 0; i < args.length; i++) out.push(String(args[i]));
        return out;
    }
    global.console = {
        log: function () { callPython('console', render(arguments)); },
        error: function () { callPython('console', render(arguments)); }
    };
    global.storage = {
        get: function (key) { return callPython('storage_get', String(key)); },
        put: function (key, value) {
            var refused = callPython('storage_put', String(key), String(value));
            if (refused) throw new Error(refused);
            return null;
        }
    };
    if (lazy) {
        define(global, 'BigNumber', {
            configurable: true, enumerable: true,
            get: function () { evaluate(callPython('bignumber')); return global.BigNumber; },
            set: function (v) {
                define(global, 'BigNumber',
                       { value: v, writable: true, enumerable: true, configurable: true });
            }
        });
    }
})(globalThis, call_python, Object.defineProperty, eval, %LAZY%);
['call_python', 'dukpy'].forEach(function (name) {
    delete globalThis[name];
    Object.defineProperty(globalThis, name, {
        get: function () { return undefined; }, set: function () {}, enumerable: false, configurable: false
    });
});
"""
_BIGNUMBER = Path(__file__).with_name("bignumber.js").read_bytes()
_BIGNUMBER_TEXT = _BIGNUMBER.decode("utf-8")
_EAGER_PRELUDE = _PRELUDE.replace(b"%LAZY%", b"false")
_LAZY_PRELUDE = _PRELUDE.replace(b"%LAZY%", b"true")


def _host_functions(channel: Link) -> dict[str, Callable[..., Any]]:
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

    def storage_put(key: str, value: str) -> str | None:
        """None when stored; the reason when the signer refused it (a storage bound)."""
        channel.send({"op": "put", "key": str(key), "value": str(value)})
        answer = channel.receive()
        if answer is not None and answer.get("op") == "stored":
            return None
        if answer is not None and answer.get("op") == "refused":
            return str(answer.get("message") or "storage.put refused")
        raise RuntimeError("storage is unavailable")

    def bignumber() -> str:
        return _BIGNUMBER_TEXT

    return {
        "console": console,
        "storage_get": storage_get,
        "storage_put": storage_put,
        "bignumber": bignumber,
    }


class Sandbox:
    """One fresh QuickJS context with console, storage and BigNumber installed.

    dukpy's C code calls ``_check_exported_function_exists`` and ``_call_python`` on the object
    passed to ``eval_string`` and reads its ``_ctx``; this class provides exactly that instead of
    subclassing ``JSInterpreter``, whose constructor installs ``require`` and ``process.env``.
    """

    def __init__(self, channel: Link, bignumber_now: bool = True) -> None:
        self._ctx = _dukpy.create_context()
        self._funcs = _host_functions(channel)
        if bignumber_now:
            self.evaluate(_EAGER_PRELUDE)
            self.evaluate(_BIGNUMBER)
        else:
            self.evaluate(_LAZY_PRELUDE)

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
