"""The AES-GCM stores and the Vault: semantics, damage handling, concurrency, atomicity."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backends.base import Secret
from signer.errors import VaultError
from signer.vault import CorruptStore, EncryptedStore, EntryAuthFailed, Vault, store_key, vault_dir_name
from tests.vault.conftest import make_seed

ROOT = Path(__file__).resolve().parents[2]


def test_get_put_delete_keys(vault: Vault) -> None:
    store = vault.jsstorage
    assert store.get("a") is None
    assert store.keys() == []
    store.put("b", "2")
    store.put("a", "1")
    store.put("a", "one")
    assert (store.get("a"), store.get("b")) == ("one", "2")
    assert store.keys() == ["a", "b"]
    store.delete("a")
    assert store.get("a") is None
    assert store.keys() == ["b"]


def test_empty_key_is_a_noop(vault: Vault) -> None:
    vault.jsstorage.put("", "x")
    assert not vault.jsstorage.path.exists()
    assert vault.jsstorage.get("") is None
    vault.jsstorage.delete("")
    assert not vault.jsstorage.path.exists()


def test_empty_value_is_stored_not_deleted(vault: Vault) -> None:
    """§5.4: the AES store keeps "" (an empty keystore password is legal); the rules bridge deletes."""
    vault.credentials.put("0xabc", "")
    assert vault.credentials.get("0xabc") == ""
    assert vault.credentials.keys() == ["0xabc"]


def test_delete_of_absent_key_leaves_file_alone(vault: Vault) -> None:
    vault.config.put("k", "v")
    before = (vault.config.path.read_bytes(), vault.config.path.stat().st_mtime_ns)
    vault.config.delete("other")
    assert (vault.config.path.read_bytes(), vault.config.path.stat().st_mtime_ns) == before


def test_stores_use_separate_keys(vault: Vault, seed: bytes) -> None:
    vault.credentials.put("k", "v")
    # the config key cannot open a credentials entry: each store has its own derived key
    foreign = EncryptedStore(vault.credentials.path, store_key("config", seed))
    with pytest.raises(EntryAuthFailed):
        foreign.get("k")


def test_vault_folder(vault: Vault, configdir: Path, seed: bytes) -> None:
    assert vault.directory == configdir / vault_dir_name(seed)
    assert stat.S_IMODE(vault.directory.stat().st_mode) == 0o700
    other = Vault.open(configdir, make_seed("other"))
    assert other.directory != vault.directory
    with pytest.raises(VaultError, match="expected >255 bytes, got 32"):
        Vault.open(configdir, seed[:32])


def test_attest_and_ruleset_hash(vault: Vault) -> None:
    assert vault.ruleset_hash() == ""
    vault.attest(" 0xABCD\n")
    assert vault.ruleset_hash() == " 0xABCD\n"  # verbatim, as clef stores it
    assert vault.config.keys() == ["ruleset_sha256"]


def test_passwords_by_address(vault: Vault) -> None:
    lower = "0x9160dc9105f7de5dc5e7f3d97ef11da47269bda6"
    assert vault.set_password(lower, Secret("kspass")) == "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
    assert vault.credentials.keys() == ["0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"]
    assert vault.password_for(lower[2:].upper()) == Secret("kspass")
    vault.delete_password(lower)
    assert vault.password_for(lower) is None


def test_reprs_hide_secrets(vault: Vault, seed: bytes) -> None:
    address = "0x" + "ab" * 20
    vault.set_password(address, Secret("the stored password"))
    texts = repr(vault) + repr(vault.credentials) + repr(vault.password_for(address))
    assert "the stored password" not in texts
    assert seed.hex()[:16] not in texts
    assert store_key("credentials", seed).hex()[:16] not in texts


# ---- damaged files: clear errors, and the file is never rewritten ------------------------------


def populated(vault: Vault) -> EncryptedStore:
    vault.jsstorage.put("first", "secret value one")
    vault.jsstorage.put("second", "secret value two")
    return vault.jsstorage


def assert_refused_and_intact(store: EncryptedStore, damaged: bytes, error: type[VaultError]) -> None:
    for action in (lambda: store.put("third", "3"), lambda: store.delete("second"), store.keys):
        with pytest.raises(error) as err:
            action()
        assert "secret value" not in str(err.value)
        assert store.path.read_bytes() == damaged
    assert sorted(os.listdir(store.path.parent)) == [store.path.name]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: b"",  # emptied
        lambda raw: b"[" + raw + b"]",  # not an object
        lambda raw: raw.replace(b'"iv"', b'"IV"', 1),  # entry without a nonce
        lambda raw: raw.replace(b'"c":"', b'"c":"!!', 1),  # not base64
    ],
)
def test_corrupted_file(vault: Vault, damage: object) -> None:
    store = populated(vault)
    damaged = damage(store.path.read_bytes())  # type: ignore[operator]
    store.path.write_bytes(damaged)
    with pytest.raises(CorruptStore, match=str(store.path)):
        store.get("first")
    assert_refused_and_intact(store, damaged, CorruptStore)


def flip_ciphertext(path: Path, key: str) -> bytes:
    document = json.loads(path.read_bytes())
    blob = bytearray(base64.b64decode(document[key]["c"]))
    blob[0] ^= 1
    document[key]["c"] = base64.b64encode(bytes(blob)).decode()
    path.write_text(json.dumps(document))
    return path.read_bytes()


def test_tampered_entry(vault: Vault) -> None:
    store = populated(vault)
    damaged = flip_ciphertext(store.path, "second")
    assert store.get("first") == "secret value one"
    with pytest.raises(EntryAuthFailed, match="'second' failed authentication"):
        store.get("second")
    with pytest.raises(EntryAuthFailed):
        store.put("third", "3")
    assert store.path.read_bytes() == damaged
    # the damaged entry itself may be replaced or removed: that is how a user repairs it
    store.put("second", "new")
    assert store.get("second") == "new"


def test_swapped_entries(vault: Vault) -> None:
    store = populated(vault)
    document = json.loads(store.path.read_bytes())
    document["first"], document["second"] = document["second"], document["first"]
    store.path.write_text(json.dumps(document))
    for key in ("first", "second"):
        with pytest.raises(EntryAuthFailed):
            store.get(key)


# ---- concurrency and atomicity ----------------------------------------------------------------


def test_concurrent_puts_lose_nothing(configdir: Path, seed: bytes) -> None:
    # two Vault objects on the same folder: the threads share neither store object nor lock
    stores = [Vault.open(configdir, seed).jsstorage, Vault.open(configdir, seed).jsstorage]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                stores[n % 2].put(f"t{n}-{i}", f"v{n}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(stores[0].keys()) == 200
    assert all(stores[1].get(f"t{n}-{i}") == f"v{n}-{i}" for n in range(8) for i in range(25))
    assert sorted(os.listdir(stores[0].path.parent)) == ["jsstorage.json"]


WRITER = """
import sys
from signer.vault import Vault
from tests.vault.conftest import make_seed
store = Vault.open(sys.argv[1], make_seed("fixture")).jsstorage
for i in range(40):
    store.put(f"{sys.argv[2]}-{i}", "x")
"""


def test_two_processes_lose_nothing(configdir: Path, vault: Vault) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(configdir), name], cwd=ROOT)
        for name in ("p", "q")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert len(vault.jsstorage.keys()) == 80


def test_file_and_folder_modes(vault: Vault) -> None:
    vault.credentials.put("k", "v")
    assert stat.S_IMODE(vault.credentials.path.stat().st_mode) == 0o600
    vault.credentials.path.chmod(0o644)  # loosened by hand: the next write restores 0600
    vault.credentials.put("k", "w")
    assert stat.S_IMODE(vault.credentials.path.stat().st_mode) == 0o600


def test_vault_folder_removed_underneath(vault: Vault) -> None:
    vault.directory.rmdir()
    with pytest.raises(VaultError, match="cannot open the vault folder"):
        vault.credentials.put("k", "v")
    assert not vault.directory.exists()


# ---- the in-memory copy never hides a change on disk ---------------------------------------------


def test_a_write_by_another_store_object_is_seen(configdir: Path, seed: bytes) -> None:
    ours, theirs = Vault.open(configdir, seed).jsstorage, Vault.open(configdir, seed).jsstorage
    ours.put("k", "ours")
    assert ours.get("k") == "ours"
    theirs.put("k", "theirs")  # e.g. clef, or a second sealward, on the same configdir
    assert ours.get("k") == "theirs"
    ours.put("other", "x")  # and a write of ours keeps their change
    assert theirs.get("k") == "theirs"


def test_a_same_size_change_in_place_right_after_a_write_is_noticed(vault: Vault) -> None:
    store = populated(vault)
    assert store.get("first") == "secret value one"  # the file is now held in memory
    raw = store.path.read_bytes()
    at = raw.index(b'"c":"', raw.index(b'"first"')) + len(b'"c":"')
    tampered = raw[:at] + (b"B" if raw[at : at + 1] == b"A" else b"A") + raw[at + 1 :]
    with open(store.path, "r+b") as handle:  # in place, at once: same inode, size, likely times
        handle.write(tampered)
    with pytest.raises(EntryAuthFailed, match="'first' failed authentication"):
        store.get("first")
