"""Go's ``strconv.Quote`` (``%q``): clef's error messages, audit log and displays quote with it."""

from __future__ import annotations

import re

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t", "\v": "\\v"}  # fmt: skip
# Characters Go prints as they are and that are common in what the signer quotes (hex payloads,
# addresses, messages): printable ASCII but the quote and the backslash. Everything else goes
# through _escape_one, which also keeps printable non-ASCII characters as they are.
_OTHER = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _escape_one(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if ch.isprintable():
        return ch
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def go_quote(text: str) -> str:
    """Quote ``text`` as Go does. Surrogate escapes (from ``errors="surrogateescape"``) stand for
    invalid UTF-8 bytes and print as ``\\xNN``, like Go prints the bytes themselves."""
    # One regex pass instead of a Python loop per character: the audit log quotes every request's
    # payload, and a clique header is ~1,200 hex characters on the seal path.
    return '"' + _OTHER.sub(_escape_one, text) + '"'
