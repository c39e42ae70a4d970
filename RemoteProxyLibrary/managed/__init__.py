"""Terminals as the library holds them: stack, runner, proxy registry, policy."""

from .managedterminal import ManagedTerminal, TerminalInfo, TerminalSettings

__all__ = ["ManagedTerminal", "TerminalInfo", "TerminalSettings"]
