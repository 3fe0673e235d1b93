"""Repository-wide pytest set-up: the repo root on sys.path, shared paths, vector location."""

from __future__ import annotations

import sys
from pathlib import Path

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
