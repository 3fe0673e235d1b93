"""Method selectors ``name(type1,(type2,type3)[],...)``: geth's ParseSelector and ABI types (§6.3).

The parser reproduces geth's grammar and error texts, quirks included (any single character
separates arguments; an array error names the first character of the type). It works on indices
rather than slicing so a long selector costs linear time, and it caps nesting so a hostile
selector cannot exhaust the stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

MAX_DEPTH = 32  # tuple nesting plus array dimensions; real signatures stay under ~6
MAX_SELECTOR_LENGTH = 4096

_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_IDENT_SYMBOL = frozenset("$_")

Parsed = str | list["Parsed"]


class SelectorError(Exception):
    """A selector that does not parse, or names a type the ABI does not have."""


@dataclass(frozen=True)
class AbiType:
    """An ABI type. ``size`` is bits (ints), bytes (bytesN) or length (fixed arrays)."""

    kind: str  # uint int address bool string bytes fixedbytes function array slice tuple
    size: int = 0
    elem: AbiType | None = None
    components: tuple[AbiType, ...] = ()

    def __str__(self) -> str:
        if self.kind in ("uint", "int"):
            return f"{self.kind}{self.size}"
        if self.kind == "fixedbytes":
            return f"bytes{self.size}"
        if self.kind == "array":
            return f"{self.elem}[{self.size}]"
        if self.kind == "slice":
            return f"{self.elem}[]"
        if self.kind == "tuple":
            return "(" + ",".join(str(c) for c in self.components) + ")"
        return self.kind

    @cached_property
    def dynamic(self) -> bool:
        if self.kind in ("string", "bytes", "slice"):
            return True
        if self.kind == "array":
            return self.elem is not None and self.elem.dynamic
        return any(c.dynamic for c in self.components)

    @cached_property
    def head_size(self) -> int:
        """Bytes this type takes in its enclosing head: 32 for a dynamic type's offset."""
        if self.dynamic:
            return 32
        if self.kind == "array" and self.elem is not None:
            return self.size * self.elem.head_size
        if self.kind == "tuple":
            return sum(c.head_size for c in self.components)
        return 32


@dataclass(frozen=True)
class ArgSpec:
    """geth's ArgumentMarshaling as assembled from a parsed selector."""

    name: str
    type: str
    components: tuple[ArgSpec, ...] = ()

    def to_json(self) -> dict[str, object]:
        """Go marshals ArgumentMarshaling by its field names (it has no JSON tags)."""
        components = [c.to_json() for c in self.components] if self.components else None
        return {"Name": self.name, "Type": self.type, "InternalType": self.type, "Components": components,
                "Indexed": False}  # fmt: skip


@dataclass(frozen=True)
class ParsedSelector:
    name: str
    args: tuple[ArgSpec, ...]

    def abi_json(self) -> str:
        """The one-method ABI geth builds from the selector (quoted in its error messages)."""
        method = {"name": self.name, "type": "function", "inputs": [a.to_json() for a in self.args]}
        return json.dumps([method], separators=(",", ":"))


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    def token(self, i: int, ident: bool) -> int:
        s = self.s
        if i >= self.n:
            raise SelectorError("empty token")
        if not (s[i] in _ALPHA or (ident and s[i] in _IDENT_SYMBOL)):
            raise SelectorError(f"invalid token start: {s[i]}")
        j = i + 1
        while j < self.n and (s[j] in _ALPHA or s[j] in _DIGIT or (ident and s[j] in _IDENT_SYMBOL)):
            j += 1
        return j

    def elementary(self, i: int) -> tuple[str, int]:
        try:
            j = self.token(i, ident=False)
        except SelectorError as exc:
            raise SelectorError(f"failed to parse elementary type: {exc}") from None
        while j < self.n and self.s[j] == "[":
            k = j + 1
            while k < self.n and self.s[k] in _DIGIT:
                k += 1
            if k >= self.n or self.s[k] != "]":
                raise SelectorError(f"failed to parse array: expected ']', got {self.s[i]}")
            j = k + 1
        return self.s[i:j], j

    def composite(self, i: int, depth: int) -> tuple[list[Parsed], int]:
        if i >= self.n or self.s[i] != "(":
            got = self.s[i] if i < self.n else "end of input"
            raise SelectorError(f"expected '(', got {got}")
        if depth > MAX_DEPTH:
            raise SelectorError(f"nesting deeper than {MAX_DEPTH} levels")
        first, j = self.wrapped_type(i + 1, depth)
        result = [first]
        while j < self.n and self.s[j] != ")":
            item, j = self.wrapped_type(j + 1, depth)
            result.append(item)
        if j >= self.n or self.s[j] != ")":
            raise SelectorError(f"expected ')', got '{self.s[j:]}'")
        if self.s[j + 1 : j + 3] == "[]":
            return [*result, "[]"], j + 3
        return result, j + 1

    def wrapped_type(self, i: int, depth: int) -> tuple[Parsed, int]:
        try:
            if i >= self.n:
                raise SelectorError("empty type")
            if self.s[i] == "(":
                return self.composite(i, depth + 1)
            return self.elementary(i)
        except SelectorError as exc:
            raise SelectorError(f"failed to parse type: {exc}") from None


def parse_selector(selector: str) -> ParsedSelector:
    """geth's ``abi.ParseSelector``; errors read ``failed to parse selector '<sel>': <detail>``."""
    if len(selector) > MAX_SELECTOR_LENGTH:
        raise SelectorError(f"failed to parse selector: longer than {MAX_SELECTOR_LENGTH} characters")
    p = _Parser(selector)
    try:
        j = p.token(0, ident=True)
        name = selector[:j]
        args: list[Parsed] = []
        if selector[j : j + 2] == "()":
            j += 2
        else:
            args, j = p.composite(j, 1)
        if j < p.n:
            raise SelectorError(f"unexpected string '{selector[j:]}'")
    except SelectorError as exc:
        raise SelectorError(f"failed to parse selector '{selector}': {exc}") from None
    return ParsedSelector(name, _assemble(args))


def _assemble(args: list[Parsed]) -> tuple[ArgSpec, ...]:
    specs = []
    for i, arg in enumerate(args):
        name = f"name{i}"
        if isinstance(arg, str):
            specs.append(ArgSpec(name, arg))
            continue
        tuple_type = "tuple"
        if arg and arg[-1] == "[]":
            arg, tuple_type = arg[:-1], "tuple[]"
        specs.append(ArgSpec(name, tuple_type, _assemble(arg)))
    return tuple(specs)


_ELEMENTARY = re.compile(r"([a-zA-Z]+)([0-9]*)((?:\[[0-9]*\])*)")
_DIMENSION = re.compile(r"\[([0-9]*)\]")


def build_type(spec: ArgSpec) -> AbiType:
    """geth's ``abi.NewType`` for the types a selector can name; others are unsupported."""
    unsupported = SelectorError(f"unsupported arg type: {spec.type}")
    match = _ELEMENTARY.fullmatch(spec.type)
    if match is None:
        raise unsupported
    base, bits, dims = match.groups()
    if base == "tuple":
        if bits or not spec.components:
            raise unsupported
        t = AbiType("tuple", components=tuple(build_type(c) for c in spec.components))
    else:
        t = _elementary(base, bits, unsupported)
    dimensions = _DIMENSION.findall(dims)
    if len(dimensions) > MAX_DEPTH:
        raise unsupported
    for dim in dimensions:
        if dim == "":
            t = AbiType("slice", elem=t)
        elif int(dim) == 0 or len(dim) > 9:
            raise unsupported
        else:
            t = AbiType("array", size=int(dim), elem=t)
    return t


def _elementary(base: str, bits: str, unsupported: SelectorError) -> AbiType:
    if base in ("uint", "int"):
        # geth's abi.NewType wants the width: a bare "uint" is what a compiler never writes.
        if not bits:
            raise unsupported
        size = int(bits)
        if not (8 <= size <= 256 and size % 8 == 0) or bits[0] == "0":
            raise unsupported
        return AbiType(base, size)
    if base == "bytes" and bits:
        if not 1 <= int(bits) <= 32 or bits[0] == "0":
            raise unsupported
        return AbiType("fixedbytes", int(bits))
    if base in ("address", "bool", "string", "bytes", "function") and not bits:
        return AbiType(base)
    raise unsupported


def method_types(parsed: ParsedSelector) -> tuple[AbiType, ...]:
    return tuple(build_type(arg) for arg in parsed.args)


def canonical_signature(parsed: ParsedSelector) -> str:
    """``name(uint256,(address,bytes)[])``: the string whose keccak gives the 4-byte id."""
    return f"{parsed.name}({','.join(str(t) for t in method_types(parsed))})"
