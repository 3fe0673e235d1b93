"""Operator tools: ``rules run``, ``hsm doctor``, ``guard show`` and ``guard reset``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from signer.approval.terminal import default_terminal
from signer.cli.common import Fatal, initialize
from signer.cli.options import build_config, global_options, merged
from signer.escaping import for_terminal_lines

log = logging.getLogger("sealward")


@click.group("rules")
def rules() -> None:
    """Work with JavaScript rule files."""


@rules.command("run")
@click.option("--rules", "rules_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--method",
    required=True,
    help="ApproveTx, ApproveSignData, ApproveListing, OnApprovedTx, OnSignerStartup",
)
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False))
def rules_run(rules_file: str, method: str, request_file: str) -> None:
    """Evaluate one request against a rule file offline, with an empty in-memory storage."""
    from signer.approval.rules.offline import evaluate_offline

    try:
        request = json.loads(Path(request_file).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise Fatal(f"cannot read request {request_file}: {exc}") from exc
    result = evaluate_offline(Path(rules_file).read_text(), method, request)
    click.echo(for_terminal_lines(result.format()))  # rule console output may quote the request


@click.group("hsm")
def hsm() -> None:
    """PKCS#11 HSM tools."""


@hsm.command("doctor")
@global_options
@click.pass_context
def hsm_doctor(ctx: click.Context, /, **_: Any) -> None:
    """Check a PKCS#11 module and token end to end, and say what to fix."""
    from backends.pkcs11.doctor import run_doctor
    from signer.cli.accounts import token_pin

    cfg = build_config(ctx)
    cfg.suppress_bootwarn = True
    initialize(cfg, default_terminal())
    if not cfg.pkcs11_module:
        raise Fatal("give the module with --pkcs11-module PATH (e.g. /usr/lib/softhsm/libsofthsm2.so)")
    token = cfg.pkcs11_tokens[0] if cfg.pkcs11_tokens else None
    pin = token_pin(cfg, token) if token else None
    report = run_doctor(cfg.pkcs11_module, token, pin)
    click.echo(report.render())
    if not report.ok:
        raise SystemExit(1)


@click.group("guard")
def guard() -> None:
    """Inspect and mend the double-seal guard."""


def _open_guard(ctx: click.Context) -> Any:
    from signer.clique.guard import open_guard

    cfg = build_config(ctx)
    # show and reset never seal, so they need no instance of their own.
    return cfg, open_guard(cfg.guard_location, instance="guard-tool")


@guard.command("show")
@click.option("--signer", "signer_address", help="Only this signer address")
@global_options
@click.pass_context
def guard_show(ctx: click.Context, /, signer_address: str | None, **_: Any) -> None:
    """Show the recorded seals (highest height per chain and signer, and their history)."""
    _, store = _open_guard(ctx)
    records = store.show(chain_id=merged(ctx).get("chainid"), signer=signer_address)
    if not records:
        click.echo("No seals recorded.")
    for record in records:
        click.echo(str(record))


@guard.command("reset")
@click.option("--signer", "signer_address", required=True, help="Signer address")
@click.option("--height", required=True, type=int, help="Forget seals at this height and above")
@global_options
@click.pass_context
def guard_reset(ctx: click.Context, /, signer_address: str, height: int, **_: Any) -> None:
    """Forget seals at and above a height after a deliberate rollback (written to the audit log)."""
    from signer.api.auditlog import AuditLog

    cfg, store = _open_guard(ctx)
    if merged(ctx).get("chainid") is None:
        raise Fatal("give the chain with --chainid N")
    removed = store.reset(cfg.chain_id, signer_address, height)
    if cfg.auditlog:
        audit = AuditLog(cfg.auditlog)
        audit.event("GuardReset", ("chainid", cfg.chain_id), ("signer", signer_address), ("height", height),
                    ("removed", removed))  # fmt: skip
        audit.close()
    click.echo(
        f"Removed {removed} record(s) at height >= {height} for {signer_address} on chain {cfg.chain_id}."
    )


COMMANDS = [rules, hsm, guard]
