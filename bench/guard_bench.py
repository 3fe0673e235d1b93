"""What the seal guard adds to one clique seal: check_and_record latency, median and p99.

    .venv/bin/python -m bench.guard_bench [--seals 2000] [--dir DIR] [--pg-url URL | --no-pg]

Rows: an in-memory store (the policy and Python overhead alone, the floor), SQLite in a temp
folder (or --dir, to measure the disk the configdir is on), and PostgreSQL (--pg-url, else a
private server started as in the tests). Each seal is a new height, the common path; a second
SQLite row re-seals each height on the same parent 8 times (on a clock that steps one second per
reading, so no re-seal comes too soon) before moving on.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence

from signer.clique.guard import Limits, SealGuard, open_guard
from signer.clique.guard.policy import Decision, Mode, Proposal, SealRecord
from signer.clique.guard.store import Decide

CHAIN = 1337
SIGNER = "0x" + "5e" * 20
PARENT = b"\x01" * 32
INSTANCE = "bench"
RESEALS_PER_HEIGHT = 8


class MemoryStore:
    """The floor: the same locking and decision, with a dict for a database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._top: dict[tuple[int, str], list[SealRecord]] = {}  # records at each key's top height

    @property
    def location(self) -> str:
        return "memory"

    def check_and_record(self, proposal: Proposal, decide: Decide, heights: int = 1) -> Decision:
        p = proposal
        with self._lock:
            top = self._top.get((p.chain_id, p.signer), [])
            decision = decide(top)
            if decision.record:
                record = SealRecord(p.chain_id, p.signer, p.height, p.seal_hash, p.parent_hash, decision.at,
                                    p.header_time, p.instance)  # fmt: skip
                same = bool(top) and top[0].height == p.height
                self._top[(p.chain_id, p.signer)] = [*top, record] if same else [record]
            return decision

    def show(self, chain_id: int | None, signer: str | None, heights: int) -> list[SealRecord]:
        return [r for rs in self._top.values() for r in rs]

    def reset(self, chain_id: int, signer: str, height: int) -> int:
        return 0

    def close(self) -> None:
        pass


def seal_hash(n: int) -> bytes:
    return n.to_bytes(32, "big")


def measure(call: Callable[[int], None], seals: int, warmup: int = 50) -> list[float]:
    """Microseconds per call, after ``warmup`` calls that are not counted."""
    for i in range(warmup):
        call(i)
    times = []
    for i in range(warmup, warmup + seals):
        start = time.perf_counter_ns()
        call(i)
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


class SteppingClock:
    """Unix time that moves one second per reading: re-seals are never too close together."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def new_heights(guard: SealGuard) -> Callable[[int], None]:
    def call(i: int) -> None:
        guard.check_and_record(CHAIN, SIGNER, i + 1, seal_hash(i), PARENT, int(time.time()))

    return call


def reseals(guard: SealGuard, clock: SteppingClock) -> Callable[[int], None]:
    """Re-seals on the same parent: RESEALS_PER_HEIGHT seal hashes per height, every one allowed."""

    def call(i: int) -> None:
        height = i // RESEALS_PER_HEIGHT
        guard.check_and_record(CHAIN, SIGNER, height + 1, seal_hash(i), PARENT, int(clock.now))

    return call


def concurrent(guard: SealGuard, sealers: int, seals: int) -> tuple[list[float], float]:
    """``sealers`` threads, each a signer sealing its own new heights: latencies (µs) and seals/s."""
    times: list[float] = []
    start = threading.Barrier(sealers + 1)

    def sealer(n: int) -> None:
        signer = "0x" + f"{n + 1:02x}" * 20
        start.wait()
        for i in range(seals):
            begin = time.perf_counter_ns()
            guard.check_and_record(CHAIN, signer, i + 1, seal_hash(i), PARENT, int(time.time()))
            times.append((time.perf_counter_ns() - begin) / 1000)

    threads = [threading.Thread(target=sealer, args=(n,)) for n in range(sealers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return times, len(times) / (time.perf_counter() - began)


def row(name: str, times: Sequence[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"| {name:<56} | {len(times):>6} | {statistics.median(times):>10.1f} | {p99:>10.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seals", type=int, default=2000)
    parser.add_argument("--dir", help="folder for the SQLite file (default: a temp folder)")
    parser.add_argument("--pg-url", help="postgresql://… of an empty database (default: a private server)")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()

    results: list[str] = []
    floor = SealGuard(MemoryStore(), Mode.RESUBMIT, Limits(), INSTANCE)
    results.append(row("memory (floor)", measure(new_heights(floor), args.seals)))
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        guard = open_guard(f"{folder}/sealguard.db", instance=INSTANCE)
        results.append(row("sqlite, new height", measure(new_heights(guard), args.seals)))
        clock = SteppingClock()
        guard = open_guard(f"{folder}/reseal.db", instance=INSTANCE, clock=clock)
        results.append(row("sqlite, re-seals on one parent", measure(reseals(guard, clock), args.seals)))
        # Four signers at once: their records share commits (group commit, one fsync per batch).
        guard = open_guard(f"{folder}/four.db", instance=INSTANCE)
        times, rate = concurrent(guard, 4, args.seals // 4)
        group = guard.store._group  # type: ignore[attr-defined]
        name = f"sqlite, 4 signers at once ({rate:.0f}/s, {group.items / group.batches:.1f} a commit)"
        results.append(row(name, times))
    if not args.no_pg:
        results.append(pg_row(args.pg_url, args.seals))
    print("| store                                                    |  seals | median µs  |   p99 µs   |")
    print("|----------------------------------------------------------|--------|------------|------------|")
    print("\n".join(results))


def pg_row(url: str | None, seals: int) -> str:
    if url:
        return row("postgresql, new height", measure(new_heights(open_guard(url, instance=INSTANCE)), seals))
    from tests.helpers.postgres import PostgresUnavailable, start_server

    try:
        server = start_server()
    except PostgresUnavailable as exc:
        return f"| postgresql: not run ({exc}) |"
    try:
        guard = open_guard(server.create_database("bench"), instance=INSTANCE)
        times = measure(new_heights(guard), seals)
        guard.close()
        return row("postgresql (loopback), new height", times)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
