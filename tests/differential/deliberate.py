"""The deliberate differences between clef and sealward, each recognised from what both did.

Every entry is documented in docs/clef-differences.md (the ``anchor``) and pinned by a test in
test_deliberate.py. The corpus and the generated documents may differ from clef only in ways
one of these recognises; anything else is a bug in sealward.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.differential.harness import Exchange

CRASH = (-32603, "method handler crashed")
_CLIQUE_FIELDS = re.compile(r"^clique header has \d+ RLP fields; only pre-Shanghai clique headers")
# The errors of clef's Format (the display), which runs before hashing and fails on arrays.
_FORMAT_ERRORS = re.compile(
    r"^(unhandled type |invalid size on integer: |could not format value |invalid integer value |"
    r"invalid float value |integer larger than |invalid negative value |invalid hex or decimal integer )"
)


def request_of(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def ui_requests(ex: Exchange, method: str) -> list[dict[str, Any]]:
    found = []
    for line in ex.ui:
        message = json.loads(line)
        if message.get("method") == method:
            found.append(message["params"][0])
    return found


def _typed_document(request: dict[str, Any]) -> Any:
    params = request.get("params") or []
    if request.get("method") == "account_signTypedData" and len(params) == 2:
        return params[1]
    return None


def _has_array_field(document: Any) -> bool:
    types = document.get("types") if isinstance(document, dict) else None
    if not isinstance(types, dict):
        return False
    return any(
        isinstance(field, dict) and str(field.get("type", "")).endswith("]")
        for fields in types.values()
        if isinstance(fields, list)
        for field in fields
    )


def _same_except_call_info(clef: Exchange, sealward: Exchange) -> bool:
    """Identical but for sealward's clique warnings in call_info, where clef sends null."""
    if clef.reply != sealward.reply or len(clef.ui) != len(sealward.ui):
        return False
    warned = False
    for ours, theirs in zip(sealward.ui, clef.ui, strict=True):
        if ours == theirs:
            continue
        mine, reference = json.loads(ours), json.loads(theirs)
        info = mine.get("params", [{}])[0].get("call_info")
        if not info or any(not m["message"].startswith("clique header: ") for m in info):
            return False
        mine["params"][0]["call_info"] = None
        if mine != reference:
            return False
        warned = True
    return warned


@dataclass(frozen=True)
class Deliberate:
    anchor: str  # the section of docs/clef-differences.md
    title: str
    matches: Callable[[dict[str, Any], Exchange, Exchange], bool]


def _clique_fields(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    error = sealward.error()
    return clef.error() == CRASH and error is not None and bool(_CLIQUE_FIELDS.match(error[1]))


def _clique_width(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    error = sealward.error()
    return error is not None and "integer wider than 256 bits" in error[1] and clef.error() is None


def _clique_warnings(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    params = request.get("params") or []
    return (
        bool(params) and params[0] == "application/x-clique-header" and _same_except_call_info(clef, sealward)
    )


def _typed_arrays(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    """clef's display fails on arrays (or skips elements) where sealward shows every element;
    either display can then be the first to refuse a value, or both sign the same hash."""
    if not _has_array_field(_typed_document(request)):
        return False
    errors = [e for e in (clef.error(), sealward.error()) if e is not None]
    if errors:
        return clef.error() != sealward.error() and any(_FORMAT_ERRORS.match(e[1]) for e in errors)
    return clef.reply == sealward.reply  # the same signature; only the display of the array differs


def _typed_recursion(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    error = clef.error()
    return error is not None and error[1].endswith("cannot reference itself") and sealward.error() != error


_VALIDATION_ERRORS = re.compile(
    r'^(reference type ".*" is undefined|unknown reference type ".*"|type ".*":\d+: empty (Type|Name)|'
    r'type ".*" cannot reference itself|empty type key)$'
)


def _typed_error_order(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    """Several invalid types: clef reports whichever Go's random map order meets first."""
    errors = (clef.error(), sealward.error())
    return all(e is not None and _VALIDATION_ERRORS.match(e[1]) for e in errors) and errors[0] != errors[1]


def _typed_crash(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    """clef panics on a null array element; sealward names the element it cannot encode."""
    error = sealward.error()
    typed = request.get("method") == "account_signTypedData"
    return typed and clef.error() == CRASH and error is not None and error[0] == -32000


def _authorization_list(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    params = request.get("params") or []
    if request.get("method") != "account_signTransaction" or not params or not isinstance(params[0], dict):
        return False
    if "authorizationList" not in params[0]:
        return False
    result = json.loads(clef.reply or b"{}").get("result") or {}
    return str(result.get("raw", "")).startswith("0x02")  # clef dropped the list and signed type 2


def _selector_crash(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    error = sealward.error()
    return clef.error() == CRASH and error is not None and error[0] == -32000 and "selector" in error[1]


def _gnosis_hash(request: dict[str, Any], clef: Exchange, sealward: Exchange) -> bool:
    error = sealward.error()
    return (
        request.get("method") == "account_signGnosisSafeTx"
        and clef.error() is None
        and error is not None
        and error[1].startswith("mismatched safeTxHash")
    )


DELIBERATE = [
    Deliberate("clique-headers-with-more-than-16-fields", "clique header with 17+ fields: an error, not a crash",
               _clique_fields),
    Deliberate("clique-integers-wider-than-256-bits", "clique header integers wider than 256 bits are refused",
               _clique_width),
    Deliberate("clique-warnings", "clique headers that break clique's rules are signed with warnings",
               _clique_warnings),
    Deliberate("eip-712-arrays", "EIP-712 arrays are shown element by element and can be signed", _typed_arrays),
    Deliberate("eip-712-recursive-types", "EIP-712 types may reference themselves", _typed_recursion),
    Deliberate("eip-712-error-order", "of several invalid types, the first in document order is reported",
               _typed_error_order),
    Deliberate("eip-712-null-array-elements", "a null EIP-712 array element is an error, not a crash",
               _typed_crash),
    Deliberate("eip-7702-authorization-lists", "an authorization list is signed, not dropped",
               _authorization_list),
    Deliberate("method-selectors-clef-crashes-on", "a selector clef crashes on is refused with its parse error",
               _selector_crash),
    Deliberate("gnosis-safe-hash-mismatch", "a Safe transaction whose safeTxHash does not match is refused",
               _gnosis_hash),
]  # fmt: skip


def explain(raw: bytes, clef: Exchange, sealward: Exchange) -> Deliberate | None:
    """The deliberate difference behind two different answers, or None (a bug)."""
    request = request_of(raw)
    for entry in DELIBERATE:
        if entry.matches(request, clef, sealward):
            return entry
    return None


def identical(clef: Exchange, sealward: Exchange) -> bool:
    return (
        clef.fate == sealward.fate
        and clef.http == sealward.http
        and clef.reply == sealward.reply
        and clef.ui == sealward.ui
    )
