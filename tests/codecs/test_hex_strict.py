"""Hex and type-name parsing is exact to the last character (issue 12, finding 8).

Python's ``$`` matches before a final newline, so patterns anchored with it accepted "0x1\\n" as
the number 1, and crashed later on "0x" + 39 digits + "\\n" (``bytes.fromhex`` refuses what the
regex let through). Go's hexutil refuses all of these with "invalid hex string".
"""

from __future__ import annotations

import pytest

from backends.ledger.eip712 import Unencodable, _kind, _split
from signer.codecs import gojson
from signer.codecs.hexutil import HexError, decode_address, decode_bytes, decode_quantity
from signer.rpc.httpchecks import CorsPolicy, content_length
from signer.validation.selector import ArgSpec, SelectorError, build_type

TRAILERS = ["\n", "\r", " ", "\t", "\x00", "\u0665"]


@pytest.mark.parametrize("trailer", TRAILERS)
def test_quantity_with_a_trailing_character_is_refused(trailer: str) -> None:
    with pytest.raises(HexError, match="invalid hex string"):
        decode_quantity("0x1" + trailer)
    with pytest.raises(HexError, match="invalid hex string"):
        decode_quantity("0x1" + trailer, bits=64)


@pytest.mark.parametrize("trailer", TRAILERS)
def test_bytes_and_address_with_a_trailing_character_are_refused(trailer: str) -> None:
    with pytest.raises(HexError, match="invalid hex string"):
        decode_bytes("0xabc" + trailer)
    with pytest.raises(HexError, match="invalid hex string"):
        decode_address("0x" + "ab" * 19 + "a" + trailer)
    with pytest.raises(gojson.GoJSONError, match="invalid hex string"):
        gojson.fixed_bytes("0x" + "ab" * 15 + "a" + trailer, "hash", 16, "common.Hash")


def test_well_formed_values_still_decode() -> None:
    assert decode_quantity("0x1") == 1
    assert decode_bytes("0xabcd") == b"\xab\xcd"
    assert decode_address("0x" + "Ab" * 20) == bytes.fromhex("ab" * 20)
    assert gojson.fixed_bytes("0x" + "01" * 16, "hash", 16, "common.Hash") == b"\x01" * 16


@pytest.mark.parametrize("name", ["uint256\n", "uint8[2]\n", "bytes32\n"])
def test_abi_type_names_with_a_trailing_newline_are_unsupported(name: str) -> None:
    with pytest.raises(SelectorError):
        build_type(ArgSpec("", name, ()))


def test_ledger_type_names_are_exact() -> None:
    with pytest.raises(Unencodable):
        _kind({}, "uint256\n")
    # A non-ASCII digit is not a size: the Ledger would hash another type name.
    with pytest.raises(Unencodable):
        _kind({}, "uint\u0668")
    assert _split("uint8[2]\n") == ("uint8[2]\n", [])
    assert _split("uint8[\u0662]") == ("uint8[\u0662]", [])
    assert _split("uint8[2][]") == ("uint8", [2, None])


def test_preflight_does_not_echo_a_header_list_ending_in_a_newline() -> None:
    policy = CorsPolicy(["https://a.example"])
    echoed = dict(policy.preflight("https://a.example", "POST", "x-a\n"))
    assert "Access-Control-Allow-Headers" not in echoed
    assert dict(policy.preflight("https://a.example", "POST", "x-a"))["Access-Control-Allow-Headers"] == "x-a"


@pytest.mark.parametrize("header", ["+5", "1_0", " 5", "5 ", "-1", "\u0665", "\u00b2", ""])
def test_content_length_accepts_ascii_digits_only(header: str) -> None:
    assert content_length(header) is None


def test_content_length_values() -> None:
    assert content_length(None) == 0
    assert content_length("0") == 0
    assert content_length("5242880") == 5242880
