"""AutoRecoveringTerminal: a shell stack that reopens itself when it breaks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Callable, Optional, Union

from ..errors import (
    SessionInitializationFailed,
    ShellError,
    ShellStackEmpty,
    TerminalClosed,
    TerminalError,
)
from ..robotnames import not_keyword
from ..shells import InteractiveSession, Shell
from ..timeouts import TimeLike, seconds

LOGGER = logging.getLogger("RemoteProxyLibrary.recovery")

ExceptionTypes = Union[type[BaseException], Sequence[type[BaseException]]]


def _as_tuple(exceptions: ExceptionTypes) -> tuple[type[BaseException], ...]:
    if isinstance(exceptions, type):
        return (exceptions,)
    return tuple(exceptions)


def _nothing() -> None:
    return None


class AutoRecoveringTerminal:
    """A terminal whose shell stack is rebuilt when one of ``broken_exceptions``
    happens in :meth:`run` or one of ``init_broken_exceptions`` while opening.

    ``initialize`` only records the topology; :meth:`initialize_terminal` (or
    the first :meth:`run` / :meth:`initialize_if_needed`) opens it.

    With ``reopen=False`` a stack is opened once and never reopened by itself:
    once it broke, :meth:`run` and :meth:`initialize_if_needed` raise
    :class:`TerminalClosed` (an explicit :meth:`initialize_terminal` still
    opens it again). That is the policy of a terminal without auto recovery.
    """

    def __init__(self) -> None:
        self._shells: list[Shell] = []
        self._broken: tuple[type[BaseException], ...] = (Exception,)
        self._init_broken: tuple[type[BaseException], ...] = (Exception,)
        self._sleep = 3.0
        self._max_tries = 3
        self._prepare: Callable[[], Any] = _nothing
        self._finalize: Callable[[], Any] = _nothing
        self._verify: Callable[[], Any] = _nothing
        self._session: Optional[InteractiveSession] = None
        self._reopen = True
        #: Opened at least once (a stack that does not reopen stays closed then).
        self._opened = False
        #: Why the stack was last found broken (kept for the error that says so).
        self._broken_by: Optional[BaseException] = None
        self.recoveries = 0
        #: Opening and recovering are serialised: a second thread that finds
        #: the stack broken waits for the first one's recovery.
        self._lock = threading.RLock()

    def initialize(
        self,
        shells: Union[Shell, Sequence[Shell]],
        broken_exceptions: ExceptionTypes = Exception,
        init_broken_exceptions: ExceptionTypes = Exception,
        sleep_between_tries: TimeLike = 3,
        max_tries: int = 3,
        prepare: Callable[[], Any] = _nothing,
        finalize: Callable[[], Any] = _nothing,
        verify: Callable[[], Any] = _nothing,
        reopen: bool = True,
    ) -> None:
        """Record the topology (``shells``, bottom first) and the policy
        (``reopen=False``: never reopen a broken stack by itself)."""
        if max_tries < 1:
            raise ValueError(f"max_tries must be a positive integer, not {max_tries!r}")
        self._shells = [shells] if isinstance(shells, Shell) else list(shells)
        if not self._shells:
            raise ValueError("shells must hold at least one shell")
        self._broken = _as_tuple(broken_exceptions)
        self._init_broken = _as_tuple(init_broken_exceptions)
        self._sleep = seconds(sleep_between_tries)
        self._max_tries = int(max_tries)
        self._prepare = prepare
        self._finalize = finalize
        self._verify = verify
        self._reopen = bool(reopen)

    @property
    def shells(self) -> list[Shell]:
        """The topology, bottom first (what is opened, and reopened)."""
        return list(self._shells)

    @property
    def reopen(self) -> bool:
        """Whether a broken stack is reopened by itself."""
        return self._reopen

    @property
    def broken_exceptions(self) -> tuple[type[BaseException], ...]:
        return self._broken

    @property
    def max_tries(self) -> int:
        return self._max_tries

    def set_verify(self, verify: Callable[[], Any]) -> None:
        """``verify`` raises one of ``broken_exceptions`` when the session is broken."""
        self._verify = verify

    def set_prepare(self, prepare: Callable[[], Any]) -> None:
        self._prepare = prepare

    def set_finalize(self, finalize: Callable[[], Any]) -> None:
        self._finalize = finalize

    def get_session(self) -> InteractiveSession:
        """The open InteractiveSession (opened first if needed)."""
        if self._session is None:
            self.initialize_terminal()
        assert self._session is not None
        return self._session

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def initialize_terminal(self) -> None:
        """Open the shell stack and run ``prepare``; retried on
        ``init_broken_exceptions`` up to ``max_tries`` times, then
        :class:`SessionInitializationFailed` holding the last error."""
        with self._lock:
            self._initialize_terminal()

    @not_keyword
    def open_stack(self) -> None:
        """Open the shell stack, retried like :meth:`initialize_terminal`, but
        without running ``prepare`` (for callers that prepare lazily)."""
        with self._lock:
            self._initialize_terminal(prepare=False)

    def _initialize_terminal(self, prepare: bool = True) -> None:
        last: Optional[BaseException] = None
        for attempt in range(1, self._max_tries + 1):
            self._close_session(force=True)
            try:
                self._open()
                if prepare:
                    self._prepare()
                return
            except self._init_broken as error:
                last = error
                LOGGER.warning("opening the terminal failed (try %d of %d): %s",
                               attempt, self._max_tries, error)  # fmt: skip
                self._close_session(force=True)
                if attempt < self._max_tries:
                    time.sleep(self._sleep)
        raise SessionInitializationFailed(last)

    def _open(self) -> None:
        session = InteractiveSession()
        try:
            session.spawn(self._shells[0])
            for shell in self._shells[1:]:
                session.push(shell)
        except BaseException as error:
            # interrupted (not an Exception): no polite exits
            session.close_terminal(force=not isinstance(error, Exception))
            raise
        self._session = session
        self._opened = True
        self._broken_by = None

    def _not_reopened(self) -> TerminalClosed:
        """The error of a stack that broke and is not reopened by itself."""
        cause = self._broken_by
        why = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        error = TerminalClosed(
            f"{self.describe()} broke{why}. It is not reopened (no auto recovery): "
            "close it and open a new one, or open it with auto recovery."
        )
        error.__cause__ = cause
        return error

    @not_keyword
    def describe(self) -> str:
        """The topology, e.g. ``SshShell(admin@dut:22) > SudoShell(to root)``."""
        return " > ".join(shell.describe() for shell in self._shells) or "empty terminal"

    def initialize_if_needed(self) -> None:
        """Open the terminal if it is not open, or reopen it if ``verify`` fails."""
        with self._lock:
            if self._session is None:
                if self._opened and not self._reopen:
                    raise self._not_reopened()
                self.initialize_terminal()
                return
            try:
                self._verify()
            except self._broken as error:
                LOGGER.info("session is broken (%s); recovering", error)
                self._broken_by = error
                self.recover()

    def recover(self) -> None:
        """Finalize (errors only logged), close, and open again (with
        ``reopen=False``: close, and raise :class:`TerminalClosed`)."""
        with self._lock:
            if not self._reopen:
                self._run_finalize()
                self._close_session(force=True)
                raise self._not_reopened()
            self.recoveries += 1
            self._run_finalize()
            self.initialize_terminal()

    @not_keyword
    def push(self, shell: Shell) -> None:
        """Start ``shell`` on top of the stack and add it to the topology.

        On an open stack the shell is started at once (its failure is raised
        and the topology stays as it was); a closed one only records it. A
        stack that dies under the push is closed, and with ``reopen`` the
        shell is recorded for the next opening.
        """
        with self._lock:
            session = self._session
            if session is not None:
                try:
                    session.push(shell)
                except ShellError:
                    raise  # the hop did not start (a timeout too); its parent is usable
                except (TerminalError, OSError, EOFError) as error:
                    self._lost(error)
                    if not self._reopen:
                        raise
                    LOGGER.info("the terminal died while pushing %s (%s): it is reopened "
                                "with it at its next use", shell.describe(), error)  # fmt: skip
                except Exception:
                    raise  # the shell did not start; its parent is usable again
                except BaseException as error:  # interrupted: state unknown
                    self._lost(error)
                    self._shells.append(shell)
                    raise
            self._shells.append(shell)

    @not_keyword
    def pop(self) -> Shell:
        """Leave the top shell and drop it from the topology; the first one stays."""
        with self._lock:
            if len(self._shells) < 2:
                raise ShellStackEmpty(
                    f"{self.describe()} has only its first shell left: close the terminal instead"
                )
            session = self._session
            if session is not None:
                try:
                    session.pop()
                except ShellError:
                    raise
                except (TerminalError, OSError, EOFError) as error:
                    self._lost(error)
                    if not self._reopen:
                        self._shells.pop()
                        raise
                except Exception:
                    raise
                except BaseException as error:  # interrupted: state unknown
                    self._lost(error)
                    self._shells.pop()
                    raise
            return self._shells.pop()

    def _lost(self, error: BaseException) -> None:
        """The stack is unusable because of ``error``: close it at once."""
        self._broken_by = error
        self._close_session(force=True)

    def run(self, cmd: str, timeout: float = -1) -> str:
        """Run ``cmd`` in the current shell; on ``broken_exceptions`` recover
        and run it again, at most ``max_tries`` times in all."""
        last: Optional[BaseException] = None
        for attempt in range(1, self._max_tries + 1):
            if self._session is None and self._opened and not self._reopen:
                raise self._not_reopened()
            try:
                self.initialize_if_needed()
                return self.get_session().current_shell().exec_command(cmd, timeout)
            except SessionInitializationFailed:
                raise
            except self._broken as error:
                last = error
                LOGGER.warning("run %r failed (try %d of %d): %s", cmd, attempt,
                               self._max_tries, error)  # fmt: skip
                self._broken_by = error
                self._run_finalize()
                self._close_session(force=True)
                if not self._reopen:
                    raise
                if attempt < self._max_tries:
                    time.sleep(self._sleep)
        assert last is not None
        raise last

    @not_keyword
    @contextmanager
    def auto_close(self) -> Iterator[None]:
        """A ``with`` block that closes the terminal when one of
        ``broken_exceptions`` leaves it (the exception goes on); the next
        use opens it again."""
        try:
            yield
        except self._broken:
            self.close()
            raise

    def close(self, force: bool = False) -> None:
        """Finalize (errors only logged) and close the terminal. Call
        :meth:`initialize_terminal` to use this object again.

        ``force`` is for a stack in an unknown state (e.g. interrupted while
        it changed): no finalize and no polite exits, the terminal is closed
        at once and the far end hangs up."""
        with self._lock:
            if not force:
                self._run_finalize()
            self._close_session(force=force)

    def _run_finalize(self) -> None:
        try:
            self._finalize()
        except Exception as error:  # the session may be gone: only log
            LOGGER.warning("finalize failed: %s: %s", type(error).__name__, error)

    def _close_session(self, force: bool = False) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close_terminal(force=force)
