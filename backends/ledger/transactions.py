"""Unsigned transactions for the Ledger: the exact bytes the signer approved, in the app's format.

The app signs what it is sent (keccak of the unsigned envelope), and shows the fields it parses
from it. So we rebuild the pre-image from the eth-account style ``fields`` and refuse to go on
unless its keccak is the ``digest`` the approval pipeline saw: the person confirms on the device
exactly the transaction the rules and the UI approved.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_utils.crypto import keccak

from backends.base import TransactionPayload, UnsupportedPayload
from backends.ledger.device import load

# What the wallet-side dict may carry that is not part of the signed envelope.
_NOT_SIGNED = ("from", "blobs", "hash", "sidecar")


def preimage(payload: TransactionPayload) -> bytes:
    """The unsigned envelope: EIP-155 ``rlp([..., chainId, 0, 0])`` or ``type ‖ rlp([...])``."""
    fields = {k: v for k, v in payload.fields.items() if k not in _NOT_SIGNED}
    fields.setdefault("chainId", payload.chain_id)
    if payload.tx_type != 0:
        fields.setdefault("type", payload.tx_type)
    try:
        unsigned = _eth_account_unsigned(fields)
        if hasattr(unsigned, "transaction"):  # a TypedTransaction
            body = _typed_body(unsigned.transaction)
            encoded = bytes([unsigned.transaction_type]) + body
        else:  # v = chainId, r = s = 0 already: the EIP-155 signing list
            encoded = rlp.encode(unsigned)
    except UnsupportedPayload:
        raise
    except Exception as exc:
        raise UnsupportedPayload(f"the transaction cannot be encoded for the Ledger: {exc}") from None
    if keccak(encoded) != payload.digest:
        raise UnsupportedPayload(
            "the transaction fields do not hash to the digest that was approved; "
            "not sending them to the Ledger"
        )
    return encoded


def _eth_account_unsigned(fields: dict[str, Any]) -> Any:
    from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict

    return serializable_unsigned_transaction_from_dict(fields)


def _typed_body(transaction: Any) -> bytes:
    # eth-account hashes typed transactions exactly like this (e.g. DynamicFeeTransaction.hash);
    # it has no public "unsigned payload" method, hence the private imports, pinned in pyproject.
    from eth_account._utils.transaction_utils import transaction_rpc_to_rlp_structure

    unsigned = {k: v for k, v in transaction.dictionary.items() if k not in ("v", "r", "s")}
    structured = transaction_rpc_to_rlp_structure(unsigned)
    return bytes(rlp.encode(type(transaction)._unsigned_transaction_serializer.from_dict(structured)))


def ledgereth_transaction(encoded: bytes) -> Any:
    """The ledgereth object for a type 0, 1 or 2 pre-image, checked to encode to the same bytes.

    ledgereth's own ``decode_transaction`` cannot re-encode access lists (storage keys stay bytes),
    so the objects are built here from the decoded RLP items.
    """
    objects = load("ledgereth.objects")
    if not encoded:
        raise UnsupportedPayload("an empty transaction pre-image")
    typed = encoded[0] < 0x80
    try:
        items: list[Any] = rlp.decode(encoded[1:] if typed else encoded)
    except rlp.exceptions.RLPException as exc:
        raise UnsupportedPayload(
            f"the transaction pre-image is not valid RLP: {type(exc).__name__}"
        ) from None
    num = _int
    try:
        if not typed:
            if len(items) != 9:
                raise UnsupportedPayload(
                    "a legacy transaction for the Ledger must carry a chain id (EIP-155)"
                )
            nonce, price, gas, to, value, data, chain_id = items[:7]
            tx: Any = objects.Transaction(
                num(nonce), num(price), num(gas), to, num(value), data, num(chain_id)
            )
            sedes = objects.Transaction
        elif encoded[0] == 1:
            chain_id, nonce, price, gas, to, value, data, access = items
            tx = objects.Type1Transaction(
                num(chain_id), num(nonce), num(price), num(gas), to, num(value), data, _access_list(access)
            )
            sedes = objects.Type1Transaction
        else:
            chain_id, nonce, tip, fee, gas, to, value, data, access = items
            tx = objects.Type2Transaction(
                num(chain_id),
                num(nonce),
                num(tip),
                num(fee),
                num(gas),
                to,
                num(value),
                data,
                _access_list(access),
            )
            sedes = objects.Type2Transaction
    except (ValueError, TypeError) as exc:
        # ledgereth's own limits, e.g. legacy chain ids above 2^32 that the app signs wrongly; the
        # TypeError is an RLP item of the wrong shape (a list where a number belongs; found by fuzzing).
        raise UnsupportedPayload(f"the Ledger Ethereum app cannot sign this transaction: {exc}") from None
    try:
        again = (encoded[:1] if typed else b"") + rlp.encode(tx, sedes)
    except rlp.exceptions.RLPException as exc:  # e.g. a recipient of the wrong length (found by fuzzing)
        raise UnsupportedPayload(f"the Ledger Ethereum app cannot sign this transaction: {exc}") from None
    if again != encoded:
        raise UnsupportedPayload("ledgereth would send a different transaction than the one approved")
    return tx


def _int(item: bytes) -> int:
    return int.from_bytes(item, "big")


def _access_list(items: list[Any]) -> list[tuple[bytes, list[int]]]:
    return [(address, [_int(key) for key in keys]) for address, keys in items]
