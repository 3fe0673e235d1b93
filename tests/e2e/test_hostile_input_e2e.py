"""Hostile clients against the real signer: garbage, huge and deeply nested payloads, invalid UTF-8,
clients vanishing mid-request. Each gets an error or is dropped; everyone else is still served."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.e2e.harness import IpcClient, SignerProcess, approving_ui, run_cli

pytestmark = pytest.mark.e2e
PASSWORD = "hostile input pw"


@pytest.fixture()
def signer(tmp_path: Path) -> SignerProcess:
    ks = tmp_path / "ks"
    out = run_cli(
        ["--keystore", str(ks), "--lightkdf", "--suppress-bootwarn", "newaccount"], stdin=PASSWORD + "\n"
    )
    assert out.returncode == 0, out.stderr
    config = tmp_path / "config"
    proc = SignerProcess(["--keystore", str(ks), "--configdir", str(config), "--auditlog", "", "--seal-guard", "off"],
                         approving_ui(PASSWORD), config / "clef.ipc")  # fmt: skip
    yield proc
    proc.stop()


def _send_and_read(path: Path, data: bytes, timeout: float = 30) -> bytes:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # like `nc -U`: nothing more is coming
    except (BrokenPipeError, ConnectionResetError):
        pass  # the signer may hang up on an oversized message before reading all of it
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            if received.endswith(b"\n") and b"-32700" in received:
                break
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    return received


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json}\n",
        b"\xff\xfe\xfd garbage \x00\n",
        b"[" * 100_000 + b"\n",  # nesting far beyond any real request
        b'{"jsonrpc":"2.0","id":1,"method":"account_version","params":' + b"[" * 5000 + b"]" * 5000 + b"}\n",
    ],
    ids=["not-json", "binary", "deep-open", "deep-params"],
)
def test_malformed_input_gets_a_parse_error_or_a_hangup(signer: SignerProcess, payload: bytes) -> None:
    reply = _send_and_read(signer.ipc, payload)
    assert reply == b"" or b'"code":-32700' in reply or b'"code":-326' in reply
    with IpcClient(signer.ipc) as client:
        assert client.call("account_version") == "6.1.0"


def test_oversized_message_is_refused_and_others_are_served(signer: SignerProcess) -> None:
    huge = (
        b'{"jsonrpc":"2.0","id":1,"method":"account_signData","params":["text/plain","0x'
        + b"00" * 20
        + b'","0x'
    )
    huge += b"ab" * (9 * 1024 * 1024) + b'"]}\n'  # 18 MiB, over the 5 MiB message limit
    reply = _send_and_read(signer.ipc, huge, timeout=60)
    assert b"-32700" in reply or reply == b""
    with IpcClient(signer.ipc) as client:
        assert client.call("account_version") == "6.1.0"


def test_client_vanishing_mid_request_disturbs_no_one(signer: SignerProcess) -> None:
    for _ in range(20):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(signer.ipc))
        sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"account_signData","params":["text/plain","0x'
                     + os.urandom(20).hex().encode() + b'","0x01"]}\n')  # fmt: skip
        sock.close()  # gone before the answer
    with IpcClient(signer.ipc) as client:
        assert client.call("account_version") == "6.1.0"
        assert len(client.call("account_list")) == 1
    assert signer.proc.poll() is None
