"""An interactive POSIX shell on the current host: bash where there is one, else ``sh``."""

from __future__ import annotations

import shlex

from .base import Shell, split_quoted

#: bash without start-up files, history or line editing.
BASH = "bash --norc --noprofile --noediting -i"
#: ``shell=AUTO``: :data:`BASH` where the host has bash, else the host's ``sh -i``
#: (dash, BusyBox ``ash``, ...): BusyBox boards and minimal images have no bash.
AUTO = "auto"
DEFAULT_SHELL = AUTO

#: What ``auto`` runs: decided on the host, by the shell that reads it.
_AUTO_COMMAND = "sh -c " + shlex.quote(
    f"command -v bash >/dev/null 2>&1 && exec {BASH}; exec sh -i"
)


def shell_command(shell: str) -> str:
    """The command that starts ``shell`` (:data:`AUTO` or a command line)."""
    return _AUTO_COMMAND if shell.strip() == AUTO else shell


class BashShell(Shell):
    """An interactive shell: spawned in a local pty, or pushed as a sub-shell.

    ``shell`` is :data:`AUTO` (default: bash if the host has it, else its
    ``sh``) or the command that starts an interactive POSIX shell (e.g.
    ``"dash -i"``, or :data:`BASH` to require bash). The shell gets our prompt
    through ``PS1``, and ``ENV`` is emptied so that an interactive ``sh``
    reads no start-up file (as ``--norc`` does for bash).
    """

    shellname = "BashShell"

    def __init__(self, timeout: float = 30, shell: str = DEFAULT_SHELL) -> None:
        super().__init__(timeout=timeout)
        self.shell = shell

    def command_line(self) -> str:
        return self.shell_with_prompt()

    def shell_with_prompt(self) -> str:
        """``env ENV= PS1=<prompt> <shell>``: the shell shows our prompt from the start."""
        return f"env ENV= {split_quoted('PS1=' + self.prompt, 6)} {shell_command(self.shell)}"
