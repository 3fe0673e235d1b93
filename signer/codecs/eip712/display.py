"""The ``messages`` list a UI shows for typed data: clef's Format (clef-compat §2.6.6), with its
array bug fixed.

clef formatted an array of primitives by handing the *array type and the whole array* to the
primitive formatter, so ``address[]``, ``string[]``, ``bool[]`` and integer arrays failed
(``unhandled type address[]``) and could not be signed; for arrays of structs it showed only the
last element. Here every element is shown, one entry per element named ``field[i]``, nested arrays
nest, and each element is formatted as the hash will encode it (the value's shape decides, as in
encodeArray). Everything else keeps clef's values and error texts, including that Format does not
validate types (so its errors can differ from the hash path's) and that it runs before hashing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from signer.codecs.eip712.decode import TypedData
from signer.codecs.eip712.gofmt import go_s, go_v
from signer.codecs.eip712.hashing import Encoder
from signer.codecs.eip712.primitives import TypedDataError, base_type, parse_integer
from signer.codecs.hexutil import keccak256
from signer.types import NameValueType

_HEX_PAIRS = re.compile(rb"(?:[0-9a-fA-F]{2})*")
_LAST_SUFFIX = re.compile(r"\[[^\[\]]*\]\Z")


def format_typed_data(td: TypedData) -> list[NameValueType]:
    """``[{EIP712Domain: ..., type: domain}, {<primaryType>: ..., type: primary type}]``."""
    shown = _Display(td)
    domain = shown.struct("EIP712Domain", td.domain.to_map())
    primary = shown.struct(td.primary_type, td.message)
    return [
        NameValueType("EIP712Domain", domain, "domain"),
        NameValueType(td.primary_type, primary, "primary type"),
    ]


class _Display:
    def __init__(self, td: TypedData) -> None:
        self.td = td
        self.encoder = Encoder(td)  # knows which struct types are recursive

    def struct(self, name: str, data: Mapping[str, Any] | None) -> list[NameValueType] | None:
        td = self.td
        out = []
        for f in td.types.get(name) or ():
            value = (data or {}).get(f.name)
            shown: Any
            if f.type.find("[") > 0:
                shown = self.array(f.name, f.type, value)
            elif td.is_struct(f.type):
                shown = self.struct(f.type, value) if isinstance(value, dict) else "<nil>"
            else:
                shown = format_primitive(f.type, value)
            out.append(NameValueType(f.name, shown, f.type))
        return out or None  # Go's nil slice: JSON null

    def array(self, label: str, type_name: str, value: Any) -> list[NameValueType] | None:
        """One entry per element; None (clef's null) for an empty array or a value that is not one."""
        if not isinstance(value, list) or not value:
            return None
        base = base_type(type_name)
        element_type = _LAST_SUFFIX.sub("", type_name) if type_name != base else base
        out = []
        for i, item in enumerate(value):
            name = f"{label}[{i}]"
            if isinstance(item, list):
                out.append(NameValueType(name, self.array(name, element_type, item), element_type))
            elif self.td.is_struct(base):
                out.append(NameValueType(name, self.element(base, item), base))
            else:
                out.append(NameValueType(name, format_primitive(base, item), base))
        return out

    def element(self, base: str, item: Any) -> Any:
        """A struct element. One that is not an object is formatted as an empty one, as clef does, so
        a member that needs a value fails with clef's error; a null element of a recursive type is
        a valid (zero) value in EIP-712 V4 and is shown as ``<nil>``."""
        if isinstance(item, dict):
            return self.struct(base, item)
        if item is None and self.encoder.is_recursive(base):
            return "<nil>"
        return self.struct(base, None)


def lenient_address(text: str) -> str:
    """geth's HexToAddress(text).Hex(): odd length left-padded, decoding stops at the first bad pair,
    the last 20 bytes kept; EIP-55 checksummed."""
    raw = text.encode()
    if raw[:2] in (b"0x", b"0X"):
        raw = raw[2:]
    if len(raw) % 2:
        raw = b"0" + raw
    match = _HEX_PAIRS.match(raw)
    decoded = bytes.fromhex(match.group(0).decode()) if match else b""
    return checksum_address(decoded[-20:].rjust(20, b"\x00"))


@lru_cache(maxsize=4096)
def checksum_address(address: bytes) -> str:
    """EIP-55. eth_utils' version costs ~40 µs, which a 100k-element address[] would feel."""
    digits = address.hex()
    nibbles = keccak256(digits.encode()).hex()
    return "0x" + "".join(c.upper() if n >= "8" else c for c, n in zip(digits, nibbles, strict=False))


def format_primitive(type_name: str, value: Any) -> str:
    """clef's formatPrimitiveValue."""
    if type_name == "address":
        if not isinstance(value, str):
            raise TypedDataError(f"could not format value {go_v(value)} as address")
        return lenient_address(value)
    if type_name == "bool":
        if not isinstance(value, bool):
            raise TypedDataError(f"could not format value {go_v(value)} as bool")
        return "true" if value else "false"
    if type_name == "string" or type_name.startswith("bytes"):
        return go_s(value)
    if type_name.startswith(("uint", "int")):
        number = parse_integer(type_name, value)
        return f"{number} ({'-' if number < 0 else ''}{hex(abs(number))})"
    raise TypedDataError(f"unhandled type {type_name}")
