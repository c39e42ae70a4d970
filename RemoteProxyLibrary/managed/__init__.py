"""Terminals as the library holds them: stack, runner, proxy registry, policy."""

from .managedterminal import ManagedTerminal, TerminalInfo, TerminalSettings
from .many import call_on_terminals, start_terminals

__all__ = [
    "ManagedTerminal",
    "TerminalInfo",
    "TerminalSettings",
    "call_on_terminals",
    "start_terminals",
]
