"""Porting alias: ``RemoteProxyLibrary.autorunnerterminal`` as in the older library."""

from .recovery.autorunnerterminal import AutoRunnerTerminal

__all__ = ["AutoRunnerTerminal"]
