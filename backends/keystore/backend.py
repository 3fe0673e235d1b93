"""KeystoreBackend: geth-compatible key files in one directory, unlocked per request.

Like clef, a key is never kept unlocked: every ``sign`` reads the file, runs the KDF, signs and
drops the key. That costs one KDF per signature (about 45 ms light, 0.7 s standard on the
reference machine), which is the price of not holding keys in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from eth_utils.address import to_checksum_address

from backends.base import (
    Account,
    AccountExists,
    CredentialNeed,
    CredentialRequired,
    InvalidCredential,
    Payload,
    Secret,
    Signature,
    SignatureMismatch,
    UnknownKey,
    UnsupportedPayload,
)
from backends.keystore import v3
from backends.keystore.store import KeyDirectory, KeystoreIOError
from backends.secp256k1 import SECP256K1_N, sign_with_private_key, verify_for_address


class KeystoreBackend:
    """Accounts held in Web3 Secret Storage files under ``directory`` (clef's ``--keystore``)."""

    name = "keystore"

    def __init__(self, directory: str | Path, light_kdf: bool = False) -> None:
        self._dir = KeyDirectory(directory)
        self.light_kdf = light_kdf
        self._params = v3.LIGHT_SCRYPT if light_kdf else v3.STANDARD_SCRYPT

    @property
    def directory(self) -> Path:
        return self._dir.directory

    def __repr__(self) -> str:
        return f"KeystoreBackend({str(self.directory)!r}, light_kdf={self.light_kdf})"

    # --- listing ----------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """One account per key file, sorted by URL; a duplicated address appears once per file."""
        return [self._account(k.address, k.path) for k in self._dir.scan()]

    def duplicates(self) -> dict[str, list[str]]:
        """EIP-55 address -> the files holding it, for addresses found in more than one file."""
        return {
            to_checksum_address(address): [str(p) for p in paths]
            for address, paths in self._dir.duplicates().items()
        }

    def path_of(self, account: Account) -> Path:
        """The key file of ``account``: UnknownKey if absent, AmbiguousAccount if in several files."""
        try:
            return self._dir.find(account.address)
        except KeyError:
            raise UnknownKey(f"unknown account {account.address}") from None

    # --- signing ----------------------------------------------------------------------------------

    def check(self) -> None:
        """The keystore folder can be read (a missing folder just holds no accounts yet)."""
        folder = self.directory
        if folder.exists() and not (folder.is_dir() and os.access(folder, os.R_OK | os.X_OK)):
            raise KeystoreIOError(f"the keystore {folder} is not a readable folder")

    def credential_need(self, account: Account, purpose: str) -> CredentialNeed:
        self.path_of(account)  # an unknown account is refused before anyone is asked for a password
        address = to_checksum_address(account.address)
        if purpose == "tx":
            return CredentialNeed(
                address, "Account password", f"Please enter the password for account {address}"
            )
        return CredentialNeed(
            address, "Password for signing", f"Please enter password for signing data with account {address}"
        )

    def sign(self, account: Account, payload: Payload, credential: Secret | None) -> Signature:
        digest = payload.digest
        if len(digest) != 32:
            raise UnsupportedPayload(f"the digest to sign must be 32 bytes, not {len(digest)}")
        path = self.path_of(account)
        if credential is None:
            raise CredentialRequired(f"a password is needed to unlock account {account.address}")
        key = self._unlock(path, credential)
        if key.address.lower() != account.address.lower():
            raise SignatureMismatch(f"the key file {path} holds {key.address}, not {account.address}")
        signature = sign_with_private_key(key.private_key, digest)
        verify_for_address(digest, signature, account.address)
        return signature

    # --- creating and moving keys -----------------------------------------------------------------

    def new_account(self, credential: Secret) -> Account:
        """A fresh random key, written with this backend's KDF (standard, or light)."""
        while True:
            private_key = os.urandom(32)
            if 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
                break
        return self._store(private_key, credential)

    def import_key(self, private_key: bytes, credential: Secret) -> Account:
        """Encrypt a raw 32-byte key under ``credential`` (clef_importRawKey / importraw)."""
        v3.check_private_key(private_key)
        return self._store(private_key, credential, refuse_existing=True)

    def export(self, account: Account) -> bytes:
        """The key file's raw JSON, byte for byte (clef_export)."""
        path = self.path_of(account)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise UnknownKey(f"unknown account {account.address}") from None
        except OSError as exc:
            raise KeystoreIOError(f"cannot read key file {path}: {exc.strerror}") from None

    def import_json(self, key_json: bytes, old: Secret, new: Secret) -> Account:
        """Re-encrypt a key file under ``new`` (clef_import); the key keeps its id, like geth."""
        key = v3.decrypt_key(key_json, old)
        return self._store(key.private_key, new, refuse_existing=True, key_id=key.key_id)

    def close(self) -> None:
        self._dir.clear()

    # --- internals --------------------------------------------------------------------------------

    def _account(self, address: str, path: Path) -> Account:
        return Account(to_checksum_address(address), f"keystore://{path}", self.name)

    def _unlock(self, path: Path, credential: Secret) -> v3.DecryptedKey:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UnknownKey(f"the key file {path} has gone") from None
        except OSError as exc:
            raise KeystoreIOError(f"cannot read key file {path}: {exc.strerror}") from None
        return v3.decrypt_key(data, credential)

    def _store(
        self, private_key: bytes, credential: Secret, refuse_existing: bool = False, key_id: str | None = None
    ) -> Account:
        data = v3.encrypt_key(private_key, credential, self._params, key_id)
        address = v3.address_in(v3.parse_key_json(data))

        def check(written: bytes) -> None:
            # geth's check: what is on disk decrypts with this password to this address.
            try:
                back = v3.decrypt_key(written, credential)
            except (InvalidCredential, v3.InvalidKeyFile) as exc:
                raise KeystoreIOError(f"the key file did not read back correctly: {exc}") from None
            if back.address[2:].lower() != address:
                raise KeystoreIOError("the key file did not read back to the same account")

        with self._dir.write_lock:
            if refuse_existing and self._dir.has_address(address):
                raise AccountExists("account already exists")
            path = self._dir.write_new(address, data, check)
        return self._account(address, path)
