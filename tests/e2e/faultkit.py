"""The fault campaign's kit: a geth-like sealer streaming against a real signer, a timeline of
what it got, and the checks every fault must pass (docs/reliability.md):

* no double seal: the heights delivered rise one by one, each with one seal hash, and the guard
  holds one seal hash per height;
* no lost guard record: every seal delivered to the client is in the guard's database;
* no corrupted store: SQLite's integrity check, the audit log's hash chain (``audit verify``);
* time until it serves again: from the end of the fault to the next seal delivered.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signer.clique.header import CliqueHeader, seal_hash
from signer.tools.ipcclient import IpcClient, RpcError
from tests.helpers.ops import Sealer


@dataclass
class Event:
    at: float
    ok: bool
    detail: str = ""


@dataclass
class Stream:
    """Seals continuously from a thread; a failed seal is asked again as it was, as geth does."""

    socket_path: Path
    address: str
    interval: float = 0.05
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sealer = Sealer(self.socket_path, self.address)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Stream:
        self._thread.start()
        return self

    def _run(self) -> None:
        client: IpcClient | None = None
        while not self._stop.is_set():
            try:
                if client is None:
                    client = IpcClient(self.socket_path, timeout=20)
                self.sealer.seal(client)
                self.events.append(Event(time.monotonic(), True))
            except RpcError as exc:
                self.events.append(Event(time.monotonic(), False, exc.message[:160]))
            except (OSError, ConnectionError) as exc:
                self.events.append(Event(time.monotonic(), False, type(exc).__name__))
                if client is not None:
                    client.close()
                client = None
                self._stop.wait(0.05)  # reconnecting, as geth would, without spinning
            self._stop.wait(self.interval)
        if client is not None:
            client.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    @property
    def delivered(self) -> list[CliqueHeader]:
        return list(self.sealer.sealed)

    def serving_again(self, since: float, streak: int = 5, timeout: float = 60) -> float:
        """Seconds from ``since`` to the first seal after it that starts ``streak`` seals in a row
        with no failure between: a fault whose effect comes late (a stopped worker is noticed at
        the rules timeout) is not taken for a recovery by one seal that was already under way."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            after = [e for e in list(self.events) if e.at >= since]
            for i in range(len(after) - streak + 1):
                if all(e.ok for e in after[i : i + streak]):
                    return after[i].at - since
            time.sleep(0.05)
        raise AssertionError(f"not serving again within {timeout} s; last events: {self.events[-5:]}")

    def failures_between(self, start: float, end: float) -> list[Event]:
        return [e for e in self.events if not e.ok and start <= e.at <= end]


def check_delivered(headers: list[CliqueHeader]) -> None:
    """The client never got two seals for one height: heights rise by exactly one."""
    numbers = [h.number for h in headers]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers


def check_guard_records(rows: list[tuple[int, bytes]], delivered: list[CliqueHeader]) -> None:
    """One seal hash per height in the guard, and every delivered seal among them."""
    by_height: dict[int, set[bytes]] = {}
    for height, sealed in rows:
        by_height.setdefault(height, set()).add(bytes(sealed))
    doubles = {h: s for h, s in by_height.items() if len(s) > 1}
    assert not doubles, f"heights sealed twice: {sorted(doubles)}"
    lost = [h.number for h in delivered if seal_hash(h) not in by_height.get(h.number, set())]
    assert not lost, f"seals delivered but not in the guard: {lost}"


def sqlite_guard_rows(path: Path, address: str) -> list[tuple[int, bytes]]:
    """Read the guard's SQLite file (read-only) after its integrity check."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT height, seal_hash FROM seals WHERE signer = ?", (address.lower(),))
        return [(int(h), bytes(s)) for h, s in rows.fetchall()]


def postgres_guard_rows(url: str, address: str) -> list[tuple[int, bytes]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT height, seal_hash FROM sealward_guard_seals WHERE signer = %s", (address.lower(),)
        ).fetchall()
    return [(int(h), bytes(s)) for h, s in rows]


def audit_chain_ok(sealward: str, path: Path, env: dict[str, str] | None = None) -> str:
    """``sealward audit verify``'s verdict line; fails the test when the chain is broken."""
    out = subprocess.run([sealward, "audit", "verify", str(path)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, **(env or {})})  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.splitlines()[0]


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (the rule workers of a signer)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Figure:
    """One row of the campaign's table."""

    fault: str
    outage: float
    serving_again: float
    delivered: int
    refused: int
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        more = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return (f"FAULT {self.fault}: outage {self.outage:.1f} s, serving again {self.serving_again:.2f} s "
                f"after it ended, {self.delivered} seals delivered, {self.refused} failed until then {more}")  # fmt: skip
