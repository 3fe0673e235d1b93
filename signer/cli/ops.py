"""Operator commands: ``audit verify`` and ``status`` (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from signer.cli.options import build_config, global_options


@click.group("audit")
def audit() -> None:
    """Work with the hash-chained audit log."""


@audit.command("verify")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def audit_verify(files: tuple[Path, ...]) -> None:
    """Check the hash chain through FILES, oldest first (e.g. audit.log.2 audit.log.1 audit.log).

    Exits 1 naming the first entry that was edited, deleted, inserted or reordered.
    """
    from signer.api.auditchain import verify

    verdict = verify(files)
    if verdict.ok:
        click.echo(f"OK: {verdict.entries} entries chained in {len(files)} file(s)")
        click.echo(f"head: seq={verdict.head_seq} hash={verdict.head_hash}")
        return
    click.echo(f"FAILED: {verdict.problem}")
    if verdict.entries:
        click.echo(f"verified before it: {verdict.entries} entries, up to seq={verdict.head_seq} "
                   f"hash={verdict.head_hash}")  # fmt: skip
    raise SystemExit(1)


@click.command("status")
@global_options
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the signer")
@click.pass_context
def status(ctx: click.Context, /, timeout: float, **_: Any) -> None:
    """Ask the running signer (its --metrics endpoint) whether it is ready, and what it has done."""
    from signer.ops.status import StatusUnavailable, fetch_status

    cfg = build_config(ctx)
    try:
        report = fetch_status(cfg.metrics_addr, cfg.metrics_port, timeout)
    except StatusUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.render())
    if not report.ready:
        raise SystemExit(1)


COMMANDS = [audit, status]
