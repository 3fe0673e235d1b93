"""The backend contract: what every key holder (keystore, PKCS#11, Ledger) provides.

A backend lists its accounts and signs payloads. It knows nothing about JSON-RPC, approval or
the vault: the signer decides *whether* to sign, the backend only *how*.

Exception tree (each backend translates its library's errors into these at its own boundary)::

    BackendError
    ├── InvalidCredential      wrong password or PIN
    ├── CredentialRequired     the key is locked and no credential was supplied
    ├── UnknownKey             the backend does not hold this account
    ├── AccountExists          importing a key that is already there
    ├── UnsupportedPayload     this backend cannot sign this kind of payload
    ├── UnsupportedOperation   e.g. new_account on a backend that cannot create keys
    ├── SignatureMismatch      a produced signature does not recover to the account
    └── DeviceError            hardware state
        ├── DeviceLocked, DeviceUnavailable, AppNotOpen, WrongApp, AppTooOld
        └── UserRejected       the person pressed "reject" on the device

Messages are written for the person reading them and never contain a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class Secret:
    """A password or PIN. Its repr and str never show the value; call ``reveal()`` at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


@dataclass(frozen=True)
class Account:
    """An address a backend can sign for. ``address`` is EIP-55; ``url`` says where the key lives."""

    address: str
    url: str
    backend: str


@dataclass(frozen=True)
class Signature:
    """A secp256k1 signature in Ethereum form; ``s`` is always low (EIP-2)."""

    y_parity: int
    r: int
    s: int

    def to_bytes(self, v_offset: int = 0) -> bytes:
        """65 bytes r‖s‖v with v = y_parity + v_offset (27 for personal/validator/typed, 0 for clique)."""
        return self.r.to_bytes(32, "big") + self.s.to_bytes(32, "big") + bytes([self.y_parity + v_offset])


# --- payloads: each carries the digest to sign plus the pre-image a device may need -------------


@dataclass(frozen=True)
class DigestPayload:
    """A raw 32-byte digest with no structure a device could display (a clique seal hash)."""

    digest: bytes
    preimage: bytes
    kind: str = "clique"


@dataclass(frozen=True)
class TextPayload:
    """EIP-191 version 0x45 (personal_sign): digest = keccak("\\x19Ethereum Signed Message:\\n" len msg)."""

    message: bytes
    digest: bytes


@dataclass(frozen=True)
class ValidatorPayload:
    """EIP-191 version 0x00: digest = keccak(0x19 0x00 validator message)."""

    validator: bytes
    message: bytes
    digest: bytes


@dataclass(frozen=True)
class TypedDataPayload:
    """EIP-712: digest = keccak(0x19 0x01 domain_hash struct_hash); ``document`` is the full JSON."""

    domain_hash: bytes
    struct_hash: bytes
    digest: bytes
    document: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class TransactionPayload:
    """An unsigned transaction. ``fields`` is an eth-account transaction dict (typed by ``tx_type``)."""

    tx_type: int
    chain_id: int
    fields: Mapping[str, Any]
    digest: bytes
    extra: Mapping[str, Any] = field(default_factory=dict)


Payload = DigestPayload | TextPayload | ValidatorPayload | TypedDataPayload | TransactionPayload


@dataclass(frozen=True)
class CredentialNeed:
    """What the signer must supply before ``sign``: a password for one key, or a token PIN.

    ``key`` is where the vault keeps it (a checksummed address, or ``pkcs11:token=LABEL``);
    ``title``/``prompt`` are what the UI shows when the vault does not have it.
    """

    key: str
    title: str
    prompt: str


@runtime_checkable
class Backend(Protocol):
    """A holder of keys. Implementations must be safe to call from several threads."""

    name: str

    def accounts(self) -> list[Account]:
        """The accounts this backend can sign for now (rescanned as files or devices come and go)."""
        ...

    def credential_need(self, account: Account, purpose: str) -> CredentialNeed | None:
        """The credential ``sign`` needs for ``account``, or None when none is needed (already unlocked).

        ``purpose`` is ``"tx"`` or ``"data"``; it only changes the prompt's wording.
        """
        ...

    def sign(self, account: Account, payload: Payload, credential: Secret | None) -> Signature:
        """Sign ``payload`` with the key of ``account``. The result is low-s and has been verified
        by recovery against the account before it is returned."""
        ...

    def close(self) -> None:
        """Release files, sessions and devices."""
        ...


@runtime_checkable
class Checkable(Protocol):
    """A backend that can say cheaply whether it could sign now (the signer's readiness check)."""

    def check(self) -> None:
        """Return when the backend answers; raise a BackendError saying why not. Called every second
        or two while someone watches readiness, so it must cost no more than one cheap round trip."""
        ...


@runtime_checkable
class KnownAccounts(Protocol):
    """Optional for a backend whose ``accounts()`` is costly (a PKCS#11 token scan on every call).

    ``known_account`` answers from what the backend last saw, without asking the device; None
    means "not known", and the caller lists ``accounts()``. A key removed since then is found
    out by ``sign``, which raises UnknownKey, as for any key that goes away mid-request.
    """

    def known_account(self, address: str) -> Account | None: ...


# --- errors ---------------------------------------------------------------------------------------


class BackendError(Exception):
    """Base of every error a backend raises."""


class InvalidCredential(BackendError):
    pass


class CredentialRequired(BackendError):
    pass


class UnknownKey(BackendError):
    pass


class AccountExists(BackendError):
    pass


class UnsupportedPayload(BackendError):
    pass


class UnsupportedOperation(BackendError):
    pass


class SignatureMismatch(BackendError):
    pass


class DeviceError(BackendError):
    pass


class DeviceLocked(DeviceError):
    pass


class DeviceUnavailable(DeviceError):
    pass


class AppNotOpen(DeviceError):
    pass


class WrongApp(DeviceError):
    pass


class AppTooOld(DeviceError):
    pass


class UserRejected(DeviceError):
    pass
