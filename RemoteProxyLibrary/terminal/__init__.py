"""Bytes in and out of a pty: a local pty (pexpect) or an SSH channel (paramiko).

Every terminal offers pexpect's expect machinery (``terminal.spawn``) for the
shell layer, and a raw byte path (``write`` / ``read``) for the agent protocol.
SSH connections (host keys, authentication, jump hosts, ``~/.ssh/config``) are
made by the small modules ``hostkeys``, ``sshauth``, ``sshconnect`` and
``sshconfig``.
"""

from .base import Terminal
from .local import LocalTerminal
from .ssh import SshTerminal
from .sshconnect import SshConnection, SshLogin

__all__ = ["LocalTerminal", "SshConnection", "SshLogin", "SshTerminal", "Terminal"]
