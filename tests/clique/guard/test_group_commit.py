"""Group commit in the SQLite guard: concurrent seals share one transaction and one fsync, and
each is decided exactly as if it had been alone (groupcommit.py).

Real SQLite files, real threads; the double-seal race is the one the guard exists for.
"""

from __future__ import annotations

import threading
from pathlib import Path

from signer.clique.guard import SealGuardRefused
from signer.clique.guard.groupcommit import GroupCommit
from signer.clique.guard.policy import Decision, make_proposal
from signer.clique.guard.sqlite import SqliteStore
from tests.clique.guard.kit import INSTANCE, fresh, guard_at

CHAIN = 1337


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def signer(n: int) -> str:
    return "0x" + f"{n:02x}" * 20


def test_concurrent_sealers_share_commits_and_every_record_lands(tmp_path: Path) -> None:
    guard = guard_at(str(tmp_path / "sealguard.db"))
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def sealer(n: int) -> None:
        start.wait()
        try:
            for height in range(1, 41):
                guard.check_and_record(CHAIN, signer(n), height, h(height), h(height - 1), fresh(guard))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sealer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    tops = guard.show(CHAIN, None, heights=40)
    assert sorted({(r.signer, r.height) for r in tops}) == sorted(
        (signer(n), height) for n in range(8) for height in range(1, 41)
    )
    group = guard.store._group  # type: ignore[attr-defined]
    assert group.items == 320
    assert group.batches < group.items  # some commits carried several seals


def test_a_double_seal_race_inside_one_batch_lets_exactly_one_through(tmp_path: Path) -> None:
    guard = guard_at(str(tmp_path / "sealguard.db"))
    who = signer(1)
    guard.check_and_record(CHAIN, who, 1, h(1), h(0), fresh(guard))
    start = threading.Barrier(12)
    allowed: list[int] = []
    refused: list[int] = []

    def fork(n: int) -> None:
        start.wait()
        try:  # twelve different blocks 2, each on its own parent: a fork, at most one may be sealed
            guard.check_and_record(CHAIN, who, 2, h(100 + n), h(200 + n), fresh(guard))
            allowed.append(n)
        except SealGuardRefused:
            refused.append(n)

    threads = [threading.Thread(target=fork, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 1 and len(refused) == 11
    (record,) = guard.show(CHAIN, who, heights=1)
    assert (record.height, record.seal_hash) == (2, h(100 + allowed[0]))


def test_a_seal_whose_decision_fails_leaves_its_batch_mates_recorded(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "sealguard.db"))
    proposals = [make_proposal(CHAIN, signer(n), 1, h(n), h(0), 1_700_000_000, INSTANCE) for n in range(3)]

    def allow(prior: object) -> Decision:
        return Decision(True, True, "ok", 1_700_000_000.0)

    def broken(prior: object) -> Decision:
        raise ValueError("policy bug")

    results = store._record_batch(
        [(proposals[0], allow, 1), (proposals[1], broken, 1), (proposals[2], allow, 1)]
    )
    assert isinstance(results[1], ValueError)
    assert [type(r) for r in results[::2]] == [Decision, Decision]
    assert {r.signer for r in store.show(CHAIN, None, 1)} == {signer(0), signer(2)}
    store.close()


def test_group_commit_batches_and_failures() -> None:
    seen: list[list[int]] = []
    release = threading.Event()

    def run(items: list[int]) -> list[int | BaseException]:
        seen.append(list(items))
        if len(seen) == 1:
            release.wait(5)  # hold the first commit so that the others queue behind it
        if 13 in items:
            raise OSError("disk gone")
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run, max_batch=3)  # type: ignore[arg-type]
    results: dict[int, int | str] = {}

    def submit(i: int) -> None:
        try:
            results[i] = group.submit(i)
        except OSError as exc:
            results[i] = str(exc)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    while not seen:
        threading.Event().wait(0.001)
    others = [threading.Thread(target=submit, args=(i,)) for i in (11, 12, 13, 14, 15)]
    for thread in others:
        thread.start()
    while len(group._queue) < 5:
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, *others]:
        thread.join()
    assert seen[0] == [0]
    assert sorted(len(batch) for batch in seen[1:]) == [2, 3]  # five queued, at most three a batch
    failed = next(batch for batch in seen[1:] if 13 in batch)
    assert all(results[i] == "disk gone" for i in failed)  # one failed commit fails its whole batch
    assert all(results[i] == i * 10 for i in (0, 11, 12, 13, 14, 15) if i not in failed)
    assert (group.batches, group.items) == (3, 6)
