"""Commands and file transfers over the real sshd: as the user at the end of
every hop kind (ssh, then su, then sudo; and a typed ssh hop), and the
target's refusals (permission denied) as clear errors."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import tempfile
import time

import pytest
from paths import direct_for, expected

from RemoteProxyLibrary import InteractiveSession, SshShell, SudoShell, SuShell
from RemoteProxyLibrary.errors import CommandTimeout
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

TIMEOUT = 10


def key_login(target) -> SshShell:
    user = target.users["key"]
    return SshShell(target.host, user.name, port=target.port, key_file=user.key_file,
                    timeout=TIMEOUT)  # fmt: skip


def open_runner(shells) -> tuple[RunnerTerminal, InteractiveSession]:
    session = InteractiveSession()
    session.spawn(shells[0])
    for shell in shells[1:]:
        session.push(shell)
    stay = all(shell.stays_on_host for shell in shells[1:])
    runner = RunnerTerminal(timeout=60, prompt_timeout=TIMEOUT, direct=direct_for(stay))
    runner.initialize(session)
    assert runner.path == expected(stay)
    return runner, session


@pytest.fixture(scope="module")
def three_hops(ssh_target):
    """ssh (key) -> su (the password user) -> sudo: root at the end."""
    pw_user = ssh_target.users["password"]
    runner, session = open_runner([
        key_login(ssh_target),
        SuShell(pw_user.name, pw_user.password, timeout=TIMEOUT),
        SudoShell(password=pw_user.password, timeout=TIMEOUT),
    ])  # fmt: skip
    yield runner
    runner.close()
    session.close_terminal()


@pytest.fixture(scope="module")
def one_hop(ssh_target):
    """ssh as the key user, not root."""
    runner, session = open_runner([key_login(ssh_target)])
    yield runner
    runner.close()
    session.close_terminal()


def sleeping(marker: str) -> int:
    """Live processes running exactly ``sleep <marker>`` (the target is this host)."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if file.read() == f"sleep\0{marker}\0".encode():
                    count += 1
        except OSError:
            continue
    return count


def test_commands_run_as_root_through_ssh_su_sudo(three_hops):
    result = three_hops.commands.run(["id", "-u"])
    assert (result.rc, result.stdout) == (0, "0\n")
    assert three_hops.commands.run("cat; echo $X >&2", stdin="in", env={"X": "x"}).stderr == "x\n"
    marker = "3141.5"
    with pytest.raises(CommandTimeout, match="killed with its process group") as info:
        three_hops.commands.run(f"echo up; sleep {marker} & sleep {marker}", timeout=1)
    assert info.value.stdout == "up\n"
    deadline = time.monotonic() + 5
    while sleeping(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleeping(marker) == 0, "orphans left on the target"


def test_files_travel_as_root_through_ssh_su_sudo(three_hops, tmp_path):
    data = os.urandom(3 * 1000 * 1000)
    (tmp_path / "src.bin").write_bytes(data)
    os.chmod(tmp_path / "src.bin", 0o604)
    put = three_hops.files.put(str(tmp_path / "src.bin"), "/root/")  # only root writes there
    try:
        assert put.destination == "/root/src.bin"
        info = os.stat("/root/src.bin")
        assert (info.st_uid, info.st_mode & 0o777) == (0, 0o604)
        got = three_hops.files.get("/root/src.bin", str(tmp_path / "back.bin"))
        assert got.sha256 == put.sha256 == hashlib.sha256(data).hexdigest()
        assert (tmp_path / "back.bin").read_bytes() == data
    finally:
        os.unlink("/root/src.bin")
    for n in range(50):
        (tmp_path / "tree" / f"d{n % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / f"d{n % 3}" / f"f{n}").write_bytes(os.urandom(n * 100))
    three_hops.files.put_directory(str(tmp_path / "tree"), str(tmp_path / "up"))
    three_hops.files.get_directory(str(tmp_path / "up"), str(tmp_path / "down"))
    for n in range(50):
        relative = f"d{n % 3}/f{n}"
        sent = (tmp_path / "tree" / relative).read_bytes()
        assert (tmp_path / "down" / relative).read_bytes() == sent


def test_the_hop_users_rights_apply(one_hop, ssh_target, tmp_path):
    user = ssh_target.users["key"]
    assert one_hop.commands.run("id -un").stdout == f"{user.name}\n"
    source = tmp_path / "a.txt"
    source.write_bytes(b"data")
    put = one_hop.files.put(str(source), "~/")
    assert put.destination == os.path.join(user.home, "a.txt")
    assert os.stat(put.destination).st_uid == user.uid
    with pytest.raises(PermissionError, match="cannot create a file on the target: Permission"):
        one_hop.files.put(str(source), "/root/a.txt")
    with pytest.raises(PermissionError, match="cannot read on the target: Permission denied"):
        one_hop.files.get("/etc/shadow", str(tmp_path / "shadow"))
    with pytest.raises(PermissionError, match="cannot read directory on the target"):
        one_hop.files.get_directory("/root", str(tmp_path / "root"))
    assert not os.path.exists(tmp_path / "shadow") and not os.path.exists(tmp_path / "root")
    result = one_hop.commands.run("kill -TERM $$")
    assert result.rc == -signal.SIGTERM


def test_a_typed_ssh_hop_carries_commands_and_files(ssh_target, tmp_path):
    pw_user = ssh_target.users["password"]
    runner, session = open_runner([
        key_login(ssh_target),
        SshShell(ssh_target.host, pw_user.name, pw_user.password, port=ssh_target.port,
                 timeout=TIMEOUT),
    ])  # fmt: skip
    try:
        assert runner.commands.run("id -un").stdout == f"{pw_user.name}\n"
        data = os.urandom(2 * 1000 * 1000)
        (tmp_path / "src.bin").write_bytes(data)
        put = runner.files.put(str(tmp_path / "src.bin"), "~/copy.bin")
        got = runner.files.get("~/copy.bin", str(tmp_path / "back.bin"))
        assert put.sha256 == got.sha256 == hashlib.sha256(data).hexdigest()
        assert os.stat(put.destination).st_uid == pw_user.uid
    finally:
        runner.close()
        session.close_terminal()


def test_relative_paths_are_the_agents_working_directory_and_errors_name_it(ssh_target, tmp_path):
    """After ssh as one user and ``su`` (without ``-``) to another, ``.`` is
    still the first user's home (where Python started) and ``~`` the second's."""
    key_user, pw_user = ssh_target.users["key"], ssh_target.users["password"]
    runner, session = open_runner([
        key_login(ssh_target), SuShell(pw_user.name, pw_user.password, timeout=TIMEOUT),
    ])  # fmt: skip
    source = tmp_path / "a.txt"
    source.write_bytes(b"data")
    try:
        assert runner.commands.run("pwd; echo ~").stdout == f"{key_user.home}\n{pw_user.home}\n"
        with pytest.raises(PermissionError) as info:
            runner.files.put(str(source), "sub/a.txt", create_dirs=True)
        assert str(info.value) == (
            "[Errno 13] cannot create directory on the target: Permission denied: "
            f"'{key_user.home}/sub'"
        )
        with pytest.raises(PermissionError, match=f"cannot create a file on the target: "
                           f"Permission denied: '{key_user.home}/a.txt'"):  # fmt: skip
            runner.files.put(str(source), "a.txt")
        with pytest.raises(FileNotFoundError, match=f"'{key_user.home}/nope.txt'"):
            runner.files.get("nope.txt", str(tmp_path / "x"))
        with pytest.raises(PermissionError, match=f"'{key_user.home}/tree'"):
            runner.files.put_directory(str(tmp_path), "tree")
        put = runner.files.put(str(source), "~/")
        assert put.destination == os.path.join(pw_user.home, "a.txt")
        os.unlink(put.destination)
    finally:
        runner.close()
        session.close_terminal()


def test_put_over_another_users_file_in_a_sticky_directory_says_why(one_hop, tmp_path):
    sticky = tempfile.mkdtemp(prefix="rpl-sticky-")  # like /tmp: anyone writes, owners replace
    try:
        os.chmod(sticky, 0o1777)
        theirs = os.path.join(sticky, "theirs.txt")
        with open(theirs, "wb") as file:
            file.write(b"root's")
        (tmp_path / "mine.txt").write_bytes(b"mine")
        with pytest.raises(PermissionError) as info:
            one_hop.files.put(str(tmp_path / "mine.txt"), theirs)
        message = str(info.value)
        assert message.startswith("[Errno 1] cannot replace the existing file on the target: "
                                  "the rename over it was refused (Operation not permitted); "
                                  "its directory is sticky (like /tmp) and the file belongs to "
                                  "another user (uid 0)")  # fmt: skip
        assert message.endswith(f": '{theirs}'")
        with open(theirs, "rb") as file:
            assert file.read() == b"root's"
        assert os.listdir(sticky) == ["theirs.txt"]  # no temporary file left
    finally:
        shutil.rmtree(sticky)
