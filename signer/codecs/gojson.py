"""Decoding JSON values the way Go's ``encoding/json`` + geth's ``hexutil`` do, with their error texts.

clef decodes ``account_signTransaction`` params into Go structs. The rules a caller can observe
are reproduced here: object keys match case-insensitively (exact match first), ``null`` leaves a
pointer or slice field unset, and a value of the wrong shape gives
``json: cannot unmarshal <what> into Go struct field <Struct>.<key> of type <type>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from signer.codecs.hexutil import HexError, HexLengthError, decode_bytes, decode_quantity
from signer.errors import InvalidParams

T = TypeVar("T")

_HEX = re.compile(r"[0-9a-fA-F]*")  # used with fullmatch: "$" would accept a final newline


class GoJSONError(InvalidParams):
    """A JSON value that Go's decoder would refuse; the message is Go's (the RPC layer prefixes
    ``invalid argument N: ``)."""


def json_kind(value: object) -> str:
    """The word Go's UnmarshalTypeError uses for a JSON value of the wrong kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def value_error(value: object, gotype: str) -> GoJSONError:
    """A top-level (or nested-Unmarshal) type error, which Go reports without a struct path."""
    return GoJSONError(f"json: cannot unmarshal {json_kind(value)} into Go value of type {gotype}")


def field_error(detail: str, path: str, gotype: str) -> GoJSONError:
    return GoJSONError(f"json: cannot unmarshal {detail} into Go struct field {path} of type {gotype}")


def match_keys(obj: Mapping[str, object], names: tuple[str, ...]) -> dict[str, object]:
    """Assign each JSON key to a field as Go does: exact name first, else case-insensitive.

    Keys that match no field are ignored (clef ignores geth's ``v``, ``r``, ``type``...). When two
    keys land on one field the later one wins, as in Go, which decodes keys in document order.
    """
    folded = {name.lower(): name for name in names}
    found: dict[str, object] = {}
    for key, value in obj.items():
        name = key if key in names else folded.get(key.lower())
        if name is not None:
            found[name] = value
    return found


def hex_value(value: object, path: str, gotype: str, decode: Callable[[str], T]) -> T:
    """Run a hexutil decoder on a JSON string; anything else is Go's ``non-string`` error."""
    if not isinstance(value, str):
        raise field_error("non-string", path, gotype)
    try:
        return decode(value)
    except HexLengthError as exc:
        raise GoJSONError(str(exc)) from None
    except HexError as exc:
        raise field_error(str(exc), path, gotype) from None


def top_level_hex(value: object, gotype: str, decode: Callable[[str], T]) -> T:
    """A hexutil type as a whole parameter: Go names the type but no struct field."""
    if not isinstance(value, str):
        raise GoJSONError(f"json: cannot unmarshal non-string into Go value of type {gotype}")
    try:
        return decode(value)
    except HexLengthError as exc:
        raise GoJSONError(str(exc)) from None
    except HexError as exc:
        raise GoJSONError(f"json: cannot unmarshal {exc} into Go value of type {gotype}") from None


def quantity(value: object, path: str, bits: int = 256, gotype: str | None = None) -> int:
    # geth's errors name *hexutil.Big (the pointer type) even for a plain hexutil.Big field.
    kind = gotype or ("*hexutil.Big" if bits == 256 else "hexutil.Uint64")
    return hex_value(value, path, kind, lambda text: decode_quantity(text, bits))


def data(value: object, path: str) -> bytes:
    return hex_value(value, path, "hexutil.Bytes", decode_bytes)


def fixed_bytes(value: object, path: str, size: int, gotype: str) -> bytes:
    """``hexutil.UnmarshalFixedJSON``: 0x prefix, even length, exact length, then digits."""

    def decode(text: str) -> bytes:
        if text == "":
            digits = ""
        elif text[:2] in ("0x", "0X"):
            digits = text[2:]
        else:
            raise HexError("hex string without 0x prefix")
        if len(digits) % 2:
            raise HexError("hex string of odd length")
        if len(digits) != size * 2:
            raise HexLengthError(f"hex string has length {len(digits)}, want {size * 2} for {gotype}")
        if not _HEX.fullmatch(digits):
            raise HexError("invalid hex string")
        return bytes.fromhex(digits)

    return hex_value(value, path, gotype, decode)


def array(value: object, path: str, gotype: str) -> list[object] | None:
    """A Go slice field: ``null`` is unset, a non-array is a type error."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise field_error(json_kind(value), path, gotype)
    return value


def uint8(value: object, path: str) -> int | None:
    """A Go ``byte`` field decoded from a JSON number (``null`` leaves it unchanged)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise field_error(json_kind(value), path, "uint8")
    if isinstance(value, float) and not value.is_integer():
        raise field_error(f"number {value!r}", path, "uint8")
    if not 0 <= value <= 255:
        raise field_error(f"number {value!r}", path, "uint8")
    return int(value)
