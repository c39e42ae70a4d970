"""One terminal of the library: its shells, its Python runner, its proxies.

A :class:`TerminalEntry` is what the library's ``ConnectionCache`` holds.

- Without auto recovery it owns an open :class:`InteractiveSession` and, from
  the first Python keyword on, a :class:`RunnerTerminal` started in the
  session's current shell.
- With auto recovery it owns an :class:`AutoRunnerTerminal` over an
  :class:`AutoRecoveringTerminal` that records the stack: nothing is opened
  until the first Python keyword, and the stack is reopened when it breaks.

Pushing or popping a shell stops the runner (the agent holds the terminal) and
empties the proxy registry: proxies of the stopped runner are no longer valid.
Modules imported through the entry are imported again whenever Python starts
anew (after a recovery, a push or a pop).

A Robot timeout (or Ctrl-C) stops a keyword by raising an exception that is not
an ``Exception``. While a remote call waits that is harmless: the agent runs
every request in its own thread, so the next request is served. While shells or
Python start or stop, the terminal is left in an unknown state: an
auto-recovering terminal is reopened by the next keyword, any other one refuses
further use with :class:`TerminalInterrupted`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from ..errors import (
    RemoteProxyLibraryError,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    ShellConnectionFailed,
    ShellStackEmpty,
    ShellStartTimeout,
    TerminalError,
)
from ..recovery.autorecoveringterminal import AutoRecoveringTerminal
from ..recovery.autorunnerterminal import BROKEN_EXCEPTIONS, AutoRunnerTerminal
from ..runner.proxies import _RemoteProxy
from ..runner.runnerterminal import RunnerTerminal
from ..shells import InteractiveSession, Shell

LOGGER = logging.getLogger("RemoteProxyLibrary.keywords")

#: Failures worth another try while opening: not refused credentials or rights.
TRANSIENT_OPEN_FAILURES: tuple[type[BaseException], ...] = (
    RunnerTerminalSessionBroken,
    TerminalError,
    ShellConnectionFailed,
    ShellStartTimeout,
    OSError,
    EOFError,
)


class NoSuchTerminal(RemoteProxyLibraryError, LookupError):
    """No open terminal has the given index or alias (or it was closed)."""

    ROBOT_SUPPRESS_NAME = True


class NoSuchProxy(RemoteProxyLibraryError, LookupError):
    """No proxy is registered under the given name in the terminal."""

    ROBOT_SUPPRESS_NAME = True


class TerminalInterrupted(RemoteProxyLibraryError):
    """A keyword was stopped (Robot timeout) while the terminal changed state."""

    ROBOT_SUPPRESS_NAME = True


@dataclass(frozen=True)
class TerminalSettings:
    """How a terminal is run; the library's defaults, overridable per terminal."""

    timeout: float = 3600.0
    prompt_timeout: float = 30.0
    python: str = "python3"
    auto_recovery: bool = False
    max_tries: int = 3
    sleep_between_tries: float = 1.0


@dataclass(frozen=True)
class TerminalInfo:
    """What `Get Terminal` returns: ``index``, ``alias``, ``shells`` (the hops,
    bottom first), ``auto_recovery``, ``python_running``, ``proxies`` (the
    registered names), ``round_trips`` (requests sent to Python so far) and
    ``closed``."""

    index: int
    alias: Optional[str]
    shells: tuple[str, ...]
    auto_recovery: bool
    python_running: bool
    proxies: tuple[str, ...]
    round_trips: int
    closed: bool


class TerminalEntry:
    """A terminal held by the library (see module doc)."""

    def __init__(
        self, shells: Sequence[Shell], settings: TerminalSettings, alias: Optional[str] = None
    ) -> None:
        if not shells:
            raise ValueError("a terminal needs at least one shell")
        self.settings = settings
        self.alias = alias or None
        self.index = 0
        self.proxies: dict[str, Any] = {}
        self._imports: list[str] = []
        self._topology: list[Shell] = list(shells)
        self._session: Optional[InteractiveSession] = None
        self._runner: Optional[RunnerTerminal] = None
        self._closed = False
        self._interrupted: Optional[str] = None

    # ---- naming ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        alias = f" (alias '{self.alias}')" if self.alias else ""
        return f"terminal {self.index or '?'}{alias}"

    def describe_shells(self) -> str:
        return " > ".join(shell.describe() for shell in self.shells)

    @property
    def shells(self) -> list[Shell]:
        """The stack, bottom first."""
        if self._session is not None:
            return list(self._session.shells)
        return list(self._topology)

    @property
    def auto_recovery(self) -> bool:
        return self.settings.auto_recovery

    @property
    def closed(self) -> bool:
        return self._closed

    def info(self) -> TerminalInfo:
        return TerminalInfo(
            index=self.index,
            alias=self.alias,
            shells=tuple(shell.describe() for shell in self.shells),
            auto_recovery=self.auto_recovery,
            python_running=self.python_running,
            proxies=tuple(self.proxies),
            round_trips=self._runner.round_trips if self._runner is not None else 0,
            closed=self._closed,
        )

    @property
    def python_running(self) -> bool:
        runner = self._runner
        if runner is None:
            return False
        try:
            return runner.connection.broken is None
        except RunnerTerminalSessionClosed:
            return False

    # ---- life cycle ------------------------------------------------------------------
    def open(self) -> None:
        """Open the stack (without auto recovery); with it, only prepare the runner."""
        if self.auto_recovery:
            self._runner = self._new_auto_runner()
            return
        session = InteractiveSession()
        try:
            session.spawn(self._topology[0])
            for shell in self._topology[1:]:
                session.push(shell)
        except BaseException as error:
            # After a Robot timeout the state is unknown: no polite exits.
            session.close_terminal(force=not isinstance(error, Exception))
            raise
        self._session = session

    def _new_auto_runner(self) -> AutoRunnerTerminal:
        settings = self.settings
        recovering = AutoRecoveringTerminal()
        recovering.initialize(
            list(self._topology),
            broken_exceptions=BROKEN_EXCEPTIONS,
            init_broken_exceptions=TRANSIENT_OPEN_FAILURES,
            sleep_between_tries=settings.sleep_between_tries,
            max_tries=settings.max_tries,
        )
        runner = AutoRunnerTerminal(settings.timeout, settings.prompt_timeout, settings.python)

        def prepare() -> None:  # runs each time the stack is (re)opened
            if self._imports:
                runner.import_libraries(*self._imports)

        runner.initialize(recovering, prepare=prepare)
        return runner

    def close(self) -> list[str]:
        """Stop Python and close the stack; returns the problems met (no raise)."""
        if self._closed:
            return []
        self._closed = True
        problems = self._stop_runner()
        session, self._session = self._session, None
        if session is not None:
            try:
                # Interrupted in an unknown state: no polite exits.
                session.close_terminal(force=self._interrupted is not None)
            except Exception as error:  # closing goes on whatever happens
                problems.append(f"closing the shells: {type(error).__name__}: {error}")
        return problems

    def _stop_runner(self) -> list[str]:
        self.proxies.clear()
        runner, self._runner = self._runner, None
        if runner is None:
            return []
        try:
            runner.close()
        except Exception as error:
            return [f"stopping Python: {type(error).__name__}: {error}"]
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
        """Raise unless keywords can use the terminal; an auto-recovering one
        interrupted earlier is reset here (and reopened at its next use)."""
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
        self._restart_auto()

    def _restart_auto(self) -> None:
        self._stop_runner()
        self._runner = self._new_auto_runner()

    # ---- python ----------------------------------------------------------------------
    def runner(self) -> RunnerTerminal:
        """The runner, started at the first use (auto recovery: opened on demand)."""
        self.check_usable()
        if self._runner is None:
            session = self._session
            if session is None:
                raise NoSuchTerminal(f"{self.name.capitalize()} is not open.")
            settings = self.settings
            runner = RunnerTerminal(settings.timeout, settings.prompt_timeout, settings.python)
            with self._changing("starting Python"):
                runner.initialize(session)
            self._runner = runner
            if self._imports:
                runner.import_libraries(*self._imports)
        return self._runner

    def import_modules(self, *modules: str) -> None:
        """Import ``modules`` now and whenever Python starts anew."""
        self.runner().import_libraries(*modules)
        self._imports += [module for module in modules if module not in self._imports]

    def adopt(self, value: Any) -> Any:
        """A proxy made by a keyword gets the terminal's call timeout."""
        if isinstance(value, _RemoteProxy):
            value.set_remote_proxy_timeout(self.settings.timeout)
        return value

    # ---- shells ----------------------------------------------------------------------
    def push(self, shell: Shell) -> None:
        """Start ``shell`` on top of the stack (Python is stopped first)."""
        self.check_usable()
        if self.auto_recovery:
            self._topology.append(shell)
            with self._changing(f"pushing {shell.describe()}"):
                self._restart_auto()
            return
        session = self._require_session()
        with self._changing(f"pushing {shell.describe()}"):
            problems = self._stop_runner()
            if problems:
                LOGGER.warning("%s: %s", self.name, "; ".join(problems))
            session.push(shell)

    def pop(self) -> Shell:
        """Leave the top shell (Python is stopped first); the first one stays."""
        self.check_usable()
        shells = self.shells
        if len(shells) < 2:
            raise ShellStackEmpty(
                f"{self.name.capitalize()} has only its first shell ({shells[0].describe()}) "
                "left: use Close Terminal to close it."
            )
        if self.auto_recovery:
            shell = self._topology.pop()
            with self._changing(f"popping {shell.describe()}"):
                self._restart_auto()
            return shell
        session = self._require_session()
        with self._changing(f"popping {shells[-1].describe()}"):
            problems = self._stop_runner()
            if problems:
                LOGGER.warning("%s: %s", self.name, "; ".join(problems))
            return session.pop()

    def _require_session(self) -> InteractiveSession:
        if self._session is None:
            raise NoSuchTerminal(f"{self.name.capitalize()} is not open.")
        return self._session

    # ---- proxy registry --------------------------------------------------------------
    def register(self, name: str, proxy: Any) -> None:
        if not name:
            raise ValueError("a proxy name cannot be empty")
        self.proxies[name] = proxy

    def proxy(self, value: Any) -> Any:
        """``value`` itself if it is a proxy, else the proxy registered as ``value``."""
        if RunnerTerminal.isproxy(value):
            return value
        self.check_usable()
        try:
            return self.proxies[value]
        except KeyError:
            known = ", ".join(f"'{n}'" for n in self.proxies) or "none"
            raise NoSuchProxy(
                f"No proxy named '{value}' in {self.name}. Registered: {known}."
            ) from None

    def unregister(self, proxy: Any) -> list[str]:
        """Forget every name of ``proxy``; returns them."""
        names = [name for name, known in self.proxies.items() if known is proxy]
        for name in names:
            del self.proxies[name]
        return names

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.describe_shells()
        return f"<TerminalEntry {self.name}: {state}>"
