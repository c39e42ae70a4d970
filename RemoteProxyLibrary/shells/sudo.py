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
    for one; not given, the password of the hop that made that user is used
    (the SSH login's, or the su hop's). ``user=`` is accepted for ``username``
    (its older name).

    The older library's ``SudoShell(cmd="sudo bash", password=None)`` works
    too, by position and by name: from ``cmd`` the user of ``-u USER`` (or
    ``--user=USER``) is taken; the rest is ignored, as we start our own shell
    with our own prompt."""

    shellname = "SudoShell"

    def __init__(
        self,
        username: str = "root",
        password: Optional[SecretLike] = None,
        timeout: float = 30,
        shell: str = DEFAULT_SHELL,
        *,
        user: Optional[str] = None,
        cmd: Optional[str] = None,
    ) -> None:
        super().__init__(timeout=timeout, shell=shell)
        if cmd is None and _is_command(username):
            cmd, username = username, "root"  # the older library's first argument
        if cmd is not None:
            username = _user_of_sudo_command(cmd)
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

    def password_of_user(self) -> Optional[Secret]:
        return None  # the user sudo made: its password is not known here

    def answer(self) -> Optional[Secret]:
        """What sudo's password prompt gets: ``password``, else the password of
        the user sudo runs from (the SSH login's, or the su hop's)."""
        if self.password is not None:
            return self.password
        return self.parent.password_of_user() if self.parent is not None else None

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
                lambda _shell: self.answer(),
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


def _is_command(text: str) -> bool:
    """True for a command line such as ``sudo bash``, false for a user name."""
    return " " in text.strip() or text.strip() == "sudo"


def _user_of_sudo_command(cmd: str) -> str:
    """The user ``cmd`` (``sudo -u app bash``) runs as; root when not given."""
    words = shlex.split(cmd)
    if not words or words[0] != "sudo":
        raise ValueError(f"cmd must be a sudo command line such as 'sudo bash', not {cmd!r}")
    for index, word in enumerate(words[1:], start=1):
        if word in ("-u", "--user") and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--user="):
            return word.split("=", 1)[1]
        if word.startswith("-u") and len(word) > 2:
            return word[2:]
    return "root"
