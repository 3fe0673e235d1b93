"""secp256k1 helpers every backend shares: low-s, recovery id, verification, addresses."""

from __future__ import annotations

import coincurve
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from backends.base import Signature, SignatureMismatch

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


def address_of_public_key(public_key: bytes) -> str:
    """EIP-55 address of a 65-byte uncompressed (0x04‖X‖Y) or 33-byte compressed public key."""
    if len(public_key) == 33:
        public_key = coincurve.PublicKey(public_key).format(compressed=False)
    if len(public_key) != 65 or public_key[0] != 4:
        raise ValueError("public key must be 65 bytes uncompressed (0x04‖X‖Y) or 33 bytes compressed")
    return str(to_checksum_address(keccak(public_key[1:])[-20:]))


def address_of_private_key(private_key: bytes) -> str:
    return address_of_public_key(coincurve.PrivateKey(private_key).public_key.format(compressed=False))


def normalize_low_s(r: int, s: int) -> tuple[int, int, bool]:
    """EIP-2: return (r, s', flipped) with s' <= n/2. Flipping s also flips the recovery id."""
    if s > HALF_N:
        return r, SECP256K1_N - s, True
    return r, s, False


def recover_public_key(digest: bytes, y_parity: int, r: int, s: int) -> bytes:
    """The 65-byte public key that produced (y_parity, r, s) over ``digest``."""
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y_parity])
    return bytes(coincurve.PublicKey.from_signature_and_message(sig, digest, hasher=None).format(False))


def signature_from_raw(digest: bytes, r: int, s: int, public_key: bytes) -> Signature:
    """Turn a raw (r, s) from an HSM into an Ethereum signature: low-s, recovery id found by trial."""
    r, s, _ = normalize_low_s(r, s)
    for y_parity in (0, 1):
        try:
            if recover_public_key(digest, y_parity, r, s) == public_key:
                return Signature(y_parity, r, s)
        except Exception:  # coincurve raises on an impossible recovery; try the other parity
            continue
    raise SignatureMismatch("the signature does not match the account's public key")


def sign_with_private_key(private_key: bytes, digest: bytes) -> Signature:
    """Deterministic (RFC 6979) signature; libsecp256k1 already produces low s."""
    raw = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return Signature(raw[64], int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"))


def verify_for_address(digest: bytes, signature: Signature, address: str) -> None:
    """Raise SignatureMismatch unless ``signature`` over ``digest`` recovers to ``address``.

    Every backend calls this before a signature leaves it: a wrong key, curve or encoding is
    caught here instead of on chain.
    """
    if signature.s > HALF_N or not 0 < signature.r < SECP256K1_N or signature.y_parity not in (0, 1):
        raise SignatureMismatch("the signature is malformed (high s, or r/v out of range)")
    try:
        public_key = recover_public_key(digest, signature.y_parity, signature.r, signature.s)
    except Exception as exc:
        raise SignatureMismatch(f"the signature cannot be recovered: {exc}") from exc
    # Compared as 20 raw bytes: the EIP-55 spelling (another keccak) is only needed to report.
    if keccak(public_key[1:])[-20:].hex() != address.lower().removeprefix("0x"):
        recovered = address_of_public_key(public_key)
        raise SignatureMismatch(f"the signature recovers to {recovered}, not to the account {address}")
