"""The operations listener (``--metrics``): ``/metrics``, ``/healthz`` and ``/readyz`` over HTTP.

Separate from the signing endpoints on purpose: it serves nothing a caller could sign with, so
it can be opened to a monitoring network while IPC stays private. GET and HEAD only, no request
body is read, a few connections at a time, each with a socket timeout.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder

from signer.ops.metrics import Metrics
from signer.ops.readiness import Readiness
from signer.rpc.httpconn import listen_address

log = logging.getLogger("sealward.ops")

MAX_CONNECTIONS = 16
SOCKET_TIMEOUT = 10.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # Prometheus keeps its connection open between scrapes
    server_version = "sealward"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    server: _Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        owner = self.server.owner
        if path == "/metrics":
            owner.readiness.report()  # keeps sealward_ready current; cached, so cheap
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(owner.metrics.registry), content_type)
        elif path == "/healthz":
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif path == "/readyz":
            report = owner.readiness.report()
            body = json.dumps(report.to_json(), indent=1).encode() + b"\n"
            self._send(200 if report.ready else 503, body, "application/json")
        else:
            self._send(404, b"not found: try /metrics, /healthz or /readyz\n", "text/plain; charset=utf-8")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        self.close_connection = True  # the body is never read
        self._send(405, b"method not allowed\n", "text/plain; charset=utf-8")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("Metrics request: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, owner: OpsEndpoint) -> None:
        self.address_family = family
        self.owner = owner
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: a scraper retries at its next interval
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("Metrics connection failed", exc_info=True)


class OpsEndpoint:
    def __init__(self, host: str, port: int, metrics: Metrics, readiness: Readiness) -> None:
        self._host, self._port = host, port
        self.metrics, self.readiness = metrics, readiness
        self._server: _Server | None = None
        self.url = ""

    def start(self) -> None:
        family, address = listen_address(self._host, self._port)
        server = self._server = _Server(address, family, self)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="sealward-metrics", daemon=True
        ).start()
        host, port = server.server_address[:2]
        shown = f"[{host!s}]" if family == socket.AF_INET6 else str(host)
        self.url = f"http://{shown}:{port}/"
        log.info("Metrics endpoint opened url=%s", self.url)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self.readiness.close()
