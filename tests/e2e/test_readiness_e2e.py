"""Readiness tells the truth within seconds, both ways: a real signer's /readyz flips to 503 when
its shared PostgreSQL guard stops or its SoftHSM token disappears, and back to 200 when they
return; `sealward status` says the same to a person."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.processes import free_port
from signer.tools.sandbox import SOFTHSM_MODULE, Sandbox
from tests.helpers.ops import Sealer, http_get, scrape, value, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(SOFTHSM_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
    ),
]


def _readiness(port: int) -> tuple[int, dict[str, Any]]:
    status, body, _ = http_get(port, "/readyz")
    return status, json.loads(body)


def _failing(port: int) -> list[str]:
    return [name for name, check in _readiness(port)[1]["checks"].items() if not check["ok"]]


def _status(box: Sandbox, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([box.sealward, "status", "--metrics.port", str(port)], capture_output=True, text=True,
                          timeout=30)  # fmt: skip


@pytest.mark.postgres
def test_readiness_follows_the_shared_postgres_guard(box: Sandbox, pg_server: Any, pg_url: str) -> None:
    address = box.softhsm_key()
    port = free_port()
    box.start("--metrics", "--metrics.port", str(port), "--guard-db", pg_url, rules=box.attest())
    sealer = Sealer(box.socket, address)
    with IpcClient(box.socket) as client:
        sealer.seal(client, 2)
    assert _readiness(port)[0] == 200
    shown = _status(box, port)
    assert shown.returncode == 0 and "READY" in shown.stdout and "ok   seal-guard" in shown.stdout
    pg_server.stop()
    try:
        down = wait_for(lambda: _readiness(port)[0] == 503, timeout=10)
        assert _failing(port) == ["seal-guard"]
        with IpcClient(box.socket) as client, pytest.raises(RpcError, match="seal guard unavailable"):
            sealer.seal(client)  # fails closed
        shown = _status(box, port)
        assert shown.returncode == 1 and "NOT READY" in shown.stdout and "FAIL seal-guard" in shown.stdout
    finally:
        pg_server.start()
    up = wait_for(lambda: _readiness(port)[0] == 200, timeout=15)
    with IpcClient(box.socket) as client:
        sealer.seal(client, 2)
    m = scrape(port)
    assert value(m, "sealward_seal_guard_decisions_total", decision="unavailable") == 1
    assert value(m, "sealward_ready") == 1
    print(f"readiness: PostgreSQL down seen after {down:.1f}s, back after {up:.1f}s")
    assert down < 5 and up < 5


def test_readiness_follows_the_softhsm_token(box: Sandbox, tmp_path: Path) -> None:
    address = box.softhsm_key()
    port = free_port()
    box.start("--metrics", "--metrics.port", str(port), rules=box.attest())
    sealer = Sealer(box.socket, address)
    with IpcClient(box.socket) as client:
        sealer.seal(client, 2)
    assert _readiness(port)[0] == 200
    tokens = box.work / "softhsm" / "tokens"
    (token,) = list(tokens.iterdir())
    away = tmp_path / "token-away"
    shutil.move(token, away)  # the token is pulled out
    try:
        down = wait_for(lambda: _readiness(port)[0] == 503, timeout=10)
        assert _failing(port) == ["backend:pkcs11"]
        assert "sealward" in _readiness(port)[1]["checks"]["backend:pkcs11"]["detail"]
        with IpcClient(box.socket) as client, pytest.raises(RpcError):
            sealer.seal(client)
    finally:
        shutil.move(away, token)  # and put back
    up = wait_for(lambda: _readiness(port)[0] == 200, timeout=20)
    with IpcClient(box.socket) as client:
        sealer.seal(client, 2)  # signing works again without a restart
    assert value(scrape(port), "sealward_ready_check", check="backend:pkcs11") == 1
    print(f"readiness: token removal seen after {down:.1f}s, return after {up:.1f}s")
    assert down < 5 and up < 10
