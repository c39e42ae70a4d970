"""The shell base class: a hop of a shell stack whose prompts and answers are data.

A shell kind says

- ``command_line()``: the command that starts it (typed into the parent shell,
  or run directly in a new local pty when it is the first shell);
- ``dialogue()``: what it may show while starting: :class:`Answer` (a prompt to
  answer, e.g. a password) and :class:`Failure` (a message that means it failed);
- ``prompt``: the unique prompt it shows once ready (set by the command line);
- ``exit_command``: how to leave it.

The prompt carries a random token and is always written in the command line
split in two (``'RPL''-1a2b3c4d> '``), so the echo of a command can never match it.
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
    ShellConnectionFailed,
    ShellError,
    ShellStartTimeout,
    TerminalClosed,
)
from ..terminal import LocalTerminal, Terminal
from .secret import Secret, scrub

LOGGER = logging.getLogger("RemoteProxyLibrary.shells")

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_TAIL = 600


def clean_output(text: str) -> str:
    """Drop ANSI sequences (bracketed-paste markers included) and carriage returns."""
    text = _ANSI.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "")


def split_quoted(text: str, cut: int = 3) -> str:
    """``text`` as a single-quoted shell word split after ``cut`` characters.

    The shell joins the two halves; the typed (echoed) word does not contain
    ``text``, so expecting ``text`` never matches the echo.
    """
    head, tail = text[:cut], text[cut:]
    return "'" + head.replace("'", "'\\''") + "''" + tail.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Answer:
    """While starting, when ``pattern`` shows, send what ``reply(shell)`` gives.

    ``reply`` returning ``None`` means the shell has nothing to answer: the
    start fails with ``error``. Seeing the prompt more than ``max_times`` means
    the answer was refused (e.g. a wrong password): the start fails with ``error``.
    """

    pattern: str
    reply: Callable[[Shell], Optional[Secret | str]]
    error: type[ShellError] = ShellAuthenticationFailed
    message: str = "credentials refused"
    max_times: int = 1


@dataclass(frozen=True)
class Failure:
    """While starting, ``pattern`` showing means the start failed with ``error``."""

    pattern: str
    error: type[ShellError]
    message: str


class Shell:
    """Base of every hop kind. Subclasses give the data; this class drives it.

    ``timeout`` bounds each step of starting the shell (seconds).
    """

    #: Key used by shell dicts (``{'shellname': 'BashShell', ...}``).
    shellname: ClassVar[str] = "Shell"
    exit_command: ClassVar[str] = "exit"
    #: Sent once the prompt showed: quiet, predictable output from now on.
    init_command: ClassVar[Optional[str]] = (
        "stty -echo -echoctl cols 4000 2>/dev/null; unset PROMPT_COMMAND; PS2=''; "
        "bind 'set enable-bracketed-paste off' 2>/dev/null; set +o emacs +o vi 2>/dev/null"
    )

    def __init__(self, timeout: float = 30) -> None:
        self.timeout = float(timeout)
        self.token = secrets.token_hex(4)
        self.terminal: Optional[Terminal] = None
        self.parent: Optional[Shell] = None

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

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    # ---- driving -----------------------------------------------------------------
    def spawn(self) -> Terminal:
        """Start this shell as the first of a stack, in a new local pty."""
        terminal = LocalTerminal(["/bin/sh", "-c", self.command_line()], timeout=self.timeout)
        try:
            self._come_up(terminal, parent=None)
        except BaseException:
            terminal.close()
            raise
        return terminal

    def start(self, terminal: Terminal, parent: Shell) -> None:
        """Start this shell by typing its command into ``parent``."""
        LOGGER.debug("%s: starting from %s", self.describe(), parent.describe())
        terminal.spawn.sendline(self.command_line())
        self._come_up(terminal, parent)

    def _come_up(self, terminal: Terminal, parent: Optional[Shell]) -> None:
        self.terminal = terminal
        self.parent = parent
        self._run_dialogue(terminal, parent)
        if self.init_command:
            terminal.spawn.sendline(self.init_command)
            self._expect_prompt(self.timeout, "shell initialisation")
        self.verify()

    def verify(self) -> None:
        """Prove the shell answers (raise :class:`ShellError` if not)."""

    def _run_dialogue(self, terminal: Terminal, parent: Optional[Shell]) -> None:
        steps = self.dialogue()
        spawn = terminal.spawn
        patterns = [re.escape(self.prompt)] + [step.pattern for step in steps]
        patterns += [pexpect.EOF, pexpect.TIMEOUT]
        compiled = spawn.compile_pattern_list(patterns)
        seen = [0] * len(steps)
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            index = spawn.expect_list(compiled, timeout=remaining)
            if index == 0:
                return
            if index == len(patterns) - 2:
                raise ShellConnectionFailed(
                    "terminal closed while starting", self.describe(), self._last_output()
                )
            if index == len(patterns) - 1:
                self._abort(parent)
                raise ShellStartTimeout(
                    f"prompt did not come within {self.timeout:g} s",
                    self.describe(),
                    self._last_output(),
                )
            step = steps[index - 1]
            if isinstance(step, Failure):
                last = self._last_output()
                self._abort(parent)
                raise step.error(step.message, self.describe(), last)
            seen[index - 1] += 1
            reply = step.reply(self)
            if reply is None or seen[index - 1] > step.max_times:
                last = self._last_output()
                self._abort(parent)
                message = step.message if reply is not None else "asked for a password, none given"
                raise step.error(message, self.describe(), last)
            text = reply.value if isinstance(reply, Secret) else reply
            LOGGER.debug(
                "%s: answering %r", self.describe(), "******" if isinstance(reply, Secret) else text
            )
            spawn.sendline(text)

    def _abort(self, parent: Optional[Shell]) -> None:
        """After a failed start, give the terminal back to the parent shell."""
        if parent is None or self.terminal is None:
            return
        spawn = self.terminal.spawn
        try:
            spawn.send("\x03")
            spawn.expect_exact([parent.prompt], timeout=min(5.0, parent.timeout))
        except (pexpect.ExceptionPexpect, OSError):
            LOGGER.debug("%s: parent prompt did not come back after abort", self.describe())

    def _last_output(self) -> str:
        if self.terminal is None:
            return ""
        spawn = self.terminal.spawn
        parts = [p for p in (spawn.before, spawn.after) if isinstance(p, str)]
        text = clean_output("".join(parts))[-_TAIL:]
        return scrub(text, *self.secrets())

    def _expect_prompt(self, timeout: float, doing: str) -> str:
        assert self.terminal is not None
        spawn = self.terminal.spawn
        try:
            spawn.expect_exact([self.prompt], timeout=timeout)
        except pexpect.TIMEOUT:
            raise ShellStartTimeout(
                f"prompt did not come within {timeout:g} s ({doing})",
                self.describe(),
                self._last_output(),
            ) from None
        except pexpect.EOF:
            raise TerminalClosed(
                f"{self.describe()}: terminal closed ({doing}); last output: {self._last_output()}"
            ) from None
        return str(spawn.before)

    # ---- use -----------------------------------------------------------------------
    def exec_command(self, cmd: str, timeout: float = -1) -> str:
        """Run ``cmd`` (one line) and return its output, without echo or ANSI codes.

        ``timeout`` in seconds; negative means this shell's ``timeout``.
        """
        if self.terminal is None:
            raise ShellError("shell is not started", self.describe())
        if "\n" in cmd.rstrip("\n"):
            raise ValueError("exec_command takes one line; join commands with ';'")
        self.terminal.spawn.sendline(cmd.rstrip("\n"))
        output = self._expect_prompt(self.timeout if timeout < 0 else timeout, f"running {cmd!r}")
        return scrub(clean_output(output), *self.secrets())

    def get_status_code(self, timeout: float = 5) -> int:
        """Exit status of the last command run with :meth:`exec_command`."""
        output = self.exec_command("echo $?", timeout).strip()
        try:
            return int(output.splitlines()[-1])
        except (ValueError, IndexError):
            raise ShellError(f"no exit status in {output!r}", self.describe()) from None

    def exit(self, timeout: float = 10) -> None:
        """Leave this shell: the parent's prompt shows again (not waited for here)."""
        if self.terminal is not None:
            self.terminal.spawn.sendline(self.exit_command)
