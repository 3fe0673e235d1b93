"""The HTTP request checks geth's handler chain applies before JSON-RPC (clef-compat §1.3.2).

Pure functions of header values, so the server module only sequences them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

ACCEPTED_CONTENT_TYPES = frozenset({"application/json", "application/json-rpc", "application/jsonrequest"})
CORS_METHODS = ("POST", "GET")
CORS_MAX_AGE = "600"

# Header names a preflight may ask for; anything else is not echoed back (no header injection).
_HEADER_LIST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~, -]*")  # fullmatch: "$" accepts a final newline


def _strip_port(host: str) -> str:
    """Go's SplitHostPort, falling back to the whole value when it has no port."""
    if host.startswith("["):
        end = host.find("]")
        if end != -1 and (host[end + 1 :] == "" or host[end + 1 :].startswith(":")):
            return host[1:end]
        return host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def host_allowed(host_header: str, vhosts: Iterable[str]) -> bool:
    """The virtual-host check that stops DNS-rebinding pages from reaching a local endpoint."""
    if not host_header:
        return True
    host = _strip_port(host_header).lower()
    try:
        ipaddress.ip_address(host)
        return True  # an IP literal cannot be a rebinding attack on a name
    except ValueError:
        pass
    allowed = {v.strip().lower() for v in vhosts}
    return "*" in allowed or host in allowed


def content_length(header: str | None) -> int | None:
    """``Content-Length`` as Go reads it: ASCII digits only, absent = 0; None when invalid.

    Python's ``int`` would also take "+5", "1_0", " 5 " and non-ASCII digits such as "\u0665".
    """
    if header is None:
        return 0
    if not header or not header.isascii() or not header.isdigit():
        return None
    return int(header)


def content_type_ok(header: str | None) -> bool:
    """The media type (parameters such as charset ignored) is one geth accepts."""
    return (header or "").split(";", 1)[0].strip().lower() in ACCEPTED_CONTENT_TYPES


def accepts_gzip(header: str | None) -> bool:
    """True when ``Accept-Encoding`` lists gzip without ``q=0``."""
    for part in (header or "").split(","):
        coding, *params = part.split(";")
        if coding.strip().lower() != "gzip":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


class CorsPolicy:
    """An allow-list of exact origins (or ``*``). Empty means CORS is off, which is clef's case."""

    def __init__(self, origins: Iterable[str]) -> None:
        self._origins = {o.strip().lower() for o in origins if o.strip()}

    @property
    def enabled(self) -> bool:
        return bool(self._origins)

    def _allow_origin(self, origin: str) -> str | None:
        if "*" in self._origins:
            return "*"
        return origin if origin.lower() in self._origins else None

    def actual(self, origin: str) -> list[tuple[str, str]]:
        """Headers for a normal request carrying ``Origin``."""
        headers = [("Vary", "Origin")]
        allowed = self._allow_origin(origin)
        if allowed is not None:
            headers.append(("Access-Control-Allow-Origin", allowed))
        return headers

    def preflight(self, origin: str, method: str, request_headers: str) -> list[tuple[str, str]]:
        """Headers for an OPTIONS preflight; only ``Vary`` when the origin or method is refused."""
        headers = [("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
        allowed = self._allow_origin(origin)
        if allowed is None or method.strip().upper() not in CORS_METHODS:
            return headers
        headers += [
            ("Access-Control-Allow-Origin", allowed),
            ("Access-Control-Allow-Methods", ", ".join(CORS_METHODS)),
            ("Access-Control-Max-Age", CORS_MAX_AGE),
        ]
        if request_headers and _HEADER_LIST.fullmatch(request_headers):
            headers.append(("Access-Control-Allow-Headers", request_headers))
        return headers
