"""PKCS#11 backend: secp256k1 keys held by an HSM (SoftHSM2 in tests, YubiHSM 2 / CloudHSM in production)."""

from backends.pkcs11.backend import Pkcs11Backend

__all__ = ["Pkcs11Backend"]
