"""``gendoc``: example JSON of every data type exchanged between the signer and a UI (clef §3.7)."""

from __future__ import annotations

import json
from typing import Any

from signer.codecs.hexutil import MixedcaseAddress
from signer.types import (
    ListRequest,
    Metadata,
    NameValueType,
    SignDataRequest,
    SignTxRequest,
    UserInputRequest,
    ValidationInfo,
)

_META = Metadata("127.0.0.1:50000", "localhost:8550", "HTTP/1.1", "Firefox 3.2", "www.malicious.ru")
_ADDR = "0xDEADbEeF000000000000000000000000DeaDbeEf"
_TX = {
    "from": _ADDR, "to": None, "gas": "0x3e8", "gasPrice": "0x5", "maxFeePerGas": None,
    "maxPriorityFeePerGas": None, "value": "0x6", "nonce": "0x1", "data": "0x01020304",
}  # fmt: skip
_SIGNED_TX = {
    "type": "0x0", "chainId": "0x1", "nonce": "0x1", "to": None, "gas": "0x3e8", "gasPrice": "0x5",
    "maxPriorityFeePerGas": None, "maxFeePerGas": None, "value": "0x6", "input": "0x01020304",
    "v": "0x25", "r": "0x" + "11" * 32, "s": "0x" + "22" * 32, "hash": "0x" + "33" * 32,
}  # fmt: skip


def _types() -> list[tuple[str, str, Any]]:
    sign_data = SignDataRequest(
        "text/plain",
        MixedcaseAddress.parse(_ADDR),
        b"\x19Ethereum Signed Message:\n11hello world",
        [NameValueType("message", "\x19Ethereum Signed Message:\n11hello world", "text/plain")],
        bytes.fromhex("d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"),
        _META,
    )
    tx_request = SignTxRequest(_TX, _META, [ValidationInfo("WARNING", "Something looks odd, show this message as a warning"),
                                            ValidationInfo("Info", "User should see this as well")])  # fmt: skip
    account = {"address": _ADDR.lower(), "url": "keystore:///path/to/keyfile"}
    return [
        ("SignDataRequest", "SignDataRequest contains information about a pending request to sign some data. "
         "The data to be signed can be of various types, defined by content-type. ", sign_data.to_json()),
        ("SignDataResponse - approve", "Response to SignDataRequest", {"approved": True}),
        ("SignDataResponse - deny", "Response to SignDataRequest", {"approved": False}),
        ("SignTxRequest", "SignTxRequest contains information about a pending request to sign a transaction.",
         tx_request.to_json()),
        ("SignTxResponse - approve", "Response to request to sign a transaction. This response needs to contain "
         "the `transaction`, because the UI is free to make modifications to the transaction.",
         {"transaction": _TX, "approved": True}),
        ("SignTxResponse - deny", "Response to SignTxRequest. When denying a request, there's no need to "
         "provide the transaction in return", {"transaction": _TX, "approved": False}),
        ("OnApproved - SignTransactionResult", "SignTransactionResult is used in the call `clef` -> "
         "`OnApprovedTx(result)`. This occurs _after_ successful completion of the entire signing procedure, "
         "but right before the signed transaction is passed to the external caller. This method (and data) "
         "can be used by the UI to signal to the user that the transaction was signed, but it is primarily "
         "useful for ruleset implementations.", {"raw": "0xf85d018203e8800106c4010203042580" , "tx": _SIGNED_TX}),
        ("UserInputRequest", "Sent when clef needs the user to provide data. If 'password' is true, the input "
         "field should be treated accordingly (echo-free)",
         UserInputRequest("The title here", "The question to ask the user", True).to_json()),
        ("UserInputResponse", "Response to UserInputRequest", {"text": "The textual response from user"}),
        ("ListRequest", "Sent when a request has been made to list addresses. The UI is provided with the "
         "full `account`s, including local directory names. Note: this information is not passed back to "
         "the external caller, who only sees the `address`es. ", ListRequest([account], _META).to_json()),
        ("ListResponse", "Response to list request. The response contains a list of all addresses to show "
         "to the caller. Note: the UI is free to respond with any address the caller, regardless of whether "
         "it exists or not", {"accounts": [account]}),
    ]  # fmt: skip


def render() -> str:
    out = "## UI Client interface\n\nThese data types are defined in the channel between clef and the UI\n"
    for name, description, example in _types():
        body = json.dumps(example, indent=2, ensure_ascii=False)
        out += f"### {name}\n\n{description}\n\nExample:\n```json\n{body}\n```\n"
    return out
