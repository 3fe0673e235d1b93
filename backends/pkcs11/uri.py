"""RFC 7512 PKCS#11 URIs: ``pkcs11:token=LABEL;object=NAME;id=%01%02``.

Only the path attributes an account needs are interpreted (token, object, id, type); others
(manufacturer, serial, model, library-*) are kept so a URI round-trips. Query attributes are
rejected outright: ``pin-value`` would put a PIN in a URL, which ends up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

SCHEME = "pkcs11:"
# RFC 7512 §2.3 p11-pchar: unreserved / pct-encoded / ":" / "[" / "]" / "@" / "!" / "$" / "'" /
# "(" / ")" / "*" / "+" / "," / "=" / "&". So ";", "/", "?", "%" and spaces must be encoded.
_SAFE = ":[]@!$'()*+,=&"
_ORDER = ("token", "manufacturer", "serial", "model", "object", "type", "id")


class Pkcs11UriError(ValueError):
    """The text is not a PKCS#11 URI we can use."""


@dataclass(frozen=True)
class Pkcs11Uri:
    token: str | None = None
    object: str | None = None
    id: bytes | None = None
    type: str | None = None
    other: tuple[tuple[str, str], ...] = field(default=())

    def __str__(self) -> str:
        return build(self)


def _encode_text(value: str) -> str:
    return quote(value.encode("utf-8"), safe=_SAFE)


def build(uri: Pkcs11Uri) -> str:
    """Render ``uri``; ``id`` is always fully percent-encoded (it is binary, RFC 7512 §2.3)."""
    parts: dict[str, str] = {}
    if uri.token is not None:
        parts["token"] = _encode_text(uri.token)
    if uri.object is not None:
        parts["object"] = _encode_text(uri.object)
    if uri.type is not None:
        parts["type"] = _encode_text(uri.type)
    if uri.id is not None:
        parts["id"] = "".join(f"%{b:02X}" for b in uri.id)
    for name, value in uri.other:
        parts[name] = _encode_text(value)
    ordered = sorted(parts, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    return SCHEME + ";".join(f"{name}={parts[name]}" for name in ordered)


def account_uri(token: str, object_label: str | None, key_id: bytes | None) -> str:
    return build(Pkcs11Uri(token=token, object=object_label, id=key_id))


def vault_key(token: str) -> str:
    """Where the vault keeps a token's PIN (``sealward setpw pkcs11:token=LABEL``)."""
    return build(Pkcs11Uri(token=token))


def parse(text: str) -> Pkcs11Uri:
    if not text.startswith(SCHEME):
        raise Pkcs11UriError("not a PKCS#11 URI (it must start with 'pkcs11:')")
    body = text[len(SCHEME) :]
    if "?" in body:
        raise Pkcs11UriError("PKCS#11 URI query attributes (such as pin-value) are not accepted")
    values: dict[str, bytes] = {}
    for attr in filter(None, body.split(";")):
        name, sep, raw = attr.partition("=")
        if not sep or not name:
            raise Pkcs11UriError(f"malformed PKCS#11 URI attribute {name!r}")
        if name in values:
            raise Pkcs11UriError(f"PKCS#11 URI attribute {name!r} appears twice")
        values[name] = unquote_to_bytes(raw)

    def text_of(name: str) -> str | None:
        value = values.pop(name, None)
        if value is None:
            return None
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Pkcs11UriError(f"PKCS#11 URI attribute {name!r} is not UTF-8") from exc

    key_id = values.pop("id", None)
    token, obj, typ = text_of("token"), text_of("object"), text_of("type")
    other = tuple((name, text_of(name) or "") for name in sorted(values))
    return Pkcs11Uri(token=token, object=obj, id=key_id, type=typ, other=other)
