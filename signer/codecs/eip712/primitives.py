"""EIP-712 atomic values with clef's rules and error texts: parseInteger, encodePrimitive and the
primitive type set (clef-compat §2.6.2–§2.6.4)."""

from __future__ import annotations

import json
import re
from typing import Any

from signer.codecs.eip712.gofmt import ChainId, go_q, go_type, go_v
from signer.codecs.hexutil import HexError, decode_bytes, keccak256
from signer.errors import InvalidRequestData

_DECIMAL = re.compile(r"[+-]?[0-9]+", re.ASCII)
_HEX = re.compile(r"[+-]?[0-9a-fA-F]+", re.ASCII)
_ADDRESS_HEX = re.compile(r"[0-9a-fA-F]{40}", re.ASCII)
_MAX_WORD = 1 << 256

PRIMITIVE_TYPES = frozenset(
    ["address", "bool", "string", "bytes", "int", "uint"]
    + [f"bytes{n}" for n in range(1, 33)]
    + [f"{sign}int{n}" for sign in ("", "u") for n in range(8, 257, 8)]
)


class TypedDataError(InvalidRequestData):
    """Typed data clef would refuse; the message is clef's where clef has one."""


def base_type(type_name: str) -> str:
    """The part before the first ``[``: ``Person[2][]`` -> ``Person``."""
    return type_name.split("[", 1)[0]


def is_primitive(type_name: str) -> bool:
    """clef's isPrimitiveTypeValid: judged on the base only, so ``uint256[x]`` counts."""
    return base_type(type_name) in PRIMITIVE_TYPES


def data_mismatch(type_name: str, value: Any) -> TypedDataError:
    return TypedDataError(f"provided data '{go_v(value)}' doesn't match type '{type_name}'")


def go_atoi(text: str) -> int | None:
    """Go's ``strconv.Atoi`` (optional sign, ASCII digits, int64 range), None where it fails."""
    if not _DECIMAL.fullmatch(text) or len(text.lstrip("+-").lstrip("0")) > 19:
        return None
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else None


def parse_big256(text: str) -> int:
    """geth's ParseBig256 (HexOrDecimal256): "" is 0, ``0x``/``0X`` hex or decimal, signed, <= 256 bits."""
    if text == "":
        return 0
    hexadecimal = text[:2] in ("0x", "0X")
    digits = text[2:] if hexadecimal else text
    if (_HEX if hexadecimal else _DECIMAL).fullmatch(digits):
        # Leading zeros are legal in Go; strip them so the length check below bounds int()'s work.
        magnitude = digits.lstrip("+-").lstrip("0") or "0"
        if len(magnitude) <= (64 if hexadecimal else 78):
            value = int(magnitude, 16 if hexadecimal else 10)
            if value.bit_length() <= 256:
                return -value if digits.startswith("-") else value
    raise TypedDataError(f"invalid hex or decimal integer {go_q(text)}")


def json_text(value: Any) -> str:
    """The JSON text a Go UnmarshalJSON method is handed for ``value`` (exact except for floats,
    whose original spelling the Python parser has dropped)."""
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def unmarshal_big256(value: Any) -> int:
    """HexOrDecimal256's UnmarshalJSON: a string's contents, or a number's text, via ParseBig256."""
    return parse_big256(value if isinstance(value, str) else json_text(value))


def parse_integer(type_name: str, value: Any) -> int:
    """clef's parseInteger. The width check is |v| < 2^N for signed types too (clef's quirk)."""
    width = 256
    if type_name not in ("int", "uint"):
        size = type_name[4:] if type_name.startswith("uint") else type_name.removeprefix("int")
        parsed = go_atoi(size)
        if parsed is None:
            raise TypedDataError(f"invalid size on integer: {size}")
        width = parsed
    number: int | None = None
    if isinstance(value, ChainId):
        number = value.value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value  # a Go *big.Int built by the signer itself
    elif isinstance(value, str):
        number = parse_big256(value)
    elif isinstance(value, float):
        # Go converts through int64 and compares; on amd64 every value outside int64 fails.
        if not (-(2.0**63) <= value < 2.0**63 and value.is_integer()):
            raise TypedDataError(f"invalid float value {go_v(value)} for type {type_name}")
        number = int(value)
    if number is None:
        raise TypedDataError(f"invalid integer value {go_v(value)}/{go_type(value)} for type {type_name}")
    if number.bit_length() > width:
        raise TypedDataError(f"integer larger than '{type_name}'")
    if not type_name.startswith("int") and number < 0:
        raise TypedDataError(f"invalid negative value for unsigned type {type_name}")
    return number


def parse_bytes(value: Any) -> bytes | None:
    """clef's parseBytes: strict 0x-hex text ("0x" is empty, "" is not), or bytes the signer built."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        return None
    try:
        return decode_bytes(value, empty_ok=False)
    except HexError:
        return None


def encode_primitive(type_name: str, value: Any) -> bytes:
    """clef's EncodePrimitiveValue: always 32 bytes."""
    if type_name == "address":
        if isinstance(value, str):
            digits = value[2:] if value[:2] in ("0x", "0X") else value
            if _ADDRESS_HEX.fullmatch(digits):
                return bytes(12) + bytes.fromhex(digits)
        raise data_mismatch(type_name, value)
    if type_name == "bool":
        if not isinstance(value, bool):
            raise data_mismatch(type_name, value)
        return int(value).to_bytes(32, "big")
    if type_name == "string":
        if not isinstance(value, str):
            raise data_mismatch(type_name, value)
        return keccak256(value.encode())
    if type_name == "bytes":
        raw = parse_bytes(value)
        if raw is None:
            raise data_mismatch(type_name, value)
        return keccak256(raw)
    if type_name.startswith("bytes"):
        size_text = type_name[5:]
        size = go_atoi(size_text)
        if size is None:
            raise TypedDataError(f"invalid size on bytes: {size_text}")
        if not 0 <= size <= 32:
            raise TypedDataError(f"invalid size on bytes: {size}")
        raw = parse_bytes(value)
        if raw is None or len(raw) != size:
            raise data_mismatch(type_name, value)
        return raw.ljust(32, b"\x00")
    if type_name.startswith(("int", "uint")):
        return (parse_integer(type_name, value) % _MAX_WORD).to_bytes(32, "big")
    raise TypedDataError(f"unrecognized type '{type_name}'")
