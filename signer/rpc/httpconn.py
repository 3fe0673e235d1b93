"""Connection plumbing for the HTTP endpoint: where to listen, a capped set of connections, and
socket reads bounded by a deadline for the whole request.

A per-recv timeout alone does not stop a client that sends one byte every few seconds; the
deadline here covers everything read for one request, as Go's ReadTimeout does.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from signer.rpc.http import HttpServer

log = logging.getLogger("sealward.rpc")


class DeadlineReader(io.RawIOBase):
    """Socket reads that fail once the current deadline has passed."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._deadline = time.monotonic()

    def set_deadline(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("read deadline exceeded")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class CappedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most ``owner.max_connections`` of them, all tracked so that
    closing the endpoint can drop idle keep-alive connections at once."""

    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 refuses bursts of clients.
    request_queue_size = socket.SOMAXCONN

    def __init__(
        self,
        address: tuple[str, int],
        family: socket.AddressFamily,
        handler: type[BaseHTTPRequestHandler],
        owner: HttpServer,
    ) -> None:
        self.address_family = family
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)

    def process_request(self, request: Any, client_address: Any) -> None:
        limit = self.owner.max_connections
        with self._lock:
            full = len(self._connections) >= limit
            if not full:
                self._connections.add(request)
        if full:
            log.warning("HTTP connection refused: too many open connections limit=%d", limit)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)

    def drop_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("HTTP connection failed", exc_info=True)


def listen_address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    # Prefer IPv4, as Go does for "localhost".
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))
