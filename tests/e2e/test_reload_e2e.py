"""SIGHUP on a real signer while a client seals without pause: an unattested rule file is refused
loudly and the old rules stay, an attested one takes effect, the audit log is reopened after a
rotation with its chain intact, and not one request fails. Then: a full disk under the audit log,
with and without --auditlog.required, and JSON logs."""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
from pathlib import Path

import pytest

from signer.api.auditchain import verify
from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.processes import free_port
from signer.tools.sandbox import CLIQUE_RULES, SOFTHSM_MODULE, Sandbox
from tests.helpers.ops import Sealer, http_get, scrape, value, wait_for
from tests.helpers.tmpfs import fill, small_tmpfs

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(SOFTHSM_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
    ),
]
# The walkthrough's rules, plus personal messages.
TEXT_TOO = CLIQUE_RULES.replace(
    "function ApproveSignData(r) {",
    'function ApproveSignData(r) {\n    if (r.content_type == "text/plain") { return "Approve" }',
)


def _reloads(port: int, outcome: str) -> float:
    return value(scrape(port), "sealward_rules_reloads_total", outcome=outcome) or 0.0


def _text_signature(socket_path: Path, address: str) -> str | None:
    with IpcClient(socket_path) as client:
        try:
            return str(client.call("account_signData", "text/plain", address, "0x68656c6c6f"))
        except RpcError as exc:
            assert exc.message == "request denied"
            return None


class _Background:
    """Seals without pause on its own connection until stopped; keeps every failure."""

    def __init__(self, sealer: Sealer) -> None:
        self.sealer, self.errors, self.count = sealer, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with IpcClient(self.sealer.socket_path) as client:
                while not self._stop.is_set():
                    self.sealer.seal(client)
                    self.count += 1
        except BaseException as exc:  # any failure is the test's failure
            self.errors.append(exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def test_sighup_reloads_attested_rules_and_reopens_the_audit_log_without_dropping_a_request(
    box: Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    address = box.softhsm_key()
    port = free_port()
    rules = box.attest()
    box.start("--metrics", "--metrics.port", str(port), rules=rules)
    assert box.daemon is not None
    hup = lambda: os.kill(box.daemon.pid, signal.SIGHUP)  # noqa: E731
    background = _Background(Sealer(box.socket, address))
    wait_for(lambda: background.count >= 5 or background.errors, timeout=20)

    rules.write_text(TEXT_TOO)  # edited, not attested
    hup()
    wait_for(lambda: _reloads(port, "refused") == 1, timeout=10)
    assert _text_signature(box.socket, address) is None  # the old rules are still the ones running
    assert "RULES NOT RELOADED, the previous rules stay active" in capfd.readouterr().out

    box.attest(TEXT_TOO)  # the operator attests the new file while the signer runs
    hup()
    wait_for(lambda: _reloads(port, "applied") == 1, timeout=10)
    assert _text_signature(box.socket, address) is not None
    hup()
    wait_for(lambda: _reloads(port, "unchanged") == 1, timeout=10)

    audit = box.work / "audit.log"
    audit.rename(box.work / "audit.log.1")  # logrotate
    hup()
    wait_for(lambda: audit.exists(), timeout=10)
    sealed_before = background.count
    wait_for(lambda: background.count >= sealed_before + 5 or background.errors, timeout=20)
    background.stop()
    assert background.errors == [] and background.count >= 15
    m = scrape(port)
    assert value(m, "sealward_audit_reopens_total") == 4  # every SIGHUP reopens
    assert (
        value(m, "sealward_requests_total", method="account_signData", outcome="ok") == background.count + 1
    )
    box.stop()

    files = [box.work / "audit.log.1", audit]
    verdict = verify(files)
    assert verdict.ok, verdict.problem
    text = "".join(f.read_text() for f in files)
    assert text.count("msg=RulesReload api=signer outcome=refused") == 1
    assert text.count("msg=RulesReload api=signer outcome=applied") == 1
    assert "msg=AuditLogOpened api=signer reason=reopen" in audit.read_text().splitlines()[0]
    # Every file the signer wrote is private, in private folders.
    for path in [*files, box.work / "audit.log.head", *box.config.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif path.name == "masterseed.json":
            assert mode == 0o400, path
        else:
            assert mode == 0o600, (path, oct(mode))


def test_a_full_disk_under_the_audit_log(
    box: Sandbox, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    address = box.softhsm_key()
    port = free_port()
    rules = box.attest()
    with small_tmpfs(tmp_path / "disk", 256) as disk:
        audit = disk / "audit.log"
        flags = ["--metrics", "--metrics.port", str(port), "--auditlog", str(audit), "--log.format", "json",
                 "--auditlog.maxvalue", "65536"]  # fmt: skip
        box.start(*flags, rules=rules)
        sealer = Sealer(box.socket, address)
        filler = fill(disk)
        with IpcClient(box.socket) as client:
            for _ in range(30):  # by default, sealing goes on without the audit log
                sealer.seal(client)
        lost = value(scrape(port), "sealward_audit_write_errors_total")
        assert lost is not None and lost > 0
        assert http_get(port, "/readyz")[0] == 200  # not required, so still ready
        filler.unlink()
        with IpcClient(box.socket) as client:
            sealer.seal(client)
        box.stop()
        assert f"msg=AuditGap api=signer lost={lost:.0f} " in audit.read_text()
        assert verify([audit]).ok

        box.start(*flags, "--auditlog.required", rules=rules)  # "no audit, no signature"
        filler = fill(disk)
        with IpcClient(box.socket) as client:
            failures = 0
            for _ in range(30):
                try:
                    sealer.seal(client)
                except RpcError as exc:
                    assert exc.message == "audit log unavailable"
                    failures += 1  # the same header is asked again next time
            assert failures > 0
            wait_for(lambda: http_get(port, "/readyz")[0] == 503, timeout=5)
            filler.unlink()
            sealer.seal(client, 2)
        wait_for(lambda: http_get(port, "/readyz")[0] == 200, timeout=5)
        box.stop()
        assert verify([audit]).ok
    logs = [line for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in logs]
    assert entries and all({"t", "lvl", "msg"} <= set(e) for e in entries)
    failed = [e for e in entries if e["msg"] == "Audit log write failed"]
    assert {e["signing"] for e in failed} == {"continues-unaudited", "refused"}
    assert all(e["lvl"] == "error" and e["file"] == str(audit) for e in failed)
