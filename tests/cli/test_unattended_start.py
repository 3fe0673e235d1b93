"""Unattended start fails closed (issue 12, finding 7), against the real ``sealward`` process.

Given ``--master-password-file`` or ``--rules``, the operator asked for unattended operation: a
vault that cannot be opened or rules that cannot be loaded must stop the start with the reason,
not serve with every request waiting for a person nobody watches (clef only warns). Without
either flag the interactive behaviour is unchanged: rules disabled, a warning, and it serves.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.e2e.harness import run_cli

MASTER = "master password 123"
RULES = "function ApproveListing() { return 'Approve' }\n"


@pytest.fixture(scope="module")
def configdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unattended")
    pwfile = _pwfile(root / "master", MASTER)
    config = root / "cfg"
    common = ["--configdir", str(config), "--master-password-file", str(pwfile), "--suppress-bootwarn"]
    assert run_cli([*common, "--lightkdf", "init"]).returncode == 0
    digest = hashlib.sha256(RULES.encode()).hexdigest()
    assert run_cli([*common, "attest", digest]).returncode == 0
    (root / "rules.js").write_text(RULES)
    return config


def _pwfile(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text + "\n")
    os.chmod(path, mode)
    return path


def _start(configdir: Path, tmp_path: Path, *flags: str) -> tuple[int, str]:
    """Start the daemon; a refused start exits at once, a served one is stopped by the timeout."""
    args = ["--configdir", str(configdir), "--keystore", str(tmp_path / "ks"), "--suppress-bootwarn",
            "--ipcpath", str(tmp_path / "ipc"), "--auditlog", "", "--seal-guard", "off", *flags]  # fmt: skip
    out = run_cli(args, timeout=30)
    return out.returncode, out.stdout + out.stderr


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("world-readable", "open to group or others"),
        ("missing", "cannot open password file"),
        ("a folder", "is a folder"),
        ("wrong", "failed to decrypt the master seed"),
    ],
)
def test_a_bad_master_password_file_refuses_to_start(
    configdir: Path, tmp_path: Path, case: str, reason: str
) -> None:
    path = tmp_path / "master"
    if case == "world-readable":
        _pwfile(path, MASTER, 0o644)
    elif case == "a folder":
        path.mkdir()
    elif case == "wrong":
        _pwfile(path, "not the master password")
    code, output = _start(configdir, tmp_path, "--master-password-file", str(path))
    assert code != 0
    assert "Fatal: Failed to open master, rules disabled" in output and reason in output, output
    assert "refusing to start unattended" in output
    assert MASTER not in output
    assert not (tmp_path / "ipc" / "clef.ipc").exists()


def test_a_password_file_without_a_master_seed_refuses_to_start(tmp_path: Path) -> None:
    pwfile = _pwfile(tmp_path / "master", MASTER)
    code, output = _start(tmp_path / "empty", tmp_path, "--master-password-file", str(pwfile))
    assert code != 0 and "no master seed" in output and "refusing to start unattended" in output


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        ("function ApproveListing() { return 'Reject' }\n", "Rule hash not attested"),
        (None, "Could not load rules"),
    ],
)
def test_rules_that_cannot_be_loaded_refuse_to_start(
    configdir: Path, tmp_path: Path, rules: str | None, reason: str
) -> None:
    path = tmp_path / "rules.js"
    if rules is not None:
        path.write_text(rules)
    pwfile = _pwfile(tmp_path / "master", MASTER)
    code, output = _start(configdir, tmp_path, "--master-password-file", str(pwfile), "--rules", str(path))
    assert code != 0 and reason in output and "refusing to start unattended" in output, output


def test_rules_without_a_vault_refuse_to_start(tmp_path: Path) -> None:
    """--rules alone asks for the master password; with none to give, nothing can approve."""
    (tmp_path / "rules.js").write_text(RULES)
    code, output = _start(tmp_path / "empty", tmp_path, "--rules", str(tmp_path / "rules.js"))
    assert code != 0 and "no master seed" in output and "refusing to start unattended" in output
