"""A strict, bounded ABI decoder and Go's ``%v`` rendering of the decoded values.

eth-abi follows offsets wherever they point, so calldata whose offsets alias one another decodes
to far more values than it has bytes (1,000 x 1,000 from 32 kB; worse with nesting). This decoder
counts every 32-byte word it reads and stops when it has read more words than the calldata holds,
which a canonical encoding never does. Like geth it is strict on bools and small integers and
lenient on address and bytes padding; the re-encoding check (calldata.py) then catches any bytes
that do not round-trip.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from signer.validation.selector import AbiType

Value = int | bool | bytes | list["Value"] | tuple["Value", ...]


class AbiDecodeError(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.budget = len(data) // 32 + 1

    def spend(self, words: int) -> None:
        self.budget -= words
        if self.budget < 0:
            raise AbiDecodeError("abi: offsets re-use the same data (not a canonical encoding)")

    def word(self, pos: int) -> bytes:
        self.spend(1)
        if pos + 32 > len(self.data):
            have = len(self.data)
            raise AbiDecodeError(
                f"abi: cannot marshal in to go type: length insufficient {have} require {pos + 32}"
            )
        return self.data[pos : pos + 32]

    def uint(self, pos: int) -> int:
        return int.from_bytes(self.word(pos), "big")

    def room(self, pos: int, need: int, what: str) -> None:
        if need > len(self.data) - pos:
            raise AbiDecodeError(
                f"abi: cannot marshal in to go {what}: offset {pos + need} would go over slice boundary"
                f" (len={len(self.data)})"
            )


def decode_args(types: tuple[AbiType, ...], data: bytes) -> list[Value]:
    reader = _Reader(data)
    return _sequence(reader, types, 0)


def _sequence(r: _Reader, types: tuple[AbiType, ...] | list[AbiType], base: int) -> list[Value]:
    out: list[Value] = []
    head = base
    for t in types:
        out.append(_value(r, t, base, head))
        head += t.head_size
    return out


def _value(r: _Reader, t: AbiType, base: int, head: int) -> Value:
    if not t.dynamic:
        return _at(r, t, head)
    offset = r.uint(head)
    r.room(base, offset, "slice")
    return _at(r, t, base + offset)


def _at(r: _Reader, t: AbiType, pos: int) -> Value:
    kind = t.kind
    if kind in ("uint", "int"):
        word = r.word(pos)
        value = int.from_bytes(word, "big", signed=kind == "int")
        low, high = (0, 2**t.size) if kind == "uint" else (-(2 ** (t.size - 1)), 2 ** (t.size - 1))
        if not low <= value < high:
            raise AbiDecodeError(f"abi: improperly encoded {t} value")
        return value
    if kind == "bool":
        word = r.word(pos)
        if any(word[:31]) or word[31] > 1:
            raise AbiDecodeError("abi: improperly encoded boolean value")
        return word[31] == 1
    if kind == "address":
        return r.word(pos)[12:]
    if kind == "fixedbytes":
        return r.word(pos)[: t.size]
    if kind == "function":
        return r.word(pos)[:24]
    if kind in ("bytes", "string"):
        length = r.uint(pos)
        r.room(pos + 32, length, "type")
        r.spend((length + 31) // 32)
        return r.data[pos + 32 : pos + 32 + length]
    if kind == "tuple":
        return tuple(_sequence(r, t.components, pos))
    assert t.elem is not None
    if kind == "slice":
        count = r.uint(pos)
        pos += 32
    else:
        count = t.size
    # Refuse a length the data cannot hold before building anything of that length.
    r.room(pos, count * t.elem.head_size, "array")
    return _sequence(r, [t.elem] * count, pos)


# --- rendering -----------------------------------------------------------------------------------


def render(t: AbiType, value: Value) -> str:
    """Go's ``%v`` of the value geth's decoder would produce (byte slices as ``[1 2 3]``,
    addresses checksummed, tuples as structs ``{a b}``). Strings keep invalid UTF-8 as
    surrogate escapes so ``go_quote`` can print them as ``\\xNN`` like Go."""
    kind = t.kind
    if kind in ("uint", "int"):
        return str(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "address":
        assert isinstance(value, bytes)
        return str(to_checksum_address(value))
    if kind == "string":
        assert isinstance(value, bytes)
        return value.decode("utf-8", "surrogateescape")
    if kind in ("bytes", "fixedbytes", "function"):
        assert isinstance(value, bytes)
        return "[" + " ".join(str(b) for b in value) + "]"
    assert isinstance(value, (list, tuple))
    if kind == "tuple":
        return "{" + " ".join(render(c, v) for c, v in zip(t.components, value, strict=True)) + "}"
    assert t.elem is not None
    return "[" + " ".join(render(t.elem, v) for v in value) + "]"


def eth_abi_type(t: AbiType) -> str:
    """The type string eth-abi encodes with. ``string`` is encoded as ``bytes`` (same layout)
    so strings that are not UTF-8 still round-trip byte for byte."""
    if t.kind == "string":
        return "bytes"
    if t.kind == "function":
        return "bytes24"
    if t.kind == "tuple":
        return "(" + ",".join(eth_abi_type(c) for c in t.components) + ")"
    if t.kind in ("array", "slice"):
        assert t.elem is not None
        return eth_abi_type(t.elem) + (f"[{t.size}]" if t.kind == "array" else "[]")
    return str(t)
