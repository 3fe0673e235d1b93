"""Checking calldata against a method selector (geth's ``verifySelector``, §6.3).

Parse the selector, check the calldata's shape and 4-byte id, decode the arguments strictly,
then re-encode them with eth-abi and demand the same bytes: decoding alone would let a caller
hide extra data behind a call the UI displays as harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import EncodingError

from signer.codecs.goquote import go_quote
from signer.codecs.hexutil import keccak256
from signer.validation.abidecode import AbiDecodeError, Value, decode_args, eth_abi_type, render
from signer.validation.selector import AbiType, ParsedSelector, SelectorError, method_types, parse_selector


class CallDataError(Exception):
    """Calldata that does not match the selector; the message is geth's."""


@dataclass(frozen=True)
class DecodedCall:
    name: str
    signature: str
    types: tuple[AbiType, ...]
    values: tuple[Value, ...]

    def __str__(self) -> str:
        """``transfer(address: 0xAbC…,uint256: 5)``, as clef shows it to the UI."""
        args = ",".join(f"{t}: {render(t, v)}" for t, v in zip(self.types, self.values, strict=True))
        return f"{self.name}({args})"

    def describe(self) -> str:
        return f"Transaction invokes the following method: {go_quote(str(self))}"


def selector_id(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def _method_string(parsed: ParsedSelector, types: tuple[AbiType, ...]) -> str:
    inputs = ", ".join(f"{t} {arg.name}" for t, arg in zip(types, parsed.args, strict=True))
    return f"function {parsed.name}({inputs}) returns()"


def verify_selector(selector: str, calldata: bytes) -> DecodedCall:
    """Decode ``calldata`` as a call of ``selector`` or raise CallDataError with geth's text."""
    try:
        parsed = parse_selector(selector)
    except SelectorError as exc:
        raise CallDataError(f"failed to parse selector: {exc}") from None
    if len(calldata) < 4:
        raise CallDataError(f"invalid call data, incomplete method signature ({len(calldata)} bytes < 4)")
    argdata = calldata[4:]
    if len(argdata) % 32:
        raise CallDataError(
            f"invalid call data; length should be a multiple of 32 bytes (was {len(argdata)})"
        )
    try:
        types = method_types(parsed)
    except SelectorError as exc:
        raise CallDataError(f"invalid method signature ({go_quote(parsed.abi_json())}): {exc}") from None
    signature = f"{parsed.name}({','.join(str(t) for t in types)})"
    if calldata[:4] != selector_id(signature):
        raise CallDataError(f"no method with id: 0x{calldata[:4].hex()}")
    try:
        values = decode_args(types, argdata)
    except AbiDecodeError as exc:
        method = go_quote(_method_string(parsed, types))
        raise CallDataError(f"signature {method} matches, but arguments mismatch: {exc}") from None
    try:
        encoded = abi_encode(
            [eth_abi_type(t) for t in types], [_for_eth_abi(t, v) for t, v in zip(types, values, strict=True)]
        )
    except EncodingError as exc:  # cannot happen for values we decoded; refuse rather than crash
        raise CallDataError(f"re-encoding failed: {exc}") from None
    if encoded != argdata:
        raise CallDataError(
            f"WARNING: Supplied data is stuffed with extra data. \nWant {argdata.hex()}\nHave {encoded.hex()}"
            f"\nfor method {signature}"
        )
    return DecodedCall(parsed.name, signature, types, tuple(values))


def _for_eth_abi(t: AbiType, value: Value) -> object:
    if t.kind == "tuple":
        assert isinstance(value, tuple)
        return tuple(_for_eth_abi(c, v) for c, v in zip(t.components, value, strict=True))
    if t.kind in ("array", "slice"):
        assert isinstance(value, list) and t.elem is not None
        elem = t.elem
        return [_for_eth_abi(elem, v) for v in value]
    return value
