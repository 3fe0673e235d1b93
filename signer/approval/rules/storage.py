"""The key/value store behind the rules' ``storage`` object, and clef's semantics on top of it.

The store itself (the encrypted ``jsstorage.json`` in production, ``MemoryStorage`` in tests and
``sealward rules run``) only gets, puts and deletes strings. The quirks rules observe (§4.3) live
in ``ClefStorage`` so every store behaves the same: an empty value deletes, an empty key is a
no-op, and any missing, empty or unreadable key reads as "".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Protocol

log = logging.getLogger(__name__)


class RuleStorage(Protocol):
    """A persistent string-to-string map; the engine never passes it an empty key."""

    def get(self, key: str) -> str | None:
        """The stored value, or None when the key is absent."""
        ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove the key; absent keys are not an error."""
        ...


class MemoryStorage:
    """A ``RuleStorage`` in memory, for tests and offline evaluation."""

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, str] = dict(initial or {})

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._data[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._data)


class ClefStorage:
    """What ``storage.get``/``storage.put`` do in clef, over any ``RuleStorage``.

    Both arguments reach here already converted with JavaScript's ``String()``. Errors from the
    store are logged and swallowed, as clef does: a rule cannot tell a broken vault from an
    empty one, and a failed write must not turn into a signature.
    """

    def __init__(self, store: RuleStorage) -> None:
        self.store = store

    def get(self, key: str) -> str:
        if not key:
            return ""
        try:
            value = self.store.get(key)
        except Exception as err:
            log.warning("rule storage read failed key=%s error=%s", key, err)
            return ""
        return value or ""

    def put(self, key: str, value: str) -> None:
        if not key:
            return
        try:
            if value == "":
                self.store.delete(key)
            else:
                self.store.put(key, value)
        except Exception as err:
            log.warning("rule storage write failed key=%s error=%s", key, err)
