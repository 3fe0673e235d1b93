"""clef's transaction validator: vectors, message order and texts, mutations, reject mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

from signer.codecs.blobs import BlobSidecarError
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.sendtx import SendTxArgs
from signer.codecs.transactions import TransactionError
from signer.errors import ValidationFailed
from signer.types import ValidationInfo
from signer.validation import FourByteDB, TransactionRejected, reject_if_warnings, validate

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "clef"
FROM = "0x8A8eAFb1cf62BfBeb1741769DAE1a9dd47996192"
TO = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"
TRANSFER = "0xa9059cbb" + "00" * 12 + "ab" * 20 + f"{10**18:064x}"


def load_vector(name: str) -> Any:
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"clef vectors not present at {path}")
    return json.loads(path.read_text())


def mixed(text: str | None) -> MixedcaseAddress | None:
    """Go tests build addresses from strings with or without 0x; keep the original as given."""
    if text is None:
        return None
    return MixedcaseAddress(bytes.fromhex(text.removeprefix("0x")), text)


def run(request: dict[str, Any], selector: str | None = None, db: FourByteDB | None = None) -> list[str]:
    args = SendTxArgs.from_json({"from": FROM, **request})
    return [f"{m.typ}: {m.message}" for m in validate(args, selector, db or FourByteDB.load(None))]


def test_upstream_transaction_validation_vectors() -> None:
    cases = load_vector("inline/fourbyte_TestTransactionValidation.json")["cases"]
    for case in cases:
        args = SendTxArgs(
            from_=mixed(case["from"]) or MixedcaseAddress(bytes(20), ""),
            to=mixed(case["to"]),
            nonce=int(case["nonce"], 16),
            gas=int(case["gas"], 16),
            gas_price=int(case["gasPrice"], 16),
            value=int(case["value"], 16),
            data=bytes.fromhex(case["data"][2:]) if "data" in case else None,
            input=bytes.fromhex(case["input"][2:]) if "input" in case else None,
        )
        if "expect_error" in case:
            with pytest.raises(TransactionRejected) as info:
                validate(args, None, FourByteDB.empty())
            assert str(info.value) == case["expect_error"]
            continue
        messages = validate(args, None, FourByteDB.empty())
        assert len(messages) == case["expect_messages"], case.get("why")
        why = case.get("why", "")
        if why.startswith(("WARNING ", "CRITICAL ")):  # the vector names the message (plus a remark)
            assert why.startswith(f"{messages[0].typ} {messages[0].message}")


def test_clef_testdata_requests_in_default_mode() -> None:
    derived = load_vector("expected/expected_results.json")
    table = next(v for k, v in derived.items() if k.startswith("cmd/clef/testdata"))
    for name, expected in table.items():
        body = load_vector(name)
        args = SendTxArgs.from_json(body["params"][0])
        messages = validate(args, None, FourByteDB.load(None))
        if expected["expected_by_name"] == "success":
            reject_if_warnings(messages)
            assert messages[-1].message.startswith("Transaction invokes the following method: ")
        else:
            with pytest.raises(ValidationFailed) as info:
                reject_if_warnings(messages)
            assert str(info.value) == expected["derived"]


def test_input_moves_to_data() -> None:
    args = SendTxArgs.from_json({"from": FROM, "to": TO, "gasPrice": "0x1", "input": "0x"})
    assert validate(args, None, FourByteDB.load(None)) == []
    assert args.input is None and args.data == b""
    out = args.to_json()
    assert out["data"] == "0x" and "input" not in out


def test_identical_data_and_input_are_accepted() -> None:
    assert run({"to": TO, "gasPrice": "0x1", "data": TRANSFER, "input": TRANSFER})[0].startswith("Info: ")


@pytest.mark.parametrize(
    ("fees", "message"),
    [
        ({}, "CRITICAL: Neither 'gasPrice' nor 'maxFeePerGas' specified."),
        ({"maxFeePerGas": "0x1"}, "CRITICAL: Neither 'gasPrice' nor 'maxPriorityFeePerGas' specified."),
        (
            {"gasPrice": "0x1", "maxFeePerGas": "0x1"},
            "CRITICAL: Both 'gasPrice' and 'maxFeePerGas' specified.",
        ),
        (
            {"gasPrice": "0x1", "maxPriorityFeePerGas": "0x1"},
            "CRITICAL: Both 'gasPrice' and 'maxPriorityFeePerGas' specified.",
        ),
    ],
)
def test_fee_combinations(fees: dict[str, str], message: str) -> None:
    assert run({"to": TO, **fees}) == [message]


def test_messages_keep_clefs_order() -> None:
    messages = run({"to": TO.lower(), "data": "0x0102"})
    assert messages == [
        "WARNING: Invalid checksum on recipient address",
        "CRITICAL: Neither 'gasPrice' nor 'maxFeePerGas' specified.",
        "WARNING: Transaction data is not valid ABI (missing the 4 byte call prefix)",
    ]
    args = SendTxArgs.from_json({"from": FROM, "to": TO.lower(), "data": "0x0102"})
    with pytest.raises(ValidationFailed) as info:
        reject_if_warnings(validate(args, None, FourByteDB.empty()))
    assert str(info.value) == (
        "validation failed: Invalid checksum on recipient address,"
        "Neither 'gasPrice' nor 'maxFeePerGas' specified.,"
        "Transaction data is not valid ABI (missing the 4 byte call prefix)"
    )


def test_info_never_rejects() -> None:
    reject_if_warnings([ValidationInfo("Info", "fine")])


def test_contract_creation_stops_before_fee_and_calldata_checks() -> None:
    assert run({"to": None, "data": "0x" + "60" * 50}) == []
    assert run({"to": None, "data": "0x6001"}, selector="transfer(address,uint256)") == [
        "WARNING: Transaction will create a contract, but the payload is suspiciously small (2 bytes)",
        "WARNING: Transaction will create a contract, but method selector supplied, "
        "indicating an intent to call a method",
    ]
    assert run({"to": None}) == ["CRITICAL: Transaction will create a contract with empty code"]


def test_known_selector_is_decoded_for_the_ui() -> None:
    recipient = to_checksum_address("0x" + "ab" * 20)
    assert run({"to": TO, "gasPrice": "0x1", "data": TRANSFER}) == [
        "Info: Transaction invokes the following method: "
        f'"transfer(address: {recipient},uint256: 1000000000000000000)"'
    ]


def test_unknown_selector_warns_with_the_id() -> None:
    data = "0xdeadbeef" + "00" * 32
    assert run({"to": TO, "gasPrice": "0x1", "data": data}) == [
        "WARNING: Transaction contains data, but the ABI signature could not be found: "
        "signature deadbeef not found"
    ]


def test_length_warning_does_not_stop_the_lookup() -> None:
    messages = run({"to": TO, "gasPrice": "0x1", "data": TRANSFER + "00"})
    assert (
        messages[0]
        == "WARNING: Transaction data is not valid ABI (length should be a multiple of 32 (was 65))"
    )
    assert messages[1].startswith(
        "WARNING: Transaction contains data, but provided ABI signature could not be verified: "
        "invalid call data; length should be a multiple of 32 bytes (was 65)"
    )


def test_stuffed_calldata_is_caught_by_reencoding() -> None:
    messages = run({"to": TO, "gasPrice": "0x1", "data": TRANSFER + "00" * 32})
    assert len(messages) == 1
    assert messages[0].startswith(
        "WARNING: Transaction contains data, but provided ABI signature could not be verified: "
        "WARNING: Supplied data is stuffed with extra data. \nWant "
    )
    assert messages[0].endswith("\nfor method transfer(address,uint256)")


def test_supplied_selector_is_verified_and_learned(tmp_path: Path) -> None:
    db = FourByteDB.empty(tmp_path / "4byte-custom.json")
    data = "0xa52c101e" + f"{18:064x}"
    messages = run({"to": TO, "gasPrice": "0x1", "data": data}, selector="send(uint256)", db=db)
    assert messages == ['Info: Transaction invokes the following method: "send(uint256: 18)"']
    assert db.selector(bytes.fromhex("a52c101e")) == "send(uint256)"
    assert json.loads((tmp_path / "4byte-custom.json").read_text()) == {"a52c101e": "send(uint256)"}
    # The learned selector now decodes the same call without one.
    assert run({"to": TO, "gasPrice": "0x1", "data": data}, db=db) == messages


def test_supplied_selector_that_does_not_match() -> None:
    messages = run({"to": TO, "gasPrice": "0x1", "data": TRANSFER}, selector="send(uint256)")
    assert messages == [
        "WARNING: Transaction contains data, but provided ABI signature could not be matched: "
        "no method with id: 0xa9059cbb"
    ]


def test_blob_sidecar_errors_are_hard_errors() -> None:
    request: dict[str, Any] = {"from": FROM, "to": TO, "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x1"}
    request["blobs"] = ["0x" + "00" * 131072]
    request["proofs"] = []
    with pytest.raises(BlobSidecarError, match="blob proofs provided while commitments were not"):
        validate(SendTxArgs.from_json(request), None, FourByteDB.empty())
    no_to = dict(request, to=None, blobVersionedHashes=["0x01" + "00" * 31])
    del no_to["blobs"], no_to["proofs"]
    with pytest.raises(TransactionError, match="recipient must be set for blob transactions"):
        validate(SendTxArgs.from_json(no_to), None, FourByteDB.empty())


def test_ambiguous_data_is_checked_before_anything_else() -> None:
    args = SendTxArgs.from_json(
        {"from": FROM, "to": None, "data": "0x01", "input": "0x02", "blobVersionedHashes": []}
    )
    with pytest.raises(TransactionRejected, match="ambiguous request"):
        validate(args, None, FourByteDB.empty())


AUTH_KEY = b"\x07" * 32
DELEGATE = "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B"


def set_code_request(**auth_changes: str) -> dict[str, Any]:
    signed = Account.sign_authorization({"chainId": 1, "address": DELEGATE, "nonce": 4}, AUTH_KEY)
    auth = {"chainId": "0x1", "address": DELEGATE, "nonce": "0x4"}
    auth.update(yParity=hex(signed.y_parity), r=hex(signed.r), s=hex(signed.s))
    auth.update(auth_changes)
    return {"to": TO, "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x1", "authorizationList": [auth]}


def test_set_code_authorizations_are_described() -> None:
    authority = Account.from_key(AUTH_KEY).address
    assert run(set_code_request()) == [
        f"Info: EIP-7702 authorization 0: {authority} delegates its code to {DELEGATE} (chainId 1, nonce 4)"
    ]


def test_set_code_authorization_with_a_bad_signature_warns() -> None:
    assert run(set_code_request(s="0x" + "f" * 64)) == [
        "WARNING: EIP-7702 authorization 0 has an invalid signature and will be skipped"
    ]
