"""account_signData request building (clef-compat §2.5), checked against independent formulas."""

from __future__ import annotations

import base64

import pytest
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_intended_validator
from eth_utils.crypto import keccak

from signer.codecs.gomarshal import go_text as go_utf8
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.signdata import plan_sign_data
from signer.errors import InvalidRequestData
from signer.types import Metadata

ADDR = MixedcaseAddress.parse("0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6")
META = Metadata()


def test_text_plain_hash_matches_eth_account() -> None:
    plan = plan_sign_data("text/plain", ADDR, "0x68656c6c6f", META)
    assert plan.request.hash == _hash_eip191_message(encode_defunct(primitive=b"hello"))
    assert plan.v_offset == 27
    assert (
        plan.request.to_json()["raw_data"]
        == base64.b64encode(b"\x19Ethereum Signed Message:\n5hello").decode()
    )
    assert plan.request.to_json()["messages"] == [
        {"name": "message", "value": "\x19Ethereum Signed Message:\n5hello", "type": "text/plain"}
    ]


def test_unknown_content_type_is_text_plain_but_keeps_its_name() -> None:
    plan = plan_sign_data("data/plain", ADDR, "0x01", META)
    assert plan.request.content_type == "data/plain"
    assert plan.request.hash == keccak(b"\x19Ethereum Signed Message:\n1\x01")


def test_validator_matches_eth_account_and_clef_messages() -> None:
    validator = "0x" + "ab" * 20
    plan = plan_sign_data("data/validator", ADDR, {"address": validator, "message": "0xdeadbeef"}, META)
    signable = encode_intended_validator(bytes.fromhex(validator[2:]), primitive=bytes.fromhex("deadbeef"))
    expected = _hash_eip191_message(signable)
    assert plan.request.hash == expected
    names = [m.name for m in plan.request.messages]
    assert names[1:] == [
        "Intended validator address",
        "Application-specific data",
        "Full message for signing",
    ]
    assert plan.request.messages[2].value == "0xdeadbeef"


def test_short_validator_address_is_left_padded() -> None:
    plan = plan_sign_data("data/validator", ADDR, {"address": "0x01", "message": "0x02"}, META)
    assert plan.request.raw_data == b"\x19\x00" + b"\x00" * 19 + b"\x01" + b"\x02"


@pytest.mark.parametrize(
    ("content_type", "data", "message"),
    [
        ("text/plain", "", "empty hex string"),
        ("text/plain", "abcd", "hex string without 0x prefix"),
        ("text/plain", "0xabc", "hex string of odd length"),
        ("text/plain", "0xzz", "invalid hex string"),
        ("text/plain", {"a": 1}, "wrong type map[string]interface {}"),
        ("text/plain", 5, "wrong type float64"),
        ("text/plain", None, "wrong type <nil>"),
        ("data/validator", "0x00", "validator input is not a map[string]interface{}"),
        ("data/validator", {"message": "0x01"}, "validator address error: wrong type <nil>"),
        ("data/validator", {"address": "0x", "message": "0x01"}, "validator address is undefined"),
        ("data/validator", {"address": "0x01", "message": "0x"}, "message is undefined"),
        (
            "data/validator",
            {"address": "0x01", "message": "01"},
            "message error: hex string without 0x prefix",
        ),
        ("application/x-clique-header", "0x01", "rlp: expected input list for types.Header"),
    ],
)
def test_clef_errors(content_type: str, data: object, message: str) -> None:
    with pytest.raises(InvalidRequestData) as info:
        plan_sign_data(content_type, ADDR, data, META)
    assert str(info.value) == message


def test_go_utf8_replaces_each_bad_byte() -> None:
    assert go_utf8(b"a\xff\xfeb") == "a\ufffd\ufffdb"
    assert go_utf8("é".encode()) == "é"
    assert go_utf8(b"\xe2\x82") == "\ufffd\ufffd"  # Go: one U+FFFD per byte of a truncated sequence
