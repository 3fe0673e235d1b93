"""TypedData from a parsed JSON value the way clef's Go decoder reads it (clef-compat §2.6.1).

Go semantics kept: struct keys match case-insensitively (exact spelling first, later keys win and
merge into what earlier ones set), unknown keys are ignored, message numbers are float64, lone
surrogates become U+FFFD, the domain's chainId is a HexOrDecimal256. Bounds not in clef: nesting
depth and value count, so a hostile document is refused before any recursive work starts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from signer.codecs.eip712.gofmt import ChainId
from signer.codecs.eip712.primitives import TypedDataError, unmarshal_big256
from signer.codecs.gojson import json_kind

MAX_DEPTH = 64  # nesting of message objects and arrays; real documents use a handful
MAX_VALUES = 50_000  # JSON values in the message; a large Seaport order has a few hundred
MAX_MEMBERS = 10_000  # type names plus field declarations; real documents declare tens

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Field:
    name: str
    type: str


@dataclass
class Domain:
    name: str = ""
    version: str = ""
    chain_id: ChainId | None = None
    verifying_contract: str = ""
    salt: str = ""

    def is_empty(self) -> bool:
        return self.chain_id is None and not (
            self.name or self.version or self.verifying_contract or self.salt
        )

    def to_map(self) -> dict[str, Any]:
        """clef's ``Domain.Map()``: only the members that are set."""
        items = [("chainId", self.chain_id), ("name", self.name), ("version", self.version),
                 ("verifyingContract", self.verifying_contract), ("salt", self.salt)]  # fmt: skip
        return {key: value for key, value in items if value}


@dataclass
class TypedData:
    """``types[name]`` is None for a JSON null list: defined for validation, not a struct."""

    types: dict[str, tuple[Field, ...] | None] = field(default_factory=dict)
    primary_type: str = ""
    domain: Domain = field(default_factory=Domain)
    message: dict[str, Any] | None = None

    def is_struct(self, name: str) -> bool:
        return self.types.get(name) is not None

    def to_json(self) -> dict[str, Any]:
        """The decoded document as JSON (chainId an integer, signer-built bytes as 0x hex), handed
        to devices that display EIP-712 themselves."""
        types = {
            k: None if v is None else [{"name": f.name, "type": f.type} for f in v]
            for k, v in self.types.items()
        }
        domain = {k: v.value if isinstance(v, ChainId) else v for k, v in self.domain.to_map().items()}
        message = _plain(self.message)
        return {"types": types, "primaryType": self.primary_type, "domain": domain, "message": message}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _type_error(value: Any, where: str, gotype: str) -> TypedDataError:
    into = f"Go struct field {where}" if where else "Go value"
    return TypedDataError(f"json: cannot unmarshal {json_kind(value)} into {into} of type {gotype}")


def _clean(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _clean_value(value: Any) -> Any:
    return _clean(value) if isinstance(value, str) else value


def _fold(key: str) -> str:
    # Go's EqualFold also maps the long s and the Kelvin sign onto ASCII letters.
    return key.lower().replace("ſ", "s")


def _members(obj: dict[str, Any], names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(field, value) for each key of ``obj`` that names a field, in document order."""
    folded = {_fold(n): n for n in names}
    out = []
    for key, value in obj.items():
        name = key if key in names else folded.get(_fold(key))
        if name is not None:
            out.append((name, value))
    return out


def _string(value: Any, previous: str, where: str) -> str:
    if value is None:
        return previous  # null leaves a Go string as it was
    if not isinstance(value, str):
        raise _type_error(value, where, "string")
    return _clean(value)


def _decode_domain(value: Any, domain: Domain) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _type_error(value, "TypedData.domain", "apitypes.TypedDataDomain")
    names = ("name", "version", "chainId", "verifyingContract", "salt")
    for name, member in _members(value, names):
        if name == "chainId":
            domain.chain_id = None if member is None else ChainId(unmarshal_big256(_clean_value(member)))
        else:
            attr = "verifying_contract" if name == "verifyingContract" else name
            setattr(domain, attr, _string(member, getattr(domain, attr), f"TypedDataDomain.domain.{name}"))


def _decode_field(value: Any) -> Field:
    if value is None:
        return Field("", "")
    if not isinstance(value, dict):
        raise _type_error(value, "TypedData.types", "apitypes.Type")
    name, type_name = value.get("name"), value.get("type")
    if len(value) == 2 and isinstance(name, str) and isinstance(type_name, str):
        return Field(_clean(name), _clean(type_name))  # the usual shape, without key folding
    found = {"name": "", "type": ""}
    for name, member in _members(value, ("name", "type")):
        found[name] = _string(member, found[name], f"Type.types.{name}")
    return Field(found["name"], found["type"])


def _decode_types(value: Any, types: dict[str, tuple[Field, ...] | None] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _type_error(value, "TypedData.types", "apitypes.Types")
    out = {} if types is None else types  # Go decodes into the map an earlier key created
    size = sum(1 + len(fields or ()) for fields in out.values())
    for key, fields in value.items():
        if fields is not None and not isinstance(fields, list):
            raise _type_error(fields, "TypedData.types", "[]apitypes.Type")
        name = _clean(key)
        size += 1 + len(fields or ()) - (1 + len(out[name] or ()) if name in out else 0)
        if size > MAX_MEMBERS:  # checked before decoding, so an oversized declaration costs nothing
            raise TypedDataError(f"typed data declares too many types and members (more than {MAX_MEMBERS})")
        out[name] = None if fields is None else tuple(_decode_field(f) for f in fields)
    return out


class _Normaliser:
    """Message values as Go's ``interface{}`` holds them, within MAX_DEPTH and MAX_VALUES."""

    def __init__(self) -> None:
        self.count = 0

    def value(self, value: Any, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise TypedDataError(f"typed data message is too large (more than {MAX_VALUES} values)")
        if isinstance(value, dict):
            return self.object(value, depth + 1)
        if isinstance(value, list):
            if depth + 1 > MAX_DEPTH:
                raise TypedDataError(f"typed data is nested too deeply (more than {MAX_DEPTH} levels)")
            return [self.value(item, depth + 1) for item in value]
        if isinstance(value, str):
            return _clean(value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = _float64(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise TypedDataError(f"json: cannot unmarshal number {value!r} into Go value of type float64")
        return value

    def object(self, value: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise TypedDataError(f"typed data is nested too deeply (more than {MAX_DEPTH} levels)")
        return {_clean(k): self.value(v, depth) for k, v in value.items()}


def _float64(value: int) -> float:
    """A JSON integer as Go reads it into interface{}: the nearest float64, or an error."""
    try:
        return float(value)
    except OverflowError:
        raise TypedDataError(f"json: cannot unmarshal number {value} into Go value of type float64") from None


def decode_typed_data(obj: Any) -> TypedData:
    """A TypedData from an already parsed JSON value (the account_signTypedData parameter)."""
    if obj is None:
        obj = {}  # null decodes to the zero TypedData, which then fails "domain is undefined"
    if not isinstance(obj, dict):
        raise _type_error(obj, "", "apitypes.TypedData")
    td = TypedData()
    types: dict[str, Any] | None = None
    normaliser = _Normaliser()
    for name, value in _members(obj, ("types", "primaryType", "domain", "message")):
        if name == "types":
            types = _decode_types(value, types)
        elif name == "primaryType":
            td.primary_type = _string(value, td.primary_type, "TypedData.primaryType")
        elif name == "domain":
            _decode_domain(value, td.domain)
        elif value is None:
            td.message = None
        elif not isinstance(value, dict):
            raise _type_error(
                value, "TypedData.message", "map[string]interface {}"
            )  # an alias in Go: the map type is named
        else:
            fresh = normaliser.object(value, 1)
            td.message = fresh if td.message is None else {**td.message, **fresh}
    td.types = types or {}
    return td
