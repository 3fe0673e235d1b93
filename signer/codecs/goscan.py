"""The message Go's ``encoding/json`` scanner gives for JSON it cannot parse.

clef answers a malformed request with that message (``invalid character 'g' looking for
beginning of value``), and so does a data/typed payload that is not JSON. Python's parser finds
the same bad byte but names it differently, so this walks the text with Go's state machine
(scanner.go) once Python has refused it. Input beyond ``MAX_SCAN`` bytes is not walked: a caller
cannot make the signer spend seconds phrasing an error; it gets a shorter message instead.
"""

from __future__ import annotations

import re

from signer.codecs.goquote import go_quote

MAX_SCAN = 1 << 20
MAX_NESTING = 10000  # Go's maxNestingDepth

_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPABLE = frozenset(b'bfnrt\\/"')
_PLAIN_STRING = re.compile(rb'[^"\\\x00-\x1f]*')
_LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}


class _Error(Exception):
    def __init__(self, byte: int, context: str) -> None:
        super().__init__(f"invalid character {quote_char(byte)} {context}")


def quote_char(byte: int) -> str:
    """Go's quoteChar: the byte as a rune, single-quoted."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    return "'" + go_quote(chr(byte))[1:-1] + "'"


def syntax_error(data: bytes) -> str:
    """Go's error for ``data``, which Python's json refused; "unexpected end of JSON input" when
    the text stops before the value ends."""
    if len(data) > MAX_SCAN:
        return "invalid JSON (too large to locate the error)"
    scanner = _Scanner(data)
    try:
        scanner.value_then_end()
    except _Error as exc:
        return str(exc)
    except IndexError:
        return "unexpected end of JSON input"
    except RecursionError:  # deeper than Python's stack; Go refuses beyond MAX_NESTING
        return f"invalid character {quote_char(data[scanner.i])} exceeded max depth"
    return "invalid JSON"


class _Scanner:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0
        self.depth = 0

    def skip_space(self) -> int:
        while self.data[self.i] in _SPACE:
            self.i += 1
        return self.data[self.i]

    def value_then_end(self) -> None:
        self.value()
        while self.i < len(self.data):
            if self.data[self.i] not in _SPACE:
                raise _Error(self.data[self.i], "after top-level value")
            self.i += 1

    def value(self) -> None:
        c = self.skip_space()
        if c == ord("{"):
            self.container(ord("}"), self.object_member)
        elif c == ord("["):
            self.container(ord("]"), self.array_element)
        elif c == ord('"'):
            self.i += 1
            self.string()
        elif c == ord("-") or c in _DIGITS:
            self.number()
        elif c in _LITERALS:
            self.literal(_LITERALS[c])
        else:
            raise _Error(c, "looking for beginning of value")

    def container(self, close: int, member: object) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Error(self.data[self.i], "exceeded max depth")
        self.i += 1
        if self.skip_space() == close:
            self.i += 1
            self.depth -= 1
            return
        while True:
            member()  # type: ignore[operator]
            c = self.skip_space()
            if c == close:
                self.i += 1
                self.depth -= 1
                return
            if c != ord(","):
                raise _Error(c, "after object key:value pair" if close == ord("}") else "after array element")
            self.i += 1

    def array_element(self) -> None:
        self.value()

    def object_member(self) -> None:
        c = self.skip_space()
        if c != ord('"'):
            raise _Error(c, "looking for beginning of object key string")
        self.i += 1
        self.string()
        c = self.skip_space()
        if c != ord(":"):
            raise _Error(c, "after object key")
        self.i += 1
        self.value()

    def string(self) -> None:
        data = self.data
        while True:
            self.i = _PLAIN_STRING.match(data, self.i).end()  # type: ignore[union-attr]
            c = data[self.i]
            self.i += 1
            if c == ord('"'):
                return
            if c != ord("\\"):
                raise _Error(c, "in string literal")
            c = data[self.i]
            self.i += 1
            if c == ord("u"):
                for _ in range(4):
                    if data[self.i] not in _HEX:
                        raise _Error(data[self.i], "in \\u hexadecimal character escape")
                    self.i += 1
            elif c not in _ESCAPABLE:
                raise _Error(c, "in string escape code")

    def number(self) -> None:
        data = self.data
        if data[self.i] == ord("-"):
            self.i += 1
            if data[self.i] not in _DIGITS:
                raise _Error(data[self.i], "in numeric literal")
        first = data[self.i]
        self.i += 1
        if first != ord("0"):
            self.digits()
        if self.peek() == ord("."):
            self.i += 1
            if data[self.i] not in _DIGITS:
                raise _Error(data[self.i], "after decimal point in numeric literal")
            self.digits()
        if self.peek() in (ord("e"), ord("E")):
            self.i += 1
            if data[self.i] in (ord("+"), ord("-")):
                self.i += 1
            if data[self.i] not in _DIGITS:
                raise _Error(data[self.i], "in exponent of numeric literal")
            self.digits()

    def digits(self) -> None:
        while self.i < len(self.data) and self.data[self.i] in _DIGITS:
            self.i += 1

    def peek(self) -> int:
        return self.data[self.i] if self.i < len(self.data) else -1

    def literal(self, word: bytes) -> None:
        for expected in word[1:]:
            self.i += 1
            if self.data[self.i] != expected:
                context = f"in literal {word.decode()} (expecting {quote_char(expected)})"
                raise _Error(self.data[self.i], context)
        self.i += 1
