"""Bytes in and out of a pty: a local pty (pexpect) or an SSH channel (paramiko).

Every terminal offers pexpect's expect machinery (``terminal.spawn``) for the
shell layer, and a raw byte path (``write`` / ``read``) for the agent protocol.
"""

from .base import Terminal
from .local import LocalTerminal
from .ssh import SshTerminal

__all__ = ["LocalTerminal", "SshTerminal", "Terminal"]
