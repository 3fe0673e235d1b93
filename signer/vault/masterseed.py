"""``masterseed.json``: clef's password-encrypted 256-byte seed, from which the vault is derived.

File format (clef §5.1): compact JSON ``{"description":"Clef seed","version":1,"params":<crypto>}``
with the Web3 Secret Storage crypto section (see cryptojson), mode 0400. Unlocking follows clef's
``readMasterKey`` (§5.2): permission check first, then decryption, then the length check.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from pathlib import Path

from backends.base import Secret
from signer import fsutil
from signer.errors import VaultError
from signer.vault import cryptojson
from signer.vault.passwords import check_password_format

log = logging.getLogger(__name__)

SEED_LENGTH = 256
SEED_FILE_MODE = 0o400
SEED_DESCRIPTION = "Clef seed"
SEED_VERSION = 1
# clef's own wording; our errors start with it and add the reason clef leaves out.
DECRYPT_FAILED = "failed to decrypt the master seed of clef"


class MasterSeedExists(VaultError):
    pass


class InsecurePermissions(VaultError):
    pass


class WrongPassword(VaultError):
    pass


class MalformedMasterSeed(VaultError):
    pass


def create_master_seed(path: Path, password: Secret, light_kdf: bool) -> None:
    """Generate a 256-byte seed, encrypt it with ``password`` and write it to ``path`` (0400).

    The folder is created 0700 if missing. An existing file is never replaced
    (``master key <path> already exists, will not overwrite``). The password must pass clef's
    format rule (ValueError otherwise), as ``clef init`` requires.
    """
    path = Path(path)
    if os.path.lexists(path):
        raise MasterSeedExists(f"master key {path} already exists, will not overwrite")
    check_password_format(password.reveal())
    fsutil.ensure_private_dir(path.parent)
    seed = secrets.token_bytes(SEED_LENGTH)
    if light_kdf:
        n, p = cryptojson.LIGHT_SCRYPT_N, cryptojson.LIGHT_SCRYPT_P
    else:
        n, p = cryptojson.STANDARD_SCRYPT_N, cryptojson.STANDARD_SCRYPT_P
    params = cryptojson.encrypt_data(seed, _password_bytes(password), n, p)
    document = {"description": SEED_DESCRIPTION, "version": SEED_VERSION, "params": params}
    data = json.dumps(document, separators=(",", ":")).encode()
    try:
        # overwrite=False re-checks existence at the moment of creation, as clef does.
        fsutil.atomic_write(path, data, SEED_FILE_MODE, overwrite=False)
    except FileExistsError:
        raise MasterSeedExists(f"master key {path} already exists, will not overwrite") from None


def unlock_master_seed(path: Path, password: Secret) -> bytes:
    """Check permissions, decrypt ``path`` with ``password`` and return the seed (>= 256 bytes)."""
    path = Path(path)
    check_seed_permissions(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise VaultError(f"failed to read {path}: {_os_reason(exc)}") from None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMasterSeed(f"{DECRYPT_FAILED}: {path} is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise MalformedMasterSeed(f"{DECRYPT_FAILED}: {path} is not a master seed file")
    if document.get("version") != SEED_VERSION:
        log.warning(
            "unsupported encryption format of seed: %s, operation will likely fail", document.get("version")
        )
    try:
        seed = cryptojson.decrypt_data(document.get("params"), _password_bytes(password))
    except cryptojson.DecryptError as exc:
        raise WrongPassword(f"{DECRYPT_FAILED}: {exc} (wrong password, or the file was modified)") from None
    except cryptojson.CryptoJSONError as exc:
        raise MalformedMasterSeed(f"{DECRYPT_FAILED}: {path}: {exc}") from None
    if len(seed) < SEED_LENGTH:
        raise MalformedMasterSeed(
            f"master seed of insufficient length, expected >{SEED_LENGTH - 1} bytes, got {len(seed)}"
        )
    return seed


def check_seed_permissions(path: Path) -> None:
    """clef's ``checkFile``: only the owner-read bit may be set (0400 or 0000); skipped on Windows."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise VaultError(f"failed stat on {path}: stat {path}: {_os_reason(exc)}") from None
    if os.name != "nt" and stat.S_IMODE(info.st_mode) & 0o377:
        raise InsecurePermissions(
            f"file ({path}) has insecure file permissions ({go_mode_string(info.st_mode)})"
        )


def go_mode_string(st_mode: int) -> str:
    """Go's ``FileMode.String()`` for a stat mode, e.g. ``-rw-r--r--`` or ``drwx------``."""
    flags = ""
    for char, present in (
        ("d", stat.S_ISDIR(st_mode)),
        ("L", stat.S_ISLNK(st_mode)),
        ("D", stat.S_ISBLK(st_mode) or stat.S_ISCHR(st_mode)),
        ("p", stat.S_ISFIFO(st_mode)),
        ("S", stat.S_ISSOCK(st_mode)),
        ("u", bool(st_mode & stat.S_ISUID)),
        ("g", bool(st_mode & stat.S_ISGID)),
        ("c", stat.S_ISCHR(st_mode)),
        ("t", bool(st_mode & stat.S_ISVTX)),
    ):
        if present:
            flags += char
    perms = "".join(c if st_mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return (flags or "-") + perms


def _password_bytes(password: Secret) -> bytes:
    # surrogateescape gives back the exact bytes of a password read from a non-UTF-8 source.
    try:
        return password.reveal().encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # the codec's message quotes the offending character: keep it out of the error
        raise VaultError("the password is not valid text (it contains an unpaired surrogate)") from None


def _os_reason(exc: OSError) -> str:
    # Go prints syscall errors in lower case ("no such file or directory").
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]
