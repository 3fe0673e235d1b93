"""Test helpers: sign through ``assemble`` with a throwaway key, then check the result independently.

``decode_raw`` reads the binary with plain RLP and its own field tables (not txwire's), so an
encoder bug cannot hide behind a decoder that shares it; eth-account recovers the sender.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_account import Account
from eth_utils.crypto import keccak

from backends.base import Signature, TransactionPayload
from backends.secp256k1 import sign_with_private_key
from signer.codecs.sendtx import SendTxArgs
from signer.codecs.transactions import assemble, prepare_transaction

KEY = keccak(b"sealward throwaway test key")
SENDER = Account.from_key(KEY).address
TO = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"

_COMMON = ["nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input", "accessList"]
LAYOUT = {
    0: ["nonce", "gasPrice", "gas", "to", "value", "input"],
    1: ["chainId", "nonce", "gasPrice", "gas", "to", "value", "input", "accessList"],
    2: ["chainId", *_COMMON],
    3: ["chainId", *_COMMON, "maxFeePerBlobGas", "blobVersionedHashes"],
    4: ["chainId", *_COMMON, "authorizationList"],
}
BYTES_FIELDS = {"to", "input"}


def sign_request(
    request: dict[str, Any], chain_id: int = 1
) -> tuple[TransactionPayload, bytes, dict[str, Any]]:
    args = SendTxArgs.from_json(dict(request, **{"from": SENDER}))
    payload = prepare_transaction(args, chain_id)
    signature: Signature = sign_with_private_key(KEY, payload.digest)
    raw, tx = assemble(payload, signature)
    return payload, raw, tx


def _q(item: bytes) -> str:
    return hex(int.from_bytes(item, "big"))


def _render(name: str, item: Any) -> Any:
    if name in BYTES_FIELDS:
        return ("0x" + item.hex()) if item or name == "input" else None
    if name == "accessList":
        return [
            {"address": "0x" + a.hex(), "storageKeys": ["0x" + k.hex() for k in keys]} for a, keys in item
        ]
    if name == "blobVersionedHashes":
        return ["0x" + h.hex() for h in item]
    if name == "authorizationList":
        keys = ["chainId", "address", "nonce", "yParity", "r", "s"]
        return [
            {k: ("0x" + v.hex()) if k == "address" else _q(v) for k, v in zip(keys, a, strict=True)}
            for a in item
        ]
    return _q(item)


def decode_raw(raw: bytes) -> dict[str, Any]:
    """The binary as geth's JSON would show it, plus ``sidecar`` (version, blobs, commitments, proofs)."""
    tx_type = 0 if raw[0] >= 0xC0 else raw[0]
    items = rlp.decode(raw if tx_type == 0 else raw[1:])
    sidecar = None
    if tx_type == 3 and isinstance(items[0], list):  # network wrapper
        body, rest = items[0], items[1:]
        version = 0
        if len(rest) == 4:
            version, rest = int.from_bytes(rest[0], "big"), rest[1:]
        sidecar = (version, *rest)
        items = body
    names = LAYOUT[tx_type]
    assert len(items) == len(names) + 3, "wrong number of RLP fields"
    out: dict[str, Any] = {"type": hex(tx_type)}
    out.update({name: _render(name, item) for name, item in zip(names, items, strict=False)})
    out["v"], out["r"], out["s"] = (_q(x) for x in items[-3:])
    body = rlp.encode(items)
    out["hash"] = "0x" + keccak(body if tx_type == 0 else bytes([tx_type]) + body).hex()
    out["sidecar"] = sidecar
    out["unwrapped"] = body if tx_type == 0 else bytes([tx_type]) + body
    return out


def check_signed(raw: bytes, tx: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Recover, decode, and compare the binary with the JSON and with the request, field by field.

    The sender is recovered from the transaction without its blob sidecar: eth-account 0.13.7 cannot
    read the cell-proof wrapper, and the signature does not cover the sidecar anyway."""
    decoded = decode_raw(raw)
    assert Account.recover_transaction(decoded["unwrapped"]) == SENDER
    if decoded["sidecar"] is None:
        assert decoded["unwrapped"] == raw
    for key, value in decoded.items():
        if key not in ("sidecar", "unwrapped"):
            assert tx[key] == value, key
    if decoded["type"] != "0x0":
        assert tx["yParity"] == tx["v"]
    calldata = request.get("input", request.get("data")) or "0x"
    assert decoded["input"] == calldata.lower()
    assert decoded["to"] == (request["to"].lower() if request.get("to") else None)
    for key in (
        "nonce",
        "gas",
        "value",
        "gasPrice",
        "maxFeePerGas",
        "maxPriorityFeePerGas",
        "maxFeePerBlobGas",
    ):
        if key in decoded:
            assert decoded[key] == request.get(key, "0x0"), key
    for key in ("accessList", "blobVersionedHashes"):
        if key in decoded and request.get(key) is not None:
            want = request[key]
            if key == "accessList":
                want = [dict(t, address=t["address"].lower()) for t in want]
            assert decoded[key] == want, key
    return decoded
