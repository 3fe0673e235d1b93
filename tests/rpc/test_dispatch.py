"""The JSON-RPC envelope: clef's error messages, arity, batches, concurrency and deadlines."""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from signer.errors import UIError
from signer.rpc.dispatch import MAX_BATCH_SIZE, Dispatcher
from signer.rpc.envelope import encode
from signer.types import IPC_METADATA, Metadata
from tests.rpc.conftest import Probe, request

META = IPC_METADATA


def ask(dispatcher: Dispatcher, message: Any, **options: Any) -> Any:
    """``handle`` for a message that must get an answer."""
    response = dispatcher.handle(message, META, **options)
    assert response is not None
    return response


def error(response: Any) -> tuple[int, str]:
    return response["error"]["code"], response["error"]["message"]


def test_rpc_modules_is_built_in(dispatcher: Dispatcher) -> None:
    assert ask(dispatcher, request("rpc_modules")) == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"account": "1.0", "rpc": "1.0"},
    }


def test_handler_receives_meta_and_exact_param_count(dispatcher: Dispatcher, probe: Probe) -> None:
    assert ask(dispatcher, request("test_pair", "a"))["result"] == ["a", None]
    assert ask(dispatcher, request("test_pair", "a", "b"))["result"] == ["a", "b"]
    ask(dispatcher, request("test_note", 5))
    assert probe.metas == [META]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "missing value for required argument 0"),
        (["a", "b", "c"], "too many arguments, want at most 2"),
        ({"a": 1}, "non-array args"),
        ("a", "non-array args"),
    ],
)
def test_parameter_errors_use_clef_messages(dispatcher: Dispatcher, params: Any, message: str) -> None:
    msg = {"jsonrpc": "2.0", "id": 7, "method": "test_pair", "params": params}
    response = ask(dispatcher, msg)
    assert response["id"] == 7
    assert error(response) == (-32602, message)


def test_absent_or_null_params_mean_no_params(dispatcher: Dispatcher) -> None:
    assert ask(dispatcher, {"jsonrpc": "2.0", "id": 1, "method": "rpc_modules"})["result"]
    msg = {"jsonrpc": "2.0", "id": 1, "method": "test_echo", "params": None}
    assert error(ask(dispatcher, msg)) == (-32602, "missing value for required argument 0")


def test_unknown_method(dispatcher: Dispatcher) -> None:
    response = ask(dispatcher, request("eth_sign"))
    assert error(response) == (-32601, "the method eth_sign does not exist/is not available")


@pytest.mark.parametrize(
    ("message", "expected_id"),
    [
        (42, None),
        ({"jsonrpc": "1.0", "id": 3, "method": "rpc_modules"}, 3),
        ({"id": 3, "method": "rpc_modules"}, 3),
        ({"jsonrpc": "2.0", "id": 3, "method": 5}, 3),
        ({"jsonrpc": "2.0", "id": 3, "method": ""}, 3),
        ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "rpc_modules"}, None),
    ],
)
def test_invalid_requests(dispatcher: Dispatcher, message: Any, expected_id: Any) -> None:
    response = ask(dispatcher, message)
    assert response["id"] == expected_id
    assert error(response) == (-32600, "invalid request")


@pytest.mark.parametrize("request_id", ["abc", 0, 2**70, 1.5, None, True])
def test_ids_are_echoed(dispatcher: Dispatcher, request_id: Any) -> None:
    assert ask(dispatcher, request("rpc_modules", id=request_id))["id"] == request_id


def test_notification_runs_but_gets_no_answer(dispatcher: Dispatcher, probe: Probe) -> None:
    note = {"jsonrpc": "2.0", "method": "test_note", "params": ["hello"]}
    assert dispatcher.handle(note, META) is None
    assert probe.notes == ["hello"]
    unknown = {"jsonrpc": "2.0", "method": "nope"}
    assert dispatcher.handle(unknown, META) is None


def test_signer_error_becomes_32000_and_ui_error_keeps_its_code(dispatcher: Dispatcher) -> None:
    assert error(ask(dispatcher, request("test_deny"))) == (-32000, "request denied")

    def ui_fails(meta: Metadata) -> None:
        raise UIError(-32099, "ui went away")

    dispatcher.add("test_ui", ui_fails)
    assert error(ask(dispatcher, request("test_ui"))) == (-32099, "ui went away")


def test_crash_is_32603_and_logged_without_the_message(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(meta: Metadata, secret: str) -> None:
        raise ValueError(f"bad input {secret}")

    dispatcher.add("test_crash", crash, required=1)
    with caplog.at_level(logging.ERROR, logger="sealward.rpc"):
        response = ask(dispatcher, request("test_crash", "hunter2-secret"))
    assert error(response) == (-32603, "method handler crashed")
    assert "hunter2-secret" not in caplog.text
    assert "test_crash" in caplog.text and "ValueError" in caplog.text
    assert "in crash" in caplog.text  # the traceback frames are there


def test_unserialisable_result_becomes_crash_error(dispatcher: Dispatcher) -> None:
    dispatcher.add("test_obj", lambda meta: object())
    dispatcher.add("test_nan", lambda meta: float("nan"))
    for method in ("test_obj", "test_nan"):
        encoded = encode(ask(dispatcher, request(method, id=9)))
        assert json.loads(encoded) == {
            "jsonrpc": "2.0",
            "id": 9,
            "error": {"code": -32603, "message": "method handler crashed"},
        }
    batch = [request("test_obj", id=1), request("rpc_modules", id=2)]
    decoded = json.loads(encode(ask(dispatcher, batch)))
    assert decoded[0]["error"]["code"] == -32603
    assert decoded[1]["result"] == {"account": "1.0", "rpc": "1.0"}


def test_duplicate_registration_is_refused(dispatcher: Dispatcher) -> None:
    with pytest.raises(ValueError, match="already registered"):
        dispatcher.add("rpc_modules", lambda meta: None)


def test_batch_keeps_order_and_ids_and_skips_notifications(dispatcher: Dispatcher) -> None:
    batch = [
        request("test_echo", "a", id="x"),
        {"jsonrpc": "2.0", "method": "test_note", "params": [1]},
        7,
        request("nope", id=3),
    ]
    response = ask(dispatcher, batch)
    assert [r["id"] for r in response] == ["x", None, 3]
    assert response[0]["result"] == "a"
    assert error(response[1]) == (-32600, "invalid request")
    assert error(response[2])[0] == -32601


def test_batch_of_notifications_sends_nothing(dispatcher: Dispatcher) -> None:
    batch = [{"jsonrpc": "2.0", "method": "test_note", "params": [i]} for i in range(3)]
    assert dispatcher.handle(batch, META) is None


def test_empty_and_oversized_batches(dispatcher: Dispatcher, probe: Probe) -> None:
    empty = ask(dispatcher, [])
    assert empty["id"] is None and error(empty) == (-32600, "empty batch")
    notes = [{"jsonrpc": "2.0", "method": "test_note", "params": [i]} for i in range(MAX_BATCH_SIZE)]
    too_big = ask(dispatcher, [*notes, request("rpc_modules", id=55)])
    assert len(too_big) == 1
    assert too_big[0]["id"] == 55 and error(too_big[0]) == (-32600, "batch too large")
    assert probe.notes == []  # nothing in a refused batch runs
    full = [request("test_echo", i, id=i) for i in range(MAX_BATCH_SIZE)]
    assert len(ask(dispatcher, full)) == MAX_BATCH_SIZE


def test_batch_runs_concurrently_on_the_executor(dispatcher: Dispatcher) -> None:
    barrier = threading.Barrier(3, timeout=5)
    dispatcher.add("test_barrier", lambda meta: barrier.wait() >= 0)
    batch = [request("test_barrier", id=i) for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        response = ask(dispatcher, batch, executor=pool)
    assert [r["result"] for r in response] == [True, True, True]


def test_deadline_answers_timeout_while_the_call_goes_on(dispatcher: Dispatcher, probe: Probe) -> None:
    with ThreadPoolExecutor(2) as pool:
        start = time.monotonic()
        response = ask(dispatcher, request("test_wait", id=4), executor=pool, timeout=0.2)
        assert time.monotonic() - start < 2
        assert response["id"] == 4 and error(response) == (-32002, "request timed out")
        assert probe.started.is_set() and not probe.finished.is_set()
        probe.release.set()
        assert probe.finished.wait(5)


def test_batch_deadline_keeps_finished_answers(dispatcher: Dispatcher, probe: Probe) -> None:
    batch = [request("test_echo", "fast", id=1), request("test_wait", id=2)]
    with ThreadPoolExecutor(2) as pool:
        response = ask(dispatcher, batch, executor=pool, timeout=0.3)
        probe.release.set()
    assert response[0] == {"jsonrpc": "2.0", "id": 1, "result": "fast"}
    assert error(response[1]) == (-32002, "request timed out")


def test_submit_never_deadlocks_a_small_pool(dispatcher: Dispatcher) -> None:
    answers: list[Any] = []
    done = threading.Event()

    def deliver(answer: Any) -> None:
        answers.append(answer)
        done.set()

    with ThreadPoolExecutor(1) as pool:
        for _ in range(4):  # more batches than workers, each with more calls than workers
            dispatcher.submit([request("test_echo", i, id=i) for i in range(5)], META, pool, deliver)
        assert done.wait(5)
    assert len(answers) == 4
    assert all([r["result"] for r in a] == [0, 1, 2, 3, 4] for a in answers)


def test_handle_bytes_answers_an_http_body_as_geth_does(dispatcher: Dispatcher) -> None:
    modules = b'{"jsonrpc":"2.0","id":1,"result":{"account":"1.0","rpc":"1.0"}}\n'  # compact, one line
    request = b'{"jsonrpc":"2.0","id":1,"method":"rpc_modules"}'
    assert dispatcher.handle_bytes(b" " + request + b" \n", META) == modules
    # One value is decoded; what follows it is never read.
    assert (
        dispatcher.handle_bytes(request + b'{"jsonrpc":"2.0","id":2,"method":"rpc_modules"}', META) == modules
    )
    assert dispatcher.handle_bytes(request + b"garbage", META) == modules
    # A body that is not JSON: geth's one message, written without the encoder's newline.
    for bad in (b"{", b"\xff", b"[NaN]", b"nul", b'{"a":1,}'):
        answer = dispatcher.handle_bytes(bad, META)
        assert answer == b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}', bad
    # Nothing to answer: an empty body, whitespace, a notification.
    for silent in (b"", b" \r\n\t", b'{"jsonrpc":"2.0","method":"test_note","params":[1]}'):
        assert dispatcher.handle_bytes(silent, META) == b"", silent


def test_handle_bytes_writes_transport_errors_without_a_newline(dispatcher: Dispatcher) -> None:
    empty = dispatcher.handle_bytes(b"[]", META)
    assert empty == b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}}'
    many = (
        b"[" + b",".join([b'{"jsonrpc":"2.0","id":7,"method":"rpc_modules"}'] * (MAX_BATCH_SIZE + 1)) + b"]"
    )
    too_large = dispatcher.handle_bytes(many, META)
    assert not too_large.endswith(b"\n") and json.loads(too_large)[0]["error"]["message"] == "batch too large"
    one = dispatcher.handle_bytes(b'[{"jsonrpc":"2.0","id":7,"method":"rpc_modules"}]', META)
    assert one.endswith(b"]\n")


def test_handle_bytes_writes_a_timed_out_answer_without_a_newline(dispatcher: Dispatcher) -> None:
    release = threading.Event()
    dispatcher.add("test_block", lambda meta: release.wait(5))
    with ThreadPoolExecutor(2) as pool:
        body = b'{"jsonrpc":"2.0","id":3,"method":"test_block"}'
        answer = dispatcher.handle_bytes(body, META, executor=pool, timeout=0.1)
        release.set()
    assert answer == b'{"jsonrpc":"2.0","id":3,"error":{"code":-32002,"message":"request timed out"}}'
