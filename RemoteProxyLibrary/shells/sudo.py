"""``sudo`` to another user (root by default) on the current host."""

from __future__ import annotations

import shlex
from typing import Optional

from ..errors import ShellAuthenticationFailed, ShellPermissionDenied
from .base import Answer, Failure, split_quoted, username_argument
from .bash import DEFAULT_SHELL, BashShell
from .secret import Secret, SecretLike, as_secret


class SudoShell(BashShell):
    """A shell as ``username`` (root by default) through ``sudo``; ``password``
    is the invoking user's own password, needed only when the sudo rule asks
    for one. ``user=`` is accepted for ``username`` (its older name)."""

    shellname = "SudoShell"

    def __init__(
        self,
        username: str = "root",
        password: Optional[SecretLike] = None,
        timeout: float = 30,
        shell: str = DEFAULT_SHELL,
        *,
        user: Optional[str] = None,
    ) -> None:
        super().__init__(timeout=timeout, shell=shell)
        self.username = username_argument(username, user)
        self.password = as_secret(password)

    @property
    def password_prompt(self) -> str:
        return f"RPL-sudo-{self.token} password:"

    @property
    def user(self) -> str:
        """``username`` (the older name, kept working)."""
        return self.username

    def describe(self) -> str:
        return f"SudoShell(to {self.username})"

    def secrets(self) -> tuple[Optional[Secret], ...]:
        return (self.password,)

    def command_line(self) -> str:
        return (
            f"sudo -k -p {split_quoted(self.password_prompt)} -u {shlex.quote(self.username)} "
            + self.shell_with_prompt()
        )

    def dialogue(self) -> list[Answer | Failure]:
        return [
            Answer(
                f"{self.password_prompt}",
                lambda shell: shell.secrets()[0],
                ShellAuthenticationFailed,
                "sudo password refused",
            ),
            Failure(
                r"incorrect password attempt", ShellAuthenticationFailed, "sudo password refused"
            ),
            Failure(
                r"is not in the sudoers file|is not allowed to (execute|run)|may not run sudo"
                r"|not allowed to run sudo|a password is required",
                ShellPermissionDenied,
                "no sudo rights",
            ),
            Failure(r"unknown user", ShellPermissionDenied, "unknown user"),
        ]
