"""Reading an HTTP request body the way geth's server does: ``Content-Length`` or chunked, and never
more than the message limit (geth wraps the body in ``http.MaxBytesReader``).

A chunked body is read up to the limit and no further: what arrived by then is the message, so a
body cut short decodes as a parse error, as with geth. The connection is then closed, since the
rest of the body was never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BufferedIOBase
from typing import Literal

MAX_CHUNK_LINE = 4096  # a chunk-size line (hex size, extensions) or a trailer line


class MalformedChunks(Exception):
    """The chunked encoding itself is broken. geth's decoder then fails to read the body, so the
    caller answers as for any body that is not JSON."""


@dataclass
class Body:
    data: bytes
    # "complete"; "cut": the limit stopped the reading (answer, then close the connection);
    # "short": the sender went away before the end (nobody to answer)
    state: Literal["complete", "cut", "short"]


def read_sized(rfile: BufferedIOBase, length: int) -> Body:
    data = rfile.read(length)
    return Body(data, "complete" if len(data) == length else "short")


def read_chunked(rfile: BufferedIOBase, limit: int) -> Body:
    """The de-chunked body, at most ``limit`` bytes; trailers are read and dropped."""
    parts: list[bytes] = []
    total = 0
    while True:
        size = _chunk_size(_line(rfile))
        if size == 0:
            break
        take = min(size, limit - total)
        data = rfile.read(take)
        parts.append(data)
        total += len(data)
        if len(data) < take:
            return Body(b"".join(parts), "short")
        if take < size:
            return Body(b"".join(parts), "cut")
        if rfile.read(2) != b"\r\n":
            raise MalformedChunks("chunk data not followed by CRLF")
    while _line(rfile):  # trailer fields, up to the empty line
        pass
    return Body(b"".join(parts), "complete")


def _line(rfile: BufferedIOBase) -> bytes:
    line = rfile.readline(MAX_CHUNK_LINE + 1)
    if len(line) > MAX_CHUNK_LINE or not line.endswith(b"\n"):
        raise MalformedChunks("chunk line too long or cut short")
    return line.rstrip(b"\r\n")


def _chunk_size(line: bytes) -> int:
    digits = line.split(b";", 1)[0].strip()
    if not digits or len(digits) > 16 or any(c not in b"0123456789abcdefABCDEF" for c in digits):
        raise MalformedChunks("invalid chunk size")
    return int(digits, 16)
