"""Build signer/validation/data/4byte.bin from clef's embedded 4-byte database.

The source is ``signer/fourbyte/4byte.json`` of the go-ethereum module that shipped clef's last
release (v1.17.3); ``go mod download -json`` fetches it into the Go module cache and reports
where it is (or pass ``--source``). Every entry is checked: ``keccak256(signature)[:4]`` must equal
its key, and the signature must be one line of text. Entries that fail are dropped and counted.
The output is deterministic for a given source (sorted entries, a dictionary sampled at fixed
positions, zlib level 9); ``4byte.provenance.json`` records the module, the source file's SHA-256
and the counts.

    .venv/bin/python scripts/gen_4byte.py            # write the table and its provenance
    .venv/bin/python scripts/gen_4byte.py --check    # exit 1 unless the committed table matches
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signer.codecs.hexutil import keccak256  # noqa: E402
from signer.validation.packedtable import BLOCK_ENTRIES, PackedSelectorTable, pack  # noqa: E402

MODULE = "github.com/ethereum/go-ethereum"
VERSION = "v1.17.3"
SOURCE_IN_MODULE = "signer/fourbyte/4byte.json"
DATA = ROOT / "signer" / "validation" / "data"
TARGET = DATA / "4byte.bin"
PROVENANCE = DATA / "4byte.provenance.json"
DICTIONARY_BYTES = 32 * 1024  # deflate's window: the most a preset dictionary can use


def download_module() -> tuple[Path, dict[str, str]]:
    """The module's directory in the Go module cache, and what ``go mod download`` says of it."""
    done = subprocess.run(["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"],
                          capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"go mod download failed:\n{done.stdout}{done.stderr}")
    info = json.loads(done.stdout)
    origin = info.get("Origin") or {}
    return Path(info["Dir"]), {"sum": info.get("Sum", ""), "commit": origin.get("Hash", "")}


def verified(source: dict[str, object]) -> tuple[dict[str, str], list[str]]:
    """The entries whose signature hashes to their selector; and a note for each dropped one."""
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for key, signature in sorted(source.items()):
        if not isinstance(signature, str) or "\n" in signature:
            dropped.append(f"{key}: not a one-line string")
        elif keccak256(signature.encode("utf-8"))[:4].hex() != key.lower():
            dropped.append(f"{key}: keccak({signature!r})[:4] is {keccak256(signature.encode())[:4].hex()}")
        else:
            kept[key.lower()] = signature
    return kept, dropped


def dictionary(table: dict[str, str]) -> bytes:
    """Signatures sampled at evenly spaced positions: common names and parameter lists."""
    signatures = [table[key] for key in sorted(table)]
    step = max(1, len(signatures) // 1200)
    return "\n".join(signatures[::step]).encode("utf-8")[-DICTIONARY_BYTES:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, help=f"a 4byte.json (default: {SOURCE_IN_MODULE} of {VERSION})"
    )
    parser.add_argument("--check", action="store_true", help="only check the committed table")
    options = parser.parse_args()
    module = {"sum": "", "commit": ""}
    source_path = options.source
    if source_path is None:
        module_dir, module = download_module()
        source_path = module_dir / SOURCE_IN_MODULE
    raw = source_path.read_bytes()
    table, dropped = verified(json.loads(raw))
    blob = pack(table, dictionary(table))
    provenance = {
        "source": f"{MODULE}@{VERSION} {SOURCE_IN_MODULE}",
        "module_sum": module["sum"],
        "module_commit": module["commit"],
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "source_entries": len(table) + len(dropped),
        "entries": len(table),
        "dropped": len(dropped),
        "dropped_examples": dropped[:20],
        "format": f"SW4BYTE1, {BLOCK_ENTRIES} signatures per raw-deflate block, shared 32 KiB dictionary",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
    }
    if options.check:
        return check(table, blob, provenance)
    TARGET.write_bytes(blob)
    PROVENANCE.write_text(json.dumps(provenance, indent=2) + "\n")
    where = TARGET.relative_to(ROOT)
    print(f"{len(table)} selectors kept, {len(dropped)} dropped; {len(blob)} bytes in {where}")
    for note in dropped[:20]:
        print(f"  dropped {note}")
    return 0


def check(table: dict[str, str], blob: bytes, provenance: dict[str, object]) -> int:
    committed = TARGET.read_bytes()
    recorded = json.loads(PROVENANCE.read_text())
    problems = []
    # Equal bytes mean equal entries; otherwise say whether only the compression differs.
    if committed != blob:
        if dict(PackedSelectorTable(committed).items()) != table:
            problems.append(f"{TARGET.name} does not hold the verified entries of the source")
        else:
            problems.append(
                f"{TARGET.name} holds the right entries but differs from a fresh build (another zlib?)"
            )
    for key in ("source_sha256", "entries", "dropped", "sha256"):
        if recorded.get(key) != provenance[key]:
            problems.append(
                f"{PROVENANCE.name}: {key} is {recorded.get(key)!r}, expected {provenance[key]!r}"
            )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
