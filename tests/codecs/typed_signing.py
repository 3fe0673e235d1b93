"""Test helpers for typed data: the vectors folder, a real signer (keystore + console UI driven by
scripted stdin lines) and eth-account recovery of what it signed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import SignableMessage

from backends.base import Secret
from backends.keystore import KeystoreBackend
from signer.accounts import AccountManager
from signer.api.extensions import Extensions
from signer.api.external import ExternalAPI
from signer.approval.console import ConsoleUI
from signer.approval.terminal import Terminal
from signer.config import Config

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
COW_KEY = bytes.fromhex("c85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4")  # keccak("cow")
COW = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
PASSWORD = "correct horse battery"
APPROVE = f"y\n{PASSWORD}\n"  # what a person types: approve, then the key's password


def vector_bytes(relative: str) -> bytes:
    path = VECTORS / relative
    if not path.exists():
        pytest.skip(f"vectors not present at {path}")
    return path.read_bytes()


def vector(relative: str) -> Any:
    return json.loads(vector_bytes(relative))


def vector_or_empty(relative: str) -> Any:
    """For parametrisation at collection time: {} when the folder is absent (tests then skip)."""
    path = VECTORS / relative
    return json.loads(path.read_bytes()) if path.exists() else {}


def cow_keystore(directory: Path) -> KeystoreBackend:
    backend = KeystoreBackend(directory, light_kdf=True)
    backend.import_key(COW_KEY, Secret(PASSWORD))
    return backend


class Signer:
    """An ExternalAPI with the typed-data extensions, answering prompts from ``answers``."""

    def __init__(
        self, keystore: KeystoreBackend, tmp: Path, answers: str, *, advanced: bool = False, chain_id: int = 1
    ) -> None:
        self.screen = io.StringIO()
        ui = ConsoleUI(Terminal(io.StringIO(answers), self.screen))
        config = Config(configdir=tmp, keystore=None, fourbyte_custom=tmp / "4byte-custom.json")
        self.api = ExternalAPI(
            AccountManager([keystore]), ui, chain_id, advanced=advanced, extensions=Extensions(config)
        )


def recover(signature_hex: str, preimage: bytes) -> str:
    """The address eth-account recovers from a 0x1901 ‖ domain ‖ struct preimage and a signature."""
    assert len(preimage) == 66 and preimage[:2] == b"\x19\x01"
    message = SignableMessage(b"\x01", preimage[2:34], preimage[34:])
    return str(Account.recover_message(message, signature=bytes.fromhex(signature_hex[2:])))
