"""Commands on the target: run one and get its result, or start one in the
background and keep a handle to it. Reached as ``runner.commands``.

::

    result = runner.commands.run("ls -l /tmp")             # a string: run by /bin/sh
    result = runner.commands.run(["ls", "-l", "/tmp"])     # a list: no shell
    print(result.rc, result.stdout, result.stderr)
    tail = runner.commands.start("tail -f /var/log/syslog")
    print(tail.read(timeout=2).stdout)                     # what came since the last read
    tail.terminate()

A command runs as the user of the terminal's top shell (every hop kind: ssh,
su, sudo), in a process group of its own, started by the agent (see
``agent/ops_commands.py``). Its output comes back in chunks of at most
``POLL_BYTES`` per stream and round trip, kept in memory or written to a local
file (``stdout=path``: memory stays bounded whatever the size); the agent
keeps at most ``buffer`` bytes per stream that nobody has read yet, then the
command waits until they are read.

Timeouts: ``run(timeout=)`` is how long the command may run (default: the
runner's ``timeout``); past it the agent kills its whole process group
(SIGKILL) and :class:`CommandTimeout` is raised with the output so far.
``start(timeout=)`` sets the same limit for a background command (default:
none). ``wait(timeout=)`` is how long to wait; past it, ``on_timeout`` says
what happens: ``kill`` (the default: the group is killed), ``terminate``
(SIGTERM, then SIGKILL after ``grace``) or ``continue`` (it runs on); then
:class:`CommandTimeout` is raised. ``wait`` raises it too for a command that
its own ``start(timeout=)`` ended, as ``run`` does (the error's ``result``
holds its result; ``terminate()`` and ``kill()`` return it without raising).
Commands still running when the agent stops are killed with their groups.
Every wait has a deadline: ``kill`` (and ``terminate`` after its grace)
waits at most ``KILL_WAIT`` seconds for the end after SIGKILL (the answer to
the SIGKILL included); past it the target is told to forget the command
(waiting ``FORGET_WAIT`` at most) and :class:`CommandTimeout` says so.
``run`` waits ``timeout`` + ``KILL_MARGIN`` for the target's own kill before
it kills. Each poll of a command's output and status is waited for until the
caller's deadline + ``POLL_MARGIN``; a reply not there by then stays due and
the next call on the command takes it (no output is lost, and it is never
taken for another poll's reply). A poll still unanswered ``POLL_REPLY_WAIT``
seconds after its own wait means the target stopped reporting the command:
it is told to forget it and :class:`CommandTimeout` says so (``run`` of a
target that answers pings but no polls ends after its first poll's wait +
``POLL_REPLY_WAIT`` + ``FORGET_WAIT``). What the target says of a command
(its id, pid, return code and output) is checked before it is used or shown;
a reply that makes no sense fails the call with :class:`ProtocolViolation`.

A command ends when its process has exited and its output is closed: a
background process it started that keeps stdout or stderr open (``daemon &``)
is waited for too, as with SSHLibrary and ``subprocess`` pipes. Redirect such
a process's output (``daemon > /dev/null 2>&1 &``) or start it with
:meth:`Commands.start`. When a timeout passes in that state, the
:class:`CommandTimeout` says so.

Relative paths (``cwd``, and where a command runs without one) are relative
to the agent's working directory: the directory the top shell was in when
Python started (see ``runner.files``).

Under auto recovery ``run`` and ``start`` are tried again when the session
breaks under them, like every call (keep commands that must not run twice out
of recovering terminals); a background command whose session broke cannot be
read any more (:class:`RunnerTerminalSessionBroken`).
"""

from __future__ import annotations

import codecs
import os
import shlex
import signal as signals
import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Optional, Union

from ..errors import CommandTimeout, ProtocolViolation, RunnerTerminalSessionBroken
from ..remotetext import safe_block
from ..timeouts import TimeLike, optional_seconds, seconds
from ..wire.messages import MODE_VALUE
from .replies import odd_reply as _odd

if TYPE_CHECKING:
    from .connection import Pending
    from .runnerterminal import RunnerTerminal

#: Bytes of each stream one round trip brings at most.
POLL_BYTES = 1 << 20
#: Seconds one poll waits on the target for output or the end.
POLL_WAIT = 1.0
#: ``stderr=STDOUT`` merges stderr into stdout.
STDOUT = "STDOUT"
#: Seconds past a command's own timeout the controller waits for the agent's kill.
KILL_MARGIN = 30.0
#: Seconds :meth:`RemoteCommand.kill` waits for the end after SIGKILL (the
#: agent gives up on pipes a process outside the group holds after 2 s).
KILL_WAIT = 10.0
#: Seconds to wait for the target to confirm it forgot a command.
FORGET_WAIT = 2.0
#: Seconds past a caller's deadline a poll's reply is still waited for; one
#: not there by then stays due, and the next call on the command takes it.
POLL_MARGIN = 0.5
#: Seconds past its own wait (at most ``POLL_WAIT``) a poll may go unanswered:
#: then the target counts as no longer reporting the command, which is given
#: up (told to forget it, :class:`CommandTimeout`).
POLL_REPLY_WAIT = 10.0
#: Return codes taken from the target: an exit status, or minus a signal.
RC_RANGE = range(-255, 256)
#: Process ids taken from the target.
PID_RANGE = range(1, 1 << 31)
ON_TIMEOUT = ("kill", "terminate", "continue")

Command = Union[str, Sequence[str]]
Output = Union[str, bytes]
LocalPath = Union[str, "os.PathLike[str]"]


def describe_command(command: Command) -> str:
    """The command as one line of text."""
    return command if isinstance(command, str) else shlex.join(str(arg) for arg in command)


def command_args(command: Command, shell: Union[bool, str, None]) -> list[str]:
    """The argument list the agent runs: ``shell`` None means a shell for a
    string and none for a list; True is ``/bin/sh``; a string names the
    shell; False splits a string like a shell would (``shlex.split``)."""
    if isinstance(command, (bytes, bytearray)) or not isinstance(command, (str, Sequence)):
        raise TypeError(f"a command is a string or a list of strings, not {type(command).__name__}")
    if not isinstance(command, str):
        if not command:
            raise ValueError("the command is empty")
        if not all(isinstance(arg, (str, int, float)) for arg in command):
            raise TypeError("a command list holds strings (or numbers)")
    elif not command.strip():
        raise ValueError("the command is empty")
    if shell is None:
        shell = isinstance(command, str)
    if shell is False:
        return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    program = "/bin/sh" if shell is True else str(shell)
    return [program, "-c", describe_command(command)]


def signal_number(value: Union[int, str]) -> int:
    """A signal given as a number (``15``) or a name (``SIGTERM``, ``TERM``)."""
    if isinstance(value, int):
        return value
    text = str(value).strip().upper()
    if text.isdigit():
        return int(text)
    name = text if text.startswith("SIG") else "SIG" + text
    number = getattr(signals, name, None)
    if not isinstance(number, int):
        raise ValueError(f"unknown signal {value!r}: give a number or a name such as SIGTERM")
    return int(number)


class CommandOutput(NamedTuple):
    """Output of a command that came since the last read."""

    stdout: Output
    stderr: Output


class CommandResult:
    """What a finished command left: ``rc`` (negative: killed by that
    signal), ``stdout``, ``stderr`` (text or bytes; read from the file when
    the stream went to ``stdout_path``/``stderr_path``), ``command``,
    ``pid`` (on the target), ``timed_out`` and ``seconds`` it ran, and
    ``held``: its own process had exited when a timeout or signal came, so a
    process it started was holding its output open."""

    def __init__(
        self,
        command: str,
        rc: int,
        pid: int,
        streams: tuple[_Stream, Optional[_Stream]],
        timed_out: bool,
        seconds: float,
        held: bool = False,
    ) -> None:
        self.command = command
        self.rc = rc
        self.pid = pid
        self.timed_out = timed_out
        self.seconds = seconds
        self.held = held
        self._streams = streams
        self.stdout_path = streams[0].path
        self.stderr_path = streams[1].path if streams[1] is not None else None

    @property
    def stdout(self) -> Output:
        return self._streams[0].value()

    @property
    def stderr(self) -> Output:
        stream = self._streams[1]
        return stream.value() if stream is not None else self._streams[0].empty()

    def __repr__(self) -> str:
        return f"<CommandResult rc={self.rc} command={self.command!r}>"


class _Stream:
    """One stream of a command: in memory, or written to a local file."""

    def __init__(
        self, path: Optional[LocalPath], text: bool, encoding: str, errors: str
    ) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.text = text
        self.encoding = encoding
        self.errors = errors
        self.file: Optional[IO[bytes]] = open(self.path, "wb") if self.path else None  # noqa: SIM115
        self.data = bytearray()
        self.cursor = 0
        self.size = 0
        self.decoder = codecs.getincrementaldecoder(encoding)(errors) if text else None

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.file is not None:
            self.file.write(chunk)
        else:
            self.data += chunk

    def take_new(self) -> Output:
        """What came since the last call (nothing when it goes to a file)."""
        new = bytes(self.data[self.cursor :])
        self.cursor = len(self.data)
        return self.decoder.decode(new) if self.decoder is not None else new

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def empty(self) -> Output:
        return "" if self.text else b""

    def value(self) -> Output:
        data: bytes
        if self.path is not None:
            if self.file is not None:
                self.file.flush()
            with open(self.path, "rb") as file:
                data = file.read()
        else:
            data = bytes(self.data)
        return data.decode(self.encoding, self.errors) if self.text else data

    def tail(self, limit: int = 2000) -> str:
        """The end of what came, for messages."""
        if self.path is not None:
            return f"(in {self.path}, {self.size} bytes)"
        text = bytes(self.data[-limit:]).decode(self.encoding if self.text else "utf-8", "replace")
        return ("..." if len(self.data) > limit else "") + text


def _request(runner: RunnerTerminal, op: str, args: tuple, timeout: Optional[float] = None) -> Any:
    """One request and its reply, without recovery (the caller decides)."""
    pending = runner.send_request(op, args, MODE_VALUE)
    return runner.wait_reply(pending, timeout)


class RemoteCommand:
    """A command running in the background on the target (see module doc).

    ``pid`` is its process (and process group) id on the target,
    ``command`` the command line. Output arrives only while a method of
    this object runs (``read``, ``wait``, ``poll``, ...): between them the
    agent keeps it, up to its ``buffer``.
    """

    def __init__(
        self,
        runner: RunnerTerminal,
        cid: int,
        pid: int,
        command: str,
        streams: tuple[_Stream, Optional[_Stream]],
        started: float,
        limit: Optional[float] = None,
    ) -> None:
        self.runner = runner
        self.pid = pid
        self.command = command
        self._cid = cid
        self._session_id = runner.session_id
        self._streams = streams
        self._started = started
        self._result: Optional[CommandResult] = None
        self._killed_here = False
        self._limit = limit  # how long it may run (start's timeout), None: no limit
        self._ended_by_limit = False  # the target ended it at self._limit
        self._poll: Optional[Pending] = None  # a cmd_poll sent and not answered yet
        self._poll_due = 0.0  # when that poll counts as never answered

    def __repr__(self) -> str:
        state = "running" if self._result is None else f"rc={self._result.rc}"
        return f"<RemoteCommand pid={self.pid} {state}: {self.command!r}>"

    # ---- state ------------------------------------------------------------------------
    @property
    def result(self) -> Optional[CommandResult]:
        """The result once the command ended and all its output came, else None."""
        return self._result

    @property
    def returncode(self) -> Optional[int]:
        """Its exit status once known (see :meth:`poll`), else None."""
        return self._result.rc if self._result is not None else None

    def poll(self) -> Optional[int]:
        """Fetch what is there without waiting; the exit status or None."""
        self._fetch(0, time.monotonic())
        return self.returncode

    # ---- output -----------------------------------------------------------------------
    def read(self, timeout: TimeLike = 0) -> CommandOutput:
        """Output that came since the last read (text or bytes), waiting at
        most ``timeout`` seconds for some if none is there yet. Output sent to
        a local file is not returned here."""
        deadline = time.monotonic() + seconds(timeout)
        while True:
            self._fetch(min(max(deadline - time.monotonic(), 0.0), POLL_WAIT), deadline)
            out = self._streams[0].take_new()
            err_stream = self._streams[1]
            err = err_stream.take_new() if err_stream is not None else self._streams[0].empty()
            if out or err or self._result is not None or time.monotonic() >= deadline:
                return CommandOutput(out, err)

    def wait(
        self,
        timeout: Optional[TimeLike] = None,
        on_timeout: str = "kill",
        grace: TimeLike = 10,
    ) -> CommandResult:
        """Wait for the end (at most ``timeout`` seconds; None: the runner's
        ``timeout``) and return the :class:`CommandResult`. Past the timeout
        the command is killed with its group (``on_timeout="kill"``),
        terminated (``"terminate"``: SIGTERM, SIGKILL after ``grace``
        seconds) or left running (``"continue"``), and
        :class:`CommandTimeout` is raised with the output so far.

        A command that its own ``timeout`` (given to :meth:`Commands.start`)
        ended raises :class:`CommandTimeout` too, as :meth:`Commands.run`
        does; its ``result`` is the error's ``result`` (and what
        :meth:`terminate` or :meth:`kill` return without raising)."""
        if on_timeout not in ON_TIMEOUT:
            choices = ", ".join(ON_TIMEOUT)
            raise ValueError(f"on_timeout must be one of {choices}, not {on_timeout!r}")
        limit = self.runner.timeout if timeout is None else seconds(timeout)
        if self._wait_until(time.monotonic() + limit):
            assert self._result is not None
            if self._ended_by_limit and self._limit is not None:
                raise self._timeout_error(self._limit, self._result)
            return self._result
        if on_timeout == "continue":
            raise CommandTimeout(
                f"Command {self.command!r} did not end within {limit:g} s; it still runs "
                f"on the target (pid {self.pid}).{self._output_so_far()}",
                self._so_far(0),
                self._so_far(1),
            )
        why = f"when its wait of {limit:g} s passed"
        if on_timeout == "terminate":
            result = self._terminate(seconds(grace), why)
        else:
            result = self._kill(why)
        result.timed_out = True
        raise self._timeout_error(limit, result)

    def _wait_until(self, deadline: Optional[float]) -> bool:
        """Fetch until the end or ``deadline``; True if it ended."""
        while self._result is None:
            wait = POLL_WAIT
            if deadline is not None:
                wait = min(deadline - time.monotonic(), POLL_WAIT)
                if wait <= 0:
                    return False
            self._fetch(wait, deadline)
        return True

    def _timeout_error(self, limit: float, result: CommandResult) -> CommandTimeout:
        if result.held:
            what = (
                f"Command {self.command!r} exited with rc {result.rc}, but a process it started "
                f"still held its output open when its timeout of {limit:g} s passed; its process "
                "group was killed on the target. A background process keeps the command's "
                "output open until it ends: redirect it ('daemon > /dev/null 2>&1 &') or use "
                "Start Command for it."
            )
        else:
            how = "killed" if result.rc == -signals.SIGKILL else f"ended with rc {result.rc}"
            what = (f"Command {self.command!r} ran past its timeout of {limit:g} s and was "
                    f"{how} with its process group on the target.")  # fmt: skip
        return CommandTimeout(
            f"{what}{self._output_so_far()}",
            self._so_far(0),
            self._so_far(1),
            result,
        )

    def _so_far(self, index: int) -> Output:
        """What came of a stream, if kept in memory (a file may be huge)."""
        stream = self._streams[index]
        if stream is None or stream.path is not None:
            return self._streams[0].empty()
        return stream.value()

    def _output_so_far(self) -> str:
        parts = []
        for name, stream in zip(("stdout", "stderr"), self._streams):
            if stream is not None and (stream.size or stream.path):
                parts.append(f"\n{name}: {safe_block(stream.tail().rstrip())}")
        return "\nOutput so far:" + "".join(parts) if parts else " No output."

    # ---- signals ----------------------------------------------------------------------
    def send_signal(self, signal: Union[int, str], group: bool = True) -> None:
        """Send ``signal`` (a number or a name such as ``SIGINT``) to the
        command's process group, or to its process only (``group=False``)."""
        number = signal_number(signal)
        if self._result is None:
            self._check_session()
            _request(self.runner, "cmd_signal", (self._cid, number, bool(group)))

    def kill(self) -> CommandResult:
        """Kill the command with its process group (SIGKILL); its result.
        When the target does not report its end within ``KILL_WAIT`` seconds
        it is told to forget the command and :class:`CommandTimeout` is raised."""
        return self._kill("as asked")

    def terminate(self, grace: TimeLike = 10) -> CommandResult:
        """SIGTERM to the process group; SIGKILL when it has not ended after
        ``grace`` seconds. Its result (see :meth:`kill`)."""
        return self._terminate(seconds(grace), "as asked")

    def _terminate(self, grace: float, why: str) -> CommandResult:
        deadline = time.monotonic() + grace
        if self._result is None and not self._signal(signals.SIGTERM, grace):
            return self._kill(f"{why}, and the SIGTERM went unanswered for {grace:g} s")
        if self._wait_until(deadline):
            assert self._result is not None
            return self._result
        return self._kill(f"{why}, and {grace:g} s after SIGTERM")

    def _signal(self, number: int, limit: float) -> bool:
        """``number`` to the process group; False if the target did not
        answer within ``limit`` seconds (the late answer is dropped)."""
        self._check_session()
        pending = self.runner.send_request("cmd_signal", (self._cid, number, True), MODE_VALUE)
        if not pending.wait(max(limit, 0.0)):
            pending.drop()
            return False
        self.runner.wait_reply(pending, POLL_MARGIN)
        return True

    def _kill(self, why: str) -> CommandResult:
        deadline = time.monotonic() + KILL_WAIT
        if self._result is None and not self._signal(signals.SIGKILL, KILL_WAIT):
            raise self._abandon(
                f"got no answer to the SIGKILL sent to its process group {why} within "
                f"{KILL_WAIT:g} s"
            )
        self._killed_here = True
        if not self._wait_until(deadline):
            raise self._abandon(
                f"did not end within {KILL_WAIT:g} s of the SIGKILL sent to its process group "
                f"{why}: the target never reported its end"
            )
        assert self._result is not None
        return self._result

    def _abandon(self, what: str) -> CommandTimeout:
        """The error for a command given up on (see :meth:`_forget_on_target`)."""
        self._forget_on_target()
        return CommandTimeout(
            f"Command {self.command!r} (pid {self.pid} on the target) {what}; the target was "
            f"told to forget it.{self._output_so_far()}",
            self._so_far(0),
            self._so_far(1),
        )

    def forget(self) -> None:
        """Kill it if it runs and let the target forget it (and its output)."""
        self._drop_poll()
        if self._result is None and self.runner.session_id == self._session_id:
            _request(self.runner, "cmd_forget", (self._cid,))
        for stream in self._streams:
            if stream is not None:
                stream.close()

    def _forget_on_target(self) -> None:
        """Give up on the command: the target is told to forget it (best
        effort, waiting at most ``FORGET_WAIT`` seconds); local files closed."""
        self._drop_poll()
        same = self.runner.running and self.runner.session_id == self._session_id
        if self._result is None and same:
            try:
                _request(self.runner, "cmd_forget", (self._cid,), FORGET_WAIT)
            except Exception:
                pass
        for stream in self._streams:
            if stream is not None:
                stream.close()

    # ---- transport --------------------------------------------------------------------
    def _check_session(self) -> None:
        if self.runner.session_id != self._session_id or not self.runner.running:
            raise RunnerTerminalSessionBroken(
                f"the session that ran command {self.command!r} (pid {self.pid}) ended: "
                "its output and status are lost"
            )

    def _drop_poll(self) -> None:
        """Stop waiting for a poll still due (its late reply is dropped)."""
        pending, self._poll = self._poll, None
        if pending is not None:
            pending.drop()

    def _fetch(self, wait: float, deadline: Optional[float] = None) -> None:
        """One round trip: output and, at the end, the status. The target
        waits ``wait`` seconds at most for something to report; its reply is
        waited for until ``deadline`` + ``POLL_MARGIN`` (see module doc)."""
        if self._result is not None:
            return
        self._check_session()
        if self._poll is None:
            wait = max(wait, 0.0)
            self._poll = self.runner.send_request(
                "cmd_poll", (self._cid, POLL_BYTES, wait), MODE_VALUE
            )
            self._poll_due = time.monotonic() + wait + POLL_REPLY_WAIT
        pending = self._poll
        until = self._poll_due if deadline is None else min(self._poll_due, deadline + POLL_MARGIN)
        if not pending.wait(max(until - time.monotonic(), 0.0)):
            if time.monotonic() < self._poll_due:
                return  # still due: the next fetch takes its reply
            raise self._abandon(
                f"went unreported: the target left a poll of its output and status unanswered "
                f"for {POLL_REPLY_WAIT:g} s past the poll's wait, while the session stayed alive"
            )
        self._poll = None
        reply = self.runner.wait_reply(pending, POLL_MARGIN)
        try:
            out, err, end = _checked_poll(reply)
        except ProtocolViolation:
            self._forget_on_target()
            raise
        self._streams[0].add(out)
        if self._streams[1] is not None:
            self._streams[1].add(err)
        if end is not None:
            rc, timed_out, held = end
            self._ended_by_limit = bool(timed_out)
            for stream in self._streams:
                if stream is not None:
                    stream.close()
            self._result = CommandResult(
                self.command,
                rc,
                self.pid,
                self._streams,
                bool(timed_out),
                time.monotonic() - self._started,
                bool(held),
            )


class Commands:
    """``runner.commands``: run commands on the target (see module doc)."""

    def __init__(self, runner: RunnerTerminal) -> None:
        self.runner = runner

    def run(
        self,
        command: Command,
        *,
        shell: Union[bool, str, None] = None,
        cwd: Optional[str] = None,
        env: Optional[Mapping[str, Optional[str]]] = None,
        inherit_env: bool = True,
        stdin: Union[str, bytes, None] = None,
        stdout: Optional[LocalPath] = None,
        stderr: Optional[LocalPath] = None,
        text: bool = True,
        encoding: str = "utf-8",
        errors: str = "replace",
        timeout: Optional[TimeLike] = None,
        buffer: int = 8 << 20,
    ) -> CommandResult:
        """Run ``command`` on the target, wait for it and return its
        :class:`CommandResult` (a non-zero ``rc`` is not an error).

        - ``command``: a string (run by ``/bin/sh -c``) or a list of
          arguments (run as such); ``shell`` overrides that: True, False (a
          string is then split like a shell does) or a shell's path.
        - ``cwd``: the working directory on the target (default, and what a
          relative one is relative to: the agent's working directory, see
          module doc); ``~`` is expanded.
        - ``env``: variables set (a value of None removes one) on top of the
          shell's environment, or instead of it with ``inherit_env=False``.
        - ``stdin``: data given to the command (text is encoded with
          ``encoding``); without it stdin is ``/dev/null``.
        - ``stdout``, ``stderr``: local files the output goes to instead of
          memory; ``stderr="STDOUT"`` merges stderr into stdout.
        - ``text``: output as text decoded with ``encoding`` and ``errors``,
          or as bytes.
        - ``timeout``: how long it may run (default: the runner's ``timeout``);
          past it the whole process group is killed on the target and
          :class:`CommandTimeout` is raised with the output so far.
        - ``buffer``: bytes of each stream the target keeps unread.
        """
        limit = self.runner.timeout if timeout is None else seconds(timeout)
        options = dict(shell=shell, cwd=cwd, env=env, inherit_env=inherit_env, stdin=stdin,
                       stdout=stdout, stderr=stderr, text=text, encoding=encoding,
                       errors=errors, buffer=buffer)  # fmt: skip

        def attempt() -> RemoteCommand:
            handle = self._start(command, limit, **options)  # type: ignore[arg-type]
            if not handle._wait_until(time.monotonic() + limit + KILL_MARGIN):
                handle.kill().timed_out = True  # the target did not (a stopped agent?)
            return handle

        handle = self.runner.with_recovery(attempt)
        result = handle.result
        assert result is not None
        if result.timed_out:
            raise handle._timeout_error(limit, result)
        return result

    def start(
        self,
        command: Command,
        *,
        shell: Union[bool, str, None] = None,
        cwd: Optional[str] = None,
        env: Optional[Mapping[str, Optional[str]]] = None,
        inherit_env: bool = True,
        stdin: Union[str, bytes, None] = None,
        stdout: Optional[LocalPath] = None,
        stderr: Optional[LocalPath] = None,
        text: bool = True,
        encoding: str = "utf-8",
        errors: str = "replace",
        timeout: Optional[TimeLike] = None,
        buffer: int = 8 << 20,
    ) -> RemoteCommand:
        """Start ``command`` in the background and return a
        :class:`RemoteCommand` at once. Arguments as with :meth:`run`, except
        ``timeout``: how long the command may run before the target kills its
        group (default: no limit; :meth:`RemoteCommand.wait` then raises
        :class:`CommandTimeout`)."""
        limit = optional_seconds(timeout)
        return self.runner.with_recovery(
            lambda: self._start(command, limit, shell=shell, cwd=cwd, env=env,
                                inherit_env=inherit_env, stdin=stdin, stdout=stdout,
                                stderr=stderr, text=text, encoding=encoding, errors=errors,
                                buffer=buffer)
        )

    def _start(
        self,
        command: Command,
        limit: Optional[float],
        *,
        shell: Union[bool, str, None],
        cwd: Optional[str],
        env: Optional[Mapping[str, Optional[str]]],
        inherit_env: bool,
        stdin: Union[str, bytes, None],
        stdout: Optional[LocalPath],
        stderr: Optional[LocalPath],
        text: bool,
        encoding: str,
        errors: str,
        buffer: int,
    ) -> RemoteCommand:
        codecs.lookup(encoding)  # an unknown encoding fails here, before anything runs
        codecs.lookup_error(errors)
        spec: dict[str, Any] = {
            "args": command_args(command, shell),
            "cwd": cwd,
            "env": _checked_env(env),
            "inherit_env": bool(inherit_env),
            "stdin": stdin.encode(encoding) if isinstance(stdin, str) else stdin,
            "merge": isinstance(stderr, str) and stderr.upper() == STDOUT,
            "timeout": limit,
            "buffer": int(buffer),
        }
        if spec["stdin"] is not None and not isinstance(spec["stdin"], (bytes, bytearray)):
            raise TypeError(f"stdin is text or bytes, not {type(stdin).__name__}")
        out = _Stream(stdout, text, encoding, errors)
        err = None if spec["merge"] else _Stream(stderr, text, encoding, errors)
        started = time.monotonic()
        try:
            cid, pid = _checked_start(self.runner, _request(self.runner, "cmd_start", (spec,)))
        except BaseException:
            out.close()
            if err is not None:
                err.close()
            raise
        return RemoteCommand(self.runner, cid, pid, describe_command(command), (out, err), started,
                             limit)  # fmt: skip


def _checked_env(env: Optional[Mapping[str, Optional[str]]]) -> Optional[dict[str, Optional[str]]]:
    if env is None:
        return None
    if not isinstance(env, Mapping):
        raise TypeError(f"env is a mapping of names to values, not {type(env).__name__}")
    checked: dict[str, Optional[str]] = {}
    for name, value in env.items():
        if not isinstance(name, str) or not name or "=" in name:
            raise ValueError(f"invalid environment variable name {name!r}")
        if value is not None and not isinstance(value, str):
            value = str(value)
        checked[name] = value
    return checked


# ---- what the target says -------------------------------------------------------------------
def _checked_start(runner: RunnerTerminal, value: Any) -> tuple[int, int]:
    """The reply of ``cmd_start``: ``(cid, pid)``, two ints (a started
    command whose reply makes no sense is told to stop)."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise _odd("cmd_start", "the reply", value)
    cid, pid = value
    if type(cid) is not int or cid < 0:
        raise _odd("cmd_start", "the command's id", cid)
    if type(pid) is not int or pid not in PID_RANGE:
        try:
            _request(runner, "cmd_forget", (cid,), FORGET_WAIT)
        except Exception:
            pass
        raise _odd("cmd_start", "the pid", pid)
    return cid, pid


def _checked_poll(value: Any) -> tuple[bytes, bytes, Optional[tuple[int, bool, bool]]]:
    """The reply of ``cmd_poll``: bytes of each stream (at most
    ``POLL_BYTES``), and the end: None or ``(rc, timed_out, held)``."""
    if not isinstance(value, tuple) or len(value) != 3:
        raise _odd("cmd_poll", "the reply", value)
    out, err, end = value
    for name, data in (("stdout", out), ("stderr", err)):
        if type(data) is not bytes:
            raise _odd("cmd_poll", f"{name}, not bytes,", type(data).__name__)
        if len(data) > POLL_BYTES:
            raise _odd("cmd_poll", f"{name}'s length (at most {POLL_BYTES} asked for)", len(data))
    if end is None:
        return out, err, None
    if not isinstance(end, tuple) or len(end) != 3:
        raise _odd("cmd_poll", "the end", end)
    rc, timed_out, held = end
    if type(rc) is not int or rc not in RC_RANGE:
        raise _odd("cmd_poll", "the return code", rc)
    if type(timed_out) is not bool or type(held) is not bool:
        raise _odd("cmd_poll", "the end", end)
    return out, err, (rc, timed_out, held)
