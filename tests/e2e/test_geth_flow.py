"""End to end: the real sealward process, a keystore key, a scripted stdio UI, and a geth-like client
on the real IPC socket. Every seal is checked with rlp + eth-keys, never with our own recovery."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import rlp
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from signer.tools.processes import free_port
from tests.e2e.clique_check import recover_clique_signer
from tests.e2e.harness import IpcClient, RpcError, SignerProcess, approving_ui, run_cli

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
KEY = "0102030405060708090a0102030405060708090a0102030405060708090a0102"
ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"


def _synthetic_clique_rlp(number: int, parent: bytes, london: bool) -> bytes:
    fields: list[object] = [
        parent, keccak(rlp.encode([])), b"\x00" * 20, b"\x11" * 32, b"\x22" * 32, b"\x33" * 32,
        b"\x00" * 256, 2, number, 30_000_000, 0, 1_700_000_000 + number, b"vanity".ljust(32, b"\x00"),
        b"\x00" * 32, b"\x00" * 8,
    ]  # fmt: skip
    if london:
        fields.append(7)
    return rlp.encode(fields)


@pytest.fixture()
def keystore(tmp_path: Path) -> Path:
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(KEY + "\n")
    ks = tmp_path / "keystore"
    out = run_cli(["--keystore", str(ks), "--lightkdf", "--suppress-bootwarn", "importraw", str(keyfile)],
                  stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert out.returncode == 0, out.stderr + out.stdout
    assert ADDRESS in out.stdout
    return ks


@pytest.fixture()
def signer(tmp_path: Path, keystore: Path) -> SignerProcess:
    config = tmp_path / "config"
    proc = SignerProcess(
        ["--keystore", str(keystore), "--lightkdf", "--configdir", str(config), "--chainid", "5",
         "--auditlog", str(tmp_path / "audit.log"), "--guard-db", str(tmp_path / "guard.db")],
        approving_ui(PASSWORD), config / "clef.ipc",
    )  # fmt: skip
    yield proc
    proc.stop()


def test_geth_startup_listing_and_clique_seals(signer: SignerProcess, tmp_path: Path) -> None:
    client = signer.client()
    assert client.call("account_version") == "6.1.0"
    assert client.call("account_list") == [ADDRESS.lower()]
    assert client.call("rpc_modules") == {"account": "1.0", "rpc": "1.0"}
    parent = b"\x00" * 32
    for number in range(1, 6):
        clique_rlp = _synthetic_clique_rlp(number, parent, london=number % 2 == 0)
        sig = bytes.fromhex(
            client.call("account_signData", "application/x-clique-header", ADDRESS, "0x" + clique_rlp.hex())[
                2:
            ]
        )
        assert len(sig) == 65 and sig[64] in (0, 1)  # clique V convention
        assert recover_clique_signer(clique_rlp, sig) == ADDRESS
        parent = keccak(clique_rlp)
    # The UI saw clef's clique request shape.
    requests = [p for m, p in signer.ui_calls if m == "ui_approveSignData"]
    assert requests[0]["content_type"] == "application/x-clique-header"
    assert requests[0]["messages"][0]["value"].startswith("clique header 1 [0x")
    assert stat.S_IMODE(os.stat(signer.ipc).st_mode) == 0o600
    client.close()


def test_real_clique_headers_seal_hash(signer: SignerProcess, vectors_dir: Path) -> None:
    records = json.loads((vectors_dir / "clique" / "real_headers.json").read_text())["headers"]
    client = signer.client()
    for record in records[:6]:
        clique_rlp = bytes.fromhex(record["clique_rlp"][2:])
        sig = bytes.fromhex(client.call("account_signData", "application/x-clique-header", ADDRESS,
                                        record["clique_rlp"])[2:])  # fmt: skip
        assert recover_clique_signer(clique_rlp, sig) == ADDRESS


def test_personal_sign_and_ecrecover(signer: SignerProcess) -> None:
    client = signer.client()
    message = b"hello sealward"
    sig = client.call("account_signData", "text/plain", ADDRESS, "0x" + message.hex())
    assert int(sig[-2:], 16) in (27, 28)
    assert Account.recover_message(encode_defunct(primitive=message), signature=sig) == ADDRESS
    assert client.call("account_ecRecover", "0x" + message.hex(), sig) == ADDRESS.lower()


def test_errors_keep_the_signer_serving(signer: SignerProcess) -> None:
    client = signer.client()
    cases = [
        (("account_signData", "text/plain", ADDRESS, "deadbeef"), -32000, "hex string without 0x prefix"),
        (("account_signData", "text/plain", "0x1234", "0x00"), -32602, "invalid argument 1"),
        (("account_signData", "application/x-clique-header", ADDRESS, "0xc0"), -32000, "rlp:"),
        (("account_nope",), -32601, "the method account_nope does not exist/is not available"),
        (("account_signData", "text/plain"), -32602, "missing value for required argument 1"),
        (("account_signData", "text/plain", "0x" + "11" * 20, "0x00"), -32000, "unknown account"),
    ]
    for call, code, text in cases:
        with pytest.raises(RpcError) as info:
            client.call(*call)
        assert info.value.code == code and text in info.value.message, (call, info.value)
    # still serving on a new connection
    assert IpcClient(signer.ipc).call("account_version") == "6.1.0"


def test_audit_log_records_requests_without_secrets(signer: SignerProcess, tmp_path: Path) -> None:
    client = signer.client()
    client.call("account_signData", "text/plain", ADDRESS, "0x01")
    audit = (tmp_path / "audit.log").read_text()
    assert "msg=SignData api=signer type=request" in audit
    assert "msg=SignData api=signer type=response" in audit and "error=<nil>" in audit
    assert PASSWORD not in audit
    assert PASSWORD not in "".join(signer.stderr_lines)


def test_denial_is_request_denied(tmp_path: Path, keystore: Path) -> None:
    config = tmp_path / "config"

    def deny(method: str, params: dict[str, object]) -> object:
        return {"approved": False} if method == "ui_approveSignData" else {"accounts": None}

    proc = SignerProcess(["--keystore", str(keystore), "--configdir", str(config), "--auditlog", "",
                          "--seal-guard", "off"], deny, config / "clef.ipc")  # fmt: skip
    try:
        client = proc.client()
        for call in (("account_signData", "text/plain", ADDRESS, "0x01"), ("account_list",)):
            with pytest.raises(RpcError) as info:
                client.call(*call)
            assert info.value.message == "request denied"
    finally:
        proc.stop()


def test_http_endpoint_with_vhosts(tmp_path: Path, keystore: Path) -> None:
    import urllib.error
    import urllib.request

    port = free_port()
    config = tmp_path / "config"
    proc = SignerProcess(["--keystore", str(keystore), "--configdir", str(config), "--auditlog", "", "--http",
                          "--http.addr", "127.0.0.1", "--http.port", str(port)], approving_ui(PASSWORD),
                         config / "clef.ipc")  # fmt: skip
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "account_version", "params": []}).encode()

        def post(host: str) -> tuple[int, bytes]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/", body, {"Content-Type": "application/json", "Host": host}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    return reply.status, reply.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()

        status, reply = post("localhost")
        assert status == 200 and json.loads(reply)["result"] == "6.1.0"
        status, reply = post("evil.example")
        assert status == 403 and reply == b"invalid host specified\n"
        sig = json.loads(post("localhost:8550")[1])  # the port is stripped before the vhost check
        assert sig["result"] == "6.1.0"
        ui_requests = [p for m, p in proc.ui_calls if m == "ui_onSignerStartup"]
        assert ui_requests and ui_requests[0]["info"]["extapi_http"] == f"http://127.0.0.1:{port}/"
    finally:
        proc.stop()


def test_master_password_is_asked_through_the_ui(tmp_path: Path, keystore: Path) -> None:
    config = tmp_path / "config"
    pwfile = tmp_path / "pw"
    pwfile.write_text("the master password\n")
    pwfile.chmod(0o600)
    assert run_cli(["--configdir", str(config), "--master-password-file", str(pwfile), "--lightkdf",
                    "--suppress-bootwarn", "init"]).returncode == 0  # fmt: skip
    assert run_cli(["--configdir", str(config), "--master-password-file", str(pwfile), "--suppress-bootwarn",
                    "setpw", ADDRESS], stdin=f"{PASSWORD}\n{PASSWORD}\n").returncode == 0  # fmt: skip
    asked: list[str] = []

    def ui(method: str, params: dict[str, object]) -> object:
        if method == "ui_onInputRequired":
            asked.append(str(params["title"]))
            if params["title"] == "Master Password":
                return {"text": "the master password"}
            raise RpcError(-32000, "no other password should be asked")
        return approving_ui(PASSWORD)(method, params)

    proc = SignerProcess(["--keystore", str(keystore), "--configdir", str(config), "--auditlog", "",
                          "--seal-guard", "off"], ui, config / "clef.ipc")  # fmt: skip
    try:
        sig = proc.client().call("account_signData", "text/plain", ADDRESS, "0x01")
        assert Account.recover_message(encode_defunct(primitive=b"\x01"), signature=sig) == ADDRESS
        assert asked == ["Master Password"]  # the keystore password came from the vault
    finally:
        proc.stop()


def test_clef_ui_api_over_stdio(signer: SignerProcess, tmp_path: Path) -> None:
    assert signer.ui_request("clef_listAccounts")["result"][0]["address"] == ADDRESS.lower()
    assert signer.ui_request("clef_chainId")["result"] == "0x5"
    assert signer.ui_request("clef_setChainId", "1337")["result"] == "0x539"
    assert signer.ui_request("clef_chainId")["result"] == "0x539"
    wallets = signer.ui_request("clef_listWallets")["result"]
    assert wallets[0]["status"] == "Locked" and wallets[0]["accounts"][0]["address"] == ADDRESS.lower()
    weak = signer.ui_request("clef_importRawKey", "11" * 32, "short")
    assert weak["error"]["message"] == "password requirements not met: password too short (<10 characters)"
    imported = signer.ui_request("clef_importRawKey", "11" * 32, "a good long password")["result"]
    assert imported["url"].startswith("keystore://")
    again = signer.ui_request("clef_importRawKey", "11" * 32, "a good long password")
    assert again["error"]["message"] == "account already exists"
    exported = signer.ui_request("clef_export", ADDRESS)["result"]
    assert exported["address"] == ADDRESS.lower()[2:] and "crypto" in exported
    assert signer.ui_request("clef_nope")["error"]["code"] == -32601
    # the external API never exposes clef_* methods
    with pytest.raises(RpcError) as info:
        signer.client().call("clef_listAccounts")
    assert info.value.code == -32601
