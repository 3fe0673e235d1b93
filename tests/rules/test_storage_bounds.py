"""Rule storage is bounded and a call's puts cost one write (issue 12, finding 5).

The engine is real (spawned worker, QuickJS); the store is the vault's real ``jsstorage.json``
(AES-GCM, atomic rename) wherever the file matters.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from signer.approval.rules import MemoryStorage, RuleEngine
from signer.approval.rules.storage import ClefStorage, StorageLimitExceeded, StorageLimits
from signer.errors import RulesError
from signer.vault import EncryptedStore, Vault
from tests.vault.conftest import make_seed

MIB = 1024 * 1024


@pytest.fixture
def jsstorage(tmp_path: Path) -> EncryptedStore:
    return Vault.open(tmp_path / "clef", make_seed("bounds")).jsstorage


class CountingStore:
    """The real store, with a count of the writes asked of it."""

    def __init__(self, store: EncryptedStore) -> None:
        self.store = store
        self.applied: list[dict[str, str | None]] = []

    def get(self, key: str) -> str | None:
        return self.store.get(key)

    def apply(self, changes: Mapping[str, str | None]) -> None:
        self.applied.append(dict(changes))
        self.store.apply(changes)

    def sizes(self) -> dict[str, int]:
        return self.store.sizes()


def test_the_reported_flood_is_refused_and_the_file_stays_small(jsstorage: EncryptedStore) -> None:
    # The finding's reproduction: 6 x 4 MiB puts per call grew jsstorage.json by 34 MB a call.
    source = """
    function Flood() {
        var big = new Array(4 * 1024 * 1024 + 1).join('x'), refused = [];
        for (var i = 0; i < 6; i++) {
            try { storage.put('blob' + i, big); } catch (e) { refused.push(e.message); }
        }
        storage.put('small', 'kept');
        return JSON.stringify(refused);
    }
    """
    with RuleEngine(source, jsstorage) as engine:
        for _ in range(2):  # and again: nothing grew, the second call is no slower
            begin = time.monotonic()
            refused = json.loads(engine.call("Flood", {}))
            assert time.monotonic() - begin < 5
            assert refused == [f"storage.put: the value is {4 * MIB} bytes, more than the 65536 allowed"] * 6
    assert jsstorage.keys() == ["small"]
    assert jsstorage.get("small") == "kept"
    assert jsstorage.path.stat().st_size < 1024


def test_an_uncaught_refusal_fails_the_rule_and_goes_to_the_next_ui() -> None:
    store = MemoryStorage()
    source = "function Big() { storage.put('k', new Array(70000).join('y')); return 'Approve'; }"
    with (
        RuleEngine(source, store) as engine,
        pytest.raises(RulesError, match=r"Big failed: Error: storage\.put: the value is 69999 bytes"),
    ):
        engine.call("Big", {})
    assert store.snapshot() == {}


def test_key_count_and_total_size_are_bounded_and_a_full_store_can_shrink() -> None:
    store = MemoryStorage()
    limits = StorageLimits(max_key_bytes=8, max_value_bytes=100, max_keys=3, max_total_bytes=200)
    source = """
    function Put(r) {
        try { storage.put(r.key, r.value); return 'stored'; } catch (e) { return e.message; }
    }
    """
    with RuleEngine(source, store, storage_limits=limits) as engine:
        assert engine.call("Put", {"key": "a", "value": "1" * 90}) == "stored"
        assert engine.call("Put", {"key": "b", "value": "2" * 90}) == "stored"
        assert engine.call("Put", {"key": "c", "value": "3" * 90}) == (
            "storage.put: storage would hold 273 bytes, more than the 200 allowed"
        )
        assert engine.call("Put", {"key": "c", "value": "3"}) == "stored"
        assert (
            engine.call("Put", {"key": "d", "value": "4"})
            == "storage.put: storage holds 3 keys, the most allowed"
        )
        assert engine.call("Put", {"key": "too-long-key", "value": "5"}) == (
            "storage.put: the key is 12 bytes, more than the 8 allowed"
        )
        assert engine.call("Put", {"key": "a", "value": "x"}) == "stored"  # replacing shrinks
        assert engine.call("Put", {"key": "b", "value": ""}) == "stored"  # "" deletes, as in clef
        assert engine.call("Put", {"key": "d", "value": "4"}) == "stored"
    assert store.snapshot() == {"a": "x", "c": "3", "d": "4"}


def test_a_store_already_past_the_bounds_is_read_and_may_shrink() -> None:
    store = MemoryStorage({f"k{i}": "v" * 50 for i in range(10)})  # e.g. made by clef
    storage = ClefStorage(store, StorageLimits(max_keys=5, max_total_bytes=100))
    assert storage.get("k9") == "v" * 50
    with pytest.raises(StorageLimitExceeded):
        storage.put("new", "v")
    storage.put("k0", "")
    storage.put("k1", "short")
    assert len(store.snapshot()) == 9


def test_one_write_per_call_and_the_call_reads_its_own_puts(jsstorage: EncryptedStore) -> None:
    counting = CountingStore(jsstorage)
    source = """
    function Six() {
        for (var i = 0; i < 6; i++) storage.put('k' + i, 'v' + i);
        storage.put('k5', '');
        return storage.get('k0') + storage.get('k5') + storage.get('k4');
    }
    function Throws() { storage.put('after', 'error'); throw new Error('late'); }
    """
    with RuleEngine(source, counting) as engine:
        assert engine.call("Six", {}) == "v0v4"
        assert len(counting.applied) == 1
        with pytest.raises(RulesError, match="late"):
            engine.call("Throws", {})
    assert len(counting.applied) == 2  # a put before an exception persists, as in clef
    assert jsstorage.keys() == ["after", "k0", "k1", "k2", "k3", "k4"]
    assert jsstorage.get("after") == "error"
