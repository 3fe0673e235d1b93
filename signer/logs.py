"""Logging in geth's terminal format: ``INFO [11-21|22:57:01.123] Message   key=value``.

Messages are written as ``"Event name key=%s"``; nothing that could hold a secret is ever passed
to a logger (passwords, PINs and seeds are Secret objects whose str is ``Secret(***)``).
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TextIO

# clef's --loglevel: 0=crit 1=error 2=warn 3=info 4=debug 5=trace
GETH_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}
_NAMES = {logging.CRITICAL: "CRIT", logging.ERROR: "ERROR", logging.WARNING: "WARN", logging.INFO: "INFO",
          logging.DEBUG: "DEBUG"}  # fmt: skip


class GethFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%m-%d|%H:%M:%S.%f")[:-3]
        level = _NAMES.get(record.levelno, record.levelname)
        message = record.getMessage()
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


def configure(level: int = 3, stream: TextIO | None = None) -> None:
    """Send sealward's logs to ``stream`` (stdout by default; stderr when stdout is the UI channel)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(GethFormatter())
    # Modules log under "sealward.*" or under their module name ("signer.*", "backends.*").
    for name in ("sealward", "signer", "backends"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(GETH_LEVELS.get(level, logging.DEBUG))
        logger.propagate = False
