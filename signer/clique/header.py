"""Clique block headers: strict RLP decoding, the seal hash, and what the UI shows (clef-compat §2.5.3).

A clique sealer sends ``account_signData`` with ``application/x-clique-header`` and the RLP of the
header whose extraData has the 65-byte seal removed (geth's ``CliqueRLP``). The signer decodes it
the way geth decodes a ``types.Header`` (same field order, same size and canonical-integer rules,
error texts modelled on Go's ``rlp:`` messages), signs ``keccak256(CliqueRLP)`` and answers with
V in {0, 1}.

Conventions in this module: a ``CliqueHeader``'s ``extra`` is whatever the RLP carried. For a
signing request that is the extraData *without* the seal; ``encode_header(header, seal)`` appends
a seal to give the full header a chain stores.

Where we differ from clef on purpose:
* headers with more than 16 fields (Shanghai and later) are refused with a clear error; clef
  panicked on them (``method handler crashed``);
* inputs above ``MAX_HEADER_BYTES`` and integers wider than 256 bits are refused, so hostile input
  cannot make us allocate or print huge values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from signer.codecs.hexutil import keccak256
from signer.errors import InvalidRequestData
from signer.types import NameValueType, ValidationInfo

# A real header is ~500-700 bytes; 1 MiB leaves room for any extraData a chain ever used.
MAX_HEADER_BYTES = 1 << 20
SEAL_LENGTH = 65
VANITY_LENGTH = 32
MANDATORY_FIELDS = 15
# 15 fields up to Berlin, 16 with London's base fee; clique's encodeSigHeader knows no more.
CLIQUE_MAX_FIELDS = 16
# Widest integer we accept for Difficulty, Number and BaseFee (geth's *big.Int has no bound).
MAX_BIG_INT_BYTES = 32

_HEADER_TYPE = "types.Header"


class CliqueHeaderError(InvalidRequestData):
    """A clique header the signer will not seal: malformed RLP or an unsupported form."""


class _Kind(Enum):
    """Go's rlp.Kind: a single byte below 0x80 is distinct from a one-byte string."""

    BYTE = 0
    STRING = 1
    LIST = 2


class _Type(Enum):
    FIXED = 0  # fixed-size byte array (common.Hash, common.Address, types.Bloom, ...)
    BYTES = 1  # []byte
    BIG = 2  # *big.Int
    UINT64 = 3


@dataclass(frozen=True)
class _Field:
    go_name: str
    go_type: str
    typ: _Type
    size: int = 0


# geth's types.Header in RLP order: 15 mandatory fields, then the optional ones (§2.5.3).
_FIELDS: tuple[_Field, ...] = (
    _Field("ParentHash", "common.Hash", _Type.FIXED, 32),
    _Field("UncleHash", "common.Hash", _Type.FIXED, 32),
    _Field("Coinbase", "common.Address", _Type.FIXED, 20),
    _Field("Root", "common.Hash", _Type.FIXED, 32),
    _Field("TxHash", "common.Hash", _Type.FIXED, 32),
    _Field("ReceiptHash", "common.Hash", _Type.FIXED, 32),
    _Field("Bloom", "types.Bloom", _Type.FIXED, 256),
    _Field("Difficulty", "*big.Int", _Type.BIG),
    _Field("Number", "*big.Int", _Type.BIG),
    _Field("GasLimit", "uint64", _Type.UINT64),
    _Field("GasUsed", "uint64", _Type.UINT64),
    _Field("Time", "uint64", _Type.UINT64),
    _Field("Extra", "[]uint8", _Type.BYTES),
    _Field("MixDigest", "common.Hash", _Type.FIXED, 32),
    _Field("Nonce", "types.BlockNonce", _Type.FIXED, 8),
    _Field("BaseFee", "*big.Int", _Type.BIG),
    _Field("WithdrawalsHash", "common.Hash", _Type.FIXED, 32),
    _Field("BlobGasUsed", "uint64", _Type.UINT64),
    _Field("ExcessBlobGas", "uint64", _Type.UINT64),
    _Field("ParentBeaconRoot", "common.Hash", _Type.FIXED, 32),
    _Field("RequestsHash", "common.Hash", _Type.FIXED, 32),
    _Field("BlockAccessListHash", "common.Hash", _Type.FIXED, 32),
    _Field("SlotNumber", "uint64", _Type.UINT64),
)
MAX_HEADER_FIELDS = len(_FIELDS)


@dataclass(frozen=True)
class CliqueHeader:
    """A geth block header. ``extra_fields`` holds the raw values of fields after the base fee
    (Shanghai and later), kept only so such headers can be re-encoded and refused by count."""

    parent_hash: bytes
    uncle_hash: bytes
    coinbase: bytes
    root: bytes
    tx_hash: bytes
    receipt_hash: bytes
    bloom: bytes
    difficulty: int
    number: int
    gas_limit: int
    gas_used: int
    time: int
    extra: bytes
    mix_digest: bytes
    nonce: bytes
    base_fee: int | None = None
    extra_fields: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        # Headers are also built by hand (sealing.py, callers): keep every instance encodable.
        for spec, value in zip(_FIELDS[:MANDATORY_FIELDS], self._mandatory_values(), strict=True):
            if spec.typ is _Type.FIXED and (not isinstance(value, bytes) or len(value) != spec.size):
                raise CliqueHeaderError(f"clique header field {spec.go_name} must be {spec.size} bytes")
            if spec.typ is _Type.BYTES and not isinstance(value, bytes):
                raise CliqueHeaderError(f"clique header field {spec.go_name} must be bytes")
            if spec.typ in (_Type.BIG, _Type.UINT64):
                _check_int_range(spec, value)
        if self.base_fee is not None:
            _check_int_range(_FIELDS[MANDATORY_FIELDS], self.base_fee)
        if self.extra_fields and self.base_fee is None:
            raise CliqueHeaderError("clique header fields after BaseFee need a BaseFee (RLP is positional)")
        if len(self.extra_fields) > MAX_HEADER_FIELDS - CLIQUE_MAX_FIELDS or not all(
            isinstance(v, bytes) for v in self.extra_fields
        ):
            raise CliqueHeaderError("clique header has malformed fields after BaseFee")

    def _mandatory_values(self) -> tuple[int | bytes, ...]:
        return (
            self.parent_hash,
            self.uncle_hash,
            self.coinbase,
            self.root,
            self.tx_hash,
            self.receipt_hash,
            self.bloom,
            self.difficulty,
            self.number,
            self.gas_limit,
            self.gas_used,
            self.time,
            self.extra,
            self.mix_digest,
            self.nonce,
        )

    @property
    def field_count(self) -> int:
        return MANDATORY_FIELDS + (self.base_fee is not None) + len(self.extra_fields)


def _check_int_range(spec: _Field, value: object) -> None:
    limit_bits = 64 if spec.typ is _Type.UINT64 else 8 * MAX_BIG_INT_BYTES
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << limit_bits:
        raise CliqueHeaderError(
            f"clique header field {spec.go_name} must be an integer in [0, 2^{limit_bits})"
        )


# --- decoding -------------------------------------------------------------------------------------


def _rlp_error(message: str, spec: _Field) -> CliqueHeaderError:
    """Go's decodeError text: ``rlp: <msg> for <type>, decoding into (types.Header).<Field>``."""
    context = f"decoding into ({_HEADER_TYPE}).{spec.go_name}"
    return CliqueHeaderError(f"rlp: {message} for {spec.go_type}, {context}")


def _read_length(buf: bytes, pos: int, count: int, end: int, overflow: str) -> int:
    if pos + count > end:
        raise CliqueHeaderError(overflow)
    if buf[pos] == 0:
        raise CliqueHeaderError("rlp: non-canonical size information")
    return int.from_bytes(buf[pos : pos + count], "big")


def _read_item(buf: bytes, pos: int, end: int, in_list: bool) -> tuple[_Kind, int, int]:
    """Kind, payload start and payload length of the item at ``pos``; it must end by ``end``.

    Lengths are checked against the bytes really present before anything is sliced, so a prefix
    claiming gigabytes costs nothing.
    """
    overflow = (
        "rlp: element is larger than containing list"
        if in_list
        else "rlp: value size exceeds available input length"
    )
    first = buf[pos]
    if first < 0x80:
        return _Kind.BYTE, pos, 1
    if first < 0xC0:
        kind, short_base, long_base = _Kind.STRING, 0x80, 0xB7
    else:
        kind, short_base, long_base = _Kind.LIST, 0xC0, 0xF7
    if first <= long_base:
        start, size = pos + 1, first - short_base
    else:
        count = first - long_base
        size = _read_length(buf, pos + 1, count, end, overflow)
        if size < 56:  # the short form should have been used
            raise CliqueHeaderError("rlp: non-canonical size information")
        start = pos + 1 + count
    if start + size > end:
        raise CliqueHeaderError(overflow)
    return kind, start, size


def _decode_value(spec: _Field, kind: _Kind, payload: bytes) -> int | bytes:
    if kind is _Kind.LIST:
        raise _rlp_error("expected input string or byte", spec)
    if spec.typ is _Type.FIXED:
        if len(payload) < spec.size:
            raise _rlp_error("input string too short", spec)
        if len(payload) > spec.size:
            raise _rlp_error("input string too long", spec)
        return payload
    # A one-byte string below 0x80 should have been a single byte (Go's ErrCanonSize).
    if kind is _Kind.STRING and len(payload) == 1 and payload[0] < 0x80:
        raise _rlp_error("non-canonical size information", spec)
    if spec.typ is _Type.BYTES:
        return payload
    if spec.typ is _Type.UINT64 and len(payload) > 8:
        raise _rlp_error("input string too long", spec)
    if spec.typ is _Type.BIG and len(payload) > MAX_BIG_INT_BYTES:
        raise _rlp_error("integer wider than 256 bits (Sealward's limit)", spec)
    if payload[:1] == b"\x00":
        raise _rlp_error("non-canonical integer (leading zero bytes)", spec)
    return int.from_bytes(payload, "big")


def decode_header(raw: bytes) -> CliqueHeader:
    """Decode a geth ``types.Header`` strictly; every malformed input raises CliqueHeaderError.

    Accepts 15 to 23 fields (every form geth can decode); ``clique_signing_material`` then refuses
    more than 16.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise CliqueHeaderError(f"clique header must be bytes, not {type(raw).__name__}")
    buf = bytes(raw)
    if len(buf) > MAX_HEADER_BYTES:
        raise CliqueHeaderError(f"clique header is {len(buf)} bytes; the limit is {MAX_HEADER_BYTES}")
    if not buf:
        raise CliqueHeaderError("EOF")  # geth returns io.EOF as it is
    kind, pos, size = _read_item(buf, 0, len(buf), in_list=False)
    if kind is not _Kind.LIST:
        raise CliqueHeaderError(f"rlp: expected input list for {_HEADER_TYPE}")
    end = pos + size
    values: list[int | bytes] = []
    for spec in _FIELDS:
        if pos == end:
            break
        item_kind, start, length = _read_item(buf, pos, end, in_list=True)
        values.append(_decode_value(spec, item_kind, buf[start : start + length]))
        pos = start + length
    if len(values) < MANDATORY_FIELDS:
        raise CliqueHeaderError(f"rlp: too few elements for {_HEADER_TYPE}")
    if pos != end:
        raise CliqueHeaderError(f"rlp: input list has too many elements for {_HEADER_TYPE}")
    if end != len(buf):
        raise CliqueHeaderError("rlp: input contains more than one value")
    return _header_from_values(values)


def _header_from_values(values: list[int | bytes]) -> CliqueHeader:
    def b(i: int) -> bytes:
        value = values[i]
        assert isinstance(value, bytes)
        return value

    def n(i: int) -> int:
        value = values[i]
        assert isinstance(value, int)
        return value

    base_fee = n(15) if len(values) > MANDATORY_FIELDS else None
    # Later optional fields are kept as their raw payload: integers were checked canonical, so
    # re-encoding the payload as an RLP string gives back the same bytes.
    extra_fields = tuple(int_to_bytes(v) if isinstance(v, int) else v for v in values[16:])
    return CliqueHeader(
        b(0),
        b(1),
        b(2),
        b(3),
        b(4),
        b(5),
        b(6),
        n(7),
        n(8),
        n(9),
        n(10),
        n(11),
        b(12),
        b(13),
        b(14),
        base_fee=base_fee,
        extra_fields=extra_fields,
    )


# --- encoding -------------------------------------------------------------------------------------


def int_to_bytes(value: int) -> bytes:
    """Minimal big-endian bytes of a non-negative integer (0 is empty), as RLP wants."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _length_prefix(size: int, short_base: int) -> bytes:
    if size < 56:
        return bytes([short_base + size])
    length = int_to_bytes(size)
    return bytes([short_base + 55 + len(length)]) + length


def _encode_bytes(value: bytes) -> bytes:
    if len(value) == 1 and value[0] < 0x80:
        return value
    return _length_prefix(len(value), 0x80) + value


def _encode_list(items: list[bytes]) -> bytes:
    payload = b"".join(items)
    return _length_prefix(len(payload), 0xC0) + payload


def _encoded_fields(header: CliqueHeader, extra: bytes, with_later_fields: bool) -> list[bytes]:
    values = list(header._mandatory_values())
    values[12] = extra
    if header.base_fee is not None:
        values.append(header.base_fee)
    if with_later_fields:
        values.extend(header.extra_fields)
    return [_encode_bytes(int_to_bytes(v) if isinstance(v, int) else v) for v in values]


def encode_header(header: CliqueHeader, seal: bytes | None = None) -> bytes:
    """The header's RLP with every field present; with ``seal``, extraData is ``extra + seal``."""
    if seal is not None and (not isinstance(seal, bytes) or len(seal) != SEAL_LENGTH):
        raise CliqueHeaderError(f"a clique seal is {SEAL_LENGTH} bytes")
    extra = header.extra if seal is None else header.extra + seal
    return _encode_list(_encoded_fields(header, extra, with_later_fields=True))


def _too_many_fields(count: int) -> CliqueHeaderError:
    return CliqueHeaderError(
        f"clique header has {count} RLP fields; only pre-Shanghai clique headers "
        f"({MANDATORY_FIELDS} fields, or {CLIQUE_MAX_FIELDS} with the London base fee) can be sealed"
    )


def sig_rlp(header: CliqueHeader) -> bytes:
    """geth's ``CliqueRLP``: the header with extraData as given (seal excluded) and the base fee if
    present. Raises for headers with more than 16 fields, which clique never defined."""
    if header.field_count > CLIQUE_MAX_FIELDS:
        raise _too_many_fields(header.field_count)
    return _encode_list(_encoded_fields(header, header.extra, with_later_fields=False))


def seal_hash(header: CliqueHeader) -> bytes:
    """Clique's SealHash: keccak256(CliqueRLP). This is the digest the sealer signs."""
    return keccak256(sig_rlp(header))


# --- the signing request --------------------------------------------------------------------------


@dataclass(frozen=True)
class CliqueSigningMaterial:
    """Everything the signer needs for one ``application/x-clique-header`` request."""

    header: CliqueHeader
    sig_rlp: bytes  # raw_data of the SignDataRequest
    seal_hash: bytes  # hash of the SignDataRequest: the digest that is signed
    display: str  # "clique header N [0x<hash of the header with a zero seal>]"
    findings: tuple[ValidationInfo, ...] = ()

    def messages(self) -> list[NameValueType]:
        """The ``messages`` list clef puts in the SignDataRequest (§2.5.3)."""
        return [NameValueType("Clique header", self.display, "clique")]


def clique_signing_material(raw: bytes) -> CliqueSigningMaterial:
    """Decode a clique signing request and compute what is signed and what the UI shows."""
    header = decode_header(raw)
    preimage = sig_rlp(header)  # refuses more than 16 fields
    # clef pads extra with 65 zero bytes before hashing the whole header for display.
    zero_sealed_hash = keccak256(encode_header(header, seal=bytes(SEAL_LENGTH)))
    return CliqueSigningMaterial(
        header=header,
        sig_rlp=preimage,
        seal_hash=keccak256(preimage),
        display=f"clique header {header.number} [0x{zero_sealed_hash.hex()}]",
        findings=clique_findings(header),
    )


# --- soft checks ----------------------------------------------------------------------------------

EMPTY_UNCLE_HASH = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
NONCE_AUTH_VOTE = b"\xff" * 8
NONCE_DROP_VOTE = b"\x00" * 8


def clique_findings(header: CliqueHeader) -> tuple[ValidationInfo, ...]:
    """Rules geth's clique verifier applies to a sealed block, as warnings for the UI.

    Clef signs without these checks, so they never refuse a request: a sealer that signs such a
    header produces a block its peers reject, which is worth telling the person approving.
    ``header.extra`` is the extraData without the seal, as in a signing request.
    """
    found: list[str] = []
    if len(header.extra) < VANITY_LENGTH:
        found.append(f"extraData has {len(header.extra)} bytes before the seal, less than the 32-byte vanity")
    elif (len(header.extra) - VANITY_LENGTH) % 20:
        found.append("extraData after the vanity is not a list of 20-byte signer addresses")
    if header.nonce not in (NONCE_AUTH_VOTE, NONCE_DROP_VOTE):
        found.append("nonce is neither an authorise vote (0xff..ff) nor a drop vote (0x00..00)")
    if header.mix_digest != bytes(32):
        found.append("mixDigest is not zero")
    if header.uncle_hash != EMPTY_UNCLE_HASH:
        found.append("uncle hash is not the empty-list hash; clique blocks have no uncles")
    if header.number > 0 and header.difficulty not in (1, 2):
        found.append(f"difficulty is {header.difficulty}; clique uses 2 (in turn) or 1 (out of turn)")
    if header.gas_limit > (1 << 63) - 1:
        found.append("gas limit exceeds 2^63-1")
    return tuple(ValidationInfo("WARNING", f"clique header: {text}") for text in found)
