"""Porting alias: ``RemoteProxyLibrary.autorecoveringterminal`` as in the older library."""

from .recovery.autorecoveringterminal import AutoRecoveringTerminal

__all__ = ["AutoRecoveringTerminal"]
