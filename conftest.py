"""Repository-wide pytest set-up: the repo root on sys.path, shared paths, vector location."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
VECTORS = ROOT.parent / "shared" / "vectors"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    if not VECTORS.is_dir():
        pytest.skip(f"test vectors not found at {VECTORS} (../shared/vectors beside the checkout)")
    return VECTORS


_database_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One private PostgreSQL server per test session (skips with the reason when none can run)."""
    from tests.helpers.postgres import PostgresUnavailable, start_server

    try:
        server = start_server()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL server cannot run here: {exc}")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """A URL (with a password) of an empty database of its own."""
    url: str = pg_server.create_database(f"guard_{next(_database_names)}")
    return url
