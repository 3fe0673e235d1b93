"""The key/value store behind the rules' ``storage`` object, and clef's semantics on top of it.

The store itself (the encrypted ``jsstorage.json`` in production, ``MemoryStorage`` in tests and
``sealward rules run``) only gets and applies changes to strings. The quirks rules observe (§4.3)
live in ``ClefStorage`` so every store behaves the same: an empty value deletes, an empty key is a
no-op, and any missing, empty or unreadable key reads as "".

Two things clef does not do. Storage is bounded (``StorageLimits``): a put that would pass a
bound is refused with ``StorageLimitExceeded``, which the rule sees as an exception from
``storage.put`` (clef would let one rule fill the disk). And the puts of one rule call are applied
when the call ends, in one write: a rule that puts six times costs one write, not six rewrites of
the file. Within the call, ``get`` sees the call's own puts, so a rule cannot tell the difference;
other calls run their storage part one after another (engine.py), so none can either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorageLimits:
    """Bounds on what rules may keep; sizes are UTF-8 bytes. The defaults leave room for years of
    a rate limiter's history while keeping every write of the file a few milliseconds at most."""

    max_key_bytes: int = 1024
    max_value_bytes: int = 64 * 1024
    max_keys: int = 1024
    max_total_bytes: int = 1024 * 1024  # keys plus values


class StorageLimitExceeded(Exception):
    """A put that would pass a bound; the rule gets the message as an exception."""


class RuleStorage(Protocol):
    """A persistent string-to-string map; the engine never passes it an empty key."""

    def get(self, key: str) -> str | None:
        """The stored value, or None when the key is absent."""
        ...

    def apply(self, changes: Mapping[str, str | None]) -> None:
        """Set (a string) or delete (None) each key, all in one write; absent keys are not an error."""
        ...

    def sizes(self) -> dict[str, int]:
        """Each stored key's value size in UTF-8 bytes."""
        ...


class MemoryStorage:
    """A ``RuleStorage`` in memory, for tests and offline evaluation."""

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, str] = dict(initial or {})

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._data.get(key)

    def apply(self, changes: Mapping[str, str | None]) -> None:
        with self._lock:
            for key, value in changes.items():
                if value is None:
                    self._data.pop(key, None)
                else:
                    self._data[key] = value

    def sizes(self) -> dict[str, int]:
        with self._lock:
            return {key: len(value.encode("utf-8", "surrogatepass")) for key, value in self._data.items()}

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._data)


class ClefStorage:
    """What ``storage.get``/``storage.put`` do in clef, over any ``RuleStorage``, within bounds.

    Both arguments reach here already converted with JavaScript's ``String()``. Errors from the
    store are logged and swallowed, as clef does: a rule cannot tell a broken vault from an
    empty one, and a failed write must not turn into a signature. Bounds are the exception: a
    refused put raises ``StorageLimitExceeded`` for the rule to see.

    Changes are kept per call: ``begin()`` starts one, ``end()`` applies it in one write. The
    engine holds its storage lock from a call's first storage use to ``end()``, so one call at a
    time has changes pending. Outside a call (``begin`` not called) a put is applied at once.
    """

    def __init__(self, store: RuleStorage, limits: StorageLimits | None = None) -> None:
        self.store = store
        self.limits = limits or StorageLimits()
        self._pending: dict[str, str | None] | None = None

    def begin(self) -> None:
        self._pending = {}

    def end(self) -> None:
        """Apply the call's changes (one write); a failed write is logged, as clef logs a failed put."""
        pending, self._pending = self._pending, None
        if pending:
            try:
                self.store.apply(pending)
            except Exception as err:
                log.warning(
                    "rule storage write failed keys=%s error=%s", ",".join(sorted(pending))[:200], err
                )

    def get(self, key: str) -> str:
        if not key:
            return ""
        if self._pending is not None and key in self._pending:
            return self._pending[key] or ""
        try:
            value = self.store.get(key)
        except Exception as err:
            log.warning("rule storage read failed key=%s error=%s", key[:200], err)
            return ""
        return value or ""

    def put(self, key: str, value: str) -> None:
        if not key:
            return
        change = None if value == "" else value
        if change is not None:
            self._check(key, value)
        if self._pending is not None:
            self._pending[key] = change
            return
        try:
            self.store.apply({key: change})
        except Exception as err:
            log.warning("rule storage write failed key=%s error=%s", key[:200], err)

    def _check(self, key: str, value: str) -> None:
        limits = self.limits
        key_size, value_size = _size(key), _size(value)
        if key_size > limits.max_key_bytes:
            raise StorageLimitExceeded(
                f"storage.put: the key is {key_size} bytes, more than the {limits.max_key_bytes} allowed"
            )
        if value_size > limits.max_value_bytes:
            allowed = limits.max_value_bytes
            raise StorageLimitExceeded(
                f"storage.put: the value is {value_size} bytes, more than the {allowed} allowed"
            )
        try:
            sizes = self.store.sizes()
        except Exception as err:
            log.warning("rule storage read failed error=%s", err)
            return  # the write will fail the same way, and is only logged
        for pending_key, pending in (self._pending or {}).items():
            if pending is None:
                sizes.pop(pending_key, None)
            else:
                sizes[pending_key] = _size(pending)
        before_keys, before_total = len(sizes), _total(sizes)
        sizes[key] = value_size
        keys, total = len(sizes), _total(sizes)
        # Only growth is refused: a store already past a bound (made by clef) can still shrink.
        if keys > limits.max_keys and keys > before_keys:
            raise StorageLimitExceeded(f"storage.put: storage holds {limits.max_keys} keys, the most allowed")
        if total > limits.max_total_bytes and total > before_total:
            allowed = limits.max_total_bytes
            raise StorageLimitExceeded(
                f"storage.put: storage would hold {total} bytes, more than the {allowed} allowed"
            )


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _total(sizes: Mapping[str, int]) -> int:
    return sum(_size(key) + size for key, size in sizes.items())
