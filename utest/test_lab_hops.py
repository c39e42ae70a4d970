"""Through the lab (resources/sshlab.py): every login shell and every Python
minor found (3.6 to the newest) behind a bastion, each with the runner, a proxy
call and recovery after the DUT's sshd child serving the session is killed.

The stack: controller -> bastion (paramiko) -> DUT (``ssh`` typed in the
bastion's shell, by password or key) [-> sudo]. The interactive shell on the
DUT is bash on dut1 and BusyBox ``sh`` on dut2, which has no bash. One test
reaches dut2 by paramiko alone: a jump through the bastion (``jump=``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Optional

import pytest
from sshlab import find_python2, find_pythons

from RemoteProxyLibrary import (
    InteractiveSession,
    NoUsablePython,
    PythonShell,
    Shell,
    SshShell,
    SudoShell,
    SuShell,
)
from RemoteProxyLibrary.recovery.autorunnerterminal import AutoRunnerTerminal
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 10
PID = "__import__('os').getpid()"
TEXT = "Grüße, ½ € ✓"
ROLES = ("bash", "dash", "busybox", "board")
HOST_OF = {"bash": "dut1", "dash": "dut1", "busybox": "dut1", "board": "dut2", "oldpy": "dut2"}


@dataclass(frozen=True)
class Case:
    """One trip through the lab: who logs in on which DUT, how, with which Python."""

    role: str
    auth: str  # "password" or "key"
    sudo: bool
    minor: Optional[tuple[int, int]]  # None: the DUT's own Python, by name

    @property
    def id(self) -> str:
        python = f"py3.{self.minor[1]}" if self.minor else "own-python"
        return f"{self.role}-{self.auth}{'-sudo' if self.sudo else ''}-{python}"


def cases() -> list[Case]:
    """Every Python minor found, the login shells taking turns; then every
    login shell not met yet with the DUT's own Python."""
    found = sorted(find_pythons())
    listed = [
        Case(ROLES[i % len(ROLES)], ("key", "password")[i % 2], i % 3 == 0, minor)
        for i, minor in enumerate(found)
    ]
    met = {case.role for case in listed}
    listed += [Case(role, "password", True, None) for role in ROLES if role not in met]
    return listed


def python_for(lab, case: Case) -> str:
    """The interpreter: a found one by path, or the DUT's own by name."""
    if case.minor is not None:
        return lab.pythons[case.minor]
    own = lab.hosts[HOST_OF[case.role]].pythons
    return next(iter(own)) if own else "python3"


def shells(lab, case: Case) -> list[Shell]:
    jump, user = lab.users["jump"], lab.users[case.role]
    dut = lab.hosts[HOST_OF[case.role]]
    stack: list[Shell] = [
        SshShell(lab.hosts["bastion"].address, jump.name, jump.password, timeout=TIMEOUT)
    ]
    if case.auth == "password":
        stack.append(SshShell(dut.address, user.name, user.password, timeout=TIMEOUT))
    else:
        stack.append(SshShell(dut.address, user.name, key_file=jump.hop_key_file, timeout=TIMEOUT))
    if case.sudo:
        stack.append(SudoShell(password=user.password, timeout=TIMEOUT))
    return stack


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def check_runner(lab, case: Case, runner: RunnerTerminal) -> None:
    """What every trip must show: where it runs, as whom, on which Python."""
    user = lab.users[case.role]
    host = HOST_OF[case.role]
    assert runner.run_python("__import__('socket').gethostname()") == host
    expected_user = "root" if case.sudo else user.name
    assert runner.run_python("__import__('pwd').getpwuid(__import__('os').getuid())[0]") == (
        expected_user
    )
    version = tuple(runner.run_python("tuple(__import__('sys').version_info[:2])"))
    if case.minor is not None:
        assert version == case.minor
    assert version >= (3, 6)
    # Non-ASCII text crosses whatever the target's locale is.
    assert runner.run_python(repr(TEXT)) == TEXT
    assert runner.run_python_call("str.upper", TEXT) == TEXT.upper()
    runner.import_libraries("os")
    path = runner.get_recursive_proxy("os").path
    assert path.join("a", "b") == "a/b"
    with pytest.raises(KeyError):
        runner.run_python("{}['missing']")


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.id)
def test_runner_and_recovery_through_the_bastion(ssh_lab, case):
    if case.minor is not None and case.minor not in ssh_lab.pythons:
        pytest.skip(f"Python 3.{case.minor[1]} not found")
    python = python_for(ssh_lab, case)

    # 1. RunnerTerminal on an InteractiveSession.
    session = InteractiveSession()
    try:
        for shell in shells(ssh_lab, case):
            session.push(shell)
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, python=python)
        runner.initialize(session)
        try:
            check_runner(ssh_lab, case, runner)
        finally:
            runner.close()
        assert session.current_shell().exec_command("echo back").strip() == "back"
    finally:
        session.close_terminal()

    # 2. AutoRunnerTerminal: the DUT's sshd child is killed, the stack comes back.
    auto = AutoRunnerTerminal(prompt_timeout=TIMEOUT, python=python)
    auto.liveness_interval = 1.0
    auto.liveness_timeout = 2.0
    os_proxy = auto.create_empty_recursive_proxy()
    prepared = []

    def prepare():
        prepared.append(1)
        auto.import_libraries("os")
        os_proxy.set_from_remote_proxy(auto.get_recursive_proxy("os"))

    auto.initialize_with_shells(shells(ssh_lab, case), prepare, sleep_between_tries=0.2)
    try:
        pid = os_proxy.getpid()
        assert ssh_lab.kill_sessions(case.role) >= 1
        started = time.monotonic()
        assert auto.run_python(PID) != pid
        assert time.monotonic() - started < 15
        assert len(prepared) == 2
        assert os_proxy.getpid() == auto.run_python(PID)
        assert auto.run_python("__import__('socket').gethostname()") == HOST_OF[case.role]
    finally:
        auto.close()
    assert wait_until(lambda: ssh_lab.user_processes(case.role) == 0)
    assert wait_until(lambda: ssh_lab.user_processes("jump") == 0)


# ---- every hop kind with dash and BusyBox sh as the interactive shell -------------
SHELL_CASES = {
    # dut1 has bash: ask for the other shells by name.
    "dash-on-dut1": ("dash", "dash -i"),
    "busybox-on-dut1": ("busybox", "busybox sh -i"),
    # dut2 has no bash: the default finds its sh (BusyBox).
    "auto-on-dut2": ("board", "auto"),
}


@pytest.mark.parametrize("name", sorted(SHELL_CASES))
def test_every_hop_kind_with_a_non_bash_shell(ssh_lab, name):
    role, shell = SHELL_CASES[name]
    jump, user = ssh_lab.users["jump"], ssh_lab.users[role]
    dut = ssh_lab.hosts[HOST_OF[role]]
    python = next(iter(dut.pythons)) if dut.pythons and role == "board" else "python3"
    session = InteractiveSession()
    try:
        # The paramiko hop too (the bastion has bash: name the shell).
        first = "busybox sh -i" if shell == "auto" else shell
        bastion = session.spawn(
            SshShell(
                ssh_lab.hosts["bastion"].address,
                jump.name,
                jump.password,
                timeout=TIMEOUT,
                shell=first,
            )
        )
        assert "bash" not in bastion.exec_command('echo "$0"; ps -o comm= -p $$').split()
        hops = [
            SshShell(dut.address, user.name, user.password, timeout=TIMEOUT, shell=shell),
            SudoShell(password=user.password, timeout=TIMEOUT, shell=shell),
            SuShell(user.name, timeout=TIMEOUT, shell=shell, login=True),
        ]
        for hop in hops:
            session.push(hop)
            out = hop.exec_command('echo "$0"; id -un; ps -o comm= -p $$ 2>/dev/null')
            lines = out.split()
            assert "bash" not in lines, (hop, out)
        assert session.current_shell().exec_command("id -un").strip() == user.name
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, python=python)
        runner.initialize(session)
        try:
            assert runner.run_python("__import__('socket').gethostname()") == dut.name
            assert runner.run_python(repr(TEXT)) == TEXT
        finally:
            runner.close()
        python_shell = session.push(PythonShell(timeout=TIMEOUT, python=python))
        assert python_shell.exec_command("print(6 * 7)").strip() == "42"
        session.pop()
        for _ in hops:
            session.pop()
        assert session.current_shell().exec_command("id -un").strip() == jump.name
    finally:
        session.close_terminal()


def test_login_noise_does_not_confuse_the_hop(ssh_lab):
    """dut1's banner, the bash user's slow chatty .bashrc and its PROMPT_COMMAND."""
    jump, user = ssh_lab.users["jump"], ssh_lab.users["bash"]
    session = InteractiveSession()
    try:
        bastion = session.spawn(
            SshShell(ssh_lab.hosts["bastion"].address, jump.name, jump.password, timeout=TIMEOUT)
        )
        # The noise is there: a plain ssh from the bastion shows it.
        noise = bastion.exec_command(
            f"ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
            f" -i {jump.hop_key_file} {user.name}@{ssh_lab.hosts['dut1'].address}"
            " 'echo PC=$PROMPT_COMMAND' 2>&1"
        )
        assert "Unauthorised access is prohibited" in noise
        assert "rpl-lab: loading the tools of dut1" in noise
        assert "PC=printf" in noise
        started = time.monotonic()
        shell = session.push(
            SshShell(ssh_lab.hosts["dut1"].address, user.name, user.password, timeout=TIMEOUT)
        )
        assert time.monotonic() - started >= 0.3  # the .bashrc's sleep
        assert shell.exec_command("echo ok").strip() == "ok"
        assert shell.exec_command("pwd").strip() == user.home
        assert session.current_shell().exec_command("echo ${PROMPT_COMMAND:-unset}").strip() == (
            "unset"
        )
    finally:
        session.close_terminal()


def test_a_stopped_hop_leaves_no_process_on_the_duts(ssh_lab):
    """Closing a terminal ends every process of the DUT user (none left over)."""
    case = Case("board", "key", False, None)
    session = InteractiveSession()
    for shell in shells(ssh_lab, case):
        session.push(shell)
    pids = ssh_lab.session_pids("board")
    assert pids
    session.close_terminal()
    assert wait_until(lambda: ssh_lab.user_processes("board") == 0)
    assert wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in pids))


def test_paramiko_jump_through_the_bastion(ssh_lab):
    """``SshShell(dut, jump=SshShell(bastion))``: both logins are paramiko's, the
    DUT's over a direct-tcpip channel of the bastion's connection (no shell on
    the bastion). Host keys are checked (``reject`` with the lab's known_hosts,
    inherited by the jump) and the DUT is the BusyBox board, where the default
    shell ``auto`` finds BusyBox ``sh``. Killing the bastion's session breaks
    the tunnel; recovery logs in through the bastion again."""
    jump, user = ssh_lab.users["jump"], ssh_lab.users["board"]
    bastion, dut = ssh_lab.hosts["bastion"], ssh_lab.hosts["dut2"]
    python = next(iter(dut.pythons)) if dut.pythons else "python3"

    def through_the_bastion() -> SshShell:
        return SshShell(
            dut.address,
            user.name,
            user.password,
            timeout=TIMEOUT,
            host_key_policy="reject",
            known_hosts=ssh_lab.known_hosts_file,
            jump=SshShell(bastion.address, jump.name, key_file=jump.key_file, timeout=TIMEOUT),
        )

    # 1. RunnerTerminal on an InteractiveSession.
    session = InteractiveSession()
    try:
        top = session.spawn(through_the_bastion())
        assert "bash" not in top.exec_command('echo "$0"; ps -o comm= -p $$').split()
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, python=python)
        runner.initialize(session)
        try:
            assert runner.run_python("__import__('socket').gethostname()") == "dut2"
            assert runner.run_python("__import__('os').environ['USER']") == user.name
            # The DUT's client is the bastion (its end of the DUT's link).
            client = runner.run_python("__import__('os').environ['SSH_CONNECTION']").split()[0]
            assert f" {client}/" in ssh_lab.run_in("bastion", "ip", "-o", "addr").stdout
            assert runner.run_python(repr(TEXT)) == TEXT
        finally:
            runner.close()
        # On the bastion the jump user runs its sshd only: no shell was started there.
        children = [p for p in ssh_lab.session_pids("jump") if os.stat(f"/proc/{p}").st_uid]
        assert children and ssh_lab.user_processes("jump") == len(children)
    finally:
        session.close_terminal()
    assert wait_until(lambda: ssh_lab.user_processes("board") == 0)
    assert wait_until(lambda: ssh_lab.user_processes("jump") == 0)

    # 2. AutoRunnerTerminal: the bastion's session is killed, both logins are redone.
    auto = AutoRunnerTerminal(prompt_timeout=TIMEOUT, python=python)
    auto.liveness_interval = 1.0
    auto.liveness_timeout = 2.0
    auto.initialize_with_shells([through_the_bastion()], sleep_between_tries=0.2)
    try:
        pid = auto.run_python(PID)
        assert ssh_lab.kill_sessions("jump") >= 1
        started = time.monotonic()
        assert auto.run_python(PID) != pid
        assert time.monotonic() - started < 15
        assert auto.run_python("__import__('socket').gethostname()") == "dut2"
    finally:
        auto.close()
    assert wait_until(lambda: ssh_lab.user_processes("board") == 0)
    assert wait_until(lambda: ssh_lab.user_processes("jump") == 0)


# ---- which Python: auto, lists, and a user without a usable one ------------------
PYTHON_CASES = {
    # dut2 has no python3, only the oldest python3.X found
    "board-auto": ("board", "auto"),
    # dut1 has the newest python3.X next to the system python3
    "bash-auto": ("bash", "auto"),
    "busybox-list": ("busybox", ["python3.99", "python3"]),
    # oldpy: python3 says 3.4.10, python is Python 2.7; the list skips 2.7
    "oldpy-list": ("oldpy", ["python", "@oldest"]),
    "oldpy-auto": ("oldpy", "auto"),
}


@pytest.mark.parametrize("name", sorted(PYTHON_CASES))
def test_which_python_starts_on_the_duts(ssh_lab, name):
    role, python = PYTHON_CASES[name]
    if not ssh_lab.pythons:
        pytest.skip("no pyenv Pythons found")
    oldest, newest = min(ssh_lab.pythons), max(ssh_lab.pythons)
    if isinstance(python, list):
        python = [ssh_lab.pythons[oldest] if p == "@oldest" else p for p in python]
    expected = {
        "board-auto": (f"python3.{oldest[1]}", oldest),
        "bash-auto": (f"python3.{newest[1]}", newest),
        "busybox-list": ("python3", None),  # the system's
        "oldpy-list": (ssh_lab.pythons[oldest], oldest),
    }
    session = InteractiveSession()
    try:
        for shell in shells(ssh_lab, Case(role, "password", False, None)):
            session.push(shell)
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, python=python)
        if name == "oldpy-auto":
            started = time.monotonic()
            with pytest.raises(NoUsablePython) as info:
                runner.initialize(session)
            assert time.monotonic() - started < 5
            message = str(info.value)
            assert "no usable Python: no python3.X, python3 is 3.4.10, python " in message
            assert ("python is 2.7." if find_python2() else "python not found") in message
            assert message.endswith(
                f"the agent needs Python 3.6 or newer (PATH={ssh_lab.users[role].home}/bin:"
                "/usr/bin:/bin)"
            )
            return
        runner.initialize(session)
        try:
            command, version = expected[name]
            assert runner.python_started == command
            found = tuple(runner.run_python("tuple(__import__('sys').version_info[:2])"))
            assert found == version or (version is None and found >= (3, 6))
            assert runner.run_python("__import__('socket').gethostname()") == HOST_OF[role]
        finally:
            runner.close()
    finally:
        session.close_terminal()
