"""Transactions on the wire: EIP-2718 binary (RLP), signing hashes and geth's JSON form.

One ``UnsignedTx`` value covers the five types a node sends today; each function switches on
``tx_type`` to lay the fields out in that type's RLP order. geth decodes the JSON we produce with
its strict per-type rules (§8), so ``tx_json`` follows geth's marshalling key for key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp

from signer.codecs.blobs import Sidecar
from signer.codecs.hexutil import keccak256 as keccak
from signer.codecs.sendtx import AccessTuple, Authorization

LEGACY, ACCESS_LIST, DYNAMIC_FEE, BLOB, SET_CODE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class UnsignedTx:
    """A transaction before signing. Fields a type does not have stay at their zero value."""

    tx_type: int
    chain_id: int  # legacy: 0 means unprotected (pre-EIP-155)
    nonce: int
    gas: int
    to: bytes | None
    value: int
    data: bytes
    gas_price: int = 0  # types 0 and 1
    max_priority_fee_per_gas: int = 0  # types 2-4
    max_fee_per_gas: int = 0
    access_list: tuple[AccessTuple, ...] = ()
    max_fee_per_blob_gas: int = 0
    blob_hashes: tuple[bytes, ...] = ()
    authorizations: tuple[Authorization, ...] = ()
    sidecar: Sidecar | None = None


def _fields(tx: UnsignedTx) -> list[Any]:
    """The unsigned field list in this type's RLP order."""
    to = tx.to if tx.to is not None else b""
    if tx.tx_type == LEGACY:
        return [tx.nonce, tx.gas_price, tx.gas, to, tx.value, tx.data]
    access = [[t.address, list(t.storage_keys)] for t in tx.access_list]
    if tx.tx_type == ACCESS_LIST:
        return [tx.chain_id, tx.nonce, tx.gas_price, tx.gas, to, tx.value, tx.data, access]
    fields = [tx.chain_id, tx.nonce, tx.max_priority_fee_per_gas, tx.max_fee_per_gas, tx.gas, to, tx.value]
    fields += [tx.data, access]
    if tx.tx_type == BLOB:
        fields += [tx.max_fee_per_blob_gas, list(tx.blob_hashes)]
    elif tx.tx_type == SET_CODE:
        fields.append([[a.chain_id, a.address, a.nonce, a.y_parity, a.r, a.s] for a in tx.authorizations])
    return fields


def signing_hash(tx: UnsignedTx) -> bytes:
    """The digest the key signs: EIP-155 for protected legacy txs, ``keccak(type ‖ rlp)`` otherwise."""
    if tx.tx_type == LEGACY:
        extra = [tx.chain_id, 0, 0] if tx.chain_id else []
        return keccak(rlp.encode(_fields(tx) + extra))
    return keccak(bytes([tx.tx_type]) + rlp.encode(_fields(tx)))


def v_value(tx: UnsignedTx, y_parity: int) -> int:
    if tx.tx_type != LEGACY:
        return y_parity
    return 35 + 2 * tx.chain_id + y_parity if tx.chain_id else 27 + y_parity


def encode_signed(tx: UnsignedTx, v: int, r: int, s: int, *, network: bool = True) -> bytes:
    """The EIP-2718 binary. ``network`` wraps a blob tx that has a sidecar as geth's
    MarshalBinary does: ``[tx, blobs, commitments, proofs]``, with a version byte for cell proofs."""
    body = [*_fields(tx), v, r, s]
    if tx.tx_type == LEGACY:
        return bytes(rlp.encode(body))
    sidecar = tx.sidecar
    if network and sidecar is not None:
        parts = [list(sidecar.blobs), list(sidecar.commitments), list(sidecar.proofs)]
        wrapped = [body, *parts] if sidecar.version == 0 else [body, sidecar.version, *parts]
        return bytes([tx.tx_type]) + bytes(rlp.encode(wrapped))
    return bytes([tx.tx_type]) + bytes(rlp.encode(body))


def tx_hash(tx: UnsignedTx, v: int, r: int, s: int) -> bytes:
    """geth's ``tx.Hash()``: the sidecar is not part of the transaction's identity."""
    return keccak(encode_signed(tx, v, r, s, network=False))


def _hex_list(items: tuple[bytes, ...]) -> list[str]:
    return ["0x" + item.hex() for item in items]


def tx_json(tx: UnsignedTx, v: int, r: int, s: int) -> dict[str, Any]:
    """geth's ``Transaction.MarshalJSON`` (§2.4.5): key order, nulls and omitted keys per type."""
    t = tx.tx_type
    fee_market = t >= DYNAMIC_FEE
    out: dict[str, Any] = {"type": hex(t)}
    if t != LEGACY or tx.chain_id:
        out["chainId"] = hex(tx.chain_id)
    out["nonce"] = hex(tx.nonce)
    out["to"] = "0x" + tx.to.hex() if tx.to is not None else None
    out["gas"] = hex(tx.gas)
    out["gasPrice"] = None if fee_market else hex(tx.gas_price)
    out["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas) if fee_market else None
    out["maxFeePerGas"] = hex(tx.max_fee_per_gas) if fee_market else None
    if t == BLOB:
        out["maxFeePerBlobGas"] = hex(tx.max_fee_per_blob_gas)
    out["value"] = hex(tx.value)
    out["input"] = "0x" + tx.data.hex()
    if t != LEGACY:
        out["accessList"] = [a.to_json() for a in tx.access_list]
    if t == BLOB and tx.blob_hashes:
        out["blobVersionedHashes"] = _hex_list(tx.blob_hashes)
    if t == SET_CODE and tx.authorizations:
        out["authorizationList"] = [a.to_json() for a in tx.authorizations]
    out["v"], out["r"], out["s"] = hex(v), hex(r), hex(s)
    if t != LEGACY:
        out["yParity"] = hex(v)
    if tx.sidecar is not None:
        for key, items in (
            ("blobs", tx.sidecar.blobs),
            ("commitments", tx.sidecar.commitments),
            ("proofs", tx.sidecar.proofs),
        ):
            if items:
                out[key] = _hex_list(items)
    out["hash"] = "0x" + tx_hash(tx, v, r, s).hex()
    return out
