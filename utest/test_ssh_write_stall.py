"""A large write over SSH survives a stalled link, and fails clearly on a dead one.

The agent connection's reader sets the channel timeout to 0.5 s, and paramiko
waits for send window only that long: a write must not fail on that timeout.
The link is stalled for real by SIGSTOPping the sshd processes of the session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest

from RemoteProxyLibrary import InteractiveSession, SshShell
from RemoteProxyLibrary.errors import RunnerTerminalSessionBroken
from RemoteProxyLibrary.runnerterminal import RunnerTerminal
from RemoteProxyLibrary.terminal import ssh

TIMEOUT = 10
SIZE = 20_000_000


@pytest.fixture
def ssh_runner(ssh_target):
    user = ssh_target.users["password"]
    session = InteractiveSession()
    session.spawn(
        SshShell(ssh_target.host, user.name, user.password, port=ssh_target.port, timeout=TIMEOUT)
    )
    runner = RunnerTerminal(prompt_timeout=TIMEOUT)
    runner.initialize(session)
    pids = ssh_target.session_pids(user.name)
    assert pids, "no sshd process found for the session"
    try:
        yield runner, pids
    finally:
        signal_all(pids, signal.SIGCONT)
        runner.close()
        session.close_terminal()


def signal_all(pids, signum):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def test_large_write_survives_a_one_second_stall(ssh_runner):
    runner, pids = ssh_runner
    assert runner.run_python("1 + 1") == 2
    blob = b"x" * SIZE
    # Stopped before the call starts: the write fills the send window (and
    # the socket buffers), then waits for sshd to read again, about 1 s.
    signal_all(pids, signal.SIGSTOP)
    resume = threading.Timer(1.0, signal_all, args=(pids, signal.SIGCONT))
    resume.start()
    start = time.monotonic()
    try:
        assert runner.run_python_call("len", blob) == SIZE
    finally:
        resume.cancel()
        signal_all(pids, signal.SIGCONT)
    assert time.monotonic() - start >= 1.0  # the stall really happened during the call
    assert runner.run_python("'next call'") == "next call"


def test_write_stalled_longer_than_the_limit_fails_with_the_reason(ssh_runner, monkeypatch):
    runner, pids = ssh_runner
    monkeypatch.setattr(ssh, "WRITE_STALL_TIMEOUT", 1.0)
    assert runner.run_python("1 + 1") == 2
    blob = b"x" * SIZE
    signal_all(pids, signal.SIGSTOP)
    start = time.monotonic()
    try:
        with pytest.raises(
            RunnerTerminalSessionBroken,
            match=r"write failed: no progress for 1 s \(send window closed",
        ):
            runner.run_python_call("len", blob)
        elapsed = time.monotonic() - start
    finally:
        signal_all(pids, signal.SIGCONT)
    # failed after the limit, not at the reader's 0.5 s timeout, and did not hang
    assert 1.0 <= elapsed < 2.5
