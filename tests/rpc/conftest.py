"""Shared fixtures: a dispatcher whose test methods let a test see and steer what handlers do."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from signer.errors import RequestDenied
from signer.rpc.dispatch import Dispatcher
from signer.types import Metadata


class Probe:
    """What the test methods saw, plus a gate that holds ``test_wait`` until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.finished = threading.Event()
        self.notes: list[Any] = []
        self.metas: list[Metadata] = []
        self._lock = threading.Lock()

    def note(self, meta: Metadata, value: Any) -> None:
        with self._lock:
            self.notes.append(value)
            self.metas.append(meta)


def build_dispatcher(probe: Probe) -> Dispatcher:
    dispatcher = Dispatcher()

    def wait(meta: Metadata) -> str:
        probe.started.set()
        probe.release.wait(20)
        probe.finished.set()
        return "released"

    def deny(meta: Metadata) -> None:
        raise RequestDenied()

    dispatcher.add("test_echo", lambda meta, value: value, required=1)
    dispatcher.add("test_pair", lambda meta, a, b: [a, b], required=1, optional=1)
    dispatcher.add("test_wait", wait)
    dispatcher.add("test_meta", lambda meta: meta.to_json())
    dispatcher.add("test_big", lambda meta, size: "x" * size, required=1)
    dispatcher.add("test_note", probe.note, required=1)
    dispatcher.add("test_deny", deny)
    return dispatcher


@pytest.fixture
def probe() -> Iterator[Probe]:
    probe = Probe()
    yield probe
    probe.release.set()  # never leave a handler blocked after a test


@pytest.fixture
def dispatcher(probe: Probe) -> Dispatcher:
    return build_dispatcher(probe)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short folder: pytest's tmp_path can exceed the 108-byte unix socket path limit."""
    path = Path(tempfile.mkdtemp(prefix="sw-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def request(method: str, *params: Any, id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)}
