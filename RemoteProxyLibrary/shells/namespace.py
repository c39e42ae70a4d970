"""A shell in a Linux network namespace: ``ip netns exec NAME`` + a shell."""

from __future__ import annotations

import shlex

from ..errors import ShellError, ShellPermissionDenied
from .base import Answer, Failure
from .bash import DEFAULT_SHELL, BashShell


class NamespaceShell(BashShell):
    """A shell in the network namespace ``namespace`` of the current host.

    Needs root there (push a :class:`SudoShell` first otherwise). The shell
    is ``shell`` as for :class:`BashShell` (bash where there is one, else
    ``sh``). Everything started from it (an ``ssh`` hop, the agent) lives in
    that namespace: its interfaces, addresses and routes.
    """

    shellname = "NamespaceShell"
    stays_on_host = False

    def __init__(self, namespace: str, timeout: float = 30, shell: str = DEFAULT_SHELL) -> None:
        super().__init__(timeout=timeout, shell=shell)
        self.namespace = namespace

    def describe(self) -> str:
        return f"NamespaceShell({self.namespace})"

    def command_line(self) -> str:
        return f"ip netns exec {shlex.quote(self.namespace)} {self.shell_with_prompt()}"

    def dialogue(self) -> list[Answer | Failure]:
        return [
            Failure(
                r"Cannot open network namespace[^\r\n]*No such file",
                ShellError,
                "no such network namespace",
            ),
            Failure(
                r"Operation not permitted|Permission denied|must be root",
                ShellPermissionDenied,
                "not allowed to enter the network namespace (needs root)",
            ),
            Failure(r"(ip|netns): (command )?not found", ShellError, "no 'ip' command here"),
        ]
