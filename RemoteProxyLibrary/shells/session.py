"""InteractiveSession: one terminal holding a stack of shells."""

from __future__ import annotations

import logging
from typing import Optional

import pexpect

from ..errors import ShellError, ShellStackEmpty, TerminalError
from ..terminal import Terminal
from ..terminal.dump import DumpTarget, TerminalDump
from .base import Shell

LOGGER = logging.getLogger("RemoteProxyLibrary.shells")
#: Upper bound (seconds) of each step of closing a terminal.
CLOSE_TIMEOUT = 5.0


class InteractiveSession:
    """A terminal and the stack of shells opened in it, bottom first.

    ``spawn(shell)`` opens the terminal with its first shell; ``push(shell)``
    starts another inside the current one; ``pop()`` leaves the current one.

    ``dump_received`` and ``dump_outgoing`` (the older library's arguments)
    copy everything the terminal receives and sends to a file (a path,
    appended to) or a stream, for debugging; passwords of the hops are written
    as ``******`` (see :mod:`RemoteProxyLibrary.terminal.dump`).
    """

    def __init__(
        self,
        dump_received: Optional[DumpTarget] = None,
        dump_outgoing: Optional[DumpTarget] = None,
    ) -> None:
        self.terminal: Optional[Terminal] = None
        self.shells: list[Shell] = []
        self._starting: Optional[Shell] = None
        self.dump_received = dump_received
        self.dump_outgoing = dump_outgoing
        self._dump = TerminalDump(dump_received, dump_outgoing, self._secret_values)

    def _secret_values(self) -> list[str]:
        shells = [*self.shells, self._starting] if self._starting is not None else self.shells
        return [secret.value for shell in shells for secret in shell.secrets() if secret]

    def spawn(self, shell: Shell) -> Shell:
        """Close any open terminal, then open a new one running ``shell``."""
        self.close_terminal()
        self._starting = shell
        shell.dump = self._dump if self._dump else None
        try:
            self.terminal = shell.spawn()
        finally:
            self._starting = None
        self.shells = [shell]
        return shell

    def push(self, shell: Shell) -> Shell:
        """Start ``shell`` inside the current shell (spawn it if there is none)."""
        if not self.shells:
            return self.spawn(shell)
        assert self.terminal is not None
        self._starting = shell
        try:
            shell.start(self.terminal, self.current_shell())
        finally:
            self._starting = None
        self.shells.append(shell)
        return shell

    def pop(self) -> Shell:
        """Leave the current shell and wait for its parent's prompt.

        Popping the first shell closes the terminal.
        """
        shell = self.current_shell()
        if len(self.shells) == 1:
            self.close_terminal()
            return shell
        parent = self.shells[-2]
        shell.exit()
        parent._expect_prompt(parent.timeout, f"leaving {shell.describe()}")
        self.shells.pop()
        shell.terminal = None
        shell.parent = None
        return shell

    def pop_until(self, shell: Shell) -> None:
        """Pop shells until ``shell`` is the current one."""
        if not any(s is shell for s in self.shells):
            raise ShellStackEmpty(f"{shell.describe()} is not in this session")
        while self.current_shell() is not shell:
            self.pop()

    def current_shell(self) -> Shell:
        """The shell on top of the stack."""
        if not self.shells:
            raise ShellStackEmpty("the session holds no shell (not spawned or closed)")
        return self.shells[-1]

    def get_nbr_of_shells(self) -> int:
        """How many shells the stack holds (the older library's name)."""
        return len(self.shells)

    def isalive(self) -> bool:
        """True while the terminal is open and bytes can flow."""
        return self.terminal is not None and self.terminal.is_alive()

    def get_parent_shell(self) -> Optional[Shell]:
        """The shell below the current one, if any."""
        return self.shells[-2] if len(self.shells) > 1 else None

    def close_terminal(self, force: bool = False) -> None:
        """Leave every shell (best effort, briefly) and close the terminal.

        ``force`` skips leaving the shells (for a stack known to be broken or
        hung): the terminal is closed at once and the far end hangs up.
        """
        terminal, self.terminal = self.terminal, None
        shells, self.shells = self.shells, []
        if terminal is None:
            return
        try:
            if force:
                return
            for shell, parent in zip(reversed(shells[1:]), reversed(shells[:-1])):
                if not terminal.is_alive():
                    break
                shell.exit()
                parent._expect_prompt(min(parent.timeout, CLOSE_TIMEOUT), f"leaving {shell}")
            if shells and terminal.is_alive():
                shells[0].exit()
                # Let the first shell end by itself (clean logout, no SIGHUP).
                terminal.spawn.expect(pexpect.EOF, timeout=min(shells[0].timeout, CLOSE_TIMEOUT))
        except (TerminalError, ShellError, pexpect.ExceptionPexpect, OSError) as error:
            LOGGER.debug("closing %s: %s", terminal, error)  # closing must not fail
        finally:
            for shell in shells:
                shell.terminal = None
                shell.parent = None
            terminal.close()
            self._dump.close()

    def __repr__(self) -> str:
        stack = " > ".join(s.describe() for s in self.shells) or "closed"
        return f"<InteractiveSession {stack}>"
