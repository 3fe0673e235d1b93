"""LedgerBackend on a real Ledger: run by hand, with a person at the device.

    SEALWARD_LEDGER_DEVICE=1 .venv/bin/python -m pytest -m ledger -s tests/backends/test_ledger_device.py

Plug the Ledger in, unlock it and open the Ethereum app first. Each signing test asks you to
approve the request on the device (one asks you to reject it). Nothing is ever broadcast: the
transactions are only signed. Use a device whose seed holds no funds you care about.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct

from backends.base import Account, DigestPayload, UnsupportedPayload, UserRejected
from backends.ledger import LedgerBackend
from tests.backends.ledger_helpers import MAIL, recover_tx, text_payload, tx_payload, typed_payload

pytestmark = [
    pytest.mark.ledger,
    pytest.mark.skipif(
        os.environ.get("SEALWARD_LEDGER_DEVICE") != "1",
        reason="needs a real Ledger with the Ethereum app open (set SEALWARD_LEDGER_DEVICE=1)",
    ),
]


def ask(what: str) -> None:
    print(f"\n>>> On the Ledger: {what}", flush=True)


@pytest.fixture(scope="module")
def backend() -> Iterator[LedgerBackend]:
    ledger = LedgerBackend(accounts_per_path=2)
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def account(backend: LedgerBackend) -> Account:
    accounts = backend.accounts()
    assert accounts, "no Ledger account: is the device plugged in, unlocked, with the Ethereum app open?"
    return next(a for a in accounts if a.url.endswith("/m/44'/60'/0'/0/0"))


def test_accounts_on_both_paths(backend: LedgerBackend) -> None:
    paths = sorted(a.url.split("/", 3)[3] for a in backend.accounts())
    assert paths == sorted(["m/44'/60'/0'/0/0", "m/44'/60'/1'/0/0", "m/44'/60'/0'/0", "m/44'/60'/0'/1"])


def test_personal_message(backend: LedgerBackend, account: Account) -> None:
    ask("approve the message 'Sealward device test'")
    message = b"Sealward device test"
    sig = backend.sign(account, text_payload(message), None)
    assert EthAccount.recover_message(encode_defunct(message), signature=sig.to_bytes(27)) == account.address


def test_typed_data(backend: LedgerBackend, account: Account) -> None:
    ask("review the 'Ether Mail' typed message (fields, or two hashes on older apps) and approve")
    payload = typed_payload(MAIL)
    sig = backend.sign(account, payload, None)
    assert EthAccount._recover_hash(payload.digest, vrs=(sig.y_parity + 27, sig.r, sig.s)) == account.address


def test_eip1559_transaction(backend: LedgerBackend, account: Account) -> None:
    ask("approve a 0 ETH Sepolia transaction to your own address (it is not broadcast)")
    fields = {
        "type": 2,
        "chainId": 11155111,
        "nonce": 0,
        "to": account.address,
        "value": 0,
        "gas": 21000,
        "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 10**9,
        "data": "0x",
    }
    sig = backend.sign(account, tx_payload(fields), None)
    assert recover_tx(fields, sig) == account.address


def test_rejection(backend: LedgerBackend, account: Account) -> None:
    ask("REJECT the message 'please reject'")
    with pytest.raises(UserRejected):
        backend.sign(account, text_payload(b"please reject"), None)


def test_clique_seal_is_refused_without_a_prompt(backend: LedgerBackend, account: Account) -> None:
    with pytest.raises(UnsupportedPayload, match="clique"):
        backend.sign(account, DigestPayload(b"\x01" * 32, b""), None)
