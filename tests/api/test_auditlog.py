"""The audit log file: hash chain and `audit verify`, bounded values, private files, full disks."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from signer.api.auditchain import GENESIS, verify
from signer.api.auditlog import AuditLog, head_path
from signer.cli import cli
from signer.errors import AuditUnavailable
from tests.helpers.tmpfs import fill, small_tmpfs


def _write(path: Path, count: int, **kwargs: object) -> AuditLog:
    log = AuditLog(path, **kwargs)  # type: ignore[arg-type]
    for index in range(count):
        log.event("SignData", ("type", "request"), ("n", index))
    return log


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _seq(line: str) -> int:
    match = re.search(r" seq=(\d+) ", line)
    assert match is not None
    return int(match.group(1))


def test_a_written_log_verifies_and_every_entry_is_chained(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    _write(path, 5).close()
    lines = _lines(path)
    assert "msg=AuditLogOpened" in lines[0] and f"prev={GENESIS}" in lines[0]
    assert [_seq(line) for line in lines] == [1, 2, 3, 4, 5, 6]
    verdict = verify([path])
    assert verdict.ok and verdict.entries == 6 and verdict.head_seq == 6
    assert verdict.head_hash == lines[-1].rstrip("\n").rsplit("hash=", 1)[1]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda ls: ls.__setitem__(3, ls[3].replace("n=2", "n=9")), "seq=4 does not match its hash"),
        (lambda ls: ls.pop(3), "seq=4 missing before seq=5 (deleted)"),
        (lambda ls: [ls.pop(2) for _ in range(3)], "seq=3..5 missing before seq=6 (deleted)"),
        (lambda ls: ls.insert(3, ls[1]), "entry seq=2 after seq=3 (inserted or reordered)"),
        (lambda ls: ls.insert(3, "time=x level=INFO msg=Forged api=signer\n"), "not a chained audit entry"),
        (lambda ls: ls.__setitem__(slice(2, 4), [ls[3], ls[2]]), "seq=3 missing before seq=4"),
        (lambda ls: ls.pop(0), "is not an AuditLogOpened entry: earlier entries are missing"),
        (lambda ls: ls.__setitem__(-1, ls[-1][:-1]), "not a chained audit entry (inserted, or cut short)"),
    ],
    ids=[
        "edited",
        "deleted",
        "deleted-run",
        "inserted-copy",
        "inserted-forged",
        "reordered",
        "head-cut",
        "cut-line",
    ],
)
def test_verify_names_the_first_tampered_entry(tmp_path: Path, tamper: object, expected: str) -> None:
    path = tmp_path / "audit.log"
    _write(path, 6).close()
    lines = _lines(path)
    tamper(lines)  # type: ignore[operator]
    path.write_text("".join(lines))
    verdict = verify([path])
    assert not verdict.ok
    assert expected in verdict.problem, verdict.problem
    assert f"{path}:" in verdict.problem


def test_an_edit_with_its_hash_recomputed_is_caught_at_the_next_entry(tmp_path: Path) -> None:
    from signer.api.auditchain import entry_hash, parse

    path = tmp_path / "audit.log"
    _write(path, 4).close()
    lines = _lines(path)
    before = parse(lines[1].rstrip("\n"), "")
    edited = parse(lines[2].rstrip("\n").replace("n=1", "n=7"), "")
    assert before is not None and edited is not None
    lines[2] = f"{edited.body} hash={entry_hash(before.hash, edited.body)}\n"
    path.write_text("".join(lines))
    verdict = verify([path])
    assert not verdict.ok and "seq=4 does not match its hash" in verdict.problem


def test_the_chain_continues_across_rotation_reopen_and_restart(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _write(path, 3)
    path.rename(tmp_path / "audit.log.1")  # logrotate's move
    log.reopen()  # SIGHUP
    log.event("SignData", ("n", "after rotation"))
    log.close()
    _write(path, 2).close()  # a restart appends to the same file
    os.rename(path, tmp_path / "audit.log.0")
    _write(path, 1).close()  # a restart on a new, empty file: the head comes from audit.log.head
    files = [tmp_path / "audit.log.1", tmp_path / "audit.log.0", path]
    verdict = verify(files)
    assert verdict.ok, verdict.problem
    assert verdict.entries == 4 + 2 + 3 + 2
    assert verify([path]).ok  # a file on its own starts at an opened entry
    swapped = verify([files[1], files[0], path])
    assert not swapped.ok and "the chain starts again (genesis) at seq=1 after seq=9" in swapped.problem


def test_a_second_writer_is_chained_onto_not_forked(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    daemon = _write(path, 2)
    tool = AuditLog(path, reason="guard-reset")  # another process, as `sealward guard reset`
    tool.event("GuardReset", ("height", 5))
    tool.close()
    daemon.event("SignData", ("n", "after the tool"))
    tool = AuditLog(path, reason="guard-reset")
    tool.close()
    daemon.close()  # saves the head the file ends with, not its own older one
    assert (tmp_path / "audit.log.head").read_text().split()[0] == str(verify([path]).head_seq)
    verdict = verify([path])
    assert verdict.ok, verdict.problem
    assert verdict.entries == 3 + 2 + 1 + 1


def test_long_values_are_recorded_as_digest_and_length(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    big = "0x" + "ab" * 1_200_000  # a 2.4 MB text/plain request
    log = AuditLog(path, max_value=4096)
    for _ in range(5):
        log.event("SignData", ("type", "request"), ("data", big.encode()), ("content-type", "text/plain"))
    log.close()
    assert path.stat().st_size < 5 * 1024  # was 24 MB for five such requests
    line = _lines(path)[1]
    assert f"data=sha256:{hashlib.sha256(big.encode()).hexdigest()} data.bytes={len(big)} " in line
    assert "content-type=text/plain" in line
    assert verify([path]).ok


def test_files_are_private_and_symlinks_refused(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "logs"
    AuditLog(folder / "audit.log").close()
    assert stat.S_IMODE((folder / "audit.log").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(head_path(folder / "audit.log").stat().st_mode) == 0o600
    wide = tmp_path / "old.log"
    wide.write_text("")
    wide.chmod(0o644)
    AuditLog(wide).close()
    assert stat.S_IMODE(wide.stat().st_mode) == 0o600
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / "link.log").symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        AuditLog(tmp_path / "link.log")
    assert target.read_text() == ""


def test_a_full_disk_loses_entries_visibly_and_never_half_a_line(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", 64) as disk:
        path = disk / "audit.log"
        log = AuditLog(path, max_value=8192)
        log.event("SignData", ("n", "before"))
        filler = fill(disk)
        size = path.stat().st_size
        for index in range(3):  # each needs more than the free rest of the file's last page
            log.event("SignData", ("n", index), ("data", "x" * 5000))  # not written, not raised
        assert path.stat().st_size == size
        assert path.read_bytes().endswith(b"\n")
        filler.unlink()
        log.event("SignData", ("n", "after"))
        log.close()
        text = path.read_text()
        assert "msg=AuditGap api=signer lost=3 " in text
        assert verify([path]).ok


def test_required_audit_refuses_when_it_cannot_write(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", 64) as disk:
        log = AuditLog(disk / "audit.log", required=True, max_value=8192)
        filler = fill(disk)
        with pytest.raises(AuditUnavailable):
            log.event("SignData", ("n", 1), ("data", "x" * 5000))
        filler.unlink()
        log.event("SignData", ("n", 2))
        log.close()
        assert verify([disk / "audit.log"]).ok


def test_audit_verify_command(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    _write(path, 3).close()
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", str(path)])
    assert ok.exit_code == 0 and "OK: 4 entries" in ok.output and "head: seq=4 hash=" in ok.output
    lines = _lines(path)
    del lines[2]
    path.write_text("".join(lines))
    bad = runner.invoke(cli, ["audit", "verify", str(path)])
    assert bad.exit_code == 1
    assert f"FAILED: {path}:3: seq=3 missing before seq=4 (deleted)" in bad.output
    assert "verified before it: 2 entries, up to seq=2" in bad.output
