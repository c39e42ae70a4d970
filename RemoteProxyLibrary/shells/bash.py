"""An interactive POSIX shell on the current host: bash where there is one, else ``sh``."""

from __future__ import annotations

import re
import shlex
from typing import Optional

from ..errors import ShellError
from .base import Answer, Failure, Shell, split_quoted

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
    """The command that starts ``shell``: :data:`AUTO`, ``bash`` (the older
    library's default, started as :data:`BASH`: its start-up files could set
    a prompt of their own) or a command line used as it is."""
    name = shell.strip()
    if name == AUTO:
        return _AUTO_COMMAND
    if name == "bash":
        return BASH
    return shell


class BashShell(Shell):
    """An interactive shell: spawned in a local pty, or pushed as a sub-shell.

    ``shell`` is :data:`AUTO` (default: bash if the host has it, else its
    ``sh``) or the command that starts an interactive POSIX shell (e.g.
    ``"dash -i"``, or :data:`BASH` to require bash). The shell gets our prompt
    through ``PS1``, and ``ENV`` is emptied so that an interactive ``sh``
    reads no start-up file (as ``--norc`` does for bash).

    The older library's arguments work by position and name: ``cmd`` is
    ``shell``; ``confirmation_msg`` is a prompt shown while the shell starts,
    answered with ``confirmation_rsp``; ``init_env`` a file sourced once the
    shell is up (or, written ``content: <commands>``, those commands run
    there) and ``workdir`` a directory changed to then (either failing fails
    the start). ``tty_echo`` and ``set_rand_promt`` are accepted and
    ignored: echo is always off and the prompt always ours, which is how
    output is told apart from what is typed.
    """

    shellname = "BashShell"

    def __init__(
        self,
        cmd: Optional[str] = None,
        confirmation_msg: Optional[str] = None,
        confirmation_rsp: str = "Y",
        tty_echo: bool = False,
        set_rand_promt: bool = True,
        init_env: Optional[str] = None,
        workdir: Optional[str] = None,
        *,
        timeout: float = 30,
        shell: Optional[str] = None,
    ) -> None:
        super().__init__(timeout=timeout)
        if cmd is not None and shell is not None and cmd != shell:
            raise TypeError(f"got both cmd={cmd!r} and shell={shell!r}: give one")
        if cmd is not None and not isinstance(cmd, str):
            raise TypeError(
                f"the first argument is the shell command (the older library's cmd), not "
                f"{cmd!r}: give timeout by name"
            )
        self.shell = cmd if cmd is not None else shell if shell is not None else DEFAULT_SHELL
        self.confirmation_msg = confirmation_msg
        self.confirmation_rsp = confirmation_rsp
        self.init_env = init_env
        self.workdir = workdir

    def describe(self) -> str:
        name = type(self).__name__
        return name if self.shell == DEFAULT_SHELL else f"{name}({self.shell})"

    def dialogue(self) -> list[Answer | Failure]:
        steps = super().dialogue()
        if self.confirmation_msg:
            response = self.confirmation_rsp
            steps.append(Answer(re.escape(self.confirmation_msg), lambda shell: response,
                                ShellError, "confirmation refused"))  # fmt: skip
        return steps

    def verify(self) -> None:
        super().verify()
        lines = []
        if self.init_env:
            content = self.init_env.partition("content:")
            inline = not content[0].strip() and content[1]
            lines.append(content[2].strip() if inline else ". " + shlex.quote(self.init_env))
        if self.workdir:
            lines.append("cd " + shlex.quote(self.workdir))
        for line in lines:
            output = self.exec_command(line)
            if self.get_status_code() != 0:
                raise ShellError(f"{line} failed: {output.strip()[-300:]!r}", self.hop())

    def command_line(self) -> str:
        return self.shell_with_prompt()

    def shell_with_prompt(self) -> str:
        """``env ENV= PS1=<prompt> <shell>``: the shell shows our prompt from the start."""
        return f"env ENV= {split_quoted('PS1=' + self.prompt, 6)} {shell_command(self.shell)}"
