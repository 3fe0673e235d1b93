"""The real signer under the issue's hostile load (issue 12, finding 1): requests parked on a
person who never answers, huge cheap-to-send messages over IPC and HTTP, hundreds of silent
HTTP connections. Memory stays bounded and geth's start-up calls are still answered at once.

Before the bounds: +830 MiB RSS never given back, and ``account_version`` on a new connection
timed out behind the parked requests (figures in docs/reliability.md)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.hostile_load import (
    Signer,
    empty_objects,
    heavy_batch,
    http_post,
    park_sign_requests,
    request,
    running_signer,
    send_and_close_ipc,
    timed_fresh_calls,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def signer() -> Iterator[Signer]:
    with running_signer() as running:
        yield running


def test_memory_stays_bounded_and_start_up_calls_stay_fast(signer: Signer) -> None:
    parked = park_sign_requests(signer, 48)
    try:
        time.sleep(1)
        before = signer.rss()
        for _ in range(2):
            send_and_close_ipc(signer, empty_objects(16_500_000))
            send_and_close_ipc(signer, heavy_batch(4_900_000))
        replies = [http_post(signer, empty_objects(4_800_000)) for _ in range(4)]
        time.sleep(2)
        grown = signer.rss() - before
        assert grown < 100, f"RSS grew by {grown:.0f} MiB"
        timings = timed_fresh_calls(signer, timeout=10)
        assert max(timings.values()) < 1.0, timings
        for reply in replies:
            assert b"-32005" in reply and b"too many values" in reply
    finally:
        for sock in parked:
            sock.close()


def test_silent_http_connections_cannot_lock_out_a_client(signer: Signer) -> None:
    silent = []
    try:
        for i in range(300):
            sock = socket.create_connection(signer.url, timeout=10)
            if i % 2:
                sock.sendall(b"POST / HTTP/1.1\r\nHost: local")  # slowloris: a request that never ends
            silent.append(sock)
        time.sleep(0.5)
        started = time.monotonic()
        reply = http_post(signer, request("account_version"), timeout=10)
        assert b'"result"' in reply
        assert time.monotonic() - started < 1.0
    finally:
        for sock in silent:
            sock.close()
