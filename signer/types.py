"""The values that cross the approval boundary, serialised exactly as clef's JSON (§3.1).

Rules, the stdio UI and the audit log all see these through ``to_json()``, so one definition
keeps them identical whichever transport or backend a request came through.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from signer.codecs.hexutil import MixedcaseAddress

INTERNAL_API_VERSION = "7.0.1"
EXTERNAL_API_VERSION = "6.1.0"

JSON = dict[str, Any]


@dataclass(frozen=True)
class Metadata:
    """Where a request came from. Every field is supplied by the caller and is untrusted."""

    remote: str = "NA"
    local: str = "NA"
    scheme: str = "NA"
    user_agent: str = ""
    origin: str = ""

    def to_json(self) -> JSON:
        return {
            "remote": self.remote,
            "local": self.local,
            "scheme": self.scheme,
            "User-Agent": self.user_agent,
            "Origin": self.origin,
        }


IPC_METADATA = Metadata(scheme="ipc")


@dataclass(frozen=True)
class ValidationInfo:
    """A soft finding about a request: ``typ`` is "WARNING", "CRITICAL" or "Info"."""

    typ: str
    message: str

    def to_json(self) -> JSON:
        return {"type": self.typ, "message": self.message}


@dataclass(frozen=True)
class NameValueType:
    name: str
    value: Any
    typ: str

    def to_json(self) -> JSON:
        value = self.value
        if isinstance(value, list):
            value = [v.to_json() if isinstance(v, NameValueType) else v for v in value]
        return {"name": self.name, "value": value, "type": self.typ}


def _call_info_json(call_info: list[ValidationInfo] | None) -> list[JSON] | None:
    return None if call_info is None else [c.to_json() for c in call_info]


@dataclass
class SignDataRequest:
    content_type: str
    address: MixedcaseAddress
    raw_data: bytes
    messages: list[NameValueType]
    hash: bytes
    meta: Metadata
    call_info: list[ValidationInfo] | None = None

    def to_json(self) -> JSON:
        return {
            "content_type": self.content_type,
            "address": self.address.to_json(),
            "raw_data": base64.b64encode(self.raw_data).decode("ascii"),
            "messages": [m.to_json() for m in self.messages],
            "call_info": _call_info_json(self.call_info),
            "hash": "0x" + self.hash.hex(),
            "meta": self.meta.to_json(),
        }


@dataclass
class SignTxRequest:
    """``transaction`` is the SendTxArgs JSON object (after validation, calldata in ``data``)."""

    transaction: JSON
    meta: Metadata
    call_info: list[ValidationInfo] | None = None

    def to_json(self) -> JSON:
        return {
            "transaction": self.transaction,
            "call_info": _call_info_json(self.call_info),
            "meta": self.meta.to_json(),
        }


@dataclass
class SignTxResponse:
    """What the UI approved; the transaction it returns is the one that gets signed."""

    transaction: JSON
    approved: bool


@dataclass
class ListRequest:
    """``accounts`` are clef Account objects: ``{"address": lowercase hex, "url": ...}``."""

    accounts: list[JSON]
    meta: Metadata

    def to_json(self) -> JSON:
        return {"accounts": self.accounts, "meta": self.meta.to_json()}


@dataclass
class NewAccountRequest:
    meta: Metadata

    def to_json(self) -> JSON:
        return {"meta": self.meta.to_json()}


@dataclass
class UserInputRequest:
    title: str
    prompt: str
    is_password: bool

    def to_json(self) -> JSON:
        return {"title": self.title, "prompt": self.prompt, "isPassword": self.is_password}


@dataclass
class StartupInfo:
    extapi_http: str = "n/a"
    extapi_ipc: str = "n/a"
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> JSON:
        info = {
            "extapi_http": self.extapi_http,
            "extapi_ipc": self.extapi_ipc,
            "extapi_version": EXTERNAL_API_VERSION,
            "intapi_version": INTERNAL_API_VERSION,
            **self.extra,
        }
        return {"info": dict(sorted(info.items()))}
