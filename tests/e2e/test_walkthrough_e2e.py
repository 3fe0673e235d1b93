"""clef's clique-signing walkthrough with the real CLI and a keystore account: init, setpw, attest,
start with --rules; seals are approved with no prompt (the signer's stdin is /dev/null, so any
prompt would deny). Also the walkthrough's stateful and content-type rulesets and the weekly
rate limit with OnApprovedTx and BigNumber."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from signer.clique.sealing import CliqueChain, make_header, request_payload
from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.sandbox import Sandbox, SandboxError
from tests.e2e.clique_check import recover_clique_signer

pytestmark = pytest.mark.e2e
RULESETS = Path(__file__).resolve().parents[1] / "rules" / "rulesets"
CLIQUE = "application/x-clique-header"


def _seal(client: IpcClient, address: str, header_rlp_hex: str) -> bytes:
    sig = bytes.fromhex(client.call("account_signData", CLIQUE, address, header_rlp_hex)[2:])
    assert recover_clique_signer(bytes.fromhex(header_rlp_hex[2:]), sig) == address
    return sig


def test_walkthrough_seals_without_a_prompt(box: Sandbox) -> None:
    address = box.keystore_key()  # `sealward setpw` stored its password in the vault
    box.start("--chainid", "1337", rules=box.attest())
    with IpcClient(box.socket) as client:
        chain = CliqueChain()
        for _ in range(10):
            header = chain.propose()
            chain.seal(_seal(client, address, request_payload(header)))


def test_unattested_rules_refuse_the_start(box: Sandbox) -> None:
    """clef would fall back to asking a person; with --rules given, sealward fails closed."""
    box.keystore_key()
    rules = box.attest()
    rules.write_text(rules.read_text() + "\n// edited after attestation\n")
    with pytest.raises(SandboxError, match="did not start"):
        box.start(rules=rules)
    assert box.daemon is not None and box.daemon.wait(10) == 1
    assert not box.socket.exists()


def test_stateful_ruleset_refuses_repeated_and_lower_heights(box: Sandbox) -> None:
    address = box.keystore_key()
    # The guard is off so that the refusals below come from the rules alone.
    box.start("--seal-guard", "off", rules=box.attest((RULESETS / "clique_stateful.js").read_text()))
    with IpcClient(box.socket) as client:
        for number in (1, 2, 3):
            _seal(client, address, request_payload(make_header(number, bytes(32))))
        for number in (3, 2):
            with pytest.raises(RpcError) as info:
                client.call(
                    "account_signData", CLIQUE, address, request_payload(make_header(number, b"\x01" * 32))
                )
            assert info.value.message == "request denied"
    box.stop()
    box.start("--seal-guard", "off", rules=box.work / "rules.js")  # storage persists across restarts
    with IpcClient(box.socket) as client, pytest.raises(RpcError):
        client.call("account_signData", CLIQUE, address, request_payload(make_header(3, b"\x02" * 32)))


def test_content_type_ruleset_rejects_text(box: Sandbox) -> None:
    address = box.keystore_key()
    box.start(rules=box.attest((RULESETS / "content_type.js").read_text()))
    with IpcClient(box.socket) as client:
        _seal(client, address, request_payload(make_header(1, bytes(32))))
        with pytest.raises(RpcError) as info:
            client.call("account_signData", "text/plain", address, "0x01")
        assert info.value.message == "request denied"


def test_rate_limit_approves_until_the_weekly_limit(box: Sandbox) -> None:
    address = box.keystore_key()
    box.start("--chainid", "5", rules=box.attest((RULESETS / "rate_limit.js").read_text()))
    transfer = {
        "from": address, "to": "0x3535353535353535353535353535353535353535", "gas": "0x5208",
        "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x1", "value": hex(4 * 10**17),
        "nonce": "0x0", "input": "0x", "chainId": "0x5",
    }  # fmt: skip
    with IpcClient(box.socket) as client:
        for nonce in (0, 1):  # 0.4 + 0.4 ether: within 1 ether a week
            assert client.call("account_signTransaction", dict(transfer, nonce=hex(nonce)))["tx"][
                "nonce"
            ] == hex(nonce)
        with pytest.raises(RpcError) as info:  # 1.2 ether: over the limit, goes to a person, who is absent
            client.call("account_signTransaction", dict(transfer, nonce="0x2"))
        assert info.value.message == "request denied"


def test_a_rule_that_loops_forever_cannot_hang_the_signer(tmp_path: Path) -> None:
    from tests.e2e.harness import SignerProcess, approving_ui

    box = Sandbox(tmp_path)
    box.init_vault()
    address = box.keystore_key()
    rules = box.attest(
        "function ApproveSignData(r) { while (true) {} }\nfunction ApproveListing() { return 'Approve' }"
    )
    proc = SignerProcess([*box.common, *box.backend_flags, "--rules", str(rules), "--rules-timeout", "0.5",
                          "--auditlog", ""], approving_ui(""), box.socket)  # fmt: skip
    try:
        client = proc.client()
        started = time.monotonic()
        client.call("account_signData", CLIQUE, address, request_payload(make_header(1, bytes(32))))
        assert time.monotonic() - started < 5  # stopped at the deadline, then the person approved
        assert [m for m, _ in proc.ui_calls].count("ui_approveSignData") == 1
        assert client.call("account_list") == [address.lower()]  # the rules still answer
        assert any("Rule-based approval error, going to manual" in line for line in proc.stderr_lines), (
            proc.stderr_lines
        )
    finally:
        proc.stop()
