"""The JSON-RPC 2.0 envelope: method table, parameter arity, batches, errors in clef's words.

A handler is called as ``handler(meta, *params)`` with exactly ``required + optional`` positional
parameters (absent optional ones are None), like geth's reflection-based server where trailing
pointer parameters are optional. Handlers block (human prompts, scrypt, HSMs), so transports run
them on a thread pool: ``handle`` waits for the answer (HTTP, with a deadline), ``submit`` calls
back when it is ready (IPC, where one connection pipelines many requests).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from signer.errors import (
    HandlerCrashed,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    RequestTimeout,
    SignerError,
    error_code,
)
from signer.rpc.envelope import (
    Response,
    encode,
    error_response,
    is_notification,
    request_id,
    result_response,
    valid_id,
)
from signer.rpc.framing import decode_value
from signer.types import Metadata

log = logging.getLogger("sealward.rpc")

MAX_BATCH_SIZE = 1000
MODULES = {"account": "1.0", "rpc": "1.0"}
_CRASH_CODE = error_code(HandlerCrashed())


@dataclass(frozen=True)
class _Method:
    handler: Callable[..., Any]
    required: int
    optional: int


def _log_crash(method: str, exc: BaseException) -> None:
    # The exception's own text is left out on purpose: it may quote the parameters.
    # The frames are the signer's own code locations; they go into the format string so that their
    # line breaks are kept (arguments are escaped whole by the log formatter).
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    template = "Method handler crashed method=%s err=%s\n" + frames.replace("%", "%%")
    log.error(template, method, type(exc).__qualname__)


class Dispatcher:
    """Method table plus the JSON-RPC envelope rules of geth's server (clef-compat §1.3.3)."""

    def __init__(self) -> None:
        self._methods: dict[str, _Method] = {}
        self.add("rpc_modules", lambda meta: dict(MODULES))

    def add(self, name: str, handler: Callable[..., Any], required: int = 0, optional: int = 0) -> None:
        if name in self._methods:
            raise ValueError(f"method {name} is already registered")
        if required < 0 or optional < 0:
            raise ValueError("parameter counts must not be negative")
        self._methods[name] = _Method(handler, required, optional)

    def call(self, request: Any, meta: Metadata) -> Response | None:
        """Run one request object in this thread. Never raises; None for a notification."""
        notification = is_notification(request)
        rid = request_id(request)
        try:
            method, params = self._resolve(request)
        except SignerError as exc:
            return None if notification else error_response(rid, exc)
        start = time.monotonic()
        try:
            result = method.handler(meta, *params)
        except Exception as exc:
            error = error_response(rid, exc)
            if error["error"]["code"] == _CRASH_CODE and not isinstance(exc, HandlerCrashed):
                _log_crash(request["method"], exc)
            return None if notification else error
        log.debug("Served method=%s duration=%.3fs", request["method"], time.monotonic() - start)
        return None if notification else result_response(rid, result)

    def _resolve(self, request: Any) -> tuple[_Method, list[Any]]:
        if (
            not isinstance(request, dict)
            or request.get("jsonrpc") != "2.0"
            or not isinstance(request.get("method"), str)
            or not request["method"]
            or not valid_id(request.get("id"))
        ):
            raise InvalidRequest("invalid request")
        name = request["method"]
        method = self._methods.get(name)
        if method is None:
            log.debug("Unknown method requested length=%d", len(name))
            raise MethodNotFound(f"the method {name} does not exist/is not available")
        params = request.get("params")
        if params is None:
            params = []
        elif not isinstance(params, list):
            raise InvalidParams("non-array args")
        most = method.required + method.optional
        if len(params) > most:
            raise InvalidParams(f"too many arguments, want at most {most}")
        if len(params) < method.required:
            raise InvalidParams(f"missing value for required argument {len(params)}")
        return method, params + [None] * (most - len(params))

    def _check_batch(self, batch: list[Any]) -> Any | None:
        """The single answer for a batch that is not executed at all, else None."""
        if not batch:
            return error_response(None, InvalidRequest("empty batch"))
        if len(batch) > MAX_BATCH_SIZE:
            # As geth: one error, carrying the id of the first call so a client can match it.
            first = next((r for r in batch if not is_notification(r)), None)
            return [error_response(request_id(first), InvalidRequest("batch too large"))]
        return None

    def handle(
        self,
        message: Any,
        meta: Metadata,
        *,
        executor: Executor | None = None,
        timeout: float | None = None,
    ) -> Any | None:
        """Answer one decoded message (request object or batch list); None when nothing is sent.

        With an executor, calls run on it concurrently and, with a timeout, calls still running
        at the deadline are answered "request timed out" while they go on in the background;
        calls not yet started are cancelled. Without an executor, calls run here in order.
        """
        if not isinstance(message, list):
            if executor is None:
                return self.call(message, meta)
            future = executor.submit(self.call, message, meta)
            try:
                return future.result(timeout)
            except FutureTimeout:
                return self._timed_out(message, future)
        rejected = self._check_batch(message)
        if rejected is not None:
            return rejected
        if executor is None:
            answers = [self.call(request, meta) for request in message]
        else:
            futures = [executor.submit(self.call, request, meta) for request in message]
            done, _ = wait(futures, timeout)
            answers = [
                f.result() if f in done else self._timed_out(r, f)
                for r, f in zip(message, futures, strict=True)
            ]
        responses = [a for a in answers if a is not None]
        return responses or None

    def _timed_out(self, request: Any, future: Future[Response | None]) -> Response | None:
        future.cancel()  # a call nobody waits for any more should not start, e.g. prompt a human
        return None if is_notification(request) else error_response(request_id(request), RequestTimeout())

    def submit(
        self, message: Any, meta: Metadata, executor: Executor, done: Callable[[Any | None], None]
    ) -> None:
        """Run ``message`` on ``executor`` and call ``done(answer)`` once, from whichever thread
        finishes last. No thread waits for another, so pool workers can never deadlock on a batch.
        """
        if not isinstance(message, list):
            future = executor.submit(self.call, message, meta)
            future.add_done_callback(lambda f: done(None if f.cancelled() else f.result()))
            return
        rejected = self._check_batch(message)
        if rejected is not None:
            done(rejected)
            return
        collector = _BatchCollector(len(message), done)
        for index, request in enumerate(message):
            future = executor.submit(self.call, request, meta)
            future.add_done_callback(collector.callback(index))

    def handle_bytes(
        self,
        data: bytes,
        meta: Metadata,
        *,
        executor: Executor | None = None,
        timeout: float | None = None,
    ) -> bytes | None:
        """``handle`` for one encoded message, e.g. an HTTP body."""
        try:
            message = decode_value(data)
        except ParseError as exc:
            return encode(error_response(None, exc))
        response = self.handle(message, meta, executor=executor, timeout=timeout)
        return None if response is None else encode(response)


class _BatchCollector:
    """Gathers a batch's answers in request order; the last one to arrive sends them all."""

    def __init__(self, size: int, done: Callable[[Any | None], None]) -> None:
        self._answers: list[Response | None] = [None] * size
        self._missing = size
        self._lock = threading.Lock()
        self._done = done

    def callback(self, index: int) -> Callable[[Future[Response | None]], None]:
        return lambda future: self.finish(index, None if future.cancelled() else future.result())

    def finish(self, index: int, answer: Response | None) -> None:
        with self._lock:
            self._answers[index] = answer
            self._missing -= 1
            if self._missing:
                return
        responses = [a for a in self._answers if a is not None]
        self._done(responses or None)
