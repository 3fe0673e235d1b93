"""End to end on SoftHSM: the CLI sets up token, vault and attested rules; the real signer seals
over IPC with no prompt; 4 concurrent clients × 500 seals all verify (rlp + eth-keys)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from signer.clique.sealing import CliqueChain, request_payload
from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.sandbox import SOFTHSM_MODULE, Sandbox
from tests.e2e.clique_check import recover_clique_signer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(SOFTHSM_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
    ),
]
CLIQUE = "application/x-clique-header"


def _seal_chain(socket_path: Path, address: str, count: int, first: int, failures: list[str]) -> None:
    chain = CliqueChain(first_number=first)
    with IpcClient(socket_path) as client:
        for _ in range(count):
            header = chain.propose()
            payload = request_payload(header)
            sig = bytes.fromhex(client.call("account_signData", CLIQUE, address, payload)[2:])
            if sig[64] not in (0, 1) or recover_clique_signer(bytes.fromhex(payload[2:]), sig) != address:
                failures.append(f"height {header.number}")
            chain.seal(sig)


def test_attested_rules_seal_on_softhsm_without_prompts(box: Sandbox) -> None:
    address = box.softhsm_key()
    box.start(rules=box.attest())  # stdin is /dev/null: any prompt would deny
    failures: list[str] = []
    _seal_chain(box.socket, address, 20, 1, failures)
    assert failures == []
    with IpcClient(box.socket) as client:
        assert client.call("account_list") == [address.lower()]
        with pytest.raises(RpcError) as info:  # the walkthrough's rules reject everything else
            client.call("account_signData", "text/plain", address, "0x01")
        assert info.value.message == "request denied"
    listed = box.run("list-accounts", [*box.common, *box.backend_flags, "list-accounts"])
    assert f"{address} (pkcs11:token=sealward;" in listed


def test_load_four_clients_five_hundred_seals_each(box: Sandbox) -> None:
    address = box.softhsm_key()
    box.start("--seal-guard", "off", rules=box.attest())  # independent chains: the guard would refuse
    failures: list[str] = []
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            _seal_chain(box.socket, address, 500, 1 + index * 10_000, failures)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert errors == [] and failures == []
    assert box.daemon is not None and box.daemon.poll() is None  # still serving
