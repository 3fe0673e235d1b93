"""Decoding JSON-RPC messages: one value from an HTTP body, or a stream of values from a socket.

geth's IPC clients write one compact value per line, but the wire format is a *stream of JSON
values*: whitespace between values is optional (``{...}{...}`` is two messages) and one value may
arrive in many small reads. ``StreamDecoder`` finds where each top-level value ends with a small
bracket/string scanner and hands exactly that slice to ``json``; scanning resumes where the last
read stopped, so a large value trickling in is not re-parsed from its start on every read.

After invalid JSON the stream cannot be resynchronised (where would the next value start?), so
the decoder refuses further input; the caller answers -32700 with id null and closes the
connection, as geth does after a read error on a stream.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from signer.codecs.gomarshal import go_text
from signer.codecs.goscan import syntax_error
from signer.errors import LimitExceeded, ParseError
from signer.rpc.limits import DEFAULT_LIMITS

DEFAULT_MAX_MESSAGE_SIZE = DEFAULT_LIMITS.max_message_size

_WHITESPACE = b" \t\r\n"
_STRUCTURAL = re.compile(rb'["\[\]{}]')
_STRING_SPECIAL = re.compile(rb'["\\]')
# A bare top-level token (number, literal or garbage) ends where whitespace or another value starts.
_TOKEN_END = re.compile(rb'[ \t\r\n"\[{]')


def _reject_constant(name: str) -> Any:
    # Python accepts NaN and Infinity; JSON and geth do not.
    raise ValueError(f"invalid constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def count_values(data: bytes) -> int:
    """An upper bound on the objects, arrays and elements ``data`` decodes to, without decoding.

    Brackets and commas inside strings count too; honest messages are far below the limit.
    """
    return data.count(b"{") + data.count(b"[") + data.count(b",")


def _refuse_too_many_values(data: bytes, max_values: int | None) -> None:
    if max_values is not None and count_values(data) > max_values:
        raise LimitExceeded(f"too many values in one message (limit {max_values})")


def decode_value(data: bytes, max_values: int | None = None) -> Any:
    """Decode exactly one JSON value (surrounding whitespace allowed) or raise ``ParseError``
    with the message Go's decoder gives (it quotes one character of the input at most);
    ``LimitExceeded`` before decoding when it could hold more than ``max_values`` values.

    Bytes that are not UTF-8 become U+FFFD, one per byte, as in Go; outside a string they are
    a syntax error either way."""
    _refuse_too_many_values(data, max_values)
    try:
        return _DECODER.decode(go_text(data))
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and over-long integers; RecursionError is deep nesting.
        raise ParseError(syntax_error(data)) from None


class NoMessage(Exception):
    """An HTTP body with nothing but whitespace: geth's HTTP server answers it with an empty body."""


# geth's HTTP server answers every body it cannot decode with this text, whatever the cause
# (its stream transports give the decoder's own message instead).
HTTP_PARSE_ERROR = "parse error"


def decode_http_body(data: bytes, max_values: int | None = None) -> Any:
    """The request in an HTTP body, read as geth reads it: one JSON value, decoded once, so
    whatever follows it (another value, garbage) is never looked at.

    ``NoMessage`` for an empty body; ``ParseError`` with geth's one text when the first value is
    not JSON; ``LimitExceeded`` as for ``decode_value``.
    """
    _refuse_too_many_values(data, max_values)
    text = go_text(data)
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise NoMessage
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        raise ParseError(HTTP_PARSE_ERROR) from None
    return value


class StreamDecoder:
    """Incremental decoder for a stream of JSON values with a per-value size and values limit.

    A value that could decode to more than ``max_values`` values is not decoded: it is yielded as
    the ``LimitExceeded`` error itself, and the stream stays in sync (its end is known).
    ``last_size`` is the encoded size of the value yielded last.
    """

    def __init__(
        self, max_size: int = DEFAULT_MAX_MESSAGE_SIZE, max_values: int = DEFAULT_LIMITS.max_values
    ) -> None:
        if max_size <= 0:
            raise ValueError("max_size must be positive")
        self.max_size = max_size
        self.max_values = max_values
        self.last_size = 0
        self._buf = bytearray()
        self._started = False  # the buffer starts with the first byte of a pending value
        self._pos = 0  # bytes of the pending value already scanned
        self._depth = 0
        self._in_string = False
        self._token = False
        self._failed = False

    def feed(self, data: bytes) -> Iterator[Any]:
        """Yield every value completed by ``data``; raise ``ParseError`` where the stream goes bad.

        Values before a bad one are yielded first, so a caller that handles each value as it
        arrives answers them before it sees the error.
        """
        if self._failed:
            raise ParseError("parse error")
        self._buf += data
        while True:
            end = self._scan()
            if end is None:
                if len(self._buf) > self.max_size:
                    raise self._fail(f"message too large (limit {self.max_size} bytes)")
                return
            if end > self.max_size:
                raise self._fail(f"message too large (limit {self.max_size} bytes)")
            value = bytes(self._buf[:end])
            # Deleting from the front of a bytearray is O(1) amortised in CPython.
            del self._buf[:end]
            self._started, self._token, self._in_string = False, False, False
            self._pos = self._depth = 0
            self.last_size = end
            try:
                decoded = decode_value(value, self.max_values)
            except ParseError:
                self._failed = True
                raise
            except LimitExceeded as exc:
                decoded = exc
            del value
            yield decoded

    @property
    def pending(self) -> int:
        """Bytes of an incomplete value held in the buffer."""
        return len(self._buf)

    def _fail(self, message: str) -> ParseError:
        self._failed = True
        self._buf.clear()
        return ParseError(message)

    def _scan(self) -> int | None:
        """Return the end offset of the first complete value in the buffer, or None."""
        buf = self._buf
        if not self._started:
            start = 0
            while start < len(buf) and buf[start] in _WHITESPACE:
                start += 1
            # Whitespace between values is dropped so it never counts towards the size limit.
            del buf[:start]
            if not buf:
                return None
            first = buf[0]
            if first in b"[{":
                self._depth = 1
            elif first == ord('"'):
                self._in_string = True
            else:
                self._token = True
            self._started, self._pos = True, 1
        if self._token:
            token_end = _TOKEN_END.search(buf, self._pos)
            if token_end is None:
                self._pos = len(buf)
                return None
            return token_end.start()
        while True:
            if self._in_string:
                match = _STRING_SPECIAL.search(buf, self._pos)
                if match is None:
                    self._pos = len(buf)
                    return None
                if match.group() == b"\\":
                    if match.end() >= len(buf):
                        self._pos = match.start()  # the escaped byte has not arrived yet
                        return None
                    self._pos = match.end() + 1
                    continue
                self._in_string = False
                self._pos = match.end()
                if self._depth == 0:
                    return self._pos  # a top-level string
                continue
            match = _STRUCTURAL.search(buf, self._pos)
            if match is None:
                self._pos = len(buf)
                return None
            self._pos = match.end()
            char = match.group()
            if char == b'"':
                self._in_string = True
            elif char in (b"[", b"{"):
                self._depth += 1
            else:
                # Mismatched brackets are not our concern: json rejects the slice.
                self._depth -= 1
                if self._depth == 0:
                    return self._pos
