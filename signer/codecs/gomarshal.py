"""JSON text exactly as Go's ``encoding/json`` writes it: what clef sends to callers and UIs.

Go differs from Python's ``json.dumps(ensure_ascii=False)`` in a few bytes that UIs and tests
written against clef see: ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026``;
U+2028 and U+2029 are escaped (backspace and form feed are ``\\b`` and ``\\f`` in both since
Go 1.22); and a string holding bytes that are not UTF-8 is written with one
``\\ufffd`` escape per such byte (while a real U+FFFD character is written as itself).

Go strings are bytes, Python strings are text, so a value that clef builds from arbitrary bytes
(the text/plain message shown to the UI) is a ``GoBytes``: it reads as text with U+FFFD in place
of each invalid byte everywhere else, and keeps the bytes for this encoder.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(u[0-9a-f]{4}|.)|[<>&\u2028\u2029]|[\udc80-\udcff]")
_REWRITE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class GoBytes(str):
    """Bytes shown as text: U+FFFD for each byte that does not start valid UTF-8 (Go's rule)."""

    raw: bytes

    def __new__(cls, raw: bytes) -> GoBytes:
        self = super().__new__(cls, go_text(raw))
        self.raw = raw
        return self


_MARKS_TO_REPLACEMENT = {code: "\ufffd" for code in range(0xDC80, 0xDD00)}


def go_decode(raw: bytes) -> str:
    """Decode per Go's ``utf8.DecodeRune`` walk: each invalid byte becomes U+DC80+byte (a mark)."""
    return raw.decode("utf-8", "surrogateescape")


def go_text(raw: bytes) -> str:
    """Bytes as Go turns them into text: U+FFFD for each byte that does not start valid UTF-8."""
    return go_decode(raw).translate(_MARKS_TO_REPLACEMENT)


def _marked(value: Any) -> Any:
    """A copy in which GoBytes carry their invalid bytes as marks and any other lone surrogate
    (from a JSON ``\\ud800`` escape, which Go decodes as U+FFFD) is U+FFFD."""
    if isinstance(value, GoBytes):
        return go_decode(value.raw)
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {_marked(k): _marked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_marked(v) for v in value]
    return value


def _rewrite(match: re.Match[str]) -> str:
    token = match.group(0)
    if 0xDC80 <= ord(token[0]) <= 0xDCFF:
        return "\\ufffd"
    return _REWRITE.get(token, token)


def go_marshal(value: Any) -> bytes:
    """Compact JSON of ``value`` with Go's escaping, as UTF-8 bytes."""
    text = json.dumps(_marked(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _ESCAPE.sub(_rewrite, text).encode("utf-8")
