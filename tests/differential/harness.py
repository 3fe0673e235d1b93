"""Run the real clef and the real sealward side by side and record what each does with a request.

Both start with the same flags on their own copies of one light-KDF keystore key, each with
``--stdio-ui`` answered by the same scripted UI (``ScriptedUI``). ``Pair.exchange`` sends one raw
request to both over fresh IPC connections (concurrently) and returns, for each signer, the reply
line and every line it wrote to its UI while serving the request; a peer started with an HTTP
port is sent the request as an HTTP POST instead, and its status and content type are recorded
too. A ``clef_chainId`` call over the
stdio channel after the reply is the barrier: the UI stream is ordered, so every UI message the
request caused has been read when that answer arrives.

A message that gets no reply while the signer goes on serving others is "silent" (a JSON-RPC
notification, or a response object a server ignores). A signer that exits is "crashed"; one that
neither answers nor serves others is "hung". Either way it is restarted, so the corpus goes on.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.harness import SignerProcess

# The test key: upstream clef's console tests import it (address 0x9160DC91...BdA6).
KEY_HEX = "0102030405060708090a0102030405060708090a0102030405060708090a0102"
ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
PASSWORD = "differential-pw"
CHAIN_ID = 5
_UI_ID = re.compile(rb'^\{"jsonrpc":"2\.0","id":\d+,')
# The HTTP client's own port, in the request metadata a UI is shown ("remote":"127.0.0.1:41234").
_REMOTE_PORT = re.compile(rb'"remote":"127\.0\.0\.1:\d+"')


@dataclass
class ScriptedUI:
    """The person at both UIs. ``approve``/``password`` are set per request; both signers read the
    same values, and every answer depends only on the request, so their transcripts can match."""

    approve: bool = True
    password: str = PASSWORD
    by_title: dict[str, str] = field(default_factory=dict)  # e.g. {"Master Password": ...}

    def __call__(self, method: str, params: dict[str, Any]) -> Any:
        if method == "ui_approveListing":
            return {"accounts": params["accounts"] if self.approve else None}
        if method == "ui_approveTx":
            return {"approved": self.approve, "transaction": params["transaction"]}
        if method in ("ui_approveSignData", "ui_approveNewAccount"):
            return {"approved": self.approve}
        if method == "ui_onInputRequired":
            return {"text": self.by_title.get(params.get("title", ""), self.password)}
        return None


@dataclass
class Exchange:
    """What one signer did with one request (paths of its own folders replaced by placeholders)."""

    reply: bytes | None
    ui: list[bytes]
    fate: str = "served"  # "served", "silent" (no reply, still serving), "crashed" or "hung"
    http: str | None = None  # over HTTP: "<status> <content type>"

    def decoded(self) -> Any:
        return None if self.reply is None else json.loads(self.reply)

    def error(self) -> tuple[int, str] | None:
        reply = self.decoded()
        if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
            return reply["error"].get("code"), reply["error"].get("message")
        return None


@dataclass
class Peer:
    """One signer binary on its own configdir and keystore copy."""

    name: str
    command: list[str]
    work: Path
    key_file: Path
    ui: ScriptedUI
    extra: list[str] = field(default_factory=list)
    http_port: int | None = None  # serve and send over HTTP on this port instead of IPC
    process: SignerProcess | None = None
    restarts: int = 0

    @property
    def configdir(self) -> Path:
        return self.work / "config"

    @property
    def keystore(self) -> Path:
        return self.work / "keystore"

    def start(self) -> None:
        self.configdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.keystore.mkdir(mode=0o700, exist_ok=True)
        if not any(self.keystore.iterdir()):
            shutil.copy(self.key_file, self.keystore / self.key_file.name)
        args = ["--nousb", "--configdir", str(self.configdir), "--keystore", str(self.keystore), "--lightkdf",
                "--chainid", str(CHAIN_ID), "--auditlog", "", "--loglevel", "2",
                "--4bytedb-custom", str(self.work / "4byte-custom.json"), *self.extra]  # fmt: skip
        if self.http_port is not None:
            args += ["--http", "--http.addr", "127.0.0.1", "--http.port", str(self.http_port)]
        self.process = SignerProcess(args, self.ui, self.configdir / "clef.ipc", command=self.command)
        self._await_startup_message()

    def _await_startup_message(self, timeout: float = 30) -> None:
        """Both programs open their socket and then tell the UI they started: a request sent in
        between would find ``ui_onSignerStartup`` in its own transcript (seen in CI)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not any(b'"ui_onSignerStartup"' in line for line in self.process.ui_lines):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} sent no ui_onSignerStartup within {timeout:g} s")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def normalise(self, data: bytes) -> bytes:
        for path, name in ((self.keystore, b"<keystore>"), (self.configdir, b"<configdir>")):
            data = data.replace(str(path).encode(), name)
        if self.http_port is not None:
            data = data.replace(f"127.0.0.1:{self.http_port}".encode(), b"127.0.0.1:<port>")
            data = _REMOTE_PORT.sub(b'"remote":"127.0.0.1:<client>"', data)
        return data

    def exchange(self, raw: bytes, timeout: float) -> Exchange:
        assert self.process is not None
        mark = len(self.process.ui_lines)
        status = None
        if self.http_port is None:
            reply, fate = _send(self.process.ipc, raw, timeout)
        else:
            reply, fate, status = _post(self.http_port, raw, timeout)
        if fate == "hung" and self.serving():
            fate = "silent"  # no answer to this message, yet it serves others: not a hang
        if self.process.proc.poll() is not None:
            fate = "crashed"
        if fate in ("served", "silent"):
            self._barrier()
        lines = [
            self.normalise(_UI_ID.sub(b'{"jsonrpc":"2.0",', line)) for line in self.process.ui_lines[mark:]
        ]
        result = Exchange(None if reply is None else self.normalise(reply), lines, fate, status)
        if fate in ("crashed", "hung"):
            self.restart()
        return result

    def serving(self) -> bool:
        """Whether a fresh connection still gets account_version answered."""
        assert self.process is not None
        probe = b'{"jsonrpc":"2.0","id":"probe","method":"account_version"}\n'
        reply, _ = _send(self.process.ipc, probe, 5)
        return reply is not None and b'"6.1.0"' in reply

    def _barrier(self) -> None:
        assert self.process is not None
        answer = self.process.ui_request("clef_chainId")
        self.process.ui_lines.pop()  # the barrier's own answer is not part of the transcript
        assert answer.get("result") == hex(CHAIN_ID), answer


def _send(path: Path, raw: bytes, timeout: float) -> tuple[bytes | None, str]:
    """One request on a fresh connection; the first reply line, or why there is none."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        sock.sendall(raw)
        buffer = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buffer:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return None, "silent"  # closed without answering
            buffer += chunk
            if time.monotonic() > deadline:
                return None, "hung"
        return buffer.split(b"\n", 1)[0], "served"
    except TimeoutError:
        return None, "hung"
    except OSError:
        return None, "crashed"
    finally:
        sock.close()


def _post(port: int, raw: bytes, timeout: float) -> tuple[bytes | None, str, str | None]:
    """One request as the body of a POST on a fresh connection, as geth's HTTP client sends it;
    the body (its final newline removed, as a reply line), the fate and "<status> <type>"."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            "POST", "/", body=raw.rstrip(b"\n"),
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": "differential"},
        )  # fmt: skip
        response = connection.getresponse()
        body = response.read()
        status = f"{response.status} {response.getheader('Content-Type')}"
        return body.removesuffix(b"\n") or None, "served", status
    except TimeoutError:
        return None, "hung", None
    except (OSError, http.client.HTTPException):
        return None, "crashed", None
    finally:
        connection.close()


class Pair:
    """clef and sealward, served the same requests."""

    def __init__(self, clef: Peer, sealward: Peer) -> None:
        self.clef = clef
        self.sealward = sealward
        self._pool = ThreadPoolExecutor(2)
        self._lock = threading.Lock()

    def start(self) -> None:
        list(self._pool.map(lambda peer: peer.start(), (self.clef, self.sealward)))

    def stop(self) -> None:
        for peer in (self.clef, self.sealward):
            peer.stop()
        self._pool.shutdown()

    def exchange(self, raw: bytes, timeout: float = 15) -> tuple[Exchange, Exchange]:
        with self._lock:  # one request at a time, so each UI transcript belongs to it
            clef = self._pool.submit(self.clef.exchange, raw, timeout)
            sealward = self._pool.submit(self.sealward.exchange, raw, timeout)
            return clef.result(), sealward.result()
