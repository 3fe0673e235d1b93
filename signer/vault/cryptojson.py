"""The ``crypto`` section of a Web3 Secret Storage v3 file, which clef reuses for its master seed.

Encryption (clef §5.1): ``dk = scrypt(pw, salt, N, r=8, P, 32)``, ``ct = AES-128-CTR(dk[:16], iv,
data)``, ``mac = keccak256(dk[16:32] ‖ ct)``. Decryption also accepts pbkdf2/hmac-sha256, as
geth's ``DecryptDataV3`` does. Error texts are geth's, so they read the same as clef's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import cast

from Crypto.Protocol.KDF import scrypt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from signer.codecs.hexutil import keccak256
from signer.errors import VaultError

SCRYPT_R = 8
SCRYPT_DKLEN = 32
STANDARD_SCRYPT_N, STANDARD_SCRYPT_P = 262144, 1
LIGHT_SCRYPT_N, LIGHT_SCRYPT_P = 4096, 6
# geth has no ceiling; ours keeps a corrupted file from asking for terabytes. 1 GiB is 4x
# clef's standard parameters (256 MiB).
MAX_SCRYPT_MEMORY = 1 << 30

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


class CryptoJSONError(VaultError):
    """The crypto section is malformed or uses a cipher/KDF we do not support."""


class DecryptError(VaultError):
    """The MAC did not match: a wrong password (or a modified ciphertext)."""

    def __init__(self) -> None:
        super().__init__("could not decrypt key with given password")


def encrypt_data(data: bytes, password: bytes, n: int, p: int) -> dict[str, object]:
    """Encrypt ``data`` with scrypt(N=n, r=8, P=p); key order is geth's marshalling order."""
    salt = secrets.token_bytes(32)
    iv = secrets.token_bytes(16)
    dk = _scrypt(password, salt, n, SCRYPT_R, p, SCRYPT_DKLEN)
    ciphertext = _aes_ctr(dk[:16], iv, data)
    return {
        "cipher": "aes-128-ctr",
        "ciphertext": ciphertext.hex(),
        "cipherparams": {"iv": iv.hex()},
        "kdf": "scrypt",
        # geth marshals this as a Go map, so the keys come out sorted.
        "kdfparams": {"dklen": SCRYPT_DKLEN, "n": n, "p": p, "r": SCRYPT_R, "salt": salt.hex()},
        "mac": keccak256(dk[16:32] + ciphertext).hex(),
    }


def decrypt_data(crypto: object, password: bytes) -> bytes:
    """Decrypt a crypto section; DecryptError on a MAC mismatch, CryptoJSONError if malformed."""
    if not isinstance(crypto, dict):
        raise CryptoJSONError("crypto parameters are not a JSON object")
    cipher = crypto.get("cipher")
    if cipher != "aes-128-ctr":
        raise CryptoJSONError(f"cipher not supported: {cipher}")
    mac = _hex_field(crypto, "mac")
    cipherparams = crypto.get("cipherparams")
    iv = _hex_field(cipherparams if isinstance(cipherparams, dict) else {}, "iv")
    ciphertext = _hex_field(crypto, "ciphertext")
    if len(iv) != 16:
        raise CryptoJSONError(f"invalid IV length {len(iv)}, want 16")
    dk = _derive_key(crypto, password)
    if not hmac.compare_digest(keccak256(dk[16:32] + ciphertext), mac):
        raise DecryptError()
    return _aes_ctr(dk[:16], iv, ciphertext)


def _derive_key(crypto: dict[object, object], password: bytes) -> bytes:
    params = crypto.get("kdfparams")
    if not isinstance(params, dict):
        raise CryptoJSONError("kdfparams missing")
    salt = _hex_field(params, "salt")
    dklen = _int_field(params, "dklen")
    if not 32 <= dklen <= 64:
        # mac and cipher key are cut from the first 32 bytes; less would be unusable
        raise CryptoJSONError(f"invalid dklen {dklen}")
    kdf = crypto.get("kdf")
    if kdf == "scrypt":
        n, r, p = (_int_field(params, name) for name in ("n", "r", "p"))
        return _scrypt(password, salt, n, r, p, dklen)
    if kdf == "pbkdf2":
        count = _int_field(params, "c")
        prf = params.get("prf")
        if prf != "hmac-sha256":
            raise CryptoJSONError(f"unsupported PBKDF2 PRF: {prf}")
        if count < 1:
            raise CryptoJSONError(f"invalid PBKDF2 iteration count {count}")
        return hashlib.pbkdf2_hmac("sha256", password, salt, count, dklen)
    raise CryptoJSONError(f"unsupported KDF: {kdf}")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # geth's own checks and wording, then our memory ceiling.
    if n <= 1 or n & (n - 1):
        raise CryptoJSONError("scrypt: N must be > 1 and a power of 2")
    if r < 1 or p < 1 or r * p >= 1 << 30:
        raise CryptoJSONError("scrypt: parameters are too large")
    if 128 * r * (n + p) > MAX_SCRYPT_MEMORY:
        raise CryptoJSONError(f"scrypt: parameters need more than {MAX_SCRYPT_MEMORY >> 20} MiB")
    # pycryptodome, not OpenSSL: OpenSSL enforces RFC 7914's N < 2^(16r), which geth does not,
    # and geth's own keystore test vector (N=2^18, r=1) would then fail. Same speed.
    # Its stubs say str, but it takes bytes (a str would be re-encoded, losing non-UTF-8 bytes).
    derive = cast("Callable[..., bytes]", scrypt)
    return derive(password, salt, dklen, N=n, r=r, p=p)


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    # CTR mode is its own inverse: the same call encrypts and decrypts.
    transform = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return transform.update(data) + transform.finalize()


def _hex_field(obj: dict[object, object], name: str) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise CryptoJSONError(f"{name} is missing or not hex")
    return bytes.fromhex(value)


def _int_field(obj: dict[object, object], name: str) -> int:
    value = obj.get(name)
    # geth accepts a JSON number and truncates it to an int
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise CryptoJSONError(f"kdf parameter {name} is missing or not a number")
    if isinstance(value, float) and abs(value) > 2**62:
        raise CryptoJSONError(f"kdf parameter {name} is out of range")
    return int(value)
