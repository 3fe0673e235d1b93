"""Durable, private file writes shared by every module that keeps state on disk.

A reader (another thread, another process, or clef itself) sees either the old file or the new
one, never a half-written file: the data goes to a temporary file in the target's own folder
(same filesystem, so the rename is atomic), is fsynced, renamed over the target, and then the
folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> bool:
    """Create ``path`` and any missing parents with mode 0700; return True if ``path`` was created.

    A folder that already exists is left exactly as it is: it may be the user's own (a clef
    configdir, a home folder), and silently changing its permissions would be a surprise.
    """
    path = Path(path)
    if path.is_dir():
        return False
    if os.path.lexists(path):
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(path))
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # created concurrently by someone else: fine, and not ours to chmod
        # mkdir's mode is filtered by the umask; set it explicitly so a lax umask cannot widen it.
        os.chmod(folder, PRIVATE_DIR_MODE)
        fsync_dir(folder.parent)
    return True


def atomic_write(path: Path, data: bytes, mode: int = PRIVATE_FILE_MODE, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically with permissions ``mode``.

    With ``overwrite=False`` an existing ``path`` raises FileExistsError and is left untouched;
    the check and the creation are one step (a hard link), so two writers cannot both win.
    On any failure the temporary file is removed and ``path`` keeps its previous content.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_exclusive(tmp, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _link_exclusive(tmp: Path, path: Path) -> None:
    """Publish ``tmp`` as ``path`` only if ``path`` does not exist yet."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        # Some filesystems (FAT, a few network mounts) have no hard links; fall back to a
        # check-then-rename, which is only racy against a concurrent writer of the same file.
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(tmp, path)
