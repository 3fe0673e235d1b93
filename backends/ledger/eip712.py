"""EIP-712 clear signing: the app's full protocol, which ledgereth does not implement.

Instead of two opaque hashes the device receives every struct definition (INS 0x1A) and every
value (INS 0x1C), hashes them itself and shows the fields to the person. Encoding follows the
app's documentation (doc/ethapp.adoc, "EIP712 SEND STRUCT DEFINITION/IMPLEMENTATION"):

* a field definition is TypeDesc (array bit, size bit, 4-bit type) [custom name] [size]
  [array levels] key; a value is a 2-byte length then the raw value, in 255-byte APDUs;
* integers are minimal big-endian (two's complement of the declared size for ``intN``), addresses
  20 bytes, bools one byte, strings UTF-8, bytes raw;
* arrays announce their length (P2 0x0F) before their elements.

A document this module cannot express (no EIP712Domain type, an array over 255 items, a value
over 64 KiB, an odd ``bytesN``) raises ``Unencodable`` and the caller signs the hashes instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from backends.ledger.app import ETH_CLA
from backends.ledger.device import apdu

INS_STRUCT_DEF, INS_STRUCT_IMPL, INS_SIGN_EIP712 = 0x1A, 0x1C, 0x0C
P2_NAME, P2_ARRAY, P2_FIELD = 0x00, 0x0F, 0xFF
P1_COMPLETE, P1_PARTIAL = 0x00, 0x01
P2_FULL_IMPLEMENTATION = 0x01

CUSTOM, INT, UINT, ADDRESS, BOOL, STRING, FIXED_BYTES, DYN_BYTES = range(8)
_ARRAY = re.compile(r"(.*)\[([0-9]*)\]", re.DOTALL)
_SIZED = re.compile(r"(int|uint|bytes)([0-9]+)")


class Unencodable(ValueError):
    """The document cannot be sent field by field; sign its hashes instead."""


def full_mode_apdus(document: Mapping[str, Any], encoded_path: bytes) -> Iterator[bytes]:
    """Every APDU of a clear-signing session, ending with the SIGN command (P2 = full)."""
    types: Mapping[str, Any] = document.get("types") or {}
    primary = document.get("primaryType")
    if "EIP712Domain" not in types or not isinstance(primary, str) or primary not in types:
        raise Unencodable("the document has no EIP712Domain type or no valid primaryType")
    for name, fields in types.items():
        yield apdu(ETH_CLA, INS_STRUCT_DEF, P1_COMPLETE, P2_NAME, _text(name))
        for field in fields:
            yield apdu(ETH_CLA, INS_STRUCT_DEF, P1_COMPLETE, P2_FIELD, _definition(types, field))
    for root, value in (("EIP712Domain", document.get("domain")), (primary, document.get("message"))):
        yield apdu(ETH_CLA, INS_STRUCT_IMPL, P1_COMPLETE, P2_NAME, _text(root))
        yield from _struct(types, root, value)
    yield apdu(ETH_CLA, INS_SIGN_EIP712, 0x00, P2_FULL_IMPLEMENTATION, encoded_path)


def _text(value: str) -> bytes:
    raw = value.encode()
    if not 0 < len(raw) < 256:
        raise Unencodable(f"name {value!r} is empty or longer than 255 bytes")
    return raw


def _split(type_name: str) -> tuple[str, list[int | None]]:
    """``uint8[2][]`` -> (``uint8``, [2, None]): levels as written, the outermost last."""
    levels: list[int | None] = []
    while match := _ARRAY.fullmatch(type_name):
        type_name = match.group(1)
        levels.insert(0, int(match.group(2)) if match.group(2) else None)
    return type_name, levels


def _kind(types: Mapping[str, Any], base: str) -> tuple[int, int | None]:
    """(type code, byte size or None) of a non-array type."""
    simple = {"address": ADDRESS, "bool": BOOL, "string": STRING, "bytes": DYN_BYTES}
    if base in simple:
        return simple[base], None
    if base in ("int", "uint"):
        # The app rebuilds type names from (type, size): it would hash "int" as "int256", a
        # different type hash, hence a signature over another digest.
        raise Unencodable(f"the alias {base!r} is hashed differently by the Ledger app")
    sized = _SIZED.fullmatch(base)
    if sized:
        bits_or_bytes = int(sized.group(2))
        if sized.group(1) == "bytes" and 1 <= bits_or_bytes <= 32:
            return FIXED_BYTES, bits_or_bytes
        if sized.group(1) != "bytes" and bits_or_bytes % 8 == 0 and 8 <= bits_or_bytes <= 256:
            return (INT if sized.group(1) == "int" else UINT), bits_or_bytes // 8
    if base in types:
        return CUSTOM, None
    raise Unencodable(f"unknown EIP-712 type {base!r}")


def _definition(types: Mapping[str, Any], field: Mapping[str, Any]) -> bytes:
    base, levels = _split(str(field["type"]))
    code, size = _kind(types, base)
    out = bytearray([(0x80 if levels else 0) | (0x40 if size is not None else 0) | code])
    if code == CUSTOM:
        out += bytes([len(_text(base))]) + _text(base)
    if size is not None:
        out.append(size)
    if levels:
        out.append(len(levels))
        for level in levels:
            out += bytes([0]) if level is None else bytes([1, _byte(level)])
    key = _text(str(field["name"]))
    return bytes(out + bytes([len(key)]) + key)


def _struct(types: Mapping[str, Any], name: str, value: Any) -> Iterator[bytes]:
    if not isinstance(value, Mapping):
        raise Unencodable(f"the value of struct {name} is not an object")
    for field in types[name]:
        if field["name"] not in value:
            raise Unencodable(f"{name}.{field['name']} has no value")
        base, levels = _split(str(field["type"]))
        yield from _value(types, base, levels, value[field["name"]])


def _value(types: Mapping[str, Any], base: str, levels: list[int | None], value: Any) -> Iterator[bytes]:
    if levels:
        if not isinstance(value, list) or (levels[-1] is not None and len(value) != levels[-1]):
            raise Unencodable(f"an array of {base} has the wrong shape")
        yield apdu(ETH_CLA, INS_STRUCT_IMPL, P1_COMPLETE, P2_ARRAY, bytes([_byte(len(value))]))
        for element in value:
            yield from _value(types, base, levels[:-1], element)
        return
    code, size = _kind(types, base)
    if code == CUSTOM:
        yield from _struct(types, base, value)
        return
    data = _primitive(code, size, value)
    if len(data) > 0xFFFF:
        raise Unencodable("a value is longer than 65535 bytes")
    framed = len(data).to_bytes(2, "big") + data
    for offset in range(0, len(framed), 255):
        last = offset + 255 >= len(framed)
        chunk = framed[offset : offset + 255]
        yield apdu(ETH_CLA, INS_STRUCT_IMPL, P1_COMPLETE if last else P1_PARTIAL, P2_FIELD, chunk)


def _primitive(code: int, size: int | None, value: Any) -> bytes:
    if code in (INT, UINT):
        number = _integer(value)
        assert size is not None
        bits = size * 8
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if code == INT else (0, (1 << bits) - 1)
        if not low <= number <= high:
            raise Unencodable(f"{number} does not fit the declared integer type")
        raw = (number % (1 << bits)).to_bytes(size, "big").lstrip(b"\x00")
        return raw or b"\x00"
    if code == BOOL:
        if not isinstance(value, bool):
            raise Unencodable("a bool value must be true or false")
        return b"\x01" if value else b"\x00"
    if code == STRING:
        if not isinstance(value, str):
            raise Unencodable("a string value must be a string")
        return value.encode()
    raw = _hex_bytes(value)
    expected = 20 if code == ADDRESS else size
    if expected is not None and len(raw) != expected:
        raise Unencodable(f"expected {expected} bytes, got {len(raw)}")
    return raw


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise Unencodable("a bool is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        negative = text.startswith("-")
        digits = text[1:] if negative else text
        try:
            number = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 10)
        except ValueError:
            raise Unencodable(f"{value!r} is not an integer") from None
        return -number if negative else number
    raise Unencodable(f"{value!r} is not an integer")


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value[:2].lower() == "0x":
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            raise Unencodable(f"{value!r} is not hex") from None
    raise Unencodable(f"{value!r} is not 0x-prefixed hex")


def _byte(number: int) -> int:
    if not 0 <= number <= 255:
        raise Unencodable("an array longer than 255 elements cannot be sent to the Ledger")
    return number
