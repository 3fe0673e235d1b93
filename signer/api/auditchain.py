"""The audit log's hash chain: how an entry is sealed, and how a set of files is verified.

Every entry ends with `` seq=N hash=H``. H is SHA-256 over the previous entry's hash (32 raw
bytes) followed by the entry's text up to, not including, `` hash=`` (UTF-8). The first entry of
every writing session (start, restart, SIGHUP reopen, a CLI tool) is ``msg=AuditLogOpened`` and
also carries ``prev=<hash of the entry before it>``, so a file that starts after a rotation can
still be checked on its own, and the chain runs on across files and restarts. The very first
entry has ``prev`` = 64 zeros (the genesis) and seq 1.

What this shows: any entry edited, removed, inserted or moved before the last entry of the files
given. What it cannot show on its own: entries cut from the very end of the newest file, or a
whole chain recomputed by someone who can write the file; compare the head (``sealward audit
verify`` prints it, the signer logs it at every reopen and exit) with a copy kept elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

GENESIS = "0" * 64
OPENED = "AuditLogOpened"
_TAIL = re.compile(r" seq=([1-9][0-9]{0,18}) hash=([0-9a-f]{64})\Z")
_PREV = re.compile(r" prev=([0-9a-f]{64})(?= |\Z)")
_MSG = re.compile(r" msg=(\S+)")
MAX_LINE = 1 << 20  # a verifier line bound; the writer's own lines are far shorter


def entry_hash(prev: str, body: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev) + body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One parsed line: ``body`` is everything the hash covers."""

    where: str  # "file:line", for messages
    body: str
    seq: int
    hash: str
    prev: str | None  # only on AuditLogOpened entries
    msg: str


def parse(line: str, where: str) -> Entry | None:
    """The chained entry on ``line`` (without its newline), or None when it is not one."""
    tail = _TAIL.search(line)
    if tail is None:
        return None
    body = line[: tail.start()] + f" seq={tail.group(1)}"
    prev = _PREV.search(body)
    msg = _MSG.search(body)
    return Entry(
        where,
        body,
        int(tail.group(1)),
        tail.group(2),
        prev.group(1) if prev else None,
        msg.group(1) if msg else "",
    )


def last_entry(tail: bytes) -> Entry | None:
    """The last complete chained entry in the final bytes of a file, if any."""
    lines = tail.split(b"\n")
    for raw in reversed(lines[:-1]):  # lines[-1] is after the last newline: incomplete or empty
        entry = parse(raw.decode("utf-8", "replace"), "tail")
        if entry is not None:
            return entry
    return None


@dataclass
class Verdict:
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    problem: str = ""


def _lines(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                where = f"{path}:{number}"
                if len(raw) > MAX_LINE or not raw.endswith(b"\n"):
                    yield where, ""  # too long to be ours, or cut short by a crash or an edit
                    continue
                yield where, raw[:-1].decode("utf-8", "replace")


def verify(paths: Iterable[Path]) -> Verdict:
    """Check the chain through ``paths`` in order (oldest first); stop at the first problem."""
    count, last = 0, None
    for where, line in _lines(paths):
        entry = parse(line, where)
        if entry is None:
            return _fail(count, last, f"{where}: not a chained audit entry (inserted, or cut short)")
        problem = _check(entry, last)
        if problem:
            return _fail(count, last, f"{where}: {problem}")
        count, last = count + 1, entry
    if last is None:
        return Verdict(False, 0, 0, GENESIS, "no audit entries found")
    return Verdict(True, count, last.seq, last.hash)


def _check(entry: Entry, last: Entry | None) -> str:
    if entry.prev is not None:
        prev = entry.prev
    elif last is not None:
        prev = last.hash
    else:
        return f"the first entry here (seq={entry.seq}) is not an {OPENED} entry: earlier entries are missing"
    if entry_hash(prev, entry.body) != entry.hash:
        if last is not None and entry.prev is None and entry.seq != last.seq + 1:
            return _order(entry, last)
        return (
            f"entry seq={entry.seq} does not match its hash or does not chain to the entry before it "
            "(edited or inserted)"
        )
    if last is None:
        return ""  # a file given on its own starts at an opened entry, whose prev is taken on trust
    if entry.prev is not None and entry.prev != last.hash:
        if entry.prev == GENESIS:
            return f"the chain starts again (genesis) at seq={entry.seq} after seq={last.seq}"
        if entry.seq != last.seq + 1:
            return _order(entry, last)
        return f"entry seq={entry.seq} does not chain to seq={last.seq}: the entry before it was edited"
    if entry.seq != last.seq + 1:
        return _order(entry, last)
    return ""


def _order(entry: Entry, last: Entry) -> str:
    if entry.seq > last.seq + 1:
        missing = (
            f"seq={last.seq + 1}" if entry.seq == last.seq + 2 else f"seq={last.seq + 1}..{entry.seq - 1}"
        )
        return f"{missing} missing before seq={entry.seq} (deleted)"
    return f"entry seq={entry.seq} after seq={last.seq} (inserted or reordered)"


def _fail(count: int, last: Entry | None, problem: str) -> Verdict:
    return Verdict(False, count, last.seq if last else 0, last.hash if last else GENESIS, problem)
