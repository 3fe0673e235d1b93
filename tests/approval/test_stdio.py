"""The stdio UI over real pipes: clef's ui_* messages, replies matched by id, errors passed through."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

import pytest

from signer.approval.stdio import StdioUI
from signer.approval.ui import UIUnavailable
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.signdata import plan_sign_data
from signer.errors import UIError
from signer.types import Metadata, NewAccountRequest, StartupInfo, UserInputRequest

ADDR = MixedcaseAddress.parse("0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6")


class Peer:
    """The UI end: reads the signer's lines, and writes whatever the test says."""

    def __init__(self) -> None:
        to_ui_r, to_ui_w = os.pipe()
        to_signer_r, to_signer_w = os.pipe()
        self.reader: BinaryIO = os.fdopen(to_ui_r, "rb")
        self.writer: BinaryIO = os.fdopen(to_signer_w, "wb", buffering=0)
        self.ui = StdioUI(os.fdopen(to_signer_r, "rb"), os.fdopen(to_ui_w, "wb"))

    def receive(self) -> dict[str, Any]:
        return dict(json.loads(self.reader.readline()))

    def send(self, message: Any, newline: bool = True) -> None:
        self.writer.write(json.dumps(message).encode() + (b"\n" if newline else b""))


def test_sign_data_request_shape_and_approval() -> None:
    peer = Peer()
    request = plan_sign_data("text/plain", ADDR, "0x68656c6c6f", Metadata(scheme="ipc")).request
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(peer.ui.approve_sign_data(request)))
    thread.start()
    message = peer.receive()
    assert list(message) == ["jsonrpc", "id", "method", "params"]
    assert message["method"] == "ui_approveSignData" and message["id"] == 1
    params = message["params"][0]
    assert (
        params["content_type"] == "text/plain"
        and params["raw_data"] == "GUV0aGVyZXVtIFNpZ25lZCBNZXNzYWdlOgo1aGVsbG8="
    )
    assert params["meta"] == {"remote": "NA", "local": "NA", "scheme": "ipc", "User-Agent": "", "Origin": ""}
    peer.send({"jsonrpc": "2.0", "id": 1, "result": {"approved": True}})
    thread.join(5)
    assert result == [True]


def test_concurrent_calls_are_matched_by_id_and_values_need_no_newline() -> None:
    peer = Peer()
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(peer.ui.on_input_required, UserInputRequest("t", f"q{i}", False)) for i in range(3)
        ]
        requests = [peer.receive() for _ in range(3)]
        for req in reversed(requests):  # answer out of order, several values on one line
            peer.send({"jsonrpc": "2.0", "id": req["id"], "result": {"text": req["params"][0]["prompt"] + "!"}},
                      newline=False)  # fmt: skip
        peer.send({"jsonrpc": "2.0", "id": 999, "result": {}})  # unknown id: ignored
        assert sorted(f.result(5) for f in futures) == ["q0!", "q1!", "q2!"]


def test_ui_error_keeps_its_code() -> None:
    peer = Peer()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(peer.ui.approve_new_account, NewAccountRequest(Metadata()))
        req = peer.receive()
        assert req["method"] == "ui_approveNewAccount"
        peer.send({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32042, "message": "operator away"}})
        with pytest.raises(UIError) as info:
            future.result(5)
    assert info.value.code == -32042 and str(info.value) == "operator away"


def test_closed_channel_fails_pending_calls() -> None:
    peer = Peer()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(peer.ui.on_input_required, UserInputRequest("t", "p", True))
        peer.receive()
        peer.writer.close()
        with pytest.raises(UIUnavailable):
            future.result(5)


def test_notifications_have_no_id_and_startup_keys_are_sorted() -> None:
    peer = Peer()
    peer.ui.show_info("hello")
    peer.ui.on_signer_startup(StartupInfo(extapi_ipc="/x/clef.ipc"))
    info = peer.receive()
    assert info == {"jsonrpc": "2.0", "method": "ui_showInfo", "params": [{"text": "hello"}]}
    startup = peer.receive()["params"][0]["info"]
    assert list(startup) == ["extapi_http", "extapi_ipc", "extapi_version", "intapi_version"]
    assert startup["extapi_version"] == "6.1.0" and startup["intapi_version"] == "7.0.1"


def test_requests_from_the_ui_reach_the_registered_server() -> None:
    peer = Peer()
    peer.ui.register_server(lambda message: {"jsonrpc": "2.0", "id": message["id"], "result": "0x5"})
    peer.send({"jsonrpc": "2.0", "id": 77, "method": "clef_chainId", "params": []})
    assert peer.receive() == {"jsonrpc": "2.0", "id": 77, "result": "0x5"}
