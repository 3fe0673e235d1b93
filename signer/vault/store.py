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
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signer import fsutil
from signer.errors import VaultError

log = logging.getLogger(__name__)

NONCE_SIZE = 12
STORE_FILE_MODE = 0o600

_Entries = dict[str, tuple[bytes, bytes]]  # key -> (nonce, ciphertext ‖ tag)


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

    def __repr__(self) -> str:
        return f"EncryptedStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None if absent (clef's ``0-length key`` also reads as None)."""
        if not key:
            return None
        entry = self._read().get(key)
        return None if entry is None else self._open(key, entry)

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``; an empty key is a no-op, as in clef."""
        if not key:
            return
        with self._locked():
            entries = self._read()
            self._verify(entries, skip=key)
            nonce = secrets.token_bytes(NONCE_SIZE)
            entries[key] = (nonce, self._aead.encrypt(nonce, _utf8(value, "value"), _utf8(key, "key")))
            self._write(entries)

    def delete(self, key: str) -> None:
        """Remove ``key``; an absent key leaves the file untouched."""
        if not key:
            return
        with self._locked():
            entries = self._read()
            if key not in entries:
                return
            self._verify(entries, skip=key)
            del entries[key]
            self._write(entries)

    def keys(self) -> list[str]:
        """The stored key names, sorted (they are plaintext on disk; no decryption needed)."""
        return sorted(self._read())

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

    def _read(self) -> _Entries:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise VaultError(f"cannot read {self._path}: {exc.strerror}") from None
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

    def _verify(self, entries: _Entries, skip: str) -> None:
        # Never rewrite a file holding something we cannot read back: it may be the only copy.
        # The entry being replaced or deleted is exempt, so a bad entry can still be repaired.
        for key, entry in entries.items():
            if key != skip:
                self._open(key, entry)

    def _write(self, entries: _Entries) -> None:
        # Go sorts map keys; each entry is a struct, so its fields keep declaration order (iv, c).
        document = {
            key: {"iv": base64.b64encode(nonce).decode(), "c": base64.b64encode(ct).decode()}
            for key, (nonce, ct) in sorted(entries.items())
        }
        try:
            fsutil.atomic_write(self._path, _go_json(document), STORE_FILE_MODE)
        except OSError as exc:
            raise VaultError(f"cannot write {self._path}: {exc.strerror or exc}") from None


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
