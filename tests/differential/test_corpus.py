"""The corpus, sent to the real clef v1.17.3 and the real sealward: every answer and every message
to the UI must be byte for byte the same, except the deliberate differences (deliberate.py).

``SEALWARD_DIFF_REPORT=<file>`` writes the per-case outcome as JSON (scripts/clef_diff.sh).
"""

from __future__ import annotations

import collections
import json
import os
import re
from pathlib import Path

import pytest

from tests.differential.corpus import Case, all_cases, new_account_cases
from tests.differential.deliberate import DELIBERATE, explain, identical
from tests.differential.harness import Exchange, Pair, ScriptedUI

pytestmark = pytest.mark.e2e


def _excerpt(clef: Exchange, sealward: Exchange) -> str:
    """Where the two first differ, for the failure message."""
    left = [clef.fate, *(([clef.reply] if clef.reply else []) + clef.ui)]
    right = [sealward.fate, *(([sealward.reply] if sealward.reply else []) + sealward.ui)]
    for a, b in zip(left, right, strict=False):
        if a != b:
            a_text, b_text = str(a), str(b)
            at = next((i for i, (x, y) in enumerate(zip(a_text, b_text, strict=False)) if x != y), 0)
            start = max(0, at - 80)
            return (
                f"\n    clef:     {a_text[start : start + 240]}\n    sealward: {b_text[start : start + 240]}"
            )
    return f"\n    clef: {len(left)} messages, sealward: {len(right)}"


def run(pair: Pair, ui: ScriptedUI, case: Case) -> tuple[Exchange, Exchange]:
    ui.approve, ui.password = case.approve, case.password
    return pair.exchange(case.raw, case.timeout)


def test_the_corpus_matches_clef(pair: Pair, ui: ScriptedUI) -> None:
    cases = all_cases()
    assert len(cases) > 500
    outcomes: dict[str, str] = {}
    unexplained: list[str] = []
    for case in cases:
        clef, sealward = run(pair, ui, case)
        assert sealward.fate in ("served", "silent"), f"{case.name}: sealward {sealward.fate}"
        if identical(clef, sealward):
            outcomes[case.name] = "identical"
            continue
        reason = explain(case.raw, clef, sealward)
        if reason is None:
            unexplained.append(f"{case.name}{_excerpt(clef, sealward)}")
            outcomes[case.name] = "DIFFERENT"
        else:
            outcomes[case.name] = reason.anchor
    report = os.environ.get("SEALWARD_DIFF_REPORT")
    if report:
        summary = collections.Counter(outcomes.values())
        Path(report).write_text(json.dumps({"summary": summary, "cases": outcomes}, indent=1) + "\n")
    assert not unexplained, f"{len(unexplained)} differences from clef are not deliberate:\n" + "\n".join(
        unexplained
    )
    # Each request left both serving: clef was restarted only where it hung or crashed.
    assert pair.sealward.restarts == 0 and pair.sealward.serving() and pair.clef.serving()
    seen = set(outcomes.values())
    assert sum(v == "identical" for v in outcomes.values()) > 0.85 * len(cases)
    corpus_kinds = {d.anchor for d in DELIBERATE} - {
        "eip-712-error-order"
    }  # random in clef: not in a fixed corpus
    assert corpus_kinds <= seen, f"deliberate differences the corpus no longer shows: {corpus_kinds - seen}"


def test_new_account_prompts_and_errors_match(pair: Pair, ui: ScriptedUI) -> None:
    """account_new last, as it changes both keystores; the new address is random, so only its
    shape is compared (the UI requests, errors and attempt counting are compared byte for byte)."""
    for case in new_account_cases():
        clef, sealward = run(pair, ui, case)
        replies = [re.sub(rb'"result":"0x[0-9a-f]{40}"', b'"result":"<address>"', ex.reply or b"")
                   for ex in (clef, sealward)]  # fmt: skip
        assert replies[0] == replies[1], case.name
        assert clef.ui == sealward.ui, case.name
        assert clef.ui, case.name  # the UI was asked


def test_startup_messages_to_the_ui_match(pair: Pair) -> None:
    """ui_onSignerStartup (the only message before any request) is the same, paths aside."""
    assert pair.clef.process is not None and pair.sealward.process is not None
    first = [peer.normalise(peer.process.ui_lines[0]) for peer in (pair.clef, pair.sealward) if peer.process]
    assert first[0] == first[1]
    assert b'"ui_onSignerStartup"' in first[0]
