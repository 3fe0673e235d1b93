"""Binding the external API to JSON-RPC method names, decoding parameters with geth's rules.

A parameter that cannot be decoded is answered with -32602 ``invalid argument N: ...`` before the
API (and so the audit log and the UI) sees the request, as in clef.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from signer.api.protocol import ExternalAPIProtocol
from signer.codecs.gojson import json_kind
from signer.codecs.hexutil import MixedcaseAddress, decode_bytes
from signer.codecs.sendtx import SendTxArgs
from signer.errors import InvalidParams, SignerError
from signer.rpc.dispatch import Dispatcher
from signer.types import Metadata


def _argument(index: int, decode: Callable[[Any], Any], value: Any) -> Any:
    try:
        return decode(value)
    except SignerError as exc:
        raise InvalidParams(f"invalid argument {index}: {exc}") from exc


def _string(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidParams(f"json: cannot unmarshal {json_kind(value)} into Go value of type string")
    return value


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _address(value: Any) -> MixedcaseAddress:
    return MixedcaseAddress.parse(value)


def _bytes(value: Any) -> bytes:
    return decode_bytes(value, empty_ok=True)


def _send_tx_args(value: Any) -> SendTxArgs:
    return SendTxArgs.from_json(value)


def bind_external_api(dispatcher: Dispatcher, api: ExternalAPIProtocol) -> None:
    """Register every ``account_*`` method of ``api`` on ``dispatcher``."""

    def version(meta: Metadata) -> str:
        return api.version(meta)

    def list_accounts(meta: Metadata) -> list[str]:
        return api.list(meta)

    def new(meta: Metadata) -> str:
        return api.new(meta)

    def sign_data(meta: Metadata, content_type: Any, address: Any, data: Any) -> str:
        return api.sign_data(meta, _argument(0, _string, content_type), _argument(1, _address, address), data)

    def sign_typed_data(meta: Metadata, address: Any, typed_data: Any) -> str:
        return api.sign_typed_data(meta, _argument(0, _address, address), typed_data)

    def sign_transaction(meta: Metadata, args: Any, selector: Any) -> Any:
        return api.sign_transaction(
            meta, _argument(0, _send_tx_args, args), _argument(1, _optional_string, selector)
        )

    def sign_gnosis(meta: Metadata, address: Any, gnosis_tx: Any, selector: Any) -> Any:
        return api.sign_gnosis_safe_tx(
            meta, _argument(0, _address, address), gnosis_tx, _argument(2, _optional_string, selector)
        )

    def ec_recover(meta: Metadata, data: Any, sig: Any) -> str:
        return api.ec_recover(meta, _argument(0, _bytes, data), _argument(1, _bytes, sig))

    dispatcher.add("account_version", version, inline=True)  # geth calls it at start: never queued
    dispatcher.add("account_list", list_accounts)
    dispatcher.add("account_new", new)
    dispatcher.add("account_signData", sign_data, required=3)
    dispatcher.add("account_signTypedData", sign_typed_data, required=2)
    dispatcher.add("account_signTransaction", sign_transaction, required=1, optional=1)
    dispatcher.add("account_signGnosisSafeTx", sign_gnosis, required=2, optional=1)
    dispatcher.add("account_ecRecover", ec_recover, required=2)
