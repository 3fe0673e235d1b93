"""From typed data to the request a UI approves and the payload a backend signs (clef-compat
§2.5.4 and §2.6): account_signTypedData, and account_signData with ``data/typed``.

The order is clef's, because it decides which error a caller sees: decode, then Format (the UI's
messages), then hash. Every error here comes before any UI contact.
"""

from __future__ import annotations

from typing import Any

from backends.base import TypedDataPayload
from signer.codecs.eip712 import (
    TypedData,
    decode_typed_data,
    format_typed_data,
    loads_typed_data,
    typed_data_hash,
)
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.signdata import DATA_TYPED, SignDataPlan
from signer.types import Metadata, SignDataRequest, ValidationInfo


def plan_typed_data_hex(address: MixedcaseAddress, raw_json: bytes, meta: Metadata) -> SignDataPlan:
    """account_signData("data/typed", address, hex): ``raw_json`` is the UTF-8 JSON the hex held."""
    return plan_for(address, loads_typed_data(raw_json), meta)


def plan_typed_data(
    address: MixedcaseAddress,
    typed_data: Any,
    meta: Metadata,
    call_info: list[ValidationInfo] | None = None,
) -> SignDataPlan:
    """account_signTypedData(address, typedData): ``typed_data`` is the parsed JSON parameter."""
    return plan_for(address, decode_typed_data(typed_data), meta, call_info)


def plan_for(
    address: MixedcaseAddress,
    td: TypedData,
    meta: Metadata,
    call_info: list[ValidationInfo] | None = None,
) -> SignDataPlan:
    """The plan for a decoded document; ``call_info`` carries gnosis validation messages."""
    messages = format_typed_data(td)
    hashed = typed_data_hash(td)
    request = SignDataRequest(DATA_TYPED, address, hashed.preimage, messages, hashed.digest, meta, call_info)
    payload = TypedDataPayload(hashed.domain_separator, hashed.message_hash, hashed.digest, td.to_json())
    return SignDataPlan(request, payload, 27)
