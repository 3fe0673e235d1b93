"""Content types are parsed like Go's mime.ParseMediaType, error texts included."""

from __future__ import annotations

import pytest

from signer.codecs.mediatype import MediaTypeError, parse_media_type


@pytest.mark.parametrize(
    ("value", "media_type", "params"),
    [
        ("text/plain", "text/plain", {}),
        (" Text/Plain ; charset=utf-8", "text/plain", {"charset": "utf-8"}),
        ("application/x-clique-header", "application/x-clique-header", {}),
        ("foo", "foo", {}),  # a bare token is accepted by Go
        ('data/typed; a="quoted \\"x\\""', "data/typed", {"a": 'quoted "x"'}),
        ("text/plain;", "text/plain", {}),  # trailing semicolon ignored
    ],
)
def test_accepted(value: str, media_type: str, params: dict[str, str]) -> None:
    assert parse_media_type(value) == (media_type, params)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "mime: no media type"),
        ("/plain", "mime: no media type"),
        ("text plain", "mime: expected slash after first token"),
        ("text/", "mime: expected token after slash"),
        ("text/plain/x", "mime: unexpected content after media subtype"),
        ("text/plain; =x", "mime: invalid media parameter"),
        ("text/plain; a=1; a=2", "mime: duplicate parameter name"),
    ],
)
def test_refused_with_go_messages(value: str, message: str) -> None:
    with pytest.raises(MediaTypeError) as info:
        parse_media_type(value)
    assert str(info.value) == message
