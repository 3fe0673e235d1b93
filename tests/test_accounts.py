"""The account manager over real backends: clef's URL order, and one address in two backends refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Secret
from backends.keystore import KeystoreBackend
from signer.accounts import AccountManager, DuplicateAccountError
from tests.helpers.softhsm import SOFTHSM_MODULE, create_token, softhsm_missing

KEY = bytes.fromhex("0102030405060708090a0102030405060708090a0102030405060708090a0102")


def test_accounts_are_sorted_by_url_and_found_case_insensitively(tmp_path: Path) -> None:
    keystore = KeystoreBackend(tmp_path / "ks", light_kdf=True)
    first = keystore.new_account(Secret("password one"))
    second = keystore.new_account(Secret("password two"))
    manager = AccountManager([keystore])
    assert [a.url for a in manager.accounts()] == sorted([first.url, second.url])
    found = manager.find(first.address.lower())
    assert found is not None and found[1] == first
    assert manager.find("0x" + "00" * 20) is None
    manager.check_no_duplicates()


@pytest.mark.skipif(softhsm_missing(), reason="SoftHSM2 is not installed (apt-get install softhsm2)")
def test_the_same_key_in_two_backends_is_refused(tmp_path: Path) -> None:
    from backends.pkcs11 import Pkcs11Backend

    token = create_token(tmp_path / "hsm", label="dup", pin="1234", so_pin="5678")
    token.activate()
    keystore = KeystoreBackend(tmp_path / "ks", light_kdf=True)
    keystore.import_key(KEY, Secret("password one"))
    hsm = Pkcs11Backend(SOFTHSM_MODULE, ["dup"])
    try:
        hsm.import_key("dup", KEY, Secret("1234"), "dup")
        with pytest.raises(DuplicateAccountError) as info:
            AccountManager([keystore, hsm]).check_no_duplicates()
        assert "held by two backends" in str(info.value)
    finally:
        hsm.close()
