"""RunnerTerminal: run Python on the target and get values or proxies back.

The runner starts the agent in the current shell of an
:class:`~RemoteProxyLibrary.shells.InteractiveSession` (at the ``>>>`` of a
:class:`PythonShell`, or as ``python3 -c`` from any other shell) and then
speaks frames with it (see :mod:`RemoteProxyLibrary.runner.connection`).

Decisions where the reference is vague:

- ``run_python`` returns the value when it is plain data (``HANDLED_TYPES``);
  any other value raises :class:`UnableToSerialize` and the session stays usable
  (use ``get_proxy_object_from_call`` or ``assign_and_run_python`` to keep it
  remote). A statement (``a = 1``) returns ``None``.
- Remote code runs in one namespace of its own on the target, where ``os``
  and ``sys`` are imported from the start (as in the older library, so
  ``get_recursive_proxy('os')`` works at once); import anything else with
  ``import_libraries``.
- Default timeout of remote calls: ``timeout`` (3600 s) plus ``prompt_timeout``.
- Dropped proxies' handles ride along with the next request, whatever its kind,
  so at most the handles dropped since the last request wait on the target
  (``MAX_GARBAGE`` is kept for API compatibility).
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from typing import Any, Callable, Optional, TypeVar

from ..errors import (
    RemoteError,
    RemoteTimeout,
    RunnerException,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    RunnerTerminalUnableToDeserialize,
    TerminalTimeout,
    UnableToSerialize,
)
from ..shells import InteractiveSession, PythonShell
from ..wire import codec
from . import bootstrap
from .connection import AgentConnection, Pending, Reply
from .proxies import _RecursiveProxy, _RemoteMethod, _RemoteProxy, _RemoteProxyBase

LOGGER = logging.getLogger("RemoteProxyLibrary.runner")

T = TypeVar("T")

MODE_VALUE = 0
MODE_AUTO = 1
MODE_REF = 2
MODE_NONE = 3

STATUS_OK = 0
STATUS_EXCEPTION = 1
STATUS_CANNOT_TRAVEL = 2


class RunResult:
    """Result of :meth:`RunnerTerminal.assign_and_run_python`: ``isobj`` tells
    whether ``obj`` holds the value (plain data) or not (it stays remote)."""

    __slots__ = ("isobj", "obj")

    def __init__(self, isobj: bool, obj: Any) -> None:
        self.isobj = isobj
        self.obj = obj

    def __repr__(self) -> str:
        return f"RunResult(isobj={self.isobj!r}, obj={self.obj!r})"


def _builtin_exception(
    cls: type[Exception], args: Optional[tuple], message: str
) -> Optional[Exception]:
    """``cls(*args)``, else ``cls(message)``; None when neither fits (e.g.
    ExceptionGroup or UnicodeDecodeError with arguments that could not travel)."""
    for arguments in (args, (message,)) if args is not None else ((message,),):
        try:
            return cls(*arguments)
        except Exception:
            continue
    return None


class RunnerTerminal:
    """The Python terminal session behind the transparent proxies."""

    #: What travels by value where a call may return a value or a proxy. Set a
    #: narrower tuple (on the class or an instance) to get proxies for, e.g.,
    #: lists; the codec carries no other types.
    HANDLED_TYPES: tuple[type, ...] = (
        type(None), bool, int, float, complex, str, bytes, bytearray,
        list, tuple, dict, set, frozenset,
    )  # fmt: skip
    MAX_GARBAGE = 100

    def __init__(self, timeout: float = 3600, prompt_timeout: float = 30, python: str = "python3"):
        #: Silence (seconds) during a call after which the agent is pinged.
        self.liveness_interval = 2.0
        #: Seconds a ping may take before the session counts as broken.
        self.liveness_timeout = 3.0
        self.timeout = float(timeout)
        self.prompt_timeout = float(prompt_timeout)
        self.python = python
        self.session: Any = None
        self.session_id = 0
        self._interactive: Optional[InteractiveSession] = None
        self._connection: Optional[AgentConnection] = None
        self._started_in_python_shell = False
        self._methods: dict[str, frozenset[str]] = {}
        self._timed_out: dict[int, Pending] = {}
        self._lock = threading.Lock()

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
        line = boot.stage0 if in_python else boot.command_for_shell(self.python)
        spawn = terminal.spawn
        spawn.sendline(line)
        ready = bootstrap.READY + "\r\n"
        try:
            spawn.expect_exact([ready], timeout=self.prompt_timeout)
        except Exception as error:
            last = str(spawn.before)[-500:]
            raise RunnerTerminalSessionBroken(
                f"{shell.describe()}: agent stage-0 did not start: {type(error).__name__}; "
                f"last output: {last!r}"
            ) from None
        leftover = terminal.take_buffered()
        terminal.write(boot.blob)
        sentinels = tuple(s.prompt for s in interactive.shells)
        connection = AgentConnection(terminal, name=shell.describe(), sentinels=sentinels)
        connection.start(leftover)
        hello = connection.hello
        assert hello is not None
        if not hello.wait(self.prompt_timeout):
            connection.stop()
            raise RunnerTerminalSessionBroken(f"{shell.describe()}: the agent did not say hello")
        hello.payload()
        self._negotiate_raw_replies(connection)
        with self._lock:
            self._interactive = interactive
            self._connection = connection
            self._started_in_python_shell = in_python
            self._methods = {}
            self._timed_out = {}
            self.session_id += 1
        self._configure_handled_types()

    def _negotiate_raw_replies(self, connection: AgentConnection) -> None:
        """Let large replies travel as raw bytes (no base64) if the path from
        the target carries all 256 byte values unchanged.

        The agent echoes a probe of every byte value (and the sequences a
        terminal or an ssh client could rewrite) as a raw frame; only an
        intact echo switches it to raw replies. Requests always stay base64,
        so what we send stays inert text if it ever reaches a plain shell.
        """
        probe = bytes(range(256)) * 4 + b"\n~.\r\n~?\x11\x13\x03\x04\x1a\x1c\x7f"
        pending = connection.request("B", probe)
        intact = False
        if pending.wait(min(self.prompt_timeout, 2.0)):
            try:
                intact = bytes(pending.payload()) == probe
            except RunnerException:
                intact = False
        else:
            connection.forget(pending)
        if intact:
            connection.notify("E", b"")
        connection.raw_replies = intact
        LOGGER.debug("%s: raw replies %s", connection.name, "on" if intact else "off")

    def _configure_handled_types(self) -> None:
        """Tell the agent about a HANDLED_TYPES narrower than the default."""
        handled = tuple(self.HANDLED_TYPES)
        if set(handled) == set(RunnerTerminal.HANDLED_TYPES):
            return
        unknown = [t for t in handled if t not in RunnerTerminal.HANDLED_TYPES]
        if unknown:
            raise ValueError(
                f"HANDLED_TYPES may only name types the codec carries by value, not {unknown}"
            )
        names = tuple("NoneType" if t is type(None) else t.__name__ for t in handled)
        self._call("configure", (names,), MODE_NONE)

    def close(self) -> None:
        """Stop the agent and give the terminal back to the shell it started in.

        The agent removes its modules and handles and restores the tty.
        """
        with self._lock:
            connection, self._connection = self._connection, None
            interactive, self._interactive = self._interactive, None
            self.session_id += 1
        if connection is None:
            return
        try:
            if connection.broken is None:
                pending = connection.request("Z", b"")
                pending.wait(self.prompt_timeout)
        except RunnerTerminalSessionBroken:
            pass
        finally:
            connection.stop()
        self._log_notices(connection)
        if interactive is not None and connection.broken is None:
            try:
                interactive.current_shell()._expect_prompt(self.prompt_timeout, "closing agent")
            except Exception as error:
                LOGGER.warning("terminal did not return to its prompt: %s", error)

    @property
    def connection(self) -> AgentConnection:
        if self._connection is None:
            raise RunnerTerminalSessionClosed("RunnerTerminal is closed or not initialized")
        return self._connection

    @property
    def round_trips(self) -> int:
        """Requests sent to the agent so far, each one round trip (liveness
        checks and close not counted)."""
        return self._connection.round_trips if self._connection else 0

    # ---- requests ------------------------------------------------------------------
    def _encode_ref(self, obj: Any) -> Optional[codec.Ref]:
        if isinstance(obj, (_RemoteProxyBase, _RemoteMethod)):
            return obj._rpl_ref_for_session(self.session_id)
        return None

    def send_request(
        self, op: str, args: tuple, mode: int = MODE_VALUE, assign_to: Optional[str] = None
    ) -> Pending:
        """Send one request; the garbage queued so far rides along."""
        connection = self.connection
        garbage = connection.take_garbage()
        try:
            payload = codec.encode((garbage, op, args, mode, assign_to), self._encode_ref)
        except codec.EncodeError as error:
            for handle in garbage:
                connection.release_later(handle)
            which = self._unencodable_argument(op, args)
            raise UnableToSerialize(f"argument cannot travel: {which or error}") from None
        return connection.request("R", payload)

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

    def wait_reply(
        self,
        pending: Pending,
        timeout: Optional[float],
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
        response_wrap: Optional[Callable[[Any], Any]] = None,
    ) -> Any:
        """Wait for ``pending``; raise :class:`RemoteTimeout` if it does not come."""
        if timeout is None:
            timeout = self.timeout + self.prompt_timeout
        if timeout < 0 or not self._wait_alive(pending, timeout):
            self.keep_for_later(pending)
            raise RemoteTimeout(pending.request_id, response_wrap,
                                f"remote call {pending.request_id} did not answer "
                                f"within {max(timeout, 0):g} s")  # fmt: skip
        return self._result(pending, ref_decoder)

    def _wait_alive(self, pending: Pending, timeout: float) -> bool:
        """Wait for ``pending``; while the target is silent, check it is alive.

        The agent answers pings from its reader thread, so a slow call keeps
        answering while a dead link or a stopped process does not. Returns
        False on timeout; raises RunnerTerminalSessionBroken when broken.
        """
        if pending.wait(min(timeout, self.liveness_interval)):
            return True
        connection = pending.owner  # not self._connection: it may be a newer one
        deadline = time.monotonic() + timeout - min(timeout, self.liveness_interval)
        while True:
            if connection is None or connection.broken is not None:
                pending.payload()  # raises the reason it broke
                raise RunnerTerminalSessionBroken("session closed while waiting")
            now = time.monotonic()
            if now >= deadline:
                return pending.done()
            if now - connection.last_heard >= self.liveness_interval:
                self._check_alive(connection, pending)
            if pending.wait(min(deadline - now, self.liveness_interval)):
                return True

    def _check_alive(self, connection: AgentConnection, pending: Pending) -> None:
        ping = connection.request("P", b"")
        if ping.wait(self.liveness_timeout) or pending.done():
            return
        if connection.last_heard >= ping.sent_at:
            # bytes came (the agent's heartbeat) though the ping was not
            # answered: a call holds the GIL there; alive, only busy
            connection.forget(ping)
            return
        connection.mark_broken(
            TerminalTimeout(
                f"{connection.name}: no answer to a liveness check within "
                f"{self.liveness_timeout:g} s (link or target hung)"
            )
        )
        pending.payload()

    def get_response(
        self,
        response_id: int,
        timeout: Optional[float] = None,
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    ) -> Any:
        """The response of a call that raised :class:`RemoteTimeout` earlier."""
        with self._lock:
            pending = self._timed_out.get(response_id)
        if pending is None:
            raise KeyError(f"no pending response {response_id} in this session")
        if not self._wait_alive(pending, float("inf") if timeout is None else timeout):
            raise RemoteTimeout(response_id, None, f"remote call {response_id} still running")
        with self._lock:
            self._timed_out.pop(response_id, None)
        return self._result(pending, ref_decoder)

    def _result(self, pending: Pending, ref_decoder: Optional[Callable[[codec.Ref], Any]]) -> Any:
        reply = Reply(pending.payload())
        connection = self._connection
        if connection is not None:
            self._log_notices(connection)
        self._log_output(reply)
        meta_described = reply.described
        if meta_described:
            for key, names in meta_described.items():
                self._methods[key] = frozenset(names)
        if reply.status == STATUS_OK:
            return reply.value(ref_decoder)
        if reply.status == STATUS_CANNOT_TRAVEL:
            raise UnableToSerialize(f"return value cannot travel by value: {reply.value()}")
        raise self._remote_exception(reply.value())

    def methods_of(self, type_key: str) -> Optional[frozenset[str]]:
        """Callable attribute names the agent reported for ``type_key``."""
        return self._methods.get(type_key)

    @staticmethod
    def _remote_exception(description: Any) -> BaseException:
        try:
            module, qualname, args, message, remote_traceback = description
            if not all(isinstance(x, str) for x in (module, qualname, message, remote_traceback)):
                raise TypeError("non-text fields")
            if args is not None and not isinstance(args, tuple):
                raise TypeError("args not a tuple")
        except (TypeError, ValueError) as problem:
            return RunnerTerminalUnableToDeserialize(
                f"malformed exception description in the reply ({problem})"
            )
        LOGGER.info("Remote traceback:\n%s", remote_traceback)
        error: Optional[BaseException] = None
        cls = getattr(builtins, qualname, None) if module == "builtins" else None
        if isinstance(cls, type) and issubclass(cls, Exception):
            error = _builtin_exception(cls, args, message)
        if error is None:
            name = qualname if module == "builtins" else f"{module}.{qualname}"
            error = RemoteError(name, message, remote_traceback)
        error.remote_traceback = remote_traceback  # type: ignore[attr-defined]
        if hasattr(error, "add_note"):
            error.add_note("Remote traceback:\n" + remote_traceback.rstrip())
        return error

    def _log_output(self, reply: Reply) -> None:
        if reply.stdout:
            LOGGER.info("Remote stdout:\n%s", reply.stdout.rstrip("\n"))
        if reply.stderr:
            LOGGER.info("Remote stderr:\n%s", reply.stderr.rstrip("\n"))

    def _log_notices(self, connection: AgentConnection) -> None:
        for stream, text in connection.drain_notices():
            if stream == "noise":
                LOGGER.debug("Terminal noise (skipped): %r", text)
            else:
                LOGGER.info("Remote %s (background): %s", stream, text.rstrip("\n"))

    def with_recovery(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (one request and its reply). A plain runner runs it
        once; an auto-recovering one first makes sure the session is usable and
        runs it again on a session that broke under it."""
        return attempt()

    def keep_for_later(self, pending: Pending) -> None:
        """Keep ``pending`` so its response can be fetched by id later."""
        with self._lock:
            self._timed_out[pending.request_id] = pending

    def _call(
        self,
        op: str,
        args: tuple,
        mode: int = MODE_VALUE,
        assign_to: Optional[str] = None,
        timeout: Optional[float] = None,
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    ) -> Any:
        pending = self.send_request(op, args, mode, assign_to)
        return self.wait_reply(pending, timeout, ref_decoder)

    # ---- reference API -------------------------------------------------------------
    def run(self, cmd: str, timeout: float = -1, _rerun: bool = False) -> Any:
        """Run ``cmd`` like :meth:`run_python`; a failure of the session itself
        raises :class:`RunnerTerminalSessionBroken` holding the original error."""
        try:
            return self.run_python(cmd, timeout=None if timeout < 0 else timeout)
        except RunnerTerminalSessionBroken:
            raise
        except (OSError, RunnerTerminalSessionClosed) as error:
            raise RunnerTerminalSessionBroken(error) from error

    def run_python(self, cmd: str, timeout: Optional[float] = None) -> Any:
        """Run a Python expression or statement remotely and return its value.

        A remote exception is raised here (builtin types as themselves) with
        the remote traceback logged and attached.
        """
        return self._call("eval", (cmd,), MODE_VALUE, timeout=timeout)

    def run_python_call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call remote ``function_name(*args, **kwargs)`` and return its value."""
        return self._call("call", (function_name, args, kwargs), MODE_VALUE)

    def assign_and_run_python(
        self, handle: str, cmd: str, timeout: Optional[float] = None
    ) -> RunResult:
        """Run ``cmd`` remotely, bind its value to ``handle`` there, and return
        a :class:`RunResult` (``obj`` is the value when it is plain data)."""
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
        return isinstance(obj, (_RemoteProxyBase, _RemoteMethod))

    def get_proxy_object(self, remote_object: str, local_spec: Any = None) -> _RemoteProxy:
        """A :class:`_RemoteProxy` for the remote object named ``remote_object``
        (a name or expression); one round trip learns its type."""
        ref = self._call("describe", (remote_object,), MODE_REF)
        return _RemoteProxy(self, remote_object, local_spec, is_remote_owned=False, ref=ref)

    def get_recursive_proxy(self, remote_object: str) -> _RecursiveProxy:
        """A :class:`_RecursiveProxy` for the remote object named ``remote_object``."""
        ref = self._call("describe", (remote_object,), MODE_REF)
        return _RecursiveProxy(self, remote_object, is_remote_owned=False, ref=ref)

    def get_proxy_object_from_call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``function_name`` remotely; the result is always a proxy."""
        ref = self._call("call", (function_name, args, kwargs), MODE_REF)
        return _RemoteProxy(self, ref.name, None, is_remote_owned=True, ref=ref)

    def get_proxy_or_basic_from_call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``function_name`` remotely; plain data comes back as a local
        value, anything else as a proxy."""
        value = self._call("call", (function_name, args, kwargs), MODE_AUTO)
        if isinstance(value, codec.Ref):
            return _RemoteProxy(self, value.name, None, is_remote_owned=True, ref=value)
        return value

    def create_empty_remote_proxy(self) -> _RemoteProxy:
        """A content-less proxy, to be filled by ``set_from_remote_proxy``."""
        return _RemoteProxy(self, None, None, is_remote_owned=False)

    def create_empty_recursive_proxy(self) -> _RecursiveProxy:
        """A content-less recursive proxy, to be filled by ``set_from_remote_proxy``."""
        return _RecursiveProxy(self, None, is_remote_owned=False)

    def add_handle_to_garbage(self, session_id: int, handle: str) -> None:
        """Queue ``handle`` for release if it belongs to the current session.
        No I/O: the release rides along with the next request."""
        connection = self._connection
        if connection is None or session_id != self.session_id:
            return
        connection.release_later(handle)
