"""The seal guard in one SQLite file (the default, in the configdir).

Durability: WAL journal with ``synchronous=FULL``, so COMMIT returns only after the WAL is
fsync'd; a SIGKILL or power cut after it cannot lose the record, and one before it loses a seal
that was never delivered. Atomicity across processes (two signers or ``guard reset`` sharing the
file): ``BEGIN IMMEDIATE`` takes the write lock before the records are read, so no other writer
can slip in between the check and the record.

Fail closed: every call first checks that the path still names the file this process opened.
Writing on through an open connection to a deleted or replaced file would lose the records
silently, so a missing or replaced file refuses, and the file is created only until this process
has opened it once. Any SQLite error drops the connection and refuses; the next call reopens,
which is how the guard recovers by itself.

Schema versions (``PRAGMA user_version``): 1 had no header time and no instance; opening such a
file adds both columns (NULL on the old records, which the policy accepts) and sets version 2.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from urllib.parse import quote

from signer.clique.guard.errors import SealGuardUnavailable
from signer.clique.guard.groupcommit import GroupCommit
from signer.clique.guard.policy import Decision, Proposal, SealRecord
from signer.clique.guard.store import KEEP_HEIGHTS, KEEP_PER_HEIGHT, Decide, pruning_due

BUSY_TIMEOUT_MS = 5000
SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS seals (
    chain_id    INTEGER NOT NULL,
    signer      TEXT    NOT NULL,
    height      INTEGER NOT NULL,
    seal_hash   BLOB    NOT NULL,
    parent_hash BLOB    NOT NULL,
    sealed_at   REAL    NOT NULL,
    header_time INTEGER,
    instance    TEXT,
    PRIMARY KEY (chain_id, signer, height, seal_hash)
) WITHOUT ROWID
"""
# Columns added after version 1, with their types: added in place to older files.
_ADDED_COLUMNS = {"header_time": "INTEGER", "instance": "TEXT"}
_COLUMNS = "chain_id, signer, height, seal_hash, parent_hash, sealed_at, header_time, instance"

Row = tuple[int, str, int, bytes, bytes, float, int | None, str | None]


def _record(row: Row) -> SealRecord:
    return SealRecord(row[0], row[1], row[2], bytes(row[3]), bytes(row[4]), row[5], row[6], row[7])


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a version-1 table up to date (inside the caller's write transaction)."""
    present = {str(row[1]) for row in conn.execute("PRAGMA table_info(seals)")}
    for name, sql_type in _ADDED_COLUMNS.items():
        if name not in present:
            conn.execute(f"ALTER TABLE seals ADD COLUMN {name} {sql_type}")


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._lock = threading.Lock()
        self._group: GroupCommit[tuple[Proposal, Decide, int], Decision] = GroupCommit(self._record_batch)
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._opened_once = False
        try:
            with self._lock:
                self._connection()
        except SealGuardUnavailable:
            pass  # fail closed on use, not at start-up: the signer keeps serving everything else

    @property
    def location(self) -> str:
        return self.path

    def _unavailable(self, what: str) -> SealGuardUnavailable:
        return SealGuardUnavailable(f"seal guard unavailable ({self.path}): {what}")

    def _open(self) -> sqlite3.Connection:
        create = not self._opened_once
        if create and not os.path.exists(self.path):
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            dir_fd = os.open(os.path.dirname(self.path), os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the new file's name must survive a crash too
            finally:
                os.close(dir_fd)
        uri = f"file:{quote(self.path)}?mode=rw"  # rw: never create behind the operator's back
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise sqlite3.OperationalError("cannot switch the database to WAL mode")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_SCHEMA)
            _migrate(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        self._opened_once = True
        return conn

    def _connection(self) -> sqlite3.Connection:
        """The open connection, as long as the path still names the file it was opened on."""
        try:
            st = os.stat(self.path)
            identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            identity = None
        if identity is None and self._opened_once:
            # Keep the connection: if the file is moved back, the guard carries on.
            raise self._unavailable("refusing to seal, the guard database is missing (deleted or moved?)")
        if self._identity is not None and identity != self._identity:
            # A file swapped in under a live connection gets the old file's WAL replayed onto it
            # (SQLite keys the WAL by path), so reopening here could mix two histories.
            raise self._unavailable(
                "refusing to seal, the guard database file was replaced while in use; "
                "restart Sealward to use the new file"
            )
        if self._conn is not None:
            return self._conn
        try:
            self._conn = self._open()
            st = os.stat(self.path)
            self._identity = (st.st_dev, st.st_ino)
        except (OSError, sqlite3.Error) as exc:
            self._drop()
            raise self._unavailable(f"refusing to seal, cannot open the guard database: {exc}") from exc
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._drop()  # its state is unknown after an I/O error; reopen next time
                raise self._unavailable(f"refusing to seal, the database failed: {exc}") from exc

    def check_and_record(self, proposal: Proposal, decide: Decide, heights: int = 1) -> Decision:
        # Concurrent seals share one transaction and one fsync (groupcommit.py); each returns
        # only once the commit holding its record is durable.
        return self._group.submit((proposal, decide, heights))

    def _record_batch(self, batch: Sequence[tuple[Proposal, Decide, int]]) -> list[Decision | BaseException]:
        results: list[Decision | BaseException] = []
        with self._transaction() as conn:
            for proposal, decide, heights in batch:
                # Only the policy can raise anything but sqlite3.Error, and it runs before this
                # seal writes anything, so a refusal leaves the batch's other records as they are
                # without a savepoint.
                try:
                    results.append(self._record(conn, proposal, decide, heights))
                except sqlite3.Error:
                    raise  # the whole transaction is in doubt: every seal of the batch refuses
                except Exception as exc:
                    results.append(exc)
        return results

    def _record(self, conn: sqlite3.Connection, proposal: Proposal, decide: Decide, heights: int) -> Decision:
        """Read the key's ``heights`` highest heights, decide, record: one seal's part of a
        transaction."""
        p = proposal
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM seals WHERE chain_id = ?1 AND signer = ?2 AND height > "
            "(SELECT max(height) FROM seals WHERE chain_id = ?1 AND signer = ?2) - ?3",
            (p.chain_id, p.signer, heights),
        ).fetchall()
        prior = [_record(r) for r in rows]
        decision = decide(prior)
        if not decision.record:
            return decision
        conn.execute(
            f"INSERT INTO seals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (p.chain_id, p.signer, p.height, p.seal_hash, p.parent_hash, decision.at,
             p.header_time, p.instance),
        )  # fmt: skip
        old_heights, same_height = pruning_due(p, prior)
        if old_heights:
            conn.execute(
                "DELETE FROM seals WHERE chain_id = ? AND signer = ? AND height <= ?",
                (p.chain_id, p.signer, p.height - KEEP_HEIGHTS),
            )
        if same_height:
            conn.execute(
                "DELETE FROM seals WHERE chain_id = ?1 AND signer = ?2 AND height = ?3"
                " AND seal_hash NOT IN (SELECT seal_hash FROM seals"
                "  WHERE chain_id = ?1 AND signer = ?2 AND height = ?3 ORDER BY sealed_at DESC LIMIT ?4)",
                (p.chain_id, p.signer, p.height, KEEP_PER_HEIGHT),
            )
        return decision

    def show(self, chain_id: int | None, signer: str | None, heights: int) -> list[SealRecord]:
        with self._transaction() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM ("
                f"  SELECT {_COLUMNS}, dense_rank() OVER"
                "    (PARTITION BY chain_id, signer ORDER BY height DESC) AS rank FROM seals"
                "  WHERE (?1 IS NULL OR chain_id = ?1) AND (?2 IS NULL OR signer = ?2))"
                " WHERE rank <= ?3 ORDER BY chain_id, signer, height, sealed_at",
                (chain_id, signer, heights),
            ).fetchall()
        return [_record(r) for r in rows]

    def reset(self, chain_id: int, signer: str, height: int) -> int:
        with self._transaction() as conn:
            cur = conn.execute(
                "DELETE FROM seals WHERE chain_id = ? AND signer = ? AND height >= ?",
                (chain_id, signer, height),
            )
            return cur.rowcount

    def retract(self, proposal: Proposal, sealed_at: float) -> int:
        p = proposal
        with self._transaction() as conn:
            cur = conn.execute(
                "DELETE FROM seals WHERE chain_id = ? AND signer = ? AND height = ? AND seal_hash = ?"
                " AND parent_hash = ? AND sealed_at = ? AND instance IS ?",
                (p.chain_id, p.signer, p.height, p.seal_hash, p.parent_hash, sealed_at, p.instance),
            )
            return cur.rowcount

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file ("ok" when sound), for operators and the crash tests."""
        with self._transaction() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._drop()
