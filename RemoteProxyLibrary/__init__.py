"""RemoteProxyLibrary: run Python on targets through interactive terminals and
hold remote objects as if they were local."""

from .errors import (
    DirectChannelUnavailable,
    HostKeyChanged,
    HostKeyRejected,
    InvalidProxySession,
    NoSuchProxy,
    NoSuchResponse,
    NoSuchTerminal,
    NoUsablePython,
    ParallelError,
    ProtocolViolation,
    RemoteError,
    RemoteProxyLibraryError,
    RemoteTimeout,
    RunnerException,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    RunnerTerminalUnableToDeserialize,
    SessionInitializationFailed,
    ShellAuthenticationFailed,
    ShellCommandTimeout,
    ShellConnectionFailed,
    ShellError,
    ShellPermissionDenied,
    ShellStackEmpty,
    ShellStartTimeout,
    TerminalClosed,
    TerminalError,
    TerminalInterrupted,
    TerminalTimeout,
    UnableToSerialize,
    UnknownShell,
)

# The class, bound after the porting module of the same name has been loaded,
# so ``import RemoteProxyLibrary.InteractiveSession`` cannot shadow it.
from .InteractiveSession import InteractiveSession
from .recovery import AutoRecoveringTerminal, AutoRunnerTerminal
from .runner import RunnerTerminal, RunResult
from .shells import (
    BashShell,
    KeyAuthenticatedSshShell,
    NamespaceShell,
    PythonShell,
    Secret,
    Shell,
    ShellStack,
    SshShell,
    SudoShell,
    SuShell,
)

__version__ = "0.1.0"

__all__ = [
    "AutoRecoveringTerminal",
    "AutoRunnerTerminal",
    "BashShell",
    "DirectChannelUnavailable",
    "HostKeyChanged",
    "HostKeyRejected",
    "InteractiveSession",
    "InvalidProxySession",
    "KeyAuthenticatedSshShell",
    "NamespaceShell",
    "NoSuchProxy",
    "NoSuchResponse",
    "NoSuchTerminal",
    "NoUsablePython",
    "ParallelError",
    "ProtocolViolation",
    "PythonShell",
    "RemoteError",
    "RemoteProxyLibraryError",
    "RemoteTimeout",
    "RunResult",
    "RunnerException",
    "RunnerTerminal",
    "RunnerTerminalSessionBroken",
    "RunnerTerminalSessionClosed",
    "RunnerTerminalUnableToDeserialize",
    "Secret",
    "SessionInitializationFailed",
    "Shell",
    "ShellAuthenticationFailed",
    "ShellCommandTimeout",
    "ShellConnectionFailed",
    "ShellError",
    "ShellPermissionDenied",
    "ShellStack",
    "ShellStackEmpty",
    "ShellStartTimeout",
    "SshShell",
    "SuShell",
    "SudoShell",
    "TerminalClosed",
    "TerminalError",
    "TerminalInterrupted",
    "TerminalTimeout",
    "UnableToSerialize",
    "UnknownShell",
]


def __getattr__(name: str) -> type:
    """``RemoteProxyLibrary.RemoteProxyLibrary``, the Robot Framework library
    class, imported on first use: importing this package does not import robot."""
    if name == "RemoteProxyLibrary":
        from .keywords import RemoteProxyLibrary

        return RemoteProxyLibrary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
