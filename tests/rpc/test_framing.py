"""The stream decoder: where values end, size limits, and refusing input after bad JSON."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from signer.errors import LimitExceeded, ParseError
from signer.rpc.framing import StreamDecoder, decode_value


def feed_all(decoder: StreamDecoder, *chunks: bytes) -> list[Any]:
    values: list[Any] = []
    for chunk in chunks:
        values.extend(decoder.feed(chunk))
    return values


def test_newline_delimited_and_concatenated_values() -> None:
    decoder = StreamDecoder()
    assert feed_all(decoder, b'{"a":1}\n{"b":2}\n') == [{"a": 1}, {"b": 2}]
    assert feed_all(decoder, b'{"c":3}[4]"five"{"d":[]}') == [{"c": 3}, [4], "five", {"d": []}]
    assert decoder.pending == 0


def test_value_split_into_single_bytes() -> None:
    text = '{"s":"br}]ack\\"ets\\\\","n":[1,{"x":"{"}],"u":"\\u00e9"}'
    decoder = StreamDecoder()
    values = feed_all(decoder, *(bytes([b]) for b in text.encode()))
    assert values == [json.loads(text)]


def test_escape_at_chunk_boundary() -> None:
    decoder = StreamDecoder()
    assert feed_all(decoder, b'["a\\', b'"]"]') == [['a"]']]


def test_top_level_scalars_end_at_a_delimiter() -> None:
    decoder = StreamDecoder()
    assert feed_all(decoder, b"12") == []  # could still be 123
    assert feed_all(decoder, b"3 true{}") == [123, True, {}]


def test_incomplete_value_over_the_limit_fails() -> None:
    decoder = StreamDecoder(max_size=100)
    assert feed_all(decoder, b'{"a":"' + b"x" * 90) == []
    with pytest.raises(ParseError, match="message too large"):
        feed_all(decoder, b"x" * 20)
    with pytest.raises(ParseError):
        feed_all(decoder, b"{}")  # the stream stays closed


def test_complete_value_over_the_limit_fails_but_whitespace_does_not_count() -> None:
    decoder = StreamDecoder(max_size=20)
    assert feed_all(decoder, b" " * 1000 + b'{"a":1}' + b"\n" * 1000) == [{"a": 1}]
    with pytest.raises(ParseError, match="message too large"):
        feed_all(decoder, b'{"a":"' + b"y" * 30 + b'"}')


def test_values_before_bad_json_are_delivered_first() -> None:
    decoder = StreamDecoder()
    seen: list[Any] = []
    with pytest.raises(ParseError, match=r"^invalid character '}' looking for beginning of value$"):
        for value in decoder.feed(b'{"ok":1}\n{"bad":}\n{"never":1}'):
            seen.append(value)
    assert seen == [{"ok": 1}]
    with pytest.raises(ParseError):
        feed_all(decoder, b"{}")


@pytest.mark.parametrize(
    ("bad", "message"),
    [  # Go's encoding/json texts, as clef answers (checked against the real clef in tests/differential)
        (b"{]", "invalid character ']' looking for beginning of object key string"),
        (b"}}}} ", "invalid character '}' looking for beginning of value"),
        (b"[NaN]", "invalid character 'N' looking for beginning of value"),
        (b"[Infinity]", "invalid character 'I' looking for beginning of value"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b"}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b'["\\q"]', "invalid character 'q' in string escape code"),
        (b'["\\u12g4"]', "invalid character 'g' in \\u hexadecimal character escape"),
        (b'["a\tb"]', "invalid character '\\t' in string literal"),
        (b"[-]", "invalid character ']' in numeric literal"),
        (b"[1.]", "invalid character ']' after decimal point in numeric literal"),
        (b"[1e]", "invalid character ']' in exponent of numeric literal"),
        (b"[tru]", "invalid character ']' in literal true (expecting 'e')"),
        (b"[nul1]", "invalid character '1' in literal null (expecting 'l')"),
        (b"['a']", "invalid character '\\'' looking for beginning of value"),
        (b"[\xc3\xa9]", "invalid character '\xc3' looking for beginning of value"),
        (b"[" * 60_000 + b"]" * 60_000, "exceeded max depth"),  # under the values limit
        (b"[1" + b"0" * 5000 + b"]", "invalid JSON"),  # Python's int limit; Go would read it
    ],
)
def test_invalid_json_is_a_parse_error_in_gos_words(bad: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        feed_all(StreamDecoder(), bad)
    with pytest.raises(ParseError, match=re.escape(message)):
        decode_value(bad)


def test_bytes_that_are_not_utf8_become_replacement_characters_as_in_go() -> None:
    assert decode_value(b'["a\xff\xfeb", "\xc3\xa9"]') == ["a\ufffd\ufffdb", "\u00e9"]


def test_large_value_in_small_chunks_is_linear() -> None:
    body = json.dumps({"data": ["0x" + "ab" * 500] * 4000}).encode()  # ~4 MB
    decoder = StreamDecoder()
    start = time.monotonic()
    values = feed_all(decoder, *(body[i : i + 4096] for i in range(0, len(body), 4096)))
    assert len(values) == 1 and len(values[0]["data"]) == 4000
    assert time.monotonic() - start < 5  # re-parsing from the start each time would take minutes


def test_a_message_with_too_many_values_is_refused_before_decoding_and_the_stream_goes_on() -> None:
    decoder = StreamDecoder(max_values=1000)
    many = b"[" + b",".join([b"{}"] * 2000) + b"]"
    values = feed_all(decoder, many + b'\n{"a":1}\n')
    assert isinstance(values[0], LimitExceeded) and "limit 1000" in str(values[0])
    assert values[1] == {"a": 1}
    assert decoder.last_size == len(b'{"a":1}')
    with pytest.raises(LimitExceeded):
        decode_value(many, max_values=1000)
    assert decode_value(many) == [{}] * 2000  # no limit asked for
