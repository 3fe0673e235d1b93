"""A Ledger behind the real signer: the emulated Ethereum app served over ledgerblue's TCP proxy
transport, ``sealward --ledger`` as a real process, requests through its real socket."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from signer.clique.sealing import make_header, request_payload
from tests.backends.ledger_emulator import EthAppEmulator, ProxyServer
from tests.e2e.harness import RpcError, SignerProcess, approving_ui

pytestmark = pytest.mark.e2e
LIVE_0 = "m/44'/60'/0'/0/0"


@pytest.fixture()
def ledger_signer(tmp_path: Path) -> tuple[SignerProcess, EthAppEmulator, ProxyServer]:
    emulator = EthAppEmulator()
    proxy = ProxyServer(emulator)
    config = tmp_path / "config"
    env = {"LEDGER_PROXY_ADDRESS": "127.0.0.1", "LEDGER_PROXY_PORT": str(proxy.port)}
    proc = SignerProcess(["--keystore", "", "--ledger", "--ledger-accounts", "2", "--configdir", str(config),
                          "--chainid", "5", "--auditlog", ""], approving_ui(""), config / "clef.ipc", env=env)  # fmt: skip
    yield proc, emulator, proxy
    proc.stop()
    proxy.stop()


def test_transaction_and_personal_message_through_the_socket(
    ledger_signer: tuple[SignerProcess, EthAppEmulator, ProxyServer],
) -> None:
    signer, emulator, _ = ledger_signer
    address = emulator.address(LIVE_0)
    client = signer.client()
    listed = client.call("account_list")
    assert address.lower() in listed and len(listed) == 4  # 2 Ledger Live + 2 legacy paths

    sig = client.call("account_signData", "text/plain", address, "0x" + b"hello ledger".hex())
    assert Account.recover_message(encode_defunct(primitive=b"hello ledger"), signature=sig) == address

    tx = {"from": address, "to": "0x3535353535353535353535353535353535353535", "gas": "0x5208",
          "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x1", "value": "0x1", "nonce": "0x0",
          "input": "0x", "accessList": [], "chainId": "0x5"}  # fmt: skip
    result = client.call("account_signTransaction", tx)
    assert Account.recover_transaction(result["raw"]) == address
    assert len(emulator.prompts) == 2  # the person confirmed each request on the device


def test_clique_seal_is_refused_with_advice(
    ledger_signer: tuple[SignerProcess, EthAppEmulator, ProxyServer],
) -> None:
    signer, emulator, _ = ledger_signer
    with pytest.raises(RpcError) as info:
        signer.client().call("account_signData", "application/x-clique-header", emulator.address(LIVE_0),
                             request_payload(make_header(1, bytes(32))))  # fmt: skip
    assert "HSM" in info.value.message or "keystore" in info.value.message


def test_unplugged_device_disappears_and_requests_fail_cleanly(
    ledger_signer: tuple[SignerProcess, EthAppEmulator, ProxyServer],
) -> None:
    signer, emulator, proxy = ledger_signer
    address = emulator.address(LIVE_0)
    client = signer.client()
    assert address.lower() in client.call("account_list")
    proxy.unplug()
    with pytest.raises(RpcError) as info:
        client.call("account_signData", "text/plain", address, "0x01")
    assert info.value.code == -32000
    deadline = time.monotonic() + 5
    while address.lower() in client.call("account_list") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert address.lower() not in client.call("account_list")
    assert client.call("account_version") == "6.1.0"
