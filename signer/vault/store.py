"""clef's AES-GCM key/value files (§5.4): ``credentials.json``, ``jsstorage.json``, ``config.json``.

On disk: a compact JSON object, keys in plaintext and sorted, each value
``{"iv": base64(12-byte nonce), "c": base64(ciphertext ‖ 16-byte tag)}``, encrypted with
AES-256-GCM under the store key and with the entry's key name as associated data, so a value
moved to another key fails authentication.

Where we are stricter than clef: clef only logs a failed read and carries on; here a file that
does not parse, or any other entry that fails authentication, raises and the file is left
byte-for-byte as it was. Writes are atomic, and a read-modify-write holds a per-store thread
lock plus an flock on the vault folder, so neither threads nor a second sealward process (a
``setpw`` while the daemon runs) can lose an update.

Cost: the parsed file is kept in memory, together with each entry's serialised form, for as long
as the file on disk is the one last seen (same inode, size and times; every write of ours is a new
inode). A read then decrypts one entry without reading the file, and a write encrypts only what
changed, verifies the other entries only when the file was (re)loaded, and writes the file from
the kept fragments. ``apply`` makes several changes in one write. The write itself stays whole
(one atomic rename of a compact JSON object), which is what keeps the file readable by clef.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signer import fsutil
from signer.errors import VaultError

log = logging.getLogger(__name__)

NONCE_SIZE = 12
STORE_FILE_MODE = 0o600

_Entries = dict[str, tuple[bytes, bytes]]  # key -> (nonce, ciphertext ‖ tag)
_Identity = tuple[int, int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns
TAG_SIZE = 16


# A file's times have the kernel's clock tick as granularity, so a change made in the same tick as
# ours would keep size and times. Until the file's mtime is this much in the past, the snapshot is
# confirmed by comparing bytes (as git does for "racily clean" files).
SETTLE_NS = 50_000_000


class _Snapshot:
    """The file as last read or written: its bytes, entries, JSON fragments, whether all verified."""

    def __init__(self, raw: bytes, entries: _Entries, verified: bool) -> None:
        self.raw = raw
        self.entries = entries
        self.verified = verified
        self.identity: _Identity | None = None
        self.settled = False
        self.fragments: dict[str, bytes] = {}

    def matches(self, identity: _Identity | None, read: Callable[[], bytes]) -> bool:
        """Whether the file named by ``identity`` still holds this snapshot."""
        if identity is None or identity != self.identity:
            return False
        if not self.settled:
            if read() != self.raw:
                return False
            self.settled = identity[3] < time.time_ns() - SETTLE_NS
        return True

    def fragment(self, key: str) -> bytes:
        cached = self.fragments.get(key)
        if cached is None:
            nonce, ct = self.entries[key]
            entry = {key: {"iv": base64.b64encode(nonce).decode(), "c": base64.b64encode(ct).decode()}}
            cached = self.fragments[key] = _go_json(entry)[1:-1]  # '"key":{"iv":…,"c":…}'
        return cached

    def document(self) -> bytes:
        # Go sorts map keys; each entry is a struct, so its fields keep declaration order (iv, c).
        return b"{" + b",".join(self.fragment(key) for key in sorted(self.entries)) + b"}"


class CorruptStore(VaultError):
    """The store file is truncated, is not JSON, or has a malformed entry."""


class EntryAuthFailed(VaultError):
    """An entry failed AES-GCM authentication: modified, moved to another key, or another seed."""


class EncryptedStore:
    """One AES-GCM key/value file. Values are text; missing keys read as None.

    Layer note (clef §4.3 vs §5.4): this store keeps ``put(k, "")`` as an empty value, as clef's
    AES store does (a keystore password may be empty). Deleting on ``""`` is what the rule
    engine's ``storage.put`` does on top of it, so that belongs to the rules bridge.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("an AES-256 store key is 32 bytes")
        self._path = Path(path)
        self._aead = AESGCM(key)
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None  # guarded by _lock

    def __repr__(self) -> str:
        return f"EncryptedStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None if absent (clef's ``0-length key`` also reads as None)."""
        if not key:
            return None
        with self._lock:
            entry = self._current().entries.get(key)
        return None if entry is None else self._open(key, entry)

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``; an empty key is a no-op, as in clef."""
        self.apply({key: value})

    def delete(self, key: str) -> None:
        """Remove ``key``; an absent key leaves the file untouched."""
        self.apply({key: None})

    def apply(self, changes: Mapping[str, str | None]) -> None:
        """Set (a string) or delete (None) several keys in one atomic write; empty keys are skipped.

        Nothing is written when nothing changes (only absent keys deleted)."""
        changes = {key: value for key, value in changes.items() if key}
        if not changes:
            return
        sealed = {
            key: None if value is None else self._seal(key, value) for key, value in changes.items()
        }  # encrypted outside the lock: it is the only per-change cost
        with self._locked():
            snapshot = self._current()
            if all(value is None and key not in snapshot.entries for key, value in sealed.items()):
                return
            if not snapshot.verified:
                self._verify(snapshot.entries, skip=set(sealed))
            entries = dict(snapshot.entries)
            for key, entry in sealed.items():
                if entry is None:
                    entries.pop(key, None)
                else:
                    entries[key] = entry
            updated = _Snapshot(b"", entries, verified=True)
            updated.fragments = {k: v for k, v in snapshot.fragments.items() if k not in sealed}
            self._write(updated)

    def keys(self) -> list[str]:
        """The stored key names, sorted (they are plaintext on disk; no decryption needed)."""
        with self._lock:
            return sorted(self._current().entries)

    def sizes(self) -> dict[str, int]:
        """Each key's value size in UTF-8 bytes, known without decrypting (ciphertext less tag)."""
        with self._lock:
            return {key: len(ct) - TAG_SIZE for key, (_, ct) in self._current().entries.items()}

    def _seal(self, key: str, value: str) -> tuple[bytes, bytes]:
        nonce = secrets.token_bytes(NONCE_SIZE)
        return nonce, self._aead.encrypt(nonce, _utf8(value, "value"), _utf8(key, "key"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            try:
                fd = os.open(self._path.parent, os.O_RDONLY)
            except OSError as exc:
                raise VaultError(
                    f"cannot open the vault folder {self._path.parent}: {exc.strerror}"
                ) from None
            try:
                with contextlib.suppress(OSError):
                    # Advisory and best-effort: some network filesystems refuse flock on folders,
                    # and then only this process's lock protects the store.
                    fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _current(self) -> _Snapshot:
        """The file's content, from memory while the file is the one last seen. Hold ``_lock``."""
        identity = self._identity()
        if self._snapshot is not None and self._snapshot.matches(identity, self._raw):
            return self._snapshot
        self._snapshot = None
        raw = self._raw()
        snapshot = _Snapshot(raw, self._parse(raw), verified=False)
        snapshot.identity = identity  # taken before reading: a change during the read shows later
        self._snapshot = snapshot
        return snapshot

    def _raw(self) -> bytes:
        try:
            return self._path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise VaultError(f"cannot read {self._path}: {exc.strerror}") from None

    def _identity(self) -> _Identity | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise VaultError(f"cannot read {self._path}: {exc.strerror}") from None
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def _parse(self, raw: bytes) -> _Entries:
        if not raw and not self._path.exists():
            return {}
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptStore(f"{self._path} is truncated or corrupted: not valid JSON ({exc})") from None
        if not isinstance(document, dict):
            raise CorruptStore(f"{self._path} is corrupted: not a JSON object")
        return {key: self._parse_entry(key, value) for key, value in document.items()}

    def _parse_entry(self, key: str, value: object) -> tuple[bytes, bytes]:
        if isinstance(value, dict):
            try:
                nonce = base64.b64decode(value["iv"], validate=True)
                ciphertext = base64.b64decode(value["c"], validate=True)
            except (KeyError, TypeError, binascii.Error):
                pass
            else:
                if len(nonce) == NONCE_SIZE and len(ciphertext) >= 16:
                    return nonce, ciphertext
        raise CorruptStore(f"{self._path} is corrupted: entry {key!r} is malformed")

    def _open(self, key: str, entry: tuple[bytes, bytes]) -> str:
        nonce, ciphertext = entry
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, _utf8(key, "key"))
        except InvalidTag:
            raise EntryAuthFailed(
                f"{self._path}: entry {key!r} failed authentication "
                "(the file was modified, or it belongs to another master seed)"
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptStore(f"{self._path}: entry {key!r} is not UTF-8 text") from None

    def _verify(self, entries: _Entries, skip: set[str]) -> None:
        # Never rewrite a file holding something we cannot read back: it may be the only copy.
        # The entries being replaced or deleted are exempt, so a bad entry can still be repaired.
        for key, entry in entries.items():
            if key not in skip:
                self._open(key, entry)

    def _write(self, snapshot: _Snapshot) -> None:
        """Write ``snapshot`` and keep it as the file's content. Hold ``_locked()``."""
        self._snapshot = None  # whatever happens below, the file is read again unless it succeeds
        snapshot.raw = snapshot.document()
        try:
            fsutil.atomic_write(self._path, snapshot.raw, STORE_FILE_MODE)
        except OSError as exc:
            raise VaultError(f"cannot write {self._path}: {exc.strerror or exc}") from None
        snapshot.identity = self._identity()
        self._snapshot = snapshot


def _go_json(document: object) -> bytes:
    """Compact JSON with Go's escaping of HTML characters and line separators."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise VaultError(f"the {what} is not valid text (it contains an unpaired surrogate)") from None
