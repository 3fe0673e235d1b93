"""The metrics endpoint of a real signer: scraped after real seals and refusals and parsed with
prometheus_client's parser, then scraped by a real Prometheus server and queried over its API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from signer import __version__
from signer.api.auditchain import verify
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
CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


def test_scrape_after_real_seals_and_refusals(box: Sandbox) -> None:
    address = box.softhsm_key()
    port = free_port()
    box.start("--metrics", "--metrics.port", str(port), rules=box.attest())
    sealer = Sealer(box.socket, address)
    with IpcClient(box.socket) as client:
        sealer.seal(client, 6)
        sealer.repeat_last(client)
        with pytest.raises(RpcError, match="seal guard"):
            sealer.rollback(client)
        with pytest.raises(RpcError, match="request denied"):  # the rules reject all but seals
            client.call("account_signData", "text/plain", address, "0x01")
        with pytest.raises(RpcError, match="invalid argument 1"):
            client.call("account_signData", "text/plain", "0x1234", "0x01")
        assert client.call("account_list") == [address.lower()]

    m = scrape(port)
    sign = "account_signData"
    assert value(m, "sealward_build_info", version=__version__) == 1
    assert value(m, "sealward_requests_total", method=sign, outcome="ok") == 7
    assert value(m, "sealward_requests_total", method=sign, outcome="refused") == 1
    assert value(m, "sealward_requests_total", method=sign, outcome="denied") == 1
    assert value(m, "sealward_requests_total", method=sign, outcome="invalid") == 1
    assert value(m, "sealward_requests_total", method="account_list", outcome="ok") == 1
    assert value(m, "sealward_request_duration_seconds_count", method=sign) == 10
    assert value(m, "sealward_request_duration_seconds_bucket", method=sign, le="+Inf") == 10
    assert value(m, "sealward_inflight_requests", transport="ipc") == 0
    assert value(m, "sealward_approvals_total", decider="rules", outcome="approved") == 9  # 8 seals + list
    assert value(m, "sealward_approvals_total", decider="rules", outcome="rejected") == 1
    assert value(m, "sealward_approvals_total", decider="ui", outcome="approved") is None
    assert value(m, "sealward_rule_duration_seconds_count") >= 10  # type: ignore[operator]
    assert value(m, "sealward_rule_timeouts_total") == 0
    assert value(m, "sealward_rule_worker_restarts_total") == 0
    assert value(m, "sealward_sign_duration_seconds_count", backend="pkcs11") == 8  # signed, then guarded
    assert value(m, "sealward_seal_guard_decisions_total", decision="sealed") == 6
    assert value(m, "sealward_seal_guard_decisions_total", decision="resubmit") == 1
    assert value(m, "sealward_seal_guard_decisions_total", decision="refused") == 1
    assert value(m, "sealward_seal_guard_decisions_total", decision="unavailable") == 0
    assert value(m, "sealward_last_sealed_height", chain_id="1", signer=address.lower()) == 6
    assert time.time() - value(m, "sealward_last_seal_timestamp_seconds", signer=address.lower()) < 60  # type: ignore[operator]
    assert value(m, "sealward_vault_unlocked") == 1
    assert value(m, "sealward_rules_loaded") == 1
    assert value(m, "sealward_ready") == 1
    assert value(m, "sealward_ready_check", check="backend:pkcs11") == 1
    assert value(m, "sealward_audit_entries_total") >= 21  # type: ignore[operator]
    assert value(m, "sealward_audit_write_errors_total") == 0
    assert value(m, "process_resident_memory_bytes") > 10e6  # type: ignore[operator]

    status, body, content_type = http_get(port, "/readyz")
    report = json.loads(body)
    assert status == 200 and content_type == "application/json" and report["ready"] is True
    assert set(report["checks"]) == {"vault", "rules", "backend:pkcs11", "seal-guard"}
    assert http_get(port, "/healthz")[:2] == (200, b"ok\n")
    assert http_get(port, "/nothing")[0] == 404

    # A restart publishes the last sealed height at once, before any new seal (stall alerts).
    box.stop()
    box.start("--metrics", "--metrics.port", str(port), rules=box.attest())
    assert value(scrape(port), "sealward_last_sealed_height", signer=address.lower()) == 6
    box.stop()
    assert verify([box.work / "audit.log"]).ok


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus is not installed "
                    "(scripts/ensure-prometheus.sh installs Debian's package)")  # fmt: skip
def test_a_real_prometheus_scrapes_the_signer(box: Sandbox, tmp_path: Path) -> None:
    address = box.softhsm_key()
    port, prom_port = free_port(), free_port()
    box.start("--metrics", "--metrics.port", str(port), rules=box.attest())
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{CONTRIB / 'prometheus' / 'sealward-alerts.yml'}]\n"
        "scrape_configs:\n"
        f"  - {{job_name: sealward, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}\n"
    )
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:

        def query(expr: str) -> list[dict[str, object]]:
            from urllib.parse import quote

            try:
                status, body, _ = http_get(prom_port, f"/api/v1/query?query={quote(expr)}")
            except OSError:  # still starting
                return []
            answer = json.loads(body)
            return answer["data"]["result"] if status == 200 and answer["status"] == "success" else []

        def sealed() -> float:
            found = query('sealward_seal_guard_decisions_total{job="sealward",decision="sealed"}')
            return float(found[0]["value"][1]) if found else -1.0  # type: ignore[index]

        wait_for(lambda: sealed() == 0, timeout=60, interval=0.5)
        sealer = Sealer(box.socket, address)
        with IpcClient(box.socket) as client:
            sealer.seal(client, 5)
        wait_for(lambda: sealed() == 5, timeout=30, interval=0.5)
        assert query('up{job="sealward"}')[0]["value"][1] == "1"  # type: ignore[index]
        height = query("sealward_last_sealed_height")[0]
        assert height["value"][1] == "5" and height["metric"]["signer"] == address.lower()  # type: ignore[index]
        # The alert rules shipped in contrib/ load and evaluate on real data; none fires.
        _, body, _ = http_get(prom_port, "/api/v1/rules")
        groups = json.loads(body)["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) >= 8 and all(rule["health"] == "ok" for rule in rules), rules
        assert all(rule["state"] == "inactive" for rule in rules), [
            r["name"] for r in rules if r["state"] != "inactive"
        ]
        # Every query of the Grafana dashboard is valid PromQL on this server, and most have data.
        from urllib.parse import quote

        dashboard = json.loads((CONTRIB / "grafana" / "sealward-dashboard.json").read_text())
        exprs = [t["expr"].replace("$instance", ".*") for p in dashboard["panels"] for t in p["targets"]]
        for expr in exprs:
            status, body, _ = http_get(prom_port, f"/api/v1/query?query={quote(expr)}")
            assert status == 200 and json.loads(body)["status"] == "success", (expr, body)
        empty = [e for e in exprs if not query(e)]
        assert len(empty) <= 6, empty  # errors, lost entries, timeouts: none happened
    except BaseException:
        print((tmp_path / "prometheus.log").read_text()[-4000:])
        raise
    finally:
        server.terminate()
        server.wait(20)
        log.close()
