"""How Go's ``fmt`` renders the values clef puts in its EIP-712 messages (clef-compat Appendix A).

clef's error texts and display strings are built with ``%v``, ``%s``, ``%q`` and ``%T`` of values
decoded from JSON into ``interface{}``; callers compare those strings, so they are reproduced here.
Renderings used inside error messages take a ``limit``: Go would echo a 16 MB value back verbatim,
we cut it short (with "...") so a hostile document cannot inflate every error and log line.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from signer.codecs.goquote import go_quote
from signer.codecs.hexutil import go_type_name

_WORD = 1 << 64


@dataclass(frozen=True)
class ChainId:
    """The domain's ``chainId`` as clef holds it: a ``*math.HexOrDecimal256``, not a JSON value.

    It is kept apart from message values because Go renders it as the ``big.Int`` struct it points
    to (``&{false [1]}``), which shows up when a document declares ``chainId`` with a wrong type.
    """

    value: int

    def words(self) -> list[int]:
        """big.Int's magnitude as 64-bit words, least significant first (empty for zero)."""
        magnitude, out = abs(self.value), []
        while magnitude:
            out.append(magnitude % _WORD)
            magnitude //= _WORD
        return out


class _Full(Exception):
    """The rendering reached its limit."""


class _Out:
    def __init__(self, limit: int | None) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.limit is not None and self.size > self.limit:
            raise _Full

    def text(self) -> str:
        joined = "".join(self.parts)
        if self.limit is not None and len(joined) > self.limit:
            return joined[: self.limit] + "..."
        return joined


def go_float(value: float) -> str:
    """``%v`` of a float64: shortest round-trip digits, exponent form iff the exponent is < -4 or >= 6."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)  # finite: JSON decoding refuses infinities
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len(digit_tuple) - len(digits)
    point = len(digits) + exponent  # position of the decimal point relative to the digits
    prefix = "-" if sign else ""
    x = point - 1
    if x < -4 or x >= 6:  # Go's %v uses precision 6 for this choice when printing shortest digits
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def go_type(value: Any) -> str:
    """``%T`` (and ``reflect.TypeOf`` with ``%v``) of a decoded value or one the signer built."""
    if isinstance(value, bytes):
        return "hexutil.Bytes"
    if isinstance(value, ChainId):
        return "*math.HexOrDecimal256"
    if isinstance(value, int) and not isinstance(value, bool):
        return "*big.Int"  # message numbers are floats; an int was built by the signer
    return go_type_name(value)


def _render(value: Any, verb: str, out: _Out) -> None:
    """Write ``%v`` (verb "v") or ``%s`` (verb "s") of ``value``; lists and maps recurse element-wise."""
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, bytes):
        out.add("0x" + value.hex())  # hexutil.Bytes has a String method
    elif isinstance(value, list):
        out.add("[")
        for i, item in enumerate(value):
            out.add(" " if i else "")
            _render(item, verb, out)
        out.add("]")
    elif isinstance(value, dict):
        out.add("map[")
        for i, key in enumerate(sorted(value)):  # fmt sorts map keys
            out.add(f"{' ' if i else ''}{key}:")
            _render(value[key], verb, out)
        out.add("]")
    elif isinstance(value, ChainId):
        neg = "true" if value.value < 0 else "false"
        if verb == "v":
            out.add(f"&{{{neg} [{' '.join(map(str, value.words()))}]}}")
        else:
            words = " ".join(f"%!s(big.Word={w})" for w in value.words())
            out.add(f"&{{%!s(bool={neg}) [{words}]}}")
    else:
        text = _scalar(value)
        out.add(
            text if verb == "v" else f"%!s({go_type(value)}={text})" if value is not None else "%!s(<nil>)"
        )


def _scalar(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _format(value: Any, verb: str, limit: int | None) -> str:
    out = _Out(limit)
    with contextlib.suppress(_Full):  # the limit was reached: out holds the prefix
        _render(value, verb, out)
    return out.text()


def go_v(value: Any, limit: int | None = 256) -> str:
    """``%v``."""
    return _format(value, "v", limit)


def go_s(value: Any, limit: int | None = None) -> str:
    """``%s``; unlimited by default because the display must show every signed character."""
    if isinstance(value, str) and limit is None:
        return value  # the common case, kept cheap for large string arrays
    return _format(value, "s", limit)


go_q = go_quote  # ``%q`` of a string
