"""The JSON-RPC 2.0 envelope: method table, parameter arity, batches, errors in clef's words.

A handler is called as ``handler(meta, *params)`` with exactly ``required + optional`` positional
parameters (absent optional ones are None), like geth's reflection-based server where trailing
pointer parameters are optional. Handlers block (human prompts, scrypt, HSMs), so transports run
them on a thread pool: ``handle`` waits for the answer (HTTP, with a deadline), ``submit`` calls
back when it is ready (IPC, where one connection pipelines many requests).

Methods registered ``inline`` (cheap, never blocking: ``account_version``, ``rpc_modules``) run on
the caller's thread instead, so they are answered even while every pooled call waits for a
person. A transport asks ``pooled_calls`` how many places a message needs, admits it
(signer.rpc.admission), and passes the ticket on: each pooled call gives its place back when it
finishes, cancelled or not.
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
    LimitExceeded,
    MethodNotFound,
    ParseError,
    RequestTimeout,
    SignerError,
    error_code,
)
from signer.rpc.admission import Ticket
from signer.rpc.envelope import (
    Response,
    encode,
    envelope,
    error_response,
    is_notification,
    kind,
    request_id,
    result_response,
)
from signer.rpc.framing import NoMessage, decode_http_body
from signer.types import Metadata

log = logging.getLogger("sealward.rpc")

MAX_BATCH_SIZE = 1000
MAX_METHOD_NAME = 2048  # bytes, as geth's maxMethodNameLength
MODULES = {"account": "1.0", "rpc": "1.0"}
_CRASH_CODE = error_code(HandlerCrashed())


Decoder = Callable[[Any], Any]


@dataclass(frozen=True)
class _Method:
    handler: Callable[..., Any]
    required: int
    optional: int
    decoders: tuple[Decoder, ...]
    inline: bool = False


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
        self.add("rpc_modules", lambda meta: dict(MODULES), inline=True)

    def add(
        self,
        name: str,
        handler: Callable[..., Any],
        required: int = 0,
        optional: int = 0,
        decoders: tuple[Decoder, ...] = (),
        *,
        inline: bool = False,
    ) -> None:
        """Register ``name``; ``decoders[i]`` turns parameter i into the handler's argument
        (raising SignerError with Go's text when it cannot) before the handler runs; ``inline``
        only for handlers that return at once and never block."""
        if name in self._methods:
            raise ValueError(f"method {name} is already registered")
        if required < 0 or optional < 0 or len(decoders) > required + optional:
            raise ValueError("parameter counts must not be negative or exceeded by decoders")
        self._methods[name] = _Method(handler, required, optional, decoders, inline)

    def _inline(self, request: Any) -> bool:
        if not isinstance(request, dict):
            return False
        method = self._methods.get(request.get("method"))  # type: ignore[arg-type]
        return method is not None and method.inline

    def pooled_calls(self, message: Any) -> int:
        """How many calls of ``message`` would run on the pool (each needs a place in flight)."""
        if not isinstance(message, list):
            return 0 if self._inline(message) else 1
        if self._check_batch(message) is not None:
            return 0
        return sum(1 for request in message if not self._inline(request))

    @staticmethod
    def refuse(message: Any, exc: LimitExceeded) -> Any | None:
        """The answer to a message none of whose calls is run: ``exc`` for every request."""
        if not isinstance(message, list):
            return None if is_notification(message) else error_response(request_id(message), exc)
        answers = [error_response(request_id(r), exc) for r in message if not is_notification(r)]
        return answers or None

    def _pool(
        self, executor: Executor, request: Any, meta: Metadata, ticket: Ticket | None
    ) -> Future[Response | None]:
        future = executor.submit(self.call, request, meta)
        if ticket is not None:
            future.add_done_callback(lambda _: ticket.finished())
        return future

    def call(self, request: Any, meta: Metadata) -> Response | None:
        """Run one request object in this thread. Never raises; None for a notification (or a
        response object, which geth's server ignores)."""
        notification = is_notification(request)
        rid = request_id(request)
        request = envelope(request)
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

    def _resolve(self, request: dict[str, Any]) -> tuple[_Method, list[Any]]:
        if kind(request) not in ("call", "notification"):
            raise InvalidRequest("invalid request")
        name = request["method"]
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > MAX_METHOD_NAME:
            raise InvalidRequest(f"method name too long: {size} > {MAX_METHOD_NAME}")
        method = self._methods.get(name)
        if method is None:
            log.debug("Unknown method requested length=%d", len(name))
            raise MethodNotFound(f"the method {name} does not exist/is not available")
        params = request.get("params")
        if params is None:
            params = []
        elif not isinstance(params, list):
            raise InvalidParams("non-array args")
        return method, self._arguments(method, params)

    @staticmethod
    def _arguments(method: _Method, params: list[Any]) -> list[Any]:
        """geth's parsePositionalArguments: decode in order, so the first bad parameter is the
        error even when there are too many or too few of them."""
        most = method.required + method.optional
        decoded: list[Any] = []
        for index, value in enumerate(params):
            if index >= most:
                raise InvalidParams(f"too many arguments, want at most {most}")
            if index < len(method.decoders):
                try:
                    value = method.decoders[index](value)
                except SignerError as exc:
                    raise InvalidParams(f"invalid argument {index}: {exc}") from exc
            decoded.append(value)
        if len(decoded) < method.required:
            raise InvalidParams(f"missing value for required argument {len(decoded)}")
        return decoded + [None] * (most - len(decoded))

    def _check_batch(self, batch: list[Any]) -> Any | None:
        """The single answer for a batch that is not executed at all, else None."""
        if not batch:
            return error_response(None, InvalidRequest("empty batch"))
        if len(batch) > MAX_BATCH_SIZE:
            # As geth: one error, carrying the id of the first call so a client can match it.
            first = next((r for r in batch if kind(r) == "call"), None)
            return [error_response(request_id(first), InvalidRequest("batch too large"))]
        return None

    def handle(
        self,
        message: Any,
        meta: Metadata,
        *,
        executor: Executor | None = None,
        timeout: float | None = None,
        ticket: Ticket | None = None,
    ) -> Any | None:
        """Answer one decoded message (request object or batch list); None when nothing is sent.

        With an executor, pooled calls run on it concurrently and, with a timeout, calls still
        running at the deadline are answered "request timed out" while they go on in the
        background; calls not yet started are cancelled. Inline methods, and every call when
        there is no executor, run here in order.
        """
        if not isinstance(message, list):
            if executor is None or self._inline(message):
                return self.call(message, meta)
            future = self._pool(executor, message, meta, ticket)
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
            futures = [None if self._inline(r) else self._pool(executor, r, meta, ticket) for r in message]
            done, _ = wait([f for f in futures if f is not None], timeout)
            answers = [
                self.call(r, meta) if f is None else f.result() if f in done else self._timed_out(r, f)
                for r, f in zip(message, futures, strict=True)
            ]
        responses = [a for a in answers if a is not None]
        return responses or None

    def _timed_out(self, request: Any, future: Future[Response | None]) -> Response | None:
        future.cancel()  # a call nobody waits for any more should not start, e.g. prompt a human
        return None if is_notification(request) else error_response(request_id(request), RequestTimeout())

    def submit(
        self,
        message: Any,
        meta: Metadata,
        executor: Executor,
        done: Callable[[Any | None], None],
        ticket: Ticket | None = None,
    ) -> None:
        """Run ``message`` on ``executor`` and call ``done(answer)`` once, from whichever thread
        finishes last. No thread waits for another, so pool workers can never deadlock on a batch.
        Inline calls run on this thread first.
        """
        if not isinstance(message, list):
            if self._inline(message):
                done(self.call(message, meta))
                return
            future = self._pool(executor, message, meta, ticket)
            future.add_done_callback(lambda f: done(None if f.cancelled() else f.result()))
            return
        rejected = self._check_batch(message)
        if rejected is not None:
            done(rejected)
            return
        collector = _BatchCollector(len(message), done)
        for index, request in enumerate(message):
            if self._inline(request):
                collector.finish(index, self.call(request, meta))
            else:
                future = self._pool(executor, request, meta, ticket)
                future.add_done_callback(collector.callback(index))

    def handle_bytes(
        self,
        data: bytes,
        meta: Metadata,
        *,
        executor: Executor | None = None,
        timeout: float | None = None,
        admit: Callable[[int, int], Ticket] | None = None,
        max_values: int | None = None,
    ) -> bytes:
        """``handle`` for an HTTP body; the reply body exactly as geth's HTTP server writes it.

        An answer ends with a newline (Go's json.Encoder); an error the transport writes itself
        (a body it cannot decode, an empty or oversized batch, a deadline passed, a limit) does
        not, as geth writes those without the encoder. An empty body, or only notifications,
        gives an empty reply.
        ``admit(calls, size)`` gives the message its places in flight or raises LimitExceeded,
        answered for every request.
        """
        try:
            message = decode_http_body(data, max_values)
        except NoMessage:
            return b""
        except (ParseError, LimitExceeded) as exc:
            return encode(error_response(None, exc))
        rejected = self._check_batch(message) if isinstance(message, list) else None
        if rejected is not None:
            return encode(rejected)  # an empty or oversized batch: geth writes it as an error
        ticket = None
        if admit is not None:
            try:
                ticket = admit(self.pooled_calls(message), len(data))
            except LimitExceeded as exc:
                refused = self.refuse(message, exc)
                return b"" if refused is None else encode(refused)
        response = self.handle(message, meta, executor=executor, timeout=timeout, ticket=ticket)
        if response is None:
            return b""
        answers = response if isinstance(response, list) else [response]
        return encode(response) if any(map(_timed_out_answer, answers)) else encode(response) + b"\n"


def _timed_out_answer(response: Any) -> bool:
    error = response.get("error") if isinstance(response, dict) else None
    return isinstance(error, dict) and error.get("message") == RequestTimeout().message


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
