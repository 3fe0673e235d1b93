"""Evaluate one request against a rule file without a signer: ``sealward rules run``.

The rule runs in the same sandbox as in the daemon (worker process, deadline, fresh context),
against an in-memory storage, so a rule author sees exactly the decision the signer would take,
what the rule printed and what it would have stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from signer.approval.rules.engine import DEFAULT_TIMEOUT, RuleEngine
from signer.approval.rules.storage import MemoryStorage
from signer.errors import RulesError

# The functions clef calls; the first three decide, the last two are notifications.
DECIDING = ("ApproveTx", "ApproveSignData", "ApproveListing")
NOTIFYING = ("OnApprovedTx", "OnSignerStartup")
METHODS = DECIDING + NOTIFYING


@dataclass
class OfflineResult:
    method: str
    decision: str | None
    """The function's result as JavaScript ``String()``; None when it failed."""
    error: str | None
    console: list[str] = field(default_factory=list)
    storage_changes: dict[str, str | None] = field(default_factory=dict)
    """Keys the call set (new value) or deleted (None)."""

    @property
    def outcome(self) -> str:
        """What the signer does with this result (clef-compat §4.2)."""
        if self.method in NOTIFYING:
            return "ignored (notification)" if self.error is None else "ignored (error logged)"
        if self.decision == "Approve":
            return "approved"
        if self.decision == "Reject":
            return "rejected"
        return "manual (next UI)"

    def format(self) -> str:
        lines = [f"method:   {self.method}"]
        lines.append(f"decision: {self.decision!r}" if self.error is None else f"error:    {self.error}")
        lines.append(f"outcome:  {self.outcome}")
        lines.append("console:" + ("" if self.console else " (none)"))
        lines.extend(f"  {line}" for line in self.console)
        lines.append("storage changes:" + ("" if self.storage_changes else " (none)"))
        for key, value in sorted(self.storage_changes.items()):
            lines.append(f"  {key!r}: deleted" if value is None else f"  {key!r} = {value!r}")
        return "\n".join(lines)


def evaluate_offline(
    rules_source: str,
    method: str,
    request: dict[str, Any],
    *,
    storage: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> OfflineResult:
    """Run ``method(request)`` once; ``storage`` is the initial content of the in-memory store."""
    if method not in METHODS:
        raise ValueError(f"unknown rule method {method!r}; expected one of {', '.join(METHODS)}")
    before = dict(storage or {})
    store = MemoryStorage(before)
    console: list[str] = []
    decision: str | None = None
    error: str | None = None
    # One call: a second worker would only cost a process start.
    with RuleEngine(rules_source, store, timeout, on_console=console.append, workers=1) as engine:
        try:
            decision = engine.call(method, request)
        except RulesError as err:
            error = str(err)
    after = store.snapshot()
    changes: dict[str, str | None] = {k: v for k, v in after.items() if before.get(k) != v}
    changes.update({k: None for k in before if k not in after})
    return OfflineResult(method, decision, error, console, changes)
