"""The seal guard's decision, as a pure function of what was already sealed and the time.

The stores load the records of one (chain id, signer) key inside a transaction, call
:func:`decide`, and write the proposal only when the decision says so. Keeping the rule here,
free of I/O and of the clock (``now`` is an argument), lets SQLite and PostgreSQL share it and lets
the tests cover it exhaustively.

What an honest geth v1.13 sends bounds what is allowed (docs/seal-guard.md has the derivation):

* clique's ``Prepare`` sets ``header.time = max(parent.time + period, now)`` and a parent from the
  future is never imported, so an honest header is at most one period ahead of the clock and
  never much behind it;
* the miner re-seals the same height on the same parent when transactions arrive, every recommit
  interval (1 s minimum), with a fresh ``Prepare`` each time; after a restart it may ask for that
  height again with a new timestamp. Two re-seals can reach the guard much closer together than
  the interval (geth's timer runs from the start of the previous block's filling, and signing
  latency varies: 0.36 s was measured on a loaded 2-core machine), so their spacing is no bound;
* heights advance by at least one period of header time per block (period >= 1 s assumed).

The highest recorded height decides: below it is a rollback, above it is new ground (if the
timestamps can explain the jump), and at it the records there say whether this is the same header
again, a re-seal on the same parent by the same instance, another instance's height, or a second
parent. A second parent is what geth asks for after a reorg between sibling blocks; it is allowed
once (fresh, at most two parents per height) unless the key switched within the last
``fork_switch`` heights, which is why the stores load that many heights.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

MAX_INT64 = 2**63 - 1  # both databases store heights, times and chain ids as signed 64-bit integers
# An honest header is at most one clique period ahead of the clock (plus clock skew): 60 s covers
# periods up to 45 s with 15 s of skew. Chains with a longer period raise it.
DEFAULT_MAX_FUTURE = 60
# How far an honest header's time may lag the signer's clock: geth truncates to whole seconds,
# fills the block between Prepare and Seal, and the two clocks may differ a little.
DEFAULT_CLOCK_SLACK = 10
# The shortest clique period the height-jump bound assumes (clique's own minimum for timed blocks).
MIN_PERIOD = 1
# After a reorg between siblings a key may seal its top height once more on the other sibling,
# at most once every this many heights (--seal-guard-fork-switch; 0: never). 1: at any height,
# since honest reorgs come in bursts: with a spacing of 16 a loaded three-sealer network reorged
# at heights 118 and 127, both keys allowed at 127 had switched at 118, the third had sealed 126,
# and the chain halted for good.
DEFAULT_FORK_SWITCH = 1
MAX_PARENTS_PER_HEIGHT = 2

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_INSTANCE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class Mode(StrEnum):
    STRICT = "strict"  # one seal hash per height
    RESUBMIT = "resubmit"  # geth's re-sealing of newer work on the same parent, bounded by time
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


def check_instance(instance: str) -> str:
    """An instance id: 1-64 letters, digits or ``._:-`` (it is printed and stored as is)."""
    if not _INSTANCE.fullmatch(instance):
        raise ValueError(f"invalid seal guard instance id {instance!r}: use 1-64 of A-Z a-z 0-9 . _ : -")
    return instance


@dataclass(frozen=True)
class Limits:
    """The bounds of the policy: seconds (``--seal-guard-max-future``, ``--seal-guard-clock-slack``)
    and heights between fork switches (``--seal-guard-fork-switch``, 0: never)."""

    max_future: int = DEFAULT_MAX_FUTURE
    clock_slack: int = DEFAULT_CLOCK_SLACK
    fork_switch: int = DEFAULT_FORK_SWITCH

    def __post_init__(self) -> None:
        if not 0 <= self.max_future <= 86_400 or not 0 <= self.clock_slack <= 3_600:
            raise ValueError("seal guard max-future must be 0..86400 s and clock slack 0..3600 s")
        if not 0 <= self.fork_switch <= 10_000:
            raise ValueError("seal guard fork-switch spacing must be 0..10000 heights")

    @property
    def window(self) -> int:
        """How many of a key's highest heights the policy reads."""
        return max(1, self.fork_switch)


@dataclass(frozen=True)
class SealRecord:
    """One seal the guard let through. ``sealed_at`` is the signer's Unix time when it was recorded;
    ``header_time`` and ``instance`` are None on records written before they existed."""

    chain_id: int
    signer: str
    height: int
    seal_hash: bytes
    parent_hash: bytes
    sealed_at: float = 0.0
    header_time: int | None = None
    instance: str | None = None

    def __str__(self) -> str:
        """One line for ``sealward guard show``."""
        when = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.sealed_at)) if self.sealed_at else "-"
        header_time = "-" if self.header_time is None else str(self.header_time)
        instance = "-" if self.instance is None else _printable(self.instance)
        return (
            f"chain={self.chain_id} signer={self.signer} height={self.height} "
            f"seal={_hex(self.seal_hash)} parent={_hex(self.parent_hash)} "
            f"time={header_time} instance={instance} at={when}"
        )


def _printable(text: str) -> str:
    """Stored text as it may be shown on a terminal: as is when it is a valid id, else quoted."""
    return text if _INSTANCE.fullmatch(text) else ascii(text)


@dataclass(frozen=True)
class Proposal:
    """A seal about to be made; build it with :func:`make_proposal` to get validated values."""

    chain_id: int
    signer: str
    height: int
    seal_hash: bytes
    parent_hash: bytes
    header_time: int
    instance: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    record: bool  # write the proposal (False for an identical repeat or when refused)
    reason: str
    at: float = 0.0  # the ``now`` the decision was made at: the record's sealed_at


def make_proposal(
    chain_id: int,
    signer: str,
    height: int,
    seal_hash: bytes,
    parent_hash: bytes,
    header_time: int,
    instance: str,
) -> Proposal:
    if not 0 <= chain_id <= MAX_INT64:
        raise ValueError(f"chain id {chain_id} out of range 0..2^63-1")
    if not 0 <= height <= MAX_INT64:
        raise ValueError(f"height {height} out of range 0..2^63-1")
    if not 0 <= header_time <= MAX_INT64:
        raise ValueError(f"header time {header_time} out of range 0..2^63-1")
    if len(seal_hash) != 32 or len(parent_hash) != 32:
        raise ValueError("seal hash and parent hash must be 32 bytes each")
    return Proposal(
        chain_id,
        normalize_signer(signer),
        height,
        bytes(seal_hash),
        bytes(parent_hash),
        header_time,
        check_instance(instance),
    )


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _refuse(reason: str, now: float) -> Decision:
    return Decision(False, False, f"seal guard: {reason}", now)


def decide(mode: Mode, limits: Limits, prior: Iterable[SealRecord], p: Proposal, now: float) -> Decision:
    """Allow or refuse ``p`` at time ``now`` given the earlier seals of its key: at least those at
    its ``limits.window`` highest heights (the stores load exactly those)."""
    if mode is Mode.OFF:
        return Decision(True, False, "seal guard off", now)
    where = f"height {p.height} for {p.signer} on chain {p.chain_id}"
    ahead = p.header_time - now
    if ahead > limits.max_future:
        return _refuse(
            f"refusing to seal {where}: header time {p.header_time} is {ahead:.0f} s ahead of this "
            f"signer's clock, more than the {limits.max_future} s an honest sealer can be "
            "(one clique period plus clock skew; --seal-guard-max-future)",
            now,
        )
    records = [r for r in prior if r.chain_id == p.chain_id and r.signer == p.signer]
    if not records:
        return Decision(True, True, "first seal for this key", now)
    top = max(r.height for r in records)
    if p.height > top:
        return _new_height(p, top, [r for r in records if r.height == top], limits, where, now)
    if p.height < top:
        return _refuse(
            f"refusing to seal {where}: height {top} is already sealed and the guard never "
            f"rolls back; after a deliberate rollback run `sealward guard reset --chainid {p.chain_id} "
            f"--signer {p.signer} --height {p.height}`",
            now,
        )
    return _same_height(mode, limits, records, top, p, where, now)


def _new_height(
    p: Proposal, top: int, at_top: list[SealRecord], limits: Limits, where: str, now: float
) -> Decision:
    """Above the top: allowed when the header times can explain the jump. Records from before
    header times were stored cannot bound it."""
    times = [r.header_time for r in at_top if r.header_time is not None]
    if times:
        top_time = max(times)
        reachable = top + 1 + max(0, p.header_time - top_time + limits.clock_slack) // MIN_PERIOD
        if p.height > reachable:
            return _refuse(
                f"refusing to seal {where}: the last seal was height {top} at header time {top_time}; "
                f"a chain with blocks at least {MIN_PERIOD} s apart cannot reach height {p.height} "
                f"by header time {p.header_time} (highest reachable: {reachable})",
                now,
            )
    return Decision(True, True, "new height", now)


def _same_height(
    mode: Mode, limits: Limits, records: list[SealRecord], top: int, p: Proposal, where: str, now: float
) -> Decision:
    at_top = [r for r in records if r.height == top]
    owners = {r.instance for r in at_top if r.instance is not None}
    foreign = sorted(owners - {p.instance})
    if foreign:
        # Another signer instance holding this key sealed this height first; its block may already
        # be out, so this height is never handed over (the next one goes to whoever asks first).
        return _refuse(
            f"refusing to seal {where}: this height was sealed by signer instance "
            f"{_printable(foreign[0])}, not by this one ({p.instance}); two instances never seal "
            "one height",
            now,
        )
    # A seal hash commits to the parent, so the same hash with the same parent is the same
    # header asked again: signing it again reveals nothing new and cannot fork the chain.
    if any(r.seal_hash == p.seal_hash and r.parent_hash == p.parent_hash for r in at_top):
        return Decision(True, False, "same header sealed again", now)
    parents = sorted({r.parent_hash for r in at_top})
    if mode is Mode.STRICT:
        return _refuse(
            f"(strict) refusing to seal {where} with seal hash {_hex(p.seal_hash)} on parent "
            f"{_hex(p.parent_hash)}: this height is already sealed with seal hash "
            f"{_hex(at_top[0].seal_hash)} on parent {_hex(at_top[0].parent_hash)}",
            now,
        )
    behind = now - p.header_time
    switch = p.parent_hash not in parents
    if behind > limits.clock_slack:
        what = f"seal {where} on another parent {_hex(p.parent_hash)}" if switch else f"re-seal {where}"
        return _refuse(
            f"refusing to {what}: header time {p.header_time} is {behind:.0f} s behind this "
            f"signer's clock; geth re-seals with a fresh timestamp (--seal-guard-clock-slack "
            f"{limits.clock_slack}); sealed so far on parent {', '.join(_hex(x) for x in parents)}",
            now,
        )
    if switch:
        refusal = _switch_refusal(limits, records, top, parents, p, where)
        if refusal is not None:
            return _refuse(refusal, now)
        return Decision(True, True, "another parent at the top height (geth switched forks)", now)
    return Decision(True, True, f"re-seal on the same parent ({len(at_top)} before)", now)


def _switch_refusal(
    limits: Limits, records: list[SealRecord], top: int, parents: list[bytes], p: Proposal, where: str
) -> str | None:
    """Why sealing the top height on a second parent is refused, or None when it is allowed.

    After a reorg between sibling blocks geth asks for the height it just sealed on the winning
    sibling: refusing every such request can leave no signer allowed to seal that height, and the
    chain halts (three sealers did within two minutes). So one switch per height is allowed (at
    most two parents), and with ``limits.fork_switch`` above 1 at most once every that many
    heights, which bounds a second fork's share of this key's blocks at the price of halting when
    honest reorgs come closer together.
    """
    equivocation = (
        f"refusing to seal {where} on parent {_hex(p.parent_hash)}: this height is already sealed "
        f"on parent {', '.join(_hex(x) for x in parents)} (two forks at one height is equivocation)"
    )
    if limits.fork_switch == 0:
        return equivocation + "; --seal-guard-fork-switch 0 allows no switch"
    if len(parents) >= MAX_PARENTS_PER_HEIGHT:
        return equivocation + f"; at most {MAX_PARENTS_PER_HEIGHT} parents per height"
    switched = [
        height
        for height in {r.height for r in records if top - limits.fork_switch < r.height < top}
        if len({r.parent_hash for r in records if r.height == height}) > 1
    ]
    if switched:
        return (
            equivocation + f"; this key already switched forks at height {max(switched)}, and "
            f"switches are at least {limits.fork_switch} heights apart (--seal-guard-fork-switch)"
        )
    return None
