"""Porting alias: ``RemoteProxyLibrary.InteractiveSession`` as in the older library."""

from .shells import (
    BashShell,
    InteractiveSession,
    NamespaceShell,
    PythonShell,
    Shell,
    SshShell,
    SudoShell,
    SuShell,
)

__all__ = [
    "BashShell",
    "InteractiveSession",
    "NamespaceShell",
    "PythonShell",
    "Shell",
    "SshShell",
    "SuShell",
    "SudoShell",
]
