"""Making request-derived text safe to show a person: one function, used for every such string.

A caller controls header values, EIP-712 type and field names, messages, rule output and more.
Printed raw, an ESC sequence in any of them can move the cursor, clear lines and rewrite what the
operator reads above ``Approve? [y/N]`` (issue 12, finding 2); a bidi override can reverse how an
address reads; a newline can forge a whole line. ``for_terminal`` turns every character that is
not meant to be *seen* into a visible escape, so what reaches the screen is what was sent:

* C0 controls and DEL (``\\x1b`` → ``\\x1b`` as four visible characters; ``\\n``, ``\\r``, ``\\t``
  as their short forms), and the C1 range U+0080–U+009F, which some terminals obey as controls;
* Unicode format characters (Cf): bidi embeddings, overrides and isolates, zero-width characters,
  the soft hyphen, BOM and the invisible "tag" characters U+E0000–U+E007F;
* line and paragraph separators (U+2028, U+2029) and lone surrogates.

The set is exactly Unicode's Cc, Cf, Zl, Zp and Cs categories (the test checks it against
``unicodedata`` for every code point). A backslash is left as it is: escaping it too would
only make paths harder to read, and a literal ``\\x1b`` typed by a caller is harmless text.
"""

from __future__ import annotations

import re

# Beyond C0: DEL and C1, then Unicode's Cf, Zl, Zp and Cs code points (Unicode 14, Python 3.11).
_BEYOND_C0 = (
    "\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_ANY = re.compile(f"[\u0000-\u001f{_BEYOND_C0}]")
_BUT_LINES = re.compile(f"[\u0000-\u0008\u000b-\u001f{_BEYOND_C0}]")  # keeps \t (09) and \n (0a)
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_terminal(text: object) -> str:
    """``str(text)`` with every control, format and separator character made visible.

    For one value inside a line: newlines and tabs are escaped too, so a value cannot start a
    line of its own.
    """
    return _ANY.sub(_visible, text if isinstance(text, str) else str(text))


def for_terminal_lines(text: object) -> str:
    """Like ``for_terminal`` but keeps ``\\n`` and ``\\t``: for whole blocks composed by the
    signer (a screen, a message with several lines) as a last line of defence."""
    return _BUT_LINES.sub(_visible, text if isinstance(text, str) else str(text))
