"""The seal guard: the policy bound to a durable store, and the one way to open it.

Callers use :class:`SealGuard` only::

    guard = open_guard("<configdir>/sealguard.db", mode="resubmit", resubmits=8)
    guard.check_and_record(chain_id, signer, height, seal_hash, parent_hash)  # raises or returns
    signature = backend.sign(...)  # only after the record is durable

``check_and_record`` returns only once the record is committed and synced, so a signature made
after it can be delivered; a crash in between leaves a record for a seal nobody received, which
is safe (the same header asked again is allowed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol

from signer.clique.guard.errors import SealGuardRefused, SealGuardUnavailable
from signer.clique.guard.policy import (
    DEFAULT_RESUBMITS,
    Decision,
    Mode,
    Proposal,
    SealRecord,
    decide,
    make_proposal,
    normalize_signer,
    parse_mode,
)

DEFAULT_DB_NAME = "sealguard.db"
# The policy reads only the top height; older heights are kept this long for operators to look at.
KEEP_HEIGHTS = 10_000

Decide = Callable[[Sequence[SealRecord]], Decision]


class GuardStore(Protocol):
    """Durable seal records. Every method is safe to call from several threads."""

    @property
    def location(self) -> str:
        """Where the records live, fit for messages (passwords redacted)."""
        ...

    def check_and_record(self, proposal: Proposal, decide: Decide) -> Decision:
        """In one transaction locked against every other writer of the proposal's key: load the
        records at the key's highest height, call ``decide`` on them, and when it says ``record``,
        insert the proposal and prune heights older than KEEP_HEIGHTS. Returns only after the
        commit is durable. Raises SealGuardUnavailable on any database failure."""
        ...

    def show(self, chain_id: int | None, signer: str | None, heights: int) -> list[SealRecord]:
        """Records of the ``heights`` highest heights of each matching key, by key then height."""
        ...

    def reset(self, chain_id: int, signer: str, height: int) -> int:
        """Delete the key's records at heights >= ``height``; return how many were deleted."""
        ...

    def close(self) -> None: ...


class SealGuard:
    """The policy (mode, re-seal bound) applied through a store."""

    def __init__(self, store: GuardStore, mode: Mode, resubmits: int) -> None:
        if resubmits < 0:
            raise ValueError("--seal-guard-resubmits must be 0 or more")
        self.store = store
        self.mode = mode
        self.resubmits = resubmits

    def check_and_record(
        self, chain_id: int, signer: str, height: int, seal_hash: bytes, parent_hash: bytes
    ) -> None:
        """Return when sealing is allowed and durably recorded; raise SealGuardRefused when the
        policy forbids it, SealGuardUnavailable when the database cannot vouch for it."""
        if self.mode is Mode.OFF:
            return
        try:
            proposal = make_proposal(chain_id, signer, height, seal_hash, parent_hash)
        except ValueError as exc:
            raise SealGuardRefused(f"seal guard: {exc}") from None
        decision = self.store.check_and_record(
            proposal, lambda prior: decide(self.mode, self.resubmits, prior, proposal)
        )
        if not decision.allowed:
            raise SealGuardRefused(decision.reason)

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


def open_guard(url_or_path: str, mode: str = "resubmit", resubmits: int = DEFAULT_RESUBMITS) -> SealGuard:
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
    return SealGuard(store, parsed, resubmits)


__all__ = [
    "DEFAULT_DB_NAME",
    "GuardStore",
    "SealGuard",
    "SealGuardRefused",
    "SealGuardUnavailable",
    "default_guard_path",
    "is_postgres_url",
    "open_guard",
]
