"""The vault: the folder and the three stores clef derives from the master seed (§5.2, §5.3).

``vaultDir = <configdir>/hex(keccak256("vault" ‖ seed)[:10])`` and each store's AES-256 key is
``keccak256(<name> ‖ seed)``: the raw seed, no KDF, no separator. Same seed, same folder, so a
clef configdir opens here unchanged and ours opens in clef.
"""

from __future__ import annotations

from pathlib import Path

from backends.base import Secret
from signer import fsutil
from signer.codecs.hexutil import keccak256
from signer.errors import VaultError
from signer.vault.masterseed import SEED_LENGTH
from signer.vault.passwords import checksum_address
from signer.vault.store import EncryptedStore

CREDENTIALS, JSSTORAGE, CONFIG = "credentials", "jsstorage", "config"
RULESET_KEY = "ruleset_sha256"


def vault_dir_name(seed: bytes) -> str:
    """20 lowercase hex characters: the first 10 bytes of keccak256("vault" ‖ seed)."""
    return keccak256(b"vault" + seed)[:10].hex()


def store_key(name: str, seed: bytes) -> bytes:
    """The AES-256 key of store ``name`` (credentials, jsstorage, config)."""
    return keccak256(name.encode("ascii") + seed)


class Vault:
    """The unlocked vault of one configdir. Build it with ``Vault.open``."""

    def __init__(self, directory: Path, seed: bytes) -> None:
        self._directory = directory
        self._credentials = EncryptedStore(directory / f"{CREDENTIALS}.json", store_key(CREDENTIALS, seed))
        self._jsstorage = EncryptedStore(directory / f"{JSSTORAGE}.json", store_key(JSSTORAGE, seed))
        self._config = EncryptedStore(directory / f"{CONFIG}.json", store_key(CONFIG, seed))

    @classmethod
    def open(cls, configdir: Path, seed: bytes) -> Vault:
        """Derive the vault folder under ``configdir`` and create it (0700) if it is missing.

        The folder is always under ``configdir``, even when the seed file lives elsewhere
        (clef's ``--signersecret``). An existing folder is used as it is.
        """
        if len(seed) < SEED_LENGTH:
            raise VaultError(
                f"master seed of insufficient length, expected >{SEED_LENGTH - 1} bytes, got {len(seed)}"
            )
        directory = Path(configdir) / vault_dir_name(seed)
        try:
            fsutil.ensure_private_dir(directory)
        except OSError as exc:
            raise VaultError(f"cannot create the vault folder {directory}: {exc.strerror or exc}") from None
        return cls(directory, seed)

    def __repr__(self) -> str:
        return f"Vault({str(self._directory)!r})"

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def credentials(self) -> EncryptedStore:
        """Keystore passwords, keyed by EIP-55 address (``setpw``)."""
        return self._credentials

    @property
    def jsstorage(self) -> EncryptedStore:
        """The rule engine's persistent ``storage``."""
        return self._jsstorage

    @property
    def config(self) -> EncryptedStore:
        """Signer settings; clef uses only ``ruleset_sha256``."""
        return self._config

    def ruleset_hash(self) -> str:
        """The attested ruleset hash, or "" when nothing was attested (clef compares against "")."""
        return self._config.get(RULESET_KEY) or ""

    def attest(self, hex_str: str) -> None:
        """Store ``hex_str`` as the attested ruleset hash, verbatim: clef neither checks nor trims it."""
        self._config.put(RULESET_KEY, hex_str)

    def set_password(self, address: str, password: Secret) -> str:
        """``setpw``: store ``password`` for ``address``; returns the EIP-55 key it was stored under."""
        key = checksum_address(address)
        self._credentials.put(key, password.reveal())
        return key

    def delete_password(self, address: str) -> str:
        """``delpw``: remove the stored password of ``address``; returns the EIP-55 key."""
        key = checksum_address(address)
        self._credentials.delete(key)
        return key

    def password_for(self, address: str) -> Secret | None:
        """The stored password of ``address`` (any case, 0x optional), or None."""
        value = self._credentials.get(checksum_address(address))
        return None if value is None else Secret(value)
