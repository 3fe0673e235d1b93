"""The fault campaign (issue 12): real processes, a geth-like sealer streaming clique seals, and one
fault each: the SoftHSM token pulled and put back, PostgreSQL killed and restarted under the
shared guard, the disk of the guard database and the audit log full, a rule worker SIGKILLed or
SIGSTOPped, the signer SIGKILLed mid-seal. For each: no double seal, no lost guard record, no
corrupted store, and how long until it serves again (printed as ``FAULT …`` lines; the table
is in docs/reliability.md)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from signer.clique.sealing import make_header, request_payload
from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.sandbox import SOFTHSM_MODULE, Sandbox
from tests.e2e.faultkit import (
    Figure,
    Stream,
    audit_chain_ok,
    check_delivered,
    check_guard_records,
    children,
    postgres_guard_rows,
    sqlite_guard_rows,
)
from tests.helpers.tmpfs import fill, small_tmpfs

pytestmark = pytest.mark.e2e
CLIQUE = "application/x-clique-header"
needs_softhsm = pytest.mark.skipif(
    not Path(SOFTHSM_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)


def _settle(stream: Stream, seconds: float = 1.0) -> None:
    """Let the stream deliver before the fault, so there is something to lose."""
    deadline = time.monotonic() + 30
    while len(stream.delivered) < 5:
        assert time.monotonic() < deadline, stream.events[-5:]
        time.sleep(0.05)
    time.sleep(seconds)


def _finish(stream: Stream, fault: str, start: float, end: float, **extra: Any) -> Figure:
    again = stream.serving_again(end)
    stream.stop()
    failed = len(stream.failures_between(start, end + again))
    figure = Figure(fault, end - start, again, len(stream.delivered), failed, extra)
    print(figure.line())
    check_delivered(stream.delivered)
    return figure


@needs_softhsm
def test_softhsm_token_pulled_and_put_back_mid_stream(box: Sandbox, tmp_path: Path) -> None:
    address = box.softhsm_key()
    box.start(rules=box.attest())
    stream = Stream(box.socket, address).start()
    _settle(stream)
    (token,) = list((box.work / "softhsm" / "tokens").iterdir())
    start = time.monotonic()
    shutil.move(token, tmp_path / "token-away")
    time.sleep(2)
    shutil.move(tmp_path / "token-away", token)
    end = time.monotonic()
    figure = _finish(stream, "softhsm-token-pulled", start, end)
    assert figure.refused > 0  # the token really was gone
    check_guard_records(sqlite_guard_rows(box.config / "sealguard.db", address), stream.delivered)
    audit_chain_ok(box.sealward, box.work / "audit.log", box.env)
    assert figure.serving_again < 10


@needs_softhsm
@pytest.mark.postgres
def test_postgres_killed_and_restarted_under_the_shared_guard(
    box: Sandbox, tmp_path: Path, pg_server: Any, pg_url: str
) -> None:
    """Two signers hold one key and share the guard; the active one streams while the server
    crashes (immediate stop: no checkpoint, as a kill) and comes back; then the standby asks for
    the active one's last height on another fork, and must be refused: the record survived."""
    key = secrets.token_hex(32)
    address = box.softhsm_key(private_key=key)
    (tmp_path / "standby").mkdir()
    standby = Sandbox(tmp_path / "standby")
    standby.init_vault()
    assert standby.softhsm_key(private_key=key) == address
    box.start("--guard-db", pg_url, "--seal-guard-instance", "node-a", rules=box.attest())
    standby.start("--guard-db", pg_url, "--seal-guard-instance", "node-b", rules=standby.attest())
    stream = Stream(box.socket, address).start()
    _settle(stream)
    start = time.monotonic()
    pg_server.stop("immediate")
    time.sleep(2)
    pg_server.start()
    end = time.monotonic()
    figure = _finish(stream, "postgres-killed", start, end)
    assert figure.refused > 0
    rows = postgres_guard_rows(pg_url, address)
    check_guard_records(rows, stream.delivered)
    last = stream.delivered[-1]
    fork = make_header(last.number, b"\x66" * 32, timestamp=int(time.time()))
    with (
        IpcClient(standby.socket) as client,
        pytest.raises(RpcError, match="sealed by signer instance node-a"),
    ):
        client.call("account_signData", CLIQUE, address, request_payload(fork))
    standby.stop()
    audit_chain_ok(box.sealward, box.work / "audit.log", box.env)
    assert figure.serving_again < 15


def test_disk_of_the_guard_and_the_audit_log_full(box: Sandbox, tmp_path: Path) -> None:
    address = box.keystore_key()
    with small_tmpfs(tmp_path / "disk", 16 * 1024) as disk:
        guard, audit = disk / "sealguard.db", disk / "audit.log"
        box.start("--guard-db", str(guard), "--auditlog", str(audit), rules=box.attest())
        stream = Stream(box.socket, address).start()
        _settle(stream)
        start = time.monotonic()
        filler = fill(disk)
        time.sleep(2)
        filler.unlink()
        end = time.monotonic()
        figure = _finish(stream, "disk-full", start, end)
        box.stop()  # the files are read whole, with nothing writing
        check_guard_records(sqlite_guard_rows(guard, address), stream.delivered)
        verdict = audit_chain_ok(box.sealward, audit, box.env)
        print(f"FAULT disk-full audit: {verdict}")
        assert figure.refused > 0  # the guard could not record: it refused rather than sign unrecorded
        assert figure.serving_again < 10


@pytest.mark.parametrize("how", ["SIGKILL", "SIGSTOP"])
def test_rule_worker_killed_or_stopped_mid_stream(box: Sandbox, how: str) -> None:
    address = box.keystore_key()
    box.start("--rules-timeout", "1", rules=box.attest())
    stream = Stream(box.socket, address).start()
    _settle(stream)
    assert box.daemon is not None
    workers = children(box.daemon.pid)
    assert workers, "no rule worker process found"
    start = time.monotonic()
    for pid in workers:
        os.kill(pid, getattr(signal, how))
    end = start  # the fault is the signal; its effects are measured from it
    figure = _finish(stream, f"rule-worker-{how}", start, end, workers=len(workers))
    check_guard_records(sqlite_guard_rows(box.config / "sealguard.db", address), stream.delivered)
    audit_chain_ok(box.sealward, box.work / "audit.log", box.env)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert figure.serving_again < 10


def test_signer_killed_mid_seal_then_restarted(box: Sandbox) -> None:
    address = box.keystore_key()
    rules = box.attest()
    box.start(rules=rules)
    stream = Stream(box.socket, address, interval=0.0).start()  # back to back: a kill lands mid-seal
    _settle(stream, 0.3)
    start = time.monotonic()
    box.kill()
    box.start(rules=rules)
    end = time.monotonic()
    figure = _finish(stream, "signer-SIGKILL", start, end)
    box.stop()
    check_guard_records(sqlite_guard_rows(box.config / "sealguard.db", address), stream.delivered)
    audit_chain_ok(box.sealward, box.work / "audit.log", box.env)
    assert figure.serving_again < 10
