"""The shell base class: a hop of a shell stack whose prompts and answers are data.

A shell kind says

- ``command_line()``: the command that starts it (typed into the parent shell,
  or run directly in a new local pty when it is the first shell);
- ``dialogue()``: what it may show while starting: :class:`Answer` (a prompt to
  answer, e.g. a password) and :class:`Failure` (a message that means it failed);
- ``prompt``: the unique prompt it shows once ready (set by the command line);
- ``init_command``: typed once the prompt showed (no echo, no history, wide);
- ``echo_command``: how to print a word (used to resynchronise after a failure);
- ``exit_command``: how to leave it.

The prompt carries a random token and is always written in the command line
split in two (``'RPL''-1a2b3c4d> '``), so the echo of a command can never match it.

Starting a hop is bounded by the hop's ``timeout``. When it fails (a
:class:`Failure` showed, an answer was refused, the hop's command ended and the
parent's prompt came back, or nothing came in time) the hop is interrupted and
the parent is resynchronised (a marker is echoed and waited for, followed by
the parent's prompt), so the parent stays usable; then the error is raised.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Callable, ClassVar, Optional

import pexpect

from ..errors import (
    ShellAuthenticationFailed,
    ShellCommandTimeout,
    ShellError,
    ShellStartTimeout,
    TerminalClosed,
)
from ..terminal import LocalTerminal, Terminal, bounded
from ..terminal.base import COLUMNS
from ..terminal.dump import TerminalDump
from .secret import Secret, scrub

LOGGER = logging.getLogger("RemoteProxyLibrary.shells")

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_TAIL = 600
#: Upper bound (seconds) of each attempt to get the parent's prompt back.
RESYNC_TIMEOUT = 3.0
#: Hops followed down the ``parent`` chain (names, secrets).
MAX_DEPTH = 32
#: Seconds to wait after an interrupt key before typing again.
INTERRUPT_PAUSE = 0.1


def clean_output(text: str) -> str:
    """Drop ANSI sequences (bracketed-paste markers included) and carriage returns."""
    text = _ANSI.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "")


def split_quoted(text: str, cut: int = 3) -> str:
    """``text`` as a single-quoted shell word split after ``cut`` characters.

    The shell joins the two halves; the typed (echoed) word does not contain
    ``text``, so expecting ``text`` never matches the echo. The result is a
    valid Python expression too (adjacent string literals), as long as ``text``
    holds no quote or backslash.
    """
    head, tail = text[:cut], text[cut:]
    return "'" + head.replace("'", "'\\''") + "''" + tail.replace("'", "'\\''") + "'"


def username_argument(username: str, user: Optional[str]) -> str:
    """The user a hop becomes: ``username``, or ``user``, its older name."""
    if user is None:
        return username
    if username not in ("root", user):
        raise TypeError(f"got both username={username!r} and user={user!r}: give one")
    return user


@dataclass(frozen=True)
class Answer:
    """While starting, when ``pattern`` shows, send what ``reply(shell)`` gives.

    ``reply`` returning ``None`` means the shell has nothing to answer: the
    start fails with ``error`` and ``missing``. Seeing the prompt more than
    ``max_times`` means the answer was refused (e.g. a wrong password): the
    start fails with ``error`` and ``message``.
    """

    pattern: str
    reply: Callable[[Shell], Optional[Secret | str]]
    error: type[ShellError] = ShellAuthenticationFailed
    message: str = "credentials refused"
    max_times: int = 1
    missing: str = "asked for a password, none given"


@dataclass(frozen=True)
class Failure:
    """While starting, ``pattern`` showing means the start failed with ``error``."""

    pattern: str
    error: type[ShellError]
    message: str


class Shell:
    """Base of every hop kind. Subclasses give the data; this class drives it.

    ``timeout`` bounds starting the shell, and each command (seconds).
    """

    #: Key used by shell dicts (``{'shellname': 'BashShell', ...}``).
    shellname: ClassVar[str] = "Shell"
    exit_command: ClassVar[str] = "exit"
    #: Prints its argument (a quoted word, see :func:`split_quoted`) and a newline.
    echo_command: ClassVar[str] = "echo {}"
    #: Sent to interrupt a command or a hop that did not start.
    interrupt: ClassVar[str] = "\x03"
    #: Raised when the hop's command ends before its prompt showed.
    exited_error: ClassVar[type[ShellError]] = ShellError
    #: Does this shell run where the shell it is started from runs: the same
    #: host and the same network namespace (so the same loopback)? ``su``,
    #: ``sudo``, a sub-shell and Python do; a typed ``ssh`` and a network
    #: namespace do not. The runner's direct channel needs every hop after
    #: the first to stay (see ``runner.direct``). A shell command of one's
    #: own that leaves (``BashShell("docker exec -it c sh")``) is safe: the
    #: controller then finds the agent's token missing and keeps the terminal.
    stays_on_host: ClassVar[bool] = True
    #: Sent once the prompt showed: quiet, predictable output from now on.
    init_command: ClassVar[Optional[str]] = (
        "stty -echo 2>/dev/null; stty -echoctl 2>/dev/null; "
        f"stty cols {COLUMNS} 2>/dev/null; unset PROMPT_COMMAND HISTFILE; PS2=''; "
        "bind 'set enable-bracketed-paste off' 2>/dev/null; set +o emacs +o vi 2>/dev/null"
    )

    def __init__(self, timeout: float = 30) -> None:
        self.timeout = float(timeout)
        self.token = secrets.token_hex(4)
        self.terminal: Optional[Terminal] = None
        self.parent: Optional[Shell] = None
        #: Where a terminal this shell opens copies its traffic (set by the session).
        self.dump: Optional[TerminalDump] = None

    # ---- data, overridden by hop kinds --------------------------------------------
    @property
    def prompt(self) -> str:
        return f"RPL-{self.token}> "

    def command_line(self) -> str:
        """The command that starts this shell."""
        raise NotImplementedError

    def dialogue(self) -> list[Answer | Failure]:
        """Prompts to answer and failure messages to recognise while starting."""
        return []

    def secrets(self) -> tuple[Optional[Secret], ...]:
        """Credentials this shell knows, scrubbed from every message."""
        return ()

    def describe(self) -> str:
        """Names the hop in errors: kind, and host and user where there are."""
        return type(self).__name__

    def password_of_user(self) -> Optional[Secret]:
        """The password of the user this shell runs as, if a hop knows it: the
        hop that made that user (an SSH login, ``su``) tells; a shell that keeps
        its parent's user asks its parent. What ``sudo`` asks for."""
        return self.parent.password_of_user() if self.parent is not None else None

    def _known_secrets(self) -> list[Optional[Secret]]:
        """The credentials of this hop and of the hops below it."""
        found: list[Optional[Secret]] = []
        shell: Optional[Shell] = self
        for _ in range(MAX_DEPTH):
            if shell is None:
                break
            found += shell.secrets()
            shell = shell.parent
        return found

    def hop(self) -> str:
        """This hop and the hops it was started from: ``A via B via C``."""
        names: list[str] = []
        shell: Optional[Shell] = self
        for _ in range(MAX_DEPTH):
            if shell is None:
                break
            names.append(shell.describe())
            shell = shell.parent
        return " via ".join(names)

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    # ---- driving -----------------------------------------------------------------
    def spawn(self) -> Terminal:
        """Start this shell as the first of a stack, in a new local pty."""
        terminal = LocalTerminal(["/bin/sh", "-c", self.command_line()], timeout=self.timeout)
        try:
            self._come_up(terminal, parent=None)
        except BaseException:
            self.terminal = None
            terminal.close()
            raise
        return terminal

    def start(self, terminal: Terminal, parent: Shell) -> None:
        """Start this shell by typing its command into ``parent``.

        On failure the parent's prompt is back (best effort) and the error
        raised names this hop and shows the last output seen.
        """
        LOGGER.debug("%s: starting from %s", self.describe(), parent.describe())
        self.terminal = terminal
        self.parent = parent
        try:
            self._sendline(self.command_line())
            self._come_up(terminal, parent)
        except BaseException:
            self.terminal = None
            self.parent = None
            raise

    def _come_up(self, terminal: Terminal, parent: Optional[Shell]) -> None:
        if parent is None and self.dump is not None:
            terminal.set_dump(self.dump)  # a new terminal: copied from its first byte
        self.terminal = terminal
        self.parent = parent
        self._run_dialogue(terminal, parent)
        try:
            if self.init_command:
                self._sendline(self.init_command)
                self._expect_prompt(self.timeout, "shell initialisation")
            self.verify()
        except ShellError:
            if parent is not None:
                self._give_back(parent, "exit")
            raise

    def verify(self) -> None:
        """Prove the shell answers (raise :class:`ShellError` if not)."""

    def _run_dialogue(self, terminal: Terminal, parent: Optional[Shell]) -> None:
        steps = self.dialogue()
        spawn = terminal.spawn
        patterns: list = [re.escape(self.prompt)] + [step.pattern for step in steps]
        parent_index = -1
        if parent is not None:
            parent_index = len(patterns)
            patterns.append(re.escape(parent.prompt))
        eof_index = len(patterns)
        patterns += [pexpect.EOF, pexpect.TIMEOUT]
        compiled = spawn.compile_pattern_list(patterns)
        seen = [0] * len(steps)
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            index = spawn.expect_list(compiled, timeout=remaining)
            if index == 0:
                return
            last = self._last_output()
            if index == eof_index:
                raise self.exited_error("terminal closed while starting", self.hop(), last)
            if index == eof_index + 1:
                if parent is not None:
                    self._give_back(parent, "interrupt")
                raise ShellStartTimeout(
                    f"prompt did not come within {self.timeout:g} s", self.hop(), last
                )
            if index == parent_index:
                assert parent is not None
                self._give_back(parent, "resync")
                raise self.exited_error("ended before its prompt came", self.hop(), last)
            step = steps[index - 1]
            if isinstance(step, Failure):
                if parent is not None:
                    self._give_back(parent, "interrupt")
                raise step.error(step.message, self.hop(), last)
            seen[index - 1] += 1
            reply = step.reply(self)
            if reply is None or seen[index - 1] > step.max_times:
                if parent is not None:
                    self._give_back(parent, "interrupt")
                message = step.message if reply is not None else step.missing
                raise step.error(message, self.hop(), last)
            text = reply.value if isinstance(reply, Secret) else reply
            LOGGER.debug(
                "%s: answering %r", self.describe(), "******" if isinstance(reply, Secret) else text
            )
            self._sendline(text)

    def _give_back(self, parent: Shell, how: str) -> None:
        """After a failed start, give the terminal back to the parent shell.

        ``how``: ``"resync"`` when the parent's prompt already came back,
        ``"interrupt"`` to interrupt this hop's command first, ``"exit"`` when
        this hop did start (its exit command is sent). If the parent does not
        answer, the interrupt (and, for a hop that started, its exit command)
        is sent again and it is tried once more. The exit command is never
        sent for a hop that did not start: a slow parent answering late would
        take it for itself and end the whole stack. Bounded: at most twice
        :data:`RESYNC_TIMEOUT` seconds.
        """
        self.terminal = None
        budget = min(parent.timeout, RESYNC_TIMEOUT)
        try:
            if how != "resync":
                parent._interrupt(self.interrupt)
            if how == "exit":
                parent._sendline(self.exit_command)
            if parent.resync(budget):
                return
            parent._interrupt(self.interrupt)
            if how == "exit":
                parent._sendline(self.exit_command)
            if parent.resync(budget):
                return
        except TerminalClosed:
            pass
        LOGGER.warning("%s: the prompt of %s did not come back", self.describe(), parent.hop())

    def resync(self, timeout: float) -> bool:
        """Make the next prompt seen the one answering the next command.

        Echoes a fresh marker and waits for it followed by this shell's prompt;
        everything before (stale prompts, leftovers of a failed hop) is dropped.
        The marker is echoed again (a new one) after 0.5 s, 1 s, ... without
        an answer: a line typed right after an interrupt can be flushed by the
        tty. True if an answer came within ``timeout``.
        """
        if self.terminal is None:
            return False
        spawn = self.terminal.spawn
        deadline = time.monotonic() + max(0.0, timeout)
        wait = 0.5
        while True:
            marker = f"RPL-sync-{secrets.token_hex(4)}"
            self._sendline(self.echo_command.format(split_quoted(marker)))
            remaining = deadline - time.monotonic()
            try:
                spawn.expect(
                    re.escape(marker) + r"[\r\n]+" + re.escape(self.prompt),
                    timeout=max(0.0, min(wait, remaining)),
                )
            except pexpect.TIMEOUT:
                if remaining <= wait:
                    return False
                wait *= 2
                continue
            except pexpect.EOF:
                raise TerminalClosed(f"{self.hop()}: terminal closed (resynchronising)") from None
            return True

    def _interrupt(self, key: Optional[str] = None) -> None:
        """Send the interrupt key (``key`` or this shell's), then let the tty
        act on it: the line discipline drops input queued behind an interrupt."""
        self._send(self.interrupt if key is None else key)
        time.sleep(INTERRUPT_PAUSE)

    def _send(self, text: str) -> None:
        if self.terminal is None:
            raise ShellError("shell is not started", self.hop())
        try:
            self.terminal.spawn.send(text)
        except OSError as error:
            raise TerminalClosed(f"{self.hop()}: terminal closed ({error})") from None

    def _sendline(self, text: str) -> None:
        self._send(text + "\n")

    def _last_output(self) -> str:
        if self.terminal is None:
            return ""
        spawn = self.terminal.spawn
        parts = [p for p in (spawn.before, spawn.after) if isinstance(p, str)]
        text = clean_output("".join(parts))[-_TAIL:]
        return scrub(text, *self._known_secrets())

    def _expect_prompt(
        self, timeout: float, doing: str, late: type[ShellError] = ShellStartTimeout
    ) -> str:
        if self.terminal is None:
            raise ShellError("shell is not started", self.hop())
        spawn = self.terminal.spawn
        try:
            spawn.expect_exact([self.prompt], timeout=timeout)
        except pexpect.TIMEOUT:
            raise late(
                f"prompt did not come within {timeout:g} s ({doing})",
                self.hop(),
                self._last_output(),
            ) from None
        except pexpect.EOF:
            raise TerminalClosed(
                f"{self.hop()}: terminal closed ({doing}); last output: {self._last_output()}"
            ) from None
        return str(spawn.before)

    # ---- use -----------------------------------------------------------------------
    def get_prompt(self) -> str:
        """The prompt this shell shows (the older library's name)."""
        return self.prompt

    def exec_command(self, cmd: str, timeout: float = -1) -> str:
        """Run ``cmd`` (one line) and return its output, without echo or ANSI codes.

        ``timeout`` in seconds; negative means this shell's ``timeout``. When
        the command does not end in time it is interrupted, the shell is
        resynchronised and :class:`ShellCommandTimeout` is raised.
        """
        if self.terminal is None:
            raise ShellError("shell is not started", self.hop())
        cmd = cmd.rstrip("\n")
        if "\n" in cmd:
            raise ValueError("exec_command takes one line; join commands with ';'")
        if self.terminal.taken_by:
            raise ShellError(
                f"cannot type {cmd[:80]!r}: {self.terminal.taken_by} runs in this shell; "
                "run commands through it (runner.commands.run, Execute Command) or close "
                "the runner first",
                self.hop(),
            )
        timeout = self.timeout if timeout < 0 else timeout
        self._sendline(self._typed(cmd))
        try:
            with bounded.whole_output(self.terminal.spawn):  # all its output was asked for
                output = self._expect_prompt(timeout, f"running {cmd[:80]!r}", ShellCommandTimeout)
        except ShellCommandTimeout:
            self._interrupt()
            if not self.resync(min(self.timeout, RESYNC_TIMEOUT)):
                LOGGER.warning("%s: no prompt after interrupting %r", self.hop(), cmd[:80])
            raise
        return scrub(clean_output(output), *self._known_secrets())

    def _typed(self, cmd: str) -> str:
        """What is typed to run the one-line ``cmd`` (a newline is added)."""
        return cmd

    def get_status_code(self, timeout: float = 5) -> int:
        """Exit status of the last command run with :meth:`exec_command`."""
        output = self.exec_command("echo $?", timeout).strip()
        try:
            return int(output.splitlines()[-1])
        except (ValueError, IndexError):
            raise ShellError(f"no exit status in {output!r}", self.hop()) from None

    def exit(self, timeout: float = 10) -> None:
        """Leave this shell: the parent's prompt shows again (not waited for here)."""
        if self.terminal is not None:
            self._sendline(self.exit_command)
