"""Auto-recovery: reopen a broken shell stack, restart the agent, re-run prepare."""

from .autorecoveringterminal import AutoRecoveringTerminal
from .autorunnerterminal import AutoRunnerTerminal

__all__ = ["AutoRecoveringTerminal", "AutoRunnerTerminal"]
