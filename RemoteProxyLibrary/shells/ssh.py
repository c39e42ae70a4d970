"""SSH hops: the first over paramiko with a pty, later ones by typing ``ssh``."""

from __future__ import annotations

import shlex
import socket
import time
from typing import Optional

import paramiko

from ..errors import (
    ShellAuthenticationFailed,
    ShellConnectionFailed,
    ShellError,
    ShellStartTimeout,
)
from ..terminal import SshTerminal, Terminal
from .base import Answer, Failure
from .bash import DEFAULT_SHELL, BashShell
from .secret import Secret, SecretLike, as_secret

_CONNECTION_FAILURES = [
    (r"Could not resolve hostname|Name or service not known|nodename nor servname", "unknown host"),
    (r"Connection refused", "connection refused"),
    (r"No route to host|Network is unreachable", "no route to host"),
    (r"Connection timed out|Operation timed out", "connection timed out"),
    (r"Host key verification failed", "host key verification failed"),
    (r"Connection closed by|Connection reset by", "connection closed by the host"),
]


class SshShell(BashShell):
    """A shell on ``host`` reached over SSH.

    As the first shell of a stack it connects from the controller with paramiko
    (``key_file`` is a path on the controller). Pushed onto another shell it types
    ``ssh`` there (``key_file`` is then a path on that host). ``password`` may be
    a plain string or a Secret; it is never logged.
    """

    shellname = "SshShell"
    exited_error = ShellConnectionFailed

    def __init__(
        self,
        host: str,
        username: Optional[str] = None,
        password: Optional[SecretLike] = None,
        port: int = 22,
        key_file: Optional[str] = None,
        timeout: float = 30,
        shell: str = DEFAULT_SHELL,
        ssh_options: tuple[str, ...] = (),
    ) -> None:
        super().__init__(timeout=timeout, shell=shell)
        self.host = host
        self.username = username
        self.password = as_secret(password)
        self.port = int(port)
        self.key_file = key_file
        self.ssh_options = tuple(ssh_options)

    def describe(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"SshShell({user}{self.host}:{self.port})"

    def secrets(self) -> tuple[Optional[Secret], ...]:
        return (self.password,)

    # ---- first hop: paramiko -----------------------------------------------------
    def spawn(self) -> Terminal:
        if not self.username:
            raise ShellError("a first SSH hop needs a username", self.hop())
        started = time.monotonic()
        try:
            terminal = SshTerminal(
                self.host,
                self.username,
                password=self.password.value if self.password else None,
                port=self.port,
                key_file=self.key_file,
                command=self.shell_with_prompt(),
                timeout=self.timeout,
            )
        except paramiko.AuthenticationException as error:
            raise ShellAuthenticationFailed(
                str(error) or "authentication failed", self.hop()
            ) from None
        except socket.gaierror as error:
            raise ShellConnectionFailed(f"unknown host: {error}", self.hop()) from None
        except (socket.timeout, TimeoutError) as error:
            raise ShellStartTimeout(f"connection timed out: {error}", self.hop()) from None
        except paramiko.ssh_exception.NoValidConnectionsError as error:
            raise ShellConnectionFailed(f"connection refused: {error}", self.hop()) from None
        except (paramiko.SSHException, OSError, EOFError) as error:
            why = f"{type(error).__name__}: {error}"
            if time.monotonic() - started >= 0.95 * self.timeout:
                # A silent server: paramiko's banner/negotiation/auth timeouts
                # surface as assorted SSHExceptions.
                raise ShellStartTimeout(
                    f"no answer from the server within {self.timeout:g} s ({why})", self.hop()
                ) from None
            raise ShellConnectionFailed(why, self.hop()) from None
        try:
            self._come_up(terminal, parent=None)
        except BaseException:
            self.terminal = None
            terminal.close()
            raise
        return terminal

    # ---- later hops: typed ssh ---------------------------------------------------
    def command_line(self) -> str:
        options = [
            "-t",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            f"ConnectTimeout={max(1, int(self.timeout))}",
            "-p",
            str(self.port),
        ]
        if self.key_file:
            options += ["-i", self.key_file]
        if self.password is None:
            options += ["-o", "BatchMode=yes"]
        else:
            options += ["-o", "NumberOfPasswordPrompts=2"]
        options += list(self.ssh_options)
        target = f"{self.username}@{self.host}" if self.username else self.host
        words = ["ssh", *options, target]
        return " ".join(shlex.quote(w) for w in words) + " " + shlex.quote(self.shell_with_prompt())

    def dialogue(self) -> list[Answer | Failure]:
        steps: list[Answer | Failure] = [
            Answer(
                r"continue connecting \(yes/no[^)]*\)\?",
                lambda shell: "yes",
                ShellConnectionFailed,
                "host key not accepted",
            ),
            Answer(r"[Pp]assword: *$", lambda shell: shell.secrets()[0]),
            Failure(r"Permission denied", ShellAuthenticationFailed, "permission denied"),
        ]
        steps += [Failure(p, ShellConnectionFailed, m) for p, m in _CONNECTION_FAILURES]
        return steps
