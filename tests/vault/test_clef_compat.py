"""Both directions of clef compatibility, with the vault built straight from clef-compat §5.

The ``spec_*`` helpers below implement §5.1-§5.4 on their own, with hashlib's (OpenSSL) scrypt and
pycryptodome's PBKDF2, AES-CTR, AES-GCM and keccak, and import nothing from ``signer.vault``
(which uses pycryptodome's scrypt and the ``cryptography`` package's AES). A clef configdir built with
them must open in sealward, and what sealward writes must decode with them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import stat
from pathlib import Path

import pytest
from Crypto.Cipher import AES
from Crypto.Hash import SHA256, keccak
from Crypto.Protocol.KDF import PBKDF2

from backends.base import Secret
from signer.vault import EncryptedStore, EntryAuthFailed, Vault, create_master_seed, unlock_master_seed
from signer.vault.cryptojson import decrypt_data
from tests.vault.conftest import MASTER_PASSWORD, make_seed

# ---- the spec, independently ------------------------------------------------------------------


def k256(*parts: bytes) -> bytes:
    h = keccak.new(digest_bits=256)
    for part in parts:
        h.update(part)
    return h.digest()


def _scrypt(pw: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL's scrypt (the library under test uses pycryptodome's)
    return hashlib.scrypt(pw, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=2 * 128 * r * (n + p + 2))


def spec_seed_file(seed: bytes, pw: str, n: int = 4096, p: int = 6, kdf: str = "scrypt") -> bytes:
    """§5.1: compact JSON, fixed key order, Web3 Secret Storage crypto section."""
    salt, iv = secrets.token_bytes(32), secrets.token_bytes(16)
    if kdf == "scrypt":
        dk = _scrypt(pw.encode(), salt, n, 8, p, 32)
        kdfparams: dict[str, object] = {"dklen": 32, "n": n, "p": p, "r": 8, "salt": salt.hex()}
    else:
        dk = PBKDF2(pw, salt, 32, count=1000, hmac_hash_module=SHA256)
        kdfparams = {"c": 1000, "dklen": 32, "prf": "hmac-sha256", "salt": salt.hex()}
    ct = AES.new(dk[:16], AES.MODE_CTR, nonce=b"", initial_value=iv).encrypt(seed)
    params = {
        "cipher": "aes-128-ctr",
        "ciphertext": ct.hex(),
        "cipherparams": {"iv": iv.hex()},
        "kdf": kdf,
        "kdfparams": kdfparams,
        "mac": k256(dk[16:32], ct).hex(),
    }
    doc = {"description": "Clef seed", "version": 1, "params": params}
    return json.dumps(doc, separators=(",", ":")).encode()


def spec_open_seed_file(raw: bytes, pw: str) -> bytes:
    params = json.loads(raw)["params"]
    kp = params["kdfparams"]
    dk = _scrypt(pw.encode(), bytes.fromhex(kp["salt"]), kp["n"], kp["r"], kp["p"], kp["dklen"])
    ct = bytes.fromhex(params["ciphertext"])
    assert k256(dk[16:32], ct).hex() == params["mac"]
    iv = bytes.fromhex(params["cipherparams"]["iv"])
    return AES.new(dk[:16], AES.MODE_CTR, nonce=b"", initial_value=iv).decrypt(ct)


def spec_vault_dir(seed: bytes) -> str:
    return k256(b"vault", seed)[:10].hex()


def spec_key(name: str, seed: bytes) -> bytes:
    return k256(name.encode(), seed)


def spec_store_file(values: dict[str, str], key: bytes) -> bytes:
    """§5.4: sorted keys, {"iv","c"} base64, AES-256-GCM with AAD = the key name."""
    doc = {}
    for name in sorted(values):
        nonce = secrets.token_bytes(12)
        ct, tag = _gcm_seal(key, nonce, values[name].encode(), name.encode())
        doc[name] = {"iv": base64.b64encode(nonce).decode(), "c": base64.b64encode(ct + tag).decode()}
    return json.dumps(doc, separators=(",", ":")).encode()


def _gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(aad)
    return cipher.encrypt_and_digest(plaintext)


def spec_read_store(raw: bytes, key: bytes) -> dict[str, str]:
    out = {}
    for name, entry in json.loads(raw).items():
        nonce, blob = base64.b64decode(entry["iv"]), base64.b64decode(entry["c"])
        cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
        cipher.update(name.encode())
        out[name] = cipher.decrypt_and_verify(blob[:-16], blob[-16:]).decode()
    return out


def write_clef_configdir(configdir: Path, seed: bytes, stores: dict[str, dict[str, str]]) -> Path:
    """A configdir as clef leaves it: 0400 seed file, 0700 vault folder, 0600 store files."""
    configdir.mkdir(mode=0o700, parents=True)
    seed_path = configdir / "masterseed.json"
    seed_path.write_bytes(spec_seed_file(seed, MASTER_PASSWORD))
    seed_path.chmod(0o400)
    vault_dir = configdir / spec_vault_dir(seed)
    vault_dir.mkdir(mode=0o700)
    for name, values in stores.items():
        path = vault_dir / f"{name}.json"
        path.write_bytes(spec_store_file(values, spec_key(name, seed)))
        path.chmod(0o600)
    return seed_path


ADDRESS = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
CLEF_STORES = {
    "credentials": {ADDRESS: "keystore password 1"},
    "jsstorage": {"txcount": "7", "window": "[1,2,3]"},
    "config": {"ruleset_sha256": "6d21e0c4c9e1dd30bb5bf6a4a6b1e4c7d5d1f7b2f4a7bb1b49d1ab44e6e2a3f0"},
}

# ---- clef -> sealward -------------------------------------------------------------------------


def test_clef_configdir_opens_unchanged(tmp_path: Path) -> None:
    seed = make_seed("clef")
    configdir = tmp_path / "clef"
    seed_path = write_clef_configdir(configdir, seed, CLEF_STORES)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in configdir.rglob("*") if p.is_file()}

    unlocked = unlock_master_seed(seed_path, Secret(MASTER_PASSWORD))
    assert unlocked == seed
    vault = Vault.open(configdir, unlocked)
    assert vault.directory == configdir / spec_vault_dir(seed)
    assert vault.credentials.get(ADDRESS) == "keystore password 1"
    assert vault.password_for(ADDRESS.lower()) == Secret("keystore password 1")
    assert vault.jsstorage.keys() == ["txcount", "window"]
    assert vault.jsstorage.get("window") == "[1,2,3]"
    assert vault.ruleset_hash() == CLEF_STORES["config"]["ruleset_sha256"]
    # opening and reading touch nothing
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in configdir.rglob("*") if p.is_file()}
    assert after == before


def test_pbkdf2_seed_file_unlocks(tmp_path: Path) -> None:
    seed = make_seed("pbkdf2")
    path = tmp_path / "masterseed.json"
    path.write_bytes(spec_seed_file(seed, MASTER_PASSWORD, kdf="pbkdf2"))
    path.chmod(0o400)
    assert unlock_master_seed(path, Secret(MASTER_PASSWORD)) == seed


def test_sealward_writes_keep_clef_entries(tmp_path: Path) -> None:
    seed = make_seed("clef")
    configdir = tmp_path / "clef"
    write_clef_configdir(configdir, seed, CLEF_STORES)
    vault = Vault.open(configdir, seed)
    vault.jsstorage.put("txcount", "8")
    raw = (vault.directory / "jsstorage.json").read_bytes()
    assert spec_read_store(raw, spec_key("jsstorage", seed)) == {"txcount": "8", "window": "[1,2,3]"}


# ---- sealward -> clef -------------------------------------------------------------------------

SEED_FILE_SHAPE = re.compile(
    r'\{"description":"Clef seed","version":1,"params":\{"cipher":"aes-128-ctr",'
    r'"ciphertext":"[0-9a-f]{512}","cipherparams":\{"iv":"[0-9a-f]{32}"\},"kdf":"scrypt",'
    r'"kdfparams":\{"dklen":32,"n":(\d+),"p":(\d+),"r":8,"salt":"[0-9a-f]{64}"\},"mac":"[0-9a-f]{64}"\}\}'
)


@pytest.mark.parametrize(("light", "n", "p"), [(True, 4096, 6), (False, 262144, 1)])
def test_created_seed_file_is_clefs_format(tmp_path: Path, light: bool, n: int, p: int) -> None:
    path = tmp_path / "cfg" / "masterseed.json"
    create_master_seed(path, Secret(MASTER_PASSWORD), light_kdf=light)
    raw = path.read_bytes()
    match = SEED_FILE_SHAPE.fullmatch(raw.decode())
    assert match is not None, raw[:120]
    assert (int(match[1]), int(match[2])) == (n, p)
    assert len(raw) == (868 if not light else 866)  # §5.1: "about 868 bytes" at full size
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    seed = spec_open_seed_file(raw, MASTER_PASSWORD)
    assert len(seed) == 256
    assert unlock_master_seed(path, Secret(MASTER_PASSWORD)) == seed


def test_sealward_vault_opens_in_clef(tmp_path: Path) -> None:
    configdir = tmp_path / "cfg"
    seed_path = configdir / "masterseed.json"
    create_master_seed(seed_path, Secret(MASTER_PASSWORD), light_kdf=True)
    seed = spec_open_seed_file(seed_path.read_bytes(), MASTER_PASSWORD)
    vault = Vault.open(configdir, unlock_master_seed(seed_path, Secret(MASTER_PASSWORD)))
    vault.set_password(ADDRESS.lower(), Secret("pw for the keystore"))
    vault.jsstorage.put("b-key", "2")
    vault.jsstorage.put("a-key", "1")
    vault.attest("  0xABCdef not-validated\n")

    vault_dir = configdir / spec_vault_dir(seed)
    assert stat.S_IMODE(vault_dir.stat().st_mode) == 0o700
    files = {
        name: (vault_dir / f"{name}.json").read_bytes() for name in ("credentials", "jsstorage", "config")
    }
    assert spec_read_store(files["credentials"], spec_key("credentials", seed)) == {
        ADDRESS: "pw for the keystore"
    }
    assert spec_read_store(files["config"], spec_key("config", seed)) == {
        "ruleset_sha256": "  0xABCdef not-validated\n"
    }
    js = files["jsstorage"]
    assert spec_read_store(js, spec_key("jsstorage", seed)) == {"a-key": "1", "b-key": "2"}
    # Go's marshalling: compact, map keys sorted, struct fields in order iv then c, padded base64
    entry = r'\{"iv":"[A-Za-z0-9+/]{16}","c":"[A-Za-z0-9+/]+={0,2}"\}'
    assert re.fullmatch(rf'\{{"a-key":{entry},"b-key":{entry}\}}', js.decode()), js
    for name in files:
        assert stat.S_IMODE((vault_dir / f"{name}.json").stat().st_mode) == 0o600


def test_html_characters_escaped_like_go(vault: Vault, seed: bytes) -> None:
    vault.jsstorage.put("<a&b>", "v")
    raw = vault.jsstorage.path.read_bytes()
    assert raw.startswith(b'{"\\u003ca\\u0026b\\u003e":')
    assert spec_read_store(raw, spec_key("jsstorage", seed)) == {"<a&b>": "v"}


# ---- associated data and upstream vectors -----------------------------------------------------


def test_swapped_ciphertexts_are_detected(tmp_path: Path) -> None:
    seed = make_seed("swap")
    configdir = tmp_path / "clef"
    write_clef_configdir(configdir, seed, {"credentials": {"0xA": "first", "0xB": "second"}})
    path = configdir / spec_vault_dir(seed) / "credentials.json"
    doc = json.loads(path.read_bytes())
    doc["0xA"], doc["0xB"] = doc["0xB"], doc["0xA"]
    path.write_text(json.dumps(doc))
    vault = Vault.open(configdir, seed)
    for key in ("0xA", "0xB"):
        with pytest.raises(EntryAuthFailed, match="failed authentication"):
            vault.credentials.get(key)


def test_upstream_file_storage_vector_needs_aad(tmp_path: Path, vectors_dir: Path) -> None:
    """upstream TestFileStorage's entries were sealed without AAD: we read the file, reject them."""
    vector = json.loads((vectors_dir / "clef/inline/storage_TestFileStorage.json").read_text())
    key = vector["key_ascii"].encode()
    doc = {
        name: {
            "iv": base64.b64encode(bytes.fromhex(e["iv"])).decode(),
            "c": base64.b64encode(bytes.fromhex(e["c"])).decode(),
        }
        for name, e in vector["file_content"].items()
    }
    path = tmp_path / "vault.json"
    path.write_text(json.dumps(doc))
    store = EncryptedStore(path, key)
    assert store.keys() == ["secret", "secret2"]
    for name, entry in vector["file_content"].items():
        # the test side proves the entry is intact: it opens with no associated data ...
        nonce, blob = bytes.fromhex(entry["iv"]), bytes.fromhex(entry["c"])
        plain = AES.new(key, AES.MODE_GCM, nonce=nonce).decrypt_and_verify(blob[:-16], blob[-16:])
        assert plain == b"exampleplaintext"
        # ... and the store refuses it, because it authenticates the key name as clef does
        with pytest.raises(EntryAuthFailed):
            store.get(name)


def test_keystore_v3_vectors_decrypt(vectors_dir: Path) -> None:
    """The crypto section is geth's DecryptDataV3: upstream's scrypt and pbkdf2 vectors decrypt."""
    cases = json.loads(
        (vectors_dir / "clef/upstream/accounts/keystore/testdata/v3_test_vector.json").read_text()
    )
    for name in ("wikipage_test_vector_scrypt", "wikipage_test_vector_pbkdf2"):
        case = cases[name]
        assert decrypt_data(case["json"]["crypto"], case["password"].encode()).hex() == case["priv"]


def test_vault_folder_under_configdir_even_if_seed_elsewhere(tmp_path: Path) -> None:
    seed = make_seed("elsewhere")
    seed_path = tmp_path / "secrets" / "seed.json"
    seed_path.parent.mkdir()
    seed_path.write_bytes(spec_seed_file(seed, MASTER_PASSWORD))
    os.chmod(seed_path, 0o400)
    vault = Vault.open(tmp_path / "configdir", unlock_master_seed(seed_path, Secret(MASTER_PASSWORD)))
    assert vault.directory == tmp_path / "configdir" / spec_vault_dir(seed)
    assert vault.directory.is_dir()
