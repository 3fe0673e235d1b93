"""A current geth (v1.17.10) sends its users' signing requests to the real Sealward
(issue 10, scenario 5).

geth runs a private proof-of-stake chain (``--dev`` cannot be combined with ``--signer``), blocks
come from signer.tools.devchain over the Engine API, and the key is on a SoftHSM token under
attested rules that approve transfers up to 1 ether and plain-text signatures. Through geth's
JSON-RPC: eth_accounts; eth_sendTransaction as legacy, access-list, EIP-1559 (a transfer and a
contract creation) transactions, each mined with geth recovering our address as the sender and
eth-account recovering it from the raw bytes geth stored; a blob transaction through
eth_signTransaction (eth_sendTransaction refuses blobs in geth itself), sent raw and mined;
eth_sign, checked by geth's own ecrecover precompile. A transfer above the rules' limit is
denied and nothing is sent. (personal_sign left geth with the personal namespace in v1.14.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from signer.tools.devchain import BlockProducer, pos_genesis, read_jwt_secret
from signer.tools.gethnet import GethNode, RpcFailed
from tests.e2e.gethkit import Sealer, make_sealer, wait_until
from tests.helpers.peers import GETH_CURRENT, require_peer

pytestmark = pytest.mark.e2e
CHAIN = 4243
RECIPIENT = "0x" + "22" * 20
ETHER = 10**18
GWEI = 10**9

RULES = """\
function OnSignerStartup(info) {}
function ApproveListing() { return "Approve" }
function ApproveTx(req) {
    var value = new BigNumber((req.transaction.value || "0x0").slice(2) || "0", 16);
    return value.lte(new BigNumber("1e18")) ? "Approve" : "Reject";
}
function OnApprovedTx(res) {}
function ApproveSignData(req) { return req.content_type == "text/plain" ? "Approve" : "Reject" }
"""
# Init code copying the 64 bytes after it (the contract's code: STOPs) and returning them; clef's
# checks (which Sealward keeps) call a creation with less than 40 bytes of data suspicious.
RUNTIME = "00" * 64
INIT_CODE = "0x6040600c60003960406000f3" + RUNTIME


@pytest.fixture()
def chain(tmp_path: Path, sealers: list[Sealer]) -> Any:
    geth = require_peer(GETH_CURRENT)
    sealer = make_sealer(tmp_path, "hsm")
    sealer.rules = sealer.box.attest(RULES)
    sealers.append(sealer)
    sealer.box.start("--chainid", str(CHAIN), "--loglevel", "3", rules=sealer.rules, log=sealer.signer_log)
    node = GethNode(geth, tmp_path / "geth", CHAIN, signer=sealer.box.socket)
    sealer.node = node
    node.init(pos_genesis(geth, CHAIN, {sealer.address: 100 * ETHER}))
    node.start()
    producer = BlockProducer(node.authrpc_url, read_jwt_secret(node.jwt_secret_path)).start(period=1.0)
    yield sealer, node
    producer.stop()
    assert not producer.errors, producer.errors[:3]


def mined(node: GethNode, tx_hash: str) -> dict[str, Any]:
    receipt: dict[str, Any] = {}

    def done() -> bool:
        try:
            receipt.update(node.rpc("eth_getTransactionReceipt", tx_hash) or {})
        except RpcFailed as exc:  # right after start: "transaction indexing is in progress"
            assert "indexing" in exc.message, exc
        return bool(receipt)

    wait_until(done, 30, f"transaction {tx_hash} to be mined")
    return receipt


def blob(text: bytes) -> str:
    """A blob whose field elements are all canonical (each 32-byte word starts with 0x00)."""
    words = [b"\x00" + text[i : i + 31].ljust(31, b"\x00") for i in range(0, 31 * 4096, 31)]
    return "0x" + b"".join(words)[:131072].hex()


@pytest.mark.timeout(240)
def test_geth_current_sends_every_transaction_kind_through_sealward(chain: Any) -> None:
    sealer, node = chain
    sender = sealer.address
    assert node.rpc("eth_accounts") == [sender.lower()]
    base = {"from": sender, "to": RECIPIENT, "value": hex(ETHER // 1000)}
    kinds = {
        "legacy": (0, {**base, "gasPrice": hex(3 * GWEI)}),
        "access list": (1, {**base, "gasPrice": hex(3 * GWEI),
                            "accessList": [{"address": RECIPIENT, "storageKeys": ["0x" + "00" * 32]}]}),
        "1559": (2, {**base, "maxFeePerGas": hex(30 * GWEI), "maxPriorityFeePerGas": hex(GWEI)}),
        "1559 creation": (2, {"from": sender, "data": INIT_CODE, "maxFeePerGas": hex(30 * GWEI),
                              "maxPriorityFeePerGas": hex(GWEI)}),
    }  # fmt: skip
    for name, (tx_type, args) in kinds.items():
        tx_hash = node.rpc("eth_sendTransaction", args, timeout=60)
        receipt = mined(node, tx_hash)
        assert int(receipt["status"], 16) == 1, (name, receipt)
        assert int(receipt["type"], 16) == tx_type, name
        assert receipt["from"] == sender.lower(), name  # geth recovered our key from the signature
        raw = node.rpc("eth_getRawTransactionByHash", tx_hash)
        assert Account.recover_transaction(raw).lower() == sender.lower(), name
        if name == "1559 creation":
            assert node.rpc("eth_getCode", receipt["contractAddress"], "latest") == "0x" + RUNTIME
    # geth refuses blob transactions in eth_sendTransaction ("signing blob transactions not
    # supported") but signs them in eth_signTransaction, sending the blobs to the signer: the
    # signed transaction with its sidecar then goes in raw.
    blob_tx = {**base, "maxFeePerGas": hex(30 * GWEI), "maxPriorityFeePerGas": hex(GWEI), "gas": hex(21000),
               "maxFeePerBlobGas": hex(10 * GWEI), "blobs": [blob(b"sealward blob")],
               "nonce": node.rpc("eth_getTransactionCount", sender, "pending")}  # fmt: skip
    with pytest.raises(RpcFailed, match="signing blob transactions not supported"):
        node.rpc("eth_sendTransaction", blob_tx)
    signed = node.rpc("eth_signTransaction", blob_tx, timeout=60)
    assert signed["tx"]["type"] == "0x3" and len(signed["tx"]["blobVersionedHashes"]) == 1
    receipt = mined(node, node.rpc("eth_sendRawTransaction", signed["raw"]))
    assert (
        int(receipt["status"], 16) == 1
        and int(receipt["type"], 16) == 3
        and receipt["from"] == sender.lower()
    )


@pytest.mark.timeout(120)
def test_eth_sign_is_checked_by_geths_ecrecover_and_the_rules_deny_a_large_transfer(chain: Any) -> None:
    sealer, node = chain
    sender = sealer.address
    message = b"sealward and geth v1.17"
    signature = bytes.fromhex(node.rpc("eth_sign", sender, "0x" + message.hex())[2:])
    assert signature[64] in (27, 28)
    digest = encode_defunct(primitive=message)
    prefixed = b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message
    word = keccak(prefixed) + signature[64].to_bytes(32, "big") + signature[:32] + signature[32:64]
    recovered = node.rpc("eth_call", {"to": "0x" + "00" * 19 + "01", "data": "0x" + word.hex()}, "latest")
    assert "0x" + recovered[-40:] == sender.lower()  # geth's ecrecover precompile
    assert Account.recover_message(digest, signature=signature).lower() == sender.lower()

    nonce = node.rpc("eth_getTransactionCount", sender, "pending")
    with pytest.raises(RpcFailed, match="request denied"):
        node.rpc("eth_sendTransaction", {"from": sender, "to": RECIPIENT, "value": hex(2 * ETHER)})
    time.sleep(1.5)
    assert node.rpc("eth_getTransactionCount", sender, "pending") == nonce
