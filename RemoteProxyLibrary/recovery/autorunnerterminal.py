"""AutoRunnerTerminal: a RunnerTerminal that rebuilds its session when it breaks.

Every call (``run_python`` and friends, and every proxy operation) first makes
sure the session is usable: if the connection to the agent broke (terminal
closed, liveness check unanswered, the agent's shell prompt came back), the
terminal stack is reopened, the agent started again and ``prepare`` re-run.
A call that fails because the session broke under it is tried again on the new
session, at most ``max_tries`` times in all.

After a recovery, proxies made before it raise ``InvalidProxySession``, except
the ones that ``prepare`` refilled with ``set_from_remote_proxy``.

The recovering terminal's policy decides what happens when the session broke:
with ``reopen=False`` (a terminal without auto recovery) nothing is reopened
and every call raises :class:`RunnerTerminalSessionBroken` saying why.

Interrupted (Ctrl-C, a Robot timeout: anything that is not an ``Exception``)
while opening, recovering or starting the agent, the stack's state is unknown:
it is closed at once, and the next call opens it again (or, without reopening,
raises).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional, TypeVar, Union

from ..errors import (
    RunnerTerminalSessionBroken,
    ShellConnectionFailed,
    ShellError,
    ShellStartTimeout,
    TerminalError,
)
from ..robotnames import not_keyword
from ..runner.pythons import AUTO, PythonSpec
from ..runner.runnerterminal import RunnerTerminal
from ..shells import Shell, ShellStack
from ..timeouts import TimeLike
from .autorecoveringterminal import AutoRecoveringTerminal

LOGGER = logging.getLogger("RemoteProxyLibrary.recovery")

T = TypeVar("T")

#: What marks a broken session by default.
BROKEN_EXCEPTIONS: tuple[type[BaseException], ...] = (
    RunnerTerminalSessionBroken,
    TerminalError,
    ShellError,
    OSError,
    EOFError,
)

#: What is worth another try while opening: not refused credentials or rights
#: (a wrong password fails at once instead of max_tries times).
TRANSIENT_OPEN_FAILURES: tuple[type[BaseException], ...] = (
    RunnerTerminalSessionBroken,
    TerminalError,
    ShellConnectionFailed,
    ShellStartTimeout,
    OSError,
    EOFError,
)


def library_stack(
    shells: Sequence[Shell], auto_recovery: bool, max_tries: int, sleep_between_tries: TimeLike
) -> AutoRecoveringTerminal:
    """The stack of a terminal as the library opens one: with ``auto_recovery``
    reopened whenever it breaks (``max_tries`` for transient failures); without
    it, opened in one try (a failure is raised as it is) and never reopened."""
    stack = AutoRecoveringTerminal()
    stack.initialize(
        list(shells),
        broken_exceptions=BROKEN_EXCEPTIONS,
        # one try: a failure is raised as it is, not wrapped
        init_broken_exceptions=TRANSIENT_OPEN_FAILURES if auto_recovery else (),
        sleep_between_tries=sleep_between_tries,
        max_tries=max_tries if auto_recovery else 1,
        reopen=auto_recovery,
    )
    return stack


def _nothing() -> None:
    return None


class AutoRunnerTerminal(RunnerTerminal):
    """RunnerTerminal with automatic recovery (see module doc)."""

    def __init__(
        self,
        timeout: TimeLike = 3600,
        prompt_timeout: TimeLike = 30,
        python: PythonSpec = AUTO,
        direct: Optional[str] = None,
    ) -> None:
        super().__init__(
            timeout=timeout, prompt_timeout=prompt_timeout, python=python, direct=direct
        )
        self._auto: Optional[AutoRecoveringTerminal] = None
        self._user_prepare: Callable[[], Any] = _nothing
        self._user_finalize: Callable[[], Any] = _nothing
        #: The thread running ``prepare`` (its calls must not recover), if any.
        self._preparing: Optional[threading.Thread] = None
        #: The thread running ``finalize`` (its calls must not recover), if any.
        self._finalizing: Optional[threading.Thread] = None
        #: One recovery at a time: other threads wait for it and use its result.
        self._recovery_lock = threading.RLock()
        #: close() was called: calls fail (and proxies are invalid) instead of
        #: reopening, until the runner is opened again explicitly
        self._closed = False

    # ---- set up --------------------------------------------------------------------
    def initialize(
        self,
        session: AutoRecoveringTerminal,
        prepare: Callable[[], Any] = _nothing,
        finalize: Callable[[], Any] = _nothing,
    ) -> None:
        """Use ``session`` (an AutoRecoveringTerminal) for the shell stack.

        Nothing is opened here. This overrides the session's prepare, finalize
        and verify; call ``session.set_verify()`` afterwards to use your own.
        """
        self._auto = session
        self._user_prepare = prepare
        self._user_finalize = finalize
        session.set_prepare(self._prepare_runner)
        session.set_finalize(self._finalize_runner)
        session.set_verify(self._verify_runner)

    def initialize_with_shells(
        self,
        shells: Union[Shell, Sequence[Shell]],
        prepare: Callable[[], Any] = _nothing,
        finalize: Callable[[], Any] = _nothing,
        sleep_between_tries: TimeLike = 1,
        max_tries: int = 3,
        reopen: bool = True,
    ) -> None:
        """Recover with the stack ``shells`` (bottom first). Nothing is opened
        here: call :meth:`initialize_if_needed`, or just use the runner.
        ``reopen=False``: open once, never reopen (see the module doc)."""
        auto = AutoRecoveringTerminal()
        auto.initialize(
            shells,
            broken_exceptions=BROKEN_EXCEPTIONS,
            init_broken_exceptions=TRANSIENT_OPEN_FAILURES,
            sleep_between_tries=sleep_between_tries,
            max_tries=max_tries,
            reopen=reopen,
        )
        self.initialize(auto, prepare, finalize)

    def initialize_with_shelldicts(
        self,
        shelldicts: Iterable[Mapping[str, Any]],
        prepare: Callable[[], Any] = _nothing,
        finalize: Callable[[], Any] = _nothing,
        sleep_between_tries: TimeLike = 1,
        max_tries: int = 3,
    ) -> None:
        """As :meth:`initialize_with_shells`, with shells given as shell dicts."""
        shells = ShellStack().initialize(shelldicts)
        self.initialize_with_shells(shells, prepare, finalize, sleep_between_tries, max_tries)

    @property
    def recovering_terminal(self) -> AutoRecoveringTerminal:
        if self._auto is None:
            raise RunnerTerminalSessionBroken("AutoRunnerTerminal is not initialized")
        return self._auto

    # ---- hooks given to the AutoRecoveringTerminal -------------------------------
    def _prepare_runner(self) -> None:
        auto = self.recovering_terminal
        self._start_agent(auto.get_session())
        self._closed = False
        self._preparing = threading.current_thread()
        try:
            self._user_prepare()
        finally:
            self._preparing = None

    def _finalize_runner(self) -> None:
        """``finalize`` of a session that ran ``prepare``, broken or not (as the
        reference says, the session may be gone: its errors are only logged);
        its calls run on that session and never recover it."""
        try:
            if self._connection is not None:
                self._finalizing = threading.current_thread()
                try:
                    self._user_finalize()
                finally:
                    self._finalizing = None
        finally:
            self._drop_connection()

    def _verify_runner(self) -> None:
        connection = self._connection
        if connection is None:
            raise RunnerTerminalSessionBroken("the agent is not running")
        if connection.broken is not None:
            raise RunnerTerminalSessionBroken(connection.broken)

    def _drop_connection(self) -> None:
        connection = self._connection
        if connection is not None and connection.broken is not None:
            self._forget_connection()
            return
        RunnerTerminal.close(self)

    # ---- use -----------------------------------------------------------------------
    def initialize_if_needed(self) -> None:
        """Open or recover the session if it is not usable (no round trip when
        it is). Threads that find it broken at once recover it once: one
        reopens the stack, the others wait and then use the new session.
        After :meth:`close` this opens the stack again."""
        self._closed = False
        self._make_usable()

    def _make_usable(self) -> None:
        preparing = self._preparing
        if preparing is threading.current_thread():
            return  # prepare's own calls run on the session being prepared
        if self._finalizing is threading.current_thread():
            return  # finalize's calls run on the session ending, as it is
        if preparing is None and self._usable():
            return
        with self._recovery_lock:
            if self._usable():
                return
            connection = self._connection
            auto = self.recovering_terminal
            if connection is not None and not auto.reopen:
                raise RunnerTerminalSessionBroken(
                    f"{connection.name}: the session broke ({connection.broken}) and this "
                    "terminal does not reopen it (no auto recovery): close it and open a new "
                    "one, or open it with auto recovery."
                )
            try:
                if connection is None and auto.is_open:
                    # the stack is open but the agent is not running (not
                    # started yet, or stopped to push or pop a shell)
                    self._prepare_runner()
                    return
                auto.initialize_if_needed()
            except Exception:
                raise
            except BaseException:
                self.close(force=True)  # interrupted half-way: state unknown
                raise

    def _usable(self) -> bool:
        connection = self._connection
        return connection is not None and connection.broken is None and self._auto is not None

    @property
    def running(self) -> bool:
        """True while the agent runs and its connection is not broken."""
        return self._usable()

    @not_keyword
    def with_recovery(self, attempt: Callable[[], T]) -> T:
        """Make sure the session is usable, run ``attempt``; if the session
        broke under it, recover and run it again (``max_tries`` in all).
        After :meth:`close`, ``attempt`` runs as on a closed plain runner; so
        do the calls of ``finalize``."""
        if self._closed or self._finalizing is threading.current_thread():
            return attempt()
        auto = self.recovering_terminal
        last: Optional[BaseException] = None
        for number in range(1, auto.max_tries + 1):
            self._make_usable()
            try:
                return attempt()
            except RunnerTerminalSessionBroken as error:
                last = error
                LOGGER.info("session broke during a call (try %d of %d): %s",
                            number, auto.max_tries, error)  # fmt: skip
        assert last is not None
        raise last

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        return self.with_recovery(lambda: RunnerTerminal._call(self, *args, **kwargs))

    @not_keyword
    def stop_agent(self) -> None:
        """Stop the agent (``finalize`` first) and keep the shell stack open,
        e.g. to push or pop a shell; the next call starts the agent again and
        runs ``prepare``. Proxies made so far become invalid."""
        with self._recovery_lock:
            self._finalize_runner()

    def close(self, force: bool = False) -> None:
        """Finalize (errors only logged) and close the session.

        ``force``: the stack is in an unknown state (interrupted): the agent is
        dropped without a word, no finalize, and the terminal closed at once.
        Calls made afterwards fail (``RunnerTerminalSessionClosed``, proxies
        ``InvalidProxySession``) until :meth:`initialize_if_needed` opens it again."""
        self._closed = True
        if force:
            self._forget_connection()
        if self._auto is not None:
            self._auto.close(force=force)
        else:
            super().close()
