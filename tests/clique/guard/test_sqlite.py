"""SQLite specifics: durable settings, fail closed on a missing or unwritable file, recovery,
and two processes sharing one file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from signer.clique.guard import SealGuardRefused, SealGuardUnavailable
from tests.clique.guard.kit import fresh, guard_at
from tests.clique.guard.seal_writer import run_race

CHAIN = 1337
SIGNER = "0x" + "ab" * 20
P1, P2 = b"\x01" * 32, b"\x02" * 32


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_file_is_private_wal_and_fully_synchronous(tmp_path: Path) -> None:
    db = tmp_path / "sealguard.db"
    guard = guard_at(str(db))
    guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persisted in the file
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()
    store = guard.store
    assert store._conn is not None  # type: ignore[attr-defined]
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # type: ignore[attr-defined]  # FULL


# The table exactly as the first Sealward release created it (schema version 1).
V1_SCHEMA = """
CREATE TABLE seals (
    chain_id INTEGER NOT NULL, signer TEXT NOT NULL, height INTEGER NOT NULL,
    seal_hash BLOB NOT NULL, parent_hash BLOB NOT NULL, sealed_at REAL NOT NULL,
    PRIMARY KEY (chain_id, signer, height, seal_hash)
) WITHOUT ROWID
"""


def test_a_version_1_file_is_migrated_and_its_records_still_guard(tmp_path: Path) -> None:
    db = tmp_path / "sealguard.db"
    old = sqlite3.connect(db)
    old.execute("PRAGMA journal_mode = WAL")
    old.execute(V1_SCHEMA)
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO seals VALUES (?, ?, 100, ?, ?, ?)", (CHAIN, SIGNER, h(100), P1, time.time() - 60)
    )
    old.commit()
    old.close()
    db.chmod(0o600)

    guard = guard_at(str(db), instance="after-upgrade")
    (legacy,) = guard.show()
    assert (legacy.height, legacy.header_time, legacy.instance) == (100, None, None)
    with pytest.raises(SealGuardRefused, match="height 100 is already sealed"):
        guard.check_and_record(CHAIN, SIGNER, 99, h(99), P1, fresh(guard))
    with pytest.raises(SealGuardRefused, match="on another parent"):
        guard.check_and_record(CHAIN, SIGNER, 100, h(7), P2, fresh(guard) - 600)
    # The single-sealer chain goes on after the upgrade: a re-seal of the legacy top, then more.
    guard.check_and_record(CHAIN, SIGNER, 100, h(101), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 101, h(102), P1, fresh(guard))
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    columns = [row[1] for row in conn.execute("PRAGMA table_info(seals)")]
    assert columns[-2:] == ["header_time", "instance"]
    conn.close()
    assert [(r.height, r.instance) for r in guard.show(heights=2)] == [
        (100, None),
        (100, "after-upgrade"),
        (101, "after-upgrade"),
    ]


def test_missing_folder_at_start_fails_closed_then_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "configdir"
    guard = guard_at(str(folder / "sealguard.db"))  # the signer still starts
    with pytest.raises(SealGuardUnavailable, match="refusing to seal, cannot open"):
        guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))
    folder.mkdir()
    guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))
    assert len(guard.show()) == 1


def test_deleted_database_is_not_recreated_behind_our_back(tmp_path: Path) -> None:
    db = tmp_path / "sealguard.db"
    guard = guard_at(str(db))
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(guard))
    moved = tmp_path / "moved.db"
    db.rename(moved)
    with pytest.raises(SealGuardUnavailable, match="missing") as err:
        guard.check_and_record(CHAIN, SIGNER, 11, h(2), P1, fresh(guard))
    assert str(db) in str(err.value)
    assert not db.exists()  # still refusing, and no empty database that would forget height 10
    with pytest.raises(SealGuardUnavailable):
        guard.check_and_record(CHAIN, SIGNER, 1, h(3), P1, fresh(guard))
    moved.rename(db)
    with pytest.raises(SealGuardRefused, match="height 10 is already sealed"):
        guard.check_and_record(CHAIN, SIGNER, 1, h(3), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 11, h(2), P1, fresh(guard))


def test_database_replaced_while_in_use_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "sealguard.db"
    guard = guard_at(str(db))
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(guard))
    backup = tmp_path / "backup.db"
    src, dst = sqlite3.connect(db), sqlite3.connect(backup)
    src.backup(dst)
    src.close()
    dst.close()
    guard.check_and_record(CHAIN, SIGNER, 20, h(2), P1, fresh(guard))
    original = tmp_path / "original.db"
    db.rename(original)
    backup.rename(db)  # an operator swaps in a copy taken at height 10 without stopping the signer
    with pytest.raises(SealGuardUnavailable, match="replaced while in use; restart"):
        guard.check_and_record(CHAIN, SIGNER, 15, h(3), P1, fresh(guard))
    os.replace(original, db)  # the original back in place: the guard carries on
    with pytest.raises(SealGuardRefused, match="height 20 is already sealed"):
        guard.check_and_record(CHAIN, SIGNER, 15, h(3), P1, fresh(guard))
    guard.check_and_record(CHAIN, SIGNER, 21, h(4), P1, fresh(guard))


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """Make files unwritable even for root (chattr +i); skip where the filesystem cannot."""
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("making a file unwritable for this process needs root and chattr")
    done: list[Path] = []
    try:
        for path in paths:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip(f"this filesystem does not support chattr +i on {path}")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_database_fails_closed_then_recovers(tmp_path: Path) -> None:
    db = tmp_path / "sealguard.db"
    guard = guard_at(str(db))
    guard.check_and_record(CHAIN, SIGNER, 10, h(1), P1, fresh(guard))
    # The main file and its WAL; never the -shm file, which SQLite maps into memory (a write
    # fault there is SIGBUS, not an error).
    with immutable(db, Path(f"{db}-wal")):
        for height in (11, 12):
            with pytest.raises(SealGuardUnavailable, match="refusing to seal") as err:
                guard.check_and_record(CHAIN, SIGNER, height, h(height), P1, fresh(guard))
            assert str(db) in str(err.value)
    guard.check_and_record(CHAIN, SIGNER, 12, h(12), P1, fresh(guard))  # same guard object, no restart
    assert [r.height for r in guard.show(heights=10)] == [10, 12]
    assert guard.store.integrity_check() == "ok"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mode", "parent"), [("resubmit", "own"), ("strict", "shared")])
def test_two_processes_racing_on_one_file_never_conflict(tmp_path: Path, mode: str, parent: str) -> None:
    db = str(tmp_path / "sealguard.db")
    outcomes = run_race(db, 150, mode, parent)
    accepted = {tag: {hgt for hgt, o in res.items() if o == "ok"} for tag, res in outcomes.items()}
    assert all(o in ("ok", "refused") for res in outcomes.values() for o in res.values())
    assert not accepted["r0"] & accepted["r1"], "a height was sealed twice with conflicting headers"
    records = guard_at(db).show(heights=1000)
    assert sorted(r.height for r in records) == sorted(accepted["r0"] | accepted["r1"])
