"""Shell stacks: hops whose prompts and answers are data, one module per kind."""

from .base import Answer, Failure, Shell
from .bash import BashShell
from .namespace import NamespaceShell
from .python import PythonShell
from .secret import Secret
from .session import InteractiveSession
from .shellstack import ShellStack
from .ssh import KeyAuthenticatedSshShell, SshShell
from .su import SuShell
from .sudo import SudoShell

__all__ = [
    "Answer",
    "BashShell",
    "Failure",
    "InteractiveSession",
    "KeyAuthenticatedSshShell",
    "NamespaceShell",
    "PythonShell",
    "Secret",
    "Shell",
    "ShellStack",
    "SshShell",
    "SuShell",
    "SudoShell",
]
