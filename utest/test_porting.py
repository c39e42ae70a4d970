"""Code written for the older library ports by changing its imports."""

import importlib
import shlex

import pytest

from RemoteProxyLibrary import BashShell, ShellStack, SudoShell, SuShell

REFERENCE_NAMES = {
    "runnerterminal": ["RunnerTerminal"],
    "autorunnerterminal": ["AutoRunnerTerminal"],
    "autorecoveringterminal": ["AutoRecoveringTerminal"],
    "remoteproxies": ["_RemoteProxy", "_RecursiveProxy"],
    "runnerexceptions": [
        "InvalidProxySession",
        "RemoteTimeout",
        "RunnerException",
        "RunnerTerminalSessionBroken",
        "RunnerTerminalSessionClosed",
        "RunnerTerminalUnableToDeserialize",
        "SessionInitializationFailed",
    ],
    "InteractiveSession": [
        "InteractiveSession",
        "BashShell",
        "SshShell",
        "PythonShell",
        "NamespaceShell",
    ],
}


@pytest.mark.parametrize("module", sorted(REFERENCE_NAMES))
def test_reference_modules_and_names(module):
    imported = importlib.import_module(f"RemoteProxyLibrary.{module}")
    for name in REFERENCE_NAMES[module]:
        assert hasattr(imported, name), f"{module}.{name}"


def test_package_gives_every_public_class():
    import RemoteProxyLibrary as rpl

    for name in ["AutoRecoveringTerminal", "AutoRunnerTerminal", "RunnerTerminal",
                 "InteractiveSession", "BashShell", "SshShell", "SudoShell", "SuShell",
                 "PythonShell", "RemoteTimeout", "InvalidProxySession"]:  # fmt: skip
        assert isinstance(getattr(rpl, name), type), name
    assert issubclass(rpl.InteractiveSession, rpl.shells.InteractiveSession)


def test_timeouts_are_timeout_errors():
    from RemoteProxyLibrary.runnerexceptions import RemoteTimeout

    assert issubclass(RemoteTimeout, TimeoutError)
    assert RemoteTimeout(5).response_id == 5


def test_importing_the_package_does_not_import_robot():
    import subprocess
    import sys

    code = "import sys, RemoteProxyLibrary; print('robot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("shell_class", [SuShell, SudoShell])
def test_shells_take_username_and_still_user(shell_class):
    assert shell_class("app").username == "app"
    assert shell_class(username="app").user == "app"
    assert shell_class(user="app").username == "app"
    name = shell_class.shellname
    assert ShellStack().create({"shellname": name, "user": "app"}).username == "app"
    assert ShellStack().create({"shellname": name, "username": "app"}).username == "app"
    assert "to app" in shell_class(user="app", password="pw").describe()
    with pytest.raises(TypeError, match="give one"):
        shell_class(username="a", user="b")


def test_interactive_session_reads_as_the_older_module_too():
    import RemoteProxyLibrary
    import RemoteProxyLibrary.InteractiveSession
    from RemoteProxyLibrary import InteractiveSession

    module_like = RemoteProxyLibrary.InteractiveSession
    assert module_like is InteractiveSession
    assert isinstance(module_like.InteractiveSession(), InteractiveSession)
    assert module_like.BashShell is BashShell
    assert isinstance(InteractiveSession(), RemoteProxyLibrary.shells.InteractiveSession)


def test_runner_classes_as_robot_libraries_do_not_hide_builtin_keywords():
    from robot.libdocpkg import LibraryDocumentation

    for library in ("runnerterminal.RunnerTerminal", "autorunnerterminal.AutoRunnerTerminal",
                    "autorecoveringterminal.AutoRecoveringTerminal"):  # fmt: skip
        names = {k.name for k in LibraryDocumentation(f"RemoteProxyLibrary.{library}").keywords}
        assert not names & {"Evaluate", "Call", "Send Request", "Describe", "Push", "Pop"}, library
        assert "Run Python" in names or "Run" in names


def test_older_shell_signatures_by_position_and_name(tmp_path):
    from RemoteProxyLibrary import KeyAuthenticatedSshShell, SshShell

    ssh = SshShell("10.0.0.2", "admin", "pw", False, "second", 2222, "/etc/profile.d/x.sh")
    assert (ssh.host, ssh.username, ssh.port, ssh.init_env) == (
        "10.0.0.2", "admin", 2222, "/etc/profile.d/x.sh",
    )  # fmt: skip
    assert ssh.second_factor is not None
    assert SshShell(ip="10.0.0.3").host == "10.0.0.3"
    with pytest.raises(TypeError, match="4th argument is tty_echo"):
        SshShell("h", "u", "p", 2222)  # our old positional port
    assert SudoShell("sudo bash").username == "root"
    assert SudoShell(cmd="sudo -u app bash", password="pw").username == "app"
    assert SudoShell("sudo --user=svc -i").username == "svc"
    bash = BashShell("bash --norc -i", init_env="/tmp/env", workdir="/tmp")
    assert (bash.shell, bash.init_env, bash.workdir) == ("bash --norc -i", "/tmp/env", "/tmp")
    with pytest.raises(TypeError, match="give timeout by name"):
        BashShell(10)
    key = KeyAuthenticatedSshShell("10.0.0.4", r"\$ ", key_file="/root/.ssh/id_ed25519")
    assert (key.host, key.password, key.key_file) == ("10.0.0.4", None, "/root/.ssh/id_ed25519")
    assert ShellStack().create({"shellname": "KeyAuthenticatedSshShell", "host": "h"}).host == "h"


def test_bash_init_env_workdir_and_confirmation_run_for_real(tmp_path):
    from RemoteProxyLibrary import InteractiveSession, ShellError

    env = tmp_path / "env.sh"
    env.write_text("export RPL_FROM_INIT_ENV=sourced\n")
    session = InteractiveSession()
    session.spawn(BashShell(init_env=str(env), workdir=str(tmp_path), timeout=10))
    shell = session.current_shell()
    assert shell.exec_command("echo $RPL_FROM_INIT_ENV $PWD").split() == ["sourced", str(tmp_path)]
    asks_first = "sh -c " + shlex.quote("printf 'Continue? '; read a; exec bash --norc -i")
    session.push(BashShell(cmd=asks_first, confirmation_msg="Continue? ", timeout=10))
    assert session.current_shell().exec_command("echo inner").strip() == "inner"
    with pytest.raises(ShellError, match=r"cd .* failed"):
        session.push(BashShell(workdir=str(tmp_path / "missing"), timeout=10))
    assert session.current_shell().exec_command("echo still usable").strip() == "still usable"
    session.close_terminal()
