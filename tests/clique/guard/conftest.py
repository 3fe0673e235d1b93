"""Guard tests run on both stores (the PostgreSQL fixtures live in the root conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def guard_target(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """A fresh guard location on each store: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("tmp_path") / "sealguard.db")
    url: str = request.getfixturevalue("pg_url")
    return url
