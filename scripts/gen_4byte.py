"""Generate signer/validation/data/4byte.json from scripts/4byte_signatures.txt.

Every line must parse with the signer's own selector parser and already be canonical
(``uint`` written as ``uint256``, no spaces), so what the database says is what the signer will
verify calldata against. Each key is keccak256(signature)[:4]; two different signatures with the
same key are an error, not a silent overwrite.

    .venv/bin/python scripts/gen_4byte.py            # write the JSON
    .venv/bin/python scripts/gen_4byte.py --check    # exit 1 if the JSON is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signer.validation.calldata import selector_id  # noqa: E402
from signer.validation.selector import SelectorError, canonical_signature, parse_selector  # noqa: E402

SOURCE = ROOT / "scripts" / "4byte_signatures.txt"
TARGET = ROOT / "signer" / "validation" / "data" / "4byte.json"


def read_signatures(path: Path) -> list[str]:
    signatures = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            canonical = canonical_signature(parse_selector(text))
        except SelectorError as exc:
            raise SystemExit(f"{path.name}:{number}: {exc}") from None
        if canonical != text:
            raise SystemExit(f"{path.name}:{number}: not canonical: {text!r} (canonical: {canonical!r})")
        signatures.append(text)
    return signatures


def build(signatures: list[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for signature in signatures:
        key = selector_id(signature).hex()
        if table.get(key, signature) != signature:
            raise SystemExit(f"selector collision {key}: {table[key]!r} and {signature!r}")
        table[key] = signature
    return dict(sorted(table.items()))


def render(table: dict[str, str]) -> str:
    # One entry per line keeps diffs of the generated file readable.
    return json.dumps(table, indent=0, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the JSON is up to date")
    options = parser.parse_args()
    text = render(build(read_signatures(SOURCE)))
    if options.check:
        if not TARGET.is_file() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale; run scripts/gen_4byte.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {len(json.loads(text))} selectors to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
