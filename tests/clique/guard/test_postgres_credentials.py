"""The seal guard finds its PostgreSQL password the way libpq does, so it never has to be on the
command line where ``ps`` shows it (issue 12, finding 8): a password file (PGPASSFILE), a service
file (PGSERVICEFILE + ``?service=``) or the environment (PGPASSWORD). A password left in
``--guard-db`` on the command line is warned about at start; one in sealward.toml is not."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from signer.cli import cli
from signer.cli.options import warn_about_password_on_command_line
from signer.clique.guard import SealGuard, SealGuardUnavailable, open_guard
from tests.clique.guard.kit import INSTANCE, fresh
from tests.helpers.postgres import SUPERUSER, PostgresServer

pytestmark = pytest.mark.postgres

CHAIN = 1337
SIGNER = "0x" + "cd" * 20
PARENT = b"\x01" * 32


def _seal(guard: SealGuard, height: int, seal_hash: bytes) -> None:
    guard.check_and_record(CHAIN, SIGNER, height, seal_hash, PARENT, fresh(guard))


def _without_password(pg_server: PostgresServer, pg_url: str) -> tuple[str, str]:
    dbname = pg_url.rsplit("/", 1)[1]
    return dbname, f"postgresql://{SUPERUSER}@127.0.0.1:{pg_server.port}/{dbname}"


def _private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)  # libpq ignores a password file others can read
    return path


@pytest.fixture
def no_libpq_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.pgpass or ~/.pg_service.conf


def test_without_any_password_the_guard_refuses(
    pg_server: PostgresServer, pg_url: str, no_libpq_env: None
) -> None:
    _, url = _without_password(pg_server, pg_url)
    with pytest.raises(SealGuardUnavailable, match="password"):
        _seal(open_guard(url, instance=INSTANCE), 1, b"\x11" * 32)


def test_password_file(
    pg_server: PostgresServer,
    pg_url: str,
    no_libpq_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    dbname, url = _without_password(pg_server, pg_url)
    line = f"127.0.0.1:{pg_server.port}:{dbname}:{SUPERUSER}:{pg_server.password}\n"
    monkeypatch.setenv("PGPASSFILE", str(_private(tmp_path / "pgpass", line)))
    _seal(open_guard(url, instance=INSTANCE), 1, b"\x11" * 32)
    assert pg_server.password not in url


def test_service_file_names_everything(
    pg_server: PostgresServer,
    pg_url: str,
    no_libpq_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    dbname, _ = _without_password(pg_server, pg_url)
    service = (
        f"[sealguard]\nhost=127.0.0.1\nport={pg_server.port}\ndbname={dbname}\nuser={SUPERUSER}\n"
        f"password={pg_server.password}\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(_private(tmp_path / "pg_service.conf", service)))
    _seal(open_guard("postgresql://?service=sealguard", instance=INSTANCE), 1, b"\x11" * 32)


def test_environment_password_is_used_and_never_echoed(
    pg_server: PostgresServer, pg_url: str, no_libpq_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = _without_password(pg_server, pg_url)
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    _seal(open_guard(url, instance=INSTANCE), 1, b"\x11" * 32)
    wrong = "Env-Secret-Hunter2"
    monkeypatch.setenv("PGPASSWORD", wrong)
    with pytest.raises(SealGuardUnavailable, match="password authentication failed") as err:
        _seal(open_guard(url, instance=INSTANCE), 2, b"\x12" * 32)
    assert wrong not in str(err.value)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("postgresql://sealward:Secret-1@db:5432/sealward", True),
        ("postgresql://db/sealward?password=Secret-1", True),
        ("postgresql://sealward@db:5432/sealward", False),
        ("postgresql://?service=sealguard", False),
        ("/var/lib/sealward/sealguard.db", False),
    ],
)
def test_a_password_on_the_command_line_is_warned_about(
    url: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = cli.make_context("sealward", ["--guard-db", url])
    with caplog.at_level(logging.WARNING, logger="sealward"):
        warn_about_password_on_command_line(ctx)
    messages = [r.getMessage() for r in caplog.records]
    assert any("PGPASSFILE" in m for m in messages) is warned
    assert not any("Secret-1" in m for m in messages)


def test_no_warning_when_the_url_comes_from_elsewhere(caplog: pytest.LogCaptureFixture) -> None:
    ctx = cli.make_context("sealward", [])
    ctx.params["guard_db"] = "postgresql://sealward:Secret-1@db/sealward"  # e.g. sealward.toml
    with caplog.at_level(logging.WARNING, logger="sealward"):
        warn_about_password_on_command_line(ctx)
    assert not caplog.records
    assert os.environ.get("PGPASSWORD") != "Secret-1"
