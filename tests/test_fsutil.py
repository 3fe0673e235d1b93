"""signer.fsutil: atomic private writes and private folders, on real files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from signer.fsutil import atomic_write, ensure_private_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    target.chmod(0o644)
    atomic_write(target, b"new", 0o600)
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert os.listdir(tmp_path) == ["state.json"]


def test_atomic_write_0400(tmp_path: Path) -> None:
    target = tmp_path / "seed"
    atomic_write(target, b"x", 0o400, overwrite=False)
    assert mode(target) == 0o400


def test_no_overwrite_keeps_existing(tmp_path: Path) -> None:
    target = tmp_path / "seed"
    target.write_bytes(b"original")
    with pytest.raises(FileExistsError):
        atomic_write(target, b"replacement", 0o400, overwrite=False)
    assert target.read_bytes() == b"original"
    assert os.listdir(tmp_path) == ["seed"]


def test_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "occupied"
    target.mkdir()  # renaming a file over a folder fails: a real failure at the last step
    (target / "keep").write_text("k")
    with pytest.raises(OSError):
        atomic_write(target, b"data")
    assert os.listdir(tmp_path) == ["occupied"]
    assert os.listdir(target) == ["keep"]


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "absent" / "file", b"data")


def test_ensure_private_dir(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "c"
    old = os.umask(0o000)  # even a permissive umask must not widen our folders
    try:
        assert ensure_private_dir(nested) is True
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", nested):
        assert mode(folder) == 0o700
    assert ensure_private_dir(nested) is False


def test_existing_folder_left_as_is(tmp_path: Path) -> None:
    folder = tmp_path / "users-own"
    folder.mkdir()
    folder.chmod(0o755)
    assert ensure_private_dir(folder) is False
    assert mode(folder) == 0o755


def test_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        ensure_private_dir(tmp_path / "f")
