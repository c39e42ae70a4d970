"""Shell stacks in a real local pty: bash, python3, pushed shells, custom shells."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
import time

import pytest

from RemoteProxyLibrary import (
    BashShell,
    InteractiveSession,
    PythonShell,
    RunnerTerminal,
    Secret,
    Shell,
    ShellAuthenticationFailed,
    ShellCommandTimeout,
    ShellError,
    ShellStack,
    ShellStackEmpty,
    ShellStartTimeout,
    SshShell,
    SudoShell,
    SuShell,
    UnknownShell,
)
from RemoteProxyLibrary.shells import Answer, Failure
from RemoteProxyLibrary.shells.base import split_quoted

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ConfirmShell(BashShell):
    """A custom hop: a wrapper that asks for confirmation before the shell
    starts. Its question and the answer to give are data."""

    shellname = "ConfirmShell"

    def __init__(self, answer: str = "y", timeout: float = 5) -> None:
        super().__init__(timeout=timeout)
        self.answer = answer

    def command_line(self) -> str:
        question = split_quoted("Really enter? [y/N] ")
        script = (
            f"printf %s {question}; read a; "
            f'if [ "$a" = y ]; then exec {self.shell_with_prompt()}; '
            "else echo 'Not con''firmed'; fi"
        )
        return f"sh -c {shlex.quote(script)}"

    def dialogue(self) -> list[Answer | Failure]:
        return [
            Answer(r"Really enter\? \[y/N\] $", lambda shell: shell.answer),
            Failure(r"Not confirmed", ShellAuthenticationFailed, "entry not confirmed"),
        ]


@pytest.fixture
def session():
    session = InteractiveSession()
    yield session
    session.close_terminal()


@pytest.fixture
def bash(session):
    return session.spawn(BashShell(timeout=5))


def pid_of(shell: Shell) -> int:
    return int(shell.exec_command("echo $$"))


# ---- one bash ------------------------------------------------------------------------


def test_output_is_exact_without_echo_or_prompt(bash):
    assert bash.exec_command("echo hello") == "hello\n"
    assert bash.exec_command("true") == ""
    assert bash.exec_command("printf 'a\\nb\\n'; echo c >&2") == "a\nb\nc\n"


def test_exit_status(bash):
    bash.exec_command("false")
    assert bash.get_status_code() == 1
    bash.exec_command("(exit 42)")
    assert bash.get_status_code() == 42
    bash.exec_command("true")
    assert bash.get_status_code() == 0


def test_long_line_is_not_wrapped(bash):
    output = bash.exec_command("printf 'x%.0s' $(seq 3000); echo")
    assert output == "x" * 3000 + "\n"
    assert bash.exec_command("stty size") == "50 4000\n"


def test_ansi_and_bracketed_paste_markers_are_stripped(bash):
    assert bash.exec_command("printf '\\e[31mred\\e[0m\\n'") == "red\n"
    assert bash.exec_command("printf '\\e[?2004hpaste\\e[?2004l\\n'") == "paste\n"
    assert bash.exec_command("printf '\\e]0;title\\a\\e[1;32mbold\\e[K\\r\\n'") == "bold\n"


def test_prompt_is_unique_and_never_typed_whole():
    first, second = BashShell(), BashShell()
    assert first.prompt != second.prompt
    for shell in (first, second, PythonShell(), SudoShell(), SuShell("u")):
        assert shell.prompt not in shell.command_line()
        assert shell.prompt.strip() not in shell.command_line()


def test_printing_a_split_prompt_does_not_end_the_command(bash):
    typed = split_quoted(bash.prompt.strip())
    assert bash.exec_command(f"echo {typed}x") == bash.prompt.strip() + "x\n"


def test_command_timeout_interrupts_and_keeps_the_shell(bash):
    start = time.monotonic()
    with pytest.raises(ShellCommandTimeout) as info:
        bash.exec_command("echo started; sleep 30", timeout=0.5)
    assert time.monotonic() - start < 4
    assert isinstance(info.value, TimeoutError)
    assert "BashShell" in str(info.value)
    assert "started" in info.value.last_output
    assert bash.exec_command("echo still here") == "still here\n"


def test_exec_command_takes_one_line(bash):
    with pytest.raises(ValueError):
        bash.exec_command("echo a\necho b")
    assert bash.exec_command("echo a\n") == "a\n"


# ---- stacks --------------------------------------------------------------------------


def test_push_pop_and_current_shell(session, bash):
    bottom = pid_of(bash)
    inner = session.push(BashShell(timeout=5))
    assert session.current_shell() is inner
    assert session.get_parent_shell() is bash
    assert pid_of(inner) != bottom
    assert inner.exec_command("ps -o ppid= -p $$").strip() == str(bottom)
    assert session.pop() is inner
    assert session.current_shell() is bash
    assert pid_of(bash) == bottom
    with pytest.raises(ShellError):
        inner.exec_command("echo popped")


def test_pop_until(session, bash):
    middle = session.push(BashShell(timeout=5))
    session.push(BashShell(timeout=5))
    session.push(PythonShell(timeout=5))
    session.pop_until(middle)
    assert session.current_shell() is middle
    assert len(session.shells) == 2
    session.pop_until(bash)
    assert session.shells == [bash]
    assert bash.exec_command("echo bottom") == "bottom\n"
    with pytest.raises(ShellStackEmpty):
        session.pop_until(BashShell())


def test_popping_the_last_shell_closes_the_terminal(session, bash):
    terminal = session.terminal
    session.pop()
    assert session.terminal is None
    assert not terminal.is_alive()
    with pytest.raises(ShellStackEmpty):
        session.current_shell()
    with pytest.raises(ShellStackEmpty):
        session.pop()


def test_close_terminal_ends_every_process(session, bash):
    pids = [pid_of(bash), pid_of(session.push(BashShell(timeout=5)))]
    leaf = session.push(PythonShell(timeout=5))
    pids.append(int(leaf.exec_command("import os; print(os.getpid())")))
    session.close_terminal()
    session.close_terminal()
    deadline = time.monotonic() + 5
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        time.sleep(0.05)
    assert alive == []
    assert repr(session) == "<InteractiveSession closed>"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()
    except OSError:
        return False


# ---- python --------------------------------------------------------------------------


def test_python_shell_pushed_on_bash(session, bash):
    python = session.push(PythonShell(timeout=5))
    assert python.exec_command("print(1+1)") == "2\n"
    assert python.exec_command("x = 'a' * 3000") == ""
    assert python.exec_command("print(x)") == "a" * 3000 + "\n"
    assert python.exec_command("for i in range(3): print(i)") == "0\n1\n2\n"
    assert "ZeroDivisionError" in python.exec_command("1/0")
    with pytest.raises(ShellError, match="no exit status"):
        python.get_status_code()
    session.pop()
    assert bash.exec_command("echo back") == "back\n"


def test_python_shell_spawned_first(session):
    python = session.spawn(PythonShell(timeout=5))
    assert python.exec_command("import sys; print(sys.stdin.isatty())") == "True\n"
    assert repr(session) == "<InteractiveSession PythonShell(python3)>"


def test_python_that_is_not_there_fails_fast_and_parent_works(session, bash):
    start = time.monotonic()
    with pytest.raises(ShellError) as info:
        session.push(PythonShell(timeout=5, python="no-such-python3"))
    assert time.monotonic() - start < 3
    assert "PythonShell(no-such-python3) via BashShell" in str(info.value)
    assert "No such file" in info.value.last_output
    assert session.shells == [bash]
    assert bash.exec_command("echo ok") == "ok\n"


# ---- failures --------------------------------------------------------------------------


def test_prompt_that_never_comes_times_out_and_parent_works(session, bash):
    start = time.monotonic()
    with pytest.raises(ShellStartTimeout) as info:
        session.push(BashShell(timeout=1.5, shell="sleep 30"))
    assert time.monotonic() - start < 1.5 + 3
    assert "prompt did not come within 1.5 s" in str(info.value)
    assert "BashShell(sleep 30) via BashShell" in str(info.value)
    assert session.shells == [bash]
    assert bash.exec_command("echo ok") == "ok\n"
    assert "sleep 30" not in bash.exec_command("ps -o args= --ppid $$")


def test_first_shell_whose_prompt_never_comes(session):
    start = time.monotonic()
    with pytest.raises(ShellStartTimeout):
        session.spawn(BashShell(timeout=1, shell="sleep 30"))
    assert time.monotonic() - start < 3
    assert session.terminal is None


# ---- custom shells and shell dicts ---------------------------------------------------------


def test_custom_shell_registered_by_name(session):
    stack = ShellStack()
    stack.register_shell("Confirm", ConfirmShell)
    shells = stack.initialize([{"shellname": "BashShell", "timeout": 5}, {"shellname": "Confirm"}])
    bottom = pid_of(session.spawn(shells[0]))
    custom = session.push(shells[1])
    assert isinstance(custom, ConfirmShell)
    assert custom.exec_command("echo inside") == "inside\n"
    assert custom.exec_command("ps -o ppid= -p $$").strip() == str(bottom)


def test_custom_shell_by_dotted_path_and_its_failure(session, bash):
    (refused,) = ShellStack().initialize([{"shellname": f"{__name__}.ConfirmShell", "answer": "n"}])
    with pytest.raises(ShellAuthenticationFailed, match="entry not confirmed"):
        session.push(refused)
    assert bash.exec_command("echo ok") == "ok\n"
    accepted = session.push(ShellStack().create({"shellname": f"{__name__}.ConfirmShell"}))
    assert accepted.exec_command("echo yes") == "yes\n"


def test_shelldicts_build_every_builtin_shell():
    shells = ShellStack().initialize(
        [
            {"shellname": "SshShell", "host": "h", "username": "u", "password": "p", "port": 2222},
            {"shellname": "SudoShell", "password": "p"},
            {"shellname": "SuShell", "user": "other", "password": "p"},
            {"shellname": "BashShell", "timeout": 3},
            {"shellname": "PythonShell", "python": "python3.11"},
        ]
    )
    assert [type(s) for s in shells] == [SshShell, SudoShell, SuShell, BashShell, PythonShell]
    assert shells[0].describe() == "SshShell(u@h:2222)"
    assert shells[3].timeout == 3
    assert shells[4].python == "python3.11"


def test_shelldicts_run_as_a_stack(session):
    shells = ShellStack().initialize([{"shellname": "BashShell"}, {"shellname": "PythonShell"}])
    session.spawn(shells[0])
    session.push(shells[1])
    assert session.current_shell().exec_command("print('py')") == "py\n"


def test_bad_shelldicts():
    stack = ShellStack()
    with pytest.raises(UnknownShell, match="unknown shellname 'NoShell'"):
        stack.initialize([{"shellname": "NoShell"}])
    with pytest.raises(UnknownShell, match="no 'shellname'"):
        stack.create({"host": "h"})
    with pytest.raises(UnknownShell, match="cannot create BashShell"):
        stack.create({"shellname": "BashShell", "bogus": 1})
    with pytest.raises(UnknownShell, match="cannot import"):
        stack.create({"shellname": "no.such.module.Shell"})
    with pytest.raises(UnknownShell):
        stack.create({"shellname": "os.path"})
    with pytest.raises(TypeError):
        stack.register_shell("Str", str)  # type: ignore[arg-type]


# ---- names -------------------------------------------------------------------------------


def test_interactive_session_module_keeps_the_package_names():
    # In a child process: importing the module must not replace the class
    # ``RemoteProxyLibrary.InteractiveSession`` with the module.
    code = (
        "import importlib\n"
        "m = importlib.import_module('RemoteProxyLibrary.InteractiveSession')\n"
        "from RemoteProxyLibrary.InteractiveSession import BashShell, SshShell, SuShell\n"
        "from RemoteProxyLibrary import InteractiveSession, shells\n"
        "assert isinstance(InteractiveSession, type), InteractiveSession\n"
        "assert m.InteractiveSession is InteractiveSession\n"
        "assert issubclass(InteractiveSession, shells.InteractiveSession)\n"
        "assert m.PythonShell is shells.PythonShell and m.SudoShell is shells.SudoShell\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_dump_received_and_outgoing_copy_the_traffic_with_secrets_masked(tmp_path):
    received = tmp_path / "received.log"
    outgoing = io.BytesIO()
    session = InteractiveSession(dump_received=str(received), dump_outgoing=outgoing)
    session.spawn(BashShell(timeout=10))
    shell = session.current_shell()
    assert shell.exec_command("echo rpl-$((6*7))").strip() == "rpl-42"
    secret = "s3cr3t-not-in-any-dump"
    session.push(_SecretEchoShell(secret, timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    assert runner.run_python("'agent ' + 'reply'") == "agent reply"
    runner.close()
    session.close_terminal()
    sent = outgoing.getvalue()
    got = received.read_bytes()
    assert sent.startswith(b"*" * 30 + b"NEW TERMINAL")
    assert b"echo rpl-$((6*7))" in sent and b"rpl-42" in got
    assert b"{RPL:" in sent and b"{RPL:" in got  # the agent protocol too
    assert secret.encode() not in sent and secret.encode() not in got
    assert b"******" in sent


class _SecretEchoShell(BashShell):
    """A hop that types its secret, as a password dialogue would."""

    def __init__(self, secret, timeout=10):
        super().__init__(timeout=timeout)
        self._secret = Secret(secret)

    def secrets(self):
        return (self._secret,)

    def command_line(self):
        return f": {self._secret.value}; " + super().command_line()


class _SlowToFail(BashShell):
    """A hop that shows a failure at once but then ignores ^C for a while."""

    def command_line(self):
        return "sh -c " + shlex.quote("trap '' INT; echo 'RPL-REFUSED'; sleep 4")

    def dialogue(self):
        return [Failure("RPL-REFUSED", ShellError, "refused")]


def test_a_failed_hop_never_types_exit_into_a_parent_that_answers_late():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    try:
        with pytest.raises(ShellError, match="refused"):
            session.push(_SlowToFail(timeout=10))
        time.sleep(1.5)  # the hop's command ends now; the parent reads what was typed
        assert session.current_shell().exec_command("echo alive").strip() == "alive"
    finally:
        session.close_terminal()
