"""RunnerTerminal and proxies over the real sshd, through a 3-hop stack."""

from __future__ import annotations

import os

import pytest
from paths import direct_for, expected

from RemoteProxyLibrary import InteractiveSession, PythonShell, SshShell, SudoShell
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

TIMEOUT = 10


def stack(target, python_shell: bool, typed_ssh: bool = True) -> InteractiveSession:
    key_user, pw_user = target.users["key"], target.users["password"]
    session = InteractiveSession()
    session.spawn(
        SshShell(
            target.host,
            key_user.name if typed_ssh else pw_user.name,
            port=target.port,
            key_file=key_user.key_file,
            timeout=TIMEOUT,
        )
    )
    if typed_ssh:
        session.push(
            SshShell(target.host, pw_user.name, pw_user.password, port=target.port, timeout=TIMEOUT)
        )
    session.push(SudoShell(password=pw_user.password, timeout=TIMEOUT))
    if python_shell:
        session.push(PythonShell(timeout=TIMEOUT))
    return session


@pytest.mark.parametrize("typed_ssh", [True, False], ids=["ssh-ssh-sudo", "ssh-sudo"])
@pytest.mark.parametrize("python_shell", [False, True], ids=["from-bash", "from-python-shell"])
def test_runner_through_hops(ssh_target, python_shell, typed_ssh):
    session = stack(ssh_target, python_shell, typed_ssh)
    runner = RunnerTerminal(prompt_timeout=TIMEOUT, direct=direct_for(not typed_ssh))
    runner.initialize(session)
    try:
        assert runner.run_python("os.getuid()") == 0
        # the direct channel where the hops stay on the host (sudo does)
        assert runner.path == expected(not typed_ssh)
        # large replies travel raw once the path is known to be binary-clean
        assert runner.connection.raw_replies
        blob = os.urandom(2 * 1024 * 1024) + b"\n~.\r\n~?\x03\x04\x11\x13\x1a"
        assert runner.run_python_call("bytes", blob) == blob
        os_proxy = runner.get_recursive_proxy("os")
        before = runner.round_trips
        assert os_proxy.path.join("a", "b") == "a/b"
        assert runner.round_trips - before == 2  # .path, then the join
        with pytest.raises(FileNotFoundError):
            runner.run_python("open('/no/such/file')")
        assert runner.run_python("'after an error'") == "after an error"
    finally:
        runner.close()
    assert (
        session.current_shell().exec_command("print(1)" if python_shell else "echo 1").strip()
        == "1"
    )
    session.close_terminal()
