"""A minimal JSON-RPC client for the signer's unix socket, speaking like geth's ``--signer`` client."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message


class IpcClient:
    """One connection; calls are sequential (geth pipelines, but a sealer waits for each seal)."""

    def __init__(self, path: str | Path, timeout: float = 60.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self._buffer = b""
        self._next_id = 1

    def raw(self, data: bytes) -> Any:
        """Send bytes as they are and return the next decoded reply line."""
        self.sock.sendall(data)
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the signer closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def call(self, method: str, *params: Any) -> Any:
        request = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": list(params)}
        self._next_id += 1
        reply = self.raw(json.dumps(request).encode() + b"\n")
        if "error" in reply:
            raise RpcError(int(reply["error"]["code"]), str(reply["error"]["message"]))
        return reply["result"]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> IpcClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def socket_accepts(path: str | Path) -> bool:
    """True once a signer accepts connections on ``path`` (a stale socket file refuses them)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True
