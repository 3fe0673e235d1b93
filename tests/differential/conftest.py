"""Fixtures of the differential suite: the real clef and the real sealward on one key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_keyfile import create_keyfile_json

from tests.differential.harness import ADDRESS, KEY_HEX, PASSWORD, Pair, Peer, ScriptedUI
from tests.e2e.harness import SEALWARD
from tests.helpers.peers import CLEF, require_peer


def light_key_file(folder: Path) -> Path:
    """The test key in a v3 keystore file written by eth-keyfile (scrypt N=4096: cheap to open)."""
    keyfile = create_keyfile_json(bytes.fromhex(KEY_HEX), PASSWORD.encode(), kdf="scrypt", iterations=4096)
    path = folder / f"UTC--2026-01-01T00-00-00.000000000Z--{ADDRESS[2:].lower()}"
    path.write_text(json.dumps(keyfile))
    return path


@pytest.fixture(scope="module")
def ui() -> ScriptedUI:
    return ScriptedUI()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, ui: ScriptedUI) -> Iterator[Pair]:
    clef = require_peer(CLEF)
    work = tmp_path_factory.mktemp("diff")
    key = light_key_file(work)
    # The seal guard is sealward's own (clef has none); it is pinned by its own tests.
    pair = Pair(
        Peer("clef", [str(clef)], work / "clef", key, ui),
        Peer("sealward", [SEALWARD], work / "sealward", key, ui, extra=["--seal-guard", "off"]),
    )
    pair.start()
    yield pair
    pair.stop()
