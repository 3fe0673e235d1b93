"""RulesetUI: clef's mapping of rule results to approvals (§4.2), with a real rule engine."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from signer.approval.rules import MemoryStorage, RuleEngine, RulesetUI
from signer.approval.ui import UI
from signer.codecs.hexutil import MixedcaseAddress
from signer.types import (
    IPC_METADATA,
    JSON,
    ListRequest,
    NameValueType,
    NewAccountRequest,
    SignDataRequest,
    SignTxRequest,
    SignTxResponse,
    StartupInfo,
    UserInputRequest,
    ValidationInfo,
)
from tests.rules.helpers import ruleset

ADDRESS = "0x8A8eAFb1cf62BfBeb1741769DAE1a9dd47996192"
ACCOUNTS = [{"address": ADDRESS.lower(), "url": "keystore:///tmp/keystore/UTC--a"}]


class RecordingUI:
    """The next UI: records what reaches it and answers with a fixed human decision."""

    def __init__(self, storage: MemoryStorage | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.storage = storage
        self.storage_seen: dict[str, str] | None = None

    def _record(self, name: str, arg: Any) -> None:
        self.calls.append((name, arg))
        if self.storage is not None:
            self.storage_seen = self.storage.snapshot()

    def approve_tx(self, request: SignTxRequest) -> SignTxResponse:
        self._record("approve_tx", request)
        return SignTxResponse(transaction={**request.transaction, "gas": "0x1"}, approved=True)

    def approve_sign_data(self, request: SignDataRequest) -> bool:
        self._record("approve_sign_data", request)
        return True

    def approve_listing(self, request: ListRequest) -> list[JSON] | None:
        self._record("approve_listing", request)
        return []

    def approve_new_account(self, request: NewAccountRequest) -> bool:
        self._record("approve_new_account", request)
        return False

    def on_input_required(self, request: UserInputRequest) -> str:
        self._record("on_input_required", request)
        return "typed by a human"

    def show_error(self, text: str) -> None:
        self._record("show_error", text)

    def show_info(self, text: str) -> None:
        self._record("show_info", text)

    def on_approved_tx(self, result: JSON) -> None:
        self._record("on_approved_tx", result)

    def on_signer_startup(self, info: StartupInfo) -> None:
        self._record("on_signer_startup", info)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def store() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def make_ui(store: MemoryStorage) -> Iterator[Any]:
    engines: list[RuleEngine] = []

    def make(source: str) -> tuple[RulesetUI, RecordingUI]:
        eng = RuleEngine(source, store, 10.0, on_console=lambda line: None)
        engines.append(eng)
        human = RecordingUI(store)
        ui: UI = RulesetUI(human, eng)
        assert isinstance(ui, RulesetUI)
        return ui, human

    yield make
    for eng in engines:
        eng.close()


def tx_request(value: str = "0x1") -> SignTxRequest:
    tx = {"from": ADDRESS, "to": ADDRESS, "gas": "0x5208", "gasPrice": "0x1", "value": value, "nonce": "0x0"}
    return SignTxRequest(transaction=tx, meta=IPC_METADATA, call_info=[ValidationInfo("Info", "ok")])


def sign_data(content_type: str, number: int = 1) -> SignDataRequest:
    if content_type == "application/x-clique-header":
        messages = [NameValueType("Clique header", f"clique header {number} [0x{'ab' * 32}]", "clique")]
    else:
        messages = [NameValueType("message", "\x19Ethereum Signed Message:\n2hi", content_type)]
    return SignDataRequest(
        content_type=content_type,
        address=MixedcaseAddress.parse(ADDRESS),
        raw_data=b"\x19Ethereum Signed Message:\n2hi",
        messages=messages,
        hash=b"\x11" * 32,
        meta=IPC_METADATA,
    )


def returning(result: str) -> str:
    body = f"return {result};"
    return "\n".join(
        f"function {name}(r) {{ {body} }}"
        for name in ("ApproveTx", "ApproveSignData", "ApproveListing", "ApproveNewAccount", "OnInputRequired")
    )


def test_approve_signs_the_unmodified_request_without_asking(make_ui: Any) -> None:
    ui, human = make_ui(returning("'Approve'"))
    request = tx_request()
    response = ui.approve_tx(request)
    assert response == SignTxResponse(transaction=request.transaction, approved=True)
    assert ui.approve_sign_data(sign_data("text/plain")) is True
    assert ui.approve_listing(ListRequest(accounts=ACCOUNTS, meta=IPC_METADATA)) == ACCOUNTS
    assert human.calls == []


def test_reject_denies_without_asking(make_ui: Any) -> None:
    ui, human = make_ui(returning("'Reject'"))
    assert ui.approve_tx(tx_request()).approved is False
    assert ui.approve_sign_data(sign_data("text/plain")) is False
    assert ui.approve_listing(ListRequest(accounts=ACCOUNTS, meta=IPC_METADATA)) is None
    assert human.calls == []


@pytest.mark.parametrize(
    "source",
    [
        returning("'approve'"),
        returning("'Approve '"),
        returning("undefined"),
        returning("null"),
        returning("['Approve', 'Reject']"),
        "function ApproveTx() { throw new Error('no'); }\n"
        "function ApproveSignData() { throw 'no'; }\nfunction ApproveListing() { return x.y; }",
        "function Unrelated() { return 'Approve'; }",
        "function ApproveTx( { return 'Approve'; }",
    ],
    ids=[
        "lowercase",
        "trailing-space",
        "undefined",
        "null",
        "array",
        "exceptions",
        "missing",
        "syntax-error",
    ],
)
def test_anything_else_goes_to_the_next_ui(
    make_ui: Any, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    ui, human = make_ui(source)
    request = tx_request()
    with caplog.at_level(logging.INFO):
        response = ui.approve_tx(request)
        assert ui.approve_sign_data(sign_data("text/plain")) is True
        assert ui.approve_listing(ListRequest(accounts=ACCOUNTS, meta=IPC_METADATA)) == []
    # The human's answer is returned as is, including a modified transaction.
    assert response == SignTxResponse(transaction={**request.transaction, "gas": "0x1"}, approved=True)
    assert human.names == ["approve_tx", "approve_sign_data", "approve_listing"]
    assert caplog.text.count("Rule-based approval error, going to manual") == 3


def test_new_accounts_and_input_always_reach_the_human(make_ui: Any) -> None:
    ui, human = make_ui(returning("'Approve'"))
    assert ui.approve_new_account(NewAccountRequest(meta=IPC_METADATA)) is False
    prompt = UserInputRequest(title="Account password", prompt="Please enter the password", is_password=True)
    assert ui.on_input_required(prompt) == "typed by a human"
    assert human.names == ["approve_new_account", "on_input_required"]


def test_show_error_and_info_are_logged_and_forwarded(make_ui: Any, caplog: pytest.LogCaptureFixture) -> None:
    ui, human = make_ui("")
    with caplog.at_level(logging.INFO):
        ui.show_error("signing failed")
        ui.show_info("key imported")
    assert human.calls == [("show_error", "signing failed"), ("show_info", "key imported")]
    levels = {(r.levelname, r.getMessage()) for r in caplog.records}
    assert {("ERROR", "signing failed"), ("INFO", "key imported")} <= levels


def test_signer_startup_reaches_the_human_first_then_the_rule(make_ui: Any, store: MemoryStorage) -> None:
    ui, human = make_ui("function OnSignerStartup(info) { storage.put('startup', JSON.stringify(info)); }")
    info = StartupInfo(extapi_ipc="/home/u/.clef/clef.ipc")
    ui.on_signer_startup(info)
    assert human.calls == [("on_signer_startup", info)]
    assert human.storage_seen == {}
    assert json.loads(store.snapshot()["startup"]) == info.to_json()


def test_approved_tx_runs_only_the_rule(make_ui: Any, store: MemoryStorage) -> None:
    ui, human = make_ui("function OnApprovedTx(r) { storage.put('last', r.tx.hash); return 'Reject'; }")
    ui.on_approved_tx({"raw": "0x02", "tx": {"hash": "0xfeed"}})
    assert human.calls == []
    assert store.snapshot() == {"last": "0xfeed"}


def test_notification_errors_are_swallowed(make_ui: Any) -> None:
    ui, human = make_ui("function OnSignerStartup() { throw new Error('x'); }")
    ui.on_approved_tx({"raw": "0x", "tx": {}})
    ui.on_signer_startup(StartupInfo())
    assert human.names == ["on_signer_startup"]


def test_rules_see_clefs_request_json_field_for_field(make_ui: Any, store: MemoryStorage) -> None:
    ui, _ = make_ui(
        "function ApproveTx(r) { storage.put('tx', JSON.stringify(r)); return 'Reject'; }\n"
        "function ApproveSignData(r) { storage.put('data', JSON.stringify(r)); return 'Reject'; }\n"
        "function ApproveListing(r) { storage.put('list', JSON.stringify(r)); return 'Reject'; }"
    )
    tx, data, listing = (
        tx_request(),
        sign_data("text/plain"),
        ListRequest(accounts=ACCOUNTS, meta=IPC_METADATA),
    )
    ui.approve_tx(tx)
    ui.approve_sign_data(data)
    ui.approve_listing(listing)
    seen = store.snapshot()
    assert json.loads(seen["tx"]) == tx.to_json()
    assert json.loads(seen["data"]) == data.to_json()
    assert json.loads(seen["list"]) == listing.to_json()
    assert list(json.loads(seen["data"])) == [
        "content_type",
        "address",
        "raw_data",
        "messages",
        "call_info",
        "hash",
        "meta",
    ]


def test_clique_ruleset_signs_only_clique_headers(make_ui: Any) -> None:
    ui, human = make_ui(ruleset("clique.js"))
    assert ui.approve_sign_data(sign_data("application/x-clique-header")) is True
    assert ui.approve_sign_data(sign_data("text/plain")) is False
    assert ui.approve_sign_data(sign_data("data/typed")) is False
    assert ui.approve_listing(ListRequest(accounts=ACCOUNTS, meta=IPC_METADATA)) == ACCOUNTS
    assert human.calls == []


def test_stateful_clique_ruleset_refuses_repeated_or_lower_heights(
    make_ui: Any, store: MemoryStorage
) -> None:
    ui, human = make_ui(ruleset("clique_stateful.js"))
    header = "application/x-clique-header"
    decisions = [ui.approve_sign_data(sign_data(header, n)) for n in (1, 2, 2, 1, 5, 3, 6)]
    assert decisions == [True, True, False, False, True, False, True]
    assert store.snapshot() == {"lastblock": "6"}
    assert human.calls == []


def test_content_type_ruleset(make_ui: Any) -> None:
    ui, human = make_ui(ruleset("content_type.js"))
    assert ui.approve_sign_data(sign_data("text/plain")) is False
    assert ui.approve_sign_data(sign_data("application/x-clique-header")) is True
    assert ui.approve_sign_data(sign_data("data/typed")) is True  # the human said yes
    assert human.names == ["approve_sign_data"]
    assert human.calls[0][1].content_type == "data/typed"


def test_weekly_rate_limit_through_the_ui(make_ui: Any, store: MemoryStorage) -> None:
    ui, human = make_ui(ruleset("rate_limit.js"))
    quarter = hex(25 * 10**16)
    for _ in range(4):
        response = ui.approve_tx(tx_request(quarter))
        assert response.approved and response.transaction["gas"] == "0x5208"
        ui.on_approved_tx({"raw": "0x02", "tx": {"value": quarter}})
    assert human.calls == []
    # The fifth quarter ether would pass the weekly limit: the human decides (and edits gas).
    response = ui.approve_tx(tx_request(quarter))
    assert human.names == ["approve_tx"] and response.transaction["gas"] == "0x1"
    assert len(json.loads(store.snapshot()["txs"])) == 4
