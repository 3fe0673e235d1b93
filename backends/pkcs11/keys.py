"""secp256k1 key objects on a token: parameters, EC_POINT parsing, and the templates we create.

``CKA_EC_POINT`` is by the standard a DER OCTET STRING around the point (SoftHSM: 67 bytes
``04 41 04‖X‖Y``), but several modules return the bare point. Both are accepted; either way the
point is checked to lie on secp256k1 before an address is derived from it, so a P-256 key or a
garbled attribute can never turn into an account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import coincurve
from asn1crypto.core import OctetString
from pkcs11 import Attribute, KeyType, ObjectClass

from backends.secp256k1 import SECP256K1_N, address_of_public_key

# DER of the named-curve OID 1.3.132.0.10 (secp256k1), as CKA_EC_PARAMS holds it.
SECP256K1_PARAMS = bytes.fromhex("06052b8104000a")


class BadEcPoint(ValueError):
    """CKA_EC_POINT is neither a DER-wrapped nor a raw point on secp256k1."""


def parse_ec_point(value: bytes) -> bytes:
    """The 65-byte uncompressed point from a CKA_EC_POINT value (DER-wrapped or raw)."""
    value = bytes(value)
    point = value
    # A raw point is 65 (or 33) bytes starting 04 (or 02/03); the DER form is 2 bytes longer
    # and starts with the OCTET STRING tag 04 and its length. Lengths tell them apart.
    if len(value) in (67, 35) and value[0] == 0x04 and value[1] == len(value) - 2:
        try:
            point = bytes(OctetString.load(value).native)
        except ValueError as exc:
            raise BadEcPoint(f"CKA_EC_POINT is not valid DER: {exc}") from exc
    if not (len(point) == 65 and point[0] == 4) and not (len(point) == 33 and point[0] in (2, 3)):
        raise BadEcPoint(f"CKA_EC_POINT has an unexpected form ({len(value)} bytes)")
    try:
        # coincurve refuses points that are not on the curve.
        return bytes(coincurve.PublicKey(point).format(compressed=False))
    except ValueError as exc:
        raise BadEcPoint("CKA_EC_POINT is not a point on secp256k1") from exc


def encode_ec_point(public_key: bytes) -> bytes:
    """CKA_EC_POINT as the standard wants it: DER OCTET STRING around the uncompressed point."""
    return bytes(OctetString(public_key).dump())


def is_secp256k1(ec_params: bytes | None) -> bool:
    return ec_params is not None and bytes(ec_params) == SECP256K1_PARAMS


@dataclass(frozen=True)
class KeyRef:
    """A key pair found on a token: how to find the private half, and the cached public key."""

    token: str
    key_id: bytes | None
    label: str | None
    public_key: bytes
    address: str


def new_key_id() -> bytes:
    """A random CKA_ID links the two halves; 16 bytes make a collision with other keys implausible."""
    return os.urandom(16)


def default_label(key_id: bytes) -> str:
    return f"sealward-{key_id.hex()[:8]}"


def public_template(key_id: bytes, label: str) -> dict[Any, Any]:
    # PRIVATE=False so the account list works without a PIN (public keys are not secrets).
    return {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: False,
        Attribute.VERIFY: True,
        Attribute.ID: key_id,
        Attribute.LABEL: label,
    }


def private_template(key_id: bytes, label: str) -> dict[Any, Any]:
    # SENSITIVE + not EXTRACTABLE: the token never hands the scalar out, wrapped or not.
    # DERIVE is left off: an ECDH oracle on a signing key is not something we need to offer.
    return {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.SIGN: True,
        Attribute.DERIVE: False,
        Attribute.ID: key_id,
        Attribute.LABEL: label,
    }


def import_templates(private_key: bytes, key_id: bytes, label: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(private, public) object templates for importing ``private_key``; raises ValueError if invalid."""
    if len(private_key) != 32 or not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
        raise ValueError("a secp256k1 private key is 32 bytes between 1 and n-1")
    public_key = coincurve.PrivateKey(private_key).public_key.format(compressed=False)
    private = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: SECP256K1_PARAMS,
        Attribute.VALUE: private_key,
        **private_template(key_id, label),
    }
    public = {
        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: SECP256K1_PARAMS,
        Attribute.EC_POINT: encode_ec_point(public_key),
        **public_template(key_id, label),
    }
    return private, public


def key_ref_of(token: str, key_id: bytes | None, label: str | None, ec_point: bytes) -> KeyRef:
    public_key = parse_ec_point(ec_point)
    return KeyRef(token, key_id or None, label or None, public_key, address_of_public_key(public_key))
