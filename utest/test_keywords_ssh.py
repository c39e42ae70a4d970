"""The SSH arguments of the keyword layer, against the real sshd: the library-wide
host-key policy and its per-terminal override, ssh_config aliases, Push Shell."""

from __future__ import annotations

import os

import pytest

from RemoteProxyLibrary import HostKeyRejected
from RemoteProxyLibrary.keywords import RemoteProxyLibrary


@pytest.fixture
def empty_known_hosts(tmp_path) -> str:
    path = tmp_path / "known_hosts"
    path.write_text("")
    return str(path)


def make_library(**kwargs) -> RemoteProxyLibrary:
    return RemoteProxyLibrary(timeout="1 min", prompt_timeout="5 s", **kwargs)


def test_library_wide_policy_and_its_override(ssh_target, empty_known_hosts):
    key_user = ssh_target.users["key"]
    lib = make_library(host_key_policy="reject", known_hosts=empty_known_hosts)
    args = (ssh_target.host, key_user.name)
    kwargs = {"key_file": key_user.key_file, "port": ssh_target.port}
    try:
        with pytest.raises(HostKeyRejected, match=empty_known_hosts):
            lib.open_ssh_terminal(*args, **kwargs)
        lib.open_ssh_terminal(*args, **kwargs, known_hosts=ssh_target.known_hosts_file)
        lib.open_ssh_terminal(*args, **kwargs, host_key_policy="accept", alias="any key")
        getuser = "__import__('getpass').getuser()"
        assert lib.run_python(getuser, terminal="any key") == key_user.name
        # typed hops get the policy, not the controller's known_hosts path
        with pytest.raises(HostKeyRejected, match="is not known"):
            lib.push_shell(
                "SshShell",
                host=ssh_target.host,
                port=ssh_target.port,
                username=ssh_target.users["password"].name,
                password=ssh_target.users["password"].password,
            )
    finally:
        lib.close_all_terminals()


def test_bad_library_policy_is_named():
    with pytest.raises(ValueError, match="host_key_policy must be one of"):
        make_library(host_key_policy="trust me")


def test_ssh_config_alias_through_the_keyword(ssh_target, tmp_path):
    key_user = ssh_target.users["key"]
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host target\n    HostName {ssh_target.host}\n    Port {ssh_target.port}\n"
        f"    User {key_user.name}\n    IdentityFile {key_user.key_file}\n"
    )
    lib = make_library(host_key_policy="accept-new", known_hosts=str(tmp_path / "hosts"))
    try:
        lib.open_ssh_terminal("target", ssh_config=str(config))
        assert lib.run_python("__import__('getpass').getuser()") == key_user.name
        assert lib.get_terminal().shells == (
            f"SshShell({key_user.name}@target -> 127.0.0.1:{ssh_target.port})",
        )
        assert os.path.exists(tmp_path / "hosts")  # accept-new recorded the host
    finally:
        lib.close_all_terminals()
