"""Transport bounds on real sockets (issue 12, finding 1): over a limit the caller gets -32005 at
once and the connection stays usable; cheap methods are never queued; places in flight are given
back however a call ends; an honest blob transaction still fits."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from signer.errors import LimitExceeded
from signer.rpc.admission import Admission, ReadBudget
from signer.rpc.dispatch import Dispatcher
from signer.rpc.http import HttpServer
from signer.rpc.ipc import IpcServer
from signer.rpc.limits import DEFAULT_LIMITS, Limits
from tests.rpc.conftest import request
from tests.rpc.test_ipc import Client

SMALL = Limits(max_calls=6, max_calls_per_connection=4, max_bytes_in_flight=4000, max_bytes_per_connection=3000,
               max_connections=4, max_values=500, message_deadline=1.0)  # fmt: skip


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def parking(gate: threading.Event) -> Dispatcher:
    """A dispatcher whose test_park waits like a prompt nobody answers, until the gate opens."""
    dispatcher = Dispatcher()
    dispatcher.add("test_park", lambda meta, *pad: gate.wait(30), optional=1)
    dispatcher.add("test_len", lambda meta, value: len(json.dumps(value)), required=1)
    dispatcher.add("test_version", lambda meta: "6.0.0", inline=True)
    return dispatcher


def _ipc(path: Path, dispatcher: Dispatcher, limits: Limits) -> IpcServer:
    server = IpcServer(path, dispatcher, limits=limits)
    server.start()
    return server


def _wait_for(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_calls_beyond_the_connection_limit_are_refused_at_once_and_the_rest_still_run(
    short_dir: Path, parking: Dispatcher, gate: threading.Event
) -> None:
    server = _ipc(short_dir / "clef.ipc", parking, SMALL)
    try:
        client = Client(server.path)
        client.send(*(request("test_park", id=i) for i in range(5)))
        refused = client.reply()
        assert refused["id"] == 4 and refused["error"] == {
            "code": -32005,
            "message": "too many requests in flight on this connection (limit 4)",
        }
        # A cheap method is answered while four calls wait, on the same connection.
        started = time.monotonic()
        client.send(request("test_version", id=9))
        assert client.reply() == {"jsonrpc": "2.0", "id": 9, "result": "6.0.0"}
        assert time.monotonic() - started < 0.5
        other = Client(server.path)
        other.send(*(request("test_park", id=20 + i) for i in range(3)))
        assert other.reply()["error"]["message"] == "too many requests in flight (limit 6)"
        gate.set()
        assert sorted(client.reply()["id"] for _ in range(4)) == [0, 1, 2, 3]
        assert sorted(other.reply()["id"] for _ in range(2)) == [20, 21]
        _wait_for(lambda: server.admission.in_flight() == (0, 0))
    finally:
        gate.set()
        server.close()


def test_a_batch_is_admitted_whole_or_refused_whole(short_dir: Path, parking: Dispatcher) -> None:
    server = _ipc(short_dir / "clef.ipc", parking, SMALL)
    try:
        client = Client(server.path)
        client.send([request("test_park", id=i) for i in range(5)] + [request("test_version", id=99)])
        answers = client.reply()
        assert [a["id"] for a in answers] == [0, 1, 2, 3, 4, 99]
        assert {a["error"]["code"] for a in answers} == {-32005}
        assert server.admission.in_flight() == (0, 0)
    finally:
        server.close()


def test_bytes_in_flight_are_bounded_per_connection(short_dir: Path, parking: Dispatcher) -> None:
    server = _ipc(short_dir / "clef.ipc", parking, SMALL)
    try:
        client = Client(server.path)
        client.send(request("test_park", "x" * 2000, id=1), request("test_park", "x" * 2000, id=2))
        assert client.reply()["error"]["message"] == (
            "too much request data in flight on this connection (limit 3000 bytes)"
        )
        assert server.admission.in_flight()[0] == 1
    finally:
        server.close()


def test_too_many_values_is_refused_without_decoding_and_the_stream_goes_on(
    short_dir: Path, parking: Dispatcher
) -> None:
    server = _ipc(short_dir / "clef.ipc", parking, SMALL)
    try:
        client = Client(server.path)
        client.sock.sendall(b"[" + b",".join([b"{}"] * 600) + b"]\n")
        assert client.reply() == {
            "jsonrpc": "2.0", "id": None,
            "error": {"code": -32005, "message": "too many values in one message (limit 500)"},
        }  # fmt: skip
        client.send(request("test_version", id=3))
        assert client.reply()["result"] == "6.0.0"
    finally:
        server.close()


def test_a_message_trickling_past_its_deadline_is_dropped_and_its_buffer_returned(
    short_dir: Path, parking: Dispatcher
) -> None:
    limits = Limits(message_deadline=0.5, small_message=16)
    server = _ipc(short_dir / "clef.ipc", parking, limits)
    try:
        client = Client(server.path)
        client.sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"test_len","params":["' + b"a" * 100)
        _wait_for(lambda: server.read_budget.used > 0)
        started = time.monotonic()
        reply = client.reply()
        assert reply["error"] == {"code": -32005, "message": "message not complete within 0.5 s"}
        assert 0.3 < time.monotonic() - started < 3
        _wait_for(lambda: server.read_budget.used == 0)
        # An idle connection with nothing pending is never timed out.
        idle = Client(server.path)
        time.sleep(0.8)
        idle.send(request("test_version"))
        assert idle.reply()["result"] == "6.0.0"
    finally:
        server.close()


def test_a_blob_transaction_with_six_blobs_and_cell_proofs_fits(short_dir: Path, parking: Dispatcher) -> None:
    """What geth's client sends for the largest blob transaction (see signer.rpc.limits)."""
    blob = "0x" + "ab" * 131072
    tx = {"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "gas": "0x5208", "maxFeePerGas": "0x1",
          "maxPriorityFeePerGas": "0x1", "maxFeePerBlobGas": "0x1", "value": "0x0", "nonce": "0x0",
          "input": "0x" + "cd" * 131072, "accessList": [], "chainId": "0x1",
          "blobVersionedHashes": ["0x01" + "00" * 31] * 6, "blobs": [blob] * 6,
          "commitments": ["0x" + "c0" * 48] * 6, "proofs": ["0x" + "c1" * 48] * (6 * 128)}  # fmt: skip
    message = json.dumps(request("test_len", tx)).encode()
    assert 1_900_000 < len(message) < DEFAULT_LIMITS.max_message_size / 2.5
    server = _ipc(short_dir / "clef.ipc", parking, DEFAULT_LIMITS)
    try:
        client = Client(server.path)
        client.sock.sendall(message + b"\n")
        assert client.reply()["result"] == len(json.dumps(tx))
    finally:
        server.close()


def test_connections_beyond_the_ipc_limit_are_refused_with_a_reason(
    short_dir: Path, parking: Dispatcher
) -> None:
    server = _ipc(short_dir / "clef.ipc", parking, SMALL)
    try:
        held = [Client(server.path) for _ in range(4)]
        for client in held:  # each is being served (reading) before the next arrives
            client.send(request("test_version"))
            client.reply()
        extra = Client(server.path)
        assert extra.reply()["error"] == {"code": -32005, "message": "too many open connections (limit 4)"}
        held[0].close()
        _wait_for(server.has_room)
        again = Client(server.path)
        again.send(request("test_version"))
        assert again.reply()["result"] == "6.0.0"
    finally:
        server.close()


def test_http_timed_out_calls_keep_their_place_until_they_end(
    parking: Dispatcher, gate: threading.Event
) -> None:
    """A call answered "request timed out" still holds its request: its place is freed when it ends."""
    server = HttpServer("127.0.0.1", 0, parking, ["localhost"], [], call_timeout=0.2, limits=SMALL)
    server.start()
    try:
        parts = urlsplit(server.url)
        body = json.dumps(request("test_park")).encode()
        head = f"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(head.encode() + body)
            answer = b""
            while b"}}" not in answer:
                answer += sock.recv(4096)
            assert b"request timed out" in answer
        assert server.admission.in_flight()[0] == 1
        gate.set()
        _wait_for(lambda: server.admission.in_flight() == (0, 0))
    finally:
        gate.set()
        server.close()


def test_admission_and_read_budget_accounting() -> None:
    admission = Admission(SMALL)
    ticket = admission.admit("a", 3, 1000)
    with pytest.raises(LimitExceeded):
        admission.admit("a", 2, 10)
    for _ in range(3):
        ticket.finished()
    ticket.finished()  # a late extra call back is harmless
    assert admission.in_flight() == (0, 0)
    budget = ReadBudget(100)
    assert budget.reserve(80, time.monotonic() + 1)
    assert not budget.reserve(30, time.monotonic() + 0.1)  # waits, then gives up
    threading.Timer(0.1, budget.release, (80,)).start()
    assert budget.reserve(30, time.monotonic() + 2)
    assert not budget.reserve(101, time.monotonic() + 2)  # can never fit
