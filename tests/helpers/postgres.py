"""A private, throw-away PostgreSQL server for tests and benchmarks.

Finds Debian's server binaries in /usr/lib/postgresql/<version>/bin (installing them with
scripts/ensure-postgres.sh when missing, as root with apt-get, unless SEALWARD_PG_NO_INSTALL=1),
runs initdb into a fresh temp folder and listens only on 127.0.0.1 on a free port, with its unix
socket in that folder. PostgreSQL refuses to run as root, so under root every server command
runs as the ``postgres`` user (runuser, else su) and the folder is handed to that user.

Host connections need a password (scram-sha-256), so the URLs the tests use carry one, which
lets them check that it never reaches a message.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from signer.tools.processes import free_port

REPO = Path(__file__).resolve().parents[2]
ENSURE_SCRIPT = REPO / "scripts" / "ensure-postgres.sh"
SERVER_USER = "postgres"
SUPERUSER = "sealward"


class PostgresUnavailable(Exception):
    """The server cannot run here; the message is the reason a test is skipped."""


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb, pg_ctl and postgres (or $SEALWARD_PG_BIN)."""
    override = os.environ.get("SEALWARD_PG_BIN")
    candidates = [override] if override else glob.glob("/usr/lib/postgresql/*/bin")

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for path in sorted(candidates, key=version, reverse=True):
        if all(os.access(os.path.join(path, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(path)
    return None


def ensure_bindir() -> Path:
    found = find_bindir()
    if found is not None:
        return found
    if os.environ.get("SEALWARD_PG_NO_INSTALL") != "1" and os.geteuid() == 0 and shutil.which("apt-get"):
        result = subprocess.run(
            ["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, timeout=900, check=False
        )
        found = find_bindir()
        if found is not None:
            return found
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise PostgresUnavailable(f"installing postgresql failed: {' | '.join(tail)}")
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; "
        "run scripts/ensure-postgres.sh as root (apt-get install postgresql)"
    )


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    _as_user: list[str] = field(default_factory=list)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_user == ["su"]:
            cmd = ["su", SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(cmd)]
        elif self._as_user:
            cmd = [*self._as_user, *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            out = (result.stdout + result.stderr).strip()
            raise PostgresUnavailable(f"{args[0]} failed ({result.returncode}): {out[-800:]}")

    def init(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-instructions",
        )  # fmt: skip
        pwfile.unlink()

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root / 'sock'} "
            "-c fsync=on -c synchronous_commit=on -c max_connections=50"
        )
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _chown(self, path: Path) -> None:
        if self._as_user:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def destroy(self) -> None:
        with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _as_user_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable("running as root and no 'postgres' user exists to run the server") from None
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVER_USER, "--"]
    if shutil.which("su"):
        return ["su"]
    raise PostgresUnavailable("running as root and neither runuser nor su is available")


def start_server() -> PostgresServer:
    """A running server on a private port; raises PostgresUnavailable with the reason otherwise."""
    bindir = ensure_bindir()
    as_user = _as_user_prefix()
    root = Path(tempfile.mkdtemp(prefix="sealward-pg-"))
    server = PostgresServer(bindir, root, free_port(), _as_user=as_user)
    try:
        (root / "sock").mkdir()
        for path in (root, root / "sock"):
            server._chown(path)
        server.init()
        for _attempt in range(3):  # the free port can be taken between probing and binding
            try:
                server.start()
                return server
            except PostgresUnavailable:
                server.port = free_port()
        server.start()
        return server
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
