"""PostgreSQL specifics on a real private server: the lock that makes two signers safe, racing
processes, fail closed while the server is down and recovery without reopening, and passwords
kept out of every message."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from signer.clique.guard import SealGuardRefused, SealGuardUnavailable
from signer.clique.guard.postgres_schema import KEYS_TABLE, SEALS_TABLE, redact_url
from tests.clique.guard.kit import fresh, guard_at
from tests.clique.guard.seal_writer import run_race
from tests.helpers.postgres import PostgresServer

pytestmark = pytest.mark.postgres

CHAIN = 1337
SIGNER = "0x" + "ab" * 20
P1, P2 = b"\x01" * 32, b"\x02" * 32


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.mark.parametrize(("mode", "parent", "racers"), [("resubmit", "own", 2), ("strict", "shared", 3)])
def test_processes_racing_on_one_database_never_conflict(
    pg_url: str, mode: str, parent: str, racers: int
) -> None:
    outcomes = run_race(pg_url, 150, mode, parent, racers)
    assert all(o in ("ok", "refused") for res in outcomes.values() for o in res.values())
    winners: dict[int, list[str]] = {}
    for tag, res in outcomes.items():
        for height, outcome in res.items():
            if outcome == "ok":
                winners.setdefault(height, []).append(tag)
    assert all(len(tags) == 1 for tags in winners.values()), "conflicting seals at one height"
    assert winners and all(len(res) == 150 for res in outcomes.values())
    records = guard_at(pg_url).show(heights=1000)
    assert sorted(r.height for r in records) == sorted(winners)


def test_a_waiting_signer_sees_the_seal_committed_by_the_lock_holder(pg_url: str) -> None:
    guard = guard_at(pg_url)
    guard.check_and_record(CHAIN, SIGNER, 9, h(9), P1, fresh(guard))  # creates the schema and the key row
    other = psycopg.connect(pg_url)  # plays a second signer, mid-transaction
    other.execute(
        f"SELECT 1 FROM {KEYS_TABLE} WHERE chain_id = %s AND signer = %s FOR UPDATE", (CHAIN, SIGNER)
    )
    result: dict[str, Any] = {}

    def seal() -> None:
        try:
            guard.check_and_record(CHAIN, SIGNER, 10, h(10), P1, fresh(guard))
            result["outcome"] = "sealed"
        except SealGuardRefused as exc:
            result["outcome"] = str(exc)

    waiter = threading.Thread(target=seal)
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive(), "check-and-record did not wait for the key's lock"
    other.execute(
        f"INSERT INTO {SEALS_TABLE} (chain_id, signer, height, seal_hash, parent_hash, header_time, instance)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (CHAIN, SIGNER, 10, h(99), P2, int(time.time()), "other-signer"),
    )
    other.commit()
    other.close()
    waiter.join(10)
    assert "sealed by signer instance other-signer" in result["outcome"]


def test_tables_of_the_first_release_are_migrated_and_still_guard(pg_url: str) -> None:
    with psycopg.connect(pg_url) as old:  # the schema exactly as the first release created it
        old.execute(
            f"CREATE TABLE {KEYS_TABLE} (chain_id bigint NOT NULL, signer text NOT NULL,"
            " PRIMARY KEY (chain_id, signer))"
        )
        old.execute(
            f"CREATE TABLE {SEALS_TABLE} (chain_id bigint NOT NULL, signer text NOT NULL,"
            " height bigint NOT NULL, seal_hash bytea NOT NULL, parent_hash bytea NOT NULL,"
            " sealed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (chain_id, signer, height, seal_hash),"
            f" FOREIGN KEY (chain_id, signer) REFERENCES {KEYS_TABLE} (chain_id, signer))"
        )
        old.execute(f"INSERT INTO {KEYS_TABLE} VALUES (%s, %s)", (CHAIN, SIGNER))
        old.execute(
            f"INSERT INTO {SEALS_TABLE} (chain_id, signer, height, seal_hash, parent_hash,"
            " sealed_at) VALUES (%s, %s, 100, %s, %s, now() - interval '1 minute')",
            (CHAIN, SIGNER, h(100), P1),
        )
    guard = guard_at(pg_url, instance="after-upgrade")
    (legacy,) = guard.show()
    assert (legacy.height, legacy.header_time, legacy.instance) == (100, None, None)
    with pytest.raises(SealGuardRefused, match="never rolls back"):
        guard.check_and_record(CHAIN, SIGNER, 99, h(99), P1, fresh(guard))
    with pytest.raises(SealGuardRefused, match="on another parent"):
        guard.check_and_record(CHAIN, SIGNER, 100, h(7), P2, fresh(guard) - 600)
    guard.check_and_record(CHAIN, SIGNER, 100, h(101), P1, fresh(guard))  # the legacy top re-sealed
    guard.check_and_record(CHAIN, SIGNER, 101, h(102), P1, fresh(guard))
    assert [(r.height, r.instance) for r in guard.show(heights=2)] == [
        (100, None),
        (100, "after-upgrade"),
        (101, "after-upgrade"),
    ]


def test_server_down_fails_closed_and_recovers_without_reopening(
    pg_server: PostgresServer, pg_url: str
) -> None:
    guard = guard_at(pg_url)
    guard.check_and_record(CHAIN, SIGNER, 10, h(10), P1, fresh(guard))
    pg_server.stop()
    try:
        for height in (11, 12):  # first the dropped connection, then a refused reconnect
            with pytest.raises(SealGuardUnavailable) as err:
                guard.check_and_record(CHAIN, SIGNER, height, h(height), P1, fresh(guard))
            message = str(err.value)
            assert message.startswith("seal guard unavailable (postgresql://sealward:***@127.0.0.1:")
            assert "refusing to seal" in message
            assert pg_server.password not in message
        with pytest.raises(SealGuardUnavailable):
            guard.show()
    finally:
        pg_server.start()
    guard.check_and_record(CHAIN, SIGNER, 12, h(12), P1, fresh(guard))
    assert [r.height for r in guard.show(heights=5)] == [10, 12]
    with pytest.raises(SealGuardRefused):
        guard.check_and_record(CHAIN, SIGNER, 11, h(11), P1, fresh(guard))


def test_server_down_at_start_does_not_stop_the_signer(pg_server: PostgresServer, pg_url: str) -> None:
    pg_server.stop()
    try:
        guard = guard_at(pg_url)  # no connection yet
        with pytest.raises(SealGuardUnavailable, match="refusing to seal"):
            guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))
    finally:
        pg_server.start()
    guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))


def test_wrong_password_is_unavailable_and_not_echoed(pg_server: PostgresServer, pg_url: str) -> None:
    wrong = pg_url.replace(pg_server.password, "Hunter2-wrong-secret")
    with pytest.raises(SealGuardUnavailable) as err:
        guard_at(wrong).check_and_record(CHAIN, SIGNER, 1, h(1), P1, int(time.time()))
    assert "Hunter2" not in str(err.value) and "password authentication failed" in str(err.value)


def test_synchronous_commit_off_is_turned_back_on(pg_server: PostgresServer, pg_url: str) -> None:
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" SET synchronous_commit = off')
    guard = guard_at(pg_url)
    guard.check_and_record(CHAIN, SIGNER, 1, h(1), P1, fresh(guard))
    conn = guard.store._conn  # type: ignore[attr-defined]
    with conn.transaction():
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:s3cret@db.internal:5432/guard", "postgresql://u:***@db.internal:5432/guard"),
        ("postgresql://u@db/guard?sslmode=require", "postgresql://u@db/guard?sslmode=require"),
        ("postgres://db/guard?user=u&password=s3cret", "postgres://db/guard?user=u&password=***"),
        ("postgresql://u:p%40ss:w@[::1]:5433/g", "postgresql://u:***@[::1]:5433/g"),
    ],
)
def test_urls_are_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown
