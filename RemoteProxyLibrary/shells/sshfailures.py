"""Why a paramiko login failed, as the shell error that says it and how to fix it."""

from __future__ import annotations

import shlex
import socket
import time
from typing import Optional

import paramiko

from ..errors import (
    HostKeyChanged,
    HostKeyRejected,
    ShellAuthenticationFailed,
    ShellConnectionFailed,
    ShellError,
    ShellStartTimeout,
)
from ..terminal import SshLogin
from ..terminal.hostkeys import SYSTEM_KNOWN_HOSTS, HostKeyMismatch, HostKeyUnknown
from ..terminal.sshconnect import JumpFailed


def changed_key_message(error: HostKeyMismatch) -> str:
    """Names the host, both keys, the file and the way out."""
    fix = f"ssh-keygen -R {shlex.quote(error.name)}"
    if error.known_hosts:
        fix += f" -f {shlex.quote(error.known_hosts)}"
    return (
        f"the host key of {error.name} has changed: the host shows "
        f"{error.key.get_name()} {error.key.fingerprint}, "
        f"{error.known_hosts or 'the known_hosts file'} has "
        f"{error.expected.get_name()} {error.expected.fingerprint}. The host was "
        "re-installed, or someone is intercepting the connection. If the change is "
        f"expected, remove the old key with: {fix} (or use host_key_policy=accept)"
    )


def unknown_key_message(error: HostKeyUnknown) -> str:
    files = ", ".join((error.known_hosts, *SYSTEM_KNOWN_HOSTS))
    return (
        f"the host key of {error.name} ({error.key.get_name()} {error.key.fingerprint}) "
        f"is in no known_hosts file ({files}) and host_key_policy is reject; "
        "use host_key_policy=accept-new to add it"
    )


def connect_error(
    error: BaseException,
    login: SshLogin,
    started: float,
    hop: str,
    jump: Optional[JumpFailed] = None,
) -> BaseException:
    """The :class:`ShellError` for ``error`` raised while logging in to
    ``login`` (through ``jump``'s host when that failed); ``error`` itself
    when it is no failure to log in (a bug, an interrupt)."""
    where = f"jump host {jump.login.describe()}: " if jump is not None else ""
    failed = jump.login if jump is not None else login
    # A silent server fails at the first deadline: the connection's, or a login step's.
    timeout = min(failed.connect_timeout or failed.timeout, failed.timeout)
    if isinstance(error, HostKeyMismatch):
        return HostKeyChanged(where + changed_key_message(error), hop)
    if isinstance(error, HostKeyUnknown):
        return HostKeyRejected(where + unknown_key_message(error), hop)
    if isinstance(error, paramiko.AuthenticationException):
        return ShellAuthenticationFailed(where + (str(error) or "authentication failed"), hop)
    if isinstance(error, paramiko.ChannelException) and jump is not None:
        return ShellConnectionFailed(
            f"{where}could not connect to {jump.target}: {error.text or error}", hop
        )
    if isinstance(error, socket.gaierror):
        return ShellConnectionFailed(f"{where}unknown host: {error}", hop)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return ShellStartTimeout(f"{where}connection timed out: {error}", hop)
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        # its text starts with "[Errno None]": say it in words
        places = ", ".join(f"{host} port {port}" for host, port, *_ in error.errors) or "it"
        return ShellConnectionFailed(f"{where}connection refused: nothing listens on {places}", hop)
    if isinstance(error, ValueError):  # an unreadable known_hosts file, a bad key line
        return ShellError(where + str(error), hop)
    if isinstance(error, (paramiko.SSHException, OSError, EOFError)):
        why = f"{type(error).__name__}: {error}"
        if time.monotonic() - started >= 0.95 * timeout:
            # A silent server: paramiko's banner/negotiation/auth timeouts
            # surface as assorted SSHExceptions.
            return ShellStartTimeout(
                f"{where}no answer from the server within {timeout:g} s ({why})", hop
            )
        return ShellConnectionFailed(where + why, hop)
    return error
