"""ManagedTerminal: one terminal as the library holds it.

A :class:`ManagedTerminal` owns a shell stack, its Python runner, a registry
of proxies by name and the modules to import again whenever Python starts
anew. Every terminal goes the same way, through an
:class:`~RemoteProxyLibrary.AutoRunnerTerminal` over an
:class:`~RemoteProxyLibrary.AutoRecoveringTerminal`; only the recovery policy
differs:

- without auto recovery: the stack is opened at once (so wrong credentials
  fail where the terminal is opened), in one try, and never reopened; once
  broken it stays broken and says so;
- with auto recovery: the stack is opened at the first use, and reopened
  (every hop redone, Python restarted, modules imported again) whenever it
  breaks; a call that broke is tried again, ``max_tries`` times in all.

In both, Python is started in the top shell at the first use. Pushing or
popping a shell stops Python (the agent holds the terminal) and empties the
proxy registry: proxies of the stopped Python are no longer valid.

A Robot timeout (or Ctrl-C) stops a keyword by raising an exception that is
not an ``Exception``. While a remote call waits that is harmless: the agent
runs every request in its own thread, so the next request is served. While
shells or Python start or stop, the terminal is left in an unknown state: an
auto-recovering terminal is reopened by its next use, any other one refuses
further use with :class:`TerminalInterrupted`.

Engine code: nothing here imports Robot Framework.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from ..errors import (
    InvalidProxySession,
    NoSuchProxy,
    NoSuchTerminal,
    ShellStackEmpty,
    TerminalInterrupted,
)
from ..recovery import AutoRunnerTerminal
from ..recovery.autorunnerterminal import library_stack
from ..runner import RunnerTerminal
from ..runner.pythons import AUTO, PythonSpec, normalize
from ..shells import Shell

LOGGER = logging.getLogger("RemoteProxyLibrary.managed")


@dataclass(frozen=True)
class TerminalSettings:
    """How a terminal is run; the library's defaults, overridable per terminal."""

    timeout: float = 3600.0
    prompt_timeout: float = 30.0
    #: ``"auto"``, a command, or commands tried in order (a list is kept as a tuple).
    python: PythonSpec = AUTO
    auto_recovery: bool = False
    max_tries: int = 3
    sleep_between_tries: float = 1.0
    #: The direct channel: ``auto``, ``on``, ``off``; None: ``RPL_DIRECT``, else auto.
    direct: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "python", normalize(self.python))


@dataclass(frozen=True)
class TerminalInfo:
    """What `Get Terminal` returns: ``index``, ``alias``, ``shells`` (the hops,
    bottom first), ``auto_recovery``, ``python_running``, ``proxies`` (the
    registered names), ``round_trips`` (requests sent to Python so far),
    ``closed`` and ``python`` (the command that started Python last, ``''``
    before it first ran: with ``python=auto`` the one chosen)."""

    index: int
    alias: Optional[str]
    shells: tuple[str, ...]
    auto_recovery: bool
    python_running: bool
    proxies: tuple[str, ...]
    round_trips: int
    closed: bool
    python: str = ""


class ManagedTerminal:
    """A terminal held by the library (see module doc)."""

    def __init__(
        self, shells: Sequence[Shell], settings: TerminalSettings, alias: Optional[str] = None
    ) -> None:
        if not shells:
            raise ValueError("a terminal needs at least one shell")
        self.settings = settings
        self.alias = alias or None
        self._index = 0
        self._proxies: dict[str, Any] = {}
        #: names of proxies dropped because their Python ended (for the message)
        self._ended: set[str] = set()
        self._imports: list[str] = []
        self._closed = False
        self._interrupted: Optional[str] = None
        self._stack = library_stack(
            shells, settings.auto_recovery, settings.max_tries, settings.sleep_between_tries
        )
        self._runner = AutoRunnerTerminal(
            settings.timeout, settings.prompt_timeout, settings.python, direct=settings.direct
        )
        self._runner.initialize(self._stack, prepare=self._import_again)

    # ---- naming ----------------------------------------------------------------------
    @property
    def index(self) -> int:
        """The index the library's registry gave this terminal (0: none yet)."""
        return self._index

    @index.setter
    def index(self, index: int) -> None:
        self._index = index
        self._runner.name = self.name  # log lines of its Python name the terminal

    @property
    def name(self) -> str:
        alias = f" (alias '{self.alias}')" if self.alias else ""
        return f"terminal {self.index or '?'}{alias}"

    def describe_shells(self) -> str:
        return " > ".join(shell.describe() for shell in self.shells)

    @property
    def shells(self) -> list[Shell]:
        """The stack, bottom first."""
        return self._stack.shells

    @property
    def auto_recovery(self) -> bool:
        return self.settings.auto_recovery

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def python_running(self) -> bool:
        return self._runner.running

    def info(self) -> TerminalInfo:
        return TerminalInfo(
            index=self.index,
            alias=self.alias,
            shells=tuple(shell.describe() for shell in self.shells),
            auto_recovery=self.auto_recovery,
            python_running=self.python_running,
            proxies=tuple(self.proxies),
            round_trips=self._runner.round_trips,
            closed=self._closed,
            python=self._runner.python_started,
        )

    # ---- life cycle ------------------------------------------------------------------
    def open(self) -> None:
        """Open the stack now (without auto recovery); with it, at first use."""
        if not self.auto_recovery:
            self._stack.open_stack()

    def start(self) -> None:
        """Open the stack and start Python now, whatever the recovery policy."""
        self.open()
        self.runner()

    def close(self) -> list[str]:
        """Stop Python and close the stack; returns the problems met (no raise)."""
        if self._closed:
            return []
        self._closed = True
        self._proxies.clear()
        try:
            # interrupted in an unknown state: no polite exits
            self._runner.close(force=self._interrupted is not None)
        except Exception as error:  # closing goes on whatever happens
            return [f"{type(error).__name__}: {error}"]
        return []

    @contextmanager
    def _changing(self, doing: str) -> Iterator[None]:
        """Marks the terminal interrupted if a Robot timeout stops ``doing``."""
        try:
            yield
        except Exception:
            raise
        except BaseException:
            self._interrupted = doing
            raise

    def check_usable(self) -> None:
        """Raise unless the terminal can be used; an auto-recovering one
        interrupted earlier is closed here (and reopened at its next use)."""
        if self._closed:
            raise NoSuchTerminal(f"{self.name.capitalize()} is closed.")
        doing = self._interrupted
        if doing is None:
            return
        if not self.auto_recovery:
            raise TerminalInterrupted(
                f"{self.name.capitalize()} was interrupted while {doing} (a Robot timeout?) "
                "and its state is unknown: close it and open a new one, or open it "
                "with auto_recovery=True."
            )
        LOGGER.info("%s was interrupted while %s: it is reopened", self.name, doing)
        self._interrupted = None
        self._forget_proxies()
        self._runner.close(force=True)

    # ---- python ----------------------------------------------------------------------
    def runner(self) -> AutoRunnerTerminal:
        """The runner, with Python started (and the stack opened, with auto
        recovery) if it is not running."""
        self.check_usable()
        runner = self._runner
        if not runner.running:
            doing = "starting Python" if self._stack.is_open else "opening and starting Python"
            with self._changing(doing):
                runner.initialize_if_needed()
        return runner

    def _import_again(self) -> None:
        """``prepare`` of the runner: runs each time Python starts."""
        if self._imports:
            self._runner.import_libraries(*self._imports)

    def import_modules(self, *modules: str) -> None:
        """Import ``modules`` now and whenever Python starts anew."""
        self.runner().import_libraries(*modules)
        self._imports += [module for module in modules if module not in self._imports]

    # ---- shells ----------------------------------------------------------------------
    def push(self, shell: Shell) -> None:
        """Start ``shell`` on top of the stack (Python is stopped first). A
        stack not open yet (auto recovery) only records it."""
        self.check_usable()
        with self._changing(f"pushing {shell.describe()}"):
            self._stop_python()
            self._stack.push(shell)

    def pop(self) -> Shell:
        """Leave the top shell (Python is stopped first); the first one stays."""
        self.check_usable()
        shells = self.shells
        if len(shells) < 2:
            raise ShellStackEmpty(
                f"{self.name.capitalize()} has only its first shell ({shells[0].describe()}) "
                "left: use Close Terminal to close it."
            )
        with self._changing(f"popping {shells[-1].describe()}"):
            self._stop_python()
            return self._stack.pop()

    def _forget_proxies(self) -> None:
        """Python ends: its proxies are no longer valid."""
        self._ended.update(self._proxies)
        self._proxies.clear()

    def _stop_python(self) -> None:
        self._forget_proxies()
        try:
            self._runner.stop_agent()
        except Exception as error:  # the shell change goes on
            LOGGER.warning("%s: stopping Python: %s: %s", self.name, type(error).__name__, error)

    # ---- proxy registry --------------------------------------------------------------
    @property
    def proxies(self) -> dict[str, Any]:
        """The registered proxies by name that can still be used (proxies of a
        Python that ended, by a recovery for instance, are dropped)."""
        for name in [n for n, p in self._proxies.items() if not self._current(p)]:
            del self._proxies[name]
            self._ended.add(name)
        return dict(self._proxies)

    def _current(self, proxy: Any) -> bool:
        try:
            self._runner.check_proxy(proxy, current=True)
        except InvalidProxySession:
            return False
        return True

    def register(self, name: str, proxy: Any) -> None:
        """Register ``proxy`` (of this terminal) under ``name``, replacing any
        proxy registered under it."""
        if not name:
            raise ValueError("a proxy name cannot be empty")
        self._runner.check_proxy(proxy)  # one of this terminal's proxies
        self._proxies[name] = proxy
        self._ended.discard(name)

    def proxy(self, value: Any) -> Any:
        """``value`` itself if it is a proxy (of this terminal), else the proxy
        registered as ``value``."""
        if RunnerTerminal.isproxy(value):
            self._runner.check_proxy(value)
            return value
        self.check_usable()
        proxy = self._proxies.get(value)
        if proxy is not None and not self._current(proxy):
            del self._proxies[value]
            proxy = None
            self._ended.add(value)
        if proxy is None and value in self._ended:
            raise InvalidProxySession(
                f"Proxy '{value}' of {self.name} was made by a Python that has ended "
                "(the terminal recovered, or a shell was pushed or popped): get it again."
            )
        if proxy is None:
            known = ", ".join(f"'{n}'" for n in self.proxies) or "none"
            raise NoSuchProxy(f"No proxy named '{value}' in {self.name}. Registered: {known}.")
        return proxy

    def unregister(self, proxy: Any) -> list[str]:
        """Forget every name of ``proxy``; returns them."""
        names = [name for name, known in self._proxies.items() if known is proxy]
        for name in names:
            del self._proxies[name]
        return names

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.describe_shells()
        return f"<ManagedTerminal {self.name}: {state}>"
