"""Logging in geth's terminal format: ``INFO [11-21|22:57:01.123] Message   key=value``, or with
``--log.format json`` one JSON object per line, as geth writes them:
``{"t":"2026-11-21T22:57:01.123+01:00","lvl":"info","msg":"Message","key":"value"}``.

Messages are written as ``"Event name key=%s"``; nothing that could hold a secret is ever passed
to a logger (passwords, PINs and seeds are Secret objects whose str is ``Secret(***)``).

The format string is the signer's own; the arguments may come from a request (a rule's console
output, an error quoting a field), so each one is escaped whole, newlines included, and the line
as a whole once more: nothing a caller sends can forge a log line or drive the operator's terminal.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime
from typing import Any, TextIO

from signer.escaping import for_terminal, for_terminal_lines

LOG_FORMATS = ("terminal", "json")

# clef's --loglevel: 0=crit 1=error 2=warn 3=info 4=debug 5=trace
GETH_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}
_NAMES = {logging.CRITICAL: "CRIT", logging.ERROR: "ERROR", logging.WARNING: "WARN", logging.INFO: "INFO",
          logging.DEBUG: "DEBUG"}  # fmt: skip


class GethFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%m-%d|%H:%M:%S.%f")[:-3]
        level = _NAMES.get(record.levelno, record.levelname)
        message = for_terminal_lines(_message(record))
        # Split "Title words key=value ..." into the title (padded like geth) and its context.
        words = message.split(" ")
        title_words = []
        for word in words:
            if "=" in word:
                break
            title_words.append(word)
        title = " ".join(title_words)
        context = message[len(title) :].strip()
        line = f"{level:<5} [{stamp}] {title:<40} {context}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _message(record: logging.LogRecord) -> str:
    """``record.getMessage()`` with every argument that is not a number escaped on its own."""
    args = record.args
    if not isinstance(args, tuple) or not args:
        return record.getMessage()
    safe = tuple(a if isinstance(a, (int, float)) else for_terminal(a) for a in args)
    try:
        return str(record.msg) % safe
    except (TypeError, ValueError):  # e.g. %r of an escaped value: fall back, escaped as a whole
        return record.getMessage()


# "Title words key=%s other=%d": the keys of a message, each followed by exactly one placeholder.
# A unit may follow the placeholder ("duration=%.3fs").
_PAIR = re.compile(r" ([A-Za-z][\w.-]*)=(%[-#0 +]*\d*(?:\.\d+)?[sdrfgx])([A-Za-z]*)(?= |$)")


class JsonFormatter(logging.Formatter):
    """geth's JSON handler: t, lvl, msg, then the message's own keys with their values."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {"t": when, "lvl": _NAMES.get(record.levelno, record.levelname).lower()}
        entry.update(_split(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)


def _split(record: logging.LogRecord) -> dict[str, Any]:
    """{"msg": title, key: value, ...} when the format string is "Title k=%s ...", else the text."""
    text = record.msg if isinstance(record.msg, str) else str(record.msg)
    args = record.args if isinstance(record.args, tuple) else ()
    pairs = list(_PAIR.finditer(text))
    title = text[: pairs[0].start()] if pairs else text
    rebuilt = title + "".join(m.group(0) for m in pairs)
    placeholders = text.count("%") - 2 * text.count("%%")
    if not pairs or rebuilt != text or "%" in title or placeholders != len(pairs) or len(args) != len(pairs):
        return {"msg": for_terminal_lines(_message(record))}
    fields: dict[str, Any] = {"msg": title}
    for match, value in zip(pairs, args, strict=True):
        simple = (
            isinstance(value, (bool, int, float)) and match.group(2) in ("%s", "%d") and not match.group(3)
        )
        shown = value if simple else for_terminal(match.group(2) % (value,) + match.group(3))
        fields[match.group(1)] = shown
    return fields


def configure(level: int = 3, stream: TextIO | None = None, fmt: str = "terminal") -> None:
    """Send sealward's logs to ``stream`` (stdout by default; stderr when stdout is the UI channel)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else GethFormatter())
    # Modules log under "sealward.*" or under their module name ("signer.*", "backends.*").
    for name in ("sealward", "signer", "backends"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(GETH_LEVELS.get(level, logging.DEBUG))
        logger.propagate = False
