"""The IPC endpoint: JSON-RPC over a unix socket, the way ``geth --signer <path>`` talks to clef.

One reader thread per connection decodes the stream and submits each message to a shared,
bounded worker pool, so requests pipelined on one connection run concurrently (geth matches
replies by id): a prompt waiting for a human does not hold up an ``account_list`` behind it.
Replies are written as compact JSON lines under a per-connection lock, whichever worker ends first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from signer.errors import ParseError
from signer.rpc.dispatch import Dispatcher
from signer.rpc.envelope import encode, error_response
from signer.rpc.framing import DEFAULT_MAX_MESSAGE_SIZE, StreamDecoder
from signer.rpc.unixsocket import bind_private, prepare_path
from signer.types import IPC_METADATA

log = logging.getLogger("sealward.rpc")

_READ_SIZE = 65536


class _InFlight:
    """Counts a connection's unanswered messages; a full count stops the reader (backpressure)."""

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self._count = 0
        self._limit = limit
        self._closed = False

    def acquire(self) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: self._count < self._limit or self._closed)
            if self._closed:
                return False
            self._count += 1
            return True

    def release(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def drain(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._count == 0 or self._closed)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Connection:
    def __init__(self, sock: socket.socket, server: IpcServer) -> None:
        self._sock = sock
        self._server = server
        self._write_lock = threading.Lock()
        self._alive = True
        self._in_flight = _InFlight(server.max_pending)

    def serve(self) -> None:
        # A send timeout only (SO_SNDTIMEO): reads may idle forever, as geth keeps its connection
        # open, but a client that stops reading must not hold a worker in sendall.
        seconds = self._server.write_timeout
        timeval = struct.pack("ll", int(seconds), int((seconds % 1) * 1_000_000))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        decoder = StreamDecoder(self._server.max_message_size)
        try:
            while self._alive:
                data = self._sock.recv(_READ_SIZE)
                if not data:
                    break
                for message in decoder.feed(data):
                    self._submit(message)
        except ParseError as exc:
            log.warning("Closing IPC connection after a parse error err=%s", exc)
            self._write(encode(error_response(None, exc)) + b"\n")
        except OSError as exc:
            log.debug("IPC connection read failed err=%s", exc)
        # The client may only have half-closed (``nc -U``): answer what it already sent.
        self._in_flight.drain()
        self.abort()

    def _submit(self, message: Any) -> None:
        if not self._in_flight.acquire():
            return
        try:
            self._server.dispatcher.submit(message, IPC_METADATA, self._server.pool, self._reply)
        except RuntimeError:  # the pool is shut down: the server is closing
            self._in_flight.release()

    def _reply(self, response: Any | None) -> None:
        try:
            if response is not None:
                self._write(encode(response) + b"\n")
        finally:
            self._in_flight.release()

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            if not self._alive:
                return  # the client went away: its answers are discarded
            try:
                self._sock.sendall(data)
            except OSError as exc:
                log.debug("IPC client stopped reading, dropping the connection err=%s", exc)
                self._shutdown()

    def _shutdown(self) -> None:
        self._alive = False
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's recv

    def abort(self) -> None:
        with self._write_lock:
            self._shutdown()
        self._in_flight.close()


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, _UnixServer)
        self.server.owner.serve_connection(self.request)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 refuses bursts of clients (EAGAIN on a unix socket).
    request_queue_size = socket.SOMAXCONN

    def __init__(self, owner: IpcServer) -> None:
        self.owner = owner
        super().__init__(os.fspath(owner.path), _Handler, bind_and_activate=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("IPC connection handler failed")


class IpcServer:
    """Serves ``dispatcher`` on a unix socket at ``path`` (0600, parent folder 0700 if created)."""

    def __init__(
        self,
        path: str | Path,
        dispatcher: Dispatcher,
        max_workers: int = 16,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_pending: int = 64,
        write_timeout: float = 30.0,
    ) -> None:
        self._path = Path(path)
        self.dispatcher = dispatcher
        self.max_message_size = max_message_size
        self.max_pending = max_pending
        self.write_timeout = write_timeout
        self.pool = ThreadPoolExecutor(max_workers, thread_name_prefix="sealward-ipc")
        self._server: _UnixServer | None = None
        self._closed = False
        self._inode: tuple[int, int] | None = None
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def start(self) -> None:
        """Bind and serve in background threads; raises OSError if the path cannot be used."""
        if self._server is not None or self._closed:
            raise RuntimeError("an IPC server can be started once")
        prepare_path(self._path)
        server = _UnixServer(self)
        try:
            info = bind_private(server.socket, self._path)
            server.server_activate()
        except BaseException:
            server.server_close()
            raise
        self._inode = (info.st_dev, info.st_ino)
        self._server = server
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sealward-ipc-accept",
            daemon=True,
        ).start()
        log.info("IPC endpoint opened url=%s", self._path)

    def serve_connection(self, sock: socket.socket) -> None:
        connection = _Connection(sock, self)
        with self._lock:
            self._connections.add(connection)
        try:
            connection.serve()
        finally:
            with self._lock:
                self._connections.discard(connection)

    def close(self) -> None:
        """Stop accepting, drop open connections, remove the socket file (if it is still ours)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._closed = True
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.abort()
        self.pool.shutdown(wait=False, cancel_futures=True)
        try:
            info = os.lstat(self._path)
            if (info.st_dev, info.st_ino) == self._inode:
                self._path.unlink()
        except FileNotFoundError:
            pass
        log.info("IPC endpoint closed url=%s", self._path)
