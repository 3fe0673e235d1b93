"""The seal guard's decision, as a pure function of what was already sealed.

The stores load the records of one (chain id, signer) key inside a transaction, call
:func:`decide`, and write the proposal only when the decision says so. Keeping the rule here,
free of I/O, lets SQLite and PostgreSQL share it and lets the tests cover it exhaustively.

Only the highest recorded height matters: below it is a rollback, above it is new ground, and at
it the records there say whether this is the same header again, a re-seal on the same parent, or
a second fork.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_RESUBMITS = 8
MAX_INT64 = 2**63 - 1  # both databases store heights and chain ids as signed 64-bit integers

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


class Mode(StrEnum):
    STRICT = "strict"  # one seal hash per height
    RESUBMIT = "resubmit"  # geth's re-sealing of newer work on the same parent, bounded
    OFF = "off"  # no protection; for tests, tools and benchmarks that seal arbitrary heights


def parse_mode(value: str) -> Mode:
    try:
        return Mode(value.strip().lower())
    except ValueError:
        choices = "|".join(m.value for m in Mode)
        raise ValueError(f"invalid seal guard mode {value!r}, expected {choices}") from None


def normalize_signer(address: str) -> str:
    """The key form of an address: 0x + 40 lowercase hex, so checksum spelling never splits a key."""
    text = address.strip().lower()
    if not _ADDRESS.fullmatch(text):
        raise ValueError(f"invalid signer address {address!r}, expected 0x followed by 40 hex digits")
    return text


@dataclass(frozen=True)
class SealRecord:
    """One seal the guard let through. ``sealed_at`` is a Unix time, for operators only."""

    chain_id: int
    signer: str
    height: int
    seal_hash: bytes
    parent_hash: bytes
    sealed_at: float = 0.0

    def __str__(self) -> str:
        """One line for ``sealward guard show``."""
        when = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.sealed_at)) if self.sealed_at else "-"
        return (
            f"chain={self.chain_id} signer={self.signer} height={self.height} "
            f"seal={_hex(self.seal_hash)} parent={_hex(self.parent_hash)} at={when}"
        )


@dataclass(frozen=True)
class Proposal:
    """A seal about to be made; build it with :func:`make_proposal` to get validated values."""

    chain_id: int
    signer: str
    height: int
    seal_hash: bytes
    parent_hash: bytes


@dataclass(frozen=True)
class Decision:
    allowed: bool
    record: bool  # write the proposal (False for an identical repeat or when refused)
    reason: str


def make_proposal(chain_id: int, signer: str, height: int, seal_hash: bytes, parent_hash: bytes) -> Proposal:
    if not 0 <= chain_id <= MAX_INT64:
        raise ValueError(f"chain id {chain_id} out of range 0..2^63-1")
    if not 0 <= height <= MAX_INT64:
        raise ValueError(f"height {height} out of range 0..2^63-1")
    if len(seal_hash) != 32 or len(parent_hash) != 32:
        raise ValueError("seal hash and parent hash must be 32 bytes each")
    return Proposal(chain_id, normalize_signer(signer), height, bytes(seal_hash), bytes(parent_hash))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def decide(mode: Mode, resubmits: int, prior: Iterable[SealRecord], p: Proposal) -> Decision:
    """Allow or refuse ``p`` given the earlier seals of its key (any superset of the top height)."""
    if mode is Mode.OFF:
        return Decision(True, False, "seal guard off")
    records = [r for r in prior if r.chain_id == p.chain_id and r.signer == p.signer]
    top = max((r.height for r in records), default=None)
    where = f"height {p.height} for {p.signer} on chain {p.chain_id}"
    if top is None or p.height > top:
        return Decision(True, True, "new height")
    if p.height < top:
        return Decision(
            False,
            False,
            f"seal guard: refusing to seal {where}: height {top} is already sealed and the guard never "
            f"rolls back; after a deliberate rollback run `sealward guard reset --chainid {p.chain_id} "
            f"--signer {p.signer} --height {p.height}`",
        )
    at_top = [r for r in records if r.height == top]
    # A seal hash commits to the parent, so the same hash with the same parent is the same
    # header asked again: signing it again reveals nothing new and cannot fork the chain.
    if any(r.seal_hash == p.seal_hash and r.parent_hash == p.parent_hash for r in at_top):
        return Decision(True, False, "same header sealed again")
    sealed_parent = at_top[0].parent_hash  # every record at one height shares its parent
    if p.parent_hash != sealed_parent:
        return Decision(
            False,
            False,
            f"seal guard: refusing to seal {where} on parent {_hex(p.parent_hash)}: this height is "
            f"already sealed on parent {_hex(sealed_parent)} (two forks at one height is equivocation)",
        )
    if mode is Mode.STRICT:
        return Decision(
            False,
            False,
            f"seal guard (strict): refusing to seal {where} with seal hash {_hex(p.seal_hash)}: this "
            f"height is already sealed with seal hash {_hex(at_top[0].seal_hash)}",
        )
    sealed = len({r.seal_hash for r in at_top})
    if sealed >= 1 + resubmits:
        return Decision(
            False,
            False,
            f"seal guard: refusing to seal {where}: already sealed {sealed} times on parent "
            f"{_hex(sealed_parent)} (limit: 1 + {resubmits} re-seals, --seal-guard-resubmits)",
        )
    return Decision(True, True, f"re-seal {sealed} of {resubmits} on the same parent")
