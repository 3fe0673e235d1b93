"""StdioUI: clef's ``ui_*`` JSON-RPC over stdin/stdout (clef-compat §3.2).

The signer is the client: it sends one compact JSON line per call and waits, without a time
limit, for the reply with the same id. The channel is bidirectional: requests arriving from the UI
(``clef_*``) are handed to the server registered with ``register_server``. Several approvals may be
pending at once; replies are matched by id.
"""

from __future__ import annotations

import codecs
import itertools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, BinaryIO

from signer.approval.ui import UIUnavailable
from signer.codecs.gomarshal import go_marshal
from signer.errors import UIError
from signer.types import (
    JSON,
    ListRequest,
    NewAccountRequest,
    SignDataRequest,
    SignTxRequest,
    SignTxResponse,
    StartupInfo,
    UserInputRequest,
)

log = logging.getLogger("sealward.ui")
MAX_MESSAGE = 64 * 1024 * 1024  # a UI may echo back a blob transaction

ServerHandler = Callable[[Any], Any]


class StdioUI:
    def __init__(self, incoming: BinaryIO, outgoing: BinaryIO) -> None:
        self._in = incoming
        self._out = outgoing
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[Any]] = {}
        self._pending_lock = threading.Lock()
        self._server: ServerHandler | None = None
        self._closed: str | None = None
        self._reader = threading.Thread(target=self._read_loop, name="stdio-ui-reader", daemon=True)
        self._reader.start()

    def register_server(self, handler: ServerHandler) -> None:
        """Serve the UI's own requests (``clef_*``) with ``handler(message) -> response``."""
        self._server = handler

    # --- transport ------------------------------------------------------------------------------

    def _send(self, message: JSON) -> None:
        line = go_marshal(message) + b"\n"  # byte for byte what clef writes
        with self._write_lock:
            self._out.write(line)
            self._out.flush()

    def _call(self, method: str, param: JSON) -> Any:
        future: Future[Any] = Future()
        with self._pending_lock:
            if self._closed:
                raise UIUnavailable(self._closed)
            call_id = next(self._ids)
            self._pending[call_id] = future
        self._send({"jsonrpc": "2.0", "id": call_id, "method": method, "params": [param]})
        return future.result()

    def _notify(self, method: str, param: JSON) -> None:
        if self._closed:
            log.debug("UI gone, dropped notification method=%s", method)
            return
        try:
            self._send({"jsonrpc": "2.0", "method": method, "params": [param]})
        except OSError as exc:
            log.warning("Could not notify the UI method=%s err=%s", method, exc)

    def _read_loop(self) -> None:
        decoder = json.JSONDecoder()
        text = codecs.getincrementaldecoder("utf-8")("replace")
        read = getattr(self._in, "read1", self._in.readline)  # values need not end with a newline
        buffer = ""
        while True:
            chunk = read(65536)
            if not chunk:
                break
            buffer += text.decode(chunk)
            if len(buffer) > MAX_MESSAGE:
                log.error("UI message too large; closing the UI channel")
                break
            while True:
                buffer = buffer.lstrip()
                if not buffer:
                    break
                try:
                    message, end = decoder.raw_decode(buffer)
                except json.JSONDecodeError:
                    break  # incomplete: wait for more input
                buffer = buffer[end:]
                self._dispatch(message)
        self._shutdown("the stdio UI closed its channel")

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, dict) and "method" in message:
            threading.Thread(target=self._serve, args=(message,), daemon=True).start()
            return
        if not isinstance(message, dict) or not isinstance(message.get("id"), int):
            log.warning("Ignoring a malformed message from the UI")
            return
        with self._pending_lock:
            future = self._pending.pop(message["id"], None)
        if future is None:
            log.warning("Ignoring a reply to an unknown request id=%s", message["id"])
        elif isinstance(message.get("error"), dict):
            err = message["error"]
            future.set_exception(
                UIError(int(err.get("code", -32000)), str(err.get("message", "")), err.get("data"))
            )
        else:
            future.set_result(message.get("result"))

    def _serve(self, message: JSON) -> None:
        if self._server is None:
            response: Any = {"jsonrpc": "2.0", "id": message.get("id"),
                             "error": {"code": -32601, "message": "no UI server registered"}}  # fmt: skip
        else:
            response = self._server(message)
        if response is not None:
            self._send(response)

    def _shutdown(self, reason: str) -> None:
        with self._pending_lock:
            self._closed = reason
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(UIUnavailable(reason))

    # --- the UI protocol ------------------------------------------------------------------------

    def approve_tx(self, request: SignTxRequest) -> SignTxResponse:
        result = self._call("ui_approveTx", request.to_json()) or {}
        return SignTxResponse(result.get("transaction") or {}, result.get("approved") is True)

    def approve_sign_data(self, request: SignDataRequest) -> bool:
        result = self._call("ui_approveSignData", request.to_json()) or {}
        return result.get("approved") is True

    def approve_listing(self, request: ListRequest) -> list[JSON] | None:
        result = self._call("ui_approveListing", request.to_json()) or {}
        accounts = result.get("accounts")
        if accounts is None:
            return None
        for account in accounts:
            url = str(account.get("url", ""))
            if "://" not in url or url.startswith("://"):
                raise UIError(-32000, "protocol scheme missing")
        return list(accounts)

    def approve_new_account(self, request: NewAccountRequest) -> bool:
        result = self._call("ui_approveNewAccount", request.to_json()) or {}
        return result.get("approved") is True

    def on_input_required(self, request: UserInputRequest) -> str:
        result = self._call("ui_onInputRequired", request.to_json()) or {}
        return str(result.get("text", ""))

    def show_error(self, text: str) -> None:
        self._notify("ui_showError", {"text": text})

    def show_info(self, text: str) -> None:
        self._notify("ui_showInfo", {"text": text})

    def on_approved_tx(self, result: JSON) -> None:
        self._notify("ui_onApprovedTx", result)

    def on_signer_startup(self, info: StartupInfo) -> None:
        self._notify("ui_onSignerStartup", info.to_json())
