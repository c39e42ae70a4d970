"""Which Python starts the agent (``python=``: ``auto``, a command, a list), on
local ptys whose ``PATH`` the test sets to a directory of its own: real
Pythons of this machine linked there, a stand-in for an old ``python3``, and
a Python 2.7 if pyenv has one. The lab (``test_lab_hops.py``) does the same
on SSH hosts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sshlab import OLD_PYTHON3, find_python2, find_pythons

from RemoteProxyLibrary import (
    BashShell,
    InteractiveSession,
    NoUsablePython,
    PythonShell,
    RunnerTerminalSessionBroken,
)
from RemoteProxyLibrary.managed import ManagedTerminal, TerminalSettings
from RemoteProxyLibrary.runner import pythons
from RemoteProxyLibrary.runner.bootstrap import build
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

PYTHONS = find_pythons()
PYTHON2 = find_python2()
VERSION = "tuple(__import__('sys').version_info[:2])"


def bin_dir(tmp_path: Path, **links: str) -> Path:
    """A directory of ``name -> target`` links (a target ``@old`` is the
    stand-in for an old python3)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name, target in links.items():
        path = directory / name.replace("_", ".")
        if target == "@old":
            path.write_text(OLD_PYTHON3)
            path.chmod(0o755)
        else:
            path.symlink_to(target)
    return directory


def start(
    path: Path, python, shell: str = "auto", **runner
) -> tuple[InteractiveSession, RunnerTerminal]:
    """A local ``shell`` whose PATH is only ``path``, and a runner started in it."""
    session = InteractiveSession()
    shell = session.spawn(BashShell(timeout=10, shell=shell))
    shell.exec_command(f"PATH={path}")
    runner_ = RunnerTerminal(prompt_timeout=10, python=python, **runner)
    try:
        runner_.initialize(session)
    except BaseException:
        session.close_terminal()
        raise
    return session, runner_


def test_candidates_expand_auto_and_keep_the_order():
    assert pythons.candidates("auto") == ("python3.X", "python3", "python")
    assert pythons.candidates("python3") == ("python3",)
    assert pythons.candidates(["/opt/py/bin/python3", "auto", "python3"]) == (
        "/opt/py/bin/python3",
        "python3.X",
        "python3",
        "python",
    )
    assert pythons.normalize(["python3.9", "python3"]) == ("python3.9", "python3")
    for wrong in ([], [""], "  ", [None]):
        with pytest.raises(ValueError, match="python"):
            pythons.candidates(wrong)


def test_the_line_fits_a_busybox_shell_and_a_too_long_list_says_so():
    stage0 = build().stage0
    assert len(pythons.launch_line("auto", stage0)) <= pythons.MAX_LINE
    assert len(pythons.launch_line(["/opt/py/bin/python3.12", "auto"], stage0)) <= (
        pythons.MAX_LINE
    )
    # one command is typed as before, behind the gate only
    assert pythons.launch_line("python3", stage0).startswith("python3 -c 'import sys;")
    with pytest.raises(ValueError, match=r"python=.*more than the 1000"):
        pythons.launch_line([f"/opt/python{n}/bin/python3" for n in range(40)], stage0)


@pytest.mark.skipif(len(PYTHONS) < 2, reason="needs two Python 3 minors (pyenv)")
@pytest.mark.parametrize("shell", ["auto", "dash -i", "busybox sh -i"])
def test_auto_starts_the_newest_python3_x_on_path(tmp_path, shell):
    if not shutil.which(shell.split()[0]) and shell != "auto":
        pytest.skip(f"no {shell.split()[0]} here")
    (older, old_path), (newest, new_path) = sorted(PYTHONS.items())[0], max(PYTHONS.items())
    links = {
        f"python3_{older[1]}": old_path,
        f"python3_{newest[1]}": new_path,
        "python3_5": "@old",  # older than the agent: not a candidate
        f"python3_{newest[1]}-config": "@old",  # not a Python
        "python3": old_path,
    }
    session, runner = start(bin_dir(tmp_path, **links), "auto", shell)
    try:
        assert runner.run_python(VERSION) == newest
        assert runner.python_started == f"python3.{newest[1]}"
        assert runner.describe().startswith(f"python3.{newest[1]} in BashShell")
    finally:
        runner.close()
        session.close_terminal()


def test_a_target_without_a_usable_python_says_what_it_has(tmp_path):
    links = {"python3": "@old"}
    if PYTHON2:
        links["python"] = PYTHON2
    directory = bin_dir(tmp_path, **links)
    started = time.monotonic()
    with pytest.raises(NoUsablePython) as info:
        start(directory, "auto")
    assert time.monotonic() - started < 5
    python = "python is 2.7." if PYTHON2 else "python not found"
    message = str(info.value)
    assert message.startswith("BashShell: no usable Python: no python3.X, python3 is 3.4.10, ")
    assert python in message
    assert message.endswith(f": the agent needs Python 3.6 or newer (PATH={directory})")


def test_a_command_not_found_is_named():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10, python="no-such-python3")
    try:
        with pytest.raises(NoUsablePython, match=r"no usable Python: no-such-python3 not found"):
            runner.initialize(session)
        # the shell is usable afterwards, and another Python starts there
        assert session.current_shell().exec_command("echo ok").strip() == "ok"
        runner.python = sys.executable
        runner.initialize(session)
        assert runner.run_python("1 + 1") == 2
        runner.close()
    finally:
        session.close_terminal()


@pytest.mark.skipif(not PYTHON2, reason="no Python 2.7 (pyenv) on this machine")
def test_a_list_passes_over_an_old_python_in_the_same_line(tmp_path):
    directory = bin_dir(tmp_path, python=PYTHON2)
    session, runner = start(directory, ["missing-python", "python", sys.executable])
    try:
        assert runner.python_started == sys.executable
        assert runner.run_python(VERSION) == tuple(sys.version_info[:2])
        # the agent's Python is a child of the interactive shell (no subshell)
        shell_pid = runner.run_python("__import__('os').getppid()")
    finally:
        runner.close()
    assert session.current_shell().exec_command("echo $$").strip() == str(shell_pid)
    session.close_terminal()


def test_a_candidate_that_fails_otherwise_ends_the_line_and_is_named(tmp_path):
    """Only candidates too old, not found or not executable are passed over:
    one that fails in another way (this stand-in exits 1) might have been an
    agent that started and died, so nothing else is started after it."""
    directory = bin_dir(tmp_path, python3="@old")
    with pytest.raises(RunnerTerminalSessionBroken) as info:
        start(directory, ["python3", sys.executable])
    version = ".".join(map(str, sys.version_info[:3]))
    assert str(info.value) == (
        f"BashShell: python3 (3.4.10, {directory}/python3) did not start the agent and ended "
        f"the line, so {sys.executable} ({version}) was not tried (only Pythons older than "
        "3.6, not found or not executable are passed over); the shell said: "
        "'python3 (3.4.10, a stand-in) cannot run this'"
    )


@pytest.mark.skipif(not PYTHON2, reason="no Python 2.7 (pyenv) on this machine")
def test_the_gates_stop_python_2_before_it_reads_anything():
    stage0 = build().stage0
    run = subprocess.run(
        [PYTHON2, "-c", pythons.gate(stage0)],
        capture_output=True,
        timeout=30,
        stdin=subprocess.PIPE,
    )
    assert run.returncode == pythons.TOO_OLD and run.stdout == b""
    run = subprocess.run(
        [PYTHON2, "-c", pythons.gate_at_prompt(stage0)], capture_output=True, timeout=30
    )
    assert b"AssertionError: RPL-OLD 2.7." in run.stderr


def test_a_python_shell_needs_no_choice():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    session.push(PythonShell(timeout=10, python=sys.executable))
    runner = RunnerTerminal(prompt_timeout=10, python="no-such-python3")
    try:
        runner.initialize(session)
        assert runner.python_started == "Python"
        assert runner.run_python(VERSION) == tuple(sys.version_info[:2])
        runner.close()
    finally:
        session.close_terminal()


def test_no_usable_python_fails_at_once_even_with_auto_recovery():
    settings = TerminalSettings(
        prompt_timeout=10, python="no-such-python3", auto_recovery=True, sleep_between_tries=1
    )
    terminal = ManagedTerminal([BashShell(timeout=10)], settings)
    started = time.monotonic()
    try:
        terminal.open()
        with pytest.raises(NoUsablePython):
            terminal.runner().run_python("1")
        assert time.monotonic() - started < 3  # no second try, no sleep
    finally:
        terminal.close()


def test_settings_keep_a_list_as_a_tuple_and_check_it():
    assert TerminalSettings(python=["python3.9", "python3"]).python == ("python3.9", "python3")
    assert TerminalSettings().python == "auto"
    with pytest.raises(ValueError, match="python"):
        TerminalSettings(python=[])


def test_the_keywords_take_a_list_given_as_text():
    from RemoteProxyLibrary.keywords import RemoteProxyLibrary

    library = RemoteProxyLibrary(python="['python3.99', 'python3']")
    assert library._settings.python == ("python3.99", "python3")
    try:
        library.open_local_terminal(python="['no-such-python3', 'python3']")
        assert library.run_python("1 + 1") == 2
        assert library.get_terminal().python == "python3"
    finally:
        library.close_all_terminals()
    with pytest.raises(ValueError, match="not a list of commands"):
        RemoteProxyLibrary(python="[python3")
