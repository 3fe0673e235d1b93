"""clef's ``SendTxArgs`` (§2.4.1): the account_signTransaction request and the UI's view of it.

Decoding follows geth's JSON rules and error texts (see ``gojson``); ``to_json`` writes clef's
key order and omitempty behaviour, so rules and UIs see exactly what clef would show them.
One extension: ``authorizationList`` (EIP-7702). geth's own TransactionArgs has it, clef dropped
it and signed a type-2 transaction instead; we carry it and sign a set-code transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from signer.codecs import gojson
from signer.codecs.hexutil import MixedcaseAddress

STRUCT = "SendTxArgs"
BLOB_SIZE = 4096 * 32
ZERO_ADDRESS = bytes(20)

_FIELDS = (
    "from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce",
    "data", "input", "accessList", "chainId", "maxFeePerBlobGas", "blobVersionedHashes",
    "blobVersion", "blobs", "commitments", "proofs", "authorizationList",
)  # fmt: skip


@dataclass(frozen=True)
class AccessTuple:
    address: bytes
    storage_keys: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "address": "0x" + self.address.hex(),
            "storageKeys": ["0x" + k.hex() for k in self.storage_keys],
        }


@dataclass(frozen=True)
class Authorization:
    """An EIP-7702 authorization tuple, already signed by its authority."""

    chain_id: int
    address: bytes
    nonce: int
    y_parity: int
    r: int
    s: int

    def to_json(self) -> dict[str, object]:
        # geth's SetCodeAuthorization JSON key order.
        return {
            "chainId": hex(self.chain_id),
            "address": "0x" + self.address.hex(),
            "nonce": hex(self.nonce),
            "yParity": hex(self.y_parity),
            "r": hex(self.r),
            "s": hex(self.s),
        }


@dataclass
class SendTxArgs:
    """The request. ``None`` means absent/null, which matters: it drives type inference (§2.4.3)."""

    from_: MixedcaseAddress = field(default_factory=lambda: MixedcaseAddress(ZERO_ADDRESS, ""))
    to: MixedcaseAddress | None = None
    gas: int = 0
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    value: int = 0
    nonce: int = 0
    data: bytes | None = None
    input: bytes | None = None
    access_list: list[AccessTuple] | None = None
    chain_id: int | None = None
    max_fee_per_blob_gas: int | None = None
    blob_versioned_hashes: list[bytes] | None = None
    blob_version: int = 0
    blobs: list[bytes] | None = None
    commitments: list[bytes] | None = None
    proofs: list[bytes] | None = None
    authorization_list: list[Authorization] | None = None

    @property
    def calldata(self) -> bytes:
        """What gets signed as calldata: ``input`` wins over ``data`` (clef's ToTransaction)."""
        if self.input is not None:
            return self.input
        return self.data if self.data is not None else b""

    def copy(self) -> SendTxArgs:
        return copy.deepcopy(self)

    @classmethod
    def from_json(cls, obj: object) -> SendTxArgs:
        if obj is None:
            obj = {}  # Go decodes null into a struct as a no-op: every field stays zero
        if not isinstance(obj, dict):
            raise gojson.value_error(obj, "apitypes.SendTxArgs")
        found = gojson.match_keys(obj, _FIELDS)
        args = cls()
        for key, value in found.items():
            _DECODERS[key](args, value, f"{STRUCT}.{key}")
        return args

    def to_json(self) -> dict[str, object]:
        """clef's marshalling: fixed key order, pointers as null, omitempty fields left out."""
        out: dict[str, object] = {
            "from": self.from_.to_json(),
            "to": self.to.to_json() if self.to is not None else None,
            "gas": hex(self.gas),
            "gasPrice": _opt_hex(self.gas_price),
            "maxFeePerGas": _opt_hex(self.max_fee_per_gas),
            "maxPriorityFeePerGas": _opt_hex(self.max_priority_fee_per_gas),
            "value": hex(self.value),
            "nonce": hex(self.nonce),
        }
        if self.data is not None:
            out["data"] = "0x" + self.data.hex()
        if self.input is not None:
            out["input"] = "0x" + self.input.hex()
        if self.access_list is not None:
            out["accessList"] = [t.to_json() for t in self.access_list]
        if self.chain_id is not None:
            out["chainId"] = hex(self.chain_id)
        if self.max_fee_per_blob_gas is not None:
            out["maxFeePerBlobGas"] = hex(self.max_fee_per_blob_gas)
        if self.blob_versioned_hashes:
            out["blobVersionedHashes"] = ["0x" + h.hex() for h in self.blob_versioned_hashes]
        if self.blob_version:
            out["blobVersion"] = self.blob_version
        for key, items in (("blobs", self.blobs), ("commitments", self.commitments), ("proofs", self.proofs)):
            if items:
                out[key] = ["0x" + item.hex() for item in items]
        if self.authorization_list is not None:
            out["authorizationList"] = [a.to_json() for a in self.authorization_list]
        return out


def _opt_hex(value: int | None) -> str | None:
    return None if value is None else hex(value)


# --- per-field decoders ---------------------------------------------------------------------------


def _address(value: object, path: str, nullable: bool) -> MixedcaseAddress | None:
    if value is None and nullable:
        return None
    raw = gojson.fixed_bytes(value, path, 20, "common.Address")
    return MixedcaseAddress(raw, str(value))


def _opt_quantity(value: object, path: str) -> int | None:
    return None if value is None else gojson.quantity(value, path)


def _opt_data(value: object, path: str) -> bytes | None:
    return None if value is None else gojson.data(value, path)


def _fixed_list(value: object, path: str, size: int, gotype: str) -> list[bytes] | None:
    items = gojson.array(value, path, "[]" + gotype)
    return None if items is None else [gojson.fixed_bytes(item, path, size, gotype) for item in items]


def _access_list(value: object, path: str) -> list[AccessTuple] | None:
    items = gojson.array(value, path, "types.AccessList")
    if items is None:
        return None
    tuples = []
    for item in items:
        if item is not None and not isinstance(item, dict):
            raise gojson.value_error(item, "types.AccessTuple")
        found = gojson.match_keys(item or {}, ("address", "storageKeys"))
        if found.get("address") is None:
            raise gojson.GoJSONError("missing required field 'address' for AccessTuple")
        address = gojson.fixed_bytes(found["address"], "AccessTuple.address", 20, "common.Address")
        keys = _fixed_list(found.get("storageKeys"), "AccessTuple.storageKeys", 32, "common.Hash")
        if keys is None:
            raise gojson.GoJSONError("missing required field 'storageKeys' for AccessTuple")
        tuples.append(AccessTuple(address, tuple(keys)))
    return tuples


_AUTH_FIELDS = ("chainId", "address", "nonce", "yParity", "r", "s")


def _authorization_list(value: object, path: str) -> list[Authorization] | None:
    items = gojson.array(value, path, "[]types.SetCodeAuthorization")
    if items is None:
        return None
    auths = []
    for item in items:
        if item is not None and not isinstance(item, dict):
            raise gojson.value_error(item, "types.SetCodeAuthorization")
        found = gojson.match_keys(item or {}, _AUTH_FIELDS)
        for name in _AUTH_FIELDS:
            if found.get(name) is None:
                raise gojson.GoJSONError(f"missing required field '{name}' for SetCodeAuthorization")
        p = "SetCodeAuthorization."
        y_parity = gojson.quantity(found["yParity"], p + "yParity", bits=64)
        if y_parity > 255:  # geth stores it in a uint8; refuse rather than truncate silently
            raise gojson.GoJSONError(f"authorization yParity {y_parity} out of range")
        auths.append(
            Authorization(
                chain_id=gojson.quantity(found["chainId"], p + "chainId", gotype="hexutil.U256"),
                address=gojson.fixed_bytes(found["address"], p + "address", 20, "common.Address"),
                nonce=gojson.quantity(found["nonce"], p + "nonce", bits=64),
                y_parity=y_parity,
                r=gojson.quantity(found["r"], p + "r", gotype="hexutil.U256"),
                s=gojson.quantity(found["s"], p + "s", gotype="hexutil.U256"),
            )
        )
    return auths


Decoder = Callable[[SendTxArgs, object, str], None]


def _set(attr: str, decode: Callable[[object, str], object]) -> Decoder:
    def apply(args: SendTxArgs, value: object, path: str) -> None:
        setattr(args, attr, decode(value, path))

    return apply


def _blob_version(args: SendTxArgs, value: object, path: str) -> None:
    version = gojson.uint8(value, path)
    if version is not None:
        args.blob_version = version


_DECODERS: Mapping[str, Decoder] = {
    # Value fields (no pointer in Go): null reaches their UnmarshalJSON and is a "non-string" error.
    "from": _set("from_", lambda v, p: _address(v, p, nullable=False)),
    "to": _set("to", lambda v, p: _address(v, p, nullable=True)),
    "gas": _set("gas", lambda v, p: gojson.quantity(v, p, bits=64)),
    "gasPrice": _set("gas_price", _opt_quantity),
    "maxFeePerGas": _set("max_fee_per_gas", _opt_quantity),
    "maxPriorityFeePerGas": _set("max_priority_fee_per_gas", _opt_quantity),
    "value": _set("value", gojson.quantity),
    "nonce": _set("nonce", lambda v, p: gojson.quantity(v, p, bits=64)),
    "data": _set("data", _opt_data),
    "input": _set("input", _opt_data),
    "accessList": _set("access_list", _access_list),
    "chainId": _set("chain_id", _opt_quantity),
    "maxFeePerBlobGas": _set("max_fee_per_blob_gas", _opt_quantity),
    "blobVersionedHashes": _set("blob_versioned_hashes", lambda v, p: _fixed_list(v, p, 32, "common.Hash")),
    "blobVersion": _blob_version,
    "blobs": _set("blobs", lambda v, p: _fixed_list(v, p, BLOB_SIZE, "kzg4844.Blob")),
    "commitments": _set("commitments", lambda v, p: _fixed_list(v, p, 48, "kzg4844.Commitment")),
    "proofs": _set("proofs", lambda v, p: _fixed_list(v, p, 48, "kzg4844.Proof")),
    "authorizationList": _set("authorization_list", _authorization_list),
}


# --- what the UI changed (§2.4.2 step 5) ----------------------------------------------------------


def diff_transactions(
    before: SendTxArgs | Mapping[str, object], after: SendTxArgs | Mapping[str, object]
) -> list[str]:
    """clef's "... changed by UI" log lines, in clef's order, for the fields the UI modified.

    Addresses compare by spelling too (clef compares MixedcaseAddress values whole). Calldata is
    compared as signed (``input`` before ``data``), so a UI that answers with ``input`` is not
    reported as having changed the data when the bytes are the same.
    """
    a = before if isinstance(before, SendTxArgs) else SendTxArgs.from_json(dict(before))
    b = after if isinstance(after, SendTxArgs) else SendTxArgs.from_json(dict(after))
    changes = []
    if _addr_key(a.from_) != _addr_key(b.from_):
        changes.append("Sender-account changed by UI")
    if _addr_key(a.to) != _addr_key(b.to):
        changes.append("Recipient-account changed by UI")
    checks = (
        (a.gas, b.gas, "Gas changed by UI"),
        (a.gas_price, b.gas_price, "GasPrice changed by UI"),
        (a.max_priority_fee_per_gas, b.max_priority_fee_per_gas, "maxPriorityFeePerGas changed by UI"),
        (a.max_fee_per_gas, b.max_fee_per_gas, "maxFeePerGas changed by UI"),
        (a.value, b.value, "Value changed by UI"),
        (a.calldata, b.calldata, "Data changed by UI"),
        (a.nonce, b.nonce, "Nonce changed by UI"),
    )
    changes.extend(message for old, new, message in checks if old != new)
    return changes


def _addr_key(addr: MixedcaseAddress | None) -> tuple[bytes, str] | None:
    return None if addr is None else (addr.address, addr.original)
