"""SIGKILL the sealing process mid-stream, again and again; nothing delivered is ever lost.

A seal counts as delivered once the writer has printed its height (that is where a signer hands
out the signature). After every kill the next writer continues after the last delivered height;
the one height it may have recorded but not delivered is asked again with the same header, which
the guard allows. At the end every delivered height is on record, nothing below the top can be
sealed again, and the database is sound.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time

import pytest

from signer.clique.guard import SealGuardRefused, open_guard
from signer.clique.guard.store import KEEP_HEIGHTS, is_postgres_url
from tests.clique.guard.seal_writer import CHAIN, SIGNER, WRITER, spawn, stream_seal

ROUNDS = 12


def kill_mid_stream(target: str, start: int, rng: random.Random) -> list[int]:
    """Run a writer from ``start``, SIGKILL it at a random moment; the heights it delivered."""
    proc = spawn("stream", target, str(start), "100000")
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # it is up and sealing
    assert first.strip() == str(start), f"writer failed to start: {first!r} {proc.stderr.read()}"
    time.sleep(rng.uniform(0.0, 0.1))
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()  # through the same reader: readline() may have buffered lines
    assert proc.wait(timeout=30) == -signal.SIGKILL, f"writer died by itself: {proc.stderr.read()}"
    return [start] + [int(line) for line in rest.split()]


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_stream_loses_nothing(guard_target: str, seed: int) -> None:
    rng = random.Random(seed)
    delivered: list[int] = []
    next_height = 1
    for _ in range(ROUNDS):
        heights = kill_mid_stream(guard_target, next_height, rng)
        assert heights == list(range(next_height, next_height + len(heights)))
        delivered += heights
        next_height = heights[-1] + 1
    assert len(delivered) > ROUNDS  # the kills landed mid-stream, not before the first seal

    guard = open_guard(guard_target, instance=WRITER)
    records = {r.height: r for r in guard.show(heights=1_000_000)}
    top = max(records)
    for height in delivered:
        if height > top - KEEP_HEIGHTS:  # older heights are pruned by design
            assert records[height].seal_hash == stream_seal(height)[0], height
    assert top in (delivered[-1], delivered[-1] + 1)  # at most one recorded, never delivered
    for height in [*rng.sample(delivered[:-1], min(20, len(delivered) - 1)), top - 1]:
        with pytest.raises(SealGuardRefused, match="never rolls back"):
            guard.check_and_record(CHAIN, SIGNER, height, *stream_seal(height), int(time.time()))
    # The last header again is fine (its time is whatever the writer stamped; only the hash counts).
    guard.check_and_record(CHAIN, SIGNER, top, *stream_seal(top), int(time.time()))
    guard.close()

    if not is_postgres_url(guard_target):
        conn = sqlite3.connect(guard_target)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
