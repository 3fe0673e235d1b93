"""Web3 Secret Storage key files, as geth's keystore reads and writes them.

Written: version 3, scrypt (standard N=262144 r=8 p=1, or --lightkdf N=4096 r=8 p=6), dklen 32,
AES-128-CTR with key dk[0:16], MAC = keccak256(dk[16:32] ‖ ciphertext), compact JSON with the
field order geth emits. Read: v3 with scrypt or pbkdf2 (hmac-sha256), and the legacy version "1"
(AES-128-CBC, key keccak256(dk[0:16])[0:16]) that geth still accepts.

Every failure is a ``BackendError`` with a message meant for a person; none carries the password
or key bytes. The KDF parameters come from an untrusted file, so they are bounded before use.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from Crypto.Protocol.KDF import scrypt as pycryptodome_scrypt
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from eth_utils.crypto import keccak

from backends.base import BackendError, InvalidCredential, Secret
from backends.secp256k1 import SECP256K1_N, address_of_private_key

DECRYPT_FAILED = "could not decrypt key with given password"
# scrypt's working set is ~128·r·N bytes; geth's standard is 256 MiB. Anything past these bounds
# is not a key file a wallet wrote but a way to exhaust memory or time.
MAX_SCRYPT_MEMORY = 1 << 30
MAX_SCRYPT_WORK = 1 << 24  # N·r·p; standard is 2^21
MAX_PBKDF2_ROUNDS = 10_000_000


@dataclass(frozen=True)
class ScryptParams:
    n: int
    r: int
    p: int


STANDARD_SCRYPT = ScryptParams(n=262144, r=8, p=1)
LIGHT_SCRYPT = ScryptParams(n=4096, r=8, p=6)


class InvalidKeyFile(BackendError):
    """The key file is not a Web3 Secret Storage file we can read (not a password problem)."""


class InvalidPrivateKey(BackendError):
    """Raw key material that is not a valid secp256k1 private key."""


@dataclass(frozen=True)
class DecryptedKey:
    """The content of a key file once unlocked. ``private_key`` is 32 bytes and never shown."""

    address: str  # EIP-55
    key_id: str
    private_key: bytes = field(repr=False)


def check_private_key(private_key: bytes) -> None:
    """Raise InvalidPrivateKey unless ``private_key`` is 32 bytes in [1, n-1] (geth's wording)."""
    if len(private_key) != 32:
        raise InvalidPrivateKey("invalid length, need 256 bits")
    value = int.from_bytes(private_key, "big")
    if value >= SECP256K1_N:
        raise InvalidPrivateKey("invalid private key, >=N")
    if value == 0:
        raise InvalidPrivateKey("invalid private key, zero or negative")


def encrypt_key(
    private_key: bytes, password: Secret, params: ScryptParams = STANDARD_SCRYPT, key_id: str | None = None
) -> bytes:
    """The key file JSON (compact, geth's field order) for ``private_key`` under ``password``."""
    check_private_key(private_key)
    salt = os.urandom(32)
    iv = os.urandom(16)
    dk = _scrypt(password, salt, params.n, params.r, params.p, 32)
    ciphertext = _aes_ctr(dk[:16], iv, private_key)
    address = address_of_private_key(private_key)
    document = {
        "address": address[2:].lower(),
        "crypto": {
            "cipher": "aes-128-ctr",
            "ciphertext": ciphertext.hex(),
            "cipherparams": {"iv": iv.hex()},
            "kdf": "scrypt",
            # Go marshals this map with sorted keys.
            "kdfparams": {"dklen": 32, "n": params.n, "p": params.p, "r": params.r, "salt": salt.hex()},
            "mac": keccak(dk[16:32] + ciphertext).hex(),
        },
        "id": key_id or str(uuid.uuid4()),
        "version": 3,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def parse_key_json(key_json: bytes | str) -> dict[str, Any]:
    """The top-level JSON object of a key file, or InvalidKeyFile."""
    try:
        document = json.loads(key_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidKeyFile(f"key file is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidKeyFile("key file is not a JSON object")
    return document


def address_in(document: Mapping[str, Any]) -> str:
    """The 40-hex lowercase address a key file declares (geth lists a file by this, unverified)."""
    value = _get(document, "address")
    if not isinstance(value, str):
        raise InvalidKeyFile("key file has no address")
    text = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 20 or len(text) != 40:
        raise InvalidKeyFile("key file address is not 20 bytes of hex")
    if raw == bytes(20):
        raise InvalidKeyFile("key file has a zero address")
    return text.lower()


def decrypt_key(key_json: bytes | str, password: Secret) -> DecryptedKey:
    """Unlock a key file. A wrong password gives InvalidCredential; a broken file, InvalidKeyFile."""
    document = parse_key_json(key_json)
    version = _get(document, "version")
    crypto = _get(document, "crypto")
    if not isinstance(crypto, dict):
        raise InvalidKeyFile("key file has no crypto section")
    if version == "1":  # geth checks for the string "1" first, then insists on the number 3
        plaintext = decrypt_crypto(crypto, password, legacy_v1=True)
    elif version == 3 and not isinstance(version, bool):
        plaintext = decrypt_crypto(crypto, password)
    else:
        raise InvalidKeyFile(f"version not supported: {version}")
    key_id = _get(document, "id")
    try:
        key_id = str(uuid.UUID(str(key_id)))
    except ValueError as exc:
        raise InvalidKeyFile(f"invalid UUID: {exc}") from None
    # geth turns short plaintexts (the 30/31-byte upstream vectors) into a scalar, i.e. pads left.
    private_key = plaintext.rjust(32, b"\0")
    try:
        check_private_key(private_key)
    except InvalidPrivateKey as exc:
        raise InvalidKeyFile(f"invalid key: {exc}") from None
    address = address_of_private_key(private_key)
    if _get(document, "address") is not None and address_in(document) != address[2:].lower():
        raise InvalidKeyFile(
            f"key content mismatch: have account {address[2:].lower()}, want {address_in(document)}"
        )
    return DecryptedKey(address=address, key_id=key_id, private_key=private_key)


def decrypt_crypto(crypto: Mapping[str, Any], password: Secret, legacy_v1: bool = False) -> bytes:
    """The plaintext of a ``crypto`` section (geth's CryptoJSON), after the MAC check."""
    cipher = _get(crypto, "cipher")
    expected_cipher = "aes-128-cbc" if legacy_v1 else "aes-128-ctr"
    if cipher != expected_cipher:
        raise InvalidKeyFile(f"cipher not supported: {cipher}")
    params = _get(crypto, "cipherparams")
    if not isinstance(params, dict):
        raise InvalidKeyFile("key file has no cipherparams")
    ciphertext = _hex_field(crypto, "ciphertext")
    iv = _hex_field(params, "iv")
    mac = _hex_field(crypto, "mac")
    if len(iv) != 16:
        raise InvalidKeyFile("cipherparams.iv must be 16 bytes")
    dk = _derive_key(crypto, password)
    if not hmac.compare_digest(keccak(dk[16:32] + ciphertext), mac):
        raise InvalidCredential(DECRYPT_FAILED)
    if legacy_v1:
        return _aes_cbc(keccak(dk[:16])[:16], iv, ciphertext)
    return _aes_ctr(dk[:16], iv, ciphertext)


def _derive_key(crypto: Mapping[str, Any], password: Secret) -> bytes:
    kdf = _get(crypto, "kdf")
    params = _get(crypto, "kdfparams")
    if not isinstance(params, dict):
        raise InvalidKeyFile("key file has no kdfparams")
    salt = _hex_field(params, "salt")
    dklen = _int_param(params, "dklen")
    if not 32 <= dklen <= 64:
        raise InvalidKeyFile(f"kdfparams.dklen must be between 32 and 64, not {dklen}")
    if kdf == "scrypt":
        return _scrypt(
            password, salt, _int_param(params, "n"), _int_param(params, "r"), _int_param(params, "p"), dklen
        )
    if kdf == "pbkdf2":
        prf = params.get("prf")
        if prf != "hmac-sha256":
            raise InvalidKeyFile(f"unsupported PBKDF2 PRF: {prf}")
        rounds = _int_param(params, "c")
        if not 1 <= rounds <= MAX_PBKDF2_ROUNDS:
            raise InvalidKeyFile(f"kdfparams.c out of range: {rounds}")
        return hashlib.pbkdf2_hmac("sha256", password.reveal().encode(), salt, rounds, dklen)
    raise InvalidKeyFile(f"unsupported KDF: {kdf}")


def _scrypt(password: Secret, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise InvalidKeyFile(f"invalid scrypt parameters n={n} r={r} p={p}")
    # OpenSSL counts 128·r·(N+2) for V plus 128·r·p for B against maxmem.
    needed = 128 * r * (n + 2) + 128 * r * p
    if needed > MAX_SCRYPT_MEMORY or n * r * p > MAX_SCRYPT_WORK:
        raise InvalidKeyFile(f"scrypt parameters too large to be a key file: n={n} r={r} p={p}")
    secret = password.reveal().encode()
    if r * 16 < 64 and n >= 1 << (16 * r):
        # OpenSSL enforces RFC 7914's N < 2^(16·r) and refuses the upstream wiki vector
        # (N=2^18, r=1); geth does not, so such files exist. pycryptodome computes them.
        # Its stub says str, but it takes bytes (and a str would be re-encoded differently).
        derived: bytes = pycryptodome_scrypt(secret, salt, dklen, N=n, r=r, p=p)  # type: ignore[arg-type,assignment]
        return derived
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=needed + (1 << 16), dklen=dklen)


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _aes_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    if not data or len(data) % 16:
        raise InvalidKeyFile("ciphertext is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise InvalidKeyFile("invalid padding in decrypted key") from None


def _get(obj: Mapping[str, Any], name: str) -> Any:
    """Field lookup that ignores case, as Go's encoding/json does ("Crypto" in older wallets)."""
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.lower() == name:
            return value
    return None


def _hex_field(obj: Mapping[str, Any], name: str) -> bytes:
    value = _get(obj, name)
    if not isinstance(value, str):
        raise InvalidKeyFile(f"key file field {name!r} is missing or not a string")
    try:
        return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    except ValueError:
        raise InvalidKeyFile(f"key file field {name!r} is not hex") from None


def _int_param(params: Mapping[str, Any], name: str) -> int:
    value = params.get(name)
    # JSON numbers reach Go as float64 and are truncated; accept integral floats the same way.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidKeyFile(f"kdfparams.{name} is missing or not an integer")
    return value
