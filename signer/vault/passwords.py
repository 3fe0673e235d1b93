"""Passwords: clef's format rule (§2.10), password files for unattended runs, setpw's address rule."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from eth_utils.address import to_checksum_address

from backends.base import Secret
from signer.errors import VaultError

MIN_PASSWORD_BYTES = 10
MAX_PASSWORD_FILE_BYTES = 64 * 1024
# clef's ^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\]^_`{|}~ ]+$ is exactly the range 0x20-0x7e. Used with
# fullmatch: Python's "$" would also match before a final newline, which Go's does not.
_PRINTABLE_7BIT_ASCII = re.compile(r"[\x20-\x7e]+")
_HEX_ADDRESS = re.compile(r"(?:0[xX])?[0-9a-fA-F]{40}")


class PasswordFileError(VaultError):
    """A password file that is missing, unreadable, too open or not text."""


def check_password_format(pw: str) -> None:
    """clef's ``ValidatePasswordFormat``: ValueError with clef's exact message when ``pw`` fails."""
    # The length is counted in bytes, as Go's len() does; surrogate escapes stand for one byte.
    try:
        length = len(pw.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        length = len(pw.encode("utf-8", "surrogatepass"))
    if length < MIN_PASSWORD_BYTES:
        raise ValueError("password too short (<10 characters)")
    if not _PRINTABLE_7BIT_ASCII.fullmatch(pw):
        raise ValueError("password contains invalid characters - only 7bit printable ascii allowed")


def read_password_file(path: Path) -> Secret:
    """Read a password from ``path`` (``--master-password-file``), stripping one trailing newline.

    The file must not grant any permission to group or others (0600 or stricter), because it
    unlocks everything the vault holds. Checked on the opened file, so a swap between the check
    and the read is not possible.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise PasswordFileError(f"cannot open password file {path}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):  # checked before fdopen, which refuses a folder with a raw errno
        os.close(fd)
        raise PasswordFileError(f"password file {path} is a folder")
    with os.fdopen(fd, "rb") as handle:
        if os.name != "nt" and info.st_mode & 0o077:
            raise PasswordFileError(
                f"password file {path} has permissions {stat.S_IMODE(info.st_mode):04o}, open to group "
                f"or others; restrict it to its owner with: chmod 600 {path}"
            )
        raw = handle.read(MAX_PASSWORD_FILE_BYTES + 1)
    if len(raw) > MAX_PASSWORD_FILE_BYTES:
        raise PasswordFileError(f"password file {path} is larger than {MAX_PASSWORD_FILE_BYTES} bytes")
    # One trailing newline is what `echo pw > file` and editors add; anything more is the password.
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        return Secret(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PasswordFileError(f"password file {path} is not UTF-8 text") from None


def checksum_address(text: str) -> str:
    """setpw/delpw's address rule: 40 hex digits, optional 0x; returns the EIP-55 form clef keys by.

    ValueError ``Invalid address specified: <text>`` otherwise (clef's message). The checksum of
    a mixed-case input is not enforced, as clef does not enforce it either.
    """
    if not _HEX_ADDRESS.fullmatch(text):
        raise ValueError(f"Invalid address specified: {text}")
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    return str(to_checksum_address("0x" + digits.lower()))
