"""Load: 4 concurrent clients x 500 seals through one Pkcs11Backend on SoftHSM2, no error, every
signature checked with eth-keys afterwards.

SoftHSM initialised the way python-pkcs11 does it (no locking) crashes the whole process under
two threads, so simply finishing is part of the assertion. Both thread-safety strategies are run:
OS locking in this process, serialised calls in a spawned process (the strategy is per process).
Throughput is printed (``pytest -s``) for the record; it is not asserted, the VM is too noisy.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest
from eth_keys.datatypes import Signature as EthSignature
from eth_utils.crypto import keccak

from backends.base import Account, DigestPayload, Secret, Signature
from backends.pkcs11 import Pkcs11Backend
from backends.pkcs11.module import Locking
from tests.helpers.softhsm import SoftHsmToken, create_token

CLIENTS, SEALS = 4, 500
PIN = "load-1234"
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def _hammer(backend: Pkcs11Backend, account: Account, clients: int, seals: int) -> tuple[float, list[str]]:
    """Sign ``clients x seals`` digests concurrently; verify all; return (signatures/s, failures)."""
    results: list[list[tuple[bytes, Signature]]] = [[] for _ in range(clients)]
    failures: list[str] = []
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        start.wait()
        for i in range(seals):
            digest = keccak(f"client {n} seal {i}".encode() + os.urandom(8))
            try:
                results[n].append((digest, backend.sign(account, DigestPayload(digest, b""), None)))
            except Exception as exc:
                failures.append(f"client {n} seal {i}: {exc!r}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    rate = clients * seals / (time.perf_counter() - began)
    for digest, signature in (pair for batch in results for pair in batch):
        recovered = EthSignature(signature.to_bytes()).recover_public_key_from_msg_hash(digest)
        if recovered.to_checksum_address() != account.address or signature.s > HALF_N:
            failures.append(f"signature over {digest.hex()} is high-s or recovers to another address")
    if sum(map(len, results)) != clients * seals:
        failures.append(f"only {sum(map(len, results))} of {clients * seals} signatures came back")
    return rate, failures


def test_clients_ride_through_lost_sessions(token: SoftHsmToken) -> None:
    """Sessions are pulled from under 4 busy clients five times: every call still succeeds."""
    from backends.pkcs11.module import load_module

    backend = Pkcs11Backend(token.module, [token.label])
    try:
        backend.login(token.label, Secret(PIN))
        account = backend.accounts()[0]
        module = load_module(token.module)
        slot = module.find_token(token.label).slot.slot_id
        outcome: list[tuple[float, list[str]]] = []
        clients = threading.Thread(target=lambda: outcome.append(_hammer(backend, account, CLIENTS, 300)))
        clients.start()
        pulls = 0
        while clients.is_alive() and pulls < 5:
            time.sleep(0.1)
            assert module.close_all_sessions(slot) == 0
            pulls += 1
        clients.join()
        assert pulls >= 3, "the clients finished before the sessions could be pulled"
        assert outcome[0][1] == []
    finally:
        backend.close()


def _run(token: SoftHsmToken, locking: Locking) -> tuple[str, float, float, list[str]]:
    backend = Pkcs11Backend(token.module, [token.label], locking=locking)
    try:
        backend.login(token.label, Secret(PIN))
        account = backend.accounts()[0]
        single, failures = _hammer(backend, account, 1, SEALS)
        rate, more = _hammer(backend, account, CLIENTS, SEALS)
        return backend.locking, single, rate, failures + more
    finally:
        backend.close()


def _in_child(token: SoftHsmToken, locking: Locking) -> tuple[str, float, float, list[str]]:
    token.activate()
    return _run(token, locking)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    token = create_token(tmp_path_factory.mktemp("load"), label="load", pin=PIN)
    token.activate()
    backend = Pkcs11Backend(token.module, [token.label])
    try:
        backend.new_account(token.label, Secret(PIN), label="sealer")
    finally:
        backend.close()
    return token


def test_concurrent_clients_with_os_locking(token: SoftHsmToken) -> None:
    locking, single, rate, failures = _run(token, "auto")
    print(f"\nPKCS#11 {locking}: 1 client {single:.0f} sig/s, {CLIENTS} clients {rate:.0f} sig/s")
    assert locking == "os"
    assert failures == []


def test_concurrent_clients_with_serialised_calls(token: SoftHsmToken) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        locking, single, rate, failures = pool.apply(_in_child, (token, "serialise"))
    print(f"\nPKCS#11 {locking}: 1 client {single:.0f} sig/s, {CLIENTS} clients {rate:.0f} sig/s")
    assert locking == "serialise"
    assert failures == []
