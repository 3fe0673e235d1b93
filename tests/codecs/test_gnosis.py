"""account_signGnosisSafeTx: clef's GnosisSafeTx JSON, the SafeTx hash (checked against upstream
values and the Safe owners' own signatures), validation, and the safeTxHash check that clef skipped
when a chainId was supplied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backends.keystore import KeystoreBackend
from signer.codecs.eip712 import typed_data_hash
from signer.codecs.gnosis import GnosisSafeTx, SafeTxHashMismatch, checked_typed_data
from signer.codecs.hexutil import MixedcaseAddress
from signer.errors import InvalidParams, RequestDenied, ValidationFailed, error_code
from signer.types import IPC_METADATA
from tests.codecs.typed_signing import APPROVE, COW, Signer, cow_keystore, recover, vector

ADDRESS = MixedcaseAddress.parse(COW)
KEY_ORDER = [
    *("signature", "contractTransactionHash", "sender", "safe", "to", "value", "gasPrice", "data"),
    *("operation", "gasToken", "refundReceiver", "baseGas", "safeTxGas", "nonce", "safeTxHash"),
]
UPSTREAM = {
    "gnosisTx.json": "0x28bae2bd58d894a1d9b69e5e9fde3570c4b98a6fc5499aefb54fb830137e831f",
    "gnosisTxWithChainId.json": "0x6619dab5401503f2735256e12b898e69eb701d6a7e0d07abf1be4bb8aebfba29",
    "gnosisSafe_missing_chainid.json": "0x6f0f5cffee69087c9d2471e477a63cab2ae171cf433e754315d558d8836274f4",
}


def relay_tx(name: str) -> dict[str, Any]:
    tx = vector(f"clef/inline/{name}")
    assert isinstance(tx, dict)
    return tx


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> KeystoreBackend:
    return cow_keystore(tmp_path_factory.mktemp("gnosis") / "keystore")


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_safe_tx_hash_matches_upstream_and_the_owners_signatures(name: str) -> None:
    relay = relay_tx(name)
    tx = GnosisSafeTx.from_json(relay)
    td = checked_typed_data(tx, 1)  # gnosisSafe_missing_chainid needs the signer's chain id 1
    hashed = typed_data_hash(td)
    assert "0x" + hashed.digest.hex() == UPSTREAM[name] == relay["safeTxHash"]
    owners = [c for c in relay["confirmations"] if c.get("signatureType") == "EOA"]
    assert owners
    for confirmation in owners:  # real Safe owners signed this very hash
        assert recover(confirmation["signature"], hashed.preimage) == confirmation["owner"]


def test_typed_data_form_matches_the_upstream_typed_documents() -> None:
    for tx_name, typed_name in (("gnosisTx.json", "gnosisTypedData.json"),
                                ("gnosisTxWithChainId.json", "gnosisTypedDataWithChainId.json")):  # fmt: skip
        td = GnosisSafeTx.from_json(relay_tx(tx_name)).to_typed_data()
        upstream = vector(f"clef/inline/{typed_name}")
        as_json = td.to_json()
        assert as_json["types"] == {k: [{"name": f["name"], "type": f["type"]} for f in v]
                                    for k, v in upstream["types"].items()}  # fmt: skip
        assert as_json["primaryType"] == "SafeTx"
        assert as_json["domain"]["verifyingContract"] == upstream["domain"]["verifyingContract"]


def test_signing_returns_clefs_json_with_a_signature_that_recovers(
    keystore: KeystoreBackend, tmp_path: Path
) -> None:
    signer = Signer(keystore, tmp_path, APPROVE)
    relay = relay_tx("gnosisTx.json")
    out = signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, relay, None)
    assert list(out) == KEY_ORDER  # no chainId: none was given and none was needed
    assert out["contractTransactionHash"] == out["safeTxHash"] == UPSTREAM["gnosisTx.json"]
    assert out["sender"] == COW and out["safe"] == relay["safe"] and out["to"] == relay["to"]
    assert (out["value"], out["gasPrice"], out["data"], out["operation"]) == (
        "20000000000000000",
        "0",
        None,
        0,
    )
    assert (out["safeTxGas"], out["baseGas"], out["nonce"]) == (27845, 0, 3)
    assert out["signature"][-2:] in ("1b", "1c")
    preimage = typed_data_hash(GnosisSafeTx.from_json(relay).to_typed_data()).preimage
    assert recover(out["signature"], preimage) == COW
    assert "SafeTx [primary type]" in signer.screen.getvalue()


def test_a_missing_chain_id_is_filled_from_the_signer_and_echoed(
    keystore: KeystoreBackend, tmp_path: Path
) -> None:
    signer = Signer(keystore, tmp_path, APPROVE)
    relay = relay_tx("gnosisSafe_missing_chainid.json")
    out = signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, relay, None)
    assert out["chainId"] == "0x1" and out["contractTransactionHash"] == relay["safeTxHash"]
    tx = GnosisSafeTx.from_json(relay)
    tx.chain_id = 1
    assert recover(out["signature"], typed_data_hash(tx.to_typed_data()).preimage) == COW
    assert "addOwnerWithThreshold" in signer.screen.getvalue()  # validation messages reach the UI


def test_a_missing_chain_id_that_does_not_help_is_refused(keystore: KeystoreBackend, tmp_path: Path) -> None:
    signer = Signer(keystore, tmp_path, APPROVE, chain_id=5)
    relay = relay_tx("gnosisSafe_missing_chainid.json")
    tx = GnosisSafeTx.from_json(relay)
    tx.chain_id = 5
    have = "0x" + typed_data_hash(tx.to_typed_data()).digest.hex()
    with pytest.raises(SafeTxHashMismatch) as caught:
        signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, relay, None)
    assert str(caught.value) == f"mismatched safeTxHash; have {have} want {relay['safeTxHash']}"
    assert signer.screen.getvalue() == ""  # refused before any UI contact


def test_a_supplied_chain_id_that_does_not_match_is_refused(
    keystore: KeystoreBackend, tmp_path: Path
) -> None:
    """clef signed the hash it computed here, whatever the relay expected; we refuse."""
    signer = Signer(keystore, tmp_path, APPROVE)
    relay = dict(relay_tx("gnosisTxWithChainId.json"), chainId="5")
    tx = GnosisSafeTx.from_json(relay)
    have = "0x" + typed_data_hash(tx.to_typed_data()).digest.hex()
    with pytest.raises(SafeTxHashMismatch) as caught:
        signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, relay, None)
    assert (
        str(caught.value) == f"mismatched safeTxHash; have {have} want {UPSTREAM['gnosisTxWithChainId.json']}"
    )
    assert tx.chain_id == 5  # the relay's chain id was not replaced by the signer's


def test_a_tampered_field_is_refused_even_with_chain_id(keystore: KeystoreBackend, tmp_path: Path) -> None:
    signer = Signer(keystore, tmp_path, APPROVE)
    relay = dict(relay_tx("gnosisTxWithChainId.json"), value="1")
    with pytest.raises(SafeTxHashMismatch, match=r"^mismatched safeTxHash; have 0x[0-9a-f]{64} want 0x6619"):
        signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, relay, None)


def test_reject_mode_refuses_a_lowercase_recipient_and_advanced_mode_signs(
    keystore: KeystoreBackend, tmp_path: Path
) -> None:
    relay = relay_tx("gnosisTx.json")
    lowercase = dict(relay, to=relay["to"].lower())
    strict = Signer(keystore, tmp_path, APPROVE)
    with pytest.raises(ValidationFailed, match=r"^validation failed: Invalid checksum on recipient address$"):
        strict.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, lowercase, None)
    advanced = Signer(keystore, tmp_path, APPROVE, advanced=True)
    out = advanced.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, lowercase, None)
    assert out["to"] == relay["to"].lower() and out["contractTransactionHash"] == relay["safeTxHash"]
    assert "WARNING : Invalid checksum on recipient address" in advanced.screen.getvalue()


def test_denial_is_reported_and_shown(keystore: KeystoreBackend, tmp_path: Path) -> None:
    signer = Signer(keystore, tmp_path, "n\n")
    with pytest.raises(RequestDenied, match=r"^request denied$"):
        signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, relay_tx("gnosisTx.json"), None)
    assert "## Error \nrequest denied" in signer.screen.getvalue()


def _field(what: str, key: str, gotype: str) -> str:
    return f"json: cannot unmarshal {what} into Go struct field GnosisSafeTx.{key} of type {gotype}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": 5}, _field("number", "value", "math.Decimal256")),
        ({"value": "1.5"}, 'invalid hex or decimal integer "1.5"'),
        ({"baseGas": "5"}, 'math/big: cannot unmarshal "\\"5\\"" into a *big.Int'),
        ({"nonce": 1.5}, 'math/big: cannot unmarshal "1.5" into a *big.Int'),
        ({"operation": 256}, _field("number 256", "operation", "uint8")),
        ({"operation": "0"}, _field("string", "operation", "uint8")),
        (
            {"safe": "25a6c4BBd32B2424A9c99aEB0584Ad12045382B3"},
            _field("hex string without 0x prefix", "safe", "common.Address"),
        ),
        ({"to": None}, _field("non-string", "to", "common.Address")),
        ({"data": "0x0"}, _field("hex string of odd length", "data", "hexutil.Bytes")),
        ({"chainId": "0xzz"}, 'invalid hex or decimal integer "0xzz"'),
    ],
)
def test_decoding_errors_are_invalid_params_with_gos_texts(
    keystore: KeystoreBackend, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    signer = Signer(keystore, tmp_path, APPROVE)
    with pytest.raises(InvalidParams) as caught:
        signer.api.sign_gnosis_safe_tx(IPC_METADATA, ADDRESS, dict(relay_tx("gnosisTx.json"), **change), None)
    assert str(caught.value) == f"invalid argument 1: {message}"
    assert error_code(caught.value) == -32602


def test_not_an_object_is_a_type_error() -> None:
    with pytest.raises(
        InvalidParams, match=r"cannot unmarshal string into Go value of type core.GnosisSafeTx"
    ):
        GnosisSafeTx.from_json("safe")


def test_json_round_trip_keeps_values_and_drops_relay_extras() -> None:
    relay = relay_tx("gnosisTxWithChainId.json")
    tx = GnosisSafeTx.from_json(relay)
    # As after signing: an unset sender is written "0x", which Go (and we) cannot read back.
    tx.sender, tx.signature, tx.contract_transaction_hash = ADDRESS, b"\x01" * 65, b"\x02" * 32
    out = tx.to_json()
    assert list(out) == [*KEY_ORDER, "chainId"] and out["chainId"] == "0x4"
    assert "confirmations" not in out and "executor" not in out
    assert GnosisSafeTx.from_json(json.loads(json.dumps(out))).to_json() == out
    shouting = {k.upper(): v for k, v in relay.items()}  # Go matches keys case-insensitively
    assert GnosisSafeTx.from_json(shouting).to_json() == GnosisSafeTx.from_json(relay).to_json()


def test_go_quirks_in_the_typed_form() -> None:
    relay = dict(relay_tx("gnosisTx.json"), nonce=2**64 + 3, value="0x10")
    tx = GnosisSafeTx.from_json(relay)
    message = tx.to_typed_data().message or {}
    assert message["nonce"] == "3"  # big.Int.Uint64(): the low 64 bits only, as clef
    assert message["value"] == "16"  # Decimal256 accepts hex and is written in decimal
    assert message["data"] == b""  # null data is hashed as empty bytes
    args = tx.validation_args()
    assert (args.from_.original, args.to and args.to.original, args.gas, args.nonce) == (
        relay["safe"],
        relay["to"],
        27845,
        3,
    )


def test_payload_document_is_plain_json_that_eth_account_hashes_alike() -> None:
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    from signer.codecs.typed_request import plan_for

    relay = relay_tx("gnosisTxWithChainId.json")
    plan = plan_for(ADDRESS, GnosisSafeTx.from_json(relay).to_typed_data(), IPC_METADATA)
    document = json.loads(json.dumps(plan.payload.document))  # what a device backend receives
    assert document["message"]["data"] == relay["data"] and document["domain"]["chainId"] == 4
    signable = encode_typed_data(full_message=document)
    assert keccak(b"\x19" + signable.version + signable.header + signable.body) == plan.request.hash
