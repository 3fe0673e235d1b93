"""Nothing a request carries reaches the operator's terminal or the log unescaped (issue 12,
finding 2). Before the fix an EIP-712 field name holding "cursor up, clear line" rewrote the
amount line above ``Approve? [y/N]``; here every such character arrives as visible text."""

from __future__ import annotations

import io
import logging
import sys
import unicodedata

import pytest

from signer.approval.console import ConsoleUI, metadata_text, transaction_text
from signer.approval.terminal import Terminal
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.typed_request import plan_typed_data
from signer.escaping import for_terminal, for_terminal_lines
from signer.logs import GethFormatter
from signer.types import Metadata, SignTxRequest, ValidationInfo

ADDR = MixedcaseAddress.parse("0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6")
# Cursor up, clear the line, then a forged line; a C1 CSI; a right-to-left override; a tag char.
HOSTILE = "x\x1b[1A\x1b[2K\rAmount: 0 wei\nApprove? [y/N]:\n\x9b2J\u202edrow\U000e0041"
DANGEROUS = ("\x1b", "\x9b", "\r", "\u202e", "\U000e0041")


def _hostile_typed_data() -> dict[str, object]:
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Mail": [{"name": HOSTILE, "type": "string"}, {"name": "amount", "type": "uint256"}],
        },
        "primaryType": "Mail",
        "domain": {"name": HOSTILE},
        "message": {HOSTILE: HOSTILE, "amount": "1000"},
    }


def _assert_inert(text: str) -> None:
    for char in DANGEROUS:
        assert char not in text, repr(char)


def test_the_escaped_set_is_exactly_the_invisible_unicode_categories() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        invisible = unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs")
        assert (for_terminal(char) != char) is invisible, f"U+{code:04X}"


def test_escapes_are_visible_and_distinct() -> None:
    assert for_terminal("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert for_terminal("l1\nl2\tx\r") == "l1\\nl2\\tx\\r"
    assert for_terminal("\x9b\u202e\U000e0041") == "\\x9b\\u202e\\U000e0041"
    assert for_terminal_lines("l1\n\tl2\x1b") == "l1\n\tl2\\x1b"
    assert for_terminal("ünïcødé 0xAb €") == "ünïcødé 0xAb €"  # printable text is untouched


def test_typed_data_names_and_values_cannot_rewrite_the_screen() -> None:
    plan = plan_typed_data(ADDR, _hostile_typed_data(), Metadata(scheme="ipc"))
    out = io.StringIO()
    assert ConsoleUI(Terminal(io.StringIO("n\n"), out)).approve_sign_data(plan.request) is False
    screen = out.getvalue()
    _assert_inert(screen)
    assert screen.count("Approve? [y/N]:\n") == 1  # the forged one is shown as one escaped line
    assert "x\\x1b[1A\\x1b[2K\\rAmount: 0 wei\\nApprove? [y/N]:\\n\\x9b2J\\u202edrow\\U000e0041" in screen


def test_each_field_is_escaped_before_the_terminal_sees_it() -> None:
    """The screen text itself is safe, not only what the Terminal writes (defence in depth)."""
    meta = Metadata(remote="1.2.3.4:5", local=HOSTILE, scheme=HOSTILE, user_agent=HOSTILE, origin=HOSTILE)
    context = metadata_text(meta)
    _assert_inert(context)
    assert context.count("\n") == metadata_text(Metadata()).count("\n")  # no forged lines
    tx = {"from": HOSTILE, "to": None, "gas": "0x5208", "value": "0x1", "nonce": "0x1", "data": HOSTILE,
          "accessList": [{"address": HOSTILE, "storageKeys": [HOSTILE]}], "chainId": HOSTILE}  # fmt: skip
    info = [ValidationInfo("WARNING", HOSTILE)]
    text = transaction_text(SignTxRequest(tx, meta, info))
    _assert_inert(text)
    plain = transaction_text(SignTxRequest(dict(tx, **{k: "0x1" for k in ("from", "data", "chainId")},
                             accessList=[{"address": "a", "storageKeys": ["k"]}]), meta, [ValidationInfo("WARNING", "m")]))  # fmt: skip
    assert text.count("\n") == plain.count("\n")


def test_errors_infos_and_prompts_keep_their_own_lines_only() -> None:
    out = io.StringIO()
    ui = ConsoleUI(Terminal(io.StringIO(), out))
    ui.show_error("bad field " + HOSTILE)
    ui.show_info("two\nlines " + HOSTILE)
    _assert_inert(out.getvalue())


def test_log_arguments_cannot_forge_lines_or_drive_the_terminal() -> None:
    record = logging.LogRecord(
        "sealward.rules", logging.INFO, __file__, 1, "JS console msg=%s n=%d", (HOSTILE, 7), None
    )
    line = GethFormatter().format(record)
    assert "\n" not in line and "n=7" in line
    _assert_inert(line)
    # The signer's own multi-line messages (a crash's frames) keep their line breaks.
    own = logging.LogRecord(
        "sealward.rpc", logging.ERROR, __file__, 1, "Crashed err=%s\n  File x", ("E",), None
    )
    assert GethFormatter().format(own).endswith("err=E\n  File x")


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb"])
def test_lone_surrogates_are_shown_not_crashing_the_terminal(value: str) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    Terminal(io.StringIO(), out).write(value)  # would raise UnicodeEncodeError unescaped
    out.flush()
