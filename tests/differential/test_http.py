"""The corpus again, over HTTP: ``geth --signer http://...`` is the other way nodes reach a signer.

Both signers serve HTTP on their own port (and IPC, for the harness's liveness probe); each
request is the body of one POST. The status line and content type, the body and every message to
the UI must be the same, except the deliberate differences that already apply over IPC.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from signer.tools.processes import free_port
from tests.differential.conftest import light_key_file
from tests.differential.corpus import all_cases
from tests.differential.deliberate import explain, identical
from tests.differential.harness import Pair, Peer, ScriptedUI
from tests.differential.test_corpus import _excerpt, run
from tests.e2e.harness import SEALWARD
from tests.helpers.peers import CLEF, require_peer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def http_pair(tmp_path_factory: pytest.TempPathFactory, ui: ScriptedUI) -> Iterator[Pair]:
    clef = require_peer(CLEF)
    work: Path = tmp_path_factory.mktemp("diff-http")
    key = light_key_file(work)
    pair = Pair(
        Peer("clef", [str(clef)], work / "clef", key, ui, http_port=free_port()),
        Peer("sealward", [SEALWARD], work / "sealward", key, ui, extra=["--seal-guard", "off"],
             http_port=free_port()),
    )  # fmt: skip
    pair.start()
    yield pair
    pair.stop()


def test_the_corpus_over_http_matches_clef(http_pair: Pair, ui: ScriptedUI) -> None:
    cases = all_cases()
    identical_count = 0
    unexplained: list[str] = []
    for case in cases:
        clef, sealward = run(http_pair, ui, case)
        assert sealward.fate == "served", f"{case.name}: sealward {sealward.fate}"
        if identical(clef, sealward):
            identical_count += 1
        elif explain(case.raw, clef, sealward) is None or clef.http != sealward.http:
            unexplained.append(f"{case.name} [{clef.http} | {sealward.http}]{_excerpt(clef, sealward)}")
    assert not unexplained, f"{len(unexplained)} differences from clef over HTTP are not deliberate:\n" + (
        "\n".join(unexplained)
    )
    assert http_pair.sealward.restarts == 0 and http_pair.sealward.serving() and http_pair.clef.serving()
    print(f"over HTTP: {identical_count} of {len(cases)} identical")  # pytest -s shows it
    assert identical_count > 0.85 * len(cases)


# What only HTTP has: bodies that are not one JSON value, and requests the HTTP layer refuses.
_VERSION = b'{"jsonrpc":"2.0","id":1,"method":"account_version"}'
HTTP_BODIES = {
    "empty body": b"",
    "whitespace body": b"  \n\t ",
    "two values": _VERSION + b'{"jsonrpc":"2.0","id":2,"method":"account_version"}',
    "value then garbage": _VERSION + b"garbage",
    "value then whitespace": _VERSION + b"\n\n  ",
    "empty batch": b"[]",
    "batch of two": b"[" + _VERSION + b"," + _VERSION.replace(b'"id":1', b'"id":2') + b"]",
    "notification": b'{"jsonrpc":"2.0","method":"account_version"}',
    "number": b"42",
    "null": b"null",
    "unclosed": b'{"jsonrpc":"2.0","id":1,',
}


def _raw_http(
    port: int, method: str, body: bytes | tuple[bytes, ...], headers: dict[str, str]
) -> tuple[int, str, str, bytes]:
    """Status, content type, content encoding and the body (decompressed: two gzip
    implementations need not produce the same bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        # Refused before the whole body was read: the answer is already there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            chunked = not isinstance(body, bytes)  # an iterable body goes chunk by chunk
            connection.request(method, "/", body=body, headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        data = response.read()
        encoding = str(response.getheader("Content-Encoding"))
        if encoding == "gzip":
            data = gzip.decompress(data)
        return response.status, str(response.getheader("Content-Type")), encoding, data
    finally:
        connection.close()


@pytest.mark.parametrize("name", sorted(HTTP_BODIES))
def test_http_bodies_match_clef(http_pair: Pair, name: str) -> None:
    headers = {"Content-Type": "application/json", "User-Agent": "differential"}
    answers = []
    for peer in (http_pair.clef, http_pair.sealward):
        assert peer.http_port is not None
        answers.append(_raw_http(peer.http_port, "POST", HTTP_BODIES[name], headers))
    assert answers[0] == answers[1]


HTTP_REQUESTS = {
    "GET, no body (health check)": ("GET", b"", {}),
    "GET with a body": ("GET", _VERSION, {"Content-Type": "application/json"}),
    "PUT": ("PUT", _VERSION, {"Content-Type": "application/json"}),
    "DELETE": ("DELETE", b"", {}),
    "OPTIONS": ("OPTIONS", b"", {}),
    "text/plain": ("POST", _VERSION, {"Content-Type": "text/plain"}),
    "no content type": ("POST", _VERSION, {}),
    "json with charset": ("POST", _VERSION, {"Content-Type": "application/json; charset=utf-8"}),
    "jsonrequest": ("POST", _VERSION, {"Content-Type": "application/jsonrequest"}),
    "unknown Host": ("POST", _VERSION, {"Content-Type": "application/json", "Host": "evil.example"}),
    "over 5 MiB": ("POST", b"[" + b" " * (5 * 1024 * 1024) + b"]", {"Content-Type": "application/json"}),
    "Host with a port": ("POST", _VERSION, {"Content-Type": "application/json", "Host": "localhost:9999"}),
    "Host an IP address": ("POST", _VERSION, {"Content-Type": "application/json", "Host": "10.1.2.3:80"}),
    "an Origin, no CORS configured": (
        "POST",
        _VERSION,
        {"Content-Type": "application/json", "Origin": "http://evil.example"},
    ),
    "CORS preflight, none configured": (
        "OPTIONS",
        b"",
        {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    ),
    "gzip accepted": ("POST", _VERSION, {"Content-Type": "application/json", "Accept-Encoding": "gzip"}),
    "chunked body": (
        "POST",
        (_VERSION[:10], _VERSION[10:]),
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    ),
    "unknown transfer coding": (
        "POST",
        _VERSION,
        {"Content-Type": "application/json", "Transfer-Encoding": "gzip"},
    ),
    "chunked body over 5 MiB": (
        "POST",
        (b"[",) + (b" " * (1 << 20),) * 6 + (b"]",),
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    ),
}


@pytest.mark.parametrize("name", sorted(HTTP_REQUESTS))
def test_http_requests_match_clef(http_pair: Pair, name: str) -> None:
    method, body, headers = HTTP_REQUESTS[name]
    answers = []
    for peer in (http_pair.clef, http_pair.sealward):
        assert peer.http_port is not None
        answers.append(_raw_http(peer.http_port, method, body, {"User-Agent": "differential", **headers}))
    assert answers[0] == answers[1]
