"""Fixtures for the vault tests: fixed seeds and light-KDF master seeds (scrypt N=4096, ~50 ms)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backends.base import Secret
from signer.vault import Vault, create_master_seed

MASTER_PASSWORD = "correct horse battery staple"


def make_seed(label: str) -> bytes:
    """A deterministic 256-byte seed, different for each label."""
    return b"".join(hashlib.sha256(f"{label}/{i}".encode()).digest() for i in range(8))


@pytest.fixture
def password() -> Secret:
    return Secret(MASTER_PASSWORD)


@pytest.fixture
def seed() -> bytes:
    return make_seed("fixture")


@pytest.fixture
def configdir(tmp_path: Path) -> Path:
    return tmp_path / "clef"


@pytest.fixture
def seed_path(configdir: Path, password: Secret) -> Path:
    path = configdir / "masterseed.json"
    create_master_seed(path, password, light_kdf=True)
    return path


@pytest.fixture
def vault(configdir: Path, seed: bytes) -> Vault:
    return Vault.open(configdir, seed)
