"""The readiness checks of a running signer, one per thing it needs to do its job.

* ``vault``: opened, when the signer was set up to use one (a master seed exists, or
  ``--master-password-file`` / ``--rules`` ask for it);
* ``rules``: attested rules are active, when ``--rules`` is given;
* ``backend:<name>``: each key holder answers one cheap call (an HSM: token info; a Ledger:
  present with the Ethereum app open; a keystore: its folder is readable);
* ``seal-guard``: the guard's database answers a one-row lookup;
* ``audit``: the last audit write succeeded, when ``--auditlog.required`` makes it a condition
  for signing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from backends.base import Backend, Checkable
from signer.accounts import AccountManager
from signer.api.auditlog import AuditLog
from signer.config import Config
from signer.ops.live_rules import LiveRules
from signer.ops.metrics import Metrics
from signer.ops.readiness import Check, NotReady, Readiness, Report

if TYPE_CHECKING:
    from signer.clique.guard import SealGuard
    from signer.ops.instruments import MeteredSealGuard
    from signer.vault import Vault

# A signer no chain has: the lookup finds the key's index position and returns nothing.
_PROBE_SIGNER = "0x" + "00" * 20


def vault_check(config: Config, vault: Callable[[], Vault | None]) -> Check | None:
    wanted = config.master_password_file is not None or config.rules is not None
    if not wanted and not config.masterseed_path.exists():
        return None

    def probe() -> str:
        opened = vault()
        if opened is None:
            raise NotReady("the vault is locked: it did not open at start (see the signer's log)")
        if not os.access(opened.directory, os.R_OK | os.X_OK):
            raise NotReady(f"the vault folder {opened.directory} cannot be read")
        return "open"

    return Check("vault", probe)


def rules_check(config: Config, live: Callable[[], LiveRules | None]) -> Check | None:
    if config.rules is None:
        return None

    def probe() -> str:
        rules = live()
        if rules is None:
            raise NotReady(
                f"the rules in {config.rules} are not active (not attested, or the vault is locked)"
            )
        return f"sha256 {rules.digest}"

    return Check("rules", probe)


def backend_checks(backends: list[Backend]) -> list[Check]:
    checks = []
    for backend in backends:
        if not isinstance(backend, Checkable):
            continue

        def probe(checked: Checkable = backend) -> str:
            checked.check()
            return "answers"

        checks.append(Check(f"backend:{backend.name}", probe))
    return checks


def guard_check(guard: SealGuard | MeteredSealGuard | None, chain_id: int) -> Check | None:
    if guard is None:
        return None

    def probe() -> str:
        guard.show(chain_id, _PROBE_SIGNER, heights=1)
        return str(guard.store.location)

    return Check("seal-guard", probe)


def audit_check(audit: AuditLog | None) -> Check | None:
    if audit is None or not audit.required:
        return None

    def probe() -> str:
        if audit.failing:
            raise NotReady(f"the audit log {audit.path} cannot be written: requests are refused")
        return str(audit.path)

    return Check("audit", probe)


class SignerState(Protocol):
    """What the checks look at in a running signer (signer.app.App); read at every evaluation,
    since a reload can change it."""

    config: Config
    vault: Vault | None
    live_rules: LiveRules | None
    accounts: AccountManager
    seal_guard: SealGuard | MeteredSealGuard | None
    audit: AuditLog | None


def readiness_of(state: SignerState, metrics: Metrics | None) -> Readiness:
    def current() -> list[Check]:
        found = [
            vault_check(state.config, lambda: state.vault),
            rules_check(state.config, lambda: state.live_rules),
            *backend_checks(state.accounts.backends),
            guard_check(state.seal_guard, state.config.chain_id),
            audit_check(state.audit),
        ]
        return [check for check in found if check is not None]

    def publish(report: Report) -> None:
        if metrics is None:
            return
        metrics.ready.set(1 if report.ready else 0)
        for name, result in report.results.items():
            metrics.ready_check.labels(name).set(1 if result.ok else 0)

    return Readiness(current, on_report=publish)
