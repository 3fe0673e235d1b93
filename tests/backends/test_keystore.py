"""KeystoreBackend on real files: the conformance suite, geth's layout, rescans, duplicates, writes."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import threading
from pathlib import Path

import pytest
from eth_account import Account as EthAccount
from eth_keys.datatypes import Signature as EthKeysSignature
from eth_utils.crypto import keccak

from backends.base import (
    Account,
    AccountExists,
    CredentialRequired,
    DigestPayload,
    InvalidCredential,
    Payload,
    Secret,
    TransactionPayload,
    TypedDataPayload,
    UnknownKey,
    UnsupportedPayload,
    ValidatorPayload,
)
from backends.keystore import AmbiguousAccount, KeystoreBackend, KeystoreIOError
from backends.keystore.store import KeyDirectory, key_file_name
from tests.backends.conformance import BackendConformance, Subject

PASSWORD = Secret("correct horse battery")
UPSTREAM_KEY = bytes.fromhex("0102030405060708090a0102030405060708090a0102030405060708090a0102")
UPSTREAM_ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
FILE_NAME = re.compile(r"^UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--[0-9a-f]{40}$")
FOREIGN = Account("0x" + "ab" * 20, "keystore:///nowhere", "keystore")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _drop_in(directory: Path, name: str, private_key: bytes, password: str = "dropped") -> None:
    """A key file written by someone else (eth-account), as a user would copy one in."""
    document = EthAccount.encrypt(private_key, password, kdf="scrypt", iterations=16)
    (directory / name).write_text(json.dumps(document))


def _recover(digest: bytes, signature_bytes: bytes) -> str:
    return str(
        EthKeysSignature(signature_bytes).recover_public_key_from_msg_hash(digest).to_checksum_address()
    )


@pytest.fixture
def keystore(tmp_path: Path) -> KeystoreBackend:
    return KeystoreBackend(tmp_path / "keystore", light_kdf=True)


@pytest.fixture(scope="module")
def subject(tmp_path_factory: pytest.TempPathFactory) -> Subject:
    """The conformance suite's subject: a light-KDF keystore holding one new account."""
    backend = KeystoreBackend(tmp_path_factory.mktemp("conformance") / "keystore", light_kdf=True)
    account = backend.new_account(PASSWORD)
    return Subject(backend, account, PASSWORD, Secret("not the password"), FOREIGN)


class TestConformance(BackendConformance):
    pass


def test_new_account_file_layout_permissions_and_eth_account(keystore: KeystoreBackend) -> None:
    account = keystore.new_account(PASSWORD)
    path = keystore.path_of(account)
    assert FILE_NAME.match(path.name) and path.name.endswith(account.address[2:].lower())
    assert path.parent == keystore.directory and path.is_absolute()
    assert _mode(path) == 0o600 and _mode(keystore.directory) == 0o700
    assert account.url == f"keystore://{path}" and account.url.startswith("keystore:///")
    assert account.backend == "keystore"
    assert json.loads(path.read_text())["crypto"]["kdfparams"]["n"] == 4096
    private_key = bytes(EthAccount.decrypt(path.read_text(), PASSWORD.reveal()))
    assert EthAccount.from_key(private_key).address == account.address
    assert keystore.accounts() == [account]
    assert os.listdir(keystore.directory) == [path.name]  # no temp file left behind


def test_standard_kdf_is_the_default(tmp_path: Path) -> None:
    backend = KeystoreBackend(tmp_path)
    account = backend.import_key(UPSTREAM_KEY, PASSWORD)
    params = json.loads(backend.export(account))["crypto"]["kdfparams"]
    assert (params["n"], params["r"], params["p"]) == (262144, 8, 1)


def test_key_file_name_matches_geth() -> None:
    name = key_file_name("0x" + "AB" * 20, now_ns=1_458_651_475_920_751_759)
    assert name == "UTC--2016-03-22T12-57-55.920751759Z--" + "ab" * 20


def test_import_upstream_key(keystore: KeystoreBackend) -> None:
    account = keystore.import_key(UPSTREAM_KEY, PASSWORD)
    assert account.address == UPSTREAM_ADDRESS
    with pytest.raises(AccountExists, match=r"^account already exists$"):
        keystore.import_key(UPSTREAM_KEY, Secret("another password"))
    assert len(keystore.accounts()) == 1


def test_concurrent_imports_of_one_key_write_one_file(keystore: KeystoreBackend) -> None:
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            keystore.import_key(UPSTREAM_KEY, PASSWORD)
            outcomes.append("written")
        except AccountExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exists", "exists", "written"]
    assert len(os.listdir(keystore.directory)) == 1


def test_dropped_in_and_removed_files_are_seen_without_restart(keystore: KeystoreBackend) -> None:
    first = keystore.new_account(PASSWORD)
    _drop_in(keystore.directory, "UTC--dropped", UPSTREAM_KEY)
    listed = keystore.accounts()
    assert {a.address for a in listed} == {first.address, UPSTREAM_ADDRESS}
    assert [a.url for a in listed] == sorted(a.url for a in listed)
    dropped = Account(UPSTREAM_ADDRESS, "", "keystore")
    signature = keystore.sign(dropped, DigestPayload(keccak(b"hi"), b""), Secret("dropped"))
    assert _recover(keccak(b"hi"), signature.to_bytes()) == UPSTREAM_ADDRESS
    (keystore.directory / "UTC--dropped").unlink()
    assert [a.address for a in keystore.accounts()] == [first.address]
    with pytest.raises(UnknownKey):
        keystore.sign(dropped, DigestPayload(keccak(b"hi"), b""), Secret("dropped"))


def test_a_file_replaced_in_place_is_reread(keystore: KeystoreBackend) -> None:
    _drop_in(keystore.directory.parent, "k", UPSTREAM_KEY)
    keystore.directory.mkdir()
    target = keystore.directory / "key.json"
    shutil.copy(keystore.directory.parent / "k", target)
    assert [a.address for a in keystore.accounts()] == [UPSTREAM_ADDRESS]
    other = bytes.fromhex("11" * 32)
    _drop_in(keystore.directory, "key.json", other)
    assert [a.address for a in keystore.accounts()] == [EthAccount.from_key(other).address]


def test_accounts_are_sorted_by_url(keystore: KeystoreBackend) -> None:
    keystore.directory.mkdir()
    for index, name in enumerate(["c-key", "a-key", "b-key"]):
        _drop_in(keystore.directory, name, bytes([index + 1]) * 32)
    urls = [a.url for a in keystore.accounts()]
    assert urls == [f"keystore://{keystore.directory}/{n}" for n in ("a-key", "b-key", "c-key")]


def test_corrupt_and_foreign_entries_are_skipped_with_one_warning(
    keystore: KeystoreBackend, caplog: pytest.LogCaptureFixture
) -> None:
    good = keystore.new_account(PASSWORD)
    directory = keystore.directory
    (directory / "broken").write_text("{this is not json")
    (directory / "no-address").write_text(json.dumps({"version": 3}))
    (directory / ".hidden").write_bytes(keystore.export(good))
    (directory / "backup~").write_bytes(keystore.export(good))
    (directory / "subdir").mkdir()
    (directory / "link").symlink_to(keystore.path_of(good))
    with caplog.at_level(logging.WARNING, logger="sealward.keystore"):
        assert keystore.accounts() == [good]
        assert keystore.accounts() == [good]
    warnings = [r.getMessage() for r in caplog.records if r.name == "sealward.keystore"]
    # One warning per bad file, not one per listing: unchanged files are not read again.
    assert len(warnings) == 2
    assert any("broken" in w and "not valid JSON" in w for w in warnings)
    assert any("no-address" in w and "no address" in w for w in warnings)
    assert keystore.duplicates() == {}


def test_duplicates_are_reported_and_refuse_to_sign(keystore: KeystoreBackend) -> None:
    account = keystore.import_key(UPSTREAM_KEY, PASSWORD)
    original = keystore.path_of(account)
    copy = keystore.directory / "UTC--copy"
    shutil.copy(original, copy)
    assert keystore.duplicates() == {UPSTREAM_ADDRESS: sorted([str(original), str(copy)])}
    assert [a.address for a in keystore.accounts()] == [UPSTREAM_ADDRESS, UPSTREAM_ADDRESS]
    with pytest.raises(AmbiguousAccount, match=r"^multiple keys match address \(.*UTC--copy"):
        keystore.sign(account, DigestPayload(keccak(b"x"), b""), PASSWORD)
    with pytest.raises(AmbiguousAccount):
        keystore.export(account)
    copy.unlink()
    assert keystore.duplicates() == {}
    keystore.sign(account, DigestPayload(keccak(b"x"), b""), PASSWORD)


def test_sign_errors(keystore: KeystoreBackend) -> None:
    account = keystore.new_account(PASSWORD)
    payload = DigestPayload(keccak(b"z"), b"")
    with pytest.raises(CredentialRequired):
        keystore.sign(account, payload, None)
    with pytest.raises(InvalidCredential, match=r"^could not decrypt key with given password$"):
        keystore.sign(account, payload, Secret("nope"))
    with pytest.raises(UnknownKey):
        keystore.sign(FOREIGN, payload, PASSWORD)
    with pytest.raises(UnsupportedPayload, match="32 bytes"):
        keystore.sign(account, DigestPayload(b"\x01" * 31, b""), PASSWORD)


def test_every_payload_kind_is_signed_over_its_digest(keystore: KeystoreBackend) -> None:
    account = keystore.import_key(UPSTREAM_KEY, PASSWORD)
    digest = keccak(b"payload")
    payloads: list[Payload] = [
        ValidatorPayload(b"\x00" * 20, b"m", digest),
        TypedDataPayload(keccak(b"d"), keccak(b"s"), digest),
        TransactionPayload(2, 1, {"nonce": 0}, digest),
    ]
    for payload in payloads:
        signature = keystore.sign(account, payload, PASSWORD)
        assert _recover(digest, signature.to_bytes()) == UPSTREAM_ADDRESS


def test_credential_need_wording(keystore: KeystoreBackend) -> None:
    account = keystore.import_key(UPSTREAM_KEY, PASSWORD)
    lower = Account(UPSTREAM_ADDRESS.lower(), account.url, "keystore")
    tx = keystore.credential_need(lower, "tx")
    assert (tx.key, tx.title) == (UPSTREAM_ADDRESS, "Account password")
    assert tx.prompt == f"Please enter the password for account {UPSTREAM_ADDRESS}"
    data = keystore.credential_need(lower, "data")
    assert (data.key, data.title) == (UPSTREAM_ADDRESS, "Password for signing")
    assert data.prompt == f"Please enter password for signing data with account {UPSTREAM_ADDRESS}"
    with pytest.raises(UnknownKey):
        keystore.credential_need(FOREIGN, "tx")


def test_export_and_import_json_between_keystores(keystore: KeystoreBackend, tmp_path: Path) -> None:
    account = keystore.import_key(UPSTREAM_KEY, PASSWORD)
    exported = keystore.export(account)
    assert exported == keystore.path_of(account).read_bytes()
    other = KeystoreBackend(tmp_path / "other", light_kdf=True)
    with pytest.raises(InvalidCredential):
        other.import_json(exported, Secret("wrong"), Secret("new password"))
    imported = other.import_json(exported, PASSWORD, Secret("new password"))
    assert imported.address == UPSTREAM_ADDRESS
    written = other.export(imported)
    assert json.loads(written)["id"] == json.loads(exported)["id"]
    assert bytes(EthAccount.decrypt(written.decode(), "new password")) == UPSTREAM_KEY
    with pytest.raises(AccountExists):
        other.import_json(exported, PASSWORD, Secret("new password"))
    with pytest.raises(UnknownKey):
        other.export(FOREIGN)


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    directory = KeyDirectory(tmp_path / "ks")

    def reject(written: bytes) -> None:
        assert written == b"payload"  # the check sees exactly what was written, read back from disk
        raise KeystoreIOError("the key file did not read back correctly")

    with pytest.raises(KeystoreIOError):
        directory.write_new("ab" * 20, b"payload", reject)
    assert os.listdir(tmp_path / "ks") == []
    assert _mode(tmp_path / "ks") == 0o700


def test_keystore_path_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    backend = KeystoreBackend(tmp_path / "file", light_kdf=True)
    assert backend.accounts() == []
    with pytest.raises(KeystoreIOError, match="cannot"):
        backend.new_account(PASSWORD)


def test_missing_directory_lists_nothing_and_is_not_created(tmp_path: Path) -> None:
    backend = KeystoreBackend(tmp_path / "absent")
    assert backend.accounts() == [] and backend.duplicates() == {}
    assert not (tmp_path / "absent").exists()


def test_passwords_stay_out_of_logs_and_reprs(
    keystore: KeystoreBackend, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        account = keystore.new_account(PASSWORD)
        (keystore.directory / "broken").write_text("{")
        keystore.accounts()
        with pytest.raises(InvalidCredential) as info:
            keystore.sign(account, DigestPayload(keccak(b"q"), b""), Secret("a wrong password"))
    assert PASSWORD.reveal() not in caplog.text and "a wrong password" not in caplog.text
    assert "a wrong password" not in str(info.value)
    assert PASSWORD.reveal() not in repr(keystore)
