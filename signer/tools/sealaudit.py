"""Clique seals read back from a signer's audit log: what was asked, what was returned, how fast.

Every ``account_signData`` leaves a request line (with the header RLP) and a response line (the
65-byte seal, or the error). A node asks for seals one at a time, so on a signer serving one node
each request is answered by the next SignData response; the demo shows the latency from these
two timestamps (millisecond resolution) and the tests check every returned seal against the
chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from signer.clique.header import clique_signing_material
from signer.codecs.signdata import CLIQUE_HEADER

_PAIR = re.compile(r'(\S+?)=("(?:[^"\\]|\\.)*"|\S*)')


@dataclass(frozen=True)
class SealEvent:
    """One clique seal request and its answer (``seal`` None when refused: see ``error``)."""

    requested: datetime
    answered: datetime
    height: int
    parent_hash: bytes
    seal_hash: bytes
    header_time: int
    seal: bytes | None
    error: str | None

    @property
    def latency_ms(self) -> float:
        return (self.answered - self.requested).total_seconds() * 1000


def _fields(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _PAIR.findall(line):
        if value.startswith('"'):
            value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
        out[key.strip('"')] = value
    return out


def _request_rlp(data: str) -> bytes | None:
    """The header RLP in a request line's data (a JSON string of 0x-hex), when it is one."""
    text = data.strip().strip('"')
    if not text.startswith("0x"):
        return None
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        return None


def read_seals(audit_log: Path, *, start: int = 0) -> tuple[list[SealEvent], int]:
    """The clique seals logged from byte offset ``start`` on, and the offset to continue from.

    Lines that are not complete yet (no newline) are left for the next call.
    """
    with open(audit_log, "rb") as handle:
        handle.seek(start)
        chunk = handle.read()
    end = chunk.rfind(b"\n") + 1
    events: list[SealEvent] = []
    pending: tuple[datetime, bytes] | None = None
    for raw in chunk[:end].decode("utf-8", "replace").splitlines():
        fields = _fields(raw)
        if fields.get("msg") != "SignData":
            continue
        when = datetime.fromisoformat(fields["time"].replace("Z", "+00:00"))
        if fields.get("type") == "request":
            rlp = _request_rlp(fields.get("data", ""))
            pending = (when, rlp) if rlp is not None and fields.get("content-type") == CLIQUE_HEADER else None
            continue
        if fields.get("type") != "response" or pending is None:
            continue
        requested, rlp = pending
        pending = None
        material = clique_signing_material(rlp)
        error = fields.get("error")
        error = None if error in (None, "<nil>") else error
        seal = bytes.fromhex(fields["data"]) if error is None and fields.get("data") else None
        header = material.header
        events.append(
            SealEvent(requested, when, header.number, header.parent_hash, material.seal_hash, header.time,
                      seal, error)
        )  # fmt: skip
    return events, start + end
