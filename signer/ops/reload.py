"""SIGHUP: read the rule file again and take it only if its hash is attested.

The outcome is logged (an unattested file loudly, at ERROR), written to the audit log and
counted (``sealward_rules_reloads_total{outcome}``):

* ``applied``: the file's sha256 is the attested hash; a new engine runs the new rules for every
  request that starts from now on, requests already in a rule finish on the old one;
* ``unchanged``: the file is the one already running;
* ``refused``: the hash is not attested (or the vault is locked); the previous rules stay;
* ``failed``: the file cannot be read or the new engine cannot start; the previous rules stay.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from signer.api.auditlog import AuditLog
from signer.approval.rules import RuleEngine
from signer.ops.live_rules import LiveRules
from signer.ops.metrics import Metrics

if TYPE_CHECKING:
    from signer.vault import Vault

log = logging.getLogger("sealward")


@dataclass
class RulesReload:
    path: Path
    vault: Vault | None  # None when it did not open
    make_engine: Callable[[str, Vault], RuleEngine]
    audit: AuditLog | None = None
    metrics: Metrics | None = None

    def run(self, live: LiveRules | None) -> tuple[str, LiveRules | None]:
        """Reload into ``live``; returns the outcome and the LiveRules now active (a new one when
        no rules were active before)."""
        outcome, detail, digest, active = self._attempt(live)
        if outcome == "applied":
            log.warning("Rules reloaded file=%s hash=%s", self.path, digest)
        elif outcome == "unchanged":
            log.info("Rules unchanged file=%s hash=%s", self.path, digest)
        else:
            still = "the previous rules stay active" if live is not None else "rules stay disabled"
            log.error("RULES NOT RELOADED, %s file=%s reason=%s", still, self.path, detail)
        if self.audit is not None:
            self.audit.event("RulesReload", ("outcome", outcome), ("file", str(self.path)), ("hash", digest),
                             ("reason", detail or None))  # fmt: skip
        if self.metrics is not None:
            self.metrics.rules_reloads.labels(outcome).inc()
        return outcome, active

    def _attempt(self, live: LiveRules | None) -> tuple[str, str, str, LiveRules | None]:
        try:
            source = self.path.read_bytes()
        except OSError as exc:
            return "failed", f"cannot read the rule file: {exc.strerror or exc}", "", live
        digest = hashlib.sha256(source).hexdigest()
        if self.vault is None:
            return "refused", "the vault is locked, so no hash can be attested", digest, live
        try:
            attested = self.vault.ruleset_hash()
        except Exception as exc:
            return "refused", f"cannot read the attested hash: {exc}", digest, live
        if digest != attested:
            return (
                "refused",
                f"sha256 {digest} is not attested (attested: {attested or 'none'})",
                digest,
                live,
            )
        if live is not None and live.digest == digest:
            return "unchanged", "", digest, live
        try:
            engine = self.make_engine(source.decode("utf-8", "replace"), self.vault)
        except Exception as exc:
            return "failed", f"the rule engine did not start: {exc}", digest, live
        if live is None:
            return "applied", "", digest, LiveRules(engine, digest, self.metrics)
        live.replace(engine, digest)
        return "applied", "", digest, live
