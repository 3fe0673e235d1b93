"""EIP-712 typed data as clef reads, hashes and displays it (clef-compat §2.6).

``loads_typed_data``/``decode_typed_data`` build a :class:`TypedData` with Go's decoding rules,
``typed_data_hash`` validates and hashes it, ``format_typed_data`` builds the UI's messages list.
"""

from signer.codecs.eip712.decode import (
    MAX_DEPTH,
    MAX_MEMBERS,
    MAX_VALUES,
    Domain,
    Field,
    TypedData,
    decode_typed_data,
)
from signer.codecs.eip712.display import format_typed_data
from signer.codecs.eip712.gofmt import ChainId
from signer.codecs.eip712.hashing import Encoder, TypedDataHash, typed_data_hash, validate
from signer.codecs.eip712.jsontext import loads_typed_data
from signer.codecs.eip712.primitives import TypedDataError, encode_primitive, parse_integer

__all__ = [
    "MAX_DEPTH",
    "MAX_MEMBERS",
    "MAX_VALUES",
    "ChainId",
    "Domain",
    "Encoder",
    "Field",
    "TypedData",
    "TypedDataError",
    "TypedDataHash",
    "decode_typed_data",
    "encode_primitive",
    "format_typed_data",
    "loads_typed_data",
    "parse_integer",
    "typed_data_hash",
    "validate",
]
