"""Shell stacks against a real sshd (resources/sshtarget.py): paramiko and typed
``ssh`` hops, ``su``, ``sudo``, the target's ``python3``, failures and teardown."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator

import pytest
from sshtarget import count_user_processes

from RemoteProxyLibrary import (
    InteractiveSession,
    PythonShell,
    ShellAuthenticationFailed,
    ShellConnectionFailed,
    ShellPermissionDenied,
    ShellStack,
    ShellStartTimeout,
    SshShell,
    SudoShell,
    SuShell,
)

#: Start timeout of the hops in failure tests; they must fail within it plus
#: MARGIN (the parent's resynchronisation after the failure included).
TIMEOUT = 5
MARGIN = 3
WRONG = "Wr0ng-Pa55-word"


@pytest.fixture
def session() -> Iterator[InteractiveSession]:
    session = InteractiveSession()
    yield session
    session.close_terminal()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def key_hop(target, timeout: float = TIMEOUT, **kwargs) -> SshShell:
    """First hop: paramiko, as the key user."""
    user = target.users["key"]
    return SshShell(
        target.host, user.name, port=target.port, key_file=user.key_file, timeout=timeout, **kwargs
    )


def password_hop(target, password=None) -> SshShell:
    """An SSH hop as the password user, authenticated by password."""
    user = target.users["password"]
    return SshShell(
        target.host, user.name, password or user.password, port=target.port, timeout=TIMEOUT
    )


def whoami(session: InteractiveSession) -> str:
    return session.current_shell().exec_command("whoami").strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_mentioning(*tokens: str) -> list[int]:
    """Live processes whose command line or environment holds one of ``tokens``
    (every hop's prompt token is in its shell's environment or command line)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                if "\nState:\tZ" in f.read():
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                text = f.read()
            with open(f"/proc/{name}/environ", "rb") as f:
                text += f.read()
        except OSError:
            continue
        if any(token.encode() in text for token in tokens):
            found.append(int(name))
    return found


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def assert_secret_hidden(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text


def assert_parent_works(session: InteractiveSession, user: str) -> None:
    assert session.current_shell().exec_command("echo still alive") == "still alive\n"
    assert whoami(session) == user


# ---- first hop over paramiko ---------------------------------------------------------------


def test_paramiko_hop_with_key(ssh_target, session):
    shell = session.spawn(key_hop(ssh_target))
    assert whoami(session) == ssh_target.users["key"].name
    assert shell.exec_command("stty size") == "50 4000\n"
    assert shell.exec_command("python3 -c 'print(\"y\" * 3000)'") == "y" * 3000 + "\n"
    assert shell.exec_command("printf '\\e[31mred\\e[0m\\n'") == "red\n"
    shell.exec_command("(exit 7)")
    assert shell.get_status_code() == 7
    user = ssh_target.users["key"].name
    assert repr(session) == f"<InteractiveSession SshShell({user}@127.0.0.1:{ssh_target.port})>"


def test_paramiko_hop_with_password(ssh_target, session, logs):
    user = ssh_target.users["password"]
    shell = session.spawn(password_hop(ssh_target))
    assert whoami(session) == user.name
    assert_secret_hidden(user.password, repr(shell), repr(session), str(vars(shell)), logs.text)


def test_paramiko_wrong_password(ssh_target, session, logs):
    user = ssh_target.users["password"]
    start = time.monotonic()
    with pytest.raises(ShellAuthenticationFailed) as info:
        session.spawn(password_hop(ssh_target, WRONG))
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert f"SshShell({user.name}@127.0.0.1:{ssh_target.port})" in str(info.value)
    assert_secret_hidden(WRONG, str(info.value), repr(info.value), logs.text)
    assert session.terminal is None


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [("nosuchhost.invalid", 22, "unknown host"), ("127.0.0.1", 0, "refused")],
)
def test_paramiko_connection_failures(ssh_target, session, host, port, expected):
    user = ssh_target.users["key"]
    shell = SshShell(
        host, user.name, port=port or free_port(), key_file=user.key_file, timeout=TIMEOUT
    )
    start = time.monotonic()
    with pytest.raises(ShellConnectionFailed, match=expected) as info:
        session.spawn(shell)
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert f"SshShell({user.name}@{host}:" in str(info.value)


def test_paramiko_hop_to_a_silent_server_times_out(ssh_target, fault_proxy, session):
    fault_proxy.blackhole(True)
    user = ssh_target.users["key"]
    shell = SshShell(
        "127.0.0.1", user.name, port=fault_proxy.port, key_file=user.key_file, timeout=2
    )
    start = time.monotonic()
    with pytest.raises(ShellStartTimeout, match="no answer from the server within 2 s"):
        session.spawn(shell)
    assert time.monotonic() - start < 2 + MARGIN


def test_silent_server_fails_at_connect_timeout_saying_so(ssh_target, fault_proxy, session):
    fault_proxy.blackhole(True)
    user = ssh_target.users["key"]
    shell = SshShell(
        "127.0.0.1",
        user.name,
        port=fault_proxy.port,
        key_file=user.key_file,
        timeout=30,
        connect_timeout=2,
    )
    start = time.monotonic()
    with pytest.raises(ShellStartTimeout, match="no answer from the server within 2 s"):
        session.spawn(shell)
    assert time.monotonic() - start < 2 + MARGIN


def test_paramiko_hop_whose_prompt_never_comes(ssh_target, session):
    user = ssh_target.users["key"].name
    before = count_user_processes(user)
    start = time.monotonic()
    with pytest.raises(ShellStartTimeout, match="prompt did not come within 2 s"):
        session.spawn(key_hop(ssh_target, timeout=2, shell="sleep 30"))
    assert time.monotonic() - start < 2 + MARGIN
    assert wait_for(lambda: count_user_processes(user) <= before)


# ---- later hops typed into the current shell ----------------------------------------------------


def test_typed_ssh_with_password_then_pop(ssh_target, session, logs):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    session.spawn(key_hop(ssh_target))
    hop = session.push(password_hop(ssh_target))
    assert whoami(session) == pw_user.name
    assert hop.exec_command("echo $SSH_CONNECTION").startswith("127.0.0.1 ")
    assert hop.exec_command("stty size") == "50 4000\n"
    session.pop()
    assert_parent_works(session, key_user.name)
    assert_secret_hidden(pw_user.password, repr(session), logs.text)


def test_typed_ssh_with_key(ssh_target, session):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    session.spawn(key_hop(ssh_target))
    session.push(
        SshShell(
            ssh_target.host,
            pw_user.name,
            port=ssh_target.port,
            key_file=key_user.hop_key_file,
            timeout=TIMEOUT,
        )
    )
    assert whoami(session) == pw_user.name


def test_typed_ssh_wrong_password(ssh_target, session, logs):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    session.spawn(key_hop(ssh_target))
    start = time.monotonic()
    with pytest.raises(ShellAuthenticationFailed) as info:
        session.push(password_hop(ssh_target, WRONG))
    assert time.monotonic() - start < TIMEOUT + MARGIN
    message = str(info.value)
    assert (
        f"SshShell({pw_user.name}@127.0.0.1:{ssh_target.port}) via SshShell({key_user.name}@"
        in (message)
    )
    assert "Last output seen" in message
    assert_secret_hidden(WRONG, message, info.value.last_output, logs.text)
    assert len(session.shells) == 1
    assert_parent_works(session, key_user.name)


@pytest.mark.parametrize(
    ("host", "port", "seen"),
    [
        ("nosuchhost.invalid", 22, "Could not resolve hostname"),
        ("127.0.0.1", 0, "Connection refused"),
    ],
)
def test_typed_ssh_connection_failures(ssh_target, session, host, port, seen):
    key_user = ssh_target.users["key"]
    session.spawn(key_hop(ssh_target))
    hop = SshShell(host, "nobody", "pw", port=port or free_port(), timeout=TIMEOUT)
    start = time.monotonic()
    with pytest.raises(ShellConnectionFailed) as info:
        session.push(hop)
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert f"SshShell(nobody@{host}:" in str(info.value)
    assert seen in info.value.last_output
    assert_parent_works(session, key_user.name)


# ---- su and sudo ---------------------------------------------------------------------------


def test_su_hop_and_sudo_without_rights(ssh_target, session, logs):
    key_user, su_user = ssh_target.users["key"], ssh_target.users["su"]
    session.spawn(key_hop(ssh_target))
    su = session.push(SuShell(su_user.name, su_user.password, timeout=TIMEOUT))
    assert whoami(session) == su_user.name
    assert su.exec_command("stty size") == "50 4000\n"
    start = time.monotonic()
    with pytest.raises(ShellPermissionDenied, match="no sudo rights") as info:
        session.push(SudoShell(password=su_user.password, timeout=TIMEOUT))
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert f"SudoShell(to root) via SuShell(to {su_user.name}) via SshShell(" in str(info.value)
    assert "not in the sudoers file" in info.value.last_output
    assert_parent_works(session, su_user.name)
    session.pop()
    assert_parent_works(session, key_user.name)
    assert_secret_hidden(su_user.password, str(info.value), repr(session), logs.text)


def test_su_wrong_password(ssh_target, session, logs):
    key_user, su_user = ssh_target.users["key"], ssh_target.users["su"]
    session.spawn(key_hop(ssh_target))
    start = time.monotonic()
    with pytest.raises(ShellAuthenticationFailed, match="su password refused") as info:
        session.push(SuShell(su_user.name, WRONG, timeout=TIMEOUT))
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert "Authentication failure" in info.value.last_output
    assert_secret_hidden(WRONG, str(info.value), logs.text)
    assert_parent_works(session, key_user.name)


def test_sudo_without_password(ssh_target, session):
    key_user = ssh_target.users["key"]
    session.spawn(key_hop(ssh_target))
    sudo = session.push(SudoShell(timeout=TIMEOUT))
    assert whoami(session) == "root"
    assert sudo.exec_command("echo $SUDO_USER") == f"{key_user.name}\n"
    session.pop()
    assert_parent_works(session, key_user.name)


def test_sudo_wrong_or_missing_password(ssh_target, session, logs):
    pw_user = ssh_target.users["password"]
    session.spawn(password_hop(ssh_target))
    start = time.monotonic()
    with pytest.raises(ShellAuthenticationFailed, match="sudo password refused") as info:
        session.push(SudoShell(password=WRONG, timeout=TIMEOUT))
    assert time.monotonic() - start < TIMEOUT + MARGIN
    assert_secret_hidden(WRONG, str(info.value), logs.text)
    assert_parent_works(session, pw_user.name)
    # logged in with a key: no password known to answer sudo with
    session.spawn(SshShell(ssh_target.host, pw_user.name, port=ssh_target.port,
                           key_file=ssh_target.client_key_file, timeout=TIMEOUT))  # fmt: skip
    with pytest.raises(ShellAuthenticationFailed, match="asked for a password, none given"):
        session.push(SudoShell(timeout=TIMEOUT))
    assert_parent_works(session, pw_user.name)
    assert_secret_hidden(pw_user.password, logs.text)


# ---- a three-hop stack ------------------------------------------------------------------------


def test_three_hops_to_python_and_teardown(ssh_target, session, logs):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    users = (key_user.name, pw_user.name)
    # sshd ends the processes of earlier tests' sessions asynchronously.
    wait_for(lambda: not any(count_user_processes(name) for name in users))
    before = [count_user_processes(name) for name in users]

    session.spawn(key_hop(ssh_target))
    session.push(password_hop(ssh_target))
    session.push(SudoShell(password=pw_user.password, timeout=TIMEOUT))
    python = session.push(PythonShell(timeout=TIMEOUT))

    assert python.exec_command("import os, getpass; print(os.getuid(), getpass.getuser())") == (
        "0 root\n"
    )
    assert python.exec_command("print(os.environ['SUDO_USER'])") == f"{pw_user.name}\n"
    assert python.hop() == (
        f"PythonShell(python3) via SudoShell(to root) via "
        f"SshShell({pw_user.name}@127.0.0.1:{ssh_target.port}) via "
        f"SshShell({key_user.name}@127.0.0.1:{ssh_target.port})"
    )
    tokens = [shell.token for shell in session.shells]
    during = [count_user_processes(name) for name in users]
    assert during[0] > before[0] and during[1] > before[1]
    assert len(processes_mentioning(*tokens)) >= 3  # bash, bash (root), python3 (root)

    session.close_terminal()

    def stack_gone() -> bool:
        return all(count_user_processes(n) <= b for n, b in zip(users, before))

    assert wait_for(stack_gone), ([count_user_processes(n) for n in users], before)
    assert wait_for(lambda: not processes_mentioning(*tokens)), processes_mentioning(*tokens)
    assert_secret_hidden(pw_user.password, logs.text, repr(session))


def test_shelldicts_build_an_ssh_stack(ssh_target, session):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    shells = ShellStack().initialize(
        [
            {
                "shellname": "SshShell",
                "host": ssh_target.host,
                "username": key_user.name,
                "port": ssh_target.port,
                "key_file": key_user.key_file,
                "timeout": TIMEOUT,
            },
            {
                "shellname": "SshShell",
                "host": ssh_target.host,
                "username": pw_user.name,
                "password": pw_user.password,
                "port": ssh_target.port,
            },
            {"shellname": "SudoShell", "password": pw_user.password},
        ]
    )
    session.spawn(shells[0])
    for shell in shells[1:]:
        session.push(shell)
    assert whoami(session) == "root"
    assert_secret_hidden(pw_user.password, repr(shells), repr(session))


def test_sudo_without_a_password_answers_with_the_login_password_everywhere(ssh_target):
    from RemoteProxyLibrary import AutoRunnerTerminal, ShellStack

    pw_user = ssh_target.users["password"]
    stack = ShellStack().initialize([
        {"shellname": "SshShell", "host": ssh_target.host, "port": ssh_target.port,
         "username": pw_user.name, "password": pw_user.password, "timeout": TIMEOUT},
        {"shellname": "SudoShell", "timeout": TIMEOUT},
    ])  # fmt: skip
    runner = AutoRunnerTerminal(prompt_timeout=TIMEOUT)
    runner.initialize_with_shells(stack)
    try:
        assert runner.run_python("os.getuid()") == 0
    finally:
        runner.close()


@pytest.fixture
def shell_only_server():
    from shellonly_server import ShellOnlyServer

    server = ShellOnlyServer()
    yield server
    server.stop()


def test_a_server_refusing_exec_gets_the_command_typed_into_its_shell(shell_only_server):
    from shellonly_server import PASSWORD, USER

    from RemoteProxyLibrary.runner import RunnerTerminal

    session = InteractiveSession()
    session.spawn(
        SshShell("127.0.0.1", USER, PASSWORD, port=shell_only_server.port, timeout=TIMEOUT)
    )
    try:
        assert shell_only_server.servers[0].exec_refused.is_set()
        assert session.current_shell().exec_command("echo $((6*7))").strip() == "42"
        runner = RunnerTerminal()
        runner.initialize(session)
        assert runner.run_python("6*7") == 42
        runner.close()
    finally:
        session.close_terminal()
