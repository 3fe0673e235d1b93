"""The terminal UI driven through pipes, as scripts drive it: only "y" approves."""

from __future__ import annotations

import io

from signer.approval.console import ConsoleUI
from signer.approval.terminal import Terminal
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.signdata import plan_sign_data
from signer.types import ListRequest, Metadata, NewAccountRequest, SignTxRequest, UserInputRequest

ADDR = MixedcaseAddress.parse("0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6")


def _ui(answers: str) -> tuple[ConsoleUI, io.StringIO]:
    out = io.StringIO()
    return ConsoleUI(Terminal(io.StringIO(answers), out)), out


def test_only_lowercase_y_approves() -> None:
    request = plan_sign_data("text/plain", ADDR, "0x68656c6c6f", Metadata(scheme="ipc")).request
    for answer, approved in (
        ("y\n", True),
        ("Y\n", False),
        ("yes\n", False),
        ("n\n", False),
        ("\n\ny\n", True),
    ):
        ui, out = _ui(answer)
        assert ui.approve_sign_data(request) is approved
        text = out.getvalue()
        assert "-------- Sign data request--------------" in text
        assert "Account:  0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6 [chksum ok]" in text
        assert "Request context:\n\tNA -> ipc -> NA" in text
        assert "Approve? [y/N]:" in text


def test_closed_stdin_denies() -> None:
    ui, _ = _ui("")
    assert ui.approve_new_account(NewAccountRequest(Metadata())) is False


def test_listing_approval_returns_all_accounts_or_none() -> None:
    accounts = [{"address": "0x9160dc9105f7de5dc5e7f3d97ef11da47269bda6", "url": "keystore:///k"}]
    ui, out = _ui("y\n")
    assert ui.approve_listing(ListRequest(accounts, Metadata())) == accounts
    assert "  [x] 0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6\n    URL: keystore:///k" in out.getvalue()
    ui, _ = _ui("no\n")
    assert ui.approve_listing(ListRequest(accounts, Metadata())) is None


def test_password_prompt_reads_a_line_without_echoing_it_back() -> None:
    ui, out = _ui("s3cret password\n")
    answer = ui.on_input_required(UserInputRequest("Account password", "Please enter the password", True))
    assert answer == "s3cret password"
    assert "## Account password\n\nPlease enter the password\n" in out.getvalue()
    assert "s3cret" not in out.getvalue()


def test_transaction_screen_warns_on_bad_checksum() -> None:
    tx = {"from": "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6", "to": "0x9160dc9105f7de5dc5e7f3d97ef11da47269bda6",
          "gas": "0x5208", "gasPrice": "0x3b9aca00", "value": "0xde0b6b3a7640000", "nonce": "0x1", "data": "0x"}  # fmt: skip
    ui, out = _ui("n\n")
    response = ui.approve_tx(SignTxRequest(tx, Metadata()))
    assert response.approved is False
    text = out.getvalue()
    assert "WARNING: Invalid checksum on to-address!" in text
    assert "value:    1000000000000000000 wei" in text
    assert "gasprice: 1000000000 wei" in text


def test_metadata_is_quoted_and_truncated() -> None:
    from signer.approval.console import metadata_text

    text = metadata_text(Metadata("1.2.3.4:1", "h", "HTTP/1.1", "A" * 300, 'evil"origin'))
    assert '\tUser-Agent: "' + "A" * 200 + '"...' in text
    assert '\tOrigin: "evil\\"origin"' in text


def test_operator_can_edit_a_transaction_before_approving() -> None:
    tx = {"from": "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6", "to": None, "gas": "0x5208",
          "gasPrice": "0x1", "value": "0x10", "nonce": "0x1", "data": "0x"}  # fmt: skip
    ui, out = _ui("e\nvalue=0x5\nbogus line\ncolor=red\ngas=0x6000\n\ny\n")
    response = ui.approve_tx(SignTxRequest(tx, Metadata()))
    assert response.approved is True
    assert response.transaction["value"] == "0x5" and response.transaction["gas"] == "0x6000"
    assert tx["value"] == "0x10"  # the request itself is untouched; the diff is logged by the API
    text = out.getvalue()
    assert text.count("--------- Transaction request-------------") == 2  # shown again after the edit
    assert "not understood: 'bogus line'" in text and "not understood: 'color=red'" in text


def test_edit_then_deny_returns_not_approved() -> None:
    tx = {"from": "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6", "to": None, "gas": "0x1", "gasPrice": "0x1",
          "value": "0x0", "nonce": "0x0", "data": "0x"}  # fmt: skip
    ui, _ = _ui("e\nnonce=0x9\n\nn\n")
    assert ui.approve_tx(SignTxRequest(tx, Metadata())).approved is False
