"""Which signer instance is sealing: the owner the guard stores with every seal.

Two Sealward processes that hold one key and share one guard database (active/standby) must never
both seal one height. Each needs an id that survives restarts, so the first one to seal a height
keeps it after a crash. By default the id is generated once into ``<configdir>/sealguard-instance``
(host name plus random digits, so ``guard show`` tells the machines apart); ``--seal-guard-instance``
overrides it, e.g. to keep the id when a configdir is rebuilt.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from pathlib import Path

from signer.clique.guard.policy import check_instance
from signer.fsutil import atomic_write, ensure_private_dir

INSTANCE_FILE = "sealguard-instance"


def _new_instance_id() -> str:
    host = "".join(c for c in socket.gethostname() if c.isascii() and (c.isalnum() or c in ".-"))[:40]
    return f"{host or 'sealward'}-{secrets.token_hex(6)}"


def load_instance_id(configdir: Path, override: str | None = None) -> str:
    """The instance id: ``override`` when given, else the configdir's file (created on first use)."""
    if override:
        return check_instance(override)
    path = Path(configdir) / INSTANCE_FILE
    try:
        return check_instance(path.read_text().strip())
    except FileNotFoundError:
        pass
    ensure_private_dir(path.parent)  # a first start may come before anything else made the configdir
    with contextlib.suppress(FileExistsError):  # another process made it in between: use theirs
        atomic_write(path, (_new_instance_id() + "\n").encode(), overwrite=False)
    return check_instance(path.read_text().strip())
