"""EIP-712 hashing with clef's rules (clef-compat §2.6.2–§2.6.3): validation, encodeType, typeHash,
encodeData and encodeArray.

Where this differs from clef, on purpose:
* validation runs once per document, not inside every encodeData call; its result is the same, so
  only the cost changes (clef's is quadratic in the document);
* a type may reference itself (EIP-712 allows recursive types; clef refused only the direct case,
  yet accepted ``Person[]`` inside ``Person`` and mutual recursion);
* a missing or null member whose struct type is recursive encodes as 32 zero bytes, as
  eth-sig-util V4 does (otherwise no finite recursive value could exist); other missing struct
  members are still refused as in clef;
* a null array element is refused with a clear error where clef crashed;
* work is bounded: type hashes are cached, and type definitions that would make encodeType text
  explode are refused (MAX_TYPE_WORK).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from signer.codecs.eip712.decode import MAX_DEPTH, Field, TypedData
from signer.codecs.eip712.gofmt import go_q
from signer.codecs.eip712.primitives import (
    TypedDataError,
    base_type,
    data_mismatch,
    encode_primitive,
    is_primitive,
)
from signer.codecs.hexutil import keccak256

# Characters of encodeType text plus type references followed, summed over the document.
MAX_TYPE_WORK = 1_000_000

_REFERENCE = re.compile(r"[A-Za-z]\w*(\[\d*\])*", re.ASCII)
_ZERO = bytes(32)


@dataclass(frozen=True)
class TypedDataHash:
    domain_separator: bytes  # hashStruct("EIP712Domain", domain)
    message_hash: bytes  # hashStruct(primaryType, message)

    @property
    def preimage(self) -> bytes:
        """0x19 0x01 ‖ domainSeparator ‖ hashStruct(message): the 66 bytes clef shows as raw_data."""
        return b"\x19\x01" + self.domain_separator + self.message_hash

    @property
    def digest(self) -> bytes:
        return keccak256(self.preimage)


def validate(td: TypedData) -> None:
    """clef's validate(), in document order (Go's map order made the choice between errors random)."""
    for key, fields in td.types.items():
        if key == "":
            raise TypedDataError("empty type key")
        for i, f in enumerate(fields or ()):
            if f.type == "":
                raise TypedDataError(f"type {go_q(key)}:{i}: empty Type")
            if f.name == "":
                raise TypedDataError(f"type {go_q(key)}:{i}: empty Name")
            if is_primitive(f.type):
                continue
            if base_type(f.type) not in td.types:
                raise TypedDataError(f"reference type {go_q(f.type)} is undefined")
            if not _REFERENCE.fullmatch(f.type):
                raise TypedDataError(f"unknown reference type {go_q(f.type)}")
    if td.domain.is_empty():
        raise TypedDataError("domain is undefined")


class Encoder:
    """encodeType / typeHash / encodeData over one document, with per-document caches."""

    def __init__(self, td: TypedData) -> None:
        self.td = td
        self._type_hashes: dict[str, bytes] = {}
        self._recursive: dict[str, bool] = {}
        self._work = 0

    def _charge(self, units: int) -> None:
        self._work += units
        if self._work > MAX_TYPE_WORK:
            raise TypedDataError("typed data type definitions are too large to encode")

    def _fields(self, name: str) -> tuple[Field, ...]:
        return self.td.types.get(name) or ()

    def _reachable(self, starts: list[str]) -> list[str]:
        """Struct types reachable from ``starts`` (array suffixes stripped), in discovery order."""
        found: dict[str, None] = {}
        stack = list(reversed(starts))
        while stack:
            name = base_type(stack.pop())
            if name in found or not self.td.is_struct(name):
                continue
            found[name] = None
            fields = self._fields(name)
            self._charge(len(fields) + 1)
            stack.extend(f.type for f in reversed(fields))
        return list(found)

    def encode_type(self, name: str) -> str:
        """``Name(type1 name1,...)`` for ``name`` then its dependencies in byte order; "" if no struct."""
        deps = self._reachable([name])
        if not deps:
            return ""
        ordered = [name, *sorted(deps[1:])]
        text = "".join(
            f"{dep}({','.join(f'{f.type} {f.name}' for f in self._fields(dep))})" for dep in ordered
        )
        self._charge(len(text))
        return text

    def type_hash(self, name: str) -> bytes:
        cached = self._type_hashes.get(name)
        if cached is None:
            cached = self._type_hashes[name] = keccak256(self.encode_type(name).encode())
        return cached

    def is_recursive(self, name: str) -> bool:
        """Whether struct ``name`` can reach itself through its members."""
        cached = self._recursive.get(name)
        if cached is None:
            cached = self._recursive[name] = name in self._reachable([f.type for f in self._fields(name)])
        return cached

    def encode_data(self, name: str, data: Mapping[str, Any] | None, depth: int = 1) -> bytes:
        """typeHash(name) ‖ enc(member) for each declared member, in declaration order."""
        if depth > MAX_DEPTH:
            raise TypedDataError(f"typed data is nested too deeply (more than {MAX_DEPTH} levels)")
        data = data or {}
        fields = self._fields(name)
        if len(fields) < len(data):
            # clef compares counts only, so an unknown key can hide behind a missing one.
            raise TypedDataError(f"there is extra data provided in the message ({len(fields)} < {len(data)})")
        parts = [self.type_hash(name)]
        for f in fields:
            value = data.get(f.name)
            if f.type.endswith("]"):
                parts.append(self.encode_array(value, f.type, depth))
            elif self.td.is_struct(f.type):
                parts.append(self._member(f.type, value, depth))
            else:
                parts.append(encode_primitive(f.type, value))
        return b"".join(parts)

    def hash_struct(self, name: str, data: Mapping[str, Any] | None) -> bytes:
        return keccak256(self.encode_data(name, data))

    def _member(self, name: str, value: Any, depth: int) -> bytes:
        if isinstance(value, dict):
            return keccak256(self.encode_data(name, value, depth + 1))
        if value is None and self.is_recursive(name):
            return _ZERO
        raise data_mismatch(name, value)

    def encode_array(self, value: Any, type_name: str, depth: int) -> bytes:
        """keccak of the elements' encodings; nesting follows the value, declared sizes are not checked."""
        if not isinstance(value, list):
            raise data_mismatch(type_name, value)
        if depth > MAX_DEPTH:
            raise TypedDataError(f"typed data is nested too deeply (more than {MAX_DEPTH} levels)")
        base = base_type(type_name)
        struct = self.td.is_struct(base)
        parts = []
        for item in value:
            if isinstance(item, list):
                parts.append(self.encode_array(item, base, depth + 1))
            elif struct:
                parts.append(self._member(base, item, depth))
            else:
                parts.append(encode_primitive(base, item))
        return keccak256(b"".join(parts))


def typed_data_hash(td: TypedData) -> TypedDataHash:
    """Validate, then hashStruct the domain and the message (no EIP712Domain special case, as clef)."""
    validate(td)
    encoder = Encoder(td)
    domain = encoder.hash_struct("EIP712Domain", td.domain.to_map())
    message = encoder.hash_struct(td.primary_type, td.message)
    return TypedDataHash(domain, message)
