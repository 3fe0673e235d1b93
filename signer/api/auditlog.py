"""The audit log file: Go ``log/slog`` text lines (clef-compat §7), hash-chained (auditchain.py).

* Private: created 0600 with O_NOFOLLOW (a planted symlink is refused, not followed); an older,
  wider file is narrowed to 0600; a missing folder is created 0700.
* Bounded: a value whose rendering is longer than ``max_value`` bytes is recorded as
  ``key=sha256:<hex> key.bytes=<length>`` (the digest of the value's UTF-8 text), so a caller
  cannot fill the disk with request bodies, and whoever holds the request can still match it.
* Shared: each entry is appended under ``flock``; another process appending (``sealward guard
  reset``) is noticed by the file's size and chained onto, not forked from.
* Reopened on SIGHUP (``reopen``), after logrotate moved the file: the chain continues in the new
  file. The chain head is kept in ``<file>.head`` at exit, for a restart that finds an empty file.
* A failed write (a full disk) never leaves half a line. By default it is logged and counted and
  the signer keeps serving; the entries lost are declared by an ``AuditGap`` entry once writes
  succeed again. With ``required`` ("no audit, no signature", ``--auditlog.required``) the
  request fails with AuditUnavailable instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import stat
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from signer import fsutil
from signer.api.auditchain import GENESIS, OPENED, entry_hash, last_entry
from signer.codecs.goquote import go_quote
from signer.errors import AuditUnavailable

log = logging.getLogger("sealward.audit")

DEFAULT_MAX_VALUE = 4096
MIN_MAX_VALUE = 128  # a digest and its length must fit
_TAIL_READ = 1 << 18  # enough for the last line: lines are at most ~10 values of max_value
_ERROR_LOG_INTERVAL = 30.0


# Printable ASCII but the space, '"' and '=': never quoted (hex, numbers, addresses, words).
_BARE = re.compile(r"[\x21\x23-\x3c\x3e-\x7e]+")


def _needs_quoting(text: str) -> bool:
    if _BARE.fullmatch(text):
        return False  # the common case, without a Python loop over every character
    if not text:
        return True
    for ch in text:
        if ch in ' ="' or (ch != "\\" and ord(ch) < 0x20) or ch == "\ufffd":
            return True
        if ord(ch) >= 0x80 and (ch.isspace() or not ch.isprintable()):
            return True
        if ord(ch) >= 0x80 and unicodedata.category(ch).startswith("Z"):
            return True
    return False


def slog_value(value: object) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bytes):
        return go_quote(value.decode("utf-8", "replace"))  # Go always quotes []byte values
    text = str(value)
    return go_quote(text) if _needs_quoting(text) else text


def slog_time(now: datetime | None = None) -> str:
    now = (now or datetime.now()).astimezone()
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    offset = now.utcoffset()
    if not offset:
        return stamp + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{stamp}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def head_path(path: Path) -> Path:
    return path.with_name(path.name + ".head")


class AuditLog:
    """An append-only, hash-chained file; one ``msg=<event> api=signer k=v ...`` line per event."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_value: int = DEFAULT_MAX_VALUE,
        required: bool = False,
        on_event: Callable[[str], None] | None = None,
        reason: str = "start",
    ) -> None:
        if max_value < MIN_MAX_VALUE:
            raise ValueError(f"the audit value limit must be at least {MIN_MAX_VALUE} bytes")
        self.path = Path(path)
        self.max_value = max_value
        self.required = required
        self._on_event = on_event or (lambda _: None)
        self._lock = threading.Lock()
        self._fd = -1
        self._size = 0  # the file's size after our last write: another writer changes it
        self._seq, self._hash = 0, GENESIS
        self._lost = 0  # entries not written since the last success
        self._last_error_log = 0.0
        self._anchor_pending = False
        with self._lock:
            self._open(reason, first=True)

    @property
    def failing(self) -> bool:
        """True from a failed write until the next one succeeds."""
        return self._lost > 0

    @property
    def head(self) -> tuple[int, str]:
        """The sequence number and hash of the last entry written (0 and the genesis before any)."""
        with self._lock:
            return self._seq, self._hash

    # --- writing ---------------------------------------------------------------------------------

    def event(self, msg: str, *attrs: tuple[str, object]) -> None:
        parts = [f"time={slog_time()}", "level=INFO", f"msg={slog_value(msg)}", "api=signer"]
        for key, value in attrs:
            parts += self._bounded(key, value)
        self._write(" ".join(parts))

    def _bounded(self, key: str, value: object) -> list[str]:
        rendered = slog_value(value)
        if len(rendered) <= self.max_value:
            return [f"{slog_value(key)}={rendered}"]
        raw = (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).encode("utf-8")
        self._on_event("digested")
        return [
            f"{slog_value(key)}=sha256:{hashlib.sha256(raw).hexdigest()}",
            f"{slog_value(key + '.bytes')}={len(raw)}",
        ]

    def _write(self, body: str) -> None:
        with self._lock:
            try:
                if self._fd < 0:
                    raise OSError("the audit log is closed")
                with _flocked(self._fd):
                    self._sync_with_file()
                    bodies = [self._opened_body("resync")] if self._anchor_pending else []
                    if self._lost:
                        bodies.append(_body("AuditGap", ("lost", self._lost)))
                    self._append(*bodies, body)
            except OSError as exc:
                self._failed(exc)
                return
            if self._lost:
                log.warning("Audit log writable again lost=%d file=%s", self._lost, self.path)
                self._lost = 0
            self._anchor_pending = False

    def _append(self, *bodies: str) -> None:
        """Chain and write ``bodies`` in one write: all of them are in the file, or none."""
        seq, digest, lines = self._seq, self._hash, []
        for body_without_seq in bodies:
            seq += 1
            body = f"{body_without_seq} seq={seq}"
            digest = entry_hash(digest, body)
            lines.append(f"{body} hash={digest}\n")
        data = "".join(lines).encode()
        start = self._size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            # Never leave half a line behind: it would read as an edit of the chain.
            try:
                os.ftruncate(self._fd, start)
            except OSError as exc:
                log.error("Audit log could not be cut back after a failed write err=%s", exc)
            raise
        self._seq, self._hash, self._size = seq, digest, start + len(data)
        for _ in bodies:
            self._on_event("entry")

    def _failed(self, exc: OSError) -> None:
        self._lost += 1
        self._on_event("error")
        now = time.monotonic()
        if self._lost == 1 or now - self._last_error_log >= _ERROR_LOG_INTERVAL:
            self._last_error_log = now
            signing = "refused" if self.required else "continues-unaudited"
            log.error(
                "Audit log write failed signing=%s lost=%d file=%s err=%s",
                signing,
                self._lost,
                self.path,
                exc,
            )
        if self.required:
            raise AuditUnavailable() from None

    # --- the file --------------------------------------------------------------------------------

    def _open(self, reason: str, first: bool = False) -> None:
        if not self.path.parent.exists():
            fsutil.ensure_private_dir(self.path.parent)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC  # read: the tail
        try:
            fd = os.open(self.path, flags, fsutil.PRIVATE_FILE_MODE)
        except OSError as exc:
            if os.path.islink(self.path):
                raise OSError(
                    exc.errno, f"the audit log {self.path} is a symbolic link; refusing it"
                ) from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"the audit log {self.path} is not a regular file")
            if info.st_mode & 0o077:
                os.fchmod(fd, fsutil.PRIVATE_FILE_MODE)
                log.warning("Audit log was readable by others, now 0600 file=%s", self.path)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._size = -1  # unknown: the first write reads the file's tail
        if first and info.st_size == 0:
            self._seq, self._hash = _read_head(head_path(self.path))
        try:
            with _flocked(fd):
                self._sync_with_file()
                self._append(self._opened_body(reason))
                self._anchor_pending = False
        except OSError as exc:
            self._anchor_pending = True  # the next successful write starts with the opened entry
            self._failed(exc)

    def _opened_body(self, reason: str) -> str:
        return _body(OPENED, ("reason", reason), ("prev", self._hash))

    def _sync_with_file(self) -> None:
        """Adopt the file's last entry when someone else wrote since our last write."""
        size = os.fstat(self._fd).st_size
        if size == self._size:
            return
        start = max(0, size - _TAIL_READ)
        found = last_entry(os.pread(self._fd, size - start, start)) if size else None
        if found is not None:
            self._seq, self._hash = found.seq, found.hash
        else:
            # Emptied (copytruncate) or not ours: the next entry must say where the chain was.
            self._anchor_pending = True
        self._size = size

    def reopen(self) -> None:
        """Open the path again (after logrotate renamed the file); the chain continues there.
        If the path cannot be opened, writing goes on to the file already open."""
        with self._lock:
            old = self._fd
            self._save_head()
            try:
                self._open("reopen")
            except OSError as exc:
                self._fd = old
                log.error("Audit log could not be reopened, still writing the old file file=%s err=%s",
                          self.path, exc)  # fmt: skip
                return
            if old >= 0:
                os.close(old)
        self._on_event("reopen")
        seq, digest = self.head
        log.info("Audit log reopened file=%s seq=%d hash=%s", self.path, seq, digest)

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._fd < 0:
            return
        try:
            with _flocked(self._fd):
                self._sync_with_file()  # another writer's entries may be the newest: save those
        except OSError:
            pass
        self._save_head()
        os.close(self._fd)
        self._fd = -1

    def _save_head(self) -> None:
        try:
            fsutil.atomic_write(head_path(self.path), f"{self._seq} {self._hash}\n".encode())
        except OSError as exc:
            log.warning("Could not save the audit chain head file=%s err=%s", head_path(self.path), exc)


def _body(msg: str, *attrs: tuple[str, object]) -> str:
    parts = [f"time={slog_time()}", "level=INFO", f"msg={msg}", "api=signer"]
    return " ".join(parts + [f"{slog_value(k)}={slog_value(v)}" for k, v in attrs])


def _read_head(path: Path) -> tuple[int, str]:
    try:
        seq_text, digest = path.read_text().split()
        seq = int(seq_text)
        bytes.fromhex(digest)
        if seq < 0 or len(digest) != 64:
            raise ValueError
        return seq, digest
    except FileNotFoundError:
        return 0, GENESIS
    except (OSError, ValueError) as exc:
        log.warning("Ignoring an unreadable audit chain head file=%s err=%s", path, exc)
        return 0, GENESIS


class _flocked:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
