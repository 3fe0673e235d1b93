"""The audit log file, written line by line in Go ``log/slog`` text format (clef-compat §7)."""

from __future__ import annotations

import os
import threading
import unicodedata
from datetime import datetime
from pathlib import Path

from signer.codecs.goquote import go_quote


def _needs_quoting(text: str) -> bool:
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


class AuditLog:
    """An append-only file; one ``msg=<event> api=signer k=v ...`` line per event, flushed at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def event(self, msg: str, *attrs: tuple[str, object]) -> None:
        parts = [f"time={slog_time()}", "level=INFO", f"msg={slog_value(msg)}", "api=signer"]
        parts += [f"{slog_value(key)}={slog_value(value)}" for key, value in attrs]
        line = " ".join(parts) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
