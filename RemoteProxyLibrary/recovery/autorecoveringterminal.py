"""AutoRecoveringTerminal: a shell stack that reopens itself when it breaks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

from ..errors import SessionInitializationFailed
from ..shells import InteractiveSession, Shell

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
        self.recoveries = 0
        #: Opening and recovering are serialised: a second thread that finds
        #: the stack broken waits for the first one's recovery.
        self._lock = threading.RLock()

    def initialize(
        self,
        shells: Union[Shell, Sequence[Shell]],
        broken_exceptions: ExceptionTypes = Exception,
        init_broken_exceptions: ExceptionTypes = Exception,
        sleep_between_tries: float = 3,
        max_tries: int = 3,
        prepare: Callable[[], Any] = _nothing,
        finalize: Callable[[], Any] = _nothing,
        verify: Callable[[], Any] = _nothing,
    ) -> None:
        """Record the topology (``shells``, bottom first) and the policy."""
        if max_tries < 1:
            raise ValueError(f"max_tries must be a positive integer, not {max_tries!r}")
        self._shells = [shells] if isinstance(shells, Shell) else list(shells)
        if not self._shells:
            raise ValueError("shells must hold at least one shell")
        self._broken = _as_tuple(broken_exceptions)
        self._init_broken = _as_tuple(init_broken_exceptions)
        self._sleep = float(sleep_between_tries)
        self._max_tries = int(max_tries)
        self._prepare = prepare
        self._finalize = finalize
        self._verify = verify

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

    def _initialize_terminal(self) -> None:
        last: Optional[BaseException] = None
        for attempt in range(1, self._max_tries + 1):
            self._close_session(force=True)
            try:
                self._open()
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
        except BaseException:
            session.close_terminal()
            raise
        self._session = session

    def initialize_if_needed(self) -> None:
        """Open the terminal if it is not open, or reopen it if ``verify`` fails."""
        with self._lock:
            if self._session is None:
                self.initialize_terminal()
                return
            try:
                self._verify()
            except self._broken as error:
                LOGGER.info("session is broken (%s); recovering", error)
                self.recover()

    def recover(self) -> None:
        """Finalize (errors only logged), close, and open again."""
        with self._lock:
            self.recoveries += 1
            self._run_finalize()
            self.initialize_terminal()

    def run(self, cmd: str, timeout: float = -1) -> str:
        """Run ``cmd`` in the current shell; on ``broken_exceptions`` recover
        and run it again, at most ``max_tries`` times in all."""
        last: Optional[BaseException] = None
        for attempt in range(1, self._max_tries + 1):
            try:
                self.initialize_if_needed()
                return self.get_session().current_shell().exec_command(cmd, timeout)
            except SessionInitializationFailed:
                raise
            except self._broken as error:
                last = error
                LOGGER.warning("run %r failed (try %d of %d): %s", cmd, attempt,
                               self._max_tries, error)  # fmt: skip
                self._run_finalize()
                self._close_session(force=True)
                if attempt < self._max_tries:
                    time.sleep(self._sleep)
        assert last is not None
        raise last

    def close(self) -> None:
        """Finalize (errors only logged) and close the terminal. Call
        :meth:`initialize_terminal` to use this object again."""
        self._run_finalize()
        self._close_session()

    def _run_finalize(self) -> None:
        try:
            self._finalize()
        except Exception as error:  # the session may be gone: only log
            LOGGER.warning("finalize failed: %s: %s", type(error).__name__, error)

    def _close_session(self, force: bool = False) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close_terminal(force=force)
