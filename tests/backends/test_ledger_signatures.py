"""Signature edge cases on the emulated Ledger, chosen on purpose instead of left to chance.

An r or s with a leading zero byte (1 signature in 256 each), a high-s answer for either recovery
id, and legacy v bytes that wrap around 0xFF: random payloads hit these rarely, so a mistake there
would only show as a flake. Each case is found in the test set-up by searching payloads with the
key the emulator signs with, then signed through the backend and checked with eth-account
(recover_message / recover_transaction) and eth-keys, never with Sealward's own code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import coincurve
import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys.datatypes import Signature as EthSignature

from backends.base import Payload, Signature
from backends.ledger import LedgerBackend
from tests.backends.conformance import HALF_N
from tests.backends.ledger_emulator import EthAppEmulator, N, ProxyServer
from tests.backends.ledger_helpers import (
    LEGACY,
    LIVE_0,
    MAIL,
    TO,
    account_at,
    make_backend,
    recover_tx,
    text_payload,
    tx_payload,
    typed_payload,
)

SEARCH_LIMIT = 10_000  # each wanted property has probability >= 1/256 per payload


@dataclass(frozen=True)
class Case:
    """A payload, how eth-account recovers its signer, and the signature the device computes."""

    payload: Payload
    recover: Callable[[Signature], str]


def _text(i: int) -> Case:
    message = f"edge case {i}".encode()
    return Case(
        text_payload(message),
        lambda sig: str(EthAccount.recover_message(encode_defunct(message), signature=sig.to_bytes(27))),
    )


def _typed(with_document: bool) -> Callable[[int], Case]:
    def make(i: int) -> Case:
        document = {**MAIL, "message": {"contents": f"edge case {i}"}}
        signable = encode_typed_data(full_message=document)
        return Case(
            typed_payload(document, with_document),
            lambda sig: str(EthAccount.recover_message(signable, signature=sig.to_bytes(27))),
        )

    return make


def _transaction(base: dict[str, Any]) -> Callable[[int], Case]:
    def make(i: int) -> Case:
        fields = {**base, "nonce": i}
        return Case(tx_payload(fields), lambda sig: recover_tx(fields, sig))

    return make


EIP1559 = {
    "type": 2,
    "chainId": 1,
    "to": TO,
    "value": 1,
    "gas": 21000,
    "maxFeePerGas": 2 * 10**9,
    "maxPriorityFeePerGas": 10**9,
    "data": "0x",
}

FAMILIES: dict[str, Callable[[int], Case]] = {
    "text": _text,
    "typed-hashes": _typed(with_document=False),
    "typed-fields": _typed(with_document=True),
    "legacy-tx": _transaction(LEGACY),
    "eip1559-tx": _transaction(EIP1559),
}

# (name, the device's low-s signature (r, s, parity) must satisfy this, the device answers high s)
EDGES: list[tuple[str, Callable[[int, int, int], bool], bool]] = [
    ("r-leading-zero", lambda r, s, parity: r < 1 << 248, False),
    ("s-leading-zero", lambda r, s, parity: s < 1 << 248, False),
    ("high-s-parity-0", lambda r, s, parity: parity == 0, True),
    ("high-s-parity-1", lambda r, s, parity: parity == 1, True),
    ("high-s-twin-of-s-leading-zero", lambda r, s, parity: s < 1 << 248, True),
]


def device_signature(emulator: EthAppEmulator, digest: bytes) -> tuple[int, int, int]:
    """What the emulated app computes before any high-s twist: RFC 6979, low s."""
    raw = coincurve.PrivateKey(emulator.key(LIVE_0)).sign_recoverable(digest, hasher=None)
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]


def find(
    emulator: EthAppEmulator, family: Callable[[int], Case], wanted: Callable[[int, int, int], bool]
) -> tuple[Case, tuple[int, int, int]]:
    for i in range(SEARCH_LIMIT):
        case = family(i)
        expected = device_signature(emulator, case.payload.digest)
        if wanted(*expected):
            return case, expected
    raise AssertionError("no payload with the wanted signature property in the search range")


def check(case: Case, sig: Signature, expected: tuple[int, int, int], address: str) -> None:
    r, s, parity = expected
    assert (sig.r, sig.s, sig.y_parity) == (r, s, parity)  # the canonical (low-s) form, its own parity
    assert 0 < sig.s <= HALF_N
    raw = sig.to_bytes()
    assert len(raw) == 65 and raw[:32] == r.to_bytes(32, "big") and raw[32:64] == s.to_bytes(32, "big")
    eth_keys_signer = EthSignature(raw).recover_public_key_from_msg_hash(case.payload.digest)
    assert eth_keys_signer.to_checksum_address() == address
    assert case.recover(sig) == address


@pytest.mark.parametrize("edge", EDGES, ids=[edge[0] for edge in EDGES])
@pytest.mark.parametrize("family", list(FAMILIES), ids=list(FAMILIES))
def test_signature_edge_cases_survive_the_device_round_trip(
    family: str, edge: tuple[str, Callable[[int, int, int], bool], bool]
) -> None:
    _, wanted, high_s = edge
    emulator = EthAppEmulator()
    emulator.high_s = high_s
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    case, expected = find(emulator, FAMILIES[family], wanted)
    check(case, backend.sign(account, case.payload, None), expected, account.address)


@pytest.mark.parametrize("chain_id", [110, 238])  # chainId*2+35 ends in 0xFF: v's byte wraps to 0x00
@pytest.mark.parametrize("parity", [0, 1])
def test_legacy_v_byte_wrapping_around_0xff(chain_id: int, parity: int) -> None:
    emulator = EthAppEmulator()
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    case, expected = find(
        emulator, _transaction({**LEGACY, "chainId": chain_id}), lambda r, s, p: p == parity
    )
    check(case, backend.sign(account, case.payload, None), expected, account.address)


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EthAppEmulator, LedgerBackend]]:
    emulator = EthAppEmulator()
    server = ProxyServer(emulator)
    monkeypatch.setenv("LEDGER_PROXY_ADDRESS", "127.0.0.1")
    monkeypatch.setenv("LEDGER_PROXY_PORT", str(server.port))
    backend = LedgerBackend(1, probe_interval=0)
    yield emulator, backend
    backend.close()
    server.stop()


@pytest.mark.parametrize("edge", EDGES, ids=[edge[0] for edge in EDGES])
def test_edge_cases_through_the_tcp_transport(
    proxied: tuple[EthAppEmulator, LedgerBackend], edge: tuple[str, Callable[[int, int, int], bool], bool]
) -> None:
    emulator, backend = proxied
    emulator.high_s = edge[2]
    account = account_at(backend, LIVE_0)
    case, expected = find(emulator, _text, edge[1])
    check(case, backend.sign(account, case.payload, None), expected, account.address)


def test_the_emulator_really_answers_the_edge_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases above exercise what they claim: a zero byte on the wire, and s above n/2."""
    emulator = EthAppEmulator()
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    answers: list[bytes] = []
    handle = emulator.handle

    def recording(command: bytes) -> tuple[bytes, int]:
        data, sw = handle(command)
        answers.append(data)
        return data, sw

    monkeypatch.setattr(emulator, "handle", recording)
    case, (r, _, _) = find(emulator, _text, lambda r, s, parity: r < 1 << 248)
    backend.sign(account, case.payload, None)
    assert len(answers[-1]) == 65 and answers[-1][1] == 0 and int.from_bytes(answers[-1][1:33], "big") == r

    emulator.high_s = True
    case, (_, s, _) = find(emulator, _text, lambda r, s, parity: s < 1 << 248)
    sig = backend.sign(account, case.payload, None)
    assert int.from_bytes(answers[-1][33:65], "big") == N - s > HALF_N and answers[-1][33] == 0xFF
    assert sig.s == s
