"""ManagedTerminal, the library's terminal without Robot, on local ptys: one
path for every terminal, the recovery policy deciding what differs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from RemoteProxyLibrary import (
    AutoRecoveringTerminal,
    BashShell,
    PythonShell,
    RunnerTerminalSessionBroken,
    ShellError,
    ShellStackEmpty,
    ShellStartTimeout,
    SuShell,
    TerminalClosed,
)
from RemoteProxyLibrary.managed import ManagedTerminal, TerminalSettings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = {"prompt_timeout": 10.0, "max_tries": 2, "sleep_between_tries": 0.1}


@pytest.fixture
def terminals():
    made: list[ManagedTerminal] = []

    def make(*shells, **settings) -> ManagedTerminal:
        terminal = ManagedTerminal(list(shells), TerminalSettings(**{**FAST, **settings}))
        made.append(terminal)
        terminal.open()
        return terminal

    yield make
    for terminal in made:
        terminal.close()


def test_the_engine_needs_no_robot():
    code = "import sys, RemoteProxyLibrary.managed; print('robot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


def test_without_auto_recovery_the_stack_opens_at_once_and_a_failure_is_raised_as_it_is():
    terminal = ManagedTerminal([BashShell(timeout=3, shell="no-such-shell-x")], TerminalSettings())
    with pytest.raises(ShellError):  # not wrapped in SessionInitializationFailed
        terminal.open()


def test_with_auto_recovery_the_stack_opens_at_first_use(terminals):
    terminal = terminals(BashShell(timeout=10), auto_recovery=True)
    assert terminal.python_running is False
    assert terminal.runner().run_python("6 * 7") == 42
    assert terminal.python_running is True


@pytest.mark.parametrize("auto_recovery", [False, True])
def test_push_starts_the_shell_at_once_and_a_failed_push_changes_nothing(terminals, auto_recovery):
    terminal = terminals(BashShell(timeout=10), auto_recovery=auto_recovery)
    outer = terminal.runner().run_python("__import__('os').getpid()")
    with pytest.raises(ShellError, match="no such user"):
        terminal.push(SuShell("rpl-no-such-user", timeout=5))
    assert [shell.describe() for shell in terminal.shells] == ["BashShell"]
    assert terminal.runner().run_python("__import__('os').getpid()") != outer  # restarted
    terminal.push(PythonShell(timeout=10))
    assert terminal.python_running is False  # stopped for the push, started at first use
    assert terminal.runner().run_python("1 + 1") == 2
    assert terminal.pop().describe() == "PythonShell(python3)"
    with pytest.raises(ShellStackEmpty, match="only its first shell"):
        terminal.pop()


@pytest.mark.parametrize("auto_recovery", [False, True])
def test_imports_are_done_again_whenever_python_starts(terminals, auto_recovery):
    terminal = terminals(BashShell(timeout=10), auto_recovery=auto_recovery)
    terminal.import_modules("json")
    terminal.push(BashShell(timeout=10))
    assert terminal.runner().run_python("json.dumps(1)") == "1"


def test_a_broken_terminal_without_auto_recovery_is_not_reopened(terminals):
    terminal = terminals(BashShell(timeout=10))
    runner = terminal.runner()
    pid = runner.run_python("__import__('os').getpid()")
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(RunnerTerminalSessionBroken):
        runner.run_python("1")
    with pytest.raises(RunnerTerminalSessionBroken, match="does not reopen it"):
        terminal.runner()


def test_a_broken_terminal_with_auto_recovery_is_reopened(terminals):
    terminal = terminals(BashShell(timeout=10), auto_recovery=True)
    terminal.import_modules("os")
    pid = terminal.runner().run_python("os.getpid()")
    os.kill(pid, signal.SIGKILL)
    assert terminal.runner().run_python("os.getpid()") != pid


def test_a_recovering_terminal_that_does_not_reopen_says_so():
    stack = AutoRecoveringTerminal()
    stack.initialize([BashShell(timeout=10)], reopen=False, max_tries=3, sleep_between_tries=0)
    try:
        assert stack.run("echo $((6*7))").strip() == "42"
        stack.get_session().terminal.close()  # the stack dies
        with pytest.raises(TerminalClosed, match="terminal closed"):  # as it is, once
            stack.run("echo again")
        with pytest.raises(TerminalClosed, match="not reopened"):
            stack.run("echo again")
        stack.initialize_terminal()  # reopened on request
        assert stack.run("echo ok").strip() == "ok"
    finally:
        stack.close()


class _NeverReady(BashShell):
    """A hop whose prompt never comes."""

    def command_line(self):
        return "sleep 30"


@pytest.mark.parametrize("auto_recovery", [False, True])
def test_a_hop_that_times_out_leaves_the_terminal_usable(terminals, auto_recovery):
    terminal = terminals(BashShell(timeout=10), auto_recovery=auto_recovery)
    assert terminal.runner().run_python("1") == 1
    with pytest.raises(ShellStartTimeout):
        terminal.push(_NeverReady(timeout=1))
    assert [shell.describe() for shell in terminal.shells] == ["BashShell"]
    assert terminal.runner().run_python("2") == 2
