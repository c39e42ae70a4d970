"""NamespaceShell on the lab's network namespaces (resources/sshlab.py)."""

from __future__ import annotations

import time

import pytest

from RemoteProxyLibrary import (
    BashShell,
    InteractiveSession,
    NamespaceShell,
    ShellStack,
    SshShell,
    SuShell,
)
from RemoteProxyLibrary.errors import ShellError, ShellPermissionDenied
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 10


def addresses(shell) -> str:
    return shell.exec_command("ip -4 -o addr show")


def test_spawned_namespace_shell_is_in_the_namespace(ssh_lab):
    bastion = ssh_lab.hosts["bastion"]
    session = InteractiveSession()
    try:
        shell = session.spawn(NamespaceShell(bastion.namespace, timeout=TIMEOUT))
        assert repr(shell) == f"<NamespaceShell({bastion.namespace})>"
        out = addresses(shell)
        assert bastion.address in out and ssh_lab.controller_address not in out
        # From the bastion's namespace the DUT is reachable: an ssh hop and the agent.
        board = ssh_lab.users["board"]
        dut2 = ssh_lab.hosts["dut2"]
        session.push(
            SshShell(dut2.address, board.name, key_file=ssh_lab.client_key_file, timeout=TIMEOUT)
        )
        runner = RunnerTerminal(prompt_timeout=TIMEOUT, python=next(iter(dut2.pythons), "python3"))
        runner.initialize(session)
        try:
            assert runner.run_python("__import__('socket').gethostname()") == "dut2"
        finally:
            runner.close()
        session.pop()
        assert bastion.address in addresses(session.current_shell())
    finally:
        session.close_terminal()


@pytest.mark.parametrize("shell", ["auto", "dash -i", "busybox sh -i"])
def test_pushed_namespace_shell_and_back(ssh_lab, shell):
    dut1 = ssh_lab.hosts["dut1"]
    session = InteractiveSession()
    try:
        session.spawn(BashShell(timeout=TIMEOUT))
        assert dut1.address not in addresses(session.current_shell())
        pushed = session.push(NamespaceShell(dut1.namespace, timeout=TIMEOUT, shell=shell))
        assert dut1.address in addresses(pushed)
        runner = RunnerTerminal(prompt_timeout=TIMEOUT)
        runner.initialize(session)
        try:
            # The agent lives in the namespace: the controller's link is not there.
            names = runner.run_python("sorted(n for _, n in __import__('socket').if_nameindex())")
            assert names == ["eth0", "lo"]
        finally:
            runner.close()
        session.pop()
        assert dut1.address not in addresses(session.current_shell())
    finally:
        session.close_terminal()


def test_namespace_shell_from_a_shell_dict(ssh_lab):
    namespace = ssh_lab.hosts["dut2"].namespace
    shell = ShellStack().create({"shellname": "NamespaceShell", "namespace": namespace})
    assert isinstance(shell, NamespaceShell) and shell.namespace == namespace
    session = InteractiveSession()
    try:
        session.spawn(shell)
        assert ssh_lab.hosts["dut2"].address in addresses(shell)
    finally:
        session.close_terminal()


def test_unknown_namespace_fails_clearly_and_the_parent_stays(ssh_lab):
    session = InteractiveSession()
    try:
        parent = session.spawn(BashShell(timeout=TIMEOUT))
        started = time.monotonic()
        with pytest.raises(ShellError, match=r"NamespaceShell\(rpl-no-such\).*no such network"):
            session.push(NamespaceShell("rpl-no-such", timeout=TIMEOUT))
        assert time.monotonic() - started < 5
        assert parent.exec_command("echo still").strip() == "still"
    finally:
        session.close_terminal()


def test_namespace_shell_needs_root(ssh_lab):
    session = InteractiveSession()
    try:
        session.spawn(BashShell(timeout=TIMEOUT))
        user = session.push(SuShell(ssh_lab.users["jump"].name, timeout=TIMEOUT))
        with pytest.raises(ShellPermissionDenied, match="needs root"):
            session.push(NamespaceShell(ssh_lab.hosts["bastion"].namespace, timeout=TIMEOUT))
        assert user.exec_command("id -un").strip() == ssh_lab.users["jump"].name
    finally:
        session.close_terminal()
