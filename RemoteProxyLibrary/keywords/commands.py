"""Keywords that run commands on the target: Execute Command, Start Command, ..."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from robot.api import logger
from robot.api.deco import keyword

from ..remotetext import safe_line
from ..runner.commands import CommandResult, RemoteCommand, describe_command
from .converters import Seconds
from .core import LibraryCore, TerminalId

OnTimeout = Literal["kill", "terminate", "continue"]
#: Seconds `Terminate Command` waits after SIGTERM before SIGKILL.
DEFAULT_GRACE = Seconds(10)
Environment = Optional[dict[str, Optional[str]]]


class ExecutionResult:
    """What `Wait For Command` and `Terminate Command` return.

    ``rc`` (negative when a signal ended it: ``-9`` for SIGKILL), ``stdout``
    and ``stderr`` (without trailing newlines; read from the file when the
    stream went to one), ``stdout_path`` and ``stderr_path`` (None unless
    given), ``command``, ``pid`` (on the target), ``timed_out``, ``seconds``.
    """

    def __init__(self, result: CommandResult) -> None:
        self._result = result
        self.rc = result.rc
        self.stdout_path = result.stdout_path
        self.stderr_path = result.stderr_path
        self.command = result.command
        self.pid = result.pid
        self.timed_out = result.timed_out
        self.seconds = result.seconds

    @property
    def stdout(self) -> Any:
        return _strip(self._result.stdout)  # read from its file only when asked for

    @property
    def stderr(self) -> Any:
        return _strip(self._result.stderr)

    def __str__(self) -> str:
        return f"<result of {self.command!r}: rc {self.rc}>"

    __repr__ = __str__


def _strip(output: Any) -> Any:
    """Trailing newlines removed, as SSHLibrary and the Process library do."""
    if isinstance(output, str):
        return output.rstrip("\n")
    if isinstance(output, bytes):
        return output.rstrip(b"\n")
    return output


def _outputs(values: list[tuple[bool, Any]]) -> Any:
    chosen = [value for wanted, value in values if wanted]
    if len(chosen) == 1:
        return chosen[0]
    return chosen


class CommandKeywords(LibraryCore):
    """Execute Command, Start Command, Read Command Output, Wait For Command, ..."""

    @keyword("Execute Command", tags=["commands"])
    def execute_command(
        self,
        command: Union[str, list[str]],
        return_stdout: bool = True,
        return_stderr: bool = False,
        return_rc: bool = False,
        *,
        timeout: Optional[Seconds] = None,
        cwd: Optional[str] = None,
        env: Environment = None,
        stdin: Optional[str] = None,
        shell: Union[bool, str, None] = None,
        stderr: Optional[str] = None,
        encoding: str = "UTF-8",
        terminal: TerminalId = None,
    ) -> Any:
        """Runs ``command`` on the target, waits for it to end and returns its
        output, as SSHLibrary's keyword of the same name does.

        By default only stdout is returned; ``return_stderr`` and
        ``return_rc`` add stderr and the exit status, in the order stdout,
        stderr, rc (a single value alone, several as a list).
        ``return_stdout=False`` leaves stdout out. Trailing newlines are
        removed. A non-zero exit status does not fail the keyword: check it
        (or use `Start Command` and `Wait For Command` for a result object).

        The command runs as the user of the terminal's top shell, whatever the
        hops on the way (``ssh``, ``su``, ``sudo``): to run as root, open the
        terminal with ``sudo=True`` or `Push Shell` a ``SudoShell``. It
        starts in a new process, not in the terminal's shell, so ``cd`` or
        variables set by one command do not reach the next.

        The keyword returns when the command has exited *and* its output is
        closed. A background process started by the command keeps its
        output open, so ``sleep 60 & echo hi`` waits for the ``sleep`` (as
        SSHLibrary and Python's ``subprocess`` with pipes do): redirect
        such a process's output, ``daemon > /dev/null 2>&1 &``, or start it
        with `Start Command`. If the timeout passes while only such a
        process holds the output, the error says so.

        - ``command``: a string, run by ``/bin/sh -c``, or a list of
          arguments, run without a shell. ``shell`` overrides that: ``True``,
          ``False`` (a string is split like a shell would) or a shell's
          path such as ``/bin/bash``.
        - ``timeout``: how long it may run (default: the terminal's
          ``timeout``). Past it the command is killed with its whole process
          group on the target, and the keyword fails with ``CommandTimeout``
          showing the output so far.
        - ``cwd``: its working directory on the target (``~`` is expanded).
          By default, and for a relative ``cwd``, the agent's working
          directory: the directory the terminal's top shell was in when
          Python started there (after an SSH login, the login user's home;
          ``su`` without ``-`` and ``sudo`` keep the directory they were
          started in, ``su -`` goes to the new user's home).
        - ``env``: a dictionary of environment variables set on top of the
          shell's (a value of ``None`` removes one).
        - ``stdin``: text given to its standard input (default: none).
        - ``stderr=STDOUT`` merges stderr into stdout.
        - ``encoding``: of its output (undecodable bytes are replaced).

        Examples:
        | ${out} = | Execute Command | echo hello |
        | ${out} | ${rc} = | Execute Command | ls /nothing | return_rc=True |
        | ${out} | ${err} | ${rc} = | Execute Command | make | return_stderr=True | return_rc=True |
        | ${out} = | Execute Command | ls | cwd=/tmp | timeout=10 min |
        | ${rc} = | Execute Command | test -d /tmp | return_stdout=False | return_rc=True |
        | ${out} = | Execute Command | ${{['ls', '-l', '/my dir']}} |
        | ${out} = | Execute Command | sort | stdin=b\\na\\n |
        """
        runner = self._entry(terminal).runner()
        logger.info(f"Executing command '{_text(command)}'.")
        result = runner.commands.run(
            command, shell=shell, cwd=cwd, env=env, stdin=stdin, stderr=stderr,
            encoding=encoding, timeout=timeout,
        )  # fmt: skip
        logger.info(f"Command exited with return code {result.rc}.")
        stdout, stderr = _strip(result.stdout), _strip(result.stderr)
        return _outputs([(return_stdout, stdout), (return_stderr, stderr), (return_rc, result.rc)])

    @keyword("Start Command", tags=["commands"])
    def start_command(
        self,
        command: Union[str, list[str]],
        *,
        timeout: Optional[Seconds] = None,
        cwd: Optional[str] = None,
        env: Environment = None,
        stdin: Optional[str] = None,
        shell: Union[bool, str, None] = None,
        stdout: Optional[str] = None,
        stderr: Optional[str] = None,
        encoding: str = "UTF-8",
        terminal: TerminalId = None,
    ) -> RemoteCommand:
        """Starts ``command`` on the target and returns at once with a handle
        to it, for `Read Command Output`, `Wait For Command`,
        `Send Signal To Command` and `Terminate Command`. Those keywords take
        the terminal's last started command when given no handle, so
        SSHLibrary's way (`Start Command`, then `Read Command Output`)
        works as it is.

        Arguments as with `Execute Command`, and:
        - ``timeout``: how long the command may run; past it the target
          kills its whole process group, whoever waits (default: no limit).
          `Wait For Command` and `Read Command Output` then fail with
          ``CommandTimeout``, as `Execute Command` does; `Terminate Command`
          returns its result (``rc`` -9, ``timed_out`` true) without failing.
        - ``stdout``, ``stderr``: local files its output is written to
          instead of being kept in memory (any size, memory stays bounded).

        The target keeps output nobody has read yet up to 8 MB per stream;
        beyond it the command waits until it is read. A command still
        running when its terminal closes (or Python stops in it) is killed.

        Examples:
        | ${tail} = | Start Command | tail -f /var/log/syslog |
        | ${server} = | Start Command | python3 -m http.server 8080 | cwd=/tmp |
        | ${build} = | Start Command | make | stdout=${OUTPUT DIR}/build.log | stderr=STDOUT |
        """
        entry = self._entry(terminal)
        logger.info(f"Starting command '{_text(command)}'.")
        handle = entry.runner().commands.start(
            command, shell=shell, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
            stderr=stderr, encoding=encoding, timeout=timeout,
        )  # fmt: skip
        self._started_commands.setdefault(entry, []).append(handle)
        logger.info(f"Started with pid {handle.pid} on the target.")
        return handle

    @keyword("Read Command Output", tags=["commands"])
    def read_command_output(
        self,
        handle: Optional[RemoteCommand] = None,
        return_stdout: bool = True,
        return_stderr: bool = False,
        return_rc: bool = False,
        *,
        wait: bool = True,
        timeout: Optional[Seconds] = None,
        terminal: TerminalId = None,
    ) -> Any:
        """Returns the output of a command started with `Start Command` that
        was not read yet (default: the last command started in the terminal).

        With ``wait`` (the default) it first waits for the command to end, as
        SSHLibrary's keyword does (``timeout`` as with `Wait For Command`:
        past it the command is killed and the keyword fails); the command is
        then done, and the next call without a handle reads the command
        started before it. A command ended by its own ``timeout`` (given to
        `Start Command`) fails it with ``CommandTimeout``, as with
        `Wait For Command`. With ``wait=False`` it returns at once with the
        output that came since the last read, waiting at most ``timeout``
        (default 0) for some; the rc is then ``None`` while it runs.

        What is returned, as with `Execute Command`: stdout by default,
        ``return_stderr`` and ``return_rc`` add the others.

        Examples:
        | Start Command | echo built |
        | ${out} = | Read Command Output |
        | ${tail} = | Start Command | tail -f /var/log/messages |
        | ${new} = | Read Command Output | ${tail} | wait=False | timeout=2 s |
        """
        command = self._command(handle, terminal)
        if wait:
            try:
                command.wait(timeout)
            finally:
                self._forget_ended(command)
            output = command.read(0)
        else:
            output = command.read(0 if timeout is None else timeout)
        return _outputs([(return_stdout, _strip(output.stdout)),
                         (return_stderr, _strip(output.stderr)),
                         (return_rc, command.returncode)])  # fmt: skip

    @keyword("Wait For Command", tags=["commands"])
    def wait_for_command(
        self,
        handle: Optional[RemoteCommand] = None,
        timeout: Optional[Seconds] = None,
        on_timeout: OnTimeout = "kill",
        *,
        terminal: TerminalId = None,
    ) -> ExecutionResult:
        """Waits for a command started with `Start Command` (default: the
        last one started in the terminal) to end and returns its result:
        ``rc`` (negative when a signal ended it: ``-9`` for SIGKILL),
        ``stdout`` and ``stderr`` (without trailing newlines; read from the
        local file if the stream went to one), ``stdout_path``,
        ``stderr_path``, ``command``, ``pid`` (on the target), ``timed_out``
        and ``seconds``.

        ``timeout`` defaults to the terminal's ``timeout``. Past it,
        ``on_timeout`` decides: ``kill`` (the command and its whole process
        group get SIGKILL), ``terminate`` (SIGTERM, SIGKILL 10 seconds later)
        or ``continue`` (it runs on and can be waited for again); the keyword
        then fails with ``CommandTimeout`` showing the output so far.

        A command that its own ``timeout`` (given to `Start Command`) ended
        fails the keyword with ``CommandTimeout`` too, whatever
        ``on_timeout``: a timeout fails a keyword here as in
        `Execute Command` and SSHLibrary, rather than returning ``rc`` -9
        as the Process library's `Wait For Process` does. To take the result
        of such a command without failing, use `Terminate Command` (it
        returns the result of a command that already ended). A command that
        ended, by a timeout or not, is done: the next call without a handle
        takes the command started before it.

        Examples:
        | ${handle} = | Start Command | sleep 1 && echo built | cwd=/tmp |
        | ${result} = | Wait For Command | ${handle} | timeout=10 min |
        | Should Be Equal As Integers | ${result.rc} | 0 |
        """
        command = self._command(handle, terminal)
        try:
            result = command.wait(timeout, on_timeout)
        finally:
            self._forget_ended(command)
        logger.info(f"Command exited with return code {result.rc}.")
        return ExecutionResult(result)

    @keyword("Send Signal To Command", tags=["commands"])
    def send_signal_to_command(
        self,
        signal: Union[int, str],
        handle: Optional[RemoteCommand] = None,
        group: bool = True,
        *,
        terminal: TerminalId = None,
    ) -> None:
        """Sends ``signal`` (a name such as ``SIGINT`` or ``INT``, or a
        number) to a command started with `Start Command` (default: the last
        one started in the terminal): to its whole process group, or only to
        its own process with ``group=False``.

        Example:
        | ${handle} = | Start Command | sleep 60 |
        | Send Signal To Command | SIGINT | ${handle} |
        """
        self._command(handle, terminal).send_signal(signal, group)

    @keyword("Terminate Command", tags=["commands"])
    def terminate_command(
        self,
        handle: Optional[RemoteCommand] = None,
        kill: bool = False,
        *,
        grace: Seconds = DEFAULT_GRACE,
        terminal: TerminalId = None,
    ) -> ExecutionResult:
        """Stops a command started with `Start Command` (default: the last
        one started in the terminal) and returns its result, as
        `Wait For Command` does.

        Its whole process group gets SIGTERM, then SIGKILL if it has not
        ended within ``grace``; with ``kill`` SIGKILL at once. A command that
        already ended just gives its result.

        Example:
        | ${server} = | Start Command | python3 -m http.server 8080 |
        | ${result} = | Terminate Command | ${server} |
        """
        command = self._command(handle, terminal)
        result = command.kill() if kill else command.terminate(grace)
        self._forget_command(command)
        logger.info(f"Command ended with return code {result.rc}.")
        return ExecutionResult(result)

    # ---- helpers (private: Robot would list public methods as keywords) ----------------
    def _command(self, handle: Optional[RemoteCommand], terminal: TerminalId) -> RemoteCommand:
        if handle is not None:
            if not isinstance(handle, RemoteCommand):
                raise TypeError(
                    f"Expected a handle returned by 'Start Command', got {type(handle).__name__}."
                )
            return handle
        entry = self._entry(terminal, usable=False)
        started = self._started_commands.get(entry)
        if not started:
            raise ValueError(f"No command started with 'Start Command' in {entry.name} is left "
                             "to read or wait for.")  # fmt: skip
        return started[-1]

    def _forget_ended(self, command: RemoteCommand) -> None:
        """Forget ``command`` if it ended (a timeout may have ended it)."""
        if command.result is not None:
            self._forget_command(command)

    def _forget_command(self, command: RemoteCommand) -> None:
        for started in self._started_commands.values():
            if command in started:
                started.remove(command)


def _text(command: Union[str, list[str]]) -> str:
    """The command as one line, a list quoted as a shell would need it, safe
    to log (return codes and pids are checked ints: runner.commands)."""
    return safe_line(describe_command(command))
