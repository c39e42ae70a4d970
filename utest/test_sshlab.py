"""The lab itself (resources/sshlab.py): its network, its hosts, its teardown."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import time

import pytest
from sshlab import HostSpec, SshLab, UserSpec, cleanup_stale_labs

from RemoteProxyLibrary import InteractiveSession, SshShell

pytestmark = pytest.mark.timeout(120)

PROBE = "import socket,sys; s=socket.create_connection((sys.argv[1], 22), 3); print(s.recv(4))"


def banner_from(address: str) -> bytes:
    with socket.create_connection((address, 22), timeout=3) as s:
        s.settimeout(3)
        return s.recv(4)


def test_bastion_is_reachable_from_the_controller(ssh_lab):
    bastion = ssh_lab.hosts["bastion"]
    assert banner_from(bastion.address) == b"SSH-"
    route = subprocess.run(
        ["ip", "route", "get", bastion.address], capture_output=True, text=True, check=True
    ).stdout
    assert f"dev {ssh_lab.hosts['bastion'].namespace.split('-')[0]}c" in route


@pytest.mark.parametrize("dut", ["dut1", "dut2"])
def test_duts_are_reachable_only_from_the_bastion(ssh_lab, dut):
    address = ssh_lab.hosts[dut].address
    # The controller has no route: the lab's subnet is unreachable here (and
    # the default route never sees it).
    route = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True)
    assert route.returncode != 0 and "no route to host" in route.stderr.lower()
    started = time.monotonic()
    with pytest.raises(OSError):
        banner_from(address)
    assert time.monotonic() - started < 2
    # From the bastion's namespace it answers.
    probe = ssh_lab.run_in("bastion", "python3", "-c", PROBE, address)
    assert probe.stdout.strip() == "b'SSH-'", probe.stderr
    # The DUT knows only its link to the bastion: no default route, no other way.
    routes = ssh_lab.run_in(dut, "ip", "-4", "route").stdout.strip().splitlines()
    assert len(routes) == 1 and routes[0].startswith(address.rsplit(".", 1)[0])
    assert "default" not in " ".join(routes)
    # The bastion does not forward (a route on the controller would not help).
    assert ssh_lab.run_in("bastion", "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "0"


def test_users_and_pythons_are_as_described(ssh_lab):
    shells = {role: pwd.getpwnam(user.name).pw_shell for role, user in ssh_lab.users.items()}
    assert shells == {
        "jump": "/bin/bash",
        "bash": "/bin/bash",
        "dash": "/bin/dash",
        "busybox": "/usr/local/bin/ash",
        "board": "/bin/sh",
        "oldpy": "/bin/sh",
    }
    assert all(minor >= (3, 6) for minor in ssh_lab.pythons)
    if ssh_lab.pythons:
        newest, oldest = max(ssh_lab.pythons), min(ssh_lab.pythons)
        assert ssh_lab.hosts["dut1"].pythons == {f"python3.{newest[1]}": ssh_lab.pythons[newest]}
        assert ssh_lab.hosts["dut2"].pythons == {f"python3.{oldest[1]}": ssh_lab.pythons[oldest]}


def test_the_board_has_busybox_and_no_bash_and_no_python3(ssh_lab):
    jump, board = ssh_lab.users["jump"], ssh_lab.users["board"]
    session = InteractiveSession()
    try:
        session.spawn(SshShell(ssh_lab.hosts["bastion"].address, jump.name, jump.password))
        shell = session.push(
            SshShell(ssh_lab.hosts["dut2"].address, board.name, key_file=jump.hop_key_file)
        )
        out = shell.exec_command(
            "hostname; readlink /bin/sh; readlink /usr/bin/env; ls /bin/bash /usr/bin/bash 2>&1;"
            " command -v python3 || echo no-python3"
        )
        lines = out.splitlines()
        assert lines[0] == "dut2"
        assert lines[1:3] == ["/usr/bin/busybox"] * 2
        assert sum("No such file" in line for line in lines) == 2
        assert lines[-1] == "no-python3"
    finally:
        session.close_terminal()


SMALL_HOSTS = (HostSpec("bastion", via=None), HostSpec("dut1", via="bastion"))
SMALL_USERS = (UserSpec("jump", "j", "bastion", "bash"), UserSpec("dash", "d", "dut1", "dash"))


def test_teardown_removes_everything_it_made_and_counts_it():
    lab = SshLab(SMALL_HOSTS, SMALL_USERS).start()
    try:
        assert lab.build_seconds < 10
        jump, dash = lab.users["jump"], lab.users["dash"]
        session = InteractiveSession()
        session.spawn(SshShell(lab.hosts["bastion"].address, jump.name, jump.password))
        session.push(SshShell(lab.hosts["dut1"].address, dash.name, dash.password))
        assert lab.session_pids("dash") and lab.user_processes("dash")
        assert lab.leftovers() != []
        # The session is left open: teardown must end it.
    finally:
        removed = lab.stop()
    assert removed["namespaces"] == 2
    assert removed["links"] == 2
    assert removed["routes"] == 1
    assert removed["users"] == 2
    assert removed["files"] == 3  # sudoers file, registry record, directory
    assert removed["processes"] >= 2 + 2  # two sshds, and the sessions' processes
    assert lab.leftovers() == []
    assert lab.teardown_seconds < 10
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.token not in netns
    assert lab.stop() == dict.fromkeys(removed, 0)
    session.close_terminal()


def test_a_lab_left_by_a_dead_run_is_swept():
    lab = SshLab(SMALL_HOSTS, SMALL_USERS[:1]).start()
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        with open(lab._record) as f:
            record = json.load(f)
        record["owner"] = dead.pid
        with open(lab._record, "w") as f:
            json.dump(record, f)
        assert lab.token in cleanup_stale_labs()
        assert lab.leftovers() == []
        assert not os.path.exists(lab.tempdir)
    finally:
        lab.stop()
