"""The keystore directory: which files hold which address, and how new files get written.

Listing follows geth's scanner: every regular, non-hidden file without a trailing ``~`` whose
JSON declares a non-zero address; directories and symlinks are skipped. A cache keyed on each
file's (mtime, size, inode) means a rescan costs one ``scandir`` plus a ``stat`` per file, so
files added, replaced or removed by hand are seen on the next call without re-reading the rest.

Writes are atomic: a hidden temp file (0600) in the same directory, fsync, read back and checked
by the caller (the backend decrypts it), rename, fsync the directory. A failed write leaves
neither the temp file nor a final file behind.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backends.base import BackendError
from backends.keystore.v3 import InvalidKeyFile, address_in, parse_key_json

log = logging.getLogger("sealward.keystore")

MAX_KEY_FILE_SIZE = 1 << 20  # key files are ~500 bytes; a bigger file is not one of ours


class KeystoreIOError(BackendError):
    """The keystore directory or a key file could not be read or written."""


class AmbiguousAccount(BackendError):
    """More than one key file holds the address (geth's AmbiguousAddrError)."""


@dataclass(frozen=True)
class KeyFile:
    path: Path
    address: str  # 40 lowercase hex, as declared in the file


@dataclass(frozen=True)
class _Cached:
    signature: tuple[int, int, int]  # mtime_ns, size, inode
    address: str | None  # None: unreadable or not a key file (already warned about)


def key_file_name(address: str, now_ns: int | None = None) -> str:
    """geth's name: ``UTC--2006-01-02T15-04-05.000000000Z--<40 hex lowercase>``."""
    ns = time.time_ns() if now_ns is None else now_ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H-%M-%S")
    return f"UTC--{stamp}.{fraction:09d}Z--{address.lower().removeprefix('0x')}"


class KeyDirectory:
    """One keystore folder. Safe to use from several threads."""

    def __init__(self, directory: str | Path) -> None:
        # Absolute but not symlink-resolved, like geth's filepath.Abs: URLs show the path given.
        self.directory = Path(os.path.abspath(directory))
        self._cache: dict[Path, _Cached] = {}
        self._cache_lock = threading.Lock()
        # Separate from the cache lock so a listing never waits for a write's KDF check.
        self.write_lock = threading.RLock()

    def scan(self) -> list[KeyFile]:
        """The key files now in the directory, sorted by path (so by URL)."""
        with self._cache_lock:
            try:
                entries = list(os.scandir(self.directory))
            except FileNotFoundError:
                self._cache.clear()
                return []
            except OSError as exc:
                log.warning("cannot list keystore directory %s: %s", self.directory, exc.strerror)
                return []
            seen: dict[Path, _Cached] = {}
            for entry in entries:
                if entry.name.startswith(".") or entry.name.endswith("~"):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # removed while we looked
                if not stat.S_ISREG(st.st_mode):
                    continue
                path = Path(entry.path)
                signature = (st.st_mtime_ns, st.st_size, st.st_ino)
                cached = self._cache.get(path)
                if cached is None or cached.signature != signature:
                    cached = _Cached(signature, self._read_address(path, st.st_size))
                seen[path] = cached
            self._cache = seen
            return sorted(
                (KeyFile(path, c.address) for path, c in seen.items() if c.address is not None),
                key=lambda k: str(k.path),
            )

    def _read_address(self, path: Path, size: int) -> str | None:
        if size > MAX_KEY_FILE_SIZE:
            log.warning("skipping %s: too large to be a key file (%d bytes)", path, size)
            return None
        try:
            return address_in(parse_key_json(path.read_bytes()))
        except InvalidKeyFile as exc:
            log.warning("skipping %s: %s", path, exc)
        except OSError as exc:
            log.warning("skipping %s: %s", path, exc.strerror)
        return None

    def find(self, address: str) -> Path:
        """The one file holding ``address`` (any case, 0x optional); KeyError when none."""
        wanted = address.lower().removeprefix("0x")
        matches = [k.path for k in self.scan() if k.address == wanted]
        if not matches:
            raise KeyError(address)
        if len(matches) > 1:
            raise AmbiguousAccount(f"multiple keys match address ({', '.join(str(p) for p in matches)})")
        return matches[0]

    def duplicates(self) -> dict[str, list[Path]]:
        """40-hex address -> its files, for each address held by more than one file."""
        by_address: dict[str, list[Path]] = {}
        for key in self.scan():
            by_address.setdefault(key.address, []).append(key.path)
        return {address: paths for address, paths in by_address.items() if len(paths) > 1}

    def has_address(self, address: str) -> bool:
        wanted = address.lower().removeprefix("0x")
        return any(k.address == wanted for k in self.scan())

    def write_new(self, address: str, data: bytes, check: Callable[[bytes], None]) -> Path:
        """Atomically create a key file for ``address`` holding ``data``.

        ``check`` gets the bytes read back from the temp file and raises if they are not right;
        only then is the file renamed into place. Hold ``write_lock`` around an existence check
        and this call to keep two writers of one address apart.
        """
        with self.write_lock:
            self._ensure_directory()
            final = self.directory / key_file_name(address)
            if final.exists():
                raise KeystoreIOError(f"key file {final} already exists")
            try:
                fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.tmp", dir=self.directory)
            except OSError as exc:
                raise KeystoreIOError(f"cannot create a file in {self.directory}: {exc.strerror}") from None
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as handle:
                    os.fchmod(handle.fileno(), 0o600)
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                check(tmp.read_bytes())
                os.rename(tmp, final)
            except BaseException as exc:
                tmp.unlink(missing_ok=True)
                if isinstance(exc, OSError):
                    raise KeystoreIOError(f"cannot write key file {final}: {exc.strerror}") from None
                raise
            self._fsync_directory()
            return final

    def _ensure_directory(self) -> None:
        if self.directory.is_dir():
            return  # an existing folder keeps the mode its owner chose
        try:
            # 0700 applies to the last component; parents get the usual umask-based mode. The
            # chmod makes it exact whatever the umask is.
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise KeystoreIOError(
                f"cannot create keystore directory {self.directory}: {exc.strerror}"
            ) from None

    def _fsync_directory(self) -> None:
        # Makes the rename itself durable: without it a crash can lose a file we reported as written.
        try:
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # the file is in place; failing the write now would mislead
            log.warning("could not fsync keystore directory %s: %s", self.directory, exc.strerror)

    def clear(self) -> None:
        with self._cache_lock:
            self._cache.clear()
