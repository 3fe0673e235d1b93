"""Attested JavaScript rules (clef's ``--rules``): a sandboxed engine and the UI that uses it.

``RulesetUI`` is imported lazily: it needs ``signer.types`` (and with it eth_utils), which the
rule worker process, started as ``signer.approval.rules.worker``, should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signer.approval.rules.engine import RuleEngine
from signer.approval.rules.offline import OfflineResult, evaluate_offline
from signer.approval.rules.storage import ClefStorage, MemoryStorage, RuleStorage

if TYPE_CHECKING:
    from signer.approval.rules.ruleset_ui import RulesetUI

__all__ = [
    "ClefStorage",
    "MemoryStorage",
    "OfflineResult",
    "RuleEngine",
    "RuleStorage",
    "RulesetUI",
    "evaluate_offline",
]


def __getattr__(name: str) -> Any:
    if name == "RulesetUI":
        from signer.approval.rules.ruleset_ui import RulesetUI

        return RulesetUI
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
