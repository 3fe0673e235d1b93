"""The sealward command line, run as a real process the way an operator or a script runs it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backends.base import Secret
from signer.vault import Vault, unlock_master_seed
from tests.e2e.harness import run_cli

KEY = "0102030405060708090a0102030405060708090a0102030405060708090a0102"
ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
PASSWORD = "a long enough password"


def _keyfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "key.hex"
    path.write_text(text)
    return path


def test_importraw_then_list(tmp_path: Path) -> None:
    ks = tmp_path / "ks"
    empty = run_cli(["--keystore", str(ks), "--suppress-bootwarn", "list-accounts"])
    assert empty.returncode == 0 and "\nThe keystore is empty.\n" in empty.stdout
    out = run_cli(["--keystore", str(ks), "--lightkdf", "importraw", str(_keyfile(tmp_path, KEY + "\n"))],
                  stdin=f"ok\n{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"## Info \nKey imported:\n  Address {ADDRESS}\n  Keystore file: {ks}" in out.stdout
    assert PASSWORD not in out.stdout + out.stderr
    listed = run_cli(["--keystore", str(ks), "--suppress-bootwarn", "list-accounts"])
    assert f"\n{ADDRESS} (keystore://{ks}/UTC--" in listed.stdout
    wallets = run_cli(
        ["--suppress-bootwarn", "list-wallets", "--keystore", str(ks)]
    )  # flag after the command
    assert f"- Wallet 0 at keystore://{ks}/UTC--" in wallets.stdout and "(Locked )" in wallets.stdout
    again = run_cli(["--keystore", str(ks), "--suppress-bootwarn", "importraw", str(tmp_path / "key.hex")],
                    stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert again.returncode == 1 and "account already exists" in again.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abcd", "key file too short, want 64 hex characters"),
        (KEY + "00", "key file too long, want 64 hex characters"),
        (KEY[:-1] + "g", 'invalid hex character "g" in private key'),
        ("0" * 64, "invalid private key, zero or negative"),
        ("f" * 64, "invalid private key, >=N"),
    ],
)
def test_importraw_refuses_bad_key_files(tmp_path: Path, text: str, message: str) -> None:
    out = run_cli(["--keystore", str(tmp_path / "ks"), "--suppress-bootwarn", "importraw",
                   str(_keyfile(tmp_path, text))])  # fmt: skip
    assert out.returncode == 1 and message in out.stderr


def test_importraw_password_rules(tmp_path: Path) -> None:
    args = [
        "--keystore",
        str(tmp_path / "ks"),
        "--suppress-bootwarn",
        "importraw",
        str(_keyfile(tmp_path, KEY)),
    ]
    mismatch = run_cli(args, stdin=f"{PASSWORD}\nsomething else entirely\n")
    assert mismatch.returncode == 1 and "Passwords do not match" in mismatch.stderr
    short = run_cli(args, stdin="short\nshort\n")
    assert (
        short.returncode == 1
        and "password requirements not met: password too short (<10 characters)" in short.stderr
    )


def test_newaccount_from_a_script_without_ok_line(tmp_path: Path) -> None:
    ks = tmp_path / "ks"
    out = run_cli(["--keystore", str(ks), "--lightkdf", "newaccount"], stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert out.returncode == 0, out.stderr
    assert "Generated account 0x" in out.stdout
    (key_file,) = ks.iterdir()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(ks.stat().st_mode) == 0o700


def test_vault_commands_with_password_file(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    pwfile = tmp_path / "master"
    pwfile.write_text("master password 123\n")
    pwfile.chmod(0o600)
    common = ["--configdir", str(config), "--master-password-file", str(pwfile), "--suppress-bootwarn"]
    init = run_cli([*common, "--lightkdf", "init"])
    assert init.returncode == 0, init.stderr
    assert "A master seed has been generated into" in init.stdout
    seed_file = config / "masterseed.json"
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o400
    assert run_cli([*common, "init"]).returncode == 1  # never overwrites
    assert run_cli([*common, "attest", "abc123"]).returncode == 0
    setpw = run_cli([*common, "setpw", ADDRESS.lower()], stdin="keystore pw 1\nkeystore pw 1\n")
    assert setpw.returncode == 0, setpw.stderr
    assert run_cli([*common, "setpw", "pkcs11:token=hsm"], stdin="1234\n1234\n").returncode == 0
    bad = run_cli([*common, "setpw", "0x1234"], stdin="x\nx\n")
    assert bad.returncode == 1 and "Invalid address specified: 0x1234" in bad.stderr
    vault = Vault.open(config, unlock_master_seed(seed_file, Secret("master password 123")))
    assert vault.ruleset_hash() == "abc123"
    assert vault.credentials.get(ADDRESS) == "keystore pw 1"  # keyed by the checksummed address, as clef
    assert vault.credentials.get("pkcs11:token=hsm") == "1234"
    assert run_cli([*common, "delpw", ADDRESS]).returncode == 0
    assert vault.credentials.get(ADDRESS) is None


def test_password_file_must_be_private(tmp_path: Path) -> None:
    pwfile = tmp_path / "master"
    pwfile.write_text("master password 123\n")
    os.chmod(pwfile, 0o644)
    out = run_cli(["--configdir", str(tmp_path / "c"), "--master-password-file", str(pwfile),
                   "--suppress-bootwarn", "init"])  # fmt: skip
    assert out.returncode == 1 and "chmod 600" in out.stderr


def test_boot_warning_needs_ok_on_a_terminal_answer(tmp_path: Path) -> None:
    out = run_cli(["--keystore", str(tmp_path), "list-accounts"], stdin="ok\n")
    assert out.returncode == 0 and "WARNING!" in out.stderr + out.stdout


def test_invalid_command_and_config_file(tmp_path: Path) -> None:
    out = run_cli(["--suppress-bootwarn", "frobnicate"])
    assert out.returncode != 0 and 'invalid command: "frobnicate"' in out.stderr
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "sealward.toml").write_text("chainid = 5\nchain-id = 7\n")
    bad = run_cli(
        ["--configdir", str(config), "--suppress-bootwarn", "--keystore", str(tmp_path), "list-accounts"]
    )
    assert bad.returncode == 1 and "unknown setting(s) chain-id" in bad.stderr


def test_gendoc_lists_ui_types() -> None:
    out = run_cli(["gendoc"])
    assert out.stdout.startswith("## UI Client interface\n\nThese data types are defined in the channel")
    for name in ("SignDataRequest", "SignTxResponse - approve", "ListResponse", "UserInputRequest"):
        assert f"### {name}\n" in out.stdout
