"""The target's own interactive ``python3``."""

from __future__ import annotations

from ..errors import ShellError
from .base import Shell, clean_output


class PythonShell(Shell):
    """An interactive Python started with ``python`` (default ``python3``).

    It runs without readline (no echo, no line editing, no colours) and shows
    a unique ``sys.ps1``; starting it proves it evaluates an expression.
    """

    shellname = "PythonShell"
    exit_command = "raise SystemExit"
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
        return f'env PYTHON_BASIC_REPL=1 {self.python} -q -i -c "{setup}"'

    def verify(self) -> None:
        output = self.exec_command("print(6*7)").strip()
        if output != "42":
            raise ShellError(f"python did not evaluate print(6*7): {output!r}", self.describe())

    def exec_command(self, cmd: str, timeout: float = -1) -> str:
        """Run one line of Python at the prompt; returns what it printed."""
        return clean_output(super().exec_command(cmd, timeout))

    def get_status_code(self, timeout: float = 5) -> int:
        raise ShellError("a Python shell has no exit status", self.describe())
