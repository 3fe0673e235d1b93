"""Operator tools as real processes: rules run, PKCS#11 key generation/import with the vault's PIN,
settings from sealward.toml, hsm doctor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.harness import run_cli
from tests.helpers.softhsm import SOFTHSM_MODULE, create_token, softhsm_missing

RULESETS = Path(__file__).resolve().parents[1] / "rules" / "rulesets"
KEY = "0102030405060708090a0102030405060708090a0102030405060708090a0102"
ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"


def test_rules_run_offline(tmp_path: Path) -> None:
    request = {"content_type": "application/x-clique-header", "messages": [
        {"name": "Clique header", "value": "clique header 7 [0x00]", "type": "clique"}]}  # fmt: skip
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    out = run_cli(
        [
            "rules",
            "run",
            "--rules",
            str(RULESETS / "clique_stateful.js"),
            "--method",
            "ApproveSignData",
            str(path),
        ]
    )
    assert out.returncode == 0, out.stderr
    assert "decision: 'Approve'" in out.stdout
    assert "header 7 latest 0" in out.stdout  # the console line
    assert "'lastblock' = '7'" in out.stdout  # the storage change
    loop = tmp_path / "loop.js"
    loop.write_text("function ApproveSignData(r) { while (true) {} }")
    out = run_cli(
        ["rules", "run", "--rules", str(loop), "--method", "ApproveSignData", str(path)], timeout=120
    )
    assert "error:" in out.stdout


@pytest.mark.skipif(softhsm_missing(), reason="SoftHSM2 is not installed (apt-get install softhsm2)")
def test_pkcs11_keys_from_the_cli_with_the_pin_in_the_vault(tmp_path: Path) -> None:
    token = create_token(tmp_path / "hsm", label="cli", pin="4321", so_pin="8765")
    config = tmp_path / "cfg"
    pwfile = tmp_path / "pw"
    pwfile.write_text("master password 1\n")
    pwfile.chmod(0o600)
    common = ["--configdir", str(config), "--master-password-file", str(pwfile), "--suppress-bootwarn"]
    assert run_cli([*common, "--lightkdf", "init"]).returncode == 0
    assert run_cli([*common, "setpw", "pkcs11:token=cli"], stdin="4321\n4321\n").returncode == 0
    # The module and token come from sealward.toml; the PIN from the vault: no prompt at all.
    (config / "sealward.toml").write_text(
        f'pkcs11-module = "{SOFTHSM_MODULE}"\n"pkcs11-token" = ["cli"]\nkeystore = ""\n'
    )
    generated = run_cli([*common, "newaccount", "--label", "gen"], env=token.env)
    assert generated.returncode == 0, generated.stderr
    assert "Generated account 0x" in generated.stdout and "never extractable" in generated.stdout
    keyfile = tmp_path / "key.hex"
    keyfile.write_text(KEY)
    imported = run_cli([*common, "importraw", str(keyfile), "--label", "imp"], env=token.env)
    assert imported.returncode == 0, imported.stderr
    assert f"Imported account {ADDRESS}" in imported.stdout and '"always sensitive"' in imported.stdout
    listed = run_cli([*common, "list-accounts"], env=token.env).stdout
    assert ADDRESS in listed and "pkcs11:token=cli" in listed and listed.count("pkcs11:") == 2
    doctor = run_cli([*common, "hsm", "doctor"], env=token.env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "All checks passed." in doctor.stdout


@pytest.mark.skipif(softhsm_missing(), reason="SoftHSM2 is not installed (apt-get install softhsm2)")
def test_wrong_pin_is_reported_and_not_retried(tmp_path: Path) -> None:
    token = create_token(tmp_path / "hsm", label="wrong", pin="4321", so_pin="8765")
    args = ["--suppress-bootwarn", "--keystore", "", "--pkcs11-module", SOFTHSM_MODULE, "--pkcs11-token", "wrong",
            "--configdir", str(tmp_path / "cfg"), "newaccount"]  # fmt: skip
    out = run_cli(args, stdin="0000\n", env=token.env)
    assert out.returncode == 1 and "Error: the PKCS#11 token wrong rejected the PIN" in out.stderr
    assert "Traceback" not in out.stderr
