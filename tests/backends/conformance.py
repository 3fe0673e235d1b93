"""The backend conformance suite: the same tests run against every backend.

A backend's test module subclasses ``BackendConformance`` and provides the ``subject`` fixture.
Signatures are checked with eth-keys and eth-account, never with our own recovery code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from eth_keys.datatypes import Signature as EthSignature
from eth_utils.crypto import keccak

from backends.base import (
    Account,
    Backend,
    DigestPayload,
    InvalidCredential,
    Secret,
    TextPayload,
    UnknownKey,
)

HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


@dataclass
class Subject:
    """What a backend's test module hands the suite."""

    backend: Backend
    account: Account
    credential: Secret | None
    wrong_credential: Secret | None  # None where the backend has no credential to get wrong
    foreign_account: Account  # an account this backend does not hold


def _recover(digest: bytes, sig_bytes: bytes) -> str:
    sig = EthSignature(sig_bytes)
    return str(sig.recover_public_key_from_msg_hash(digest).to_checksum_address())


class BackendConformance:
    """Every backend must pass these. Subclasses define the ``subject`` fixture."""

    def test_lists_its_account(self, subject: Subject) -> None:
        addresses = [a.address for a in subject.backend.accounts()]
        assert subject.account.address in addresses

    def test_signed_digest_recovers_to_account(self, subject: Subject) -> None:
        for _ in range(8):
            digest = keccak(os.urandom(40))
            sig = subject.backend.sign(subject.account, DigestPayload(digest, b""), subject.credential)
            assert _recover(digest, sig.to_bytes()) == subject.account.address

    def test_signatures_are_low_s(self, subject: Subject) -> None:
        # SoftHSM returns high s for ~45 % of raw signatures; 24 draws make a miss ~1e-6.
        for _ in range(24):
            digest = keccak(os.urandom(32))
            sig = subject.backend.sign(subject.account, DigestPayload(digest, b""), subject.credential)
            assert 0 < sig.s <= HALF_N
            assert sig.y_parity in (0, 1)

    def test_personal_message_verifies_with_eth_account(self, subject: Subject) -> None:
        message = b"sealward conformance"
        signable = encode_defunct(primitive=message)
        digest = keccak(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)
        sig = subject.backend.sign(subject.account, TextPayload(message, digest), subject.credential)
        recovered = EthAccount.recover_message(signable, signature=sig.to_bytes(27))
        assert recovered == subject.account.address

    def test_unknown_account_is_refused(self, subject: Subject) -> None:
        digest = keccak(b"x")
        with pytest.raises(UnknownKey):
            subject.backend.sign(subject.foreign_account, DigestPayload(digest, b""), subject.credential)

    def test_wrong_credential_is_refused(self, subject: Subject) -> None:
        if subject.wrong_credential is None:
            pytest.skip("this backend takes no credential")
        with pytest.raises(InvalidCredential):
            subject.backend.sign(subject.account, DigestPayload(keccak(b"y"), b""), subject.wrong_credential)

    def test_repr_of_accounts_and_credentials_hides_secrets(self, subject: Subject) -> None:
        if subject.credential is not None:
            assert subject.credential.reveal() not in repr(subject.credential)
            assert subject.credential.reveal() not in repr(subject.account)
