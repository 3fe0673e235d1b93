"""ConsoleUI: clef's command-line approval prompts (clef-compat §3.4). Only "y" approves.

Everything a request carries goes through ``shown`` (``signer.escaping.for_terminal``) before it
is composed into a screen, so no caller can move the cursor, clear lines, reorder text with bidi
controls or forge a line (issue 12, finding 2); the terminal escapes any control that is left.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from signer.approval.terminal import InputClosed, Terminal, default_terminal
from signer.escaping import for_terminal as shown
from signer.escaping import for_terminal_lines
from signer.types import (
    JSON,
    ListRequest,
    Metadata,
    NameValueType,
    NewAccountRequest,
    SignDataRequest,
    SignTxRequest,
    SignTxResponse,
    StartupInfo,
    UserInputRequest,
    ValidationInfo,
)

log = logging.getLogger("sealward.ui")
RULE = "-------------------------------------------\n"
EDITABLE = ("from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce", "data")


def _go_quote_truncated(value: str, limit: int) -> str:
    text = value.encode()[:limit].decode("utf-8", "ignore")
    quoted = json.dumps(text, ensure_ascii=False)
    return shown(quoted) + ("..." if len(value.encode()) > limit else "")


def metadata_text(meta: Metadata) -> str:
    return (
        f"Request context:\n\t{shown(meta.remote)} -> {shown(meta.scheme)} -> {shown(meta.local)}\n"
        "\nAdditional HTTP header data, provided by the external caller:\n"
        f"\tUser-Agent: {_go_quote_truncated(meta.user_agent, 200)}\n"
        f"\tOrigin: {_go_quote_truncated(meta.origin, 100)}\n"
    )


def pprint_messages(messages: list[NameValueType], depth: int = 1) -> str:
    """clef's Pprint: 2·depth NBSP, ``name [type]: `` then the value quoted or the children."""
    out = []
    for m in messages:
        indent = "\u00a0" * (2 * depth)
        label = f"{indent}{shown(m.name)} [{shown(m.typ)}]: "
        if isinstance(m.value, list) and all(isinstance(v, NameValueType) for v in m.value):
            out.append(f"{label}\n" + pprint_messages(m.value, depth + 1))
        elif m.value is None:
            out.append(f"{label}\n")
        else:
            out.append(f"{label}{shown(json.dumps(str(m.value), ensure_ascii=False))}\n")
    return "".join(out)


class ConsoleUI:
    def __init__(self, terminal: Terminal | None = None) -> None:
        self.term = terminal or default_terminal()

    def _confirm(self) -> bool:
        self.term.write("Approve? [y/N]:\n")
        try:
            answer = self.term.read_line()
        except InputClosed:
            log.warning("Standard input closed: request denied")
            return False
        if answer == "y":
            return True
        self.term.write("-----------------------\n")
        return False

    def approve_tx(self, request: SignTxRequest) -> SignTxResponse:
        """clef's prompt, plus ``e`` to edit fields before approving (clef's CLI could not edit)."""
        with self.term.lock:
            tx = dict(request.transaction)
            self.term.write(transaction_text(request) + metadata_text(request.meta))
            while True:
                self.term.write("Approve? [y/N] (e to edit):\n")
                try:
                    answer = self.term.read_line()
                except InputClosed:
                    log.warning("Standard input closed: request denied")
                    return SignTxResponse(tx, False)
                if answer != "e":
                    if answer != "y":
                        self.term.write("-----------------------\n")
                    return SignTxResponse(tx, answer == "y")
                tx = self._edit(tx)
                self.term.write(transaction_text(SignTxRequest(tx, request.meta, request.call_info)))

    def _edit(self, tx: JSON) -> JSON:
        """Read ``field=value`` lines until an empty one; values are the wire form (0x hex)."""
        edited = dict(tx)
        self.term.write(
            f"Edit as field=value, one per line, empty line to finish. Fields: {', '.join(EDITABLE)}\n"
        )
        while True:
            try:
                line = self.term.read_any_line("edit> ")
            except InputClosed:
                return edited
            if not line:
                return edited
            field, sep, value = line.partition("=")
            if not sep or field.strip() not in EDITABLE:
                self.term.write(
                    f"not understood: {shown(repr(line))} (use field=value; fields: {', '.join(EDITABLE)})\n"
                )
                continue
            edited[field.strip()] = value.strip() or None

    def approve_sign_data(self, request: SignDataRequest) -> bool:
        with self.term.lock:
            text = "-------- Sign data request--------------\n" + f"Account:  {shown(request.address)}\n"
            if request.call_info:
                text += "\nValidation messages:\n" + validation_text(request.call_info) + "\n"
            text += "messages:\n" + pprint_messages(request.messages)
            raw = shown(json.dumps(request.raw_data.decode("latin-1"), ensure_ascii=False))
            text += f"raw data:  \n\t{raw}\n" + f"data hash:  0x{request.hash.hex()}\n" + RULE
            self.term.write(text + metadata_text(request.meta))
            return self._confirm()

    def approve_listing(self, request: ListRequest) -> list[JSON] | None:
        from eth_utils.address import to_checksum_address

        with self.term.lock:
            text = (
                "-------- List Account request--------------\n"
                "A request has been made to list all accounts. \n"
                "You can select which accounts the caller can see\n"
            )
            for account in request.accounts:
                address = shown(to_checksum_address(account["address"]))
                text += f"  [x] {address}\n    URL: {shown(account['url'])}\n"
            self.term.write(text + RULE + metadata_text(request.meta))
            return request.accounts if self._confirm() else None

    def approve_new_account(self, request: NewAccountRequest) -> bool:
        with self.term.lock:
            self.term.write(
                "-------- New Account request--------------\n\n"
                "A request has been made to create a new account. \n"
                "Approving this operation means that a new account is created,\n"
                "and the address is returned to the external caller\n\n" + metadata_text(request.meta)
            )
            return self._confirm()

    def on_input_required(self, request: UserInputRequest) -> str:
        with self.term.lock:
            self.term.write(f"## {shown(request.title)}\n\n{for_terminal_lines(request.prompt)}\n")
            try:
                if request.is_password:
                    return self.term.read_password("> ")
                return self.term.read_line()
            finally:
                self.term.write("-----------------------\n")

    def show_error(self, text: str) -> None:
        with self.term.lock:
            self.term.write(f"## Error \n{for_terminal_lines(text)}\n{RULE}")

    def show_info(self, text: str) -> None:
        with self.term.lock:
            self.term.write(f"## Info \n{for_terminal_lines(text)}\n")

    def on_approved_tx(self, result: JSON) -> None:
        with self.term.lock:
            body = json.dumps(result.get("tx"), indent="  ")
            self.term.write(f"Transaction signed:\n {body}\n")

    def on_signer_startup(self, info: StartupInfo) -> None:
        with self.term.lock:
            lines = "".join(f"* {shown(k)} : {shown(v)}\n" for k, v in info.to_json()["info"].items())
            self.term.write(f"\n------- Signer info -------\n{lines}")


def validation_text(messages: list[ValidationInfo]) -> str:
    """The ``  * TYPE : message`` lines; messages quote decoded calldata, so they are escaped."""
    return "".join(f"  * {shown(c.typ)} : {shown(c.message)}\n" for c in messages)


def _field(tx: JSON, key: str) -> Any:
    value = tx.get(key)
    return value if value is not None else None


def transaction_text(request: SignTxRequest) -> str:
    """clef's transaction screen: recipient (with a checksum warning), sender, value, gas, fees, data."""
    from signer.codecs.hexutil import MixedcaseAddress

    tx = request.transaction
    out = "--------- Transaction request-------------\n"
    to = tx.get("to")
    if to:
        recipient = MixedcaseAddress.parse(to)
        out += f"to:    {shown(recipient.original)}\n"
        if not recipient.valid_checksum():
            out += "\nWARNING: Invalid checksum on to-address!\n\n"
    else:
        out += "to:    <contact creation>\n"
    out += f"from:     {shown(tx.get('from'))}\n"
    value = int(str(tx.get("value") or "0x0"), 16)
    out += f"value:    {value} wei\n"
    if value:
        out += f"          ({value / 10**18} ether)\n"
    gas = int(str(tx.get("gas") or "0x0"), 16)
    out += f"gas:      {shown(tx.get('gas'))} ({gas})\n"
    if _field(tx, "maxFeePerGas") is not None:
        out += f"maxFeePerGas:          {int(str(tx['maxFeePerGas']), 16)} wei\n"
        priority = int(str(tx.get("maxPriorityFeePerGas") or "0x0"), 16)
        out += f"maxPriorityFeePerGas:  {priority} wei\n"
    else:
        out += f"gasprice: {int(str(tx.get('gasPrice') or '0x0'), 16)} wei\n"
    out += f"nonce:    {shown(tx.get('nonce'))} ({int(str(tx.get('nonce') or '0x0'), 16)})\n"
    if tx.get("chainId"):
        out += f"chainid:  {shown(tx['chainId'])}\n"
    for entry in tx.get("accessList") or []:
        out += f"accesslist {shown(entry.get('address'))}: {shown(entry.get('storageKeys'))}\n"
    for blob_hash in tx.get("blobVersionedHashes") or []:
        out += f"blobhash: {shown(blob_hash)}\n"
    data = tx.get("data") or tx.get("input")
    if data and data != "0x":
        out += f"data:     {shown(data)}\n"
    if request.call_info:
        out += "\nTransaction validation:\n" + validation_text(request.call_info) + "\n\n"
    out += "\n"
    return out
