"""JSON-RPC 2.0 message shapes: which ids are valid, building responses, encoding them compactly."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from signer.errors import HandlerCrashed, error_object

log = logging.getLogger("sealward.rpc")

Response = dict[str, Any]


def valid_id(value: Any) -> bool:
    """geth accepts any id except an object or array; a bool is a literal, not a number."""
    if isinstance(value, float):
        return math.isfinite(value)  # 1e400 decodes to inf, which cannot be sent back
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def is_notification(request: Any) -> bool:
    return isinstance(request, dict) and "id" not in request


def request_id(request: Any) -> Any:
    """The id to answer ``request`` with: its own when valid, else null."""
    value = request.get("id") if isinstance(request, dict) else None
    return value if valid_id(value) else None


def result_response(rid: Any, result: Any) -> Response:
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def error_response(rid: Any, exc: BaseException) -> Response:
    return {"jsonrpc": "2.0", "id": rid, "error": error_object(exc)}


def encode(response: Any) -> bytes:
    """Compact JSON for a response or batch; a result that cannot be encoded becomes a crash error."""
    try:
        return json.dumps(response, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError):
        if isinstance(response, list):
            return b"[" + b",".join(encode(item) for item in response) + b"]"
        log.error("Method result is not JSON-serialisable; answering 'method handler crashed'")
        return encode(error_response(request_id(response), HandlerCrashed()))
