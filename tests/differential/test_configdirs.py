"""Configdirs both ways, with the real clef and the real sealward.

A configdir is made by one signer's CLI (``init``, ``setpw``, ``attest``) and used by that
signer's daemon, whose attested rules write ``storage`` while serving a first request stream. The
configdir is then copied: the other signer opens one copy and clef the other, and both serve a
second stream whose decisions depend on that storage. Both must answer it identically, byte for
byte, UI included. That shows, in each direction, that the master seed unlocks (rules run),
stored passwords work (no password prompt reaches the UI), the attestation is honoured, and the
storage written by the other program reads back.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.differential.conftest import light_key_file
from tests.differential.deliberate import identical, ui_requests
from tests.differential.harness import ADDRESS, PASSWORD, Exchange, Pair, Peer, ScriptedUI
from tests.e2e.harness import SEALWARD
from tests.helpers.peers import CLEF, require_peer

pytestmark = pytest.mark.e2e

MASTER = "master password for the vault"
OTHER = "0x8A8eAFb1cf62BfBeb1741769DAE1a9dd47996192"

# ES5 that both rule engines run (goja in clef, duktape in sealward). Decisions depend on storage.
RULES = """\
function OnSignerStartup(info) {}
function ApproveListing(req) {
    if (storage.get("lastTx") != "") { return "Approve"; }
}
function ApproveSignData(req) {
    if (req.content_type != "text/plain") { return "Reject"; }
    var seen = parseInt(storage.get("signed") || "0", 10);
    storage.put("signed", String(seen + 1));
    if (seen < 3) { return "Approve"; }
    if (seen < 5) { return; }
    return "Reject";
}
function ApproveTx(req) {
    var left = new BigNumber(storage.get("budget") || "1000");
    var value = new BigNumber(req.transaction.value.slice(2), 16);
    if (value.greaterThan(left)) { return "Reject"; }
    storage.put("budget", left.minus(value).toString(10));
    return "Approve";
}
function OnApprovedTx(res) { storage.put("lastTx", res.tx.hash); }
"""


def _request(method: str, *params: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 3, "method": method, "params": list(params)}).encode() + b"\n"


def _text(message: str) -> bytes:
    return _request("account_signData", "text/plain", ADDRESS, "0x" + message.encode().hex())


def _tx(value: int, nonce: int) -> bytes:
    tx = {"from": ADDRESS, "to": OTHER, "gas": "0x5208", "gasPrice": "0x3b9aca00", "value": hex(value),
          "nonce": hex(nonce)}  # fmt: skip
    return _request("account_signTransaction", tx)


# (request, what the person at the UI answers if asked)
FIRST = [(_request("account_list"), True), (_text("one"), True), (_text("two"), True), (_tx(100, 0), True),
         (_tx(300, 1), True)]  # fmt: skip
SECOND = [
    (_request("account_list"), False),  # rules approve: a transaction was signed in the first stream
    (_text("three"), True),  # seen=2: rules approve
    (_text("four"), True),  # seen=3: manual, the person approves
    (_text("five"), False),  # seen=4: manual, the person refuses
    (_text("six"), True),  # seen=5: rules reject
    (_request("account_signData", "data/validator", ADDRESS, {"address": OTHER, "message": "0x01"}), True),
    (_tx(500, 2), True),  # within the 600 left: approve
    (_tx(200, 3), True),  # over the 100 left: reject
]


def make_configdir(command: str, work: Path, rules: Path) -> None:
    """init, setpw and attest through the given signer's CLI, as an operator would."""
    config = work / "config"
    config.mkdir(mode=0o700, parents=True)
    base = [command, "--suppress-bootwarn", "--configdir", str(config)]
    for args, stdin in (
        (["--lightkdf", "init"], f"{MASTER}\n{MASTER}\n"),
        (["setpw", ADDRESS], f"{PASSWORD}\n{PASSWORD}\n{MASTER}\n"),
        (["attest", hashlib.sha256(rules.read_bytes()).hexdigest()], f"{MASTER}\n"),
    ):
        done = subprocess.run([*base, *args], input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def serve(peer: Peer, stream: list[tuple[bytes, bool]]) -> list[Exchange]:
    peer.start()
    try:
        out = []
        for raw, approve in stream:
            peer.ui.approve = approve
            out.append(peer.exchange(raw, 15))
        return out
    finally:
        peer.stop()


@pytest.mark.parametrize("maker", ["clef", "sealward"])
def test_configdir_made_by_one_serves_under_the_other(tmp_path: Path, maker: str) -> None:
    clef = str(require_peer(CLEF))
    commands = {"clef": clef, "sealward": SEALWARD}
    rules = tmp_path / "rules.js"
    rules.write_text(RULES)
    key = light_key_file(tmp_path)
    made = tmp_path / "made"
    make_configdir(commands[maker], made, rules)

    flags = ["--rules", str(rules)]
    ui = ScriptedUI(by_title={"Master Password": MASTER})
    extra = {"clef": flags, "sealward": [*flags, "--seal-guard", "off"]}
    first = serve(Peer(maker, [commands[maker]], made, key, ui, extra=extra[maker]), FIRST)
    assert all(ex.error() is None for ex in first), [ex.reply for ex in first]
    asked = [json.loads(line)["method"] for ex in first for line in ex.ui]
    assert asked.count("ui_approveListing") == 1  # the first listing: no transaction yet, manual
    assert "ui_onInputRequired" not in asked  # the stored password was used, not asked for
    assert "ui_approveSignData" not in asked and "ui_approveTx" not in asked  # the rules decided

    # Both programs now open copies of the configdir the first one left behind.
    for name in ("clef", "sealward"):
        shutil.copytree(made, tmp_path / name, symlinks=True, ignore=shutil.ignore_patterns("clef.ipc"))
    pair = Pair(Peer("clef", [clef], tmp_path / "clef", key, ui, extra=extra["clef"]),
                Peer("sealward", [SEALWARD], tmp_path / "sealward", key, ui, extra=extra["sealward"]))  # fmt: skip
    pair.start()
    try:
        answers = []
        for raw, approve in SECOND:
            ui.approve = approve
            clef_ex, sealward_ex = pair.exchange(raw)
            assert identical(clef_ex, sealward_ex), (raw, clef_ex, sealward_ex)
            answers.append(sealward_ex)
    finally:
        pair.stop()
    errors = [ex.error() for ex in answers]
    assert errors == [None, None, None, (-32000, "request denied"), (-32000, "request denied"),
                      (-32000, "request denied"), None, (-32000, "request denied")]  # fmt: skip
    assert [len(ui_requests(ex, "ui_approveSignData")) for ex in answers[1:5]] == [0, 1, 1, 0]
    assert all(not ui_requests(ex, "ui_onInputRequired") for ex in answers)
