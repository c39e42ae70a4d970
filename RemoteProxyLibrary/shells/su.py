"""``su`` to another user on the current host."""

from __future__ import annotations

import shlex
from typing import Optional

from ..errors import ShellAuthenticationFailed, ShellError
from .base import Answer, Failure, username_argument
from .bash import DEFAULT_SHELL, BashShell
from .secret import Secret, SecretLike, as_secret


class SuShell(BashShell):
    """A shell as ``username`` through ``su``; ``password`` is that user's
    password (root is not asked). ``login=True`` gives a login environment
    (``su -l``). ``user=`` is accepted for ``username`` (its older name).

    ``command_option`` passes our shell command to ``su``. util-linux ``su -c``
    runs the command in a new session without a controlling terminal (no job
    control, ``sudo`` cannot ask for a password, ^C reaches ``su`` and ends the
    whole hop), so the default is util-linux's ``--session-command``; use
    ``"-c"`` for a ``su`` without it (BusyBox, shadow).
    """

    shellname = "SuShell"

    def __init__(
        self,
        username: str = "root",
        password: Optional[SecretLike] = None,
        timeout: float = 30,
        shell: str = DEFAULT_SHELL,
        login: bool = False,
        command_option: str = "--session-command",
        *,
        user: Optional[str] = None,
    ) -> None:
        super().__init__(timeout=timeout, shell=shell)
        self.username = username_argument(username, user)
        self.password = as_secret(password)
        self.login = login
        self.command_option = command_option

    @property
    def user(self) -> str:
        """``username`` (the older name, kept working)."""
        return self.username

    def describe(self) -> str:
        return f"SuShell(to {self.username})"

    def password_of_user(self) -> Optional[Secret]:
        return self.password

    def secrets(self) -> tuple[Optional[Secret], ...]:
        return (self.password,)

    def command_line(self) -> str:
        login = "-l " if self.login else ""
        command = shlex.quote("exec " + self.shell_with_prompt())
        return f"su {login}-s /bin/sh {shlex.quote(self.username)} {self.command_option} {command}"

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
            Failure(r"must be run from a terminal", ShellError, "su needs a terminal"),
        ]
