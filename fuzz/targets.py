"""Fuzz targets: every decoder that takes bytes from outside the signer.

Each target takes one fuzzer input and drives a decoder the way the signer does. The contract
under test: any input either decodes or raises one of the errors the decoder declares (the
signer's ``SignerError`` family, which the RPC layer answers as a clear JSON-RPC error, or a
validation module's own error). Any other exception, a hang or a crash is a finding: in the
running signer it would be answered "method handler crashed" and logged as a bug.

Targets are plain functions so the regression tests (tests/fuzz/) can replay every input the
fuzzer ever found with the same code: ``TARGETS[name](data)``.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

from backends.base import BackendError, Signature
from backends.ledger.transactions import ledgereth_transaction
from signer.clique.header import clique_findings, clique_signing_material, decode_header, seal_hash
from signer.codecs import gojson
from signer.codecs.blobs import check_sidecar
from signer.codecs.eip712.display import format_typed_data
from signer.codecs.eip712.hashing import typed_data_hash
from signer.codecs.eip712.jsontext import loads_typed_data
from signer.codecs.gnosis import GnosisSafeTx, checked_typed_data
from signer.codecs.hexutil import MixedcaseAddress, decode_address, decode_bytes, decode_quantity
from signer.codecs.mediatype import parse_media_type
from signer.codecs.sendtx import SendTxArgs
from signer.codecs.signdata import plan_sign_data
from signer.codecs.transactions import assemble, prepare_transaction
from signer.codecs.typed_request import plan_typed_data
from signer.errors import SignerError
from signer.rpc.dispatch import Dispatcher
from signer.rpc.envelope import encode
from signer.rpc.framing import StreamDecoder, decode_value
from signer.rpc.httpbody import MalformedChunks, read_chunked
from signer.rpc.httpchecks import CorsPolicy, accepts_gzip, content_length, content_type_ok, host_allowed
from signer.types import Metadata
from signer.validation.abidecode import AbiDecodeError
from signer.validation.calldata import CallDataError, verify_selector
from signer.validation.selector import SelectorError

# What a decoder may raise for bad input; anything else is a bug.
DECLARED: tuple[type[BaseException], ...] = (SignerError, BackendError)
ADDRESS = MixedcaseAddress.parse("0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6")
META = Metadata(scheme="ipc")


def _json(data: bytes) -> Any:
    """The input as the JSON value a request parameter would hold, or a marker to skip it."""
    try:
        return decode_value(data)
    except SignerError:
        return _SKIP


_SKIP = object()


def _split(data: bytes) -> tuple[bytes, bytes]:
    """Two inputs from one: the first byte says where to cut."""
    if not data:
        return b"", b""
    cut = data[0] % (len(data))
    return data[1 : 1 + cut], data[1 + cut :]


def _declared(*extra: type[BaseException]) -> Callable[[Callable[[bytes], None]], Callable[[bytes], None]]:
    def wrap(target: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def run(data: bytes) -> None:
            try:
                target(data)
            except (*DECLARED, *extra):
                pass

        run.__name__ = run.__qualname__ = target.__name__
        run.__doc__ = target.__doc__
        return run

    return wrap


_DISPATCHER = Dispatcher()
_DISPATCHER.add("account_version", lambda meta: "6.0.0")
_DISPATCHER.add("account_signData", lambda meta, a, b, c: [a, b, c], required=3)
_DISPATCHER.add("account_signTransaction", lambda meta, a, b: a, required=1, optional=1)


@_declared()
def framing(data: bytes) -> None:
    """The IPC stream: values split across reads at fuzzer-chosen points, then the envelope."""
    decoder = StreamDecoder(max_size=64 * 1024)
    step = 1 + (data[0] % 64) if data else 1
    for start in range(0, len(data), step):
        for message in decoder.feed(data[start : start + step]):
            answer = _DISPATCHER.handle(message, META)
            if answer is not None:
                encoded = encode(answer)
                assert json.loads(encoded) is not None


@_declared()
def http_body(data: bytes) -> None:
    """One HTTP body: decode, dispatch, encode; the answer is always valid JSON (or nothing)."""
    answer = _DISPATCHER.handle_bytes(data, META)
    if answer:
        json.loads(answer)


@_declared()
def hex_and_address(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    for decode in (decode_bytes, decode_quantity, decode_address, MixedcaseAddress.parse):
        with contextlib.suppress(SignerError):
            decode(text)
    decode_quantity(text, bits=64)
    gojson.fixed_bytes(text, "f", 32, "common.Hash")


@_declared()
def media_type(data: bytes) -> None:

    parse_media_type(data.decode("utf-8", "surrogateescape"))


@_declared()
def clique_header(data: bytes) -> None:

    header = decode_header(data)
    seal_hash(header)
    clique_findings(header)
    clique_signing_material(data)


@_declared()
def sign_data(data: bytes) -> None:
    """account_signData for each content type geth and clef know, on fuzzer data."""

    kinds = ("text/plain", "text/validator", "application/x-clique-header", "data/typed", "text/x")
    kind = kinds[data[0] % len(kinds)] if data else kinds[0]
    plan_sign_data(kind, ADDRESS, "0x" + data[1:].hex(), META)


@_declared()
def transaction(data: bytes) -> None:
    """SendTxArgs from JSON, then everything the signer does with it up to the signed JSON."""

    value = _json(data)
    if value is _SKIP:
        return
    args = SendTxArgs.from_json(value)
    if args.blobs:
        return  # the blobs target covers sidecars; KZG on every input would starve the rest
    payload = prepare_transaction(args, 1)
    with contextlib.suppress(BackendError):
        assemble(payload, Signature(y_parity=0, r=1, s=1))


@_declared()
def blobs(data: bytes) -> None:

    value = _json(data)
    if value is _SKIP:
        return
    check_sidecar(SendTxArgs.from_json(value))


@_declared()
def eip712_text(data: bytes) -> None:
    """The data/typed payload of account_signData: JSON text, decoded, hashed and displayed."""

    td = loads_typed_data(data)
    typed_data_hash(td)
    format_typed_data(td)


@_declared()
def eip712_json(data: bytes) -> None:
    """account_signTypedData's parameter, already JSON."""

    value = _json(data)
    if value is not _SKIP:
        plan_typed_data(ADDRESS, value, META)


@_declared(AbiDecodeError, CallDataError, SelectorError)
def abi_calldata(data: bytes) -> None:
    """4-byte decoding: a selector text from the database or a caller, and calldata."""

    selector, calldata = _split(data)
    verify_selector(selector.decode("utf-8", "surrogateescape"), calldata)


@_declared()
def gnosis_safe(data: bytes) -> None:

    value = _json(data)
    if value is _SKIP:
        return
    tx = GnosisSafeTx.from_json(value)
    tx.to_json()
    tx.validation_args()
    typed_data_hash(tx.to_typed_data())
    checked_typed_data(tx, 1)


@_declared()
def ledger_raw_transaction(data: bytes) -> None:
    """A transaction pre-image as the Ledger backend re-reads it (RLP of types 0-2)."""
    ledgereth_transaction(data)


@_declared()
def http_headers(data: bytes) -> None:

    text = data.decode("latin-1")  # how http.server hands header values over
    host_allowed(text, ["localhost", "*.example"])
    content_length(text)
    content_type_ok(text)
    accepts_gzip(text)
    CorsPolicy(["https://a.example"]).preflight("https://a.example", "POST", text)


@_declared(MalformedChunks)
def http_chunked(data: bytes) -> None:
    """A chunked request body as the HTTP server reads it: never more than the limit, and a body
    read to its end only when the framing said it ended."""
    limit = 1 + (data[0] % 256) if data else 1
    body = read_chunked(io.BufferedReader(io.BytesIO(data[1:])), limit)
    assert len(body.data) <= limit
    assert body.state in ("complete", "cut", "short")


def _load_kzg_setup() -> None:
    from signer.codecs.blobs import kzg_setup

    kzg_setup()


# Work a target does once per process, done before fuzzing so that it is not taken for a hang: the
# KZG trusted setup takes 2-4 s to load on first use (two "timeouts" of the first campaign).
WARM_UP: dict[str, Callable[[], None]] = {"blobs": _load_kzg_setup}

TARGETS: dict[str, Callable[[bytes], None]] = {
    t.__name__: t
    for t in (
        framing,
        http_body,
        http_chunked,
        hex_and_address,
        media_type,
        clique_header,
        sign_data,
        transaction,
        blobs,
        eip712_text,
        eip712_json,
        abi_calldata,
        gnosis_safe,
        ledger_raw_transaction,
        http_headers,
    )
}
