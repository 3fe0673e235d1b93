"""EIP-712 on a Ledger: the full clear-signing protocol, and the hashed mode it falls back to.

In full mode the emulator rebuilds the document from the APDUs and eth-account hashes it, so a
signature that recovers over the expected digest proves every field was encoded right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account as EthAccount

from backends.base import AppTooOld, TypedDataPayload, UserRejected
from backends.ledger import LedgerBackend
from tests.backends.ledger_emulator import EthAppEmulator
from tests.backends.ledger_helpers import LIVE_0, MAIL, account_at, make_backend, typed_payload

RICH: dict[str, Any] = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
            {"name": "salt", "type": "bytes32"},
        ],
        "Leg": [{"name": "token", "type": "address"}, {"name": "amount", "type": "int128"}],
        "Order": [
            {"name": "maker", "type": "address"},
            {"name": "legs", "type": "Leg[]"},
            {"name": "grid", "type": "uint8[2][]"},
            {"name": "tags", "type": "string[3]"},
            {"name": "memo", "type": "string"},
            {"name": "blob", "type": "bytes"},
            {"name": "selector", "type": "bytes4"},
            {"name": "expiry", "type": "uint64"},
            {"name": "delta", "type": "int16"},
            {"name": "zero", "type": "uint256"},
            {"name": "partial", "type": "bool"},
        ],
    },
    "primaryType": "Order",
    "domain": {
        "name": "Sealward Exchange",
        "version": "2",
        "chainId": "0x5",
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
        "salt": "0x" + "5a" * 32,
    },
    "message": {
        "maker": "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826",
        "legs": [
            {"token": "0x" + "01" * 20, "amount": "-170141183460469231731687303715884105728"},
            {"token": "0x" + "02" * 20, "amount": 12345},
        ],
        "grid": [[1, 2], [255, 0], [7, 8]],
        "tags": ["a", "", "ünïcode"],
        "memo": "x" * 600,  # one value over three APDUs (P1 = partial, partial, complete)
        "blob": "0x" + "de" * 300,
        "selector": "0xa9059cbb",
        "expiry": "1700000000",
        "delta": -5,
        "zero": 0,
        "partial": True,
    },
}


def sign_typed(
    emulator: EthAppEmulator, document: dict[str, Any], with_document: bool = True
) -> tuple[str, str]:
    """(recovered signer over the expected digest, the account's address)."""
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    payload = typed_payload(document, with_document)
    sig = backend.sign(account, payload, None)
    return EthAccount._recover_hash(payload.digest, vrs=(sig.y_parity + 27, sig.r, sig.s)), account.address


def sent_instructions(emulator: EthAppEmulator) -> set[int]:
    return {apdu[1] for apdu in emulator.received if apdu[0] == 0xE0}


@pytest.mark.parametrize("document", [MAIL, RICH], ids=["mail", "rich"])
def test_full_mode_sends_every_field_and_the_device_hashes_them(document: dict[str, Any]) -> None:
    emulator = EthAppEmulator()
    recovered, address = sign_typed(emulator, document)
    assert recovered == address
    assert emulator.prompts == ["typed data fields"]
    assert {0x1A, 0x1C} <= sent_instructions(emulator)


# These cannot be clear-signed, so they are signed as hashes, which still gives the right signature:
# two leave a struct-typed value out (recursive types), the app wants every field; one uses the
# "int" alias, which the app would hash as "int256" (another type hash, another digest).
AS_HASHES = {"recursive-family-tree", "msu-v4-recursive-replyTo", "arrays-2d-int"}


def test_published_vectors(vectors_dir: Path) -> None:
    records = json.loads((vectors_dir / "eip712" / "published.json").read_text())["vectors"]
    assert len(records) >= 8
    for record in records:
        emulator = EthAppEmulator()
        payload = typed_payload(record["typed_data"])
        if "expected_digest" in record:
            assert "0x" + payload.digest.hex() == record["expected_digest"]
        recovered, address = sign_typed(emulator, record["typed_data"])
        assert recovered == address, record["name"]
        mode = "hashes" if record["name"] in AS_HASHES else "fields"
        assert emulator.prompts == [f"typed data {mode}"], record["name"]


def test_app_before_clear_signing_gets_the_hashes() -> None:
    emulator = EthAppEmulator(version=(1, 9, 18))
    recovered, address = sign_typed(emulator, RICH)
    assert recovered == address
    assert emulator.prompts == ["typed data hashes"]
    assert not {0x1A, 0x1C} & sent_instructions(emulator)


def test_device_refusing_clear_signing_falls_back_to_the_hashes() -> None:
    emulator = EthAppEmulator()
    emulator.eip712_full = False  # answers 0x6D00 to INS 0x1A, like a build without the feature
    recovered, address = sign_typed(emulator, MAIL)
    assert recovered == address
    assert emulator.prompts == ["typed data hashes"]


@pytest.mark.parametrize(
    "document",
    [
        {**MAIL, "types": {"Mail": MAIL["types"]["Mail"]}},  # no EIP712Domain type to send
        {**RICH, "message": {**RICH["message"], "grid": [[1, 2]] * 256}},  # array over 255 items
        {  # "uint" is an alias the app would hash as "uint256"
            **MAIL,
            "types": {**MAIL["types"], "Mail": [{"name": "count", "type": "uint"}]},
            "message": {"count": 3},
        },
    ],
    ids=["no-domain-type", "long-array", "uint-alias"],
)
def test_documents_the_protocol_cannot_carry_are_signed_as_hashes(document: dict[str, Any]) -> None:
    emulator = EthAppEmulator()
    payload = typed_payload(MAIL if "EIP712Domain" not in document["types"] else document)
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    sig = backend.sign(
        account, TypedDataPayload(payload.domain_hash, payload.struct_hash, payload.digest, document), None
    )
    assert EthAccount._recover_hash(payload.digest, vrs=(sig.y_parity + 27, sig.r, sig.s)) == account.address
    assert emulator.prompts == ["typed data hashes"]


def test_rejection_during_clear_signing_is_not_retried() -> None:
    emulator = EthAppEmulator()
    emulator.reject_next = True
    with pytest.raises(UserRejected, match="rejected on the Ledger"):
        sign_typed(emulator, MAIL)
    assert emulator.prompts == ["typed data fields"]


def test_typed_data_needs_app_1_5() -> None:
    emulator = EthAppEmulator(version=(1, 4, 9))
    backend: LedgerBackend = make_backend(emulator)
    with pytest.raises(AppTooOld, match=r"EIP-712.*1\.5\.0 or newer.*1\.4\.9"):
        backend.sign(account_at(backend, LIVE_0), typed_payload(MAIL), None)
    assert emulator.prompts == []
