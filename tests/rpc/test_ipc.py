"""The IPC endpoint over a real unix socket, driven the way geth's client drives it."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from signer.rpc.dispatch import Dispatcher
from signer.rpc.ipc import IpcServer
from signer.rpc.limits import Limits
from signer.rpc.unixsocket import SocketPathError, ipc_endpoint
from tests.rpc.conftest import Probe, request


class Client:
    """A raw socket client that reads newline-terminated replies."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(os.fspath(path))
        self._buf = b""

    def send(self, *messages: Any) -> None:
        self.sock.sendall(b"".join(json.dumps(m).encode() + b"\n" for m in messages))

    def line(self) -> bytes:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self._buf)
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def reply(self) -> Any:
        return json.loads(self.line())

    def at_eof(self) -> bool:
        return self._buf == b"" and self.sock.recv(1) == b""

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(short_dir: Path, dispatcher: Dispatcher) -> Iterator[IpcServer]:
    server = IpcServer(short_dir / "clef.ipc", dispatcher)
    server.start()
    yield server
    server.close()


@pytest.fixture
def client(server: IpcServer) -> Iterator[Client]:
    client = Client(server.path)
    yield client
    client.close()


def test_newline_delimited_requests_get_compact_lines(client: Client) -> None:
    client.send(request("test_echo", "a", id=1), request("rpc_modules", id=2))
    replies = {}
    for _ in range(2):
        line = client.line()
        assert b" " not in line
        replies[json.loads(line)["id"]] = json.loads(line)
    assert replies[1]["result"] == "a"
    assert replies[2]["result"] == {"account": "1.0", "rpc": "1.0"}


def test_values_concatenated_without_newlines(client: Client) -> None:
    data = json.dumps(request("test_echo", "x", id=1)) + json.dumps(request("test_echo", "y", id=2))
    client.sock.sendall(data.encode())
    assert sorted(client.reply()["result"] + client.reply()["result"]) == ["x", "y"]


def test_value_split_across_tiny_writes(client: Client) -> None:
    data = json.dumps(request("test_echo", {"nested": ["}", "\\"]}, id=3)).encode()
    for i in range(0, len(data), 3):
        client.sock.sendall(data[i : i + 3])
        time.sleep(0.002)
    assert client.reply() == {"jsonrpc": "2.0", "id": 3, "result": {"nested": ["}", "\\"]}}


def test_batch(client: Client) -> None:
    client.send([request("test_echo", 1, id="a"), request("nope", id="b")])
    reply = client.reply()
    assert [r["id"] for r in reply] == ["a", "b"]
    assert reply[0]["result"] == 1 and reply[1]["error"]["code"] == -32601


def test_notifications_run_without_a_reply(client: Client, probe: Probe) -> None:
    client.send({"jsonrpc": "2.0", "method": "test_note", "params": ["n1"]})
    client.send([{"jsonrpc": "2.0", "method": "test_note", "params": ["n2"]}])
    client.send(request("rpc_modules", id=9))
    assert client.reply()["id"] == 9
    client.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        client.line()
    assert sorted(probe.notes) == ["n1", "n2"]


def test_slow_call_does_not_block_a_fast_one_on_the_same_connection(client: Client, probe: Probe) -> None:
    client.send(request("test_wait", id="slow"))
    assert probe.started.wait(5)
    client.send(request("rpc_modules", id="fast"))
    assert client.reply()["id"] == "fast"
    probe.release.set()
    assert client.reply() == {"jsonrpc": "2.0", "id": "slow", "result": "released"}


def test_half_closed_client_still_gets_its_answers(server: IpcServer) -> None:
    client = Client(server.path)
    client.send(request("test_echo", "bye", id=1))
    client.sock.shutdown(socket.SHUT_WR)  # like `nc -U`
    assert client.reply()["result"] == "bye"
    assert client.at_eof()
    client.close()


def test_client_vanishing_mid_request_disturbs_nobody(
    server: IpcServer, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    gone = Client(server.path)
    gone.send(request("test_wait", id=1))
    assert probe.started.wait(5)
    gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    gone.close()
    other = Client(server.path)
    with caplog.at_level(logging.WARNING, logger="sealward.rpc"):
        other.send(request("test_echo", "still here", id=2))
        assert other.reply()["result"] == "still here"
        probe.release.set()
        assert probe.finished.wait(5)
        other.send(request("test_echo", "after", id=3))
        assert other.reply()["result"] == "after"
    assert caplog.records == []
    other.close()


def test_malformed_json_gets_parse_error_then_close(client: Client) -> None:
    client.sock.sendall(json.dumps(request("test_echo", "first", id=1)).encode() + b'\n{"jsonrpc":}\n')
    assert client.reply()["result"] == "first"
    assert client.reply() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "invalid character '}' looking for beginning of value"},
    }
    assert client.at_eof()


def test_valid_json_that_is_not_a_request_keeps_the_connection(client: Client) -> None:
    client.sock.sendall(b'42\n"str"\n')
    assert client.reply()["error"] == {"code": -32600, "message": "invalid request"}
    assert client.reply()["error"]["code"] == -32600
    client.send(request("rpc_modules", id=5))
    assert client.reply()["id"] == 5


def test_oversized_message_is_refused_and_closed(short_dir: Path, dispatcher: Dispatcher) -> None:
    server = IpcServer(short_dir / "clef.ipc", dispatcher, limits=Limits(max_message_size=4096))
    server.start()
    try:
        client = Client(server.path)
        client.send(request("test_echo", "small", id=1))
        assert client.reply()["result"] == "small"
        big = json.dumps(request("test_echo", "z" * 10_000, id=2)).encode()
        client.sock.sendall(big[:6000])
        reply = client.reply()
        assert reply["id"] is None and reply["error"]["code"] == -32700
        assert "message too large" in reply["error"]["message"]
        assert client.at_eof()
        client.close()
    finally:
        server.close()


def test_client_that_never_reads_is_dropped_and_frees_workers(
    short_dir: Path, dispatcher: Dispatcher
) -> None:
    server = IpcServer(short_dir / "clef.ipc", dispatcher, write_timeout=0.3)
    server.start()
    try:
        hog = Client(server.path)
        hog.send(*(request("test_big", 1_000_000, id=i) for i in range(8)))  # never read
        time.sleep(1.5)
        good = Client(server.path)
        for i in range(4):
            good.send(request("test_echo", i, id=i))
            assert good.reply()["result"] == i
        good.close()
        hog.sock.settimeout(2)
        received = 0
        with pytest.raises((EOFError, ConnectionResetError)):
            while True:
                received += len(hog.line())
        assert received < 8_000_000  # the server gave up on it
        hog.close()
    finally:
        server.close()


def test_socket_is_0600_and_created_folder_is_0700(short_dir: Path, dispatcher: Dispatcher) -> None:
    path = short_dir / "new" / "clef.ipc"
    server = IpcServer(path, dispatcher)
    server.start()
    try:
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    finally:
        server.close()
    assert not path.exists()  # removed on close


def test_stale_socket_is_replaced(short_dir: Path, dispatcher: Dispatcher) -> None:
    path = short_dir / "clef.ipc"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(os.fspath(path))
    stale.close()  # the file stays, nobody listens: what a crash leaves behind
    server = IpcServer(path, dispatcher)
    server.start()
    try:
        client = Client(path)
        client.send(request("rpc_modules"))
        assert client.reply()["id"] == 1
        client.close()
    finally:
        server.close()


def test_live_socket_is_not_stolen(server: IpcServer, dispatcher: Dispatcher) -> None:
    with pytest.raises(SocketPathError, match="another process is listening"):
        IpcServer(server.path, dispatcher).start()
    client = Client(server.path)
    client.send(request("rpc_modules"))
    assert client.reply()["id"] == 1
    client.close()


def test_regular_file_is_refused_and_kept(short_dir: Path, dispatcher: Dispatcher) -> None:
    path = short_dir / "clef.ipc"
    path.write_text("precious")
    with pytest.raises(SocketPathError, match="is not a unix socket"):
        IpcServer(path, dispatcher).start()
    assert path.read_text() == "precious"


def test_long_path_warns(short_dir: Path, dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture) -> None:
    path = short_dir / ("d" * 60) / ("e" * 60) / "clef.ipc"
    with caplog.at_level(logging.WARNING, logger="sealward.rpc"), pytest.raises(OSError):
        IpcServer(path, dispatcher).start()
    assert "too long for a unix socket" in caplog.text


def test_open_and_close_are_logged(
    short_dir: Path, dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    path = short_dir / "clef.ipc"
    with caplog.at_level(logging.INFO, logger="sealward.rpc"):
        server = IpcServer(path, dispatcher)
        server.start()
        server.close()
    assert f"IPC endpoint opened url={path}" in caplog.text
    assert "IPC endpoint closed" in caplog.text


def test_close_drops_connected_clients(server: IpcServer, probe: Probe) -> None:
    client = Client(server.path)
    client.send(request("test_wait"))
    assert probe.started.wait(5)
    server.close()
    assert client.at_eof()
    client.close()


def test_hundred_concurrent_clients(server: IpcServer) -> None:
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            client = Client(server.path, timeout=20)
            for i in range(5):
                client.send(request("test_echo", [n, i], id=i))
                assert client.reply() == {"jsonrpc": "2.0", "id": i, "result": [n, i]}
            client.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []


def test_a_closed_server_cannot_be_restarted(short_dir: Path, dispatcher: Dispatcher) -> None:
    server = IpcServer(short_dir / "clef.ipc", dispatcher)
    server.start()
    server.close()
    with pytest.raises(RuntimeError, match="started once"):
        server.start()


def test_ipc_endpoint_follows_clefs_path_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/u")
    assert ipc_endpoint("", "/home/u/.sealward") == Path("/home/u/.sealward/clef.ipc")
    assert ipc_endpoint("~/run", "/cfg") == Path("/home/u/run/clef.ipc")
    assert ipc_endpoint("rel", "/cfg") == Path("rel/clef.ipc")
    assert ipc_endpoint("", "") == Path(tempfile.gettempdir()) / "clef.ipc"
