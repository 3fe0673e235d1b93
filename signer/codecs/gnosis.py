"""account_signGnosisSafeTx's GnosisSafeTx (clef-compat §2.8): Go's JSON rules in and clef's key
order out, the EIP-712 SafeTx it stands for, the validation arguments, and the safeTxHash check.

The check is stricter than clef's: clef signed whatever it computed when the relay supplied a
chainId and the hash did not match; here a mismatch is always refused, because the hash the relay
expects is the one the Safe contract will check, and signing anything else is at best useless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from signer.codecs import gojson
from signer.codecs.eip712 import ChainId, Domain, Field, TypedData, typed_data_hash
from signer.codecs.eip712.gofmt import go_q
from signer.codecs.eip712.primitives import TypedDataError, json_text, parse_big256, unmarshal_big256
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.sendtx import SendTxArgs
from signer.errors import InvalidRequestData

STRUCT = "GnosisSafeTx"
_U64 = (1 << 64) - 1
_KEYS = ("signature", "contractTransactionHash", "sender", "safe", "to", "value", "gasPrice", "data",
         "operation", "gasToken", "refundReceiver", "baseGas", "safeTxGas", "nonce", "safeTxHash",
         "chainId")  # fmt: skip
SAFE_TX_FIELDS = tuple(
    Field(name, typ)
    for name, typ in (
        ("to", "address"),
        ("value", "uint256"),
        ("data", "bytes"),
        ("operation", "uint8"),
        ("safeTxGas", "uint256"),
        ("baseGas", "uint256"),
        ("gasPrice", "uint256"),
        ("gasToken", "address"),
        ("refundReceiver", "address"),
        ("nonce", "uint256"),
    )
)


class SafeTxHashMismatch(InvalidRequestData):
    """The SafeTx does not hash to the safeTxHash the relay supplied."""


def _unset_address() -> MixedcaseAddress:
    return MixedcaseAddress(bytes(20), "")


def _checksum(address: bytes) -> str:
    return str(to_checksum_address(address))


@dataclass
class GnosisSafeTx:
    safe: MixedcaseAddress = field(default_factory=_unset_address)
    to: MixedcaseAddress = field(default_factory=_unset_address)
    value: int = 0
    gas_price: int = 0
    data: bytes | None = None
    operation: int = 0
    gas_token: bytes = bytes(20)
    refund_receiver: bytes = bytes(20)
    base_gas: int = 0
    safe_tx_gas: int = 0
    nonce: int = 0
    safe_tx_hash: bytes = bytes(32)  # what the relay expects (input)
    chain_id: int | None = None
    # Output fields; Go decodes them from the input too, so a malformed one is an error there as well.
    signature: bytes = b""
    contract_transaction_hash: bytes = bytes(32)
    sender: MixedcaseAddress = field(default_factory=_unset_address)

    @classmethod
    def from_json(cls, obj: Any) -> GnosisSafeTx:
        """Decode as Go does; errors are Go's texts (the RPC layer adds ``invalid argument 1:``)."""
        if obj is None:
            return cls()
        if not isinstance(obj, dict):
            raise gojson.value_error(obj, "core.GnosisSafeTx")
        tx = cls()
        for key, value in gojson.match_keys(obj, _KEYS).items():
            _decode_member(tx, key, value, f"{STRUCT}.{key}")
        return tx

    def to_json(self) -> dict[str, Any]:
        """clef's marshalling: fixed key order, addresses lowercase except the Mixedcase ones."""
        out: dict[str, Any] = {
            "signature": "0x" + self.signature.hex(),
            "contractTransactionHash": "0x" + self.contract_transaction_hash.hex(),
            "sender": self.sender.to_json(),
            "safe": self.safe.to_json(),
            "to": self.to.to_json(),
            "value": str(self.value),
            "gasPrice": str(self.gas_price),
            "data": None if self.data is None else "0x" + self.data.hex(),
            "operation": self.operation,
            "gasToken": "0x" + self.gas_token.hex(),
            "refundReceiver": "0x" + self.refund_receiver.hex(),
            "baseGas": self.base_gas,
            "safeTxGas": self.safe_tx_gas,
            "nonce": self.nonce,
            "safeTxHash": "0x" + self.safe_tx_hash.hex(),
        }
        if self.chain_id is not None:
            out["chainId"] = f"{'-' if self.chain_id < 0 else ''}{hex(abs(self.chain_id))}"
        return out

    def to_typed_data(self) -> TypedData:
        """The SafeTx EIP-712 document, with clef's value encodings (numbers as decimal strings)."""
        domain_fields = [Field("verifyingContract", "address")]
        if self.chain_id is not None:
            domain_fields.insert(0, Field("chainId", "uint256"))
        message = {
            "to": _checksum(self.to.address),
            "value": str(self.value),
            "data": self.data or b"",
            "operation": str(self.operation),
            "safeTxGas": str(self.safe_tx_gas),
            "baseGas": str(self.base_gas),
            "gasPrice": str(self.gas_price),
            "gasToken": _checksum(self.gas_token),
            "refundReceiver": _checksum(self.refund_receiver),
            "nonce": str(abs(self.nonce) & _U64),  # Go's big.Int.Uint64: low word of the magnitude
        }
        chain = None if self.chain_id is None else ChainId(self.chain_id)
        domain = Domain(verifying_contract=_checksum(self.safe.address), chain_id=chain)
        types: dict[str, tuple[Field, ...] | None] = {
            "EIP712Domain": tuple(domain_fields),
            "SafeTx": SAFE_TX_FIELDS,
        }
        return TypedData(types, "SafeTx", domain, message)

    def validation_args(self) -> SendTxArgs:
        """clef's ArgsForValidation: the Safe's own transaction, checked like account_signTransaction."""
        return SendTxArgs(
            from_=self.safe,
            to=self.to,
            gas=abs(self.safe_tx_gas) & _U64,
            gas_price=self.gas_price,
            value=self.value,
            nonce=abs(self.nonce) & _U64,
            data=self.data,
            chain_id=self.chain_id,
        )


def checked_typed_data(tx: GnosisSafeTx, signer_chain_id: int) -> TypedData:
    """The SafeTx document whose hash is ``tx.safe_tx_hash``, or SafeTxHashMismatch.

    As in clef, a request without chainId is retried with the signer's chain id (older relays
    left it out), and ``tx.chain_id`` keeps that value so the reply echoes it.
    """
    td = tx.to_typed_data()
    digest = typed_data_hash(td).digest
    if digest != tx.safe_tx_hash and tx.chain_id is None:
        tx.chain_id = signer_chain_id
        td = tx.to_typed_data()
        digest = typed_data_hash(td).digest
    if digest != tx.safe_tx_hash:
        raise SafeTxHashMismatch(
            f"mismatched safeTxHash; have 0x{digest.hex()} want 0x{tx.safe_tx_hash.hex()}"
        )
    return td


# --- decoding, key by key ---------------------------------------------------------------------

_ATTRIBUTES = {"contractTransactionHash": "contract_transaction_hash", "gasPrice": "gas_price",
               "gasToken": "gas_token", "refundReceiver": "refund_receiver", "baseGas": "base_gas",
               "safeTxGas": "safe_tx_gas", "safeTxHash": "safe_tx_hash", "chainId": "chain_id"}  # fmt: skip


def _fixed(value: Any, path: str, size: int) -> bytes:
    return gojson.fixed_bytes(value, path, size, "common.Hash" if size == 32 else "common.Address")


def _decimal256(value: Any, path: str) -> int:
    """math.Decimal256 has only UnmarshalText: a JSON string, nothing else (not even null)."""
    if not isinstance(value, str):
        kind = "null" if value is None else gojson.json_kind(value)
        raise gojson.field_error(kind, path, "math.Decimal256")
    return parse_big256(value)


def _big_int(value: Any, previous: int) -> int:
    """``big.Int`` from a JSON number (null keeps the value); a quoted number is an error, as in Go."""
    if value is None:
        return previous
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypedDataError(f"math/big: cannot unmarshal {go_q(json_text(value))} into a *big.Int")


def _decode_member(tx: GnosisSafeTx, key: str, value: Any, path: str) -> None:
    attribute = _ATTRIBUTES.get(key, key)
    decoded: Any
    if key in ("safe", "to", "sender"):
        decoded = MixedcaseAddress(_fixed(value, path, 20), str(value))
    elif key in ("gasToken", "refundReceiver"):
        decoded = _fixed(value, path, 20)
    elif key in ("safeTxHash", "contractTransactionHash"):
        decoded = _fixed(value, path, 32)
    elif key in ("value", "gasPrice"):
        decoded = _decimal256(value, path)
    elif key in ("baseGas", "safeTxGas", "nonce"):
        decoded = _big_int(value, getattr(tx, attribute))
    elif key == "operation":
        operation = gojson.uint8(value, path)
        decoded = tx.operation if operation is None else operation
    elif key == "data":
        decoded = None if value is None else gojson.data(value, path)
    elif key == "signature":
        decoded = gojson.data(value, path)
    else:  # chainId: HexOrDecimal256, quoted or not; null is absent
        decoded = None if value is None else unmarshal_big256(value)
    setattr(tx, attribute, decoded)
