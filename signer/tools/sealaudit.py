"""Clique seals read back from a signer's audit log: what was asked, what was returned, how fast.

Every ``account_signData`` leaves a request line (with the header RLP) and a response line (the
65-byte seal, or the error), paired by their ``reqid`` (requests run concurrently, so responses
come in any order); the demo shows the latency from these two timestamps (millisecond
resolution) and the tests check every returned seal against the chain.
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


class SealReader:
    """Follows an audit log as it grows; ``read()`` returns the seals answered since the last
    call. A request whose answer is not in the file yet waits for a later ``read()``."""

    def __init__(self, audit_log: Path) -> None:
        self.path = audit_log
        self._offset = 0
        self._pending: dict[str, tuple[datetime, bytes]] = {}  # clique requests by reqid

    def read(self) -> list[SealEvent]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1  # an incomplete last line is read next time
        self._offset += end
        events = [self._event(_fields(raw)) for raw in chunk[:end].decode("utf-8", "replace").splitlines()]
        return [event for event in events if event is not None]

    def _event(self, fields: dict[str, str]) -> SealEvent | None:
        if fields.get("msg") != "SignData" or "reqid" not in fields:
            return None
        when = datetime.fromisoformat(fields["time"].replace("Z", "+00:00"))
        if fields.get("type") == "request":
            rlp = _request_rlp(fields.get("data", ""))
            if rlp is not None and fields.get("content-type") == CLIQUE_HEADER:
                self._pending[fields["reqid"]] = (when, rlp)
            return None
        asked = self._pending.pop(fields["reqid"], None) if fields.get("type") == "response" else None
        if asked is None:
            return None
        requested, rlp = asked
        material = clique_signing_material(rlp)
        header = material.header
        error = fields.get("error")
        error = None if error in (None, "<nil>") else error
        seal = bytes.fromhex(fields["data"]) if error is None and fields.get("data") else None
        return SealEvent(requested, when, header.number, header.parent_hash, material.seal_hash, header.time,
                         seal, error)  # fmt: skip


def read_seals(audit_log: Path) -> list[SealEvent]:
    """Every clique seal answered in an audit log so far."""
    return SealReader(audit_log).read()
