"""The seal guard in PostgreSQL, shared by several Sealward processes that hold one key.

Locking: one row per (chain id, signer) in ``sealward_guard_keys``, taken with
``SELECT ... FOR UPDATE`` at the start of each check-and-record transaction. Every writer of a
key queues on that row, so reading the top height and inserting the new seal happen as one step
for the whole cluster. Chosen over the alternatives because:

* an advisory lock would need the (bigint, text) key hashed into one bigint (opaque, and
  unrelated keys can collide); a row lock is keyed exactly and visible in ``pg_locks``;
* SERIALIZABLE would be correct too, but two signers racing for a height would see
  serialization failures and need a retry loop; a row lock just makes the second one wait.

The transaction runs at READ COMMITTED on purpose: each statement after the lock takes a fresh
snapshot, so it sees the seal the previous lock holder committed. (REPEATABLE READ would keep
the snapshot from before the wait and miss it.)

Durability: COMMIT returns after the WAL is flushed unless the session has
``synchronous_commit = off``; the guard turns that back on for its own session.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import psycopg
from psycopg import conninfo

from signer.clique.guard.errors import SealGuardUnavailable
from signer.clique.guard.policy import Decision, Proposal, SealRecord
from signer.clique.guard.postgres_schema import (
    CREATE_SCHEMA,
    KEYS_TABLE,
    MIGRATE_SCHEMA,
    SCHEMA_LOCK_ID,
    SEALS_TABLE,
    redact_url,
    scrub,
)
from signer.clique.guard.store import KEEP_HEIGHTS, KEEP_PER_HEIGHT, Decide, pruning_due

# Applied unless the URL sets them: a dead network must not hang a seal forever.
CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15000,
    "application_name": "sealward-seal-guard",
}
LOCK_TIMEOUT = "10s"  # another signer holding the key for longer is treated as unavailable
STATEMENT_TIMEOUT = "30s"
_COLUMNS = (
    "chain_id, signer, height, seal_hash, parent_hash, extract(epoch from sealed_at)::float8, "
    "header_time, instance"
)


def _record(row: tuple[Any, ...]) -> SealRecord:
    header_time = None if row[6] is None else int(row[6])
    instance = None if row[7] is None else str(row[7])
    return SealRecord(
        int(row[0]),
        str(row[1]),
        int(row[2]),
        bytes(row[3]),
        bytes(row[4]),
        float(row[5]),
        header_time,
        instance,
    )


class PostgresStore:
    def __init__(self, url: str) -> None:
        self._url = url
        password = conninfo.conninfo_to_dict(url).get("password") or os.environ.get("PGPASSWORD")
        self._password = str(password) if password else None
        self._location = redact_url(url)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None

    @property
    def location(self) -> str:
        return self._location

    def _unavailable(self, what: str, exc: BaseException) -> SealGuardUnavailable:
        detail = scrub(str(exc), self._password)
        return SealGuardUnavailable(f"seal guard unavailable ({self._location}): {what}: {detail}")

    def _open(self) -> psycopg.Connection[tuple[Any, ...]]:
        given = conninfo.conninfo_to_dict(self._url)
        extra = {k: v for k, v in CONNECT_DEFAULTS.items() if k not in given}
        conn = psycopg.connect(self._url, autocommit=False, **extra)
        try:
            conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
            with conn.cursor() as cur:
                cur.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
                cur.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
                row = cur.execute("SHOW synchronous_commit").fetchone()
                if row is not None and row[0] == "off":
                    cur.execute("SET synchronous_commit = on")
                found = cur.execute(
                    "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL"
                    " AND (SELECT count(*) FROM information_schema.columns WHERE table_name = %s"
                    "      AND table_schema = current_schema()"
                    "      AND column_name IN ('header_time', 'instance')) = 2",
                    (KEYS_TABLE, SEALS_TABLE, SEALS_TABLE),
                ).fetchone()
                if not (found and found[0]):
                    # Two signers starting together must not both create or migrate the tables.
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
                    cur.execute(CREATE_SCHEMA)
                    cur.execute(MIGRATE_SCHEMA)
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self, what: str, work: Any) -> Any:
        """Run ``work(cursor)`` in one transaction; any database failure refuses and reconnects."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._open()
                conn = self._conn
                with conn.transaction(), conn.cursor() as cur:
                    return work(cur)
            except psycopg.Error as exc:
                self._drop()
                raise self._unavailable(what, exc) from None

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    @staticmethod
    def _lock_key(cur: psycopg.Cursor[tuple[Any, ...]], chain_id: int, signer: str) -> None:
        cur.execute(
            f"INSERT INTO {KEYS_TABLE} (chain_id, signer) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (chain_id, signer),
        )
        cur.execute(
            f"SELECT 1 FROM {KEYS_TABLE} WHERE chain_id = %s AND signer = %s FOR UPDATE",
            (chain_id, signer),
        )

    def check_and_record(self, proposal: Proposal, decide: Decide, heights: int = 1) -> Decision:
        p = proposal

        def work(cur: psycopg.Cursor[tuple[Any, ...]]) -> Decision:
            self._lock_key(cur, p.chain_id, p.signer)
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM {SEALS_TABLE} WHERE chain_id = %(c)s AND signer = %(s)s"
                f" AND height > (SELECT max(height) FROM {SEALS_TABLE}"
                "  WHERE chain_id = %(c)s AND signer = %(s)s) - %(n)s",
                {"c": p.chain_id, "s": p.signer, "n": heights},
            ).fetchall()
            prior = [_record(r) for r in rows]
            decision = decide(prior)
            if not decision.record:
                return decision
            cur.execute(
                f"INSERT INTO {SEALS_TABLE} (chain_id, signer, height, seal_hash, parent_hash,"
                " sealed_at, header_time, instance)"
                " VALUES (%s, %s, %s, %s, %s, to_timestamp(%s), %s, %s)",
                (p.chain_id, p.signer, p.height, p.seal_hash, p.parent_hash, decision.at,
                 p.header_time, p.instance),
            )  # fmt: skip
            old_heights, same_height = pruning_due(p, prior)
            if old_heights:
                cur.execute(
                    f"DELETE FROM {SEALS_TABLE} WHERE chain_id = %s AND signer = %s AND height <= %s",
                    (p.chain_id, p.signer, p.height - KEEP_HEIGHTS),
                )
            if same_height:
                cur.execute(
                    f"DELETE FROM {SEALS_TABLE} WHERE chain_id = %(c)s AND signer = %(s)s AND height = %(h)s"
                    f" AND seal_hash NOT IN (SELECT seal_hash FROM {SEALS_TABLE} WHERE chain_id = %(c)s"
                    "  AND signer = %(s)s AND height = %(h)s ORDER BY sealed_at DESC LIMIT %(n)s)",
                    {"c": p.chain_id, "s": p.signer, "h": p.height, "n": KEEP_PER_HEIGHT},
                )
            return decision

        result: Decision = self._run("refusing to seal, the seal cannot be recorded", work)
        return result

    def show(self, chain_id: int | None, signer: str | None, heights: int) -> list[SealRecord]:
        def work(cur: psycopg.Cursor[tuple[Any, ...]]) -> list[SealRecord]:
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM ("
                "  SELECT *, dense_rank() OVER"
                f"    (PARTITION BY chain_id, signer ORDER BY height DESC) AS rank FROM {SEALS_TABLE}"
                "  WHERE (%(c)s::bigint IS NULL OR chain_id = %(c)s)"
                "    AND (%(s)s::text IS NULL OR signer = %(s)s)) ranked"
                " WHERE rank <= %(n)s ORDER BY chain_id, signer, height, sealed_at",
                {"c": chain_id, "s": signer, "n": heights},
            ).fetchall()
            return [_record(r) for r in rows]

        result: list[SealRecord] = self._run("cannot read the seal records", work)
        return result

    def reset(self, chain_id: int, signer: str, height: int) -> int:
        def work(cur: psycopg.Cursor[tuple[Any, ...]]) -> int:
            self._lock_key(cur, chain_id, signer)
            cur.execute(
                f"DELETE FROM {SEALS_TABLE} WHERE chain_id = %s AND signer = %s AND height >= %s",
                (chain_id, signer, height),
            )
            return cur.rowcount

        result: int = self._run("cannot reset the seal records", work)
        return result

    def retract(self, proposal: Proposal, sealed_at: float) -> int:
        p = proposal

        def work(cur: psycopg.Cursor[tuple[Any, ...]]) -> int:
            self._lock_key(cur, p.chain_id, p.signer)
            cur.execute(
                f"DELETE FROM {SEALS_TABLE} WHERE chain_id = %s AND signer = %s AND height = %s"
                " AND seal_hash = %s AND parent_hash = %s AND sealed_at = to_timestamp(%s)"
                " AND instance IS NOT DISTINCT FROM %s",
                (p.chain_id, p.signer, p.height, p.seal_hash, p.parent_hash, sealed_at, p.instance),
            )
            return cur.rowcount

        result: int = self._run("cannot retract the seal record", work)
        return result

    def close(self) -> None:
        with self._lock:
            self._drop()
