"""A bash (or any POSIX sh, through ``shell=``) on the current host."""

from __future__ import annotations

from .base import Shell, split_quoted

DEFAULT_SHELL = "bash --norc --noprofile --noediting -i"


class BashShell(Shell):
    """An interactive bash: spawned in a local pty, or pushed as a sub-shell.

    ``shell`` is the command that starts an interactive POSIX shell
    (e.g. ``"sh -i"`` on a BusyBox target); it gets our prompt through ``PS1``.
    """

    shellname = "BashShell"

    def __init__(self, timeout: float = 30, shell: str = DEFAULT_SHELL) -> None:
        super().__init__(timeout=timeout)
        self.shell = shell

    def command_line(self) -> str:
        return self.shell_with_prompt()

    def shell_with_prompt(self) -> str:
        """``env PS1=<prompt> <shell>``: the shell shows our prompt from the start."""
        return f"env {split_quoted('PS1=' + self.prompt, 6)} {self.shell}"
