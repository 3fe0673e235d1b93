"""Helpers for the operations tests: ports, scraping /metrics with prometheus_client's own parser,
polling, and a clique sealer that can also ask for a repeat and a rollback."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from signer.clique.header import CliqueHeader
from signer.clique.sealing import apply_seal, block_hash, make_header, request_payload
from signer.tools.ipcclient import IpcClient
from tests.e2e.clique_check import recover_clique_signer

CLIQUE = "application/x-clique-header"
Samples = dict[str, list[tuple[dict[str, str], float]]]


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type", "")
    finally:
        connection.close()


def scrape(port: int) -> Samples:
    """The endpoint's samples, parsed by prometheus_client's own text parser."""
    status, body, _ = http_get(port, "/metrics")
    assert status == 200, body
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The one sample of ``name`` whose labels include ``labels`` (None when absent)."""
    found = [v for sample_labels, v in samples.get(name, []) if labels.items() <= sample_labels.items()]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 0.1) -> float:
    """Poll until ``check()`` is truthy; returns the seconds it took (fails after ``timeout``)."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"still not true after {timeout}s")
        time.sleep(interval)


class Sealer:
    """A geth-like sealer on one chain; every seal is checked by recovery (rlp + eth-keys)."""

    def __init__(self, socket_path: Path, address: str) -> None:
        self.socket_path, self.address = socket_path, address
        self.number, self.parent = 1, bytes(32)
        self.sealed: list[CliqueHeader] = []
        self._pending: CliqueHeader | None = None  # asked but not answered: asked again as it is

    def _sign(self, client: IpcClient, header: CliqueHeader) -> bytes:
        payload = request_payload(header)
        signature = bytes.fromhex(client.call("account_signData", CLIQUE, self.address, payload)[2:])
        assert recover_clique_signer(bytes.fromhex(payload[2:]), signature) == self.address
        return signature

    def seal(self, client: IpcClient, count: int = 1) -> None:
        for _ in range(count):
            header = self._pending or make_header(self.number, self.parent, timestamp=int(time.time()))
            self._pending = header
            self.parent = block_hash(apply_seal(header, self._sign(client, header)))
            self._pending = None
            self.number += 1
            self.sealed.append(header)

    def repeat_last(self, client: IpcClient) -> None:
        """The same header again, as geth asks after a restart: allowed, nothing new revealed."""
        self._sign(client, self.sealed[-1])

    def rollback(self, client: IpcClient) -> None:
        """A header below the top on another parent: the guard must refuse it."""
        self._sign(client, make_header(self.number - 2, b"\x42" * 32, timestamp=int(time.time())))
