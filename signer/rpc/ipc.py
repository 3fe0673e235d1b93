"""The IPC endpoint: JSON-RPC over a unix socket, the way ``geth --signer <path>`` talks to clef.

One reader thread per connection decodes the stream; each message is admitted (calls and bytes
in flight, signer.rpc.admission) and its calls go to the transport's pool, which has a thread
for every call that may be in flight, so requests pipelined on one connection run concurrently
(geth matches replies by id) and a prompt waiting for a person never holds up anything queued
behind it. Over a limit, the message is answered "limit exceeded" at once and the connection
stays usable. Replies are written as compact JSON lines under a per-connection lock, whichever
worker ends first.

Reading is bounded too: a message may be at most ``max_message_size``, must be complete
``message_deadline`` seconds after its first byte, and beyond ``small_message`` bytes its buffer
is taken from the transport's read budget (a reader that cannot get more stops reading).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import socketserver
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from signer.errors import LimitExceeded, ParseError
from signer.rpc.admission import Admission, ReadBudget
from signer.rpc.dispatch import Dispatcher
from signer.rpc.envelope import encode, error_response
from signer.rpc.framing import StreamDecoder
from signer.rpc.limits import DEFAULT_LIMITS, Limits
from signer.rpc.unixsocket import bind_private, prepare_path
from signer.types import IPC_METADATA

log = logging.getLogger("sealward.rpc")

_READ_SIZE = 65536


def _readable(sock: socket.socket, deadline: float) -> bool:
    """Wait until ``sock`` has data (or EOF) or ``deadline`` passes, without a socket timeout,
    which would also apply to the workers' sendall on the same socket."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(max(0.0, deadline - time.monotonic()) * 1000))


class _Connection:
    def __init__(self, sock: socket.socket, server: IpcServer) -> None:
        self._sock = sock
        self._server = server
        self._write_lock = threading.Lock()
        self._alive = True
        self._unanswered = 0  # messages whose answer has not been written yet
        self._drained = threading.Condition()
        self._reserved = 0  # bytes of the read budget this connection holds
        self._warned = False

    def serve(self) -> None:
        # A send timeout only (SO_SNDTIMEO): reads may idle forever, as geth keeps its connection
        # open, but a client that stops reading must not hold a worker in sendall.
        seconds = self._server.write_timeout
        timeval = struct.pack("ll", int(seconds), int((seconds % 1) * 1_000_000))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        limits = self._server.limits
        decoder = StreamDecoder(limits.max_message_size, limits.max_values)
        started = 0.0  # when the first byte of the pending message arrived
        try:
            while self._alive:
                if decoder.pending and not started:
                    started = time.monotonic()
                deadline = started + limits.message_deadline if decoder.pending else None
                if not self._reserve(decoder.pending + _READ_SIZE, deadline):
                    raise LimitExceeded(
                        f"message not complete within {limits.message_deadline:g} s "
                        "(or the signer is short of read buffer for it)"
                    )
                if deadline is not None and not _readable(self._sock, deadline):
                    raise LimitExceeded(f"message not complete within {limits.message_deadline:g} s")
                data = self._sock.recv(_READ_SIZE)
                if not data:
                    break
                for message in decoder.feed(data):
                    self._submit(message, decoder.last_size)
                if not decoder.pending:
                    started = 0.0
                self._trim(decoder.pending)
        except (ParseError, LimitExceeded) as exc:
            log.warning("Closing IPC connection err=%s", exc)
            self._write(encode(error_response(None, exc)) + b"\n")
        except OSError as exc:
            log.debug("IPC connection read failed err=%s", exc)
        del decoder
        self._trim(0)
        # Only reading counts against the connection limit: waiting for answers holds calls in
        # flight, which are bounded on their own.
        self._server.stopped_reading(self)
        # The client may only have half-closed (``nc -U``): answer what it already sent.
        with self._drained:
            self._drained.wait_for(lambda: self._unanswered == 0 or not self._alive)
        self.abort()

    def _reserve(self, buffered: int, deadline: float | None) -> bool:
        """Hold read budget for ``buffered`` bytes beyond the small allowance; False if it did
        not come before ``deadline``."""
        need = buffered - self._server.limits.small_message - self._reserved
        if need <= 0:
            return True
        if not self._server.read_budget.reserve(need, deadline or time.monotonic() + 1e9):
            return False
        self._reserved += need
        return True

    def _trim(self, buffered: int) -> None:
        keep = max(0, buffered - self._server.limits.small_message)
        if self._reserved > keep:
            self._server.read_budget.release(self._reserved - keep)
            self._reserved = keep

    def _submit(self, message: Any, size: int) -> None:
        if isinstance(message, LimitExceeded):
            self._write(encode(error_response(None, message)) + b"\n")
            return
        dispatcher = self._server.dispatcher
        try:
            ticket = self._server.admission.admit(self, dispatcher.pooled_calls(message), size)
        except LimitExceeded as exc:
            # Once per connection at warning level: a flooding client must not flood the log too.
            (log.debug if self._warned else log.warning)("IPC request refused err=%s", exc)
            self._warned = True
            refused = dispatcher.refuse(message, exc)
            if refused is not None:
                self._write(encode(refused) + b"\n")
            return
        with self._drained:
            self._unanswered += 1
        try:
            dispatcher.submit(message, IPC_METADATA, self._server.pool, self._reply, ticket)
        except RuntimeError:  # the pool is shut down: the server is closing
            self._answered()

    def _reply(self, response: Any | None) -> None:
        try:
            if response is not None:
                self._write(encode(response) + b"\n")
        finally:
            self._answered()

    def _answered(self) -> None:
        with self._drained:
            self._unanswered -= 1
            self._drained.notify_all()

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
        with self._drained:
            self._drained.notify_all()


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

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.owner.has_room():
            # Only the signer's own user can connect (0600); still, a thread each is a bound.
            limit = self.owner.limits.max_connections
            log.warning("IPC connection refused: too many open connections limit=%d", limit)
            refusal = LimitExceeded(f"too many open connections (limit {limit})")
            with contextlib.suppress(OSError):
                request.sendall(encode(error_response(None, refusal)) + b"\n")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("IPC connection handler failed")


class IpcServer:
    """Serves ``dispatcher`` on a unix socket at ``path`` (0600, parent folder 0700 if created)."""

    def __init__(
        self,
        path: str | Path,
        dispatcher: Dispatcher,
        *,
        limits: Limits = DEFAULT_LIMITS,
        write_timeout: float = 30.0,
    ) -> None:
        self._path = Path(path)
        self.dispatcher = dispatcher
        self.limits = limits
        self.write_timeout = write_timeout
        self.admission = Admission(limits)
        self.read_budget = ReadBudget(limits.read_budget)
        # A thread for every call that may be in flight: an admitted call never queues.
        self.pool = ThreadPoolExecutor(limits.max_calls, thread_name_prefix="sealward-ipc")
        self._server: _UnixServer | None = None
        self._closed = False
        self._inode: tuple[int, int] | None = None
        self._connections: set[_Connection] = set()
        self._reading: set[_Connection] = set()
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

    def has_room(self) -> bool:
        with self._lock:
            return len(self._reading) < self.limits.max_connections

    def stopped_reading(self, connection: _Connection) -> None:
        with self._lock:
            self._reading.discard(connection)

    def serve_connection(self, sock: socket.socket) -> None:
        connection = _Connection(sock, self)
        with self._lock:
            self._connections.add(connection)
            self._reading.add(connection)
        try:
            connection.serve()
        finally:
            with self._lock:
                self._connections.discard(connection)
                self._reading.discard(connection)

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
