"""account_signData: from (content type, address, data) to the request the UI approves and the payload
a backend signs (clef-compat §2.5). Errors here are returned before any UI contact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backends.base import DigestPayload, Payload, TextPayload, ValidatorPayload
from signer.codecs.gomarshal import GoBytes
from signer.codecs.hexutil import (
    HexError,
    MixedcaseAddress,
    decode_bytes,
    go_type_name,
    keccak256,
)
from signer.codecs.mediatype import parse_media_type
from signer.errors import InvalidRequestData
from signer.types import Metadata, NameValueType, SignDataRequest

TEXT_PLAIN = "text/plain"
DATA_VALIDATOR = "data/validator"
DATA_TYPED = "data/typed"
CLIQUE_HEADER = "application/x-clique-header"


@dataclass
class SignDataPlan:
    """What to show, what to sign, and how to present the signature."""

    request: SignDataRequest
    payload: Payload
    v_offset: int  # 27 for Ethereum-style V, 0 for clique
    clique_number: int | None = None
    clique_parent: bytes | None = None
    clique_time: int | None = None  # the header's timestamp: the guard bounds re-seals by it


def text_hash(message: bytes) -> tuple[bytes, bytes]:
    """EIP-191 0x45: (prefixed message, its keccak)."""
    prefixed = b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message
    return prefixed, keccak256(prefixed)


def _hex_payload(data: Any) -> bytes:
    if not isinstance(data, str):
        raise InvalidRequestData(f"wrong type {go_type_name(data)}")
    return decode_bytes(data, empty_ok=False)


def _plan_text(content_type: str, address: MixedcaseAddress, data: Any, meta: Metadata) -> SignDataPlan:
    message = _hex_payload(data)
    prefixed, digest = text_hash(message)
    messages = [NameValueType("message", GoBytes(prefixed), TEXT_PLAIN)]
    request = SignDataRequest(content_type, address, prefixed, messages, digest, meta)
    return SignDataPlan(request, TextPayload(message, digest), 27)


def _validator_field(data: dict[str, Any], key: str, label: str) -> bytes:
    value = data.get(key)
    if not isinstance(value, str):
        raise InvalidRequestData(f"{label} error: wrong type {go_type_name(value)}")
    try:
        return decode_bytes(value, empty_ok=False)
    except HexError as exc:
        raise InvalidRequestData(f"{label} error: {exc}") from exc


def _plan_validator(content_type: str, address: MixedcaseAddress, data: Any, meta: Metadata) -> SignDataPlan:
    if not isinstance(data, dict):
        raise InvalidRequestData("validator input is not a map[string]interface{}")
    validator_raw = _validator_field(data, "address", "validator address")
    if not validator_raw:
        raise InvalidRequestData("validator address is undefined")
    message = _validator_field(data, "message", "message")
    if not message:
        raise InvalidRequestData("message is undefined")
    validator = validator_raw[-20:].rjust(20, b"\x00")
    msg = b"\x19\x00" + validator + message
    digest = keccak256(msg)
    checksummed = MixedcaseAddress(validator, "").checksummed
    messages = [
        NameValueType(
            "This is a request to sign data intended for a particular validator (see EIP 191 version 0)",
            "",
            "description",
        ),
        NameValueType("Intended validator address", checksummed, "address"),
        NameValueType("Application-specific data", "0x" + message.hex(), "hexdata"),
        NameValueType("Full message for signing", "0x" + msg.hex(), "hexdata"),
    ]
    request = SignDataRequest(content_type, address, msg, messages, digest, meta)
    return SignDataPlan(request, ValidatorPayload(validator, message, digest), 27)


def _plan_clique(content_type: str, address: MixedcaseAddress, data: Any, meta: Metadata) -> SignDataPlan:
    from signer.clique.header import clique_signing_material

    material = clique_signing_material(_hex_payload(data))
    messages = [NameValueType("Clique header", material.display, "clique")]
    # Soft findings (what geth's clique verifier would reject) go to the UI as call_info, as for
    # gnosis requests; clef sent null here, and still does when the header is clean.
    call_info = list(material.findings) or None
    request = SignDataRequest(
        content_type, address, material.sig_rlp, messages, material.seal_hash, meta, call_info
    )
    payload = DigestPayload(material.seal_hash, material.sig_rlp, "clique")
    header = material.header
    return SignDataPlan(
        request,
        payload,
        0,
        clique_number=header.number,
        clique_parent=header.parent_hash,
        clique_time=header.time,
    )


def plan_sign_data(content_type: str, address: MixedcaseAddress, data: Any, meta: Metadata) -> SignDataPlan:
    """Build the plan for account_signData; unknown media types are treated as text/plain, as clef does."""
    media_type, _ = parse_media_type(content_type)
    if media_type == DATA_VALIDATOR:
        return _plan_validator(media_type, address, data, meta)
    if media_type == CLIQUE_HEADER:
        return _plan_clique(media_type, address, data, meta)
    if media_type == DATA_TYPED:
        return _plan_typed(address, data, meta)
    return _plan_text(media_type, address, data, meta)


def _plan_typed(address: MixedcaseAddress, data: Any, meta: Metadata) -> SignDataPlan:
    from signer.codecs.typed_request import plan_typed_data_hex  # imports this module: import late

    return plan_typed_data_hex(address, _hex_payload(data), meta)
