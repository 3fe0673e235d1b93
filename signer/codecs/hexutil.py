"""geth's ``hexutil`` rules, error strings included: the encodings clef accepts on the wire (§2.0)."""

from __future__ import annotations

import re

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from signer.errors import InvalidRequestData

# fullmatch, never "$": Python's "$" also matches before a final newline, so "0x1\n" would pass.
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")


class HexError(InvalidRequestData):
    """A value that does not follow geth's hex rules; the message is geth's."""


class HexLengthError(HexError):
    """A fixed-size value of the wrong length. geth returns this one as a plain error, so Go's
    JSON decoder reports it without the ``json: cannot unmarshal ...`` wrapping."""


def _has_prefix(text: str) -> bool:
    return text[:2] in ("0x", "0X")


def decode_bytes(text: object, *, empty_ok: bool = True) -> bytes:
    """``hexutil.Bytes``/``hexutil.Decode``: strict 0x-prefixed, even-length hex.

    With ``empty_ok`` (JSON ``hexutil.Bytes``), "" and "0x" are empty bytes; without it (the
    ``hexutil.Decode`` used for signData payloads) "" gives ``empty hex string``.
    """
    if not isinstance(text, str):
        raise HexError(f"wrong type {go_type_name(text)}")
    if text == "":
        if empty_ok:
            return b""
        raise HexError("empty hex string")
    if not _has_prefix(text):
        raise HexError("hex string without 0x prefix")
    digits = text[2:]
    if len(digits) % 2:
        raise HexError("hex string of odd length")
    if not _HEX_DIGITS.fullmatch(digits):
        raise HexError("invalid hex string")
    return bytes.fromhex(digits)


def decode_quantity(text: object, bits: int = 256) -> int:
    """``hexutil.Big`` (bits=256) / ``hexutil.Uint64`` (bits=64). "" decodes as 0, as in geth."""
    kind = "*hexutil.Big" if bits == 256 else "hexutil.Uint64"
    if not isinstance(text, str):
        raise HexError(f"json: cannot unmarshal non-string into Go value of type {kind}")
    if text == "":
        return 0
    if not _has_prefix(text):
        raise HexError("hex string without 0x prefix")
    digits = text[2:]
    if digits == "":
        raise HexError('hex string "0x"')
    if len(digits) > 1 and digits[0] == "0":
        raise HexError("hex number with leading zero digits")
    if len(digits) > bits // 4:
        raise HexError(f"hex number > {bits} bits")
    if not _HEX_DIGITS.fullmatch(digits):
        raise HexError("invalid hex string")
    return int(digits, 16)


def encode_quantity(value: int) -> str:
    return hex(value)


def encode_bytes(data: bytes) -> str:
    return "0x" + data.hex()


def decode_address(text: object) -> bytes:
    """``common.Address``: "0x" + exactly 40 hex characters, any case (geth's checks in order:
    prefix, even length, length, digits; "" is a zero-length value)."""
    if not isinstance(text, str):
        raise HexError(f"wrong type {go_type_name(text)}")
    if text and not _has_prefix(text):
        raise HexError("hex string without 0x prefix")
    digits = text[2:]
    if len(digits) % 2:
        raise HexError("hex string of odd length")
    if len(digits) != 40:
        raise HexLengthError(f"hex string has length {len(digits)}, want 40 for common.Address")
    if not _HEX_DIGITS.fullmatch(digits):
        raise HexError("invalid hex string")
    return bytes.fromhex(digits)


class MixedcaseAddress:
    """An address that remembers how the caller spelled it, to judge its checksum (§2.0)."""

    __slots__ = ("address", "original")

    def __init__(self, address: bytes, original: str) -> None:
        self.address = address
        self.original = original

    @classmethod
    def parse(cls, text: object) -> MixedcaseAddress:
        return cls(decode_address(text), str(text))

    @property
    def checksummed(self) -> str:
        return str(to_checksum_address(self.address))

    def valid_checksum(self) -> bool:
        return self.original == self.checksummed

    def to_json(self) -> str:
        return "0x" + self.original[2:] if self.original else "0x"

    def __str__(self) -> str:
        return f"{self.original} [chksum {'ok' if self.valid_checksum() else 'INVALID'}]"

    def __repr__(self) -> str:
        return f"MixedcaseAddress({self.original!r})"


def go_type_name(value: object) -> str:
    """Go's ``%T`` of a value decoded from JSON into ``interface{}``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return type(value).__name__


def keccak256(data: bytes) -> bytes:
    return bytes(keccak(data))
