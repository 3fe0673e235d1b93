"""Pkcs11Backend against a real SoftHSM2 token: the conformance suite plus PKCS#11 behaviour
(login state machine, recovery after lost sessions, key generation and import, account listing).

Signatures are checked with eth-keys / eth-account; the token is real, nothing is mocked. Where a
test needs to know whether the token was asked for a PIN, it counts calls to the module's C_Login.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from eth_account import Account as EthAccount
from eth_keys.datatypes import PrivateKey as EthPrivateKey
from eth_keys.datatypes import Signature as EthSignature
from eth_utils.crypto import keccak
from pkcs11 import Attribute, KeyType, ObjectClass

from backends.base import (
    Account,
    AccountExists,
    CredentialRequired,
    DeviceUnavailable,
    DigestPayload,
    InvalidCredential,
    Secret,
    UnknownKey,
)
from backends.pkcs11 import Pkcs11Backend
from backends.pkcs11.keys import SECP256K1_PARAMS, encode_ec_point
from backends.pkcs11.module import load_module
from tests.backends.conformance import BackendConformance, Subject
from tests.helpers.softhsm import SoftHsmToken, create_token

PIN = "4321-pin"


def _recover(digest: bytes, signature_bytes: bytes) -> str:
    return str(EthSignature(signature_bytes).recover_public_key_from_msg_hash(digest).to_checksum_address())


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    token = create_token(tmp_path_factory.mktemp("hsm"), label="conformance", pin=PIN, so_pin="so-8765")
    token.activate()
    return token


@pytest.fixture(scope="module")
def generated(hsm: SoftHsmToken) -> Account:
    backend = Pkcs11Backend(hsm.module, [hsm.label])
    try:
        return backend.new_account(hsm.label, Secret(PIN), label="generated")
    finally:
        backend.close()


@pytest.fixture
def backend(hsm: SoftHsmToken) -> Iterator[Pkcs11Backend]:
    subject = Pkcs11Backend(hsm.module, [hsm.label])
    yield subject
    subject.close()  # the last user of the token logs it out, so every test starts locked


@pytest.fixture
def logins(backend: Pkcs11Backend, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times C_Login reached the token during the test."""
    module = load_module(backend._module.path)
    calls: list[int] = []
    real = module.login

    def counting(handle: int, pin: bytes) -> int:
        calls.append(handle)
        return real(handle, pin)

    monkeypatch.setattr(module, "login", counting)
    return calls


def _sign_and_check(backend: Pkcs11Backend, account: Account, credential: Secret | None = None) -> None:
    digest = keccak(os.urandom(32))
    signature = backend.sign(account, DigestPayload(digest, b""), credential)
    assert _recover(digest, signature.to_bytes()) == account.address


class TestConformance(BackendConformance):
    @pytest.fixture
    def subject(self, backend: Pkcs11Backend, generated: Account, hsm: SoftHsmToken) -> Subject:
        foreign = Account(EthAccount.create().address, f"pkcs11:token={hsm.label};id=%00%11%22", "pkcs11")
        return Subject(backend, generated, Secret(PIN), Secret("wrong-0000"), foreign)


def test_accounts_are_listed_without_a_pin(backend: Pkcs11Backend, generated: Account) -> None:
    assert [a.address for a in backend.accounts()] == [generated.address]
    need = backend.credential_need(generated, "tx")
    assert need is not None and need.key == "pkcs11:token=conformance" and need.title == "Token PIN"
    assert need.prompt == "Please enter the PIN for PKCS#11 token conformance"
    with pytest.raises(CredentialRequired):
        backend.sign(generated, DigestPayload(keccak(b"a"), b""), None)


def test_one_login_then_no_credential_needed(
    backend: Pkcs11Backend, generated: Account, logins: list[int]
) -> None:
    backend.login("conformance", Secret(PIN))
    assert backend.credential_need(generated, "data") is None
    for _ in range(5):
        _sign_and_check(backend, generated)
    assert len(logins) == 1


def test_a_rejected_pin_is_never_sent_again(
    backend: Pkcs11Backend, generated: Account, logins: list[int]
) -> None:
    wrong = Secret("rejected-pin-7351")
    with pytest.raises(InvalidCredential, match=r"^the PKCS#11 token conformance rejected the PIN$"):
        backend.login("conformance", wrong)
    for _ in range(3):
        with pytest.raises(InvalidCredential, match="will not be tried again") as info:
            backend.sign(generated, DigestPayload(keccak(b"b"), b""), wrong)
        assert "rejected-pin-7351" not in str(info.value)
    assert len(logins) == 1  # the token saw the wrong PIN exactly once
    _sign_and_check(backend, generated, Secret(PIN))  # a different PIN is tried
    assert len(logins) == 2


def test_a_rebuilt_backend_remembers_the_rejected_pin(hsm: SoftHsmToken, backend: Pkcs11Backend) -> None:
    wrong = Secret("rejected-pin-5112")
    with pytest.raises(InvalidCredential, match="rejected the PIN"):
        backend.login(hsm.label, wrong)
    backend.close()
    again = Pkcs11Backend(hsm.module, [hsm.label])
    try:
        with pytest.raises(InvalidCredential, match="will not be tried again"):
            again.login(hsm.label, wrong)
    finally:
        again.close()


def test_a_different_pin_while_logged_in_is_refused(backend: Pkcs11Backend, generated: Account) -> None:
    backend.login("conformance", Secret(PIN))
    with pytest.raises(InvalidCredential) as info:
        backend.sign(generated, DigestPayload(keccak(b"c"), b""), Secret("other-pin-2222"))
    assert "other-pin-2222" not in str(info.value)


def test_login_lost_is_recovered_with_the_remembered_pin(
    hsm: SoftHsmToken, backend: Pkcs11Backend, generated: Account, logins: list[int]
) -> None:
    backend.login(hsm.label, Secret(PIN))
    _sign_and_check(backend, generated)
    module = load_module(hsm.module)
    outsider = module.lib.get_token(token_label=hsm.label).open()
    assert module.logout(outsider.handle) == 0  # login state is per process: this locks us too
    outsider.close()
    _sign_and_check(backend, generated)
    assert len(logins) == 2


@pytest.mark.parametrize("how", ["token re-inserted", "HSM restarted"])
def test_lost_sessions_are_recovered(
    hsm: SoftHsmToken, backend: Pkcs11Backend, generated: Account, logins: list[int], how: str
) -> None:
    backend.login(hsm.label, Secret(PIN))
    _sign_and_check(backend, generated)
    module = load_module(hsm.module)
    if how == "token re-inserted":
        slot = module.lib.get_token(token_label=hsm.label).slot.slot_id
        assert module.close_all_sessions(slot) == 0
    else:
        module.reinitialize()
    _sign_and_check(backend, generated)
    assert backend.credential_need(generated, "tx") is None
    assert len(logins) == 2


def test_token_away_and_back_without_restart(
    hsm: SoftHsmToken,
    backend: Pkcs11Backend,
    generated: Account,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    backend.login(hsm.label, Secret(PIN))
    elsewhere = create_token(tmp_path, label="elsewhere")
    elsewhere.activate()  # the module now sees another folder: our token is gone
    try:
        with pytest.raises(DeviceUnavailable, match=r"'conformance' is not present.*'elsewhere'"):
            backend.sign(generated, DigestPayload(keccak(b"d"), b""), None)
        assert backend.accounts() == []
    finally:
        hsm.activate()
    _sign_and_check(backend, generated)  # the remembered PIN logs in again
    assert "is not present" in caplog.text  # accounts() logged the absent token...
    assert PIN not in caplog.text  # ...and nothing logged the PIN


def test_missing_token_is_device_unavailable(hsm: SoftHsmToken) -> None:
    backend = Pkcs11Backend(hsm.module, ["no-such-token"])
    try:
        assert backend.accounts() == []
        with pytest.raises(DeviceUnavailable, match="'no-such-token' is not present"):
            backend.login("no-such-token", Secret(PIN))
    finally:
        backend.close()


def test_unknown_accounts(backend: Pkcs11Backend, generated: Account) -> None:
    cases = [
        Account(generated.address, "keystore:///tmp/key.json", "keystore"),
        Account(generated.address, generated.url.replace("token=conformance", "token=other"), "pkcs11"),
        Account(EthAccount.create().address, generated.url, "pkcs11"),  # URL and address disagree
    ]
    for account in cases:
        with pytest.raises(UnknownKey):
            backend.credential_need(account, "tx")


def test_generated_key_never_leaves_the_token(
    hsm: SoftHsmToken, backend: Pkcs11Backend, generated: Account
) -> None:
    backend.login(hsm.label, Secret(PIN))
    assert backend.key_attributes(generated) == {
        "sensitive": True,
        "extractable": False,
        "always_sensitive": True,
        "never_extractable": True,
        "local": True,
    }
    session = load_module(hsm.module).lib.get_token(token_label=hsm.label).open()
    try:
        private = next(
            session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: "generated"})
        )
        assert private[Attribute.DERIVE] is False  # no ECDH oracle on a signing key
        with pytest.raises(pkcs11.AttributeSensitive):
            private[Attribute.VALUE]
    finally:
        session.close()


def test_imported_key_signs_and_is_not_always_sensitive(hsm: SoftHsmToken, tmp_path: Path) -> None:
    token = hsm.add_token("import", pin=PIN)
    token.activate()
    backend = Pkcs11Backend(hsm.module, ["import"])
    try:
        local = EthAccount.create()
        account = backend.import_key("import", bytes(local.key), Secret(PIN), label="imported")
        assert account.address == local.address
        assert "object=imported" in account.url
        assert backend.key_attributes(account) == {
            "sensitive": True,
            "extractable": False,
            "always_sensitive": False,
            "never_extractable": False,
            "local": False,
        }
        _sign_and_check(backend, account)
        with pytest.raises(AccountExists):
            backend.import_key("import", bytes(local.key), None)
        with pytest.raises(ValueError):
            backend.import_key("import", b"\x00" * 32, None)
    finally:
        backend.close()
        hsm.activate()


def test_raw_ec_point_and_foreign_curves(hsm: SoftHsmToken) -> None:
    """A module that stores the bare point is read correctly; a P-256 key is not an account."""
    token = hsm.add_token("forms", pin=PIN)
    token.activate()
    backend = Pkcs11Backend(hsm.module, ["forms"])
    try:
        backend.login("forms", Secret(PIN))
        local = EthAccount.create()
        public = EthPrivateKey(bytes(local.key)).public_key.to_bytes()
        session = load_module(hsm.module).lib.get_token(token_label="forms").open(rw=True)
        try:
            session.create_object(_private_object(bytes(local.key), b"\x07"))
            session.create_object(_public_object(b"\x04" + public, b"\x07"))  # raw, not DER
            p256 = bytes.fromhex("06082a8648ce3d030107")
            session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: p256}, local=True
            ).generate_keypair(store=True, label="p256", id=b"\x08")
        finally:
            session.close()
        accounts = backend.accounts()
        assert [a.address for a in accounts] == [local.address]
        assert encode_ec_point(b"\x04" + public)[:2] == b"\x04\x41"
        _sign_and_check(backend, accounts[0])
    finally:
        backend.close()
        hsm.activate()


def _private_object(key: bytes, key_id: bytes) -> dict[Attribute, object]:
    return {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: SECP256K1_PARAMS,
        Attribute.VALUE: key,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SIGN: True,
        Attribute.SENSITIVE: True,
        Attribute.ID: key_id,
    }


def _public_object(point: bytes, key_id: bytes) -> dict[Attribute, object]:
    return {
        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: SECP256K1_PARAMS,
        Attribute.EC_POINT: point,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: False,
        Attribute.ID: key_id,
    }


def test_signing_lookup_uses_the_last_scan_and_notices_changes(
    hsm: SoftHsmToken, backend: Pkcs11Backend
) -> None:
    """AccountManager.find answers from the last scan (no token round trip per signature); a key
    another backend adds is still found, and a key destroyed behind our back is refused and
    forgotten, so the next lookup scans again and finds nothing."""
    from signer.accounts import AccountManager

    manager = AccountManager([backend])
    other = Pkcs11Backend(hsm.module, [hsm.label])
    try:
        added = other.new_account(hsm.label, Secret(PIN), label="added-later")
    finally:
        other.close()
    found = manager.find(added.address.lower())  # not in any scan yet: found by scanning
    assert found is not None and found[1].url == added.url
    assert backend.known_account(added.address) == added
    backend.login(hsm.label, Secret(PIN))
    digest = keccak(b"lookup")
    assert _recover(digest, backend.sign(added, DigestPayload(digest, b""), None).to_bytes()) == added.address

    session = load_module(hsm.module).lib.get_token(token_label=hsm.label).open(rw=True)  # logged in already
    try:
        for obj in session.get_objects({Attribute.LABEL: "added-later"}):
            obj.destroy()
    finally:
        session.close()
    found = manager.find(added.address)
    assert found is not None  # still known from the last scan
    with pytest.raises(UnknownKey):
        backend.sign(found[1], DigestPayload(digest, b""), None)
    assert backend.known_account(added.address) is None
    assert manager.find(added.address) is None
