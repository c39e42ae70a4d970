"""Helpers of atest/reference_api.robot, written with the reference API only.

Everything here goes through the porting modules that keep the older
library's names (``RemoteProxyLibrary.runnerterminal``, ``.autorunnerterminal``,
``.InteractiveSession``, ``.runnerexceptions``): it is the kind of code a user
of the older library has, with its imports changed.

- ``RemoteCommands``: an AutoRunnerTerminal whose proxies are created empty and
  filled in ``prepare`` (so they are filled again after a recovery); it starts
  shell commands in the background (``Popen.communicate`` in asynchronous
  mode), waits for them with a timeout, stops them, and copies files both ways
  through remote file objects.
- ``SessionHolder``: what ``RunnerTerminal.initialize`` takes, an object whose
  ``get_session()`` returns an InteractiveSession.
"""

from __future__ import annotations

import contextlib
import errno
import filecmp
import io
import os
import signal
import time
from collections import namedtuple
from typing import Any, Callable, Optional

from RemoteProxyLibrary.autorunnerterminal import AutoRunnerTerminal
from RemoteProxyLibrary.InteractiveSession import (
    BashShell,
    InteractiveSession,
    SshShell,
    SudoShell,
)
from RemoteProxyLibrary.runnerexceptions import RemoteTimeout, RunnerTerminalSessionBroken

#: What a background command gave: its exit status and its two outputs (bytes).
CommandResult = namedtuple("CommandResult", "returncode stdout stderr")

#: The outcome of a call expected to time out: the RemoteTimeout and how long
#: the call took.
TimedOut = namedtuple("TimedOut", "error seconds")


class StartedCommand:
    """A command running on the target: its Popen proxy and the handle of its
    asynchronous ``communicate()``."""

    def __init__(self, process: Any, handle: RemoteTimeout) -> None:
        self.process = process
        self.handle = handle


class CallCounter:
    """A callable that counts its calls (a ``prepare`` or ``finalize``)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


class SessionHolder:
    """An InteractiveSession started with ``shell``, behind ``get_session()``."""

    def __init__(self, shell: Any, **dumps: Any) -> None:
        self._session = InteractiveSession(**dumps)
        self._session.spawn(shell)

    def get_session(self) -> InteractiveSession:
        return self._session

    def close(self) -> None:
        self._session.close_terminal()


class RemoteCommands:
    """Background commands and file copies on the target of ``shells``."""

    def __init__(self, shells: Any) -> None:
        self.prepared = 0
        self.finalized = 0
        self.terminal = AutoRunnerTerminal()
        # Empty until prepare fills them: usable before the session is open
        # (the first use opens it) and filled again after each recovery.
        self._popen = self.terminal.create_empty_recursive_proxy()
        self._pipe = self.terminal.create_empty_remote_proxy()
        self._functions = {
            name: self.terminal.create_empty_remote_proxy()
            for name in ("os.killpg", "os.getpgid", "os.setsid", "os.getpid")
        }
        self.terminal.initialize_with_shells(
            shells=shells, prepare=self._prepare, finalize=self._finalize
        )

    def _prepare(self) -> None:
        self.prepared += 1
        self.terminal.import_libraries("os", "subprocess")
        self._popen.set_from_remote_proxy(self.terminal.get_recursive_proxy("subprocess.Popen"))
        self._pipe.set_from_remote_proxy(self.terminal.get_proxy_object("subprocess.PIPE", None))
        for name, proxy in self._functions.items():
            proxy.set_from_remote_proxy(self.terminal.get_proxy_object(name, None))

    def _finalize(self) -> None:
        self.finalized += 1

    # ---- commands --------------------------------------------------------------
    def start(self, command: str) -> StartedCommand:
        process = self._popen(
            command,
            stdout=self._pipe,
            stderr=self._pipe,
            shell=True,
            preexec_fn=self._functions["os.setsid"],
        )
        communicate = process.communicate
        communicate.remote_proxy_use_asynchronous_response()
        return StartedCommand(process, communicate())

    def wait(self, started: StartedCommand, timeout: Optional[float]) -> CommandResult:
        stdout, stderr = started.process.get_remote_proxy_response(started.handle, timeout=timeout)
        return CommandResult(started.process.returncode, stdout, stderr)

    def stop(self, started: StartedCommand) -> CommandResult:
        try:
            group = self._functions["os.getpgid"](started.process.pid)
            self._functions["os.killpg"](group, signal.SIGTERM)
        except OSError as error:  # it ended by itself
            if error.errno != errno.ESRCH:
                raise
        return self.wait(started, timeout=10)

    def python_pid(self) -> int:
        return self._functions["os.getpid"]()

    # ---- files -----------------------------------------------------------------
    @contextlib.contextmanager
    def _remote_file(self, path: str, mode: str) -> Any:
        self.terminal.initialize_if_needed()
        handle = self.terminal.get_proxy_object_from_call("open", path, mode)
        handle.set_proxy_spec(io.BufferedIOBase)
        try:
            yield handle
        finally:
            handle.close()

    @staticmethod
    def _copy(source: Any, target: Any, chunk_size: int) -> None:
        while True:
            chunk = source.read(chunk_size)
            if not chunk:
                return
            target.write(chunk)

    def send(self, local: str, remote: str, chunk_size: int) -> None:
        with open(local, "rb") as source, self._remote_file(remote, "wb") as target:
            self._copy(source, target, chunk_size)

    def fetch(self, remote: str, local: str, chunk_size: int) -> None:
        with self._remote_file(remote, "rb") as source, open(local, "wb") as target:
            self._copy(source, target, chunk_size)

    def close(self) -> None:
        self.terminal.close()


class ReferenceHelpers:
    """Keywords of atest/reference_api.robot (see the module doc)."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._commands: Optional[RemoteCommands] = None
        self._closables: list[Any] = []

    # ---- sessions and callables -------------------------------------------------
    def new_session_holder(self, shell: Any = None, **dumps: Any) -> SessionHolder:
        """An InteractiveSession spawned with ``shell`` (a new BashShell by
        default) behind ``get_session()``; ``dumps`` go to InteractiveSession
        (``dump_received``, ``dump_outgoing``)."""
        holder = SessionHolder(BashShell() if shell is None else shell, **dumps)
        self._closables.append(holder)
        return holder

    def new_shell(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``RemoteProxyLibrary.InteractiveSession.<name>(*args, **kwargs)``.

        (A keyword, not ``${{RemoteProxyLibrary.InteractiveSession.X(...)}}``:
        the package's ``InteractiveSession`` attribute is the class, not the
        module.)"""
        shells = {"BashShell": BashShell, "SshShell": SshShell, "SudoShell": SudoShell}
        return shells[name](*args, **kwargs)

    def new_call_counter(self) -> CallCounter:
        return CallCounter()

    # ---- background commands and files -----------------------------------------
    def open_remote_commands(self, shells: Any = None) -> RemoteCommands:
        """Set up (not open) an AutoRunnerTerminal on ``shells`` (a new
        BashShell by default) for the command and file keywords."""
        self._commands = RemoteCommands(BashShell() if shells is None else shells)
        self._closables.append(self._commands)
        return self._commands

    @property
    def _current(self) -> RemoteCommands:
        if self._commands is None:
            raise RuntimeError("use 'Open Remote Commands' first")
        return self._commands

    def start_command(self, command: str) -> StartedCommand:
        """Start ``command`` on the target; returns at once."""
        return self._current.start(command)

    def wait_for_command(self, started: StartedCommand, timeout: float = 10) -> CommandResult:
        """Wait at most ``timeout`` seconds for ``started`` to end (RemoteTimeout
        if it does not; it can be waited for again)."""
        return self._current.wait(started, timeout)

    def stop_command(self, started: StartedCommand) -> CommandResult:
        """Stop ``started`` (SIGTERM to its process group) and return its result."""
        return self._current.stop(started)

    def remote_python_pid(self) -> int:
        return self._current.python_pid()

    def send_file(self, local: str, remote: str, chunk_size: int = 32768) -> None:
        self._current.send(local, remote, chunk_size)

    def fetch_file(self, remote: str, local: str, chunk_size: int = 32768) -> None:
        self._current.fetch(remote, local, chunk_size)

    def write_random_file(self, path: str, size: int) -> None:
        with open(path, "wb") as target:
            target.write(os.urandom(size))

    def files_should_be_identical(self, first: str, second: str) -> None:
        """Compares contents; the message never shows them."""
        if not filecmp.cmp(first, second, shallow=False):
            raise AssertionError(f"{first} and {second} differ")

    def file_should_not_contain_secret(self, path: str, secret: str) -> None:
        """Fails without showing the secret or the file."""
        with open(path, "rb") as source:
            if secret.encode() in source.read():
                raise AssertionError(f"{path} contains a password")

    # ---- catching remote errors -------------------------------------------------
    def call_expecting_timeout(self, function: Callable[..., Any], *args: Any) -> TimedOut:
        """Call ``function(*args)``; it must raise RemoteTimeout. Returns the
        error (to fetch the response later) and the seconds the call took."""
        started = time.monotonic()
        try:
            value = function(*args)
        except RemoteTimeout as error:
            return TimedOut(error, time.monotonic() - started)
        raise AssertionError(
            f"expected RemoteTimeout, the call returned {value!r} "
            f"after {time.monotonic() - started:.1f} s"
        )

    def remote_exception_of(self, runner: Any, code: str) -> BaseException:
        """The exception ``runner.run_python(code)`` raises (fails if none)."""
        try:
            runner.run_python(code)
        except Exception as error:
            return error
        raise AssertionError(f"{code!r} raised nothing")

    def break_inside_auto_close(self, recovering: Any) -> None:
        """Raise a broken-session error inside ``recovering.auto_close()``;
        fails unless it comes out again."""
        broken = RunnerTerminalSessionBroken("broken on purpose")
        try:
            with recovering.auto_close():
                raise broken
        except RunnerTerminalSessionBroken as error:
            if error is not broken:
                raise
            return
        raise AssertionError("auto_close() swallowed the error")

    # ---- teardown --------------------------------------------------------------
    def close_helper_sessions(self) -> None:
        """Close what these keywords opened (errors ignored)."""
        while self._closables:
            with contextlib.suppress(Exception):
                self._closables.pop().close()
        self._commands = None
