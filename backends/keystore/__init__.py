"""The keystore backend: geth/clef Web3 Secret Storage key files in one directory."""

from backends.keystore.backend import KeystoreBackend
from backends.keystore.store import AmbiguousAccount, KeystoreIOError, key_file_name
from backends.keystore.v3 import InvalidKeyFile, InvalidPrivateKey

__all__ = [
    "AmbiguousAccount",
    "InvalidKeyFile",
    "InvalidPrivateKey",
    "KeystoreBackend",
    "KeystoreIOError",
    "key_file_name",
]
