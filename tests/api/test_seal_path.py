"""The clique seal path of the external API: the guard's record is made while the key signs.

A real keystore key and a real SQLite guard behind ``ExternalAPI``, a person answering on a
scripted terminal. The signature leaves only with a durable record; a refused seal gives no
signature; a seal whose signing failed leaves no record behind (a standby may take its height).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from backends.base import InvalidCredential
from signer.accounts import AccountManager
from signer.api.external import ExternalAPI
from signer.approval.console import ConsoleUI
from signer.approval.terminal import Terminal
from signer.clique import CliqueHeader
from signer.clique.guard import SealGuardRefused, open_guard
from signer.clique.sealing import CLIQUE_CONTENT_TYPE, CliqueChain, recover_sealer, request_payload
from signer.codecs.hexutil import MixedcaseAddress
from signer.types import IPC_METADATA
from tests.codecs.typed_signing import COW, PASSWORD, cow_keystore

CHAIN = 1337


def _api(tmp_path: Path, answers: str, instance: str = "node-a") -> ExternalAPI:
    ui = ConsoleUI(Terminal(io.StringIO(answers), io.StringIO()))
    guard = open_guard(str(tmp_path / "sealguard.db"), instance=instance)
    return ExternalAPI(
        AccountManager([cow_keystore(tmp_path / f"keys-{instance}")]), ui, CHAIN, seal_guard=guard
    )


def _sign(api: ExternalAPI, header: CliqueHeader) -> str:
    return api.sign_data(
        IPC_METADATA, CLIQUE_CONTENT_TYPE, MixedcaseAddress.parse(COW), request_payload(header)
    )


def test_a_seal_leaves_with_its_record(tmp_path: Path) -> None:
    api = _api(tmp_path, f"y\n{PASSWORD}\n" * 2)
    chain = CliqueChain()
    for _ in range(2):
        signature = _sign(api, chain.propose())
        assert recover_sealer(chain.seal(bytes.fromhex(signature[2:]))) == COW
    assert [r.height for r in api.seal_guard.show(heights=10)] == [1, 2]  # type: ignore[union-attr]
    api.close()


def test_a_refused_seal_gives_no_signature(tmp_path: Path) -> None:
    api = _api(tmp_path, f"y\n{PASSWORD}\n" * 3)
    chain = CliqueChain()
    first = chain.propose()
    chain.seal(bytes.fromhex(_sign(api, first)[2:]))
    _sign(api, chain.propose())
    with pytest.raises(SealGuardRefused, match="never rolls back"):
        _sign(api, first)  # the key did sign it again; the guard's refusal keeps it in
    api.close()


def test_a_failed_signature_takes_its_record_back(tmp_path: Path) -> None:
    active = _api(tmp_path, "y\nwrong password\n", instance="node-a")
    chain = CliqueChain()
    header = chain.propose()
    with pytest.raises(InvalidCredential, match="could not decrypt"):
        _sign(active, header)
    active.close()
    assert active.seal_guard.show(heights=10) == []  # type: ignore[union-attr]
    # The height is not held by the instance that never sealed it: the standby may take it.
    standby = _api(tmp_path, f"y\n{PASSWORD}\n", instance="node-b")
    signature = _sign(standby, header)
    assert recover_sealer(chain.seal(bytes.fromhex(signature[2:]))) == COW
    assert [(r.height, r.instance) for r in standby.seal_guard.show(heights=10)] == [(1, "node-b")]  # type: ignore[union-attr]
    standby.close()
