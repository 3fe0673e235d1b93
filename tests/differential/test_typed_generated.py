"""Generated EIP-712 documents, signed through the real clef and the real sealward: the same
signature and the same UI messages, or a deliberate difference.

The example count is moderate and the seed fixed (``derandomize``) so CI is repeatable; set
``SEALWARD_DIFF_EXAMPLES`` for a longer run (scripts/clef_diff.sh).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.differential.deliberate import explain, identical
from tests.differential.harness import ADDRESS, Pair, ScriptedUI
from tests.differential.typed_strategy import typed_documents

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SEALWARD_DIFF_EXAMPLES", "120"))
SEEN: dict[str, int] = {}


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(document=typed_documents())
def test_generated_typed_data_matches_clef(pair: Pair, ui: ScriptedUI, document: dict[str, Any]) -> None:
    ui.approve, ui.password = True, "differential-pw"
    request = {"jsonrpc": "2.0", "id": 1, "method": "account_signTypedData", "params": [ADDRESS, document]}
    raw = json.dumps(request, separators=(",", ":")).encode() + b"\n"
    clef, sealward = pair.exchange(raw)
    assert sealward.fate == "served", sealward.fate
    if identical(clef, sealward):
        SEEN["identical"] = SEEN.get("identical", 0) + 1
        if clef.error() is None:
            SEEN["signed alike"] = SEEN.get("signed alike", 0) + 1
        return
    reason = explain(raw, clef, sealward)
    assert reason is not None, (
        f"not a deliberate difference:\nclef     {clef.reply!r}\nsealward {sealward.reply!r}"
    )
    SEEN[reason.anchor] = SEEN.get(reason.anchor, 0) + 1


def test_generated_documents_were_mostly_identical() -> None:
    """Runs after the generator: most documents must compare equal, or the strategy drifted into
    territory where every answer is a deliberate difference and proves little."""
    total = sum(n for key, n in SEEN.items() if key != "signed alike")
    report = os.environ.get("SEALWARD_DIFF_REPORT")
    if report:
        with open(report + ".typed.json", "w") as out:
            json.dump(SEEN, out, indent=1)
    assert total >= min(EXAMPLES, 50)
    assert SEEN.get("identical", 0) >= 0.6 * total, SEEN
    assert SEEN.get("signed alike", 0) >= 0.1 * total, SEEN  # signatures compared, not only errors
