"""``su`` to another user on the current host."""

from __future__ import annotations

import shlex
from typing import Optional

from ..errors import ShellAuthenticationFailed, ShellError
from .base import Answer, Failure
from .bash import DEFAULT_SHELL, BashShell
from .secret import Secret, SecretLike, as_secret


class SuShell(BashShell):
    """A shell as ``user`` through ``su``; ``password`` is ``user``'s password
    (root is not asked). ``login=True`` gives a login environment (``su -l``)."""

    shellname = "SuShell"

    def __init__(
        self,
        user: str = "root",
        password: Optional[SecretLike] = None,
        timeout: float = 30,
        shell: str = DEFAULT_SHELL,
        login: bool = False,
    ) -> None:
        super().__init__(timeout=timeout, shell=shell)
        self.user = user
        self.password = as_secret(password)
        self.login = login

    def describe(self) -> str:
        return f"SuShell(to {self.user})"

    def secrets(self) -> tuple[Optional[Secret], ...]:
        return (self.password,)

    def command_line(self) -> str:
        login = "-l " if self.login else ""
        return f"su {login}-s /bin/sh {shlex.quote(self.user)} -c " + shlex.quote(
            "exec " + self.shell_with_prompt()
        )

    def dialogue(self) -> list[Answer | Failure]:
        return [
            Answer(r"[Pp]assword: *$", lambda shell: shell.secrets()[0]),
            Failure(
                r"Authentication failure|incorrect password|Sorry",
                ShellAuthenticationFailed,
                "su password refused",
            ),
            Failure(
                r"does not exist|No passwd entry|[Uu]nknown (id|user)", ShellError, "no such user"
            ),
        ]
