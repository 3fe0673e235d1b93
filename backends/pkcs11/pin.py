"""What a token's answer to C_Login means, and the memory of PINs it has rejected.

A token counts wrong PINs and locks itself after a few (YubiHSM 2, smart cards; SoftHSM does
not). So a PIN the token rejected is never sent to it again by this process: not by a retry loop,
not by a client that keeps passing the same vault entry, not by a backend rebuilt on reload. Only a
*different* PIN goes through. PINs are remembered as keyed hashes, with a key that dies with the
process, so the memory itself holds nothing that could be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading

from backends.base import BackendError, DeviceLocked, DeviceUnavailable, InvalidCredential, Secret

CKR_OK = 0x000
CKR_USER_ALREADY_LOGGED_IN = 0x100
_CKR_PIN_INCORRECT, _CKR_PIN_INVALID, _CKR_PIN_LEN_RANGE = 0xA0, 0xA1, 0xA2
_CKR_PIN_EXPIRED, _CKR_PIN_LOCKED, _CKR_USER_PIN_NOT_INITIALIZED = 0xA3, 0xA4, 0x102

_KEY = os.urandom(32)
_rejected: dict[tuple[str, str], set[bytes]] = {}  # (module path, token label) -> fingerprints
_lock = threading.Lock()


def fingerprint(pin: Secret) -> bytes:
    return hmac.new(_KEY, pin.reveal().encode("utf-8"), hashlib.sha256).digest()


def same_pin(a: Secret, b: Secret) -> bool:
    return hmac.compare_digest(fingerprint(a), fingerprint(b))


class RejectedPins:
    """The PINs token ``label`` of module ``path`` has rejected during this process's life."""

    def __init__(self, path: str, label: str) -> None:
        self.label = label
        with _lock:
            self._set = _rejected.setdefault((path, label), set())

    def refuse_if_rejected(self, pin: Secret) -> None:
        with _lock:
            known = fingerprint(pin) in self._set
        if known:
            raise InvalidCredential(
                f"the PKCS#11 token {self.label} already rejected this PIN; it will not be tried again "
                "(tokens lock after a few wrong PINs) until a different PIN is supplied"
            )

    def record(self, pin: Secret) -> None:
        with _lock:
            self._set.add(fingerprint(pin))

    def forget_all(self) -> None:
        """After a successful login: the PIN may later be changed back to one rejected before."""
        with _lock:
            self._set.clear()


def login_error(label: str, rv: int) -> tuple[BackendError, bool]:
    """The error for a failed C_Login, and whether the token counted it as a wrong PIN."""
    if rv in (_CKR_PIN_INCORRECT, _CKR_PIN_INVALID, _CKR_PIN_LEN_RANGE):
        return InvalidCredential(f"the PKCS#11 token {label} rejected the PIN"), True
    if rv == _CKR_PIN_LOCKED:
        message = (
            f"the PKCS#11 token {label} is locked after too many wrong PINs; "
            "its security officer must unlock it (reset the user PIN with the SO PIN)"
        )
        return DeviceLocked(message), False
    if rv == _CKR_PIN_EXPIRED:
        return InvalidCredential(f"the PIN of PKCS#11 token {label} has expired; set a new one"), False
    if rv == _CKR_USER_PIN_NOT_INITIALIZED:
        return DeviceUnavailable(f"PKCS#11 token {label} has no user PIN yet; initialise it first"), False
    return DeviceUnavailable(f"PKCS#11 token {label}: login failed (CKR 0x{rv:x})"), False
