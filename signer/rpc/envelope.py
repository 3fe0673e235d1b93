"""JSON-RPC 2.0 message shapes as geth reads them: which ids are valid, which messages are calls,
building responses, encoding them compactly."""

from __future__ import annotations

import logging
import math
from typing import Any

from signer.codecs.gojson import match_keys
from signer.codecs.gomarshal import go_marshal
from signer.errors import HandlerCrashed, error_object

log = logging.getLogger("sealward.rpc")

Response = dict[str, Any]


_FIELDS = ("jsonrpc", "id", "method", "params", "error", "result")


def envelope(request: Any) -> dict[str, Any]:
    """The message as geth's jsonrpcMessage sees it: keys matched case-insensitively (exact
    spelling first), a field of the wrong JSON type left empty, anything but an object empty."""
    if not isinstance(request, dict):
        return {}
    fields = match_keys(request, _FIELDS)
    for name in ("jsonrpc", "method"):
        if name in fields and not isinstance(fields[name], str):
            del fields[name]
    if not isinstance(fields.get("error"), dict):
        fields.pop("error", None)  # a null or malformed error is no error
    return fields


def valid_id(value: Any) -> bool:
    """geth accepts any id except an object or array (its hasValidID looks at the first byte)."""
    if isinstance(value, float):
        return math.isfinite(value)  # 1e400 decodes to inf, which cannot be sent back
    return not isinstance(value, (dict, list))


def kind(request: Any) -> str:
    """geth's classification of one message: "call", "notification", "response" (a server
    ignores it) or "invalid"."""
    fields = envelope(request)
    version_ok = fields.get("jsonrpc") == "2.0"
    method = fields.get("method", "")
    has_id = "id" in fields and valid_id(fields["id"])
    if version_ok and "id" not in fields and method:
        return "notification"
    if version_ok and has_id and method:
        return "call"
    if (
        version_ok
        and has_id
        and not method
        and "params" not in fields
        and ("result" in fields or "error" in fields)
    ):
        return "response"
    return "invalid"


def is_notification(request: Any) -> bool:
    """No answer is owed: a notification, or a response object sent to a server."""
    return kind(request) in ("notification", "response")


def request_id(request: Any) -> Any:
    """The id to answer ``request`` with: its own when valid, else null."""
    value = envelope(request).get("id")
    return value if valid_id(value) else None


def result_response(rid: Any, result: Any) -> Response:
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def error_response(rid: Any, exc: BaseException) -> Response:
    return {"jsonrpc": "2.0", "id": rid, "error": error_object(exc)}


def encode(response: Any) -> bytes:
    """Compact JSON for a response or batch, written as Go writes it (clef's bytes); a result that
    cannot be encoded becomes a crash error."""
    try:
        return go_marshal(response)
    except (TypeError, ValueError, RecursionError):
        if isinstance(response, list):
            return b"[" + b",".join(encode(item) for item in response) + b"]"
        log.error("Method result is not JSON-serialisable; answering 'method handler crashed'")
        return encode(error_response(request_id(response), HandlerCrashed()))
