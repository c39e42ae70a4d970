"""The target's own interactive ``python3`` (or ``python2.7``)."""

from __future__ import annotations

import codeop
import warnings

from ..errors import ShellError
from .base import Shell


class PythonShell(Shell):
    """An interactive Python started with ``python`` (default ``python3``).

    It shows a unique ``sys.ps1`` and an empty ``sys.ps2``; starting it proves
    it evaluates an expression. The tty is left with ECHO off (set with
    ``termios`` before the first prompt) and otherwise cooked; if the target's
    Python has ``readline``, readline honours ECHO off and puts the tty in
    non-canonical mode only while it reads a line. No site hook runs (no tab
    completion, no history file), and ``PYTHON_BASIC_REPL=1`` keeps Python 3.13+
    on the basic REPL (no colours).
    """

    shellname = "PythonShell"
    exit_command = "raise SystemExit"
    echo_command = "print({})"
    init_command = None

    def __init__(self, timeout: float = 30, python: str = "python3") -> None:
        super().__init__(timeout=timeout)
        self.python = python

    @property
    def prompt(self) -> str:
        return f"RPL-{self.token}>>> "

    def describe(self) -> str:
        return f"PythonShell({self.python})"

    def command_line(self) -> str:
        head, tail = self.prompt[:3], self.prompt[3:]
        setup = (
            "import sys,termios as t;sys.__dict__.pop('__interactivehook__',None);"
            "a=t.tcgetattr(0);a[3]&=~t.ECHO;t.tcsetattr(0,t.TCSANOW,a);del a,t;"
            f"sys.ps1={head!r}+{tail!r};sys.ps2=''"
        )
        # No -q (Python 2.7 has none): with -c no banner is printed anyway.
        return f'env PYTHON_BASIC_REPL=1 {self.python} -i -c "{setup}"'

    def verify(self) -> None:
        output = self.exec_command("print(6*7)").strip()
        if output != "42":
            raise ShellError(f"python did not evaluate print(6*7): {output[-200:]!r}", self.hop())

    def _typed(self, cmd: str) -> str:
        # A compound statement on one line (``for i in x: print(i)``) needs the
        # empty line that ends it at the interactive prompt.
        return cmd + "\n" if _incomplete(cmd) else cmd

    def get_status_code(self, timeout: float = 5) -> int:
        raise ShellError("a Python shell has no exit status", self.hop())


def _incomplete(line: str) -> bool:
    """True if the interactive prompt would wait for more lines after ``line``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return codeop.compile_command(line, "<input>", "single") is None
    except (SyntaxError, ValueError, OverflowError):
        return False
