"""SSH logins as users configure them, against real sshds (resources/sshtarget.py):
host-key policies, ~/.ssh/config aliases, agent and default keys, encrypted
keys, keyboard-interactive with a second factor, paramiko jumps."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from RemoteProxyLibrary import (
    HostKeyChanged,
    HostKeyRejected,
    InteractiveSession,
    Secret,
    ShellAuthenticationFailed,
    ShellConnectionFailed,
    ShellError,
    SshShell,
)
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

TIMEOUT = 5
PASSPHRASE = "Pa55-phrase-of-a-key"
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


@pytest.fixture
def home(tmp_path, monkeypatch) -> str:
    """An empty HOME, and no SSH agent: only the keys a test gives count."""
    path = tmp_path / "home"
    (path / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return str(path)


@pytest.fixture(scope="module")
def reinstalled(ssh_target):
    """An sshd of its own host key, which a test can re-generate."""
    return ssh_target.extra_sshd("reinstalled", own_host_key=True)


@pytest.fixture(scope="module")
def kbd_sshd(ssh_target):
    """An sshd offering keyboard-interactive (PAM) and no password method; the
    password user logs in only that way, the su user answers two rounds."""
    pw, su = ssh_target.users["password"].name, ssh_target.users["su"].name
    return ssh_target.extra_sshd(
        "kbd",
        {"UsePAM": "yes", "KbdInteractiveAuthentication": "yes", "PasswordAuthentication": "no"},
        extra=(
            f"Match User {pw}\n    AuthenticationMethods keyboard-interactive\n"
            f"Match User {su}\n"
            "    AuthenticationMethods keyboard-interactive,keyboard-interactive\n"
        ),
    )


@pytest.fixture(scope="module")
def inner(ssh_target):
    """A second sshd (own host key): the host reached through a jump host."""
    return ssh_target.extra_sshd("inner", own_host_key=True)


def whoami(session: InteractiveSession) -> str:
    return session.current_shell().exec_command("whoami").strip()


def key_shell(target, port=None, **kwargs) -> SshShell:
    user = target.users["key"]
    return SshShell(
        target.host,
        user.name,
        port=port or target.port,
        key_file=user.key_file,
        timeout=TIMEOUT,
        **kwargs,
    )


def write(path, text: str, owner=None, mode: int = 0o600) -> str:
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner.uid, owner.uid)
    return str(path)


def other_key(target) -> str:
    """A public ed25519 key that is not the target's host key."""
    with open(target.client_key_file + ".pub") as f:
        return " ".join(f.read().split()[:2])


def assert_hidden(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text


# ---- host-key policies, paramiko hop -------------------------------------------------------


def test_accept_new_records_an_unknown_host_then_reject_trusts_it(ssh_target, session, tmp_path):
    known = str(tmp_path / "sub" / "known_hosts")  # directory and file made on demand
    session.spawn(key_shell(ssh_target, host_key_policy="accept-new", known_hosts=known))
    assert whoami(session) == ssh_target.users["key"].name
    with open(known) as f:
        assert f.read() == f"[127.0.0.1]:{ssh_target.port} {ssh_target.host_public_key}\n"
    assert oct(os.stat(known).st_mode & 0o777) == "0o600"
    session.close_terminal()
    session.spawn(key_shell(ssh_target, host_key_policy="reject", known_hosts=known))
    assert whoami(session) == ssh_target.users["key"].name
    with open(known) as f:
        assert len(f.readlines()) == 1


def test_unknown_host_is_refused_under_reject(ssh_target, session, tmp_path):
    known = str(tmp_path / "known_hosts")
    start = time.monotonic()
    with pytest.raises(HostKeyRejected) as info:
        session.spawn(key_shell(ssh_target, host_key_policy="reject", known_hosts=known))
    assert time.monotonic() - start < TIMEOUT
    assert not isinstance(info.value, HostKeyChanged)
    message = str(info.value)
    assert f"the host key of [127.0.0.1]:{ssh_target.port} (ssh-ed25519 SHA256:" in message
    assert "is in no known_hosts file" in message and known in message
    assert "accept-new" in message
    assert not os.path.exists(known)
    assert session.terminal is None


def test_changed_host_key_refused_under_accept_new_and_reject_accepted_under_accept(
    ssh_target, reinstalled, session, tmp_path
):
    known = str(tmp_path / "known_hosts")
    shell = key_shell(ssh_target, reinstalled.port, host_key_policy="accept-new", known_hosts=known)
    session.spawn(shell)
    session.close_terminal()
    old_key = reinstalled.host_public_key
    reinstalled.restart(new_host_key=True)  # the target is re-installed
    assert reinstalled.host_public_key != old_key
    name = f"[127.0.0.1]:{reinstalled.port}"
    for policy in ("accept-new", "reject"):
        shell = key_shell(ssh_target, reinstalled.port, host_key_policy=policy, known_hosts=known)
        with pytest.raises(HostKeyChanged) as info:
            session.spawn(shell)
        message = str(info.value)
        assert message.startswith(f"SshShell({ssh_target.users['key'].name}@127.0.0.1:")
        assert f"the host key of {name} has changed" in message
        assert f"ssh-keygen -R '{name}' -f {known}" in message
        assert "host_key_policy=accept" in message
    with open(known) as f:
        assert f.read() == f"{name} {old_key}\n"  # left as it was
    session.spawn(
        key_shell(ssh_target, reinstalled.port, host_key_policy="accept", known_hosts=known)
    )
    assert whoami(session) == ssh_target.users["key"].name
    with open(known) as f:
        assert f.read() == f"{name} {old_key}\n"  # accept neither reads nor writes


def test_bad_policy_is_named():
    with pytest.raises(ValueError, match="host_key_policy must be one of 'accept', 'accept-new'"):
        SshShell("h", host_key_policy="sometimes")


# ---- host-key policies, typed ssh --------------------------------------------------------------


def test_typed_ssh_changed_or_unknown_host_key(ssh_target, session):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    name = f"[127.0.0.1]:{ssh_target.port}"
    changed = write(f"{key_user.home}/changed_hosts", f"{name} {other_key(ssh_target)}\n", key_user)
    empty = write(f"{key_user.home}/empty_hosts", "", key_user)
    session.spawn(key_shell(ssh_target))

    def hop(policy: str, known: str) -> SshShell:
        return SshShell(
            ssh_target.host,
            pw_user.name,
            pw_user.password,
            port=ssh_target.port,
            timeout=TIMEOUT,
            host_key_policy=policy,
            known_hosts=known,
        )

    for policy in ("accept-new", "reject"):
        with pytest.raises(HostKeyChanged) as info:
            session.push(hop(policy, changed))
        assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in info.value.last_output
        assert f"the host key of {name} has changed" in str(info.value)
        assert f"on SshShell({key_user.name}@127.0.0.1:{ssh_target.port}) with: " in str(info.value)
        assert f"ssh-keygen -R '{name}' -f {changed}" in str(info.value)
        assert whoami(session) == key_user.name
    with pytest.raises(HostKeyRejected) as unknown:
        session.push(hop("reject", empty))
    assert not isinstance(unknown.value, HostKeyChanged)
    assert "is not known" in str(unknown.value)
    assert whoami(session) == key_user.name
    session.push(hop("accept-new", empty))
    assert whoami(session) == pw_user.name
    session.pop()
    with open(empty) as f:
        assert ssh_target.host_public_key in f.read()  # recorded (hashed) by accept-new
    session.push(hop("accept", changed))
    assert whoami(session) == pw_user.name


# ---- ~/.ssh/config -------------------------------------------------------------------------------


def config_for(target, alias: str = "rpl-alias", extra: str = "") -> str:
    user = target.users["key"]
    return (
        f"Host {alias}\n"
        f"    HostName {target.host}\n"
        f"    Port {target.port}\n"
        f"    User {user.name}\n"
        f"    IdentityFile {user.key_file}\n"
        f"    ConnectTimeout 7\n" + extra
    )


def test_config_alias_gives_host_port_user_key(ssh_target, session, tmp_path, home):
    config = write(tmp_path / "ssh_config", config_for(ssh_target))
    shell = SshShell("rpl-alias", ssh_config=config, timeout=TIMEOUT)
    login = shell.login()
    assert (login.host, login.port, login.connect_timeout) == ("127.0.0.1", ssh_target.port, 7)
    session.spawn(shell)
    key_user = ssh_target.users["key"]
    assert whoami(session) == key_user.name
    assert shell.describe() == f"SshShell({key_user.name}@rpl-alias -> 127.0.0.1:{ssh_target.port})"


def test_explicit_arguments_win_over_the_config(ssh_target, session, tmp_path, home, logs):
    pw_user = ssh_target.users["password"]
    config = write(tmp_path / "ssh_config", config_for(ssh_target))
    shell = SshShell(
        "rpl-alias", pw_user.name, Secret(pw_user.password), ssh_config=config, timeout=TIMEOUT
    )
    session.spawn(shell)
    assert whoami(session) == pw_user.name
    assert_hidden(pw_user.password, logs.text, repr(shell), repr(shell.login()))


def test_default_config_file_and_its_host_key_settings(ssh_target, session, home):
    known = os.path.join(home, "lab_hosts")
    extra = f"    StrictHostKeyChecking yes\n    UserKnownHostsFile {known}\n"
    write(os.path.join(home, ".ssh", "config"), config_for(ssh_target, extra=extra))
    with pytest.raises(HostKeyRejected):  # StrictHostKeyChecking yes: reject
        session.spawn(SshShell("rpl-alias", timeout=TIMEOUT))
    write(known, f"[127.0.0.1]:{ssh_target.port} {ssh_target.host_public_key}\n")
    session.spawn(SshShell("rpl-alias", timeout=TIMEOUT))
    assert whoami(session) == ssh_target.users["key"].name
    # an explicit policy wins over StrictHostKeyChecking
    os.remove(known)
    session.spawn(SshShell("rpl-alias", timeout=TIMEOUT, host_key_policy="accept"))
    assert whoami(session) == ssh_target.users["key"].name


def test_bad_config_is_named(tmp_path, session):
    with pytest.raises(ShellError, match="ssh_config file '/no/such/config' does not exist"):
        session.spawn(SshShell("x", ssh_config="/no/such/config"))
    config = write(tmp_path / "c", "Host x\n    Port many\n")
    with pytest.raises(ShellError, match="Port of 'x' is not a number: 'many'"):
        session.spawn(SshShell("x", ssh_config=config))
    loop = write(tmp_path / "loop", "Host x\n    ProxyJump x\n")
    with pytest.raises(ShellError, match="more than 8 jump hosts"):
        SshShell("x", ssh_config=loop).login()


# ---- keys: agent, default files, passphrase --------------------------------------------------


def test_key_from_an_ssh_agent(ssh_target, session, home, tmp_path, monkeypatch):
    key_user = ssh_target.users["key"]
    shell = SshShell(ssh_target.host, key_user.name, port=ssh_target.port, timeout=TIMEOUT)
    with pytest.raises(ShellAuthenticationFailed, match="no key to offer"):
        session.spawn(shell)
    socket_path = str(tmp_path / "agent.sock")
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", socket_path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while not os.path.exists(socket_path):
            assert time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.02)
        env = dict(os.environ, SSH_AUTH_SOCK=socket_path)
        subprocess.run(
            ["ssh-add", "-q", key_user.key_file], env=env, check=True, capture_output=True
        )
        monkeypatch.setenv("SSH_AUTH_SOCK", socket_path)
        session.spawn(shell)
        assert whoami(session) == key_user.name
        session.close_terminal()
        # a password given: only the password counts, as the issue asks
        with pytest.raises(ShellAuthenticationFailed, match="password: refused"):
            session.spawn(
                SshShell(ssh_target.host, key_user.name, WRONG, port=ssh_target.port, timeout=2)
            )
    finally:
        agent.terminate()
        agent.wait(5)


def test_key_from_the_usual_files(ssh_target, session, home):
    shutil.copy(ssh_target.client_key_file, os.path.join(home, ".ssh", "id_ed25519"))
    key_user = ssh_target.users["key"]
    session.spawn(SshShell(ssh_target.host, key_user.name, port=ssh_target.port, timeout=TIMEOUT))
    assert whoami(session) == key_user.name


def encrypted_copy(target, path) -> str:
    shutil.copy(target.client_key_file, path)
    os.chmod(path, 0o600)
    subprocess.run(
        ["ssh-keygen", "-q", "-p", "-P", "", "-N", PASSPHRASE, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return str(path)


def test_encrypted_key_with_a_passphrase(ssh_target, session, home, tmp_path, logs):
    key_user = ssh_target.users["key"]
    key = encrypted_copy(ssh_target, tmp_path / "encrypted_key")

    def shell(passphrase=None) -> SshShell:
        return SshShell(
            ssh_target.host,
            key_user.name,
            port=ssh_target.port,
            key_file=key,
            passphrase=passphrase,
            timeout=TIMEOUT,
        )

    with pytest.raises(ShellAuthenticationFailed, match="encrypted, and no passphrase was given"):
        session.spawn(shell())
    with pytest.raises(ShellAuthenticationFailed, match="cannot be decrypted") as info:
        session.spawn(shell(WRONG))
    assert_hidden(WRONG, str(info.value), logs.text)
    session.spawn(shell(Secret(PASSPHRASE)))
    assert whoami(session) == key_user.name
    assert_hidden(PASSPHRASE, logs.text, repr(session), str(vars(session.current_shell())))


def test_typed_ssh_with_an_encrypted_key(ssh_target, session, logs):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    key = encrypted_copy(ssh_target, os.path.join(key_user.home, "encrypted_key"))
    os.chown(key, key_user.uid, key_user.uid)
    session.spawn(key_shell(ssh_target))
    hop = SshShell(
        ssh_target.host,
        pw_user.name,
        port=ssh_target.port,
        key_file=key,
        passphrase=PASSPHRASE,
        timeout=TIMEOUT,
    )
    session.push(hop)
    assert whoami(session) == pw_user.name
    session.pop()
    hop = SshShell(ssh_target.host, pw_user.name, port=ssh_target.port, key_file=key, timeout=2)
    with pytest.raises(ShellAuthenticationFailed):  # BatchMode: the key is skipped
        session.push(hop)
    assert whoami(session) == key_user.name
    assert_hidden(PASSPHRASE, logs.text)


# ---- keyboard-interactive ---------------------------------------------------------------------


def test_keyboard_interactive_only_answered_with_the_password(ssh_target, kbd_sshd, session, logs):
    pw_user = ssh_target.users["password"]

    def shell(password: str) -> SshShell:
        return SshShell(
            ssh_target.host, pw_user.name, password, port=kbd_sshd.port, timeout=TIMEOUT
        )

    with pytest.raises(ShellAuthenticationFailed, match="keyboard-interactive: refused") as info:
        session.spawn(shell(WRONG))
    assert "the server offers keyboard-interactive" in str(info.value)
    session.spawn(shell(pw_user.password))
    assert whoami(session) == pw_user.name
    assert_hidden(pw_user.password, logs.text)
    assert_hidden(WRONG, logs.text, str(info.value))


def test_second_factor_from_a_list_or_a_function(ssh_target, kbd_sshd, session, logs):
    su_user = ssh_target.users["su"]

    def shell(**kwargs) -> SshShell:
        return SshShell(
            ssh_target.host,
            su_user.name,
            su_user.password,
            port=kbd_sshd.port,
            timeout=TIMEOUT,
            **kwargs,
        )

    with pytest.raises(ShellAuthenticationFailed, match="no answer for the prompt 'Password:'"):
        session.spawn(shell())
    session.spawn(shell(second_factor=[Secret(su_user.password)]))
    assert whoami(session) == su_user.name
    session.close_terminal()
    prompts = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return su_user.password

    session.spawn(shell(second_factor=answer))
    assert whoami(session) == su_user.name
    assert prompts == ["Password: "]
    session.close_terminal()
    session.spawn(shell(second_password=su_user.password))  # the older library's name
    assert whoami(session) == su_user.name
    assert_hidden(su_user.password, logs.text)


def test_typed_ssh_with_a_second_factor(ssh_target, kbd_sshd, session, logs):
    su_user = ssh_target.users["su"]
    session.spawn(key_shell(ssh_target))
    hop = SshShell(
        ssh_target.host,
        su_user.name,
        su_user.password,
        port=kbd_sshd.port,
        timeout=TIMEOUT,
        second_factor=su_user.password,
    )
    session.push(hop)
    assert whoami(session) == su_user.name
    assert_hidden(su_user.password, logs.text)


# ---- paramiko jump ----------------------------------------------------------------------------


def socket_owner_uids(port: int) -> set[int]:
    """The uids of the processes holding a TCP socket whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    uids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            if inodes & set(links):
                uids.add(os.stat(f"/proc/{pid}").st_uid)
        except OSError:
            continue
    return uids


def test_paramiko_jump_through_a_second_sshd(ssh_target, inner, session, logs):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    bastion = key_shell(ssh_target)
    shell = SshShell(
        ssh_target.host,
        pw_user.name,
        pw_user.password,
        port=inner.port,
        jump=bastion,
        timeout=TIMEOUT,
    )
    session.spawn(shell)
    assert whoami(session) == pw_user.name
    connection = session.current_shell().exec_command("echo $SSH_CONNECTION").split()
    assert connection[3] == str(inner.port)
    # the inner sshd's client is the bastion's sshd, running as the bastion's user
    assert socket_owner_uids(int(connection[1])) == {key_user.uid}
    assert shell.describe() == (
        f"SshShell({pw_user.name}@127.0.0.1:{inner.port} "
        f"through {key_user.name}@127.0.0.1:{ssh_target.port})"
    )
    runner = RunnerTerminal(prompt_timeout=TIMEOUT)
    runner.initialize(session)
    try:
        assert runner.run_python("__import__('getpass').getuser()") == pw_user.name
        blob = os.urandom(1024 * 1024)
        assert runner.run_python_call("bytes", blob) == blob
    finally:
        runner.close()
    assert_hidden(pw_user.password, logs.text, repr(session))


def test_jump_failures_name_the_jump_host(ssh_target, inner, session, logs):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    bastion = f"{key_user.name}@127.0.0.1:{ssh_target.port}"
    closed = SshShell(
        ssh_target.host, pw_user.name, pw_user.password, port=1, jump=key_shell(ssh_target)
    )
    with pytest.raises(ShellConnectionFailed) as info:
        session.spawn(closed)
    assert f"jump host {bastion}: could not connect to 127.0.0.1:1" in str(info.value)
    refused = SshShell(
        ssh_target.host,
        pw_user.name,
        pw_user.password,
        port=inner.port,
        jump={
            "host": ssh_target.host,
            "username": pw_user.name,
            "password": WRONG,
            "port": ssh_target.port,
        },
        timeout=TIMEOUT,
    )
    with pytest.raises(ShellAuthenticationFailed) as info:
        session.spawn(refused)
    assert f"jump host {pw_user.name}@127.0.0.1:{ssh_target.port}: authentication failed" in str(
        info.value
    )
    assert_hidden(WRONG, str(info.value), logs.text)
    assert_hidden(pw_user.password, str(info.value), logs.text)


def test_proxy_jump_from_the_config(ssh_target, inner, session, tmp_path, home):
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    config = write(
        tmp_path / "ssh_config",
        config_for(ssh_target, "bastion")
        + f"Host dut\n    HostName 127.0.0.1\n    Port {inner.port}\n    ProxyJump bastion\n",
    )
    shell = SshShell("dut", pw_user.name, pw_user.password, ssh_config=config, timeout=TIMEOUT)
    session.spawn(shell)
    assert whoami(session) == pw_user.name
    login = shell.login()
    assert login.jump is not None
    assert (login.jump.username, login.jump.port) == (key_user.name, ssh_target.port)


def test_typed_ssh_takes_a_jump_string_only():
    assert " -J u@bastion:2222 " in SshShell("dut", "root", jump="u@bastion:2222").command_line()
    with pytest.raises(ShellError, match="works for the first hop only"):
        SshShell("dut", "root", jump=SshShell("bastion", "u")).command_line()
