"""SendTxArgs -> typed transaction -> signed ``{raw, tx}`` (§2.4.3-§2.4.5).

``to_unsigned`` is clef's ToTransaction (type inference, sidecar checks, defaults), run once as a
dry run during validation and again on the transaction the UI approved. ``prepare_transaction``
applies the signer's chain id rules and yields the payload a backend signs; ``assemble`` turns the
backend's signature into the binary and the JSON geth reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eth_utils.address import to_checksum_address

from backends.base import Signature, TransactionPayload
from backends.secp256k1 import verify_for_address
from signer.codecs import txwire
from signer.codecs.blobs import BlobSidecarError, check_sidecar, sidecar_of
from signer.codecs.sendtx import SendTxArgs, diff_transactions
from signer.codecs.txwire import UnsignedTx
from signer.errors import InvalidRequestData

__all__ = [
    "BlobSidecarError",
    "ChainIdMismatch",
    "TransactionError",
    "UnsignedTx",
    "assemble",
    "check_requested_chain_id",
    "diff_transactions",
    "prepare_transaction",
    "to_unsigned",
]

U64 = 2**64
U256 = 2**256


class TransactionError(InvalidRequestData):
    """The request cannot become a transaction; the message is clef's where clef has one."""


class ChainIdMismatch(TransactionError):
    pass


def check_requested_chain_id(args: SendTxArgs, signer_chain_id: int) -> None:
    """clef's pre-approval check (§2.4.2 step 3): a stated chain id must be the signer's."""
    if args.chain_id is not None and args.chain_id != signer_chain_id:
        raise ChainIdMismatch(
            f"requested chainid {args.chain_id} does not match the configuration of the signer"
        )


def to_unsigned(args: SendTxArgs) -> UnsignedTx:
    """clef's ToTransaction. Mutates ``args`` as clef does: blob commitments, proofs and versioned
    hashes are filled in. Absent fee fields and chain id become 0 (the signer replaces chain 0)."""
    check_sidecar(args)
    _check_ranges(args)
    to = args.to.address if args.to is not None else None
    common: dict[str, Any] = {
        "chain_id": args.chain_id or 0,
        "nonce": args.nonce,
        "gas": args.gas,
        "to": to,
        "value": args.value,
        "data": args.calldata,
        "access_list": tuple(args.access_list or ()),
    }
    fee_market: dict[str, Any] = {
        "max_fee_per_gas": args.max_fee_per_gas or 0,
        "max_priority_fee_per_gas": args.max_priority_fee_per_gas or 0,
    }
    if args.authorization_list is not None:
        # Our extension (geth's TransactionArgs also checks it before blobs); never both at once.
        if args.blob_versioned_hashes is not None or args.blobs is not None:
            raise TransactionError("authorizationList cannot be combined with blob fields")
        if to is None:
            raise TransactionError("transaction recipient must be set for set code transactions")
        if not args.authorization_list:
            raise TransactionError("EIP-7702 transaction with empty auth list")
        auths = tuple(args.authorization_list)
        return UnsignedTx(txwire.SET_CODE, **common, **fee_market, authorizations=auths)
    if args.blob_versioned_hashes is not None:
        if to is None:
            raise TransactionError("transaction recipient must be set for blob transactions")
        if not args.blob_versioned_hashes:  # EIP-4844 requires at least one; such a tx never lands
            raise TransactionError("blob transaction must carry at least one blob versioned hash")
        return UnsignedTx(
            txwire.BLOB,
            **common,
            **fee_market,
            max_fee_per_blob_gas=args.max_fee_per_blob_gas or 0,
            blob_hashes=tuple(args.blob_versioned_hashes),
            sidecar=sidecar_of(args),
        )
    if args.max_fee_per_gas is not None:
        return UnsignedTx(txwire.DYNAMIC_FEE, **common, **fee_market)
    if args.access_list is not None:
        return UnsignedTx(txwire.ACCESS_LIST, **common, gas_price=args.gas_price or 0)
    common["chain_id"] = 0  # a legacy tx has no chain id field; the signer supplies EIP-155's
    return UnsignedTx(txwire.LEGACY, **common, gas_price=args.gas_price or 0)


def _check_ranges(args: SendTxArgs) -> None:
    """JSON decoding already bounds every field; this guards values set from Python (a UI's
    response, tests) so an absurd number is refused here, not deep inside RLP."""
    limits = {
        "gas": (args.gas, U64),
        "nonce": (args.nonce, U64),
        "value": (args.value, U256),
        "gasPrice": (args.gas_price, U256),
        "maxFeePerGas": (args.max_fee_per_gas, U256),
        "maxPriorityFeePerGas": (args.max_priority_fee_per_gas, U256),
        "maxFeePerBlobGas": (args.max_fee_per_blob_gas, U256),
        "chainId": (args.chain_id, U256),
    }
    for name, (value, bound) in limits.items():
        if value is not None and not 0 <= value < bound:
            raise TransactionError(f"{name} out of range: {value}")
    for auth in args.authorization_list or ():
        if not (0 <= auth.chain_id < U256 and 0 <= auth.nonce < U64 and 0 <= auth.y_parity < 256):
            raise TransactionError("authorization out of range")
        if not (0 <= auth.r < U256 and 0 <= auth.s < U256 and len(auth.address) == 20):
            raise TransactionError("authorization out of range")


def prepare_transaction(args: SendTxArgs, signer_chain_id: int) -> TransactionPayload:
    """Convert, then apply the signer's chain rules (§2.4.4): a typed tx with a different non-zero
    chain id is refused, and chain 0 is replaced by the signer's."""
    if not 0 <= signer_chain_id < U256:
        raise ValueError(f"signer chain id out of range: {signer_chain_id}")
    tx = to_unsigned(args)
    if tx.tx_type == txwire.LEGACY:
        # clef ignores chainId on legacy requests once approved; a UI that changed it to something
        # else would otherwise see its edit silently dropped, so refuse instead.
        check_requested_chain_id(args, signer_chain_id)
    elif tx.chain_id not in (0, signer_chain_id):
        raise ChainIdMismatch(f"invalid chain id for signer: have {tx.chain_id} want {signer_chain_id}")
    tx = replace(tx, chain_id=signer_chain_id)
    return TransactionPayload(
        tx_type=tx.tx_type,
        chain_id=signer_chain_id,
        fields=eth_account_fields(tx),
        digest=txwire.signing_hash(tx),
        extra={"transaction": tx, "from": args.from_.checksummed},
    )


def assemble(payload: TransactionPayload, signature: Signature) -> tuple[bytes, dict[str, Any]]:
    """The signed transaction: ``raw`` (network form for blob txs with a sidecar) and geth's JSON.

    The signature is checked against the payload's sender before anything is encoded.
    """
    tx = payload.extra.get("transaction")
    if not isinstance(tx, UnsignedTx) or txwire.signing_hash(tx) != payload.digest:
        raise ValueError("the payload was not made by prepare_transaction or has been altered")
    sender = payload.extra.get("from")
    if isinstance(sender, str):
        verify_for_address(payload.digest, signature, sender)
    v = txwire.v_value(tx, signature.y_parity)
    raw = txwire.encode_signed(tx, v, signature.r, signature.s)
    return raw, txwire.tx_json(tx, v, signature.r, signature.s)


def eth_account_fields(tx: UnsignedTx) -> dict[str, Any]:
    """The transaction as an eth-account dict (what a Ledger or eth-account signs from)."""
    t = tx.tx_type
    fields: dict[str, Any] = {"type": t} if t else {}
    if t or tx.chain_id:
        fields["chainId"] = tx.chain_id
    fields["nonce"] = tx.nonce
    if t in (txwire.LEGACY, txwire.ACCESS_LIST):
        fields["gasPrice"] = tx.gas_price
    else:
        fields["maxFeePerGas"] = tx.max_fee_per_gas
        fields["maxPriorityFeePerGas"] = tx.max_priority_fee_per_gas
    fields["gas"] = tx.gas
    if tx.to is not None:
        fields["to"] = to_checksum_address(tx.to)
    fields["value"] = tx.value
    fields["data"] = "0x" + tx.data.hex()
    if t:
        fields["accessList"] = [
            {
                "address": to_checksum_address(a.address),
                "storageKeys": ["0x" + k.hex() for k in a.storage_keys],
            }
            for a in tx.access_list
        ]
    if t == txwire.BLOB:
        fields["maxFeePerBlobGas"] = tx.max_fee_per_blob_gas
        fields["blobVersionedHashes"] = ["0x" + h.hex() for h in tx.blob_hashes]
    if t == txwire.SET_CODE:
        fields["authorizationList"] = [
            {
                "chainId": a.chain_id,
                "address": to_checksum_address(a.address),
                "nonce": a.nonce,
                "yParity": a.y_parity,
                "r": a.r,
                "s": a.s,
            }
            for a in tx.authorizations
        ]
    return fields
