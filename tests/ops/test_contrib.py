"""contrib/: the systemd unit passes systemd's own verifier and security audit, writes exactly
where the annotated sealward.toml puts the signer's files, and the alert rules and the Grafana
dashboard only use metrics the signer exports."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signer.cli.configfile import apply_config_file
from signer.config import Config
from signer.ops.metrics import Metrics

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
UNIT = CONTRIB / "systemd" / "sealward.service"
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


def _unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's sealward, so the verifier finds it."""
    sealward = Path(sys.executable).with_name("sealward")
    text = UNIT.read_text().replace("/opt/sealward/.venv/bin/sealward", str(sealward))
    path = tmp_path / "sealward.service"
    path.write_text(text)
    return path


def _service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


@needs_systemd
def test_the_unit_verifies_and_is_rated_safe_by_systemd(tmp_path: Path) -> None:
    path = _unit(tmp_path)
    verified = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    audit = subprocess.run(["systemd-analyze", "security", "--offline=true", str(path)],
                           capture_output=True, text=True)  # fmt: skip
    match = re.search(r"Overall exposure level for sealward.service: ([0-9.]+) (\w+)", audit.stdout)
    assert match is not None, audit.stdout + audit.stderr
    assert float(match.group(1)) <= 2.0 and match.group(2) == "OK", match.group(0)


def test_the_unit_is_hardened_and_writes_only_where_the_signer_does(tmp_path: Path) -> None:
    service = _service_section()
    for key, wanted in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                        ("User", "sealward"), ("Restart", "on-failure"), ("UMask", "0077"),
                        ("LimitCORE", "0"), ("StandardInput", "null")]:  # fmt: skip
        assert service.get(key) == wanted, key
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    configdir = Path(re.search(r"--configdir (\S+)", service["ExecStart"]).group(1))  # type: ignore[union-attr]
    # The annotated production settings load as they are (no unknown key, right types).
    (tmp_path / "sealward.toml").write_text((CONTRIB / "sealward.toml").read_text())
    cfg = Config(configdir=tmp_path)
    apply_config_file(cfg, {})
    assert cfg.metrics and cfg.metrics_addr == "127.0.0.1" and cfg.log_format == "json"
    assert cfg.keystore is None  # keystore = "": the key is on the HSM only
    written = {configdir, Path(cfg.auditlog).parent}
    assert Path(cfg.guard_location).parent == configdir and cfg.rules is not None
    assert set(map(Path, service["ReadWritePaths"].split())) == written


def _exported_names() -> set[str]:
    """Every sample name the signer's registry can produce."""
    names: set[str] = set()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "info": ["_info"]}
    for family in Metrics().registry.collect():
        names.update(family.name + s for s in suffixes.get(family.type, [""]))
    return names


def _referenced(text: str) -> set[str]:
    return set(re.findall(r"\b((?:sealward|process)_[a-z_]+)\b", text))


def test_alerts_and_dashboard_use_only_exported_metrics() -> None:
    exported = _exported_names()
    alerts = (CONTRIB / "prometheus" / "sealward-alerts.yml").read_text()
    dashboard = json.loads((CONTRIB / "grafana" / "sealward-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 20
    missing = (_referenced(alerts) | _referenced(" ".join(exprs))) - exported
    assert not missing, missing
    for name in ("sealward_ready", "sealward_last_sealed_height", "sealward_seal_guard_decisions_total",
                 "sealward_audit_write_errors_total", "sealward_request_duration_seconds_bucket"):  # fmt: skip
        assert name in _referenced(alerts), name


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian's prometheus)")
def test_alert_rules_pass_promtool() -> None:
    done = subprocess.run(["promtool", "check", "rules", str(CONTRIB / "prometheus" / "sealward-alerts.yml")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
