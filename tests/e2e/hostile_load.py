"""Hostile load against a real ``sealward`` process: requests parked on a person who never
answers, huge cheap-to-send messages over IPC and HTTP, many connections, slow HTTP clients.

Used by ``test_transport_bounds_e2e.py`` and runnable by hand to measure RSS (issue 12, finding 1):

    .venv/bin/python -m tests.e2e.hostile_load

prints the signer's RSS before and after each phase and how long ``account_version`` and
``account_list`` take on a new connection while everything else is going on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from signer.tools.ipcclient import IpcClient, socket_accepts
from signer.tools.processes import free_port
from tests.e2e.harness import SEALWARD, run_cli

ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
MASTER = "hostile load master pw"
# Listing is approved by the rules; everything else falls through to a person who never answers.
RULES = "function ApproveListing() { return 'Approve' }\n"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def request(method: str, *params: object, rid: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)}).encode()


def sign_request(rid: int) -> bytes:
    return request("account_signData", "text/plain", ADDRESS, "0x" + f"{rid:08x}", rid=rid)


def empty_objects(size: int) -> bytes:
    """``[{},{},...]`` of about ``size`` bytes: 3 bytes on the wire, a whole dict once decoded."""
    return b"[" + b",".join([b"{}"] * (size // 3)) + b"]"


def heavy_batch(size: int, calls: int = 1000) -> bytes:
    """A batch of ``calls`` requests whose params are ``[{},{},...]``, about ``size`` bytes in all:
    valid enough to be queued as calls, each call holding its share of decoded dicts."""
    params = empty_objects(size // calls).decode()
    return ("[" + ",".join(
        f'{{"jsonrpc":"2.0","id":{i},"method":"account_signData","params":{params}}}' for i in range(calls)
    ) + "]").encode()  # fmt: skip


@dataclass
class Signer:
    """A signer with a vault, attested listing rules, IPC and HTTP, and a console UI on a pipe
    that never answers, so every sign request waits for a person."""

    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def ipc(self) -> Path:
        return self.root / "config" / "clef.ipc"

    @property
    def url(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def prepare(self) -> None:
        pwfile = self.root / "master"
        pwfile.write_text(MASTER + "\n")
        pwfile.chmod(0o600)
        common = ["--configdir", str(self.root / "config"), "--master-password-file", str(pwfile),
                  "--suppress-bootwarn"]  # fmt: skip
        assert run_cli([*common, "--lightkdf", "init"]).returncode == 0
        (self.root / "rules.js").write_text(RULES)
        assert run_cli([*common, "attest", hashlib.sha256(RULES.encode()).hexdigest()]).returncode == 0

    def start(self, *extra: str) -> None:
        args = [SEALWARD, "--suppress-bootwarn", "--configdir", str(self.root / "config"),
                "--keystore", str(self.root / "ks"), "--master-password-file", str(self.root / "master"),
                "--rules", str(self.root / "rules.js"), "--auditlog", "", "--seal-guard", "off",
                "--http", "--http.addr", "127.0.0.1", "--http.port", str(self.port), *extra]  # fmt: skip
        log = (self.root / "signer.log").open("wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not socket_accepts(self.ipc):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("signer did not start:\n" + (self.root / "signer.log").read_text())
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss(self) -> float:
        return rss_mib(self.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_text(self) -> str:
        return (self.root / "signer.log").read_text(errors="replace")


def park_sign_requests(signer: Signer, count: int, per_connection: int = 8) -> list[socket.socket]:
    """``count`` sign requests left waiting for the person, over several IPC connections."""
    conns = []
    rid = 1000
    for _ in range((count + per_connection - 1) // per_connection):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(signer.ipc))
        batch = min(per_connection, count - rid + 1000)
        sock.sendall(b"".join(sign_request(rid + i) + b"\n" for i in range(batch)))
        rid += batch
        conns.append(sock)
    return conns


def send_and_close_ipc(signer: Signer, data: bytes) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(str(signer.ipc))
    with contextlib.suppress(OSError):
        sock.sendall(data + b"\n")
    sock.close()


def http_post(signer: Signer, body: bytes, *, read: bool = True, timeout: float = 60) -> bytes:
    head = (f"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
    with socket.create_connection(signer.url, timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
        except OSError:
            return b""
        if not read:
            return b""
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def timed_fresh_calls(signer: Signer, timeout: float = 30) -> dict[str, float]:
    """Seconds for account_version and account_list on a new IPC connection, and on HTTP."""
    out: dict[str, float] = {}
    with IpcClient(signer.ipc, timeout=timeout) as client:
        for method in ("account_version", "account_list"):
            start = time.monotonic()
            client.call(method)
            out[f"ipc {method}"] = time.monotonic() - start
    for method in ("account_version", "account_list"):
        start = time.monotonic()
        reply = http_post(signer, request(method), timeout=timeout)
        assert b'"result"' in reply, reply[:300]
        out[f"http {method}"] = time.monotonic() - start
    return out


@contextlib.contextmanager
def running_signer(*extra: str) -> Iterator[Signer]:
    with tempfile.TemporaryDirectory(prefix="sealward-load-") as tmp:
        signer = Signer(Path(tmp))
        signer.prepare()
        signer.start(*extra)
        try:
            yield signer
        finally:
            signer.stop()


def main() -> None:
    """The issue's reproduction, with figures."""
    with running_signer() as signer:
        time.sleep(1)
        print(
            f"idle:                              RSS {signer.rss():7.1f} MiB  threads {threads(signer.pid)}"
        )
        parked = park_sign_requests(signer, 48)
        time.sleep(2)
        print(
            f"48 sign requests waiting:          RSS {signer.rss():7.1f} MiB  threads {threads(signer.pid)}"
        )
        for _ in range(2):
            send_and_close_ipc(signer, empty_objects(16_500_000))
        time.sleep(5)
        print(f"+2 IPC messages of 16.5 MB, gone:  RSS {signer.rss():7.1f} MiB")
        for _ in range(2):
            send_and_close_ipc(signer, heavy_batch(16_500_000))
        time.sleep(5)
        print(f"+2 IPC batches of 16.5 MB, gone:   RSS {signer.rss():7.1f} MiB")
        for _ in range(4):
            http_post(signer, empty_objects(4_800_000), read=False)
        time.sleep(5)
        print(f"+4 HTTP bodies of 4.8 MB, gone:    RSS {signer.rss():7.1f} MiB")
        # Within the limits: full-size sign requests, as many as will be admitted, parked too.
        big = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(10)]
        for i, sock in enumerate(big):
            sock.connect(str(signer.ipc))
            payload = "0x" + "ab" * 2_500_000
            sock.sendall(b"".join(request("account_signData", "text/plain", ADDRESS, payload, rid=5000 + 2 * i + k)
                                  + b"\n" for k in range(2)))  # fmt: skip
        time.sleep(5)
        print(f"+20 sign requests of 5 MB:          RSS {signer.rss():7.1f} MiB")
        try:
            timings = timed_fresh_calls(signer, timeout=10)
            print("fresh calls: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))
        except (OSError, AssertionError) as exc:
            print(f"fresh calls failed: {type(exc).__name__}: {exc}")
        for sock in parked + big:
            sock.close()


if __name__ == "__main__":
    main()
