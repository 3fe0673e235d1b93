"""Web3 Secret Storage v3: upstream vectors, files eth-account reads and writes, broken files."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import pytest
from eth_account import Account as EthAccount

from backends.base import InvalidCredential, Secret
from backends.keystore import v3
from backends.keystore.v3 import InvalidKeyFile, InvalidPrivateKey

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
KEYSTORE_VECTORS = VECTORS / "clef" / "upstream" / "accounts" / "keystore" / "testdata"
needs_vectors = pytest.mark.skipif(
    not KEYSTORE_VECTORS.is_dir(), reason=f"upstream keystore vectors not found at {KEYSTORE_VECTORS}"
)

TINY = v3.ScryptParams(n=16, r=8, p=1)  # for format tests; the real parameter sets are tested below
KEY = bytes.fromhex("0102030405060708090a0102030405060708090a0102030405060708090a0102")
KEY_ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"


def _vector_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((KEYSTORE_VECTORS / name).read_text())
    return data


@needs_vectors
@pytest.mark.parametrize(
    "entry", ["wikipage_test_vector_scrypt", "wikipage_test_vector_pbkdf2", "31_byte_key", "30_byte_key"]
)
def test_upstream_v3_vectors_decrypt(entry: str) -> None:
    vector = _vector_file("v3_test_vector.json")[entry]
    key = v3.decrypt_key(json.dumps(vector["json"]), Secret(vector["password"]))
    # 30/31-byte plaintexts are scalars: geth pads them on the left.
    assert key.private_key == bytes.fromhex(vector["priv"]).rjust(32, b"\0")
    assert key.key_id == vector["json"]["id"]


@needs_vectors
def test_upstream_v1_vector_decrypts() -> None:
    vector = _vector_file("v1_test_vector.json")["test1"]
    key = v3.decrypt_key(json.dumps(vector["json"]), Secret(vector["password"]))
    assert key.private_key.hex() == vector["priv"]
    assert key.address.lower() == "0x" + vector["json"]["address"]


@needs_vectors
def test_upstream_very_light_scrypt_empty_password() -> None:
    data = (KEYSTORE_VECTORS / "very-light-scrypt.json").read_bytes()
    with pytest.raises(InvalidCredential, match=r"^could not decrypt key with given password$"):
        v3.decrypt_key(data, Secret("bad"))
    key = v3.decrypt_key(data, Secret(""))
    assert key.address.lower() == "0x45dea0fb0bba44f4fcf290bba71fd57d7117cbb8"
    # TestKeyEncryptDecrypt: re-encrypting under a new password round-trips.
    again = v3.decrypt_key(v3.encrypt_key(key.private_key, Secret("new"), TINY), Secret("new"))
    assert again.private_key == key.private_key


def test_light_file_format_and_eth_account_decrypts_it() -> None:
    started = time.perf_counter()
    data = v3.encrypt_key(KEY, Secret("a good password"), v3.LIGHT_SCRYPT)
    assert time.perf_counter() - started < 5
    document = json.loads(data)
    assert list(document) == ["address", "crypto", "id", "version"]
    assert document["address"] == KEY_ADDRESS[2:].lower()
    assert document["version"] == 3
    assert uuid.UUID(document["id"]).version == 4
    crypto = document["crypto"]
    assert crypto["cipher"] == "aes-128-ctr" and crypto["kdf"] == "scrypt"
    assert (
        crypto["kdfparams"]["n"] == 4096 and crypto["kdfparams"]["r"] == 8 and crypto["kdfparams"]["p"] == 6
    )
    assert list(crypto["kdfparams"]) == ["dklen", "n", "p", "r", "salt"]
    assert len(bytes.fromhex(crypto["kdfparams"]["salt"])) == 32
    assert b" " not in data  # compact, as geth writes it
    assert bytes(EthAccount.decrypt(data.decode(), "a good password")) == KEY


def test_standard_kdf_file_decrypts_with_eth_account() -> None:
    data = v3.encrypt_key(KEY, Secret("a good password"), v3.STANDARD_SCRYPT)
    params = json.loads(data)["crypto"]["kdfparams"]
    assert (params["n"], params["r"], params["p"], params["dklen"]) == (262144, 8, 1, 32)
    assert bytes(EthAccount.decrypt(data.decode(), "a good password")) == KEY


@pytest.mark.parametrize("kdf", ["scrypt", "pbkdf2"])
def test_files_written_by_eth_account_decrypt(kdf: Literal["pbkdf2", "scrypt"]) -> None:
    password = "pässwörd ✓"  # non-ASCII: both sides must use UTF-8
    document = EthAccount.encrypt(KEY, password, kdf=kdf, iterations=16)
    key = v3.decrypt_key(json.dumps(document), Secret(password))
    assert key.private_key == KEY
    assert key.address == KEY_ADDRESS
    with pytest.raises(InvalidCredential):
        v3.decrypt_key(json.dumps(document), Secret("pässwörd"))


def test_wrong_password_message_holds_no_secret() -> None:
    data = v3.encrypt_key(KEY, Secret("right password"), TINY)
    with pytest.raises(InvalidCredential) as info:
        v3.decrypt_key(data, Secret("wrong password"))
    assert str(info.value) == "could not decrypt key with given password"


def test_tampered_ciphertext_fails_the_mac() -> None:
    document = json.loads(v3.encrypt_key(KEY, Secret("pw"), TINY))
    ciphertext = document["crypto"]["ciphertext"]
    document["crypto"]["ciphertext"] = ("0" if ciphertext[0] != "0" else "1") + ciphertext[1:]
    with pytest.raises(InvalidCredential):
        v3.decrypt_key(json.dumps(document), Secret("pw"))


def test_capitalised_crypto_key_is_accepted() -> None:
    document = json.loads(v3.encrypt_key(KEY, Secret("pw"), TINY))
    document["Crypto"] = document.pop("crypto")
    assert v3.decrypt_key(json.dumps(document), Secret("pw")).private_key == KEY


def _edited(change: dict[str, Any], crypto: dict[str, Any] | None = None) -> str:
    document = json.loads(v3.encrypt_key(KEY, Secret("pw"), TINY))
    document.update(change)
    document["crypto"].update(crypto or {})
    return json.dumps(document)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "key file is not valid JSON"),
        (b"\xff\xfe", "key file is not valid JSON"),
        ("[1, 2]", "key file is not a JSON object"),
        (_edited({"version": 2}), "version not supported: 2"),
        (_edited({"version": "3"}), "version not supported: 3"),
        (_edited({"id": "not-a-uuid"}), "invalid UUID"),
        (_edited({"address": "00" * 20}), "key file has a zero address"),
        (_edited({"address": "11" * 20}), "key content mismatch: have account 9160dc91"),
        (_edited({}, {"cipher": "aes-256-gcm"}), "cipher not supported: aes-256-gcm"),
        (_edited({}, {"kdf": "argon2"}), "unsupported KDF: argon2"),
        (_edited({}, {"ciphertext": "zz"}), "'ciphertext' is not hex"),
        (_edited({}, {"cipherparams": {"iv": "00"}}), "iv must be 16 bytes"),
        (_edited({}, {"mac": 5}), "'mac' is missing or not a string"),
        (_edited({}, {"kdfparams": {"dklen": 32, "n": 15, "r": 8, "p": 1, "salt": "00"}}), "invalid scrypt"),
        (_edited({}, {"kdfparams": {"dklen": 32, "n": 1 << 24, "r": 8, "p": 1, "salt": "00"}}), "too large"),
        (_edited({}, {"kdfparams": {"dklen": 16, "n": 16, "r": 8, "p": 1, "salt": "00"}}), "dklen"),
        (
            _edited({}, {"kdfparams": {"dklen": 32, "n": "16", "r": 8, "p": 1, "salt": "00"}}),
            "not an integer",
        ),
        (
            _edited(
                {}, {"kdf": "pbkdf2", "kdfparams": {"dklen": 32, "c": 1, "prf": "hmac-sha1", "salt": "00"}}
            ),
            "unsupported PBKDF2 PRF: hmac-sha1",
        ),
    ],
)
def test_broken_files_give_clear_errors(data: str | bytes, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidKeyFile, match=message):
        v3.decrypt_key(data, Secret("pw"))
    assert time.perf_counter() - started < 1  # oversized KDF parameters are refused, not run


def test_integral_float_parameters_are_read_like_go() -> None:
    document = json.loads(v3.encrypt_key(KEY, Secret("pw"), TINY))
    document["crypto"]["kdfparams"]["n"] = 16.0
    assert v3.decrypt_key(json.dumps(document), Secret("pw")).private_key == KEY


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (b"\x01" * 31, "invalid length, need 256 bits"),
        (bytes(32), "invalid private key, zero or negative"),
        (b"\xff" * 32, "invalid private key, >=N"),
    ],
)
def test_invalid_private_keys_are_refused(key: bytes, message: str) -> None:
    with pytest.raises(InvalidPrivateKey, match=message):
        v3.encrypt_key(key, Secret("pw"), TINY)


def test_decrypted_key_repr_hides_the_key() -> None:
    key = v3.decrypt_key(v3.encrypt_key(KEY, Secret("pw"), TINY), Secret("pw"))
    assert KEY.hex() not in repr(key) and str(KEY) not in repr(key)
    assert KEY_ADDRESS in repr(key)
