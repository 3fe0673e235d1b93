"""One private PostgreSQL server per test session; a fresh database per test that asks for one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.helpers.postgres import PostgresServer, PostgresUnavailable, start_server

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL server cannot run here: {exc}")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A URL (with a password) of an empty database of its own."""
    return pg_server.create_database(f"guard_{next(_names)}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def guard_target(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """A fresh guard location on each store: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("tmp_path") / "sealguard.db")
    url: str = request.getfixturevalue("pg_url")
    return url
