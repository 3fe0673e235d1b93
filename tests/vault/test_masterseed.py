"""masterseed.json: creation, unlocking, clef's permission check, errors, password rules."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from backends.base import Secret
from signer.errors import VaultError
from signer.vault import (
    InsecurePermissions,
    MalformedMasterSeed,
    MasterSeedExists,
    PasswordFileError,
    WrongPassword,
    check_password_format,
    checksum_address,
    create_master_seed,
    read_password_file,
    unlock_master_seed,
)
from signer.vault.cryptojson import LIGHT_SCRYPT_N, LIGHT_SCRYPT_P, encrypt_data
from signer.vault.masterseed import go_mode_string
from tests.vault.conftest import MASTER_PASSWORD


def write_seed_document(path: Path, document: object, mode: int = 0o400) -> Path:
    path.write_text(json.dumps(document))
    path.chmod(mode)
    return path


def test_create_then_unlock(seed_path: Path, password: Secret) -> None:
    first = unlock_master_seed(seed_path, password)
    assert len(first) == 256
    assert unlock_master_seed(seed_path, password) == first
    assert len(set(first)) > 100  # random bytes, not a constant


def test_create_refuses_to_overwrite(seed_path: Path) -> None:
    before = seed_path.read_bytes()
    with pytest.raises(MasterSeedExists) as err:
        create_master_seed(seed_path, Secret("another password"), light_kdf=True)
    assert str(err.value) == f"master key {seed_path} already exists, will not overwrite"
    assert seed_path.read_bytes() == before
    assert sorted(p.name for p in seed_path.parent.iterdir()) == ["masterseed.json"]


def test_create_makes_private_folders(tmp_path: Path, password: Secret) -> None:
    path = tmp_path / "a" / "b" / "masterseed.json"
    create_master_seed(path, password, light_kdf=True)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o400


def test_create_checks_password_format(tmp_path: Path) -> None:
    path = tmp_path / "masterseed.json"
    with pytest.raises(ValueError, match=r"^password too short \(<10 characters\)$"):
        create_master_seed(path, Secret("short"), light_kdf=True)
    assert not path.exists()


def test_wrong_password(seed_path: Path) -> None:
    with pytest.raises(WrongPassword) as err:
        unlock_master_seed(seed_path, Secret("not the right password"))
    message = str(err.value)
    assert message.startswith("failed to decrypt the master seed of clef: could not decrypt key")
    assert "not the right password" not in message + repr(err.value)
    assert MASTER_PASSWORD not in message


@pytest.mark.parametrize(
    ("mode", "shown"), [(0o644, "-rw-r--r--"), (0o600, "-rw-------"), (0o440, "-r--r-----")]
)
def test_insecure_permissions_refused_as_clef_does(
    seed_path: Path, password: Secret, mode: int, shown: str
) -> None:
    seed_path.chmod(mode)
    with pytest.raises(InsecurePermissions) as err:
        unlock_master_seed(seed_path, password)
    assert str(err.value) == f"file ({seed_path}) has insecure file permissions ({shown})"


def test_owner_read_only_or_nothing_is_accepted(seed_path: Path, password: Secret) -> None:
    seed_path.chmod(0o000)
    if os.access(seed_path, os.R_OK):  # root reads a 0000 file, which clef's check also allows
        assert len(unlock_master_seed(seed_path, password)) == 256


def test_missing_file(tmp_path: Path, password: Secret) -> None:
    path = tmp_path / "masterseed.json"
    with pytest.raises(VaultError) as err:
        unlock_master_seed(path, password)
    assert str(err.value) == f"failed stat on {path}: stat {path}: no such file or directory"


def test_truncated_file(seed_path: Path, password: Secret) -> None:
    raw = seed_path.read_bytes()
    seed_path.chmod(0o600)
    seed_path.write_bytes(raw[: len(raw) // 2])
    seed_path.chmod(0o400)
    with pytest.raises(MalformedMasterSeed, match="is not valid JSON"):
        unlock_master_seed(seed_path, password)


def params(password: str = MASTER_PASSWORD, length: int = 256) -> dict[str, object]:
    return encrypt_data(os.urandom(length), password.encode(), LIGHT_SCRYPT_N, LIGHT_SCRYPT_P)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cipher": "aes-256-cbc"}, "cipher not supported: aes-256-cbc"),
        ({"kdf": "argon2"}, "unsupported KDF: argon2"),
        ({"mac": "zz"}, "mac is missing or not hex"),
        ({"kdfparams": {"dklen": 32, "n": 4096, "p": 6, "r": 8}}, "salt is missing or not hex"),
        (
            {"kdf": "pbkdf2", "kdfparams": {"c": 10, "dklen": 32, "prf": "hmac-sha512", "salt": "00"}},
            "unsupported PBKDF2 PRF: hmac-sha512",
        ),
        # a corrupted N must not make us allocate terabytes
        ({"kdfparams": {"dklen": 32, "n": 1 << 40, "p": 1, "r": 8, "salt": "00"}}, "need more than"),
        ({"kdfparams": {"dklen": 32, "n": 1000, "p": 1, "r": 8, "salt": "00"}}, "power of 2"),
    ],
)
def test_malformed_crypto_section(
    tmp_path: Path, password: Secret, change: dict[str, object], message: str
) -> None:
    document = {"description": "Clef seed", "version": 1, "params": {**params(), **change}}
    path = write_seed_document(tmp_path / "masterseed.json", document)
    with pytest.raises(MalformedMasterSeed) as err:
        unlock_master_seed(path, password)
    assert str(err.value).startswith("failed to decrypt the master seed of clef: ")
    assert message in str(err.value)


def test_short_seed_refused(tmp_path: Path, password: Secret) -> None:
    document = {"description": "Clef seed", "version": 1, "params": params(length=32)}
    path = write_seed_document(tmp_path / "masterseed.json", document)
    with pytest.raises(MalformedMasterSeed) as err:
        unlock_master_seed(path, password)
    assert str(err.value) == "master seed of insufficient length, expected >255 bytes, got 32"


def test_unknown_version_only_warns(
    tmp_path: Path, password: Secret, caplog: pytest.LogCaptureFixture
) -> None:
    document = {"description": "Clef seed", "version": 7, "params": params()}
    path = write_seed_document(tmp_path / "masterseed.json", document)
    with caplog.at_level(logging.WARNING):
        assert len(unlock_master_seed(path, password)) == 256
    assert "unsupported encryption format of seed: 7, operation will likely fail" in caplog.text


def test_go_mode_string() -> None:
    assert go_mode_string(stat.S_IFREG | 0o644) == "-rw-r--r--"
    assert go_mode_string(stat.S_IFDIR | 0o700) == "drwx------"
    assert go_mode_string(stat.S_IFREG | stat.S_ISUID | 0o755) == "urwxr-xr-x"


# ---- password rules ---------------------------------------------------------------------------


def test_password_format_upstream_vectors(vectors_dir: Path) -> None:
    cases = json.loads((vectors_dir / "clef/inline/core_password_validation.json").read_text())
    for pw in cases["must_pass"]:
        check_password_format(pw)
    failing = cases["must_fail"] + [
        bytes.fromhex(h).decode("utf-8", "surrogateescape") for h in cases["must_fail_hex_bytes"]
    ]
    for pw in failing:
        with pytest.raises(ValueError):
            check_password_format(pw)


@pytest.mark.parametrize(
    ("pw", "message"),
    [
        ("123456789", "password too short (<10 characters)"),
        ("passwordOk12\n", "password contains invalid characters - only 7bit printable ascii allowed"),
        ("ünïcödé pw", "password contains invalid characters - only 7bit printable ascii allowed"),
        ("ü" * 4, "password too short (<10 characters)"),  # 8 bytes: Go counts bytes
        ("ü" * 5, "password contains invalid characters - only 7bit printable ascii allowed"),
    ],
)
def test_password_format_messages(pw: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        check_password_format(pw)
    assert str(err.value) == message


def test_password_format_accepts_all_printable_ascii() -> None:
    check_password_format("".join(chr(c) for c in range(0x20, 0x7F)))


def test_password_file(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    for content, expected in [
        (b"secret one\n", "secret one"),
        (b"secret two\r\n", "secret two"),
        (b"secret three\n\n", "secret three\n"),
        (b"no newline", "no newline"),
    ]:
        path.write_bytes(content)
        path.chmod(0o600)
        assert read_password_file(path) == Secret(expected)
    path.chmod(0o400)
    assert read_password_file(path) == Secret("no newline")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_password_file_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "pw"
    path.write_text("hunter2 hunter2\n")
    path.chmod(mode)
    with pytest.raises(PasswordFileError) as err:
        read_password_file(path)
    message = str(err.value)
    assert str(path) in message
    assert "chmod 600" in message
    assert f"{mode:04o}" in message
    assert "hunter2" not in message


def test_password_file_missing_or_binary(tmp_path: Path) -> None:
    with pytest.raises(PasswordFileError, match="cannot open password file"):
        read_password_file(tmp_path / "absent")
    path = tmp_path / "pw"
    path.write_bytes(b"\xff\xfe secret")
    path.chmod(0o600)
    with pytest.raises(PasswordFileError, match="not UTF-8 text"):
        read_password_file(path)


def test_checksum_address() -> None:
    expected = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
    for form in (expected.lower(), expected.upper()[2:], "0X" + expected[2:].lower(), expected):
        assert checksum_address(form) == expected
    for bad in (
        "0x1234",
        "9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6aa",
        "0xZ160DC9105f7De5dC5E7f3d97ef11DA47269BdA6",
    ):
        with pytest.raises(ValueError) as err:
            checksum_address(bad)
        assert str(err.value) == f"Invalid address specified: {bad}"
