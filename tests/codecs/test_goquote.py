"""go_quote against the per-character definition of Go's strconv.Quote, for every code point.

go_quote escapes with one regular-expression pass for speed (the audit log quotes every payload
on the seal path); this pins it to the rule it implements, character by character: Go's short
escapes, ``\\xNN`` for invalid UTF-8 bytes (surrogate escapes) and non-printable ASCII, ``\\uNNNN``
and ``\\UNNNNNNNN`` for other non-printable characters, everything printable as it is.
"""

from __future__ import annotations

import random

from signer.api.auditlog import slog_value
from signer.codecs.goquote import go_quote

SHORT = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
         "\t": "\\t", "\v": "\\v"}  # fmt: skip


def quoted_char(ch: str) -> str:
    code = ord(ch)
    if ch in SHORT:
        return SHORT[ch]
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if ch.isprintable():
        return ch
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def test_every_code_point_alone() -> None:
    for code in range(0x110000):
        ch = chr(code)
        assert go_quote(ch) == f'"{quoted_char(ch)}"', hex(code)


def test_mixed_strings_quote_character_by_character() -> None:
    rng = random.Random(712)
    pools = [(0x20, 0x7E), (0x00, 0x7F), (0x80, 0x3000), (0xD800, 0xDFFF), (0x10000, 0x10FFFF)]
    for _ in range(20_000):
        text = "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(rng.randint(0, 16)))
        assert go_quote(text) == '"' + "".join(map(quoted_char, text)) + '"', ascii(text)


def test_hex_payloads_stay_bare_in_the_audit_log() -> None:
    payload = "0x" + bytes(range(256)).hex() * 3
    assert slog_value(payload) == payload
    assert slog_value(payload + " ") == f'"{payload} "'
    assert slog_value("a\u2028b") == '"a\\u2028b"'  # a line separator never reaches a line raw
