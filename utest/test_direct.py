"""The direct channel: when it applies, when it falls back, and who may attach.

Real parts only: local ptys, the real sshd of ``resources/sshtarget.py`` (and
one of its extra sshds that forbids forwarding), the target's own python3,
and a second local user of the target playing the attacker.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import time

import pytest

from RemoteProxyLibrary import (
    BashShell,
    DirectChannelUnavailable,
    InteractiveSession,
    NamespaceShell,
    PythonShell,
    SshShell,
    SudoShell,
)
from RemoteProxyLibrary.runner import direct
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

TIMEOUT = 10
#: The target's python3, as any user of it runs it (this one's may be private).
TARGET_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"

#: Run on the target: the TCP ports the agent's process listens on.
LISTENING = (
    "sorted(int(l.split()[1].split(':')[1], 16) for l in open('/proc/net/tcp').readlines()[1:]"
    " if l.split()[3] == '0A' and ('socket:[' + l.split()[9] + ']') in"
    " [os.readlink('/proc/self/fd/' + f) for f in os.listdir('/proc/self/fd')"
    " if os.path.exists('/proc/self/fd/' + f)])"
)

#: Run as another local user: attach to the agent's port with a wrong token,
#: and with none; print what each connection got (a closed connection: "").
ATTACKER = r"""
import json, socket, sys, time
port = int(sys.argv[1])
wrong = socket.create_connection(("127.0.0.1", port), timeout=10)
wrong.sendall(b"x" * 32)
silent = socket.create_connection(("127.0.0.1", port), timeout=10)
print("connected", flush=True)
got = {}
for name, sock in (("wrong", wrong), ("silent", silent)):
    try:
        got[name] = sock.recv(100).decode("latin-1")
    except OSError as error:
        got[name] = "error: " + str(error)
print(json.dumps(got), flush=True)
"""

#: Run as another local user: try to connect to the port once.
KNOCK = r"""
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
    print("open")
except OSError as error:
    print(type(error).__name__)
"""


def as_user(user: str, code: str, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        ["runuser", "-u", user, "--", TARGET_PYTHON, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )


def knock(user: str, port: int) -> str:
    process = as_user(user, KNOCK, str(port))
    out, _ = process.communicate(timeout=20)
    return out.strip()


def local_session(*more) -> InteractiveSession:
    session = InteractiveSession()
    session.spawn(BashShell(timeout=TIMEOUT))
    for shell in more:
        session.push(shell)
    return session


def ssh_session(target, *more, port=None) -> InteractiveSession:
    user = target.users["password"]
    session = InteractiveSession()
    session.spawn(SshShell(target.host, user.name, user.password, port=port or target.port,
                           timeout=TIMEOUT))  # fmt: skip
    for shell in more:
        session.push(shell)
    return session


# ---- when it applies ---------------------------------------------------------------
def test_the_rule_local_shells_on_this_machine():
    session = local_session(PythonShell(timeout=TIMEOUT))
    try:
        assert direct.unavailable(session) == ""
        session.shells.append(NamespaceShell("elsewhere"))  # as data: never started
        assert "leaves the host" in direct.unavailable(session)
    finally:
        session.shells.pop()
        session.close_terminal()


def test_the_rule_over_ssh(ssh_target):
    pw_user = ssh_target.users["password"]
    session = ssh_session(ssh_target, SudoShell(password=pw_user.password, timeout=TIMEOUT))
    try:
        assert direct.unavailable(session) == ""
        session.push(SshShell(ssh_target.host, pw_user.name, pw_user.password,
                              port=ssh_target.port, timeout=TIMEOUT))  # fmt: skip
        assert "SshShell" in direct.unavailable(session)
        assert "leaves the host" in direct.unavailable(session)
    finally:
        session.close_terminal()


def test_modes_are_checked():
    assert direct.check_mode("AUTO") == "auto"
    assert direct.check_mode(True) == "on" and direct.check_mode("false") == "off"
    with pytest.raises(ValueError, match="direct must be"):
        RunnerTerminal(direct="sometimes")


# ---- what it carries ---------------------------------------------------------------
def test_a_local_direct_channel_carries_calls_values_and_parallel_callers():
    session = local_session()
    runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="on")
    runner.initialize(session)
    try:
        assert runner.path == "direct"
        blob = os.urandom(3 << 20) + bytes(range(256))  # more than one frame, every byte
        assert runner.run_python_call("bytes", blob) == blob
        results: list = []

        def caller(n: int) -> None:
            results.extend(runner.run_python(f"{n} * 2") for _ in range(200))

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(set(results)) == [n * 2 for n in range(8)] and len(results) == 1600
        # a slow call blocks neither fast ones nor other slow ones
        runner.import_libraries("time")
        started = time.monotonic()
        slow = [threading.Thread(target=runner.run_python, args=("time.sleep(1)",))
                for _ in range(20)]  # fmt: skip
        for thread in slow:
            thread.start()
        assert runner.run_python("'fast'") == "fast"
        assert time.monotonic() - started < 0.8
        for thread in slow:
            thread.join(10)
        assert time.monotonic() - started < 3
    finally:
        runner.close()
    assert session.current_shell().exec_command("echo back").strip() == "back"
    session.close_terminal()


def test_a_call_waiting_for_a_later_one_does_not_hold_the_direct_channel():
    """The agent's reading thread runs what it reads itself; a call that runs
    on (here: until a later call sets an event) has the reading taken from
    it within a tick or two, also right after the watcher went to sleep."""
    session = local_session()
    runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="on")
    runner.initialize(session)
    try:
        assert runner.path == "direct"
        runner.run_python("import threading; event = threading.Event()")
        for _ in range(2):
            time.sleep(0.7)  # longer than the watcher's WATCH_IDLE: it sleeps
            waiting = runner.send_request("eval", ("event.wait(20)",))
            started = time.monotonic()
            runner.run_python("event.set()", timeout=10)
            assert runner.wait_reply(waiting, 10) is True
            assert time.monotonic() - started < 5
            runner.run_python("event.clear()")
        assert runner.run_python("1+1") == 2
    finally:
        runner.close()
    session.close_terminal()


def test_off_keeps_the_terminal():
    session = local_session()
    runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="off")
    runner.initialize(session)
    try:
        assert runner.path == "pty"
        assert runner.run_python("1+1") == 2
    finally:
        runner.close()
        session.close_terminal()


# ---- when it falls back ------------------------------------------------------------
def test_on_fails_where_the_hops_leave_the_host_and_the_shell_is_given_back(ssh_target):
    pw_user = ssh_target.users["password"]
    session = ssh_session(ssh_target, SshShell(ssh_target.host, pw_user.name, pw_user.password,
                                               port=ssh_target.port, timeout=TIMEOUT))  # fmt: skip
    try:
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="on")
        with pytest.raises(DirectChannelUnavailable, match="leaves the host"):
            runner.initialize(session)
        assert not runner.running
        assert session.current_shell().exec_command("echo back").strip() == "back"
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="auto")
        runner.initialize(session)
        assert runner.path == "pty" and runner.run_python("1+1") == 2
        runner.close()
    finally:
        session.close_terminal()


def test_a_server_that_forbids_forwarding_leaves_the_terminal(ssh_target, caplog):
    sshd = ssh_target.extra_sshd("noforward", {"AllowTcpForwarding": "no"})
    session = ssh_session(ssh_target, port=sshd.port)
    try:
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="auto")
        with caplog.at_level(logging.INFO, logger="RemoteProxyLibrary.runner"):
            runner.initialize(session)
        assert runner.path == "pty"
        assert "no direct channel" in caplog.text and "refused" in caplog.text
        assert runner.run_python("1+1") == 2
        assert runner.run_python(LISTENING) == []  # the offer was withdrawn
        runner.close()
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="on")
        with pytest.raises(DirectChannelUnavailable, match="refused"):
            runner.initialize(session)
        assert session.current_shell().exec_command("echo back").strip() == "back"
    finally:
        session.close_terminal()


# ---- who may attach ----------------------------------------------------------------
def test_a_second_local_user_cannot_attach(ssh_target, monkeypatch):
    """The agent runs as root (ssh, then sudo); another user of the target
    connects to its port while the controller is on its way, with a wrong
    token and with none: both are closed unanswered, the session is the
    controller's, and from then on nothing listens."""
    pw_user, other = ssh_target.users["password"], ssh_target.users["su"].name
    session = ssh_session(ssh_target, SudoShell(password=pw_user.password, timeout=TIMEOUT))
    terminal = session.terminal
    assert terminal is not None
    real_open = terminal.open_direct
    attack: dict = {}

    def open_after_the_attacker(port: int, timeout: float):
        attack["port"] = port
        attacker = as_user(other, ATTACKER, str(port))
        assert attacker.stdout is not None
        assert attacker.stdout.readline().strip() == "connected"
        attack["process"] = attacker
        return real_open(port, timeout)

    monkeypatch.setattr(terminal, "open_direct", open_after_the_attacker)
    runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="on")
    runner.initialize(session)
    try:
        assert runner.path == "direct"
        assert runner.run_python("os.getuid()") == 0
        out, _ = attack["process"].communicate(timeout=20)
        assert json.loads(out) == {"wrong": "", "silent": ""}  # closed, nothing said
        port = attack["port"]
        assert knock(other, port) == "ConnectionRefusedError"  # the listener is gone
        assert runner.run_python(LISTENING) == []
        assert runner.run_python("1+1") == 2  # the session is unaffected
    finally:
        runner.close()
    assert knock(other, port) == "ConnectionRefusedError"
    session.close_terminal()


def test_the_listener_is_gone_once_connected_and_after_the_agent_exits():
    session = local_session()
    runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct="on")
    runner.initialize(session)
    port = runner.connection.direct.stream.port  # type: ignore[union-attr]
    assert runner.run_python(LISTENING) == []
    runner.close()
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            __import__("socket").create_connection(("127.0.0.1", port), timeout=5)
    session.close_terminal()
