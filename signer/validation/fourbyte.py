"""The 4-byte selector database (§6.4): a built-in table plus clef's writable custom file.

The built-in table is clef's own: the 268,621 selectors embedded in clef v1.17.3, packed into
data/4byte.bin by scripts/gen_4byte.py (provenance in data/4byte.provenance.json) and read lazily
(see packedtable.py). The custom file (``--4bytedb-custom``) has clef's
format, ``{"a9059cbb": "transfer(address,uint256)", ...}``, and learns every selector a caller
supplies with ``methodSelector`` once the calldata has been verified against it. Lookups try the
built-in table first, so a custom entry can never shadow a known method.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path

from signer.errors import SignerError
from signer.validation.calldata import selector_id
from signer.validation.packedtable import PackedSelectorTable, PackedTableError
from signer.validation.selector import canonical_signature, parse_selector

log = logging.getLogger(__name__)

EMBEDDED_FILE = "4byte.bin"


class FourByteDBError(SignerError):
    """The custom database cannot be read (clef treats this as fatal at start-up)."""


class SelectorNotFound(LookupError):
    pass


@cache
def embedded_table() -> Mapping[str, str]:
    """The built-in table, opened once per process (its blocks are decoded on first use)."""
    resource = resources.files("signer.validation.data").joinpath(EMBEDDED_FILE)
    try:
        if isinstance(resource, Path):
            return PackedSelectorTable.open(resource)
        return PackedSelectorTable(resource.read_bytes())
    except (OSError, PackedTableError) as exc:
        raise FourByteDBError(f"the built-in 4byte database is unreadable: {exc}") from exc


class FourByteDB:
    def __init__(
        self,
        embedded: Mapping[str, str],
        custom: dict[str, str] | None = None,
        custom_path: Path | None = None,
    ) -> None:
        self._embedded = embedded
        self._custom: dict[str, str] = dict(custom or {})
        self._path = custom_path
        self._lock = threading.Lock()

    @classmethod
    def load(cls, custom_path: Path | None) -> FourByteDB:
        """The built-in table plus ``custom_path`` if that file exists (it is created on first write)."""
        return cls(embedded_table(), _read_custom(custom_path), custom_path)

    @classmethod
    def empty(cls, custom_path: Path | None = None) -> FourByteDB:
        """No built-in entries: what clef runs with when its embedded blob is missing."""
        return cls({}, _read_custom(custom_path), custom_path)

    def counts(self) -> tuple[int, int]:
        """(built-in, custom) entry counts, for the start-up log line."""
        with self._lock:
            return len(self._embedded), len(self._custom)

    def selector(self, id_: bytes) -> str:
        """The signature for a 4-byte id: built-in first, then custom."""
        if len(id_) < 4:
            raise SelectorNotFound(f"expected 4-byte id, got {len(id_)}")
        key = id_[:4].hex()
        with self._lock:
            found = self._embedded.get(key) or self._custom.get(key)
        if found is None:
            raise SelectorNotFound(f"signature {key} not found")
        return found

    def add_selector(self, sig: str) -> bool:
        """Learn ``sig`` (stored in canonical form) unless its id is already known; persist the
        custom table when it has a path. Returns whether anything was added. Raises SelectorError
        for a signature that does not parse and OSError when the file cannot be written."""
        canonical = canonical_signature(parse_selector(sig))
        key = selector_id(canonical).hex()
        with self._lock:
            if key in self._embedded or key in self._custom:
                return False
            self._custom[key] = canonical
            if self._path is not None:
                _write_atomically(self._path, json.dumps(self._custom, separators=(",", ":"), sort_keys=True))
        return True


def _read_custom(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        table = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FourByteDBError(f"failed to read 4byte database {path}: {exc}") from exc
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise FourByteDBError(f"failed to read 4byte database {path}: expected an object of strings")
    return {str(k).lower(): v for k, v in table.items()}


def _write_atomically(path: Path, text: str) -> None:
    """Temp file in the same folder (0600), fsync, rename: a crash leaves the old file or the new."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
