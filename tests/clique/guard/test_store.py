"""What every store must do, run on a real SQLite file and a real PostgreSQL server alike."""

from __future__ import annotations

import threading
import time

import pytest

from signer.clique.guard import Limits, SealGuard, SealGuardRefused, open_guard
from signer.clique.guard.store import KEEP_HEIGHTS, KEEP_PER_HEIGHT
from tests.clique.guard.kit import INSTANCE, fresh, guard_at

CHAIN = 1337
SIGNER = "0x" + "ab" * 20
CHECKSUMMED = "0x" + "AB" * 20
P1, P2, P3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def heights(
    guard: SealGuard, chain_id: int | None = None, signer: str | None = None
) -> list[tuple[int, bytes]]:
    return [(r.height, r.seal_hash) for r in guard.show(chain_id, signer, heights=1_000_000)]


def test_records_survive_reopening(guard_target: str) -> None:
    guard = guard_at(guard_target)
    guard.check_and_record(CHAIN, CHECKSUMMED, 10, h(1), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 11, h(2), P2, fresh(guard))
    guard.close()
    again = guard_at(guard_target)
    assert heights(again) == [(10, h(1)), (11, h(2))]
    with pytest.raises(SealGuardRefused, match="height 11 is already sealed"):
        again.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(again))
    again.check_and_record(CHAIN, SIGNER, 11, h(2), P2, fresh(again))  # the same header asked again
    assert len(again.show()) == 1


def test_refusals_record_nothing(guard_target: str) -> None:
    guard = guard_at(guard_target, "strict")
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(guard))
    with pytest.raises(SealGuardRefused, match="strict") as refused:
        guard.check_and_record(CHAIN, SIGNER, 10, h(2), P2, fresh(guard))
    assert P1.hex() in str(refused.value) and P2.hex() in str(refused.value)
    with pytest.raises(SealGuardRefused, match="strict"):
        guard.check_and_record(CHAIN, SIGNER, 10, h(3), P1, fresh(guard))
    assert heights(guard) == [(10, h(1))]


def test_reseals_are_recorded_and_only_the_newest_are_kept(guard_target: str) -> None:
    guard = guard_at(guard_target, "resubmit")
    count = KEEP_PER_HEIGHT + 8  # more than the first guard's cap and than the store keeps
    for seal in range(count):
        guard.check_and_record(CHAIN, SIGNER, 10, h(seal), P1, fresh(guard))
    kept = [s for _, s in heights(guard)]
    assert sorted(kept) == [h(seal) for seal in range(count - KEEP_PER_HEIGHT, count)]
    # A pruned header asked again is a re-seal like any other: allowed while fresh.
    guard.check_and_record(CHAIN, SIGNER, 10, h(0), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 10, h(98), P2, fresh(guard))  # one switch after a reorg
    with pytest.raises(SealGuardRefused, match="equivocation"):
        guard.check_and_record(CHAIN, SIGNER, 10, h(99), P3, fresh(guard))


def test_fork_switches_are_spaced_across_the_heights_the_store_loads(guard_target: str) -> None:
    guard = guard_at(guard_target, limits=Limits(fork_switch=16))
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 10, h(2), P2, fresh(guard))  # switch at 10
    guard.check_and_record(CHAIN, SIGNER, 12, h(3), P1, fresh(guard))
    with pytest.raises(SealGuardRefused, match="already switched forks at height 10"):
        guard.check_and_record(CHAIN, SIGNER, 12, h(4), P2, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 26, h(5), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 26, h(6), P2, fresh(guard))  # 16 heights later: allowed
    assert {(r.height, r.parent_hash) for r in guard.show(heights=20)} == {
        (10, P1),
        (10, P2),
        (12, P1),
        (26, P1),
        (26, P2),
    }


def test_reseals_on_the_real_clock_need_no_spacing(guard_target: str) -> None:
    guard = open_guard(guard_target, instance=INSTANCE)
    now = int(time.time())
    for seal in range(3):
        guard.check_and_record(CHAIN, SIGNER, 10, h(seal), P1, now)
    assert len(guard.show()) == 3


def test_header_time_and_instance_are_stored_and_shown(guard_target: str) -> None:
    guard = guard_at(guard_target, instance="host-1.a")
    stamp = fresh(guard)
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, stamp)
    (record,) = guard_at(guard_target).show()
    assert (record.header_time, record.instance) == (stamp, "host-1.a")
    assert abs(record.sealed_at - guard.clock.now) < 2  # type: ignore[attr-defined]
    assert f"time={stamp} instance=host-1.a" in str(record)


def test_two_instances_on_one_store_never_share_a_height(guard_target: str) -> None:
    active, standby = guard_at(guard_target, instance="active"), guard_at(guard_target, instance="standby")
    active.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(active))
    with pytest.raises(SealGuardRefused, match="sealed by signer instance active"):
        standby.check_and_record(CHAIN, SIGNER, 10, h(2), P1, fresh(standby))
    with pytest.raises(SealGuardRefused, match="sealed by signer instance active"):
        standby.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(standby))
    active.check_and_record(CHAIN, SIGNER, 10, h(3), P1, fresh(active))  # the owner re-seals
    standby.check_and_record(CHAIN, SIGNER, 11, h(4), P2, fresh(standby))  # the next height: first come
    with pytest.raises(SealGuardRefused, match="sealed by signer instance standby"):
        active.check_and_record(CHAIN, SIGNER, 11, h(5), P2, fresh(active))
    assert {(r.height, r.instance) for r in active.show(heights=5)} == {(10, "active"), (11, "standby")}


def test_poisoning_is_refused_and_leaves_no_record(guard_target: str) -> None:
    guard = guard_at(guard_target)
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(guard))
    with pytest.raises(SealGuardRefused, match="ahead of this signer's clock"):
        guard.check_and_record(CHAIN, SIGNER, 11, h(2), P1, fresh(guard) + 3600)
    with pytest.raises(SealGuardRefused, match="cannot reach height"):
        guard.check_and_record(CHAIN, SIGNER, 10**12, h(3), P1, fresh(guard))
    assert heights(guard) == [(10, h(1))]
    guard.check_and_record(CHAIN, SIGNER, 11, h(4), P1, fresh(guard))


def test_off_touches_nothing(guard_target: str) -> None:
    off = guard_at(guard_target, "off")
    off.check_and_record(CHAIN, SIGNER, 5, h(1), P1, fresh(off))
    off.check_and_record(CHAIN, SIGNER, 4, h(2), P2, fresh(off))
    assert guard_at(guard_target).show() == []


def test_keys_are_independent_and_show_filters(guard_target: str) -> None:
    guard = guard_at(guard_target)
    other = "0x" + "cd" * 20
    guard.check_and_record(CHAIN, SIGNER, 100, h(1), P1, fresh(guard))
    guard.check_and_record(CHAIN, other, 5, h(2), P1, fresh(guard))
    guard.check_and_record(CHAIN + 1, SIGNER, 7, h(3), P1, fresh(guard))
    assert [(r.chain_id, r.signer, r.height) for r in guard.show()] == [
        (CHAIN, SIGNER, 100),
        (CHAIN, other, 5),
        (CHAIN + 1, SIGNER, 7),
    ]
    assert heights(guard, signer=other.upper().replace("0X", "0x")) == [(5, h(2))]
    assert heights(guard, chain_id=CHAIN + 1) == [(7, h(3))]


def test_show_returns_the_top_heights_per_key(guard_target: str) -> None:
    guard = guard_at(guard_target)
    for height in (1, 2, 3, 4):
        guard.check_and_record(CHAIN, SIGNER, height, h(height), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 4, h(40), P1, fresh(guard))
    assert [(r.height, r.seal_hash) for r in guard.show(heights=2)] == [(3, h(3)), (4, h(4)), (4, h(40))]
    assert all(r.sealed_at > 1.7e9 for r in guard.show())


def test_reset_after_a_deliberate_rollback(guard_target: str) -> None:
    guard = guard_at(guard_target)
    for height in range(1, 6):
        guard.check_and_record(CHAIN, SIGNER, height, h(height), P1, fresh(guard))
    with pytest.raises(SealGuardRefused):
        guard.check_and_record(CHAIN, SIGNER, 3, h(33), P2, fresh(guard))
    assert guard.reset(CHAIN, CHECKSUMMED, 3) == 3
    guard.check_and_record(CHAIN, SIGNER, 3, h(33), P2, fresh(guard))
    assert [height for height, _ in heights(guard)] == [1, 2, 3]
    assert guard.reset(CHAIN, SIGNER, 99) == 0


def test_old_heights_are_pruned(guard_target: str) -> None:
    guard = guard_at(guard_target)
    start = fresh(guard) - 2 * KEEP_HEIGHTS  # old enough for the timestamps to explain the jump
    guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, start)
    guard.check_and_record(CHAIN, SIGNER, 2, h(2), P1, start + 1)
    guard.check_and_record(CHAIN, SIGNER, 1 + KEEP_HEIGHTS, h(3), P1, fresh(guard))
    assert [height for height, _ in heights(guard)] == [2, 1 + KEEP_HEIGHTS]


def test_extreme_values_fit(guard_target: str) -> None:
    guard = guard_at(guard_target)
    top = 2**63 - 1
    guard.check_and_record(top, SIGNER, top, h(1), P1, fresh(guard))  # first seal of the key: any height
    assert heights(guard) == [(top, h(1))]
    with pytest.raises(SealGuardRefused, match="out of range"):
        guard.check_and_record(CHAIN, SIGNER, top + 1, h(1), P1, fresh(guard))


def test_threads_sharing_one_guard_never_fork(guard_target: str) -> None:
    guard = guard_at(guard_target, limits=Limits(fork_switch=0))  # no switches: one parent a height
    accepted: list[tuple[int, bytes]] = []
    start = threading.Barrier(4)

    def racer(parent: bytes) -> None:
        start.wait()
        for height in range(1, 41):
            try:
                guard.check_and_record(
                    CHAIN, SIGNER, height, h(height * 256 + parent[0]), parent, fresh(guard)
                )
                accepted.append((height, parent))
            except SealGuardRefused:
                pass

    threads = [threading.Thread(target=racer, args=(bytes([i]) * 32,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parents_per_height: dict[int, set[bytes]] = {}
    for height, parent in accepted:
        parents_per_height.setdefault(height, set()).add(parent)
    assert all(len(p) == 1 for p in parents_per_height.values())
    assert sorted(parents_per_height) == sorted(r.height for r in guard.show(heights=100))


def test_a_retracted_seal_no_longer_holds_its_height(guard_target: str) -> None:
    active = guard_at(guard_target, instance="node-a")
    standby = guard_at(guard_target, instance="node-b")
    active.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(active))
    receipt = active.check_and_record(CHAIN, SIGNER, 2, h(2), P1, fresh(active))
    assert receipt is not None
    with pytest.raises(SealGuardRefused, match="signer instance node-a"):
        standby.check_and_record(CHAIN, SIGNER, 2, h(22), P2, fresh(standby))
    active.retract(receipt)  # node-a's signature for height 2 was never made
    assert heights(active) == [(1, h(1))]
    standby.check_and_record(CHAIN, SIGNER, 2, h(22), P2, fresh(standby))
    active.retract(receipt)  # twice, or after others wrote: only that one record ever goes
    assert heights(active) == [(1, h(1)), (2, h(22))]


def test_only_written_records_have_receipts(guard_target: str) -> None:
    guard = guard_at(guard_target)
    first = guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))
    assert first is not None and first.proposal.height == 1
    assert guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard)) is None  # identical repeat
    assert guard_at(guard_target, mode="off").check_and_record(CHAIN, SIGNER, 9, h(9), P1, 0) is None
