"""Helpers shared by the commands: the initialization step, prompts and fatal errors."""

from __future__ import annotations

import sys

import click

from backends.base import Secret
from signer import logs
from signer.approval.terminal import InputClosed, Terminal
from signer.config import Config

LEGAL_WARNING = """
WARNING!

Sealward is an account management tool. It may, like any software, contain bugs.

Please take care to
- backup your keystore files,
- verify that the keystore(s) can be opened with your password.

Sealward is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY;
without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR
PURPOSE. See the GNU General Public License for more details.
"""


class Fatal(click.ClickException):
    """clef's ``Fatal: <message>`` exit."""

    def format_message(self) -> str:
        return f"Fatal: {self.message}"

    def show(self, file: object = None) -> None:
        click.echo(self.format_message(), err=True)


def initialize(cfg: Config, terminal: Terminal) -> None:
    """clef's initialization step (§1.5): logging, then the boot warning and its confirmation."""
    logs.configure(cfg.loglevel, sys.stderr if cfg.stdio_ui else sys.stdout, cfg.log_format)
    if cfg.suppress_bootwarn:
        return
    if cfg.stdio_ui:
        sys.stderr.write(LEGAL_WARNING)
        return
    if not terminal.is_interactive():
        # Scripts: clef's "ok" line is consumed when present; any other line is given back to the
        # prompt it was meant for (a password), since no person is there to confirm anything.
        sys.stderr.write(LEGAL_WARNING)
        try:
            first = terminal.stdin.readline()
        except (OSError, ValueError):
            first = ""
        if first and first.strip() != "ok":
            terminal.unread(first)
        return
    terminal.write(LEGAL_WARNING + "\nEnter 'ok' to proceed:\n> ")
    if terminal.stdin.readline().strip() != "ok":
        raise click.ClickException("aborted by user")
    terminal.write("\n")


def ask_new_password(
    terminal: Terminal, first: str = "Password: ", second: str = "Repeat password: "
) -> Secret:
    try:
        password = terminal.read_password(first)
        repeat = terminal.read_password(second)
    except InputClosed as exc:
        raise Fatal("no password given: standard input is closed") from exc
    if password != repeat:
        raise Fatal("Passwords do not match")
    return Secret(password)


def ask_password(terminal: Terminal, prompt: str = "Password: ") -> Secret:
    try:
        return Secret(terminal.read_password(prompt))
    except InputClosed as exc:
        raise Fatal("no password given: standard input is closed") from exc
