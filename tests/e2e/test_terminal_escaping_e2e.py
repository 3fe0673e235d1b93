"""The real ``sealward`` with its terminal UI, attacked over HTTP and IPC: a Host header, a
User-Agent and EIP-712 field names full of ESC sequences, C1 controls and bidi overrides are
shown to the operator as visible escapes, never obeyed (issue 12, finding 2)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from signer.tools.ipcclient import RpcError
from signer.tools.processes import free_port
from tests.e2e.harness import SignerProcess

pytestmark = pytest.mark.e2e

ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
UP = "\x1b[1A\x1b[2K"  # cursor up, clear the line


def _raw_post(port: int, host: bytes, agent: bytes, body: bytes) -> bytes:
    """http.client refuses control characters in headers; a hostile caller does not use it."""
    head = (b"POST / HTTP/1.1\r\nHost: " + host + b"\r\nUser-Agent: " + agent +
            b"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n")  # fmt: skip
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_hostile_request_strings_reach_the_terminal_escaped(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config"
    proc = SignerProcess(["--keystore", str(tmp_path / "ks"), "--configdir", str(config), "--auditlog", "",
                          "--http", "--http.addr", "127.0.0.1", "--http.port", str(port), "--http.vhosts", "*"],
                         None, config / "clef.ipc", stdio_ui=False)  # fmt: skip
    try:
        assert proc.proc.stdin is not None
        proc.proc.stdin.write(b"n\nn\n")  # the operator denies both prompts
        proc.proc.stdin.flush()
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "account_signData",
                           "params": ["text/plain", ADDRESS, "0x" + (UP + "\x9b").encode().hex()]}).encode()  # fmt: skip
        reply = _raw_post(port, ("evil" + CLEAR).encode(), "agent\xe2\x80\xae\x9b".encode("latin-1"), body)
        assert b"request denied" in reply
        field = "amount" + UP + "value: 0 wei"
        typed = {
            "types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                      "Pay": [{"name": field, "type": "uint256"}]},
            "primaryType": "Pay", "domain": {"name": "d\u202eevil"}, "message": {field: "1000"},
        }  # fmt: skip
        with proc.client() as client, pytest.raises(RpcError, match="request denied"):
            client.call("account_signTypedData", ADDRESS, typed)
    finally:
        proc.stop()
    assert proc.proc.stdout is not None
    screen = proc.proc.stdout.read()
    text = screen.decode("utf-8")
    assert text.count("Approve? [y/N]:") == 2, text
    for raw in (b"\x1b", b"\xc2\x9b", "\u202e".encode(), b"\r"):
        assert raw not in screen, raw
    assert "evil\\x1b[2J\\x1b[H" in text  # the Host header, as the operator sees it
    assert "amount\\x1b[1A\\x1b[2Kvalue: 0 wei" in text  # the EIP-712 field name
    assert "d\\u202eevil" in text
    log = "".join(proc.stderr_lines)
    assert "\x1b" not in log and "\u202e" not in log
