"""Creating the IPC socket file safely: private folder, stale files, a bind with no open window.

Anyone who can connect to the socket can ask for signatures, so the socket must be 0600 from the
moment it exists. A chmod after bind leaves a window in which another local user could connect;
we close it by making the socket's own inode 0600 before bind (Linux creates the file with that
mode), and fall back to a restrictive umask around bind where fchmod on a socket is refused.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("sealward.rpc")

# sun_path is 108 bytes on Linux (104 on Darwin) including the terminating NUL.
SUN_PATH_LIMIT = 108
SOCKET_NAME = "clef.ipc"


class SocketPathError(OSError):
    """The IPC path cannot be used: something that is not ours is in the way."""


def ipc_endpoint(ipcpath: str, configdir: str) -> Path:
    """clef's rule: ``<ipcpath>/clef.ipc``; with no ipcpath, in configdir, else in the temp dir.

    ``~`` is expanded in ipcpath; a relative ipcpath stays relative to the working directory.
    """
    if ipcpath:
        return Path(os.path.expanduser(ipcpath)) / SOCKET_NAME
    return Path(configdir or tempfile.gettempdir()) / SOCKET_NAME


def prepare_path(path: Path) -> None:
    """Create the parent folder (0700) if missing and remove a stale socket at ``path``."""
    if len(os.fsencode(path)) >= SUN_PATH_LIMIT:
        log.warning(
            "The IPC path is too long for a unix socket, binding will probably fail "
            "path=%s length=%d limit=%d",
            path,
            len(os.fsencode(path)),
            SUN_PATH_LIMIT - 1,
        )
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True)
        os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        # A regular file or symlink here is somebody's data, or a trap; never delete it.
        raise SocketPathError(
            errno.EEXIST, f"refusing to replace {path}: it exists and is not a unix socket", str(path)
        )
    if _is_live(path):
        raise SocketPathError(errno.EADDRINUSE, f"another process is listening on {path}", str(path))
    log.info("Removing stale IPC socket path=%s", path)
    path.unlink(missing_ok=True)


def _is_live(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except TimeoutError:
        return True  # a backlog that is full still means a server is there
    finally:
        probe.close()
    return True


def bind_private(sock: socket.socket, path: Path) -> os.stat_result:
    """Bind ``sock`` at ``path`` so that the file is 0600 from its creation; return its stat."""
    try:
        os.fchmod(sock.fileno(), 0o600)
    except OSError:
        # Platforms that refuse fchmod on a socket: the umask is process-wide, so this is the
        # fallback rather than the rule (another thread could create a file meanwhile).
        old = os.umask(0o177)
        try:
            sock.bind(os.fspath(path))
        finally:
            os.umask(old)
    else:
        sock.bind(os.fspath(path))
    os.chmod(path, 0o600)
    return os.lstat(path)
