"""The 4-byte database: clef's embedded table (packed) and clef's writable custom file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from signer.validation import FourByteDB, FourByteDBError, SelectorError, SelectorNotFound
from signer.validation.fourbyte import embedded_table
from signer.validation.packedtable import BLOCK_ENTRIES, PackedSelectorTable, PackedTableError, pack
from signer.validation.selector import canonical_signature, parse_selector

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "clef"


PROVENANCE = json.loads((ROOT / "signer/validation/data/4byte.provenance.json").read_text())
MODERN = ROOT / "docs" / "examples" / "4byte-custom-modern.json"


def test_packed_file_is_the_one_the_provenance_describes() -> None:
    blob = (ROOT / "signer/validation/data/4byte.bin").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == PROVENANCE["sha256"]
    assert len(blob) == PROVENANCE["bytes"] < 3_000_000  # the repository carries it
    assert PROVENANCE["source"] == "github.com/ethereum/go-ethereum@v1.17.3 signer/fourbyte/4byte.json"
    assert PROVENANCE["entries"] + PROVENANCE["dropped"] == PROVENANCE["source_entries"]
    assert len(embedded_table()) == PROVENANCE["entries"] == 268_621


@pytest.mark.parametrize(
    ("key", "signature"),
    [
        ("6057361d", "store(uint256)"),  # the calls clef signs that the 485-entry table refused
        ("d09de08a", "increment()"),
        ("a9059cbb", "transfer(address,uint256)"),
        ("095ea7b3", "approve(address,uint256)"),
        ("42842e0e", "safeTransferFrom(address,address,uint256)"),
        ("d0e30db0", "deposit()"),
        ("00000000", "buyAndFree22457070633(uint256)"),  # the first block
        ("ffffffff", "test266151307()"),  # the last block
        (
            "6a761202",
            "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)",
        ),
    ],
)
def test_clefs_selectors_are_built_in(key: str, signature: str) -> None:
    assert FourByteDB.load(None).selector(bytes.fromhex(key)) == signature
    assert keccak(text=signature)[:4].hex() == key


def test_unknown_and_malformed_keys_are_absent() -> None:
    table = embedded_table()
    absent = next(f"{n:08x}" for n in range(0x6057361E, 0x6057461E) if f"{n:08x}" not in table)
    assert table.get(absent) is None and absent not in table
    for junk in ("", "a9059cb", "a9059cbbb", "zzzzzzzz", "-1000000"):
        assert table.get(junk) is None
    with pytest.raises(KeyError):
        table[absent]
    with pytest.raises(SelectorNotFound, match=f"^signature {absent} not found$"):
        FourByteDB.load(None).selector(bytes.fromhex(absent))


def test_a_sample_of_blocks_decodes_to_verified_entries() -> None:
    """Every 16th block in full: each entry's key is keccak(signature)[:4] and lies in its block."""
    table = embedded_table()
    assert isinstance(table, PackedSelectorTable)
    firsts = table._firsts
    for block in range(0, len(firsts), 16):
        entries = table._decode_block(block)
        upper = firsts[block + 1] if block + 1 < len(firsts) else 1 << 32
        assert len(entries) == (
            BLOCK_ENTRIES if block + 1 < len(firsts) else len(table) % BLOCK_ENTRIES or 128
        )
        for key, signature in entries.items():
            assert keccak(text=signature)[:4].hex() == key
            assert firsts[block] <= int(key, 16) < upper


def test_the_packed_format_round_trips_and_refuses_foreign_files() -> None:
    table = {keccak(text=s)[:4].hex(): s for s in (f"f{i}(uint256)" for i in range(300))}
    packed = PackedSelectorTable(pack(table, b"uint256"))
    assert dict(packed.items()) == table and len(packed) == 300
    with pytest.raises(PackedTableError, match="bad magic"):
        PackedSelectorTable(b"{}")
    with pytest.raises(PackedTableError, match="truncated"):
        PackedSelectorTable(pack(table, b"")[:-10])


def test_the_table_matches_clefs_source_in_the_go_module_cache() -> None:
    """The full check: rebuilt from go-ethereum v1.17.3's 4byte.json, byte for byte (needs Go)."""
    if shutil.which("go") is None:
        pytest.skip("Go is not installed: cannot fetch clef's 4byte.json (go mod download)")
    script = ROOT / "scripts" / "gen_4byte.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, result.stderr


def test_modern_example_custom_database_adds_to_clefs_table(tmp_path: Path) -> None:
    """docs/examples: verified selectors newer than clef's snapshot, none shadowing a built-in one."""
    modern = json.loads(MODERN.read_text())
    assert len(modern) > 100
    for key, signature in modern.items():
        assert keccak(text=signature)[:4].hex() == key
        assert canonical_signature(parse_selector(signature)) == signature
        assert key not in embedded_table()
    custom = tmp_path / "4byte-custom.json"
    shutil.copy(MODERN, custom)
    db = FourByteDB.load(custom)
    assert db.counts() == (268_621, len(modern))
    assert db.selector(bytes.fromhex("04e45aaf")).startswith("exactInputSingle(")


def test_custom_database_vector(tmp_path: Path) -> None:
    """Upstream TestCustomDatabase: unknown in an empty DB, learned, persisted, found after reload."""
    path = VECTORS / "inline/fourbyte_abi_unpack.json"
    if not path.is_file():
        pytest.skip(f"clef vectors not present at {path}")
    case = json.loads(path.read_text())["TestCustomDatabase"]
    calldata = bytes.fromhex(case["calldata"])
    custom = tmp_path / "4byte-custom.json"
    db = FourByteDB.empty(custom)
    with pytest.raises(SelectorNotFound, match="signature a52c101e not found"):
        db.selector(calldata[:4])
    assert db.add_selector(case["selector"]) is True
    assert custom.read_text() == '{"a52c101e":"send(uint256)"}'
    assert stat.S_IMODE(os.stat(custom).st_mode) == 0o600
    assert FourByteDB.empty(custom).selector(calldata[:4]) == "send(uint256)"
    assert FourByteDB.empty(custom).counts() == (0, 1)


def test_custom_file_is_compact_sorted_and_rewritten_whole(tmp_path: Path) -> None:
    custom = tmp_path / "custom.json"
    db = FourByteDB.load(custom)
    db.add_selector("zeta(uint256 address)")
    db.add_selector("alpha(bytes32)")
    table = json.loads(custom.read_text())
    assert list(table) == sorted(table) and len(table) == 2
    assert table[keccak(text="zeta(uint256,address)")[:4].hex()] == "zeta(uint256,address)"  # canonical
    assert " " not in custom.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["custom.json"]  # no temp files left behind


def test_builtin_entries_win_and_are_not_copied(tmp_path: Path) -> None:
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps({"a9059cbb": "evil(uint256)"}))
    db = FourByteDB.load(custom)
    assert db.selector(bytes.fromhex("a9059cbb")) == "transfer(address,uint256)"
    assert db.add_selector("transfer(address,uint256)") is False
    assert json.loads(custom.read_text()) == {"a9059cbb": "evil(uint256)"}  # untouched
    embedded, learned = db.counts()
    assert embedded == len(embedded_table()) and learned == 1


def test_in_memory_database_does_not_write(tmp_path: Path) -> None:
    db = FourByteDB.empty()
    assert db.add_selector("send(uint256)") is True
    assert db.selector(bytes.fromhex("a52c101e")) == "send(uint256)"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"a52c101e": 5}'])
def test_unreadable_custom_file_is_fatal(tmp_path: Path, content: str) -> None:
    custom = tmp_path / "custom.json"
    custom.write_text(content)
    with pytest.raises(FourByteDBError, match="failed to read 4byte database"):
        FourByteDB.load(custom)


def test_short_id() -> None:
    with pytest.raises(SelectorNotFound, match=r"^expected 4-byte id, got 3$"):
        FourByteDB.empty().selector(b"\x01\x02\x03")


def test_add_selector_refuses_garbage() -> None:
    with pytest.raises(SelectorError, match="failed to parse selector"):
        FourByteDB.empty().add_selector("not a selector")
    with pytest.raises(SelectorError, match="unsupported arg type: uint7"):
        FourByteDB.empty().add_selector("f(uint7)")


def test_write_errors_surface_as_oserror(tmp_path: Path) -> None:
    db = FourByteDB.empty(tmp_path / "missing-dir" / "custom.json")
    with pytest.raises(OSError):
        db.add_selector("send(uint256)")
