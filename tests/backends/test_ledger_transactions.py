"""Transactions on the emulated Ledger: every type, chain ids that trip v, refusals before the device.

Each signature is turned into a signed transaction by eth-account, which recovers the sender.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account as EthAccount

from backends.base import AppTooOld, DeviceError, TransactionPayload, UnsupportedPayload
from tests.backends.conformance import HALF_N
from tests.backends.ledger_emulator import EthAppEmulator
from tests.backends.ledger_helpers import LEGACY, LIVE_0, TO, account_at, make_backend, recover_tx, tx_payload


@pytest.mark.parametrize(
    "fields",
    [
        LEGACY,
        {**LEGACY, "chainId": 11155111, "data": "0x" + "ab" * 600},  # v's low byte wraps; 3 APDUs
        {**LEGACY, "chainId": 137},  # chainId*2+35 > 255: ledgereth's own v rebuild is off here
        {**LEGACY, "to": "", "data": "0x6080604052"},  # contract creation
        {
            **LEGACY,
            "type": 1,
            "accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 31 + "01", "0x" + "ff" * 32]}],
        },
        {
            "type": 2,
            "chainId": 10,
            "nonce": 7,
            "to": TO,
            "value": 0,
            "gas": 50000,
            "data": "0x" + "cd" * 300,
            "maxFeePerGas": 2,
            "maxPriorityFeePerGas": 1,
            "accessList": [],
        },
    ],
    ids=["legacy", "sepolia-long-data", "polygon", "create", "eip2930", "eip1559"],
)
def test_transactions_are_signed_on_the_device(fields: dict[str, Any]) -> None:
    emulator = EthAppEmulator()
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    sig = backend.sign(account, tx_payload(fields), None)
    assert recover_tx(fields, sig) == account.address
    assert emulator.prompts[-1].endswith("transaction")


def test_high_s_from_the_device_is_normalised() -> None:
    emulator = EthAppEmulator()
    emulator.high_s = True
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    sig = backend.sign(account, tx_payload(LEGACY), None)
    assert sig.s <= HALF_N
    assert recover_tx(LEGACY, sig) == account.address


def test_fields_that_do_not_match_the_approved_digest_never_reach_the_device() -> None:
    emulator = EthAppEmulator()
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    approved = tx_payload(LEGACY)
    tampered = TransactionPayload(0, 1, {**LEGACY, "value": 10**21}, approved.digest)
    with pytest.raises(UnsupportedPayload, match="do not hash to the digest"):
        backend.sign(account, tampered, None)
    assert emulator.prompts == []


def test_legacy_chain_id_beyond_32_bits_is_refused_before_the_device() -> None:
    emulator = EthAppEmulator()
    backend = make_backend(emulator)
    with pytest.raises(UnsupportedPayload, match="cannot sign this transaction"):
        backend.sign(account_at(backend, LIVE_0), tx_payload({**LEGACY, "chainId": 2**33}), None)
    assert emulator.prompts == []


def _blob_fields() -> dict[str, Any]:
    return {
        "type": 3,
        "chainId": 1,
        "nonce": 0,
        "to": TO,
        "value": 0,
        "gas": 21000,
        "maxFeePerGas": 2,
        "maxPriorityFeePerGas": 1,
        "data": "0x",
        "maxFeePerBlobGas": 5,
        "blobVersionedHashes": ["0x01" + "aa" * 31],
    }


def _set_code_fields() -> dict[str, Any]:
    authorization = EthAccount.sign_authorization({"chainId": 1, "address": TO, "nonce": 1}, b"\x07" * 32)
    return {
        "type": 4,
        "chainId": 1,
        "nonce": 0,
        "to": TO,
        "value": 0,
        "gas": 60000,
        "maxFeePerGas": 2,
        "maxPriorityFeePerGas": 1,
        "data": "0x",
        "authorizationList": [authorization],
    }


@pytest.mark.parametrize("make_fields", [_blob_fields, _set_code_fields], ids=["blob", "set-code"])
def test_blob_and_set_code_need_an_app_that_knows_them(make_fields: Any) -> None:
    fields = make_fields()
    emulator = EthAppEmulator(tx_types=(0, 1, 2))
    backend = make_backend(emulator)
    with pytest.raises(UnsupportedPayload, match="not supported by the Ledger app"):
        backend.sign(account_at(backend, LIVE_0), tx_payload(fields), None)

    newer = EthAppEmulator(tx_types=(0, 1, 2, 3, 4))
    backend = make_backend(newer)
    account = account_at(backend, LIVE_0)
    sig = backend.sign(account, tx_payload(fields), None)
    assert recover_tx(fields, sig) == account.address


def test_access_list_transaction_needs_app_1_7_1() -> None:
    backend = make_backend(EthAppEmulator(version=(1, 6, 0)))
    fields = {**LEGACY, "type": 1, "accessList": []}
    with pytest.raises(AppTooOld, match=r"1\.7\.1 or newer.*1\.6\.0"):
        backend.sign(account_at(backend, LIVE_0), tx_payload(fields), None)


def test_contract_data_without_blind_signing_says_how_to_enable_it() -> None:
    emulator = EthAppEmulator()
    emulator.blind_signing = False
    backend = make_backend(emulator)
    with pytest.raises(DeviceError, match="Blind signing"):
        backend.sign(account_at(backend, LIVE_0), tx_payload({**LEGACY, "data": "0xa9059cbb"}), None)
