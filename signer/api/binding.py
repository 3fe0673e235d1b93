"""Binding the external API to JSON-RPC method names, decoding parameters with geth's rules.

A parameter that cannot be decoded is answered with -32602 ``invalid argument N: ...`` before the
API (and so the audit log and the UI) sees the request, as in clef. The dispatcher decodes the
parameters in order with the decoders registered here, so the first bad one wins as in geth.
"""

from __future__ import annotations

from typing import Any

from signer.api.protocol import ExternalAPIProtocol
from signer.codecs.gojson import json_kind, top_level_hex
from signer.codecs.hexutil import MixedcaseAddress, decode_bytes
from signer.codecs.sendtx import SendTxArgs
from signer.errors import InvalidParams
from signer.rpc.dispatch import Dispatcher
from signer.types import Metadata


def _string(value: Any) -> str:
    """A Go string parameter: null leaves it empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidParams(f"json: cannot unmarshal {json_kind(value)} into Go value of type string")
    return value


def _optional_string(value: Any) -> str | None:
    """A Go *string parameter: null is nil."""
    return None if value is None else _string(value)


def _address(value: Any) -> MixedcaseAddress:
    """common.MixedcaseAddress: its errors name common.Address."""
    return top_level_hex(value, "common.Address", MixedcaseAddress.parse)


def _bytes(value: Any) -> bytes:
    return top_level_hex(value, "hexutil.Bytes", lambda text: decode_bytes(text, empty_ok=True))


def bind_external_api(dispatcher: Dispatcher, api: ExternalAPIProtocol) -> None:
    """Register every ``account_*`` method of ``api`` on ``dispatcher``."""

    def version(meta: Metadata) -> str:
        return api.version(meta)

    def list_accounts(meta: Metadata) -> list[str]:
        return api.list(meta)

    def new(meta: Metadata) -> str:
        return api.new(meta)

    def sign_data(meta: Metadata, content_type: str, address: MixedcaseAddress, data: Any) -> str:
        return api.sign_data(meta, content_type, address, data)

    def sign_typed_data(meta: Metadata, address: MixedcaseAddress, typed_data: Any) -> str:
        return api.sign_typed_data(meta, address, typed_data)

    def sign_transaction(meta: Metadata, args: SendTxArgs, selector: str | None) -> Any:
        return api.sign_transaction(meta, args, selector)

    def sign_gnosis(meta: Metadata, address: MixedcaseAddress, gnosis_tx: Any, selector: str | None) -> Any:
        return api.sign_gnosis_safe_tx(meta, address, gnosis_tx, selector)

    def ec_recover(meta: Metadata, data: bytes, sig: bytes) -> str:
        return api.ec_recover(meta, data, sig)

    dispatcher.add("account_version", version, inline=True)  # geth calls it at start: never queued
    dispatcher.add("account_list", list_accounts)
    dispatcher.add("account_new", new)
    dispatcher.add("account_signData", sign_data, required=3, decoders=(_string, _address))
    dispatcher.add("account_signTypedData", sign_typed_data, required=2, decoders=(_address,))
    dispatcher.add(
        "account_signTransaction", sign_transaction, 1, 1, decoders=(SendTxArgs.from_json, _optional_string)
    )
    dispatcher.add(
        "account_signGnosisSafeTx", sign_gnosis, 2, 1, decoders=(_address, lambda tx: tx, _optional_string)
    )
    dispatcher.add("account_ecRecover", ec_recover, required=2, decoders=(_bytes, _bytes))
