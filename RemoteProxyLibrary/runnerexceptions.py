"""Porting alias: ``RemoteProxyLibrary.runnerexceptions`` as in the older library."""

from .errors import (
    InvalidProxySession,
    RemoteError,
    RemoteTimeout,
    RunnerException,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    RunnerTerminalUnableToDeserialize,
    SessionInitializationFailed,
    UnableToSerialize,
)

__all__ = [
    "InvalidProxySession",
    "RemoteError",
    "RemoteTimeout",
    "RunnerException",
    "RunnerTerminalSessionBroken",
    "RunnerTerminalSessionClosed",
    "RunnerTerminalUnableToDeserialize",
    "SessionInitializationFailed",
    "UnableToSerialize",
]
