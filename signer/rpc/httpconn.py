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
from dataclasses import dataclass
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

    @property
    def deadline(self) -> float:
        """When the current request must have arrived (time.monotonic)."""
        return self._deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("read deadline exceeded")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


@dataclass
class _Open:
    """One open connection: who, since when in its current state, and whether a call is running."""

    client: str
    since: float
    busy: bool = False


class CappedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` of them and ``max_connections_per_client``
    per client address, all tracked so that closing the endpoint can drop idle keep-alive
    connections at once.

    When full, a new connection does not wait: the connection that has been idle or reading its
    request the longest is closed to make room (for the same client first when that client is at
    its own cap). Slow or silent connections, which hold nothing but a thread, can therefore never
    lock out a client that sends a request; connections running a call are never closed.
    """

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
        self._connections: dict[socket.socket, _Open] = {}
        self._lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)

    def process_request(self, request: Any, client_address: Any) -> None:
        limits = self.owner.limits
        client = str(client_address[0])
        with self._lock:
            mine = [s for s, c in self._connections.items() if c.client == client]
            if len(mine) >= limits.max_connections_per_client:
                victim = self._oldest_idle(mine)
            elif len(self._connections) >= limits.max_connections:
                victim = self._oldest_idle(list(self._connections))
            else:
                victim = None
            full = victim is None and (
                len(mine) >= limits.max_connections_per_client
                or len(self._connections) >= limits.max_connections
            )
            if victim is not None:
                del self._connections[victim]
            if not full:
                self._connections[request] = _Open(client, time.monotonic())
        if victim is not None:
            log.info("HTTP connection closed to make room: the longest idle or slow one")
            with contextlib.suppress(OSError):
                victim.shutdown(socket.SHUT_RDWR)
        if full:
            log.warning("HTTP connection refused: every connection is running a call limit=%d",
                        limits.max_connections)  # fmt: skip
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def _oldest_idle(self, candidates: list[socket.socket]) -> socket.socket | None:
        idle = [s for s in candidates if not self._connections[s].busy]
        return min(idle, key=lambda s: self._connections[s].since, default=None)

    def mark(self, sock: socket.socket, *, busy: bool) -> None:
        """A call started (busy) or its answer was sent (idle again, from now)."""
        with self._lock:
            entry = self._connections.get(sock)
            if entry is not None:
                entry.busy, entry.since = busy, time.monotonic()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.pop(request, None)

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
