"""PKCS#11 formats that need no token: CKA_EC_POINT parsing, key templates, RFC 7512 URIs."""

from __future__ import annotations

import coincurve
import pytest
from asn1crypto.core import OctetString
from eth_account import Account as EthAccount
from pkcs11 import Attribute

from backends.pkcs11.keys import (
    SECP256K1_PARAMS,
    BadEcPoint,
    encode_ec_point,
    import_templates,
    is_secp256k1,
    key_ref_of,
    parse_ec_point,
)
from backends.pkcs11.uri import Pkcs11Uri, Pkcs11UriError, account_uri, build, parse, vault_key
from backends.secp256k1 import SECP256K1_N

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
POINT = coincurve.PrivateKey(KEY).public_key.format(compressed=False)
# The P-256 base point: a valid EC point, but not on secp256k1.
P256_G = bytes.fromhex(
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
)


def test_ec_point_forms() -> None:
    assert parse_ec_point(OctetString(POINT).dump()) == POINT  # DER, what the standard says
    assert parse_ec_point(POINT) == POINT  # raw, what some modules return
    compressed = coincurve.PublicKey(POINT).format(compressed=True)
    assert parse_ec_point(compressed) == POINT
    assert parse_ec_point(OctetString(compressed).dump()) == POINT
    assert encode_ec_point(POINT) == b"\x04\x41" + POINT


@pytest.mark.parametrize(
    "value",
    [
        POINT[:-1] + bytes([POINT[-1] ^ 1]),  # y changed: off the curve
        P256_G,
        OctetString(P256_G).dump(),
        b"\x04" + b"\x00" * 64,
        POINT[1:],  # no 04 prefix
        b"\x04\x42" + POINT,  # DER length that does not match
        b"",
    ],
)
def test_bad_ec_points_are_refused(value: bytes) -> None:
    with pytest.raises(BadEcPoint):
        parse_ec_point(value)


def test_key_ref_derives_the_ethereum_address() -> None:
    ref = key_ref_of("t", b"\x01", "k", OctetString(POINT).dump())
    assert ref.address == EthAccount.from_key(KEY).address
    assert ref.public_key == POINT


def test_curve_parameters() -> None:
    assert is_secp256k1(SECP256K1_PARAMS)
    assert not is_secp256k1(bytes.fromhex("06082a8648ce3d030107"))  # P-256
    assert not is_secp256k1(None)


def test_import_templates_keep_the_key_sensitive() -> None:
    private, public = import_templates(KEY, b"\x09", "imported")
    assert private[Attribute.SENSITIVE] is True and private[Attribute.EXTRACTABLE] is False
    assert private[Attribute.PRIVATE] is True and public[Attribute.PRIVATE] is False
    assert private[Attribute.ID] == public[Attribute.ID] == b"\x09"
    assert parse_ec_point(public[Attribute.EC_POINT]) == POINT
    for bad in (b"\x00" * 32, SECP256K1_N.to_bytes(32, "big"), KEY[:31]):
        with pytest.raises(ValueError):
            import_templates(bad, b"\x09", "x")


def test_account_uri_round_trip() -> None:
    text = account_uri("My Token;1", "key/é", bytes([0, 0x41, 0xFF]))
    assert text == "pkcs11:token=My%20Token%3B1;object=key%2F%C3%A9;id=%00%41%FF"
    assert parse(text) == Pkcs11Uri(token="My Token;1", object="key/é", id=bytes([0, 0x41, 0xFF]))
    assert vault_key("hsm") == "pkcs11:token=hsm"


def test_uri_parsing() -> None:
    uri = parse("pkcs11:serial=42;token=prod;type=private;id=%01")
    assert (uri.token, uri.id, uri.type, uri.other) == ("prod", b"\x01", "private", (("serial", "42"),))
    assert build(uri) == "pkcs11:token=prod;serial=42;type=private;id=%01"
    assert parse("pkcs11:") == Pkcs11Uri()


@pytest.mark.parametrize(
    "text",
    [
        "keystore:///tmp/k.json",
        "pkcs11:token=a?pin-value=123456",
        "pkcs11:token=a;token=b",
        "pkcs11:token",
        "pkcs11:token=%FF",
    ],
)
def test_bad_uris_are_refused(text: str) -> None:
    with pytest.raises(Pkcs11UriError) as info:
        parse(text)
    assert "123456" not in str(info.value)
