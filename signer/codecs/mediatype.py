"""Go's ``mime.ParseMediaType`` (RFC 2045), error texts included.

clef parses the content type of account_signData with it.
"""

from __future__ import annotations

from signer.errors import InvalidRequestData

_TSPECIALS = set('()<>@,;:\\"/[]?=')


class MediaTypeError(InvalidRequestData):
    pass


def _is_token_char(ch: str) -> bool:
    return 0x20 < ord(ch) < 0x7F and ch not in _TSPECIALS


def _consume_token(text: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and _is_token_char(text[end]):
        end += 1
    return text[:end], text[end:]


def _consume_value(text: str) -> tuple[str, str]:
    if not text.startswith('"'):
        return _consume_token(text)
    out: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), text[i + 1 :]
        if ch == "\\" and i + 1 < len(text):
            i += 1
            ch = text[i]
        elif ch in "\r\n":
            return "", text
        out.append(ch)
        i += 1
    return "", text


def _consume_param(text: str) -> tuple[str, str, str]:
    rest = text.lstrip()
    if not rest.startswith(";"):
        return "", "", text
    rest = rest[1:].lstrip()
    name, rest = _consume_token(rest)
    if not name:
        return "", "", text
    rest = rest.lstrip()
    if not rest.startswith("="):
        return "", "", text
    rest = rest[1:].lstrip()
    value, after = _consume_value(rest)
    if value == "" and after == rest:
        return "", "", text
    return name.lower(), value, after


def _check_media_type(media_type: str) -> None:
    main, rest = _consume_token(media_type)
    if not main:
        raise MediaTypeError("mime: no media type")
    if not rest:
        return
    if not rest.startswith("/"):
        raise MediaTypeError("mime: expected slash after first token")
    sub, rest = _consume_token(rest[1:])
    if not sub:
        raise MediaTypeError("mime: expected token after slash")
    if rest:
        raise MediaTypeError("mime: unexpected content after media subtype")


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """Return (lower-cased media type, parameters) or raise with Go's message."""
    base = value.split(";", 1)[0]
    media_type = base.lower().strip()
    _check_media_type(media_type)
    params: dict[str, str] = {}
    rest = value[len(base) :]
    while rest:
        rest = rest.lstrip()
        if not rest:
            break
        name, param_value, after = _consume_param(rest)
        if not name:
            if rest.strip() == ";":
                break  # Go ignores a trailing semicolon
            raise MediaTypeError("mime: invalid media parameter")
        if name in params:
            raise MediaTypeError("mime: duplicate parameter name")
        params[name] = param_value
        rest = after
    return media_type, params
