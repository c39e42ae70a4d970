"""State shared by the keyword components: the terminal registry and defaults.

Every helper here is private: Robot Framework (and RIDE) would list any public
method as a keyword.
"""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Optional, Union

from robot.api import logger
from robot.utils import ConnectionCache

from ..errors import NoSuchTerminal
from ..managed import ManagedTerminal, TerminalSettings
from ..recovery.parallel import MAX_PARALLEL
from ..remotetext import safe_block
from ..runner import RunnerTerminal
from ..runner.commands import RemoteCommand
from ..runner.runnerterminal import direct_mode
from ..shells import Shell

#: How keywords name a terminal: its index (1, 2, ...) or its alias.
TerminalId = Union[int, str, None]
#: The ``python`` argument: ``auto``, a command, or a list of commands.
PythonCommand = Union[list[str], str, None]

NO_TERMINAL = (
    "No open terminal: open one with 'Open Local Terminal', 'Open SSH Terminal' or "
    "'Open Terminal', or switch to an open one with 'Switch Terminal'."
)


def python_argument(value: Union[list[str], str]) -> Union[list[str], str]:
    """The ``python`` argument: a list given as text (``['python3.12', 'python3']``:
    Robot keeps a string given for ``list | str``) as that list."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError(f"python: {value!r} is not a list of commands") from None
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
    return value


class LibraryCore:
    """Terminal registry and settings; the keyword components build on it."""

    def __init__(self, settings: TerminalSettings) -> None:
        self._settings = settings
        self._terminals: ConnectionCache[ManagedTerminal] = ConnectionCache(NO_TERMINAL)
        #: Commands of `Start Command` per terminal, not yet waited for (last is latest).
        self._started_commands: dict[ManagedTerminal, list[RemoteCommand]] = {}
        #: Threads of the keywords working on many terminals, kept between them.
        self._pool: Optional[ThreadPoolExecutor] = None

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(MAX_PARALLEL, "rpl-keywords")
        return self._pool

    # ---- registry ----------------------------------------------------------------
    def _entry(self, terminal: TerminalId = None, usable: bool = True) -> ManagedTerminal:
        """The terminal named by index or alias (default: the current one);
        with ``usable``, fails if it is closed or was interrupted."""
        if terminal is None or terminal == "":
            if not self._terminals:
                raise NoSuchTerminal(NO_TERMINAL)
            entry = self._terminals.current
            assert isinstance(entry, ManagedTerminal)
        else:
            try:
                entry = self._terminals.get_connection(terminal)
            except RuntimeError:
                raise NoSuchTerminal(
                    f"No terminal with index or alias '{terminal}'. Terminals: "
                    f"{self._known_terminals()}."
                ) from None
        if usable:
            entry.check_usable()
        return entry

    def _proxy(self, proxy: Any, terminal: TerminalId) -> tuple[Any, Optional[ManagedTerminal]]:
        """The proxy (resolving a name) and its terminal's entry when named.

        A proxy object given without ``terminal`` needs no terminal: it works
        even if the current terminal is closed or another one is current.
        """
        if terminal is None and RunnerTerminal.isproxy(proxy):
            return proxy, None
        entry = self._entry(terminal)
        return entry.proxy(proxy), entry

    def _known_terminals(self) -> str:
        names = [
            f"{entry.index}" + (f" (alias '{entry.alias}')" if entry.alias else "")
            for entry in self._terminals
            if not entry.closed
        ]
        return ", ".join(names) or "none open"

    def _terminal_settings(
        self,
        timeout: Optional[float],
        prompt_timeout: Optional[float],
        python: PythonCommand,
        auto_recovery: Optional[bool],
        base: Optional[TerminalSettings] = None,
        direct: Optional[str] = None,
    ) -> TerminalSettings:
        """``base`` (default: the library's settings) with the values given."""
        changes: dict[str, Any] = {}
        if direct:
            changes["direct"] = direct_mode(direct)
        if timeout is not None:
            changes["timeout"] = float(timeout)
        if prompt_timeout is not None:
            changes["prompt_timeout"] = float(prompt_timeout)
        if python:
            changes["python"] = python_argument(python)
        if auto_recovery is not None:
            changes["auto_recovery"] = bool(auto_recovery)
        return replace(base or self._settings, **changes)

    def _open(self, shells: list[Shell], alias: Optional[str], settings: TerminalSettings) -> int:
        if alias:
            self._check_alias_free(alias)
        entry = ManagedTerminal(shells, settings, alias)
        entry.open()
        how = "opened" if not settings.auto_recovery else "ready (opened at first use)"
        return self._register(entry, how)

    def _register(self, entry: ManagedTerminal, how: str) -> int:
        """Register an opened terminal; it becomes the current one."""
        index = self._terminals.register(entry, entry.alias)
        entry.index = index
        logger.info(f"{entry.name.capitalize()} {how}: {entry.describe_shells()}")
        return index

    def _check_alias_free(self, alias: str) -> None:
        """An alias names one open terminal (a closed one's alias may be reused)."""
        try:
            holder = self._terminals.get_connection(alias)
        except RuntimeError:
            return
        if not holder.closed:
            raise ValueError(
                f"Alias '{alias}' is already used by {holder.name}, which is open: close it "
                "first or choose another alias."
            )

    def _close_entry(self, entry: ManagedTerminal) -> None:
        was_current = self._terminals.current is entry
        self._started_commands.pop(entry, None)
        for problem in entry.close():
            logger.warn(f"Closing {entry.name}: {safe_block(str(problem))}")
        if was_current:
            self._terminals.current_index = None

    def _close_all(self) -> None:
        for entry in list(self._terminals):
            self._close_entry(entry)
        self._terminals.empty_cache()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
