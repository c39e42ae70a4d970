"""RunnerTerminal: run Python on the target and get values or proxies back.

The runner starts the agent in the current shell of an
:class:`~RemoteProxyLibrary.shells.InteractiveSession` (at the ``>>>`` of a
:class:`PythonShell`, or as ``<python> -c`` from any other shell) and then
speaks frames with it (see :mod:`RemoteProxyLibrary.runner.connection`).
``python`` is ``"auto"`` (the newest ``python3.X`` on the target's ``PATH``,
then ``python3``, ``python``, ``python2.7``, ``python2``), a command, or a list
of commands tried in order; one the agent cannot run on (not 2.7, older than
3.6) is passed over and a target with none usable raises
:class:`NoUsablePython` naming what it has (see :mod:`.pythons`).

What comes back by value:

- ``run_python`` (and ``run_python_call``, ``as_local_value``) returns plain
  data: anything the codec carries (scalars, containers of plain data,
  dates and times, decimals, UUIDs, pure paths, named tuples and struct
  sequences with their fields). Any other value raises
  :class:`UnableToSerialize` and the session stays usable (use
  ``get_proxy_object_from_call`` or ``assign_and_run_python`` to keep it
  remote). A statement (``a = 1``) returns ``None``.
- ``HANDLED_TYPES`` (the reference's basic types: None, bool, int, float, str,
  bytes) are what recursive proxies, ``get_proxy_or_basic_from_call`` and
  ``assign_and_run_python`` return as local values; everything else, containers
  included, stays remote behind a proxy, so ``sys_.path.append(x)`` changes the
  target's ``sys.path``. Set ``HANDLED_TYPES`` (class or instance) before
  ``initialize`` to change that.
- A plain ``_RemoteProxy`` returns plain data by value (like ``run_python``) and
  anything else as a proxy.

Timeouts: a call's ``timeout`` is how long it may run on the target; then
:class:`RemoteTimeout` is raised (the call goes on, its response can be
fetched later). ``None`` means ``timeout`` of the runner (3600 s), a negative
one raises at once. ``prompt_timeout`` bounds only starting shells and the
agent (and closing). Whether the target is alive is watched separately (see
:mod:`.connection`): a dead link or process, or a stream that can no longer be
read, breaks the session within ``liveness_interval + liveness_timeout``
(5 s), whatever the call's timeout. A reply that came in time but is still
being decoded at the deadline raises :class:`RemoteTimeout` too (see
:mod:`.decoding`): a call ends within its timeout and a fraction of a second,
whatever the target sends. ``max_message`` and ``max_unfinished`` bound the
memory a target's replies may take (see ``docs/PROTOCOL.md``, Security).

Remote code runs in one namespace of its own on the target, where ``os`` and
``sys`` are imported from the start (as in the older library, so
``get_recursive_proxy('os')`` works at once); import anything else with
``import_libraries``. Dropped proxies' handles ride along with the next
request, whatever its kind, so at most the handles dropped since the last
request wait on the target (``MAX_GARBAGE`` is kept for API compatibility).

A session (one run of the agent) has an identity unique across runners and
processes: a proxy used with another runner, or after its session ended,
raises :class:`InvalidProxySession`.

The path of requests and replies (``direct``): once the agent runs, they go
on a direct channel beside the terminal where the hops allow it (an SSH
login, then any ``su``/``sudo``/sub-shell on that host; or a local terminal),
raw both ways, and the terminal stays the control path (see
:mod:`.direct`). ``direct="auto"`` (the default) uses it where it applies
and otherwise, or when it cannot be opened, keeps the terminal (logged at
INFO); ``"on"`` raises :class:`DirectChannelUnavailable` instead; ``"off"``
never uses it. Not given, the environment variable ``RPL_DIRECT`` gives it
(``auto`` when unset). :attr:`path` tells which path the session uses.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from typing import Any, Callable, Optional, TypeVar, Union

from ..errors import (
    DirectChannelUnavailable,
    InvalidProxySession,
    NoSuchResponse,
    RemoteTimeout,
    RunnerException,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    RunnerTerminalUnableToDeserialize,
    UnableToSerialize,
)
from ..remotetext import safe_block, safe_line
from ..robotnames import not_keyword
from ..shells import InteractiveSession, PythonShell
from ..timeouts import TimeLike, optional_seconds, seconds
from ..wire import codec, messages
from ..wire.messages import (
    MODE_AUTO,
    MODE_NONE,
    MODE_PLAIN,
    MODE_REF,
    MODE_VALUE,
)
from . import bootstrap, decoding, direct, pythons, replies
from .commands import Commands
from .connection import AgentConnection, Pending
from .proxies import (
    _RecursiveProxy,
    _RemoteProxy,
    call_method,
    check_current,
    is_proxy,
    make_proxy,
    proxy_runner,
    release_proxy,
    start_call,
)
from .transfers import Files

LOGGER = logging.getLogger("RemoteProxyLibrary.runner")

T = TypeVar("T")


class RunResult:
    """Result of :meth:`RunnerTerminal.assign_and_run_python`: ``isobj`` tells
    whether ``obj`` holds the value (plain data) or not (it stays remote)."""

    __slots__ = ("isobj", "obj")

    def __init__(self, isobj: bool, obj: Any) -> None:
        self.isobj = isobj
        self.obj = obj

    def __repr__(self) -> str:
        return f"RunResult(isobj={self.isobj!r}, obj={self.obj!r})"


def direct_mode(value: Optional[str]) -> str:
    """``direct=`` checked; None: the environment's ``RPL_DIRECT``, else ``auto``."""
    if value is None:
        value = os.environ.get("RPL_DIRECT", "").strip() or direct.AUTO
    return direct.check_mode(value)


def new_session_id() -> int:
    """An identity for one run of an agent, unique across runners and processes."""
    return secrets.randbits(63) or 1


class RunnerTerminal:
    """The Python terminal session behind the transparent proxies (see the
    module doc for what comes back by value, and for timeouts)."""

    #: What recursive proxies, ``get_proxy_or_basic_from_call`` and
    #: ``assign_and_run_python`` return as local values (instances, subclasses
    #: included); anything else stays remote behind a proxy. The reference's
    #: basic types; set another tuple of types the codec carries (on the class
    #: or an instance, before ``initialize``) to change it.
    HANDLED_TYPES: tuple[type, ...] = (type(None), bool, int, float, str, bytes)
    MAX_GARBAGE = 100

    def __init__(
        self,
        timeout: TimeLike = 3600,
        prompt_timeout: TimeLike = 30,
        python: pythons.PythonSpec = pythons.AUTO,
        direct: Optional[str] = None,
    ) -> None:
        #: ``auto``, ``on`` or ``off``: the direct channel (see the module doc).
        self.direct = direct_mode(direct)
        self._liveness_interval = 2.0
        self._liveness_timeout = 3.0
        #: Largest reply (bytes) taken from the target; a larger one fails its call.
        self.max_message = 1 << 31
        #: Bytes held in total for unfinished replies besides the one arriving
        #: (an honest agent sends one at a time); a target going beyond breaks
        #: the session.
        self.max_unfinished = 64 << 20
        #: Default seconds a remote call may run (times accept Robot time strings).
        self.timeout = seconds(timeout)
        #: Seconds each step of starting a shell or the agent may take.
        self.prompt_timeout = seconds(prompt_timeout)
        #: The Python to start (see :mod:`.pythons`): ``"auto"``, a command, or a
        #: list of commands tried in order.
        self.python = pythons.normalize(python)
        #: The command that started the running agent (``""`` before the first).
        self.python_started = ""
        self.session: Any = None
        #: Identity of the running agent (0 before the first start); new at each start.
        self.session_id = 0
        #: How log lines name this runner (default: where its Python runs).
        self.name = ""
        self._interactive: Optional[InteractiveSession] = None
        self._connection: Optional[AgentConnection] = None
        self._started_in_python_shell = False
        self._methods: dict[str, frozenset[str]] = {}
        self._timed_out: dict[int, Pending] = {}
        #: replies still decoding when their caller gave up (see .decoding)
        self._decodings: dict[int, decoding.Decoding] = {}
        self._lock = threading.Lock()

    # ---- settings ------------------------------------------------------------------
    @property
    def default_timeout(self) -> float:
        """The reference's name of :attr:`timeout`."""
        return self.timeout

    def set_default_timeout(self, default_timeout: TimeLike) -> None:
        """Set the default timeout of remote calls (seconds or a time string)."""
        self.timeout = seconds(default_timeout)

    @property
    def liveness_interval(self) -> float:
        """Silence (seconds) while calls wait after which the agent is pinged."""
        return self._liveness_interval

    @liveness_interval.setter
    def liveness_interval(self, value: TimeLike) -> None:
        self._liveness_interval = seconds(value)
        if self._connection is not None:
            self._connection.liveness_interval = self._liveness_interval

    @property
    def liveness_timeout(self) -> float:
        """Seconds a ping may go unanswered (and nothing heard) before the
        session counts as broken."""
        return self._liveness_timeout

    @liveness_timeout.setter
    def liveness_timeout(self, value: TimeLike) -> None:
        self._liveness_timeout = seconds(value)
        if self._connection is not None:
            self._connection.liveness_timeout = self._liveness_timeout

    @property
    def label(self) -> str:
        """:attr:`name`, else :meth:`describe`: how log lines name this runner."""
        return self.name or self.describe()

    @not_keyword
    def describe(self) -> str:
        """Where this runner's Python runs, e.g. ``python3 in SshShell(...) > ...``."""
        interactive = self._interactive
        if interactive is None:
            return "a runner with no agent running"
        stack = " > ".join(shell.describe() for shell in interactive.shells)
        return f"{self.python_started or pythons.describe(self.python)} in {stack}"

    # ---- life cycle ----------------------------------------------------------------
    def initialize(self, session: Any) -> None:
        """Start the agent in ``session``: an object with ``get_session()``
        returning an InteractiveSession, or an InteractiveSession itself."""
        connection = self._connection
        if connection is not None and connection.broken is None and not connection.closed:
            raise RunnerException(
                "RunnerTerminal is already initialized (its agent is running): close() it first"
            )
        self.session = session
        interactive = session.get_session() if hasattr(session, "get_session") else session
        if not isinstance(interactive, InteractiveSession):
            raise TypeError(f"cannot run Python in {interactive!r}: not an InteractiveSession")
        self._start_agent(interactive)

    def _start_agent(self, interactive: InteractiveSession) -> None:
        shell = interactive.current_shell()
        terminal = interactive.terminal
        assert terminal is not None
        boot = bootstrap.build()
        in_python = isinstance(shell, PythonShell)
        if in_python:
            line = pythons.gate_at_prompt(boot.stage0)
        else:
            line = pythons.launch_line(self.python, boot.stage0)
        spawn = terminal.spawn
        spawn.sendline(line)
        ready = bootstrap.READY + "\r\n"
        try:
            # the shell's prompt coming back first: Python did not start there
            found = spawn.expect_exact([ready, shell.prompt], timeout=self.prompt_timeout)
        except Exception as error:
            last = str(spawn.before)[-500:]
            raise RunnerTerminalSessionBroken(
                f"{shell.describe()}: agent stage-0 did not start within "
                f"{self.prompt_timeout:g} s ({type(error).__name__}); last output: {last!r}"
            ) from None
        if found != 0:
            raise pythons.failure(
                shell, self.python, str(spawn.before), in_python, self.prompt_timeout
            )
        started = "Python" if in_python else pythons.started(self.python, str(spawn.before))
        leftover = terminal.take_buffered()
        terminal.write(boot.blob)
        sentinels = tuple(s.prompt for s in interactive.shells)
        connection = AgentConnection(
            terminal,
            name=shell.describe(),
            sentinels=sentinels,
            liveness_interval=self._liveness_interval,
            liveness_timeout=self._liveness_timeout,
            max_message=self.max_message,
            max_unfinished=self.max_unfinished,
        )
        hello = connection.hello  # taken before the reader starts: it hands it over once
        assert hello is not None
        connection.start(leftover)
        if not hello.wait(self.prompt_timeout):
            connection.stop()
            raise RunnerTerminalSessionBroken(f"{shell.describe()}: the agent did not say hello")
        try:
            messages.decode_hello(hello.payload())
        except codec.DecodeError as error:
            connection.stop()
            raise RunnerTerminalUnableToDeserialize(
                f"{shell.describe()}: the agent's hello is malformed ({error})"
            ) from None
        self._negotiate_raw_replies(connection)
        with self._lock:
            self._interactive = interactive
            self._connection = connection
            self._started_in_python_shell = in_python
            self.python_started = started
            self._methods = {}
            self._timed_out = {}
            self._decodings = {}
            self.session_id = new_session_id()
        try:
            direct.open_direct(connection, interactive, self.direct, self.prompt_timeout)
        except DirectChannelUnavailable:
            RunnerTerminal.close(self)  # the agent leaves; a subclass's close does more
            raise
        self._configure_handled_types()

    @property
    def path(self) -> str:
        """How requests and replies travel in the running session: ``direct``
        (the direct channel) or ``pty`` (the terminal); ``""`` with no agent."""
        connection = self._connection
        return connection.path if connection is not None else ""

    def _negotiate_raw_replies(self, connection: AgentConnection) -> None:
        """Let large replies travel as raw bytes (no base64) if the path from
        the target carries all 256 byte values unchanged.

        The agent echoes a probe of every byte value (and the sequences a
        terminal or an ssh client could rewrite) as a raw frame; only an
        intact echo switches it to raw replies. Requests always stay base64,
        so what we send stays inert text if it ever reaches a plain shell.
        """
        probe = bytes(range(256)) * 4 + b"\n~.\r\n~?\x11\x13\x03\x04\x1a\x1c\x7f"
        connection.accept_raw(True)  # the echo is a raw frame
        pending = connection.request(messages.KIND_PROBE, probe)
        intact = False
        if pending.wait(min(self.prompt_timeout, 2.0)):
            try:
                intact = bytes(pending.payload()) == probe
            except RunnerException:
                intact = False
        else:
            connection.forget(pending)
        connection.accept_raw(intact)
        if intact:
            connection.notify(messages.KIND_RAW_REPLIES, b"")
        connection.raw_replies = intact
        LOGGER.debug("%s: raw replies %s", connection.name, "on" if intact else "off")

    def _configure_handled_types(self) -> None:
        """Tell the agent about HANDLED_TYPES other than the default."""
        names = tuple(
            "builtins.NoneType" if t is type(None) else f"{t.__module__}.{t.__qualname__}"
            for t in self.HANDLED_TYPES
            if t is not bool  # an int
        )
        if set(names) != set(messages.DEFAULT_HANDLED_TYPES):
            self._call("configure", (names,), MODE_NONE)

    def close(self) -> None:
        """Stop the agent and give the terminal back to the shell it started in.

        The agent removes its modules and handles and restores the tty.
        """
        connection, interactive = self._take_connection()
        if connection is None:
            return
        try:
            if connection.broken is None:
                connection.closing = True
                pending = connection.request(messages.KIND_CLOSE, b"")
                pending.wait(self.prompt_timeout)
        except RunnerTerminalSessionBroken:
            pass
        finally:
            connection.stop()
        self._log_notices(connection)
        if interactive is not None and connection.broken is None and not connection.prompt_back:
            try:
                interactive.current_shell()._expect_prompt(self.prompt_timeout, "closing agent")
            except Exception as error:
                LOGGER.warning("terminal did not return to its prompt: %s", error)

    def _take_connection(self) -> tuple[Optional[AgentConnection], Optional[InteractiveSession]]:
        """This session ends: proxies made in it become invalid."""
        with self._lock:
            connection, self._connection = self._connection, None
            interactive, self._interactive = self._interactive, None
            self.session_id = new_session_id()
        return connection, interactive

    def _forget_connection(self) -> None:
        """Drop the agent's connection without a word to the agent (it is
        broken, or the terminal is about to be closed anyway)."""
        connection, _ = self._take_connection()
        if connection is not None:
            connection.stop()

    @property
    def running(self) -> bool:
        """True while the agent runs and its connection is not broken."""
        connection = self._connection
        return connection is not None and connection.broken is None and not connection.closed

    def initialize_if_needed(self) -> None:
        """Nothing to do: a plain runner neither opens nor recovers its session
        (``AutoRunnerTerminal`` does)."""

    @property
    def connection(self) -> AgentConnection:
        if self._connection is None:
            raise RunnerTerminalSessionClosed("RunnerTerminal is closed or not initialized")
        return self._connection

    @property
    def commands(self) -> Commands:
        """Commands on the target: ``commands.run(...)``, ``commands.start(...)``
        (see :mod:`.commands`)."""
        return Commands(self)

    @property
    def files(self) -> Files:
        """File transfers: ``files.put``, ``files.get``, ``files.put_directory``,
        ``files.get_directory`` (see :mod:`.transfers`)."""
        return Files(self)

    @property
    def round_trips(self) -> int:
        """Requests sent to the agent so far, each one round trip (liveness
        checks and close not counted)."""
        return self._connection.round_trips if self._connection else 0

    # ---- requests ------------------------------------------------------------------
    def _encode_ref(self, obj: Any) -> Optional[codec.Ref]:
        if is_proxy(obj):
            self.check_proxy(obj)
            return obj._rpl_ref_for_session(self.session_id)
        return None

    @not_keyword
    def check_proxy(self, proxy: Any, current: bool = False) -> None:
        """Raise :class:`InvalidProxySession` unless ``proxy`` is a proxy of
        this runner; with ``current``, also unless it belongs to the session
        running now (not one that ended: closed, recovered, a shell pushed)."""
        if not is_proxy(proxy):
            raise TypeError(f"not a remote proxy: {type(proxy).__name__}")
        owner = proxy_runner(proxy)
        if owner is not self:
            raise InvalidProxySession(
                f"{proxy!r} belongs to {owner.label}, not to {self.label}: "
                "a proxy is used only with the runner (terminal) that made it"
            )
        if current:
            check_current(proxy)

    @not_keyword
    def send_request(
        self, op: str, args: tuple, mode: int = MODE_VALUE, assign_to: Optional[str] = None
    ) -> Pending:
        """Send one request; the garbage queued so far rides along."""
        connection = self.connection
        garbage = connection.take_garbage()
        try:
            payload = messages.encode_request(garbage, op, args, mode, assign_to, self._encode_ref)
        except codec.EncodeError as error:
            for handle in garbage:
                connection.release_later(handle)
            which = self._unencodable_argument(op, args)
            raise UnableToSerialize(f"argument cannot travel: {which or error}") from None
        pending = connection.request(messages.KIND_REQUEST, payload)
        pending.subject = (op, _subject(op, args))  # described only when needed
        return pending

    def _unencodable_argument(self, op: str, args: tuple) -> str:
        """Name the user's argument that cannot travel ('' if none is found)."""
        positional: Any = args
        keywords: Any = {}
        if op in ("call", "apply") and len(args) == 3:
            positional, keywords = args[1], args[2]
        elif op == "method" and len(args) == 4:
            positional, keywords = args[2], args[3]
        named = [(f"positional argument {i}", value) for i, value in enumerate(positional)]
        if isinstance(keywords, dict):
            named += [(f"keyword argument {key!r}", value) for key, value in keywords.items()]
        for name, value in named:
            try:
                codec.encode(value, self._encode_ref)
            except codec.EncodeError as error:
                return f"{name}: {error}"
        return ""

    @not_keyword
    def wait_reply(
        self,
        pending: Pending,
        timeout: Optional[float],
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
        response_wrap: Optional[Callable[[Any], Any]] = None,
    ) -> Any:
        """Wait for ``pending`` at most ``timeout`` seconds (None: the runner's
        ``timeout``; negative: not at all), then raise :class:`RemoteTimeout`;
        the response can be fetched later with :meth:`get_response`. A reply
        that came in time but takes longer to decode than the rest of the
        timeout raises it too (see :mod:`.decoding`)."""
        if timeout is None:
            timeout = self.timeout
        deadline = time.monotonic() + max(timeout, 0)
        if timeout < 0 or not pending.wait(timeout):
            self.keep_for_later(pending)
            raise RemoteTimeout(pending.request_id, response_wrap,
                                f"{_what(pending)} did not finish within "
                                f"{max(timeout, 0):g} s; it goes on on the target (response "
                                f"id {pending.request_id})")  # fmt: skip
        try:
            return self._result(pending, ref_decoder, deadline)
        except decoding.DecodeOverrun as overrun:
            self.keep_for_later(pending)
            raise RemoteTimeout(pending.request_id, response_wrap,
                                f"{_what(pending)} answered, but "
                                f"{overrun} did not end within {max(timeout, 0):g} s "
                                "(the call's timeout)") from None  # fmt: skip

    def get_response(
        self,
        response_id: Union[int, RemoteTimeout],
        timeout: Optional[float] = None,
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    ) -> Any:
        """The response of a call that raised :class:`RemoteTimeout` earlier;
        waits at most ``timeout`` seconds (None: until it comes).

        ``response_id`` is the exception's ``response_id``, or the exception
        itself (as the older library takes it): then its ``response_wrap`` is
        applied to the response, as ``get_remote_proxy_response`` does."""
        if isinstance(response_id, RemoteTimeout):
            late = response_id
            return late.response_wrap(self.get_response(late.response_id, timeout, ref_decoder))
        with self._lock:
            pending = self._timed_out.get(response_id)
        if pending is None:
            raise NoSuchResponse(
                f"no pending response {response_id} in this session: it was fetched "
                "already, or the session it was started in ended (closed, or recovered "
                "after a break), and the call is lost with it: start it again"
            )
        wait = optional_seconds(timeout)
        deadline = None if wait is None else time.monotonic() + max(wait, 0)
        if not pending.wait(wait):
            raise RemoteTimeout(response_id, None,
                                f"{_what(pending)} is still running after "
                                f"another {wait:g} s (response id {response_id})")  # fmt: skip
        fetched = True
        try:
            return self._result(pending, ref_decoder, deadline)
        except decoding.DecodeOverrun as overrun:
            fetched = False
            raise RemoteTimeout(response_id, None,
                                f"{_what(pending)}: {overrun} did not end "
                                "in time") from None  # fmt: skip
        finally:
            if fetched:
                with self._lock:
                    self._timed_out.pop(response_id, None)

    def _result(
        self,
        pending: Pending,
        ref_decoder: Optional[Callable[[codec.Ref], Any]],
        deadline: Optional[float] = None,
    ) -> Any:
        running = None
        if self._decodings:  # a reply an earlier wait left decoding
            with self._lock:
                running = self._decodings.pop(pending.request_id, None)
        try:
            reply, value = decoding.decode(pending.payload(), ref_decoder, deadline, running)
        except decoding.DecodeOverrun as overrun:
            with self._lock:
                self._decodings[pending.request_id] = overrun.decoding
            raise
        connection = self._connection
        if connection is not None and connection.notices:
            self._log_notices(connection)
        if reply.stdout or reply.stderr:
            self._log_output(reply)
        if reply.described:
            for key, names in reply.described.items():
                self._methods[key] = frozenset(names)
        try:
            return replies.outcome(reply, value=value)
        except Exception as error:
            remote_traceback = getattr(error, "remote_traceback", "")
            if remote_traceback:
                LOGGER.info("Remote traceback (%s):\n%s", self.label, safe_block(remote_traceback))
            raise

    @not_keyword
    def methods_of(self, type_key: str) -> Optional[frozenset[str]]:
        """Callable attribute names the agent reported for ``type_key``."""
        return self._methods.get(type_key)

    def _log_output(self, reply: messages.Reply) -> None:
        if reply.stdout:
            LOGGER.info("Remote stdout (%s):\n%s", self.label,
                        safe_block(reply.stdout.rstrip("\n")))  # fmt: skip
        if reply.stderr:
            LOGGER.info("Remote stderr (%s):\n%s", self.label,
                        safe_block(reply.stderr.rstrip("\n")))  # fmt: skip

    def _log_notices(self, connection: AgentConnection) -> None:
        for stream, text in connection.drain_notices():
            if stream == "noise":
                LOGGER.debug("Terminal noise (skipped): %r", text)
            elif text.strip():
                LOGGER.info("Remote %s (%s, background): %s", safe_line(stream), self.label,
                            safe_block(text.rstrip("\n")))  # fmt: skip

    @not_keyword
    def with_recovery(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (one request and its reply). A plain runner runs it
        once; an auto-recovering one first makes sure the session is usable and
        runs it again on a session that broke under it."""
        return attempt()

    @not_keyword
    def discard_response(self, response_id: int) -> None:
        """Forget a response kept for later: its value is not wanted."""
        with self._lock:
            self._timed_out.pop(response_id, None)
            self._decodings.pop(response_id, None)

    @not_keyword
    def keep_for_later(self, pending: Pending) -> None:
        """Keep ``pending`` so its response can be fetched by id later."""
        _what(pending)  # described now: nothing of its arguments is kept
        with self._lock:
            self._timed_out[pending.request_id] = pending

    def _call(
        self,
        op: str,
        args: tuple,
        mode: int = MODE_VALUE,
        assign_to: Optional[str] = None,
        timeout: Optional[TimeLike] = None,
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    ) -> Any:
        pending = self.send_request(op, args, mode, assign_to)
        return self.wait_reply(pending, optional_seconds(timeout), ref_decoder)

    # ---- reference API -------------------------------------------------------------
    def run(self, cmd: str, timeout: TimeLike = -1, _rerun: bool = False) -> Any:
        """Run ``cmd`` like :meth:`run_python` (a negative ``timeout``: the
        default). On a closed or never initialized runner it raises
        :class:`RunnerTerminalSessionClosed`; a failure of the session itself
        raises :class:`RunnerTerminalSessionBroken` holding the original error."""
        wait = seconds(timeout)
        try:
            return self.run_python(cmd, timeout=None if wait < 0 else wait)
        except (RunnerTerminalSessionBroken, RunnerTerminalSessionClosed):
            raise
        except OSError as error:
            raise RunnerTerminalSessionBroken(error) from error

    def setup_session(self) -> None:
        """Start the agent in the session given to :meth:`initialize` if it is
        not running (the older library's hook, also used as ``prepare``)."""
        if not self.running and self.session is not None:
            self.initialize(self.session)

    def run_python(self, cmd: str, timeout: Optional[TimeLike] = None) -> Any:
        """Run a Python expression or statement remotely and return its value.

        A remote exception is raised here (builtin types as themselves) with
        the remote traceback logged and attached.
        """
        return self._call("eval", (cmd,), MODE_VALUE, timeout=timeout)

    def run_python_call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call remote ``function_name(*args, **kwargs)`` and return its value."""
        return self._call("call", (function_name, args, kwargs), MODE_VALUE)

    def assign_and_run_python(
        self, handle: str, cmd: str, timeout: Optional[TimeLike] = None
    ) -> RunResult:
        """Run ``cmd`` remotely, bind its value to ``handle`` there, and return
        a :class:`RunResult` (``obj`` is the value when it is of the
        ``HANDLED_TYPES``)."""
        value = self._call("eval", (cmd,), MODE_AUTO, assign_to=handle, timeout=timeout)
        if isinstance(value, codec.Ref):
            return RunResult(False, None)
        return RunResult(True, value)

    def run_and_return_handled_python(self, handle: str) -> RunResult:
        """The value behind ``handle`` as a :class:`RunResult`."""
        value = self._call("value", (handle,), MODE_AUTO)
        if isinstance(value, codec.Ref):
            self._release_refs(value, keep=handle)
            return RunResult(False, None)
        return RunResult(True, value)

    def _release_refs(self, ref: codec.Ref, keep: str) -> None:
        if ref.name != keep and self._connection is not None:
            self._connection.release_later(ref.name)

    def import_libraries(self, *imports: str) -> None:
        """Import modules remotely (``'os'``, ``'os.path'`` or an import statement)."""
        self._call("import", tuple(imports), MODE_NONE)

    def iscallable(self, remote_object: str) -> bool:
        """Whether the remote object named ``remote_object`` is callable."""
        return bool(self._call("eval", (f"callable({remote_object})",), MODE_VALUE))

    @staticmethod
    def isproxy(obj: Any) -> bool:
        """True if ``obj`` is a remote proxy."""
        return is_proxy(obj)

    def get_proxy_object(self, remote_object: str, local_spec: Any = None) -> _RemoteProxy:
        """A :class:`_RemoteProxy` for the remote object named ``remote_object``
        (a name or expression); one round trip learns its type."""
        ref = self._call("describe", (remote_object,), MODE_REF)
        return make_proxy(self, ref, name=remote_object, owned=False, local_spec=local_spec)

    def get_recursive_proxy(self, remote_object: str) -> _RecursiveProxy:
        """A :class:`_RecursiveProxy` for the remote object named ``remote_object``."""
        ref = self._call("describe", (remote_object,), MODE_REF)
        proxy = make_proxy(self, ref, name=remote_object, recursive=True, owned=False)
        assert isinstance(proxy, _RecursiveProxy)
        return proxy

    def get_proxy_object_from_call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``function_name`` remotely; the result is always a proxy."""
        ref = self._call("call", (function_name, args, kwargs), MODE_REF)
        return make_proxy(self, ref)

    def get_proxy_or_basic_from_call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``function_name`` remotely; a value of the ``HANDLED_TYPES``
        comes back as a local value, anything else as a proxy."""
        return self._call("call", (function_name, args, kwargs), MODE_AUTO,
                          ref_decoder=self._new_proxy)  # fmt: skip

    @not_keyword
    def evaluate(
        self, expression: str, timeout: Optional[TimeLike] = None, *, proxy: bool = False
    ) -> Any:
        """Evaluate ``expression`` remotely, once: plain data (what
        :meth:`run_python` returns) comes back as a local value, anything else
        as a proxy that owns the remote object; with ``proxy`` always a proxy."""
        return self._call("eval", (expression,), MODE_REF if proxy else MODE_PLAIN,
                          timeout=timeout, ref_decoder=self._new_proxy)  # fmt: skip

    @not_keyword
    def call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``function_name`` remotely: plain data (what :meth:`run_python`
        returns) comes back as a local value, anything else as a proxy that
        owns the remote result."""
        return self._call("call", (function_name, args, kwargs), MODE_PLAIN,
                          ref_decoder=self._new_proxy)  # fmt: skip

    def _new_proxy(self, ref: codec.Ref) -> _RemoteProxy:
        return make_proxy(self, ref)

    def create_empty_remote_proxy(self) -> _RemoteProxy:
        """A content-less proxy, to be filled by ``set_from_remote_proxy``."""
        return make_proxy(self, None, owned=False)

    def create_empty_recursive_proxy(self) -> _RecursiveProxy:
        """A content-less recursive proxy, to be filled by ``set_from_remote_proxy``."""
        proxy = make_proxy(self, None, recursive=True, owned=False)
        assert isinstance(proxy, _RecursiveProxy)
        return proxy

    @staticmethod
    @not_keyword
    def release_proxy(proxy: Any) -> None:
        """Make ``proxy`` unusable and release its remote object if it owns it
        (with the session's next request; no I/O here)."""
        release_proxy(proxy)

    @staticmethod
    @not_keyword
    def call_method(proxy: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call method ``name`` of ``proxy``'s remote object on the target,
        dunder methods included (``proxy.__repr__`` is local)."""
        return call_method(proxy, name, *args, **kwargs)

    @staticmethod
    @not_keyword
    def start_call(target: Any, *args: Any, **kwargs: Any) -> RemoteTimeout:
        """Start calling ``target`` (a proxy of a callable or a method attribute
        ``proxy.name``) without waiting; give the returned handle to
        ``get_remote_proxy_response`` of a proxy of the same runner. The
        proxy's own settings stay as they are."""
        return start_call(target, *args, **kwargs)

    def add_handle_to_garbage(self, session_id: int, handle: str) -> None:
        """Queue ``handle`` for release if it belongs to the current session.
        No I/O: the release rides along with the next request."""
        connection = self._connection
        if connection is None or session_id != self.session_id:
            return
        connection.release_later(handle)


def _subject(op: str, args: tuple) -> tuple:
    """What :func:`describe_request` reads of ``args``, and nothing else (a
    call's other arguments, large ones included, are not kept for it)."""
    try:
        if op in ("eval", "call"):
            return tuple(args[:1])
        if op in ("method", "getattr", "setattr", "delattr"):
            return (None, *args[1:2])
    except TypeError:
        pass
    return ()


def _what(pending: Pending) -> str:
    """What ``pending``'s request does, in words (made at the first need)."""
    subject = pending.subject
    if subject is not None:
        pending.subject = None
        if not pending.what:
            pending.what = describe_request(*subject)
    return pending.what or "the remote call"


def describe_request(op: str, args: tuple) -> str:
    """A request in words, for messages: ``run_python('time.sleep(5)')``."""

    def short(value: Any) -> str:
        text = repr(value) if not is_proxy(value) else "<proxy>"
        return text if len(text) <= 60 else text[:57] + "..."

    try:
        if op == "eval":
            return f"run_python({short(args[0])})"
        if op == "call":
            return f"{args[0]}()" if isinstance(args[0], str) else "a call"
        if op == "method":
            return f"method {args[1]}()"
        if op == "apply":
            return "a call of a proxy"
        if op in ("getattr", "setattr", "delattr"):
            return f"{op} {args[1]!r}"
    except (IndexError, TypeError):
        pass
    return f"remote {op}"
