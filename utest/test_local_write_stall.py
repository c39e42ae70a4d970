"""A large write to a local target that stopped reading fails within the write
stall bound instead of hanging (the pty path and the direct channel).

The target is stopped for real: SIGSTOP to the remote python."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.errors import RunnerTerminalSessionBroken
from RemoteProxyLibrary.runnerterminal import RunnerTerminal
from RemoteProxyLibrary.terminal import stall

SIZE = 40_000_000


@pytest.fixture(params=["off", "on"])
def stopped_target(request):
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    # No job control: a stopped python is a target that stops reading, not a
    # job that gives the shell's prompt back.
    session.current_shell().exec_command("set +m")
    runner = RunnerTerminal(prompt_timeout=10, direct=request.param)
    runner.initialize(session)
    runner.set_default_timeout(60)
    pid = runner.run_python("__import__('os').getpid()")
    try:
        yield runner, pid
    finally:
        os.kill(pid, signal.SIGCONT)
        runner.close()
        session.close_terminal()


def test_a_write_to_a_target_that_stopped_reading_fails_in_time(stopped_target, monkeypatch):
    runner, pid = stopped_target
    monkeypatch.setattr(stall, "WRITE_STALL_TIMEOUT", 1.0)
    os.kill(pid, signal.SIGSTOP)
    start = time.monotonic()
    with pytest.raises(RunnerTerminalSessionBroken, match="stopped reading"):
        runner.run_python_call("len", b"x" * SIZE)
    assert time.monotonic() - start < 1.0 + 2.0


def test_a_short_stall_is_no_dead_target(stopped_target, monkeypatch):
    runner, pid = stopped_target
    monkeypatch.setattr(stall, "WRITE_STALL_TIMEOUT", 5.0)
    os.kill(pid, signal.SIGSTOP)
    resume = threading.Timer(1.0, os.kill, args=(pid, signal.SIGCONT))
    resume.start()
    try:
        assert runner.run_python_call("len", b"x" * SIZE) == SIZE
    finally:
        resume.cancel()
    assert runner.run_python("'next call'") == "next call"
