"""Every transaction type and a typed-data document through the real socket, as geth's client sends
them; each signature recovered with eth-account and each raw decoded and compared with tx and request."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from tests.e2e.harness import RpcError, SignerProcess, approving_ui, run_cli

pytestmark = pytest.mark.e2e

PASSWORD = "transactions e2e pw"
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SENDER = Account.from_key(KEY).address
TO = "0x3535353535353535353535353535353535353535"
AUTHORITY_KEY = "0x" + "77" * 32


def _blob_hash() -> str:
    return "0x01" + hashlib.sha256(b"commitment").hexdigest()[2:]


def _requests() -> dict[str, dict[str, Any]]:
    base = {
        "from": SENDER,
        "to": TO,
        "gas": "0x5208",
        "value": "0x2386f26fc10000",
        "nonce": "0x7",
        "input": "0x",
    }
    fees = {"gasPrice": None, "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x3b9aca00"}
    auth = Account.sign_authorization({"chainId": 5, "address": TO, "nonce": 1}, AUTHORITY_KEY)
    return {
        "legacy": {**base, "gasPrice": "0x3b9aca00", "maxFeePerGas": None, "maxPriorityFeePerGas": None, "chainId": "0x5"},
        "eip2930": {**base, "gasPrice": "0x3b9aca00", "maxFeePerGas": None, "maxPriorityFeePerGas": None,
                    "accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 31 + "01"]}], "chainId": "0x5"},
        "eip1559": {**base, **fees, "accessList": [], "chainId": "0x5"},
        "eip4844": {**base, **fees, "accessList": [], "chainId": "0x5", "maxFeePerBlobGas": "0x3b9aca00",
                    "blobVersionedHashes": [_blob_hash()]},
        "eip7702": {**base, **fees, "accessList": [], "chainId": "0x5", "authorizationList": [{
            "chainId": hex(auth.chain_id), "address": TO, "nonce": hex(auth.nonce), "yParity": hex(auth.y_parity),
            "r": hex(auth.r), "s": hex(auth.s)}]},
    }  # fmt: skip


EXPECTED_TYPE = {"legacy": 0, "eip2930": 1, "eip1559": 2, "eip4844": 3, "eip7702": 4}


@pytest.fixture()
def signer(tmp_path: Path) -> SignerProcess:
    keyfile = tmp_path / "key.hex"
    keyfile.write_text(KEY)
    ks = tmp_path / "ks"
    out = run_cli(["--keystore", str(ks), "--lightkdf", "--suppress-bootwarn", "importraw", str(keyfile)],
                  stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    config = tmp_path / "config"
    proc = SignerProcess(["--keystore", str(ks), "--configdir", str(config), "--chainid", "5", "--auditlog",
                          str(tmp_path / "audit.log")], approving_ui(PASSWORD), config / "clef.ipc")  # fmt: skip
    yield proc
    proc.stop()


def _decoded_fields(raw: bytes) -> list[Any]:
    """Independent decoding: the RLP list of a legacy tx, or of the typed payload after its type byte."""
    return list(rlp.decode(raw if raw[0] >= 0xC0 else raw[1:]))


@pytest.mark.parametrize("kind", list(EXPECTED_TYPE))
def test_each_transaction_type(signer: SignerProcess, kind: str) -> None:
    request = _requests()[kind]
    result = signer.client().call("account_signTransaction", request)
    raw = bytes.fromhex(result["raw"][2:])
    tx = result["tx"]
    assert Account.recover_transaction(raw) == SENDER
    assert int(tx["type"], 16) == EXPECTED_TYPE[kind]
    assert tx["hash"] == "0x" + keccak(raw).hex()
    assert tx["to"] == TO.lower() and tx["nonce"] == request["nonce"] and tx["value"] == request["value"]
    assert tx["gas"] == request["gas"] and int(tx["chainId"], 16) == 5
    fields = _decoded_fields(raw)
    if kind == "legacy":
        nonce, gas_price, _gas, to, value, _data, v, _r, _s = fields
        assert int.from_bytes(v, "big") in (5 * 2 + 35, 5 * 2 + 36)  # EIP-155
        assert int.from_bytes(gas_price, "big") == int(request["gasPrice"], 16)
    else:
        chain_id, nonce = fields[0], fields[1]
        to, value = (fields[4], fields[5]) if kind == "eip2930" else (fields[5], fields[6])
        assert int.from_bytes(chain_id, "big") == 5
    assert int.from_bytes(nonce, "big") == int(request["nonce"], 16)
    assert "0x" + to.hex() == TO.lower() and int.from_bytes(value, "big") == int(request["value"], 16)
    if kind == "eip7702":
        assert tx["authorizationList"][0]["address"].lower() == TO.lower()
        assert len(fields[9]) == 1  # the authorization list is carried, not dropped as clef did
    if kind == "eip4844":
        assert tx["blobVersionedHashes"] == [_blob_hash()]


def test_chain_id_mismatch_is_refused(signer: SignerProcess) -> None:
    request = dict(_requests()["eip1559"], chainId="0x1")
    with pytest.raises(RpcError) as info:
        signer.client().call("account_signTransaction", request)
    assert info.value.message == "requested chainid 1 does not match the configuration of the signer"


def test_bad_input_is_refused_and_the_signer_keeps_serving(signer: SignerProcess) -> None:
    client = signer.client()
    for change, text in (
        ({"value": "-0x1"}, "invalid argument 0"),
        ({"value": "0x1" + "0" * 64}, "hex number > 256 bits"),
        ({"data": "0x01", "input": "0x02"}, 'both "data" and "input" are set'),
        ({"to": "0x"}, "invalid argument 0"),
    ):
        with pytest.raises(RpcError) as info:
            client.call("account_signTransaction", dict(_requests()["eip1559"], **change))
        assert text in info.value.message, (change, info.value.message)
    assert client.call("account_version") == "6.1.0"


MAIL = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                         {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
        "Person": [{"name": "name", "type": "string"}, {"name": "wallets", "type": "address[]"}],
        "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person[]"},
                 {"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
               "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
    "message": {
        "from": {"name": "Cow", "wallets": ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"]},
        "to": [{"name": "Bob", "wallets": ["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"]}],
        "contents": "Hello, Bob!",
    },
}  # fmt: skip


def test_typed_data_with_address_arrays_signs(signer: SignerProcess) -> None:
    # clef could not sign this document (arrays of address broke its display text).
    sig = signer.client().call("account_signTypedData", SENDER, MAIL)
    assert Account.recover_message(encode_typed_data(full_message=MAIL), signature=sig) == SENDER
    as_hex = "0x" + json.dumps(MAIL).encode().hex()
    sig2 = signer.client().call("account_signData", "data/typed", SENDER, as_hex)
    assert Account.recover_message(encode_typed_data(full_message=MAIL), signature=sig2) == SENDER


def test_ui_edit_is_signed_and_audited(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.hex"
    keyfile.write_text(KEY)
    ks = tmp_path / "ks"
    run_cli(["--keystore", str(ks), "--lightkdf", "--suppress-bootwarn", "importraw", str(keyfile)],
            stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    approve = approving_ui(PASSWORD)

    def editing_ui(method: str, params: dict[str, Any]) -> Any:
        if method == "ui_approveTx":
            edited = dict(params["transaction"], value="0x1", gas="0x6000")
            return {"approved": True, "transaction": edited}
        return approve(method, params)

    config = tmp_path / "config"
    audit = tmp_path / "audit.log"
    proc = SignerProcess(["--keystore", str(ks), "--configdir", str(config), "--chainid", "5", "--auditlog",
                          str(audit), "--loglevel", "3"], editing_ui, config / "clef.ipc")  # fmt: skip
    try:
        result = proc.client().call("account_signTransaction", _requests()["eip1559"])
    finally:
        proc.stop()
    assert result["tx"]["value"] == "0x1" and result["tx"]["gas"] == "0x6000"
    assert Account.recover_transaction(result["raw"]) == SENDER
    text = audit.read_text()
    assert "msg=TransactionModified" in text and "Value changed by UI" in text and "Gas changed by UI" in text
    assert any("Value changed by UI" in line for line in proc.stderr_lines)
