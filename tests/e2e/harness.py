"""Drive the real ``sealward`` process the way geth and a stdio UI do: over its real IPC socket
and its real stdin/stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from signer.tools.ipcclient import IpcClient, RpcError, socket_accepts
from signer.tools.processes import stop_process

__all__ = ["IpcClient", "RpcError", "SignerProcess", "approving_ui", "run_cli"]

SEALWARD = str(Path(sys.executable).with_name("sealward"))


def run_cli(
    args: list[str], stdin: str = "", env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one sealward command to completion."""
    return subprocess.run(
        [SEALWARD, *args], input=stdin, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


UiPolicy = Callable[[str, dict[str, Any]], Any]


class SignerProcess:
    """``sealward --stdio-ui ...`` with this test acting as the UI through ``policy``."""

    def __init__(self, args: list[str], policy: UiPolicy | None, ipc: Path, env: dict[str, str] | None = None,
                 stdio_ui: bool = True, command: list[str] | None = None) -> None:  # fmt: skip
        """``command`` runs another clef-compatible binary (the real clef) instead of sealward."""
        self.ipc = ipc
        self.policy = policy
        self.ui_calls: list[tuple[str, dict[str, Any]]] = []
        self.ui_lines: list[bytes] = []  # what the signer wrote to its UI, byte for byte
        self.stderr_lines: list[str] = []
        self._answers: dict[int, Future[dict[str, Any]]] = {}
        self._write_lock = threading.Lock()
        flags = ["--stdio-ui"] if stdio_ui else []
        self.proc = subprocess.Popen(
            [*(command or [SEALWARD]), *flags, "--suppress-bootwarn", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        threading.Thread(target=self._stderr_loop, daemon=True).start()
        if stdio_ui:
            threading.Thread(target=self._ui_loop, daemon=True).start()
        self._wait_for_socket()

    def _stderr_loop(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode(errors="replace"))

    def _ui_loop(self) -> None:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        for line in self.proc.stdout:
            self.ui_lines.append(line)
            message = json.loads(line)
            if "method" not in message:  # the answer to a request this UI made (clef_*)
                self._answers[message["id"]].set_result(message)
                continue
            method, params = message.get("method", ""), (message.get("params") or [{}])[0]
            self.ui_calls.append((method, params))
            if "id" not in message:
                continue  # a notification
            assert self.policy is not None
            try:
                reply: dict[str, Any] = {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "result": self.policy(method, params),
                }
            except RpcError as exc:
                reply = {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": exc.code, "message": exc.message},
                }
            self._write(reply)

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()

    def ui_request(self, method: str, *params: Any) -> dict[str, Any]:
        """Call the signer's clef_* API the way a stdio UI does; returns the whole reply."""
        call_id = 10_000 + len(self._answers)
        self._answers[call_id] = Future()
        self._write({"jsonrpc": "2.0", "id": call_id, "method": method, "params": list(params)})
        return dict(self._answers[call_id].result(30))

    def _wait_for_socket(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if socket_accepts(self.ipc):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("the signer exited early:\n" + "".join(self.stderr_lines))
            time.sleep(0.05)
        raise TimeoutError("the signer did not open its IPC socket:\n" + "".join(self.stderr_lines))

    def client(self) -> IpcClient:
        return IpcClient(self.ipc)

    def stop(self) -> int:
        return stop_process(self.proc)


def approving_ui(password: str) -> UiPolicy:
    """A UI that approves everything and answers password prompts with ``password``."""

    def policy(method: str, params: dict[str, Any]) -> Any:
        if method == "ui_approveListing":
            return {"accounts": params["accounts"]}
        if method == "ui_approveSignData" or method == "ui_approveNewAccount":
            return {"approved": True}
        if method == "ui_approveTx":
            return {"approved": True, "transaction": params["transaction"]}
        if method == "ui_onInputRequired":
            return {"text": password}
        raise RpcError(-32601, f"unexpected UI call {method}")

    return policy
