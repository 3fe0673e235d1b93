"""The 4-byte database: the generated built-in table and clef's writable custom file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from signer.validation import FourByteDB, FourByteDBError, SelectorError, SelectorNotFound
from signer.validation.fourbyte import embedded_table
from signer.validation.selector import canonical_signature, parse_selector

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "clef"


def test_every_builtin_entry_hashes_to_its_key() -> None:
    table = embedded_table()
    assert len(table) >= 400
    for key, signature in table.items():
        assert keccak(text=signature)[:4].hex() == key, signature
        assert canonical_signature(parse_selector(signature)) == signature


@pytest.mark.parametrize(
    ("key", "signature"),
    [
        ("a9059cbb", "transfer(address,uint256)"),
        ("095ea7b3", "approve(address,uint256)"),
        ("42842e0e", "safeTransferFrom(address,address,uint256)"),
        ("f242432a", "safeTransferFrom(address,address,uint256,uint256,bytes)"),
        ("d0e30db0", "deposit()"),
        ("82ad56cb", "aggregate3((address,bool,bytes)[])"),
        ("2b67b570", "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)"),
        ("3593564c", "execute(bytes,bytes[],uint256)"),
        (
            "6a761202",
            "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)",
        ),
        ("22895118", "deposit(bytes,bytes,bytes,bytes32)"),
    ],
)
def test_well_known_selectors_are_built_in(key: str, signature: str) -> None:
    assert FourByteDB.load(None).selector(bytes.fromhex(key)) == signature


def test_generated_file_is_up_to_date() -> None:
    script = ROOT / "scripts" / "gen_4byte.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


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
    db.add_selector("zeta(uint)")
    db.add_selector("alpha(bytes32)")
    table = json.loads(custom.read_text())
    assert list(table) == sorted(table) and len(table) == 2
    assert table[keccak(text="zeta(uint256)")[:4].hex()] == "zeta(uint256)"  # stored canonical
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
