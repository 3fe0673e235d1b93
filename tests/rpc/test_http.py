"""The HTTP endpoint over real TCP: geth's status codes, gzip, vhosts, CORS, deadlines, keep-alive."""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from signer.rpc.dispatch import Dispatcher
from signer.rpc.http import HttpServer
from signer.rpc.limits import Limits
from tests.rpc.conftest import Probe, request

JSON = {"Content-Type": "application/json"}
HEADERS = "Content-Type: application/json\r\n"


def start(dispatcher: Dispatcher, **options: Any) -> HttpServer:
    options.setdefault("vhosts", ["localhost"])
    options.setdefault("cors_origins", [])
    server = HttpServer("127.0.0.1", 0, dispatcher, **options)
    server.start()
    return server


@pytest.fixture
def server(dispatcher: Dispatcher) -> Iterator[HttpServer]:
    server = start(dispatcher)
    yield server
    server.close()


def connect(server: HttpServer) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def exchange(
    server: HttpServer, method: str, body: Any = None, headers: dict[str, str] | None = None, path: str = "/"
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = connect(server)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=JSON if headers is None else headers)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response, content


def raw(server: HttpServer, data: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_url_and_post(server: HttpServer) -> None:
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
    response, body = exchange(server, "POST", request("rpc_modules", id=3))
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"jsonrpc": "2.0", "id": 3, "result": {"account": "1.0", "rpc": "1.0"}}


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json-rpc"])
def test_accepted_content_types(server: HttpServer, content_type: str) -> None:
    response, body = exchange(server, "POST", request("test_echo", 1), {"Content-Type": content_type})
    assert response.status == 200 and json.loads(body)["result"] == 1


def test_health_check(server: HttpServer) -> None:
    response, body = exchange(server, "GET", headers={})
    assert (response.status, body) == (200, b"")


@pytest.mark.parametrize(
    ("method", "body", "headers", "path", "status", "text"),
    [
        ("PUT", b"{}", JSON, "/", 405, "method not allowed\n"),
        ("DELETE", None, {}, "/", 405, "method not allowed\n"),
        (
            "POST",
            b"{}",
            {"Content-Type": "text/plain"},
            "/",
            415,
            "invalid content type, only application/json is supported\n",
        ),
        ("POST", b"{}", {}, "/", 415, "invalid content type, only application/json is supported\n"),
        ("GET", None, {}, "/?x=1", 415, "invalid content type, only application/json is supported\n"),
        ("POST", b"{}", {**JSON, "Host": "evil.example"}, "/", 403, "invalid host specified\n"),
    ],
)
def test_rejections(
    server: HttpServer,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    path: str,
    status: int,
    text: str,
) -> None:
    response, content = exchange(server, method, body, headers, path)
    assert response.status == status
    assert content.decode() == text
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"


def test_body_over_5_mib_is_413_without_reading_it(server: HttpServer) -> None:
    size = 5 * 1024 * 1024 + 1
    reply = raw(
        server,
        f"POST / HTTP/1.1\r\nHost: localhost\r\n{HEADERS}Content-Length: {size}\r\n\r\n".encode(),
    )
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert body == b"content length too large (5242881>5242880)\n"


CHUNKED = (
    b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
ECHO = json.dumps(request("test_echo", "hi", id=9), separators=(",", ":")).encode()


def _chunks(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_a_chunked_body_is_read_as_geth_reads_it(server: HttpServer) -> None:
    # Chunk extensions and trailer fields are allowed and ignored.
    reply = raw(server, CHUNKED + b"5;ext=1\r\n" + ECHO[:5] + b"\r\n" + _chunks(ECHO[5:])[:-2]
                + b"X-Trailer: 1\r\n\r\n")  # fmt: skip
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b'{"jsonrpc":"2.0","id":9,"result":"hi"}\n'


def test_broken_chunks_are_a_parse_error_and_close(server: HttpServer) -> None:
    for broken in (b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"9" * 5000 + b"\r\n"):
        head, _, body = raw(server, CHUNKED + broken).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head, broken[:20]
        assert body == b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}'


def test_a_chunked_body_is_cut_at_the_message_limit(dispatcher: Dispatcher) -> None:
    server = start(dispatcher, limits=Limits(max_message_size=len(ECHO) + 3))
    try:
        # The request fits, and what follows it is never read: answered, then closed.
        head, _, body = raw(server, CHUNKED + _chunks(ECHO, b" " * 100, b"more")).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
        assert body == b'{"jsonrpc":"2.0","id":9,"result":"hi"}\n'
        # A request longer than the limit is cut, so it is not JSON.
        big = json.dumps(request("test_echo", "x" * 100, id=9)).encode()
        _, _, body = raw(server, CHUNKED + _chunks(big)).partition(b"\r\n\r\n")
        assert b'"parse error"' in body
    finally:
        server.close()


def test_unknown_transfer_coding_is_501_and_bad_length_is_400(server: HttpServer) -> None:
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    gzipped = raw(server, head + b"Transfer-Encoding: gzip\r\n\r\n")
    assert gzipped.startswith(b"HTTP/1.1 501") and gzipped.endswith(b"\r\n\r\nUnsupported transfer encoding")
    bad = raw(server, head + b"Content-Length: -5\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8550", "127.0.0.1:1", "[::1]:8550", "10.1.2.3"])
def test_vhosts_allow_names_in_the_list_and_ip_literals(server: HttpServer, host: str) -> None:
    response, _ = exchange(server, "POST", request("rpc_modules"), {**JSON, "Host": host})
    assert response.status == 200


def test_missing_host_header_is_allowed(server: HttpServer) -> None:
    body = json.dumps(request("rpc_modules")).encode()
    reply = raw(
        server,
        b"POST / HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body),
    )
    assert reply.startswith(b"HTTP/1.1 200") and b'"rpc":"1.0"' in reply


def test_vhost_wildcard(dispatcher: Dispatcher) -> None:
    server = start(dispatcher, vhosts=["*"])
    try:
        response, _ = exchange(server, "POST", request("rpc_modules"), {**JSON, "Host": "anything.example"})
        assert response.status == 200
    finally:
        server.close()


def test_gzip_only_when_asked(server: HttpServer) -> None:
    response, body = exchange(server, "POST", request("test_big", 5000), {**JSON, "Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert len(body) < 1000
    assert json.loads(gzip.decompress(body))["result"] == "x" * 5000
    response, body = exchange(
        server, "POST", request("test_big", 10), {**JSON, "Accept-Encoding": "gzip;q=0"}
    )
    assert response.getheader("Content-Encoding") is None and json.loads(body)["result"] == "x" * 10


def test_no_cors_headers_when_cors_is_off(server: HttpServer) -> None:
    origin = {"Origin": "http://app.example"}
    response, _ = exchange(server, "POST", request("rpc_modules"), {**JSON, **origin})
    assert response.getheader("Access-Control-Allow-Origin") is None
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    response, body = exchange(server, "OPTIONS", headers=preflight)
    assert (response.status, body) == (200, b"")
    assert response.getheader("Access-Control-Allow-Origin") is None


def test_cors_allow_list_and_preflight(dispatcher: Dispatcher) -> None:
    server = start(dispatcher, cors_origins=["http://app.example"])
    try:
        ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        response, body = exchange(server, "OPTIONS", headers={"Origin": "http://app.example", **ask})
        assert (response.status, body) == (204, b"")
        assert response.getheader("Access-Control-Allow-Origin") == "http://app.example"
        assert "POST" in response.getheader("Access-Control-Allow-Methods", "")
        assert response.getheader("Access-Control-Allow-Headers") == "content-type"
        response, _ = exchange(server, "OPTIONS", headers={"Origin": "http://evil.example", **ask})
        assert response.getheader("Access-Control-Allow-Origin") is None
        put = {**ask, "Access-Control-Request-Method": "PUT"}
        response, _ = exchange(server, "OPTIONS", headers={"Origin": "http://app.example", **put})
        assert response.getheader("Access-Control-Allow-Origin") is None
        response, _ = exchange(
            server, "POST", request("rpc_modules"), {**JSON, "Origin": "http://app.example"}
        )
        assert response.getheader("Access-Control-Allow-Origin") == "http://app.example"
        response, _ = exchange(
            server, "POST", request("rpc_modules"), {**JSON, "Origin": "http://evil.example"}
        )
        assert response.status == 200 and response.getheader("Access-Control-Allow-Origin") is None
    finally:
        server.close()


def test_cors_wildcard(dispatcher: Dispatcher) -> None:
    server = start(dispatcher, cors_origins=["*"])
    try:
        response, _ = exchange(server, "POST", request("rpc_modules"), {**JSON, "Origin": "http://a.example"})
        assert response.getheader("Access-Control-Allow-Origin") == "*"
    finally:
        server.close()


def test_deadline_answers_timeout_and_the_call_continues(dispatcher: Dispatcher, probe: Probe) -> None:
    server = start(dispatcher, call_timeout=0.3)
    try:
        start_time = time.monotonic()
        _, body = exchange(server, "POST", request("test_wait", id=12))
        assert time.monotonic() - start_time < 3
        assert json.loads(body) == {
            "jsonrpc": "2.0",
            "id": 12,
            "error": {"code": -32002, "message": "request timed out"},
        }
        assert probe.started.is_set() and not probe.finished.is_set()
        probe.release.set()
        assert probe.finished.wait(5)
    finally:
        server.close()


def test_keep_alive_reuses_the_connection(server: HttpServer, probe: Probe) -> None:
    conn = connect(server)
    seen = []
    for i in range(3):
        conn.request("POST", "/", body=json.dumps(request("test_meta", id=i)), headers=JSON)
        response = conn.getresponse()
        seen.append(json.loads(response.read())["result"]["remote"])
        assert response.getheader("Connection") is None
    conn.close()
    assert len(set(seen)) == 1  # one TCP connection, one client port


def test_metadata_seen_by_the_handler(server: HttpServer) -> None:
    conn = connect(server)
    headers = {**JSON, "Host": "localhost:8550", "User-Agent": "Geth/v1.17", "Origin": "http://o.example"}
    conn.request("POST", "/", body=json.dumps(request("test_meta")), headers=headers)
    meta = json.loads(conn.getresponse().read())["result"]
    client_port = conn.sock.getsockname()[1]
    conn.close()
    assert meta == {
        "remote": f"127.0.0.1:{client_port}",
        "local": "localhost:8550",
        "scheme": "http",
        "User-Agent": "Geth/v1.17",
        "Origin": "http://o.example",
    }


def test_malformed_json_batch_and_notification(server: HttpServer, probe: Probe) -> None:
    _, body = exchange(server, "POST", b'{"jsonrpc":')
    # geth's HTTP server gives every undecodable body one message (streams give Go's own).
    assert body == b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}'
    _, body = exchange(server, "POST", [request("test_echo", 1, id=1), request("test_echo", 2, id=2)])
    assert [r["result"] for r in json.loads(body)] == [1, 2]
    response, body = exchange(server, "POST", {"jsonrpc": "2.0", "method": "test_note", "params": ["n"]})
    assert (response.status, body) == (200, b"")
    assert probe.notes == ["n"]


def test_slow_client_is_cut_off_by_the_total_read_deadline(dispatcher: Dispatcher) -> None:
    server = start(dispatcher, read_timeout=0.6)
    try:
        parts = urlsplit(server.url)
        trickle = b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 100
        closed_after = None
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.settimeout(0.1)
            started = time.monotonic()
            for byte in trickle:  # one byte per 0.1 s: every single recv is well inside 0.6 s
                try:
                    sock.sendall(bytes([byte]))
                    if sock.recv(1) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    closed_after = time.monotonic() - started
                    break
        assert closed_after is not None and closed_after < 2
        response, _ = exchange(server, "POST", request("rpc_modules"))  # others are still served
        assert response.status == 200
    finally:
        server.close()


def test_idle_keep_alive_connection_is_closed(dispatcher: Dispatcher) -> None:
    server = start(dispatcher, idle_timeout=0.3)
    try:
        conn = connect(server)
        conn.request("POST", "/", body=json.dumps(request("rpc_modules")), headers=JSON)
        conn.getresponse().read()
        assert conn.sock is not None
        conn.sock.settimeout(3)
        started = time.monotonic()
        assert conn.sock.recv(1) == b""
        assert 0.2 < time.monotonic() - started < 2.5
        conn.close()
    finally:
        server.close()


def test_connection_cap_closes_the_longest_idle_to_serve_a_new_client(dispatcher: Dispatcher) -> None:
    """Silent connections (slowloris) cannot lock a client out: the oldest idle one makes room."""
    server = start(dispatcher, limits=Limits(max_connections=2))
    try:
        parts = urlsplit(server.url)
        oldest = socket.create_connection((parts.hostname, parts.port), timeout=5)
        time.sleep(0.1)
        newer = socket.create_connection((parts.hostname, parts.port), timeout=5)
        time.sleep(0.2)
        response, _ = exchange(server, "POST", request("rpc_modules"))
        assert response.status == 200
        assert oldest.recv(1) == b""  # closed to make room
        newer.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert newer.recv(12) == b"HTTP/1.1 200"  # still served
        oldest.close()
        newer.close()
    finally:
        server.close()


def test_connections_running_a_call_are_never_closed_for_room(dispatcher: Dispatcher) -> None:
    release = threading.Event()
    dispatcher.add("test_block", lambda meta: release.wait(10))
    server = start(dispatcher, limits=Limits(max_connections=1))
    try:
        parts = urlsplit(server.url)
        result: list[Any] = []
        busy = threading.Thread(target=lambda: result.append(exchange(server, "POST", request("test_block"))))
        busy.start()
        time.sleep(0.3)
        with socket.create_connection((parts.hostname, parts.port), timeout=3) as extra:
            assert extra.recv(1) == b""  # refused: the only connection is running a call
        release.set()
        busy.join(10)
        assert result and result[0][0].status == 200
    finally:
        release.set()
        server.close()


def test_non_loopback_bind_warns(dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sealward.rpc"):
        server = HttpServer("0.0.0.0", 0, dispatcher, ["localhost"], [])
        server.start()
        server.close()
    assert "HTTP endpoint is reachable from the network" in caplog.text
    assert "HTTP endpoint opened url=http://0.0.0.0:" in caplog.text
    assert "HTTP endpoint closed" in caplog.text


def test_loopback_bind_does_not_warn(dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sealward.rpc"):
        server = start(dispatcher)
        server.close()
    assert caplog.records == []


def test_expect_continue_is_not_granted_for_a_body_we_refuse(server: HttpServer) -> None:
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
    reply = raw(server, head + b"Content-Length: 6000000\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"100 Continue" not in reply


def test_a_closed_server_cannot_be_restarted(dispatcher: Dispatcher) -> None:
    server = start(dispatcher)
    server.close()
    with pytest.raises(RuntimeError, match="started once"):
        server.start()
