"""SendTxArgs -> signed {raw, tx}: every type signed through ``assemble``, recovered with eth-account,
decoded independently and compared field by field with the JSON and the request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict

from backends.base import Signature, SignatureMismatch, TransactionPayload
from backends.secp256k1 import sign_with_private_key
from signer.codecs import txwire
from signer.codecs.sendtx import Authorization, SendTxArgs
from signer.codecs.transactions import (
    ChainIdMismatch,
    TransactionError,
    assemble,
    check_requested_chain_id,
    prepare_transaction,
    to_unsigned,
)
from signer.validation import FourByteDB, reject_if_warnings, validate
from tests.codecs.txcheck import KEY, SENDER, TO, check_signed, decode_raw, sign_request

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "clef"
AUTH_KEY = bytes(31) + b"\x07"
DELEGATE = "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B"


def load_vector(name: str) -> Any:
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"clef vectors not present at {path}")
    return json.loads(path.read_text())


def authorization(chain_id: int = 1, nonce: int = 0) -> dict[str, str]:
    signed = Account.sign_authorization({"chainId": chain_id, "address": DELEGATE, "nonce": nonce}, AUTH_KEY)
    return {
        "chainId": hex(chain_id),
        "address": DELEGATE,
        "nonce": hex(nonce),
        "yParity": hex(signed.y_parity),
        "r": hex(signed.r),
        "s": hex(signed.s),
    }


BASE = {"to": TO, "gas": "0x186a0", "value": "0x2386f26fc10000", "nonce": "0x2a", "input": "0xa9059cbb"}
FEES = {"maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x3b9aca00"}
ACCESS = [{"address": DELEGATE, "storageKeys": ["0x" + "01" * 32, "0x" + "02" * 32]}]
BLOB_HASH = "0x01" + "ab" * 31
REQUESTS: dict[int, dict[str, Any]] = {
    0: dict(BASE, gasPrice="0x4a817c800"),
    1: dict(BASE, gasPrice="0x4a817c800", accessList=ACCESS, chainId="0x1"),
    2: dict(BASE, **FEES, accessList=ACCESS, chainId="0x1"),
    3: dict(
        BASE, **FEES, maxFeePerBlobGas="0x5", blobVersionedHashes=[BLOB_HASH], accessList=[], chainId="0x1"
    ),
    4: dict(BASE, **FEES, accessList=[], chainId="0x1"),
}
_HEAD = "type chainId nonce to gas gasPrice maxPriorityFeePerGas maxFeePerGas"
_SIG = "v r s yParity hash"
JSON_KEYS = {  # geth's txJSON key order per type (§2.4.5)
    0: f"{_HEAD} value input v r s hash",
    1: f"{_HEAD} value input accessList {_SIG}",
    2: f"{_HEAD} value input accessList {_SIG}",
    3: f"{_HEAD} maxFeePerBlobGas value input accessList blobVersionedHashes {_SIG}",
    4: f"{_HEAD} value input accessList authorizationList {_SIG}",
}


def request_for(tx_type: int) -> dict[str, Any]:
    request = dict(REQUESTS[tx_type])
    if tx_type == 4:
        request["authorizationList"] = [authorization()]
    return request


@pytest.mark.parametrize("tx_type", [0, 1, 2, 3, 4])
def test_every_type_signs_recovers_and_roundtrips(tx_type: int) -> None:
    request = request_for(tx_type)
    payload, raw, tx = sign_request(request, chain_id=1)
    assert payload.tx_type == tx_type and tx["type"] == hex(tx_type)
    assert list(tx) == JSON_KEYS[tx_type].split()
    check_signed(raw, tx, request)
    # The digest the backend signed is the one eth-account computes from our eth-account fields...
    assert serializable_unsigned_transaction_from_dict(dict(payload.fields)).hash() == payload.digest
    # ...and eth-account signing those fields with the same key (RFC 6979) gives the same bytes.
    assert bytes(Account.sign_transaction(dict(payload.fields), KEY).raw_transaction) == raw
    assert tx["chainId"] == "0x1"
    if tx_type == 0:
        assert int(tx["v"], 16) in (37, 38)  # EIP-155: 35 + 2*chainId + parity
        assert raw[0] >= 0xC0
    else:
        assert raw[0] == tx_type


def test_set_code_authorization_list_is_carried() -> None:
    request = request_for(4)
    _, raw, tx = sign_request(request)
    decoded = decode_raw(raw)
    (auth,) = decoded["authorizationList"]
    assert auth == dict(request["authorizationList"][0], address=DELEGATE.lower())
    assert tx["authorizationList"] == decoded["authorizationList"]
    typed = Account.sign_transaction(dict(prepare_transaction(SendTxArgs.from_json(request), 1).fields), KEY)
    assert bytes(typed.raw_transaction) == raw


def test_geth_eth_sendtransaction_request_end_to_end() -> None:
    """§8: what geth's SignTx sends, through validation, signing and the JSON geth decodes."""
    request = {
        "from": SENDER,
        "to": TO,
        "gas": "0x5208",
        "gasPrice": None,
        **FEES,
        "value": "0xde0b6b3a7640000",
    }
    request.update(nonce="0x0", input="0x", accessList=[], chainId="0x1")
    args = SendTxArgs.from_json(request)
    check_requested_chain_id(args, 1)
    messages = validate(args, None, FourByteDB.load(None))
    assert messages == []
    reject_if_warnings(messages)
    assert args.input is None and args.data == b""
    payload = prepare_transaction(args, 1)
    raw, tx = assemble(payload, sign_with_private_key(KEY, payload.digest))
    check_signed(raw, tx, request)
    # geth's per-type required fields for a dynamic-fee tx are all present and non-null.
    for key in (
        "chainId",
        "nonce",
        "gas",
        "maxPriorityFeePerGas",
        "maxFeePerGas",
        "value",
        "input",
        "v",
        "r",
        "s",
    ):
        assert tx[key] is not None, key
    assert json.loads(json.dumps(tx)) == tx


def test_clef_doc_vectors_are_reproduced() -> None:
    vectors = load_vector("expected/derived_signing_vectors.json")["signed_tx_doc_vectors"]
    for vector in vectors:
        raw = bytes.fromhex(vector["raw"][2:])
        nonce, gas_price, gas, to, value, data, v, r, s = rlp.decode(raw)
        request = {
            "from": vector["expected_sender"],
            "to": "0x" + to.hex(),
            "nonce": hex(int.from_bytes(nonce, "big")),
            "gasPrice": hex(int.from_bytes(gas_price, "big")),
            "gas": hex(int.from_bytes(gas, "big")),
            "value": hex(int.from_bytes(value, "big")),
            "data": "0x" + data.hex(),
        }
        payload = prepare_transaction(SendTxArgs.from_json(request), vector["chain_id"])
        y_parity = int.from_bytes(v, "big") - 35 - 2 * vector["chain_id"]
        signature = Signature(y_parity, int.from_bytes(r, "big"), int.from_bytes(s, "big"))
        out, tx = assemble(payload, signature)  # assemble also checks the sender by recovery
        assert out == raw
        assert tx["hash"] == vector["expected_hash"]
        if "expected_tx_json_current_geth" in vector:
            assert tx == vector["expected_tx_json_current_geth"]
            assert list(tx) == list(vector["expected_tx_json_current_geth"])


def test_txargs_vectors_infer_type_and_unsigned_hash() -> None:
    for case in load_vector("inline/apitypes_TestTxArgs.json"):
        args = SendTxArgs.from_json(case["input"])
        tx = to_unsigned(args)
        assert tx.tx_type == case["expected_type"], case["note"]
        assert "0x" + txwire.tx_hash(tx, 0, 0, 0).hex() == case["expected_unsigned_tx_hash"]
        again = to_unsigned(SendTxArgs.from_json(args.to_json()))
        assert txwire.tx_hash(again, 0, 0, 0) == txwire.tx_hash(tx, 0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "tx_type"),
    [
        ({}, 0),
        ({"accessList": []}, 1),
        ({"maxFeePerGas": "0x1"}, 2),
        ({"maxFeePerGas": "0x1", "accessList": [], "gasPrice": "0x1"}, 2),
        ({"maxPriorityFeePerGas": "0x1"}, 0),  # only maxFeePerGas selects 1559
        ({"blobVersionedHashes": [BLOB_HASH]}, 3),
        ({"blobVersionedHashes": [BLOB_HASH], "accessList": None}, 3),
    ],
)
def test_type_inference_priority(fields: dict[str, Any], tx_type: int) -> None:
    assert to_unsigned(SendTxArgs.from_json({"to": TO, **fields})).tx_type == tx_type


def test_missing_values_default_to_zero() -> None:
    tx = to_unsigned(SendTxArgs.from_json({"to": TO, "blobVersionedHashes": [BLOB_HASH]}))
    assert (tx.chain_id, tx.max_fee_per_gas, tx.max_priority_fee_per_gas, tx.max_fee_per_blob_gas) == (
        0,
        0,
        0,
        0,
    )
    assert tx.access_list == ()
    assert to_unsigned(SendTxArgs.from_json({"to": TO})).gas_price == 0


def test_typed_chain_id_mismatch_is_refused() -> None:
    args = SendTxArgs.from_json(dict(REQUESTS[2], chainId="0x5"))
    with pytest.raises(ChainIdMismatch, match=r"^invalid chain id for signer: have 5 want 1$"):
        prepare_transaction(args, 1)
    with pytest.raises(
        ChainIdMismatch, match=r"^requested chainid 5 does not match the configuration of the signer$"
    ):
        check_requested_chain_id(args, 1)
    check_requested_chain_id(SendTxArgs.from_json(REQUESTS[0]), 1)  # absent chainId is fine


def test_legacy_chain_id_mismatch_is_refused() -> None:
    with pytest.raises(ChainIdMismatch, match="requested chainid 5 does not match"):
        prepare_transaction(SendTxArgs.from_json(dict(REQUESTS[0], chainId="0x5")), 1)


@pytest.mark.parametrize("tx_type", [1, 2, 4])
def test_absent_or_zero_chain_id_takes_the_signers(tx_type: int) -> None:
    request = {k: v for k, v in request_for(tx_type).items() if k != "chainId"}
    for chain in (None, "0x0"):
        if chain is not None:
            request["chainId"] = chain
        payload, raw, tx = sign_request(request, chain_id=11155111)
        assert tx["chainId"] == hex(11155111) and payload.chain_id == 11155111
        check_signed(raw, tx, request)


def test_legacy_with_chain_id_zero_is_unprotected() -> None:
    _, raw, tx = sign_request(REQUESTS[0], chain_id=0)
    assert "chainId" not in tx and int(tx["v"], 16) in (27, 28)
    check_signed(raw, tx, REQUESTS[0])


def test_large_chain_id_in_eip155_v() -> None:
    _, raw, tx = sign_request(REQUESTS[0], chain_id=2**40)
    assert int(tx["v"], 16) - 35 - 2**41 in (0, 1)
    check_signed(raw, tx, REQUESTS[0])


@pytest.mark.parametrize("tx_type", [0, 2])
def test_contract_creation(tx_type: int) -> None:
    request = dict(REQUESTS[tx_type], to=None, input="0x6080604052")
    _, raw, tx = sign_request(request)
    assert tx["to"] is None
    check_signed(raw, tx, request)


def test_recipient_required_for_blob_and_set_code() -> None:
    with pytest.raises(TransactionError, match=r"^transaction recipient must be set for blob transactions$"):
        to_unsigned(SendTxArgs.from_json(dict(REQUESTS[3], to=None)))
    with pytest.raises(TransactionError, match="recipient must be set for set code transactions"):
        to_unsigned(SendTxArgs.from_json(dict(request_for(4), to=None)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"authorizationList": []}, "EIP-7702 transaction with empty auth list"),
        ({"blobVersionedHashes": [BLOB_HASH]}, "authorizationList cannot be combined with blob fields"),
    ],
)
def test_set_code_shape(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TransactionError, match=message):
        to_unsigned(SendTxArgs.from_json(dict(request_for(4), **change)))


def test_blob_tx_needs_a_hash() -> None:
    with pytest.raises(TransactionError, match="at least one blob versioned hash"):
        to_unsigned(SendTxArgs.from_json(dict(REQUESTS[3], blobVersionedHashes=[])))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("value", -1, "value out of range: -1"),
        ("gas", 2**64, "gas out of range"),
        ("nonce", -5, "nonce out of range"),
        ("max_fee_per_gas", 2**256, "maxFeePerGas out of range"),
        ("chain_id", -1, "chainId out of range"),
    ],
)
def test_absurd_values_set_from_python_are_refused(field: str, value: int, message: str) -> None:
    args = SendTxArgs.from_json(REQUESTS[2])
    setattr(args, field, value)
    with pytest.raises(TransactionError, match=message):
        prepare_transaction(args, 1)


def test_absurd_authorization_is_refused() -> None:
    args = SendTxArgs.from_json(request_for(4))
    args.authorization_list = [Authorization(1, bytes(20), -1, 0, 1, 1)]
    with pytest.raises(TransactionError, match="authorization out of range"):
        to_unsigned(args)


def test_assemble_refuses_a_signature_from_another_key() -> None:
    payload = prepare_transaction(SendTxArgs.from_json(dict(REQUESTS[2], **{"from": SENDER})), 1)
    with pytest.raises(SignatureMismatch):
        assemble(payload, sign_with_private_key(AUTH_KEY, payload.digest))


def test_assemble_refuses_foreign_or_altered_payloads() -> None:
    payload = prepare_transaction(SendTxArgs.from_json(dict(REQUESTS[2], **{"from": SENDER})), 1)
    signature = sign_with_private_key(KEY, payload.digest)
    altered = TransactionPayload(2, 1, payload.fields, bytes(32), payload.extra)
    with pytest.raises(ValueError, match="altered"):
        assemble(altered, signature)
    with pytest.raises(ValueError, match="prepare_transaction"):
        assemble(TransactionPayload(2, 1, payload.fields, payload.digest, {}), signature)


def test_signer_chain_id_must_be_sane() -> None:
    with pytest.raises(ValueError, match="signer chain id out of range"):
        prepare_transaction(SendTxArgs.from_json(REQUESTS[2]), -1)
