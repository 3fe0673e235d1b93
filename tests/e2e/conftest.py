"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from signer.tools.sandbox import Sandbox


@pytest.fixture()
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """A throw-away installation with an initialised vault; its daemon is stopped afterwards."""
    sandbox = Sandbox(tmp_path)
    sandbox.init_vault()
    yield sandbox
    sandbox.stop()
