"""SendTxArgs: geth's JSON decoding rules and error texts, clef's output key order, the UI diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from signer.codecs.gojson import GoJSONError
from signer.codecs.sendtx import SendTxArgs, diff_transactions
from signer.errors import InvalidParams, error_code

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "clef"

FROM = "0x8A8eAFb1cf62BfBeb1741769DAE1a9dd47996192"
TO = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"

# What geth's SignTx sends for an eth_sendTransaction (§8 item 5).
GETH_REQUEST: dict[str, Any] = {
    "from": FROM,
    "to": TO,
    "gas": "0x5208",
    "gasPrice": None,
    "maxFeePerGas": "0x6fc23ac00",
    "maxPriorityFeePerGas": "0x3b9aca00",
    "value": "0xde0b6b3a7640000",
    "nonce": "0x7",
    "input": "0x",
    "accessList": [],
    "chainId": "0x1",
}

CLEF_KEY_ORDER = ["from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce"]


def load_vector(name: str) -> Any:
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"clef vectors not present at {path}")
    return json.loads(path.read_text())


def test_geth_request_decodes_and_keeps_clef_key_order() -> None:
    args = SendTxArgs.from_json(GETH_REQUEST)
    assert args.from_.checksummed == FROM and args.from_.valid_checksum()
    assert args.to is not None and args.to.original == TO
    assert (args.gas, args.nonce, args.value) == (21000, 7, 10**18)
    assert args.gas_price is None and args.max_fee_per_gas == 30 * 10**9
    assert args.input == b"" and args.data is None
    assert args.access_list == [] and args.chain_id == 1
    out = args.to_json()
    assert list(out) == [*CLEF_KEY_ORDER, "input", "accessList", "chainId"]
    assert out["gasPrice"] is None and out["input"] == "0x" and out["accessList"] == []
    assert SendTxArgs.from_json(out).to_json() == out


def test_txargs_vectors_roundtrip_and_ignore_geth_tx_fields() -> None:
    for case in load_vector("inline/apitypes_TestTxArgs.json"):
        args = SendTxArgs.from_json(case["input"])
        out = args.to_json()
        for ignored in ("type", "v", "r", "s", "yParity"):
            assert ignored not in out
        assert SendTxArgs.from_json(out).to_json() == out
        assert out["chainId"] == "0x7" and out["maxFeePerBlobGas"] == "0x3b9aca00"


def test_absent_fields_default_like_clef() -> None:
    args = SendTxArgs.from_json({})
    assert args.from_.address == bytes(20)
    out = args.to_json()
    assert out == {
        "from": "0x",
        "to": None,
        "gas": "0x0",
        "gasPrice": None,
        "maxFeePerGas": None,
        "maxPriorityFeePerGas": None,
        "value": "0x0",
        "nonce": "0x0",
    }


def test_omitempty_rules() -> None:
    args = SendTxArgs.from_json(
        {
            "from": FROM,
            "data": "0x",
            "chainId": "0x0",
            "blobVersionedHashes": [],
            "blobs": [],
            "blobVersion": 0,
        }
    )
    out = args.to_json()
    assert out["data"] == "0x" and out["chainId"] == "0x0"  # pointers: kept when set, even empty/zero
    for omitted in (
        "input",
        "accessList",
        "blobVersionedHashes",
        "blobs",
        "blobVersion",
        "authorizationList",
    ):
        assert omitted not in out  # slices and zero bytes: omitted when empty
    assert args.blob_versioned_hashes == []  # ... but still present for type inference


def test_keys_match_case_insensitively_and_unknown_keys_are_ignored() -> None:
    args = SendTxArgs.from_json({"FROM": FROM, "Gas": "0x1", "gas": "0x2", "whatever": 1, "Type": "0x2"})
    assert args.from_.checksummed == FROM
    assert args.gas == 2  # the later key wins, as in Go


def test_mixedcase_address_keeps_the_callers_spelling() -> None:
    lower = FROM.lower()
    args = SendTxArgs.from_json({"from": lower, "to": "0X" + TO[2:]})
    assert not args.from_.valid_checksum()
    assert args.to_json()["from"] == lower
    assert args.to_json()["to"] == TO  # "0X" prefix written as "0x", case of the digits kept


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "gas",
            "5208",
            "hex string without 0x prefix into Go struct field SendTxArgs.gas of type hexutil.Uint64",
        ),
        ("gas", "0x", 'hex string "0x" into Go struct field SendTxArgs.gas of type hexutil.Uint64'),
        ("nonce", "0x01", "hex number with leading zero digits into Go struct field SendTxArgs.nonce"),
        ("gas", "0x1" + "0" * 16, "hex number > 64 bits into Go struct field SendTxArgs.gas"),
        (
            "value",
            "0x1" + "0" * 64,
            "hex number > 256 bits into Go struct field SendTxArgs.value of type *hexutil.Big",
        ),
        ("value", "-0x1", "hex string without 0x prefix into Go struct field SendTxArgs.value"),
        ("value", "0xzz", "invalid hex string into Go struct field SendTxArgs.value"),
        ("value", 5, "non-string into Go struct field SendTxArgs.value of type *hexutil.Big"),
        ("value", None, "non-string into Go struct field SendTxArgs.value of type *hexutil.Big"),
        ("from", None, "non-string into Go struct field SendTxArgs.from of type common.Address"),
        # A wrong length is geth's plain error: no "json: cannot unmarshal" wrapping (real clef).
        ("to", "0x", "hex string has length 0, want 40 for common.Address"),
        ("to", "0x1234", "hex string has length 4, want 40 for common.Address"),
        (
            "data",
            "0x123",
            "hex string of odd length into Go struct field SendTxArgs.data of type hexutil.Bytes",
        ),
        ("input", "abcd", "hex string without 0x prefix into Go struct field SendTxArgs.input"),
        ("accessList", "0x", "json: cannot unmarshal string into Go struct field SendTxArgs.accessList"),
        ("blobVersionedHashes", ["0x01"], "hex string has length 2, want 64 for common.Hash"),
        ("blobs", ["0x00"], "hex string has length 2, want 262144 for kzg4844.Blob"),
        ("commitments", "0x", "cannot unmarshal string into Go struct field SendTxArgs.commitments"),
        (
            "blobVersion",
            256,
            "cannot unmarshal number 256 into Go struct field SendTxArgs.blobVersion of type uint8",
        ),
        ("blobVersion", "1", "cannot unmarshal string into Go struct field SendTxArgs.blobVersion"),
        ("blobVersion", 1.5, "cannot unmarshal number 1.5 into Go struct field SendTxArgs.blobVersion"),
    ],
)
def test_bad_values_give_gos_error(key: str, value: object, message: str) -> None:
    with pytest.raises(GoJSONError) as info:
        SendTxArgs.from_json({"from": FROM, key: value})
    assert message in str(info.value)
    if "has length" not in message:
        assert str(info.value).startswith("json: cannot unmarshal ")
    else:
        assert str(info.value) == message
    assert isinstance(info.value, InvalidParams) and error_code(info.value) == -32602


def test_empty_string_quantity_is_zero_as_in_geth() -> None:
    assert SendTxArgs.from_json({"value": "", "gas": ""}).value == 0


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(
        GoJSONError, match=r"cannot unmarshal array into Go value of type apitypes\.SendTxArgs"
    ):
        SendTxArgs.from_json([])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"storageKeys": []}, "missing required field 'address' for AccessTuple"),
        ({"address": TO}, "missing required field 'storageKeys' for AccessTuple"),
        (
            {"address": TO, "storageKeys": ["0x12"]},
            "^hex string has length 2, want 64 for common.Hash$",
        ),
        (None, "missing required field 'address' for AccessTuple"),
        (7, "cannot unmarshal number into Go value of type types.AccessTuple"),
    ],
)
def test_access_list_entries(entry: object, message: str) -> None:
    with pytest.raises(GoJSONError, match=message):
        SendTxArgs.from_json({"accessList": [entry]})


def test_access_list_roundtrip_lowercases_addresses() -> None:
    key = "0x" + "ab" * 32
    args = SendTxArgs.from_json({"accessList": [{"address": TO, "storageKeys": [key]}]})
    assert args.to_json()["accessList"] == [{"address": TO.lower(), "storageKeys": [key]}]


AUTH = {"chainId": "0x1", "address": TO, "nonce": "0x0", "yParity": "0x1", "r": "0x5", "s": "0x6"}


def test_authorization_list_is_carried() -> None:
    args = SendTxArgs.from_json({"authorizationList": [AUTH]})
    assert args.authorization_list is not None
    (auth,) = args.authorization_list
    assert (auth.chain_id, auth.nonce, auth.y_parity, auth.r, auth.s) == (1, 0, 1, 5, 6)
    assert args.to_json()["authorizationList"] == [dict(AUTH, address=TO.lower())]


@pytest.mark.parametrize("missing", ["chainId", "address", "nonce", "yParity", "r", "s"])
def test_authorization_fields_are_required(missing: str) -> None:
    entry = {k: v for k, v in AUTH.items() if k != missing}
    with pytest.raises(GoJSONError, match=f"missing required field '{missing}' for SetCodeAuthorization"):
        SendTxArgs.from_json({"authorizationList": [entry]})


def test_authorization_values_are_bounded() -> None:
    with pytest.raises(GoJSONError, match="yParity 256 out of range"):
        SendTxArgs.from_json({"authorizationList": [dict(AUTH, yParity="0x100")]})
    with pytest.raises(GoJSONError, match="hex number > 256 bits"):
        SendTxArgs.from_json({"authorizationList": [dict(AUTH, r="0x1" + "0" * 64)]})


def test_diff_reports_clefs_messages_in_order() -> None:
    before = SendTxArgs.from_json(dict(GETH_REQUEST, data="0x", input=None))
    after = dict(
        GETH_REQUEST, to=TO.lower(), gas="0x5209", maxFeePerGas="0x1", value="0x0", input="0x01", nonce="0x8"
    )
    assert diff_transactions(before, after) == [
        "Recipient-account changed by UI",
        "Gas changed by UI",
        "maxFeePerGas changed by UI",
        "Value changed by UI",
        "Data changed by UI",
        "Nonce changed by UI",
    ]
    assert diff_transactions(before, before.to_json()) == []
    # Same calldata under the other name is not a change.
    assert diff_transactions(before, dict(before.to_json(), data=None, input="0x")) == []
    assert diff_transactions(GETH_REQUEST, dict(GETH_REQUEST, gasPrice="0x1", **{"from": TO})) == [
        "Sender-account changed by UI",
        "GasPrice changed by UI",
    ]
