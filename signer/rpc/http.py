"""The HTTP endpoint (``--http``): JSON-RPC over POST, as ``geth --signer http://...`` uses it.

A thread per connection parses HTTP (keep-alive, as geth reuses connections) and hands the body
to the shared worker pool with a deadline: a human who takes longer than ~30 s to approve gets
"request timed out" on HTTP while the prompt stays open (clef-compat §1.3.2). Slow or silent
clients only hold their own connection thread: each request must arrive within ``read_timeout``
in total (not per recv, so trickling one byte at a time does not help), idle keep-alive
connections are dropped after ``idle_timeout``, and connections are capped.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from signer.errors import ParseError
from signer.rpc.admission import Admission, ReadBudget, Ticket
from signer.rpc.dispatch import Dispatcher
from signer.rpc.envelope import encode, error_response
from signer.rpc.framing import HTTP_PARSE_ERROR
from signer.rpc.httpbody import Body, MalformedChunks, read_chunked, read_sized
from signer.rpc.httpchecks import (
    CorsPolicy,
    accepts_gzip,
    content_length,
    content_type_ok,
    host_allowed,
)
from signer.rpc.httpconn import CappedHTTPServer, DeadlineReader, listen_address
from signer.rpc.limits import DEFAULT_LIMITS, Limits
from signer.types import Metadata

log = logging.getLogger("sealward.rpc")

# What geth answers for a body it cannot read as JSON (written without a final newline).
_PARSE_ERROR = encode(error_response(None, ParseError(HTTP_PARSE_ERROR)))

Headers = list[tuple[str, str]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive by default
    server_version = "sealward"
    sys_version = ""
    server: CappedHTTPServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self._reader = DeadlineReader(self.connection)
        self._buffered = io.BufferedReader(self._reader)
        self.rfile = self._buffered
        # The first request's deadline runs from accept (Go's ReadHeaderTimeout).
        self._reader.set_deadline(self.server.owner.read_timeout)
        self._first = True

    def handle_one_request(self) -> None:
        owner = self.server.owner
        if not self._first:
            self._reader.set_deadline(owner.idle_timeout)
        try:
            if not self._buffered.peek(1):
                self.close_connection = True
                return
        except OSError:
            self.close_connection = True
            return
        if not self._first:
            self._reader.set_deadline(owner.read_timeout)
        self._first = False
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        # Do not invite a body we are going to refuse with 413; answer without reading it.
        length = content_length(self.headers.get("Content-Length"))
        if length is not None and length > self.server.owner.limits.max_message_size:
            return True
        return super().handle_expect_100()

    def do_POST(self) -> None:
        owner = self.server.owner
        if not host_allowed(self.headers.get("Host", ""), owner.vhosts):
            return self._reject(403, "invalid host specified")
        cors: Headers = []
        origin = self.headers.get("Origin")
        if owner.cors.enabled and origin:
            wanted = self.headers.get("Access-Control-Request-Method")
            if self.command == "OPTIONS" and wanted:
                asked = self.headers.get("Access-Control-Request-Headers", "")
                self.close_connection = self._has_body()
                return self._send(204, b"", None, owner.cors.preflight(origin, wanted, asked))
            cors = owner.cors.actual(origin)
        coding = self.headers.get("Transfer-Encoding")
        if coding is not None and coding.strip().lower() != "chunked":
            return self._unsupported_coding()
        chunked = coding is not None  # then Content-Length does not count (RFC 9112 6.3)
        length = -1 if chunked else content_length(self.headers.get("Content-Length"))
        if length is None:
            return self._reject(400, "invalid content length", cors)
        if self.command == "GET" and length == 0 and not urlsplit(self.path).query:
            return self._send(200, b"", None, cors)  # health check
        if self.command in ("PUT", "DELETE"):
            return self._reject(405, "method not allowed", cors)
        limit = owner.limits.max_message_size
        if length > limit:
            return self._reject(413, f"content length too large ({length}>{limit})", cors)
        if self.command != "OPTIONS" and not content_type_ok(self.headers.get("Content-Type")):
            return self._reject(415, "invalid content type, only application/json is supported", cors)
        # Beyond a small allowance the body's bytes come from the transport's read budget, so
        # many large bodies read at once cannot add up; waiting for it counts in the read deadline.
        # A chunked body's size is known only at its end: it holds budget for the largest.
        reserved = max(0, (limit if chunked else length) - owner.limits.small_message)
        if not owner.read_budget.reserve(reserved, self._reader.deadline):
            return self._reject(503, "server busy reading other requests, try again", cors)
        try:
            try:
                body = read_chunked(self.rfile, limit) if chunked else read_sized(self.rfile, length)
            except MalformedChunks:
                self.close_connection = True  # where the next request would start is unknown
                return self._send(200, _PARSE_ERROR, "application/json", cors)
            return self._call(body, cors)
        finally:
            owner.read_budget.release(reserved)

    def _unsupported_coding(self) -> None:
        """Go's server answers a transfer coding it does not know itself, before any handler:
        501, its own words (the value is not echoed), and the connection closed."""
        self.close_connection = True
        self.send_response_only(501)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"Unsupported transfer encoding")

    def _call(self, received: Body, cors: Headers) -> None:
        owner = self.server.owner
        if received.state != "complete":
            self.close_connection = True  # the rest of the body was never read
            if received.state == "short":
                return None  # the client went away mid-body
        body = received.data
        if self.command == "OPTIONS" and not body:
            return self._send(200, b"", "application/json", cors)
        log.debug("HTTP request method=%s bytes=%d", self.command, len(body))

        def admit(calls: int, size: int) -> Ticket:
            return owner.admission.admit(self, calls, size)

        self.server.mark(self.connection, busy=True)
        try:
            reply = owner.dispatcher.handle_bytes(
                body,
                self._metadata(),
                executor=owner.pool,
                timeout=owner.call_timeout,
                admit=admit,
                max_values=owner.limits.max_values,
            )
        except RuntimeError:  # the worker pool is shut down: the server is closing
            self.close_connection = True
            return None
        finally:
            self.server.mark(self.connection, busy=False)
        return self._send(200, reply, "application/json", cors)

    # geth's handler takes every method and decides by the rules above.
    do_GET = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_HEAD = do_POST

    def _has_body(self) -> bool:
        return "Transfer-Encoding" in self.headers or self.headers.get("Content-Length", "0") != "0"

    def _metadata(self) -> Metadata:
        ip, port = self.client_address[:2]
        remote = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        return Metadata(
            remote=remote,
            local=self.headers.get("Host", ""),
            scheme="http",  # clef v1.17.3 names the transport (later trees: the protocol version)
            user_agent=self.headers.get("User-Agent", ""),
            origin=self.headers.get("Origin", ""),
        )

    def _reject(self, status: int, text: str, headers: Headers | None = None) -> None:
        # The body was not read, so the connection cannot carry another request.
        self.close_connection = self.close_connection or self._has_body()
        plain = [("X-Content-Type-Options", "nosniff"), *(headers or [])]
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8", plain)

    def _send(self, status: int, body: bytes, content_type: str | None, headers: Headers) -> None:
        if body and accepts_gzip(self.headers.get("Accept-Encoding")):
            body = gzip.compress(body, compresslevel=6)
            headers = [*headers, ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.connection.settimeout(self.server.owner.write_timeout)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Not the request line: only the method and the status reach the log.
        log.debug("HTTP response method=%s status=%s", self.command, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("HTTP connection: " + format, *args)


class HttpServer:
    """Serves ``dispatcher`` over HTTP on ``host:port`` (port 0 picks a free port)."""

    def __init__(
        self,
        host: str,
        port: int,
        dispatcher: Dispatcher,
        vhosts: list[str],
        cors_origins: list[str],
        *,
        call_timeout: float = 29.9,
        read_timeout: float = 30.0,
        write_timeout: float = 30.0,
        idle_timeout: float = 120.0,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._host, self._port = host, port
        self.dispatcher = dispatcher
        self.vhosts = list(vhosts)
        self.cors = CorsPolicy(cors_origins)
        self.call_timeout, self.read_timeout = call_timeout, read_timeout
        self.write_timeout, self.idle_timeout = write_timeout, idle_timeout
        self.limits = limits
        self.admission = Admission(limits)
        self.read_budget = ReadBudget(limits.read_budget)
        # A thread for every call that may be in flight: an admitted call never queues.
        self.pool = ThreadPoolExecutor(limits.max_calls, thread_name_prefix="sealward-http")
        self._server: CappedHTTPServer | None = None
        self._closed = False
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("HTTP server not started")
        return self._url

    def start(self) -> None:
        if self._server is not None or self._closed:
            raise RuntimeError("an HTTP server can be started once")
        family, address = listen_address(self._host, self._port)
        server = CappedHTTPServer(address, family, _Handler, self)
        self._server = server
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sealward-http-accept",
            daemon=True,
        ).start()
        host, port = server.server_address[:2]
        shown = f"[{host!s}]" if family == socket.AF_INET6 else str(host)
        self._url = f"http://{shown}:{port}/"
        if not ipaddress.ip_address(str(host)).is_loopback:
            log.warning(
                "HTTP endpoint is reachable from the network: anyone who can reach it can request "
                "signatures, and only your approval stands in the way url=%s",
                self._url,
            )
        log.info("HTTP endpoint opened url=%s", self._url)

    def close(self) -> None:
        """Stop accepting, drop open connections; calls still running finish in the background."""
        server, self._server = self._server, None
        if server is None:
            return
        self._closed = True
        server.shutdown()
        server.server_close()
        server.drop_connections()
        self.pool.shutdown(wait=False, cancel_futures=True)
        log.info("HTTP endpoint closed url=%s", self._url)
