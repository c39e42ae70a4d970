"""Real tests of the sshd test target (needs root; skipped otherwise)."""

from __future__ import annotations

import os
import pwd
import signal
import time

import paramiko
import pytest
from faultproxy import FaultProxy
from sshtarget import SshTarget, available, count_user_processes

pytestmark = pytest.mark.timeout(60)


def connect(
    target: SshTarget, role: str, password: str | None = None, key: bool = True
) -> paramiko.SSHClient:
    user = target.users[role]
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        target.host,
        target.port,
        username=user.name,
        password=password,
        key_filename=user.key_file if key else None,
        allow_agent=False,
        look_for_keys=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )
    return client


def run(client: paramiko.SSHClient, command: str, stdin_data: str = "") -> tuple[int, str, str]:
    stdin, stdout, stderr = client.exec_command(command, timeout=20)
    if stdin_data:
        stdin.write(stdin_data)
    stdin.channel.shutdown_write()
    out = stdout.read().decode()
    err = stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


def run_pty(client: paramiko.SSHClient, command: str, answers: dict[bytes, str]) -> str:
    """Run with a pty, answering prompts; returns all output."""
    chan = client.get_transport().open_session()
    chan.get_pty()
    chan.settimeout(15)
    chan.exec_command(command)
    out = b""
    pending = dict(answers)
    while True:
        data = chan.recv(4096)
        if not data:
            break
        out += data
        for prompt in list(pending):
            if prompt in out:
                chan.sendall(pending.pop(prompt).encode() + b"\n")
    chan.close()
    return out.decode(errors="replace")


def test_sshd_serves(ssh_target: SshTarget) -> None:
    assert ssh_target.host == "127.0.0.1"
    assert ssh_target.pid and os.path.exists(f"/proc/{ssh_target.pid}")
    assert os.path.isabs(ssh_target.log_path)
    assert set(ssh_target.users) == {"key", "password", "su"}
    names = [u.name for u in ssh_target.users.values()]
    assert len(set(names)) == 3
    for user in ssh_target.users.values():
        assert user.name.islower() and len(user.name) <= 32
        assert pwd.getpwnam(user.name).pw_shell == "/bin/bash"
        assert os.path.isdir(user.home)
        st = os.stat(user.hop_key_file)
        assert st.st_uid == pwd.getpwnam(user.name).pw_uid and st.st_mode & 0o777 == 0o600
    assert ssh_target.users["key"].password is None
    assert ssh_target.users["password"].password
    assert ssh_target.users["su"].password


def test_key_user_logs_in_with_key(ssh_target: SshTarget) -> None:
    paramiko.Ed25519Key.from_private_key_file(ssh_target.users["key"].key_file)
    with connect(ssh_target, "key") as client:
        assert run(client, "id -un")[1].strip() == ssh_target.users["key"].name


def test_password_user_logs_in_with_password(ssh_target: SshTarget) -> None:
    user = ssh_target.users["password"]
    with connect(ssh_target, "password", password=user.password, key=False) as client:
        assert run(client, "id -un")[1].strip() == user.name


def test_wrong_password_refused(ssh_target: SshTarget) -> None:
    with pytest.raises(paramiko.AuthenticationException):
        connect(ssh_target, "password", password="wrong-password", key=False)


def test_key_user_has_passwordless_sudo(ssh_target: SshTarget) -> None:
    with connect(ssh_target, "key") as client:
        rc, out, err = run(client, "sudo -n true && sudo -n id -un")
        assert rc == 0, err
        assert out.strip() == "root"


def test_password_user_sudo_needs_password(ssh_target: SshTarget) -> None:
    user = ssh_target.users["password"]
    with connect(ssh_target, "password", password=user.password, key=False) as client:
        rc, _, err = run(client, "sudo -k; sudo -n true")
        assert rc != 0
        assert "password is required" in err
        rc, out, err = run(client, "sudo -k; sudo -S -p '' id -un", user.password + "\n")
        assert rc == 0, err
        assert out.strip() == "root"


def test_su_user_has_no_sudo(ssh_target: SshTarget) -> None:
    user = ssh_target.users["su"]
    with connect(ssh_target, "su", password=user.password, key=False) as client:
        rc, _, err = run(client, "sudo -k; sudo -S -p '' true", user.password + "\n")
        assert rc != 0
        assert "not in the sudoers file" in err


def test_su_to_su_user_with_password(ssh_target: SshTarget) -> None:
    su_user = ssh_target.users["su"]
    with connect(ssh_target, "key") as client:
        out = run_pty(
            client, f"su {su_user.name} -c 'id -un; echo DONE'", {b"Password:": su_user.password}
        )
    assert "Password:" in out
    assert su_user.name in out.split("Password:", 1)[1]
    assert "DONE" in out


def test_typed_ssh_hop_with_hop_key(ssh_target: SshTarget) -> None:
    key_user = ssh_target.users["key"]
    pw_user = ssh_target.users["password"]
    command = (
        f"ssh -i {key_user.hop_key_file} -o BatchMode=yes "
        f"-o UserKnownHostsFile={ssh_target.known_hosts_file} "
        f"-p {ssh_target.port} {pw_user.name}@{ssh_target.host} id -un"
    )
    with connect(ssh_target, "key") as client:
        rc, out, err = run(client, command)
    assert rc == 0, err
    assert out.strip() == pw_user.name


def test_session_pids_kill_drops_session(ssh_target: SshTarget) -> None:
    name = ssh_target.users["key"].name
    client = connect(ssh_target, "key")
    try:
        assert run(client, "true")[0] == 0
        pids = ssh_target.session_pids(name)
        assert pids and ssh_target.pid not in pids
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while client.get_transport().is_active() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.get_transport().is_active()
    finally:
        client.close()


def test_restart_keeps_port(ssh_target: SshTarget) -> None:
    port, old_pid = ssh_target.port, ssh_target.pid
    ssh_target.restart()
    assert ssh_target.port == port and ssh_target.pid != old_pid
    with connect(ssh_target, "key") as client:
        assert run(client, "echo ok")[1].strip() == "ok"


def test_stop_removes_users_and_processes() -> None:
    ok, reason = available()
    if not ok:
        pytest.skip(reason)
    target = SshTarget().start()
    try:
        names = [u.name for u in target.users.values()]
        sudoers, tempdir = target.sudoers_file, target.tempdir
        assert os.path.exists(sudoers)
        client = connect(target, "key")
        client.exec_command("sleep 300 & sleep 300")
        deadline = time.monotonic() + 5
        while count_user_processes(names[0]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count_user_processes(names[0]) >= 3
    finally:
        target.stop()
    client.close()
    target.stop()  # idempotent
    for name in names:
        assert count_user_processes(name) == 0
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
        assert not os.path.exists(f"/home/{name}")
    assert not os.path.exists(sudoers)
    assert not os.path.exists(tempdir)


def test_fault_proxy_in_front_of_sshd(ssh_target: SshTarget, fault_proxy: FaultProxy) -> None:
    user = ssh_target.users["key"]
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        ssh_target.host,
        fault_proxy.port,
        username=user.name,
        key_filename=user.key_file,
        allow_agent=False,
        look_for_keys=False,
        timeout=10,
    )
    try:
        assert run(client, "id -un")[1].strip() == user.name
        assert fault_proxy.connection_count() == 1
        fault_proxy.reset()
        deadline = time.monotonic() + 5
        while client.get_transport().is_active() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.get_transport().is_active()
    finally:
        client.close()
