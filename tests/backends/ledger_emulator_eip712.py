"""The device side of the Ethereum app's EIP-712 clear-signing protocol, for the emulator.

Like the app, it records struct definitions (INS 0x1A), then consumes values (INS 0x1C) by walking
those definitions, and finally hashes what it received. The hash is computed by eth-account from
the reconstructed document, never by Sealward's code, so a wrong encoding on the host side shows
up as a signature over the wrong digest.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_struct
from eth_utils.crypto import keccak

_SIMPLE = {3: "address", 4: "bool", 5: "string", 7: "bytes"}
Walk = Generator[tuple[str, str], Any, Any]


class ProtocolError(Exception):
    """The host broke the protocol; the app answers 0x6A80."""


class TypedDataSession:
    def __init__(self) -> None:
        self.types: dict[str, list[dict[str, str]]] = {}
        self.domain: Any = None
        self.message: Any = None
        self.primary: str | None = None
        self._current_def: str | None = None
        self._walk: Walk | None = None
        self._root: str | None = None
        self._expect: tuple[str, str] | None = None
        self._field = bytearray()

    # --- INS 0x1A: definitions ------------------------------------------------------------------

    def define_struct(self, name: bytes) -> None:
        self._current_def = name.decode()
        self.types[self._current_def] = []

    def define_field(self, data: bytes) -> None:
        if self._current_def is None:
            raise ProtocolError("field before struct name")
        desc, pos = data[0], 1
        code = desc & 0x0F
        if code == 0:
            size_of_name = data[pos]
            base = data[pos + 1 : pos + 1 + size_of_name].decode()
            pos += 1 + size_of_name
        else:
            base = _SIMPLE.get(code, "")
        if desc & 0x40:
            size = data[pos]
            pos += 1
            base = {1: f"int{size * 8}", 2: f"uint{size * 8}", 6: f"bytes{size}"}[code]
        if desc & 0x80:
            levels, pos = data[pos], pos + 1
            for _ in range(levels):
                if data[pos] == 0:
                    base, pos = base + "[]", pos + 1
                else:
                    base, pos = base + f"[{data[pos + 1]}]", pos + 2
        key_length = data[pos]
        key = data[pos + 1 : pos + 1 + key_length].decode()
        self.types[self._current_def].append({"name": key, "type": base})

    # --- INS 0x1C: values -----------------------------------------------------------------------

    def start_root(self, name: bytes) -> None:
        root = name.decode()
        if root not in self.types:
            raise ProtocolError(f"unknown root struct {root}")
        self._root, self._walk = root, self._struct(root)
        self._advance(None, first=True)

    def array(self, size: int) -> None:
        if self._expect is None or self._expect[0] != "array":
            raise ProtocolError("unexpected array size")
        self._advance(size)

    def field_chunk(self, data: bytes, partial: bool) -> None:
        self._field += data
        if partial:
            return
        raw, self._field = bytes(self._field), bytearray()
        length = int.from_bytes(raw[:2], "big")
        if len(raw) != 2 + length or self._expect is None or self._expect[0] != "field":
            raise ProtocolError("bad field value")
        self._advance(_decode(self._expect[1], raw[2:]))

    def digest(self) -> bytes:
        if self.domain is None or self.message is None or self._walk is not None:
            raise ProtocolError("typed data incomplete")
        # The roots the host named, not eth-account's guess of a primary type: like the app.
        domain = hash_struct("EIP712Domain", self.types, self.domain)
        return keccak(b"\x19\x01" + domain + hash_struct(str(self.primary), self.types, self.message))

    def _advance(self, value: Any, first: bool = False) -> None:
        assert self._walk is not None
        try:
            self._expect = next(self._walk) if first else self._walk.send(value)
        except StopIteration as done:
            if self._root == "EIP712Domain":
                self.domain = done.value
            else:
                self.message, self.primary = done.value, self._root
            self._walk, self._expect = None, None

    def _struct(self, name: str) -> Walk:
        result: dict[str, Any] = {}
        for field in self.types[name]:
            result[field["name"]] = yield from self._value(field["type"])
        return result

    def _value(self, type_name: str) -> Walk:
        if type_name.endswith("]"):
            inner = type_name[: type_name.rindex("[")]
            size = yield ("array", inner)
            items = []
            for _ in range(size):
                items.append((yield from self._value(inner)))
            return items
        if type_name in self.types:
            return (yield from self._struct(type_name))
        return (yield ("field", type_name))


def _decode(type_name: str, raw: bytes) -> Any:
    if type_name.startswith(("int", "uint")):
        bits = int(type_name.lstrip("uint") or 256)
        number = int.from_bytes(raw, "big")
        if type_name.startswith("int") and len(raw) == bits // 8 and raw[0] & 0x80:
            number -= 1 << bits
        return number
    if type_name == "address":
        return "0x" + raw.hex()
    if type_name == "bool":
        return raw != b"\x00"
    if type_name == "string":
        return raw.decode()
    return raw
