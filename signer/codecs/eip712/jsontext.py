"""Typed data from JSON *text* (account_signData's data/typed payload) with Go's encoding/json
rules that Python's parser does not share: invalid UTF-8 becomes U+FFFD, NaN and Infinity are not
JSON, a repeated key is decided by document order, numbers beyond float64 are errors, and syntax
errors use Go's wording. Deep nesting ends in a clear error, never a RecursionError.
"""

from __future__ import annotations

import json
import math
from typing import Any

from signer.codecs.eip712.decode import MAX_DEPTH, TypedData, decode_typed_data
from signer.codecs.eip712.primitives import TypedDataError
from signer.codecs.gomarshal import go_text
from signer.codecs.goscan import syntax_error


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key moves to the end, so document order decides between case variants as in Go.
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.pop(key, None)
        out[key] = value
    return out


def _number(text: str) -> Any:
    """JSON numbers keep their exact text's value until normalised; absurd ones stop here."""
    value = float(text) if any(c in text for c in ".eE") else int(text) if len(text) <= 400 else math.inf
    if isinstance(value, float) and not math.isfinite(value):
        raise TypedDataError(f"json: cannot unmarshal number {text[:40]} into Go value of type float64")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def loads_typed_data(raw: bytes) -> TypedData:
    """A TypedData from JSON text (the data/typed payload of account_signData)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = go_text(raw)  # Go replaces each invalid byte with U+FFFD
    try:
        obj = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_constant=_no_constants,
            parse_int=_number,
            parse_float=_number,
        )
    except RecursionError:
        raise TypedDataError(f"typed data is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError:
        raise TypedDataError(syntax_error(raw)) from None
    except ValueError as exc:  # NaN or Infinity, which Go's decoder does not know
        raise TypedDataError(str(exc)) from None
    return decode_typed_data(obj)
