"""The vault: clef's master seed and the AES-GCM stores derived from it (clef-compat §5).

Modules: ``masterseed`` (create/unlock ``masterseed.json``), ``cryptojson`` (its Web3 Secret
Storage crypto section), ``store`` (one AES-GCM key/value file), ``vault`` (folder and store keys
derived from the seed), ``passwords`` (clef's password rule, password files, setpw addresses).
Every error raised on purpose is a ``signer.errors.VaultError``; none carries a secret.
"""

from __future__ import annotations

from signer.vault.cryptojson import CryptoJSONError, DecryptError
from signer.vault.masterseed import (
    InsecurePermissions,
    MalformedMasterSeed,
    MasterSeedExists,
    WrongPassword,
    create_master_seed,
    unlock_master_seed,
)
from signer.vault.passwords import (
    PasswordFileError,
    check_password_format,
    checksum_address,
    read_password_file,
)
from signer.vault.store import CorruptStore, EncryptedStore, EntryAuthFailed
from signer.vault.vault import RULESET_KEY, Vault, store_key, vault_dir_name

__all__ = [
    "RULESET_KEY",
    "CorruptStore",
    "CryptoJSONError",
    "DecryptError",
    "EncryptedStore",
    "EntryAuthFailed",
    "InsecurePermissions",
    "MalformedMasterSeed",
    "MasterSeedExists",
    "PasswordFileError",
    "Vault",
    "WrongPassword",
    "check_password_format",
    "checksum_address",
    "create_master_seed",
    "read_password_file",
    "store_key",
    "unlock_master_seed",
    "vault_dir_name",
]
