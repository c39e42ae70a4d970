"""Porting alias: ``RemoteProxyLibrary.runnerterminal`` as in the older library."""

from .runner.runnerterminal import RunnerTerminal, RunResult

__all__ = ["RunResult", "RunnerTerminal"]
