"""The ``sealward`` command: clef's command line with ``clef`` replaced by ``sealward``."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from backends.base import BackendError
from signer import __version__
from signer.cli.common import initialize
from signer.cli.options import build_config, global_options, warn_about_password_on_command_line
from signer.errors import SignerError


class SealwardGroup(click.Group):
    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            raise click.UsageError(f"invalid command: {quoted}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # Expected failures (a wrong PIN, a damaged file, a refused key) are reported as one line,
        # never as a traceback; anything else is a bug and keeps its traceback.
        try:
            return super().invoke(ctx)
        except (BackendError, SignerError, OSError, ValueError) as exc:
            raise click.ClickException(str(exc) or type(exc).__name__) from exc


@click.group(
    cls=SealwardGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "-v", "--version", prog_name="sealward")
@global_options
@click.pass_context
def cli(ctx: click.Context, /, **_: Any) -> None:
    """Manage Ethereum account operations: a Clef-compatible external signer."""
    if ctx.invoked_subcommand is not None:
        return
    from signer.app import run_daemon
    from signer.approval.terminal import default_terminal
    from signer.cli.common import Fatal
    from signer.startup import StartupError

    cfg = build_config(ctx)
    initialize(cfg, default_terminal())
    warn_about_password_on_command_line(ctx)
    if ctx.params.get("stdio_ui_test"):
        logging.getLogger("sealward").warning(
            "--stdio-ui-test is accepted for clef compatibility but not run"
        )
    try:
        code = run_daemon(cfg)
    except click.ClickException:
        raise
    except StartupError as exc:
        raise Fatal(str(exc)) from exc
    except Exception as exc:  # a start-up failure is reported as clef does, without a traceback
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


def _register() -> None:
    from signer.cli import accounts, ops, tools, vault

    for module in (accounts, vault, tools, ops):
        for command in module.COMMANDS:
            cli.add_command(command)
    from signer.tools.demo import demo

    cli.add_command(demo)


_register()


def main() -> None:
    cli(prog_name="sealward")
