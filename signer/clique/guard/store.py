"""The seal guard: the policy bound to a durable store, and the one way to open it.

Callers use :class:`SealGuard` only::

    guard = open_guard("<configdir>/sealguard.db", mode="resubmit", instance="node-a")
    guard.check_and_record(chain_id, signer, height, seal_hash, parent_hash, header_time)  # or raises
    signature = backend.sign(...)  # only after the record is durable

``check_and_record`` returns only once the record is committed and synced, so a signature made
after it can be delivered; a crash in between leaves a record for a seal nobody received, which
is safe (the same header asked again is allowed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from signer.clique.guard.errors import SealGuardRefused, SealGuardUnavailable
from signer.clique.guard.policy import (
    Decision,
    Limits,
    Mode,
    Proposal,
    SealRecord,
    check_instance,
    decide,
    make_proposal,
    normalize_signer,
    parse_mode,
)

DEFAULT_DB_NAME = "sealguard.db"
# The policy reads only the heights near the top; older ones are kept this long (up to PRUNE_STRIDE
# heights more) for operators to look at.
KEEP_HEIGHTS = 10_000
# Re-seals of one height kept in the store (the newest ones): re-seals are bounded in rate, not in
# number, so the store bounds what it keeps. The policy needs only the parent, the owner and the
# newest record's time; an identical repeat of a pruned header counts as a re-seal.
KEEP_PER_HEIGHT = 32
# Pruning is housekeeping, not safety, so it runs only when there can be something to prune: old
# heights when the key's top crosses a multiple of PRUNE_STRIDE, a height's surplus re-seals only
# when that height already had records. A common seal then costs one SELECT and one INSERT.
PRUNE_STRIDE = 64


def pruning_due(proposal: Proposal, prior: Sequence[SealRecord]) -> tuple[bool, bool]:
    """(prune heights older than KEEP_HEIGHTS, prune the proposal's height to KEEP_PER_HEIGHT)
    for a proposal about to be recorded over ``prior``, the records the policy read."""
    top = max((r.height for r in prior), default=None)
    old_heights = top is not None and proposal.height // PRUNE_STRIDE != top // PRUNE_STRIDE
    same_height = any(r.height == proposal.height for r in prior)
    return old_heights, same_height


Decide = Callable[[Sequence[SealRecord]], Decision]


class GuardStore(Protocol):
    """Durable seal records. Every method is safe to call from several threads."""

    @property
    def location(self) -> str:
        """Where the records live, fit for messages (passwords redacted)."""
        ...

    def check_and_record(self, proposal: Proposal, decide: Decide, heights: int = 1) -> Decision:
        """In one transaction locked against every other writer of the proposal's key: load the
        records at the key's ``heights`` highest heights (top - heights < height <= top), call
        ``decide`` on them, and when it says ``record``,
        insert the proposal (sealed at ``decision.at``) and prune heights older than KEEP_HEIGHTS
        and all but the newest KEEP_PER_HEIGHT records of its height. Returns only after the
        commit is durable. Raises SealGuardUnavailable on any database failure."""
        ...

    def show(self, chain_id: int | None, signer: str | None, heights: int) -> list[SealRecord]:
        """Records of the ``heights`` highest heights of each matching key, by key then height."""
        ...

    def reset(self, chain_id: int, signer: str, height: int) -> int:
        """Delete the key's records at heights >= ``height``; return how many were deleted."""
        ...

    def retract(self, proposal: Proposal, sealed_at: float) -> int:
        """Delete the one record ``check_and_record`` wrote for ``proposal`` at ``sealed_at`` (a
        seal whose signature was never made); return how many were deleted (0 or 1)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SealReceipt:
    """What ``SealGuard.check_and_record`` wrote, so that a seal whose signing failed can be
    taken back (``SealGuard.retract``) instead of holding its height for nothing."""

    proposal: Proposal
    sealed_at: float


class SealGuard:
    """The policy (mode, time limits) applied through a store, on behalf of one signer instance."""

    def __init__(
        self,
        store: GuardStore,
        mode: Mode,
        limits: Limits,
        instance: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.mode = mode
        self.limits = limits
        self.instance = check_instance(instance)
        self.clock = clock

    def check_and_record(
        self, chain_id: int, signer: str, height: int, seal_hash: bytes, parent_hash: bytes, header_time: int
    ) -> SealReceipt | None:
        """Return when sealing is allowed and durably recorded; raise SealGuardRefused when the
        policy forbids it, SealGuardUnavailable when the database cannot vouch for it. The
        receipt names the record written (None when nothing was: guard off, identical repeat)."""
        if self.mode is Mode.OFF:
            return None
        try:
            proposal = make_proposal(
                chain_id, signer, height, seal_hash, parent_hash, header_time, self.instance
            )
        except ValueError as exc:
            raise SealGuardRefused(f"seal guard: {exc}") from None
        # The clock is read inside the store's transaction, after any wait for the lock.
        decision = self.store.check_and_record(
            proposal,
            lambda prior: decide(self.mode, self.limits, prior, proposal, self.clock()),
            self.limits.window,
        )
        if not decision.allowed:
            raise SealGuardRefused(decision.reason)
        return SealReceipt(proposal, decision.at) if decision.record else None

    def retract(self, receipt: SealReceipt) -> None:
        """Take back a record whose signature was never made (signing failed after it was
        written), so that it neither holds its height for this instance nor counts as a seal."""
        self.store.retract(receipt.proposal, receipt.sealed_at)

    def show(
        self, chain_id: int | None = None, signer: str | None = None, heights: int = 1
    ) -> list[SealRecord]:
        key_signer = normalize_signer(signer) if signer is not None else None
        return self.store.show(chain_id, key_signer, max(1, heights))

    def reset(self, chain_id: int, signer: str, height: int) -> int:
        if height < 0:
            raise ValueError("height must be 0 or more")
        return self.store.reset(chain_id, normalize_signer(signer), height)

    def close(self) -> None:
        self.store.close()


def is_postgres_url(url_or_path: str) -> bool:
    return url_or_path.startswith(("postgresql://", "postgres://"))


def default_guard_path(configdir: str) -> str:
    return os.path.join(configdir, DEFAULT_DB_NAME)


def open_guard(
    url_or_path: str,
    mode: str = "resubmit",
    *,
    instance: str,
    limits: Limits | None = None,
    clock: Callable[[], float] = time.time,
) -> SealGuard:
    """A guard over SQLite (a file path) or PostgreSQL (a postgresql:// URL).

    Opening never waits for the database: PostgreSQL connects on first use and reconnects after
    a failure, so a database that is down at start-up refuses seals (fail closed) without
    stopping the signer. The SQLite file is created here when missing, never later (see sqlite.py).
    """
    parsed = parse_mode(mode)
    store: GuardStore
    if is_postgres_url(url_or_path):
        from signer.clique.guard.postgres import PostgresStore

        store = PostgresStore(url_or_path)
    else:
        from signer.clique.guard.sqlite import SqliteStore

        store = SqliteStore(url_or_path)
    return SealGuard(store, parsed, limits or Limits(), instance, clock)


__all__ = [
    "DEFAULT_DB_NAME",
    "GuardStore",
    "SealGuard",
    "SealGuardRefused",
    "SealGuardUnavailable",
    "SealReceipt",
    "default_guard_path",
    "is_postgres_url",
    "open_guard",
]
