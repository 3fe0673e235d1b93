"""Reading answers from a person: the terminal when there is one, plain stdin lines otherwise.

Scripts drive prompts by piping lines (``printf 'pw\\npw\\n' | sealward newaccount``); passwords are
read without echo on a terminal and are never written anywhere.
"""

from __future__ import annotations

import getpass
import sys
import threading
from typing import TextIO

from signer.escaping import for_terminal_lines


class InputClosed(Exception):
    """Standard input ended: nobody is there to answer."""


class Terminal:
    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.lock = threading.RLock()  # one question at a time, whoever asks
        self._pushed: list[str] = []

    def unread(self, line: str) -> None:
        """Give a line back, so the next read returns it (used by the boot warning, see cli.common)."""
        self._pushed.append(line)

    def is_interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (ValueError, AttributeError):
            return False

    def write(self, text: str) -> None:
        # The last line of defence: callers escape each request-derived value (for_terminal);
        # whatever control is still left is shown, never obeyed.
        self.stdout.write(for_terminal_lines(text))
        self.stdout.flush()

    def _line(self) -> str:
        line = self._pushed.pop() if self._pushed else self.stdin.readline()
        if line == "":
            raise InputClosed("standard input is closed")
        return line.rstrip("\r\n")

    def read_line(self, prompt: str = "> ") -> str:
        """A non-empty, stripped line; empty lines are asked again (clef's readString)."""
        while True:
            self.write(prompt)
            text = self._line().strip()
            if text:
                return text

    def read_any_line(self, prompt: str) -> str:
        """One stripped line, empty allowed (an empty line ends a list of entries)."""
        self.write(prompt)
        return self._line().strip()

    def read_password(self, prompt: str = "> ") -> str:
        if self.is_interactive():
            try:
                return getpass.getpass(prompt, stream=self.stdout)
            except EOFError as exc:
                raise InputClosed("standard input is closed") from exc
        self.write(prompt)
        text = self._line()
        self.write("\n")
        return text


_default: Terminal | None = None


def default_terminal() -> Terminal:
    """The process's one terminal, shared so prompts never interleave and pushed-back lines survive."""
    global _default
    if _default is None:
        _default = Terminal()
    return _default
