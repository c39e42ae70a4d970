"""The agent runs on every target Python from 3.6 on (those found on this machine)."""

from __future__ import annotations

import glob
import os

import pytest

from RemoteProxyLibrary import BashShell, InteractiveSession, PythonShell
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

PYTHONS = sorted(
    path
    for path in glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))
    if not any(f"/3.{minor}." in path for minor in range(0, 6))
)


@pytest.mark.skipif(not PYTHONS, reason="no other Python 3 versions on this machine")
@pytest.mark.parametrize("python", PYTHONS, ids=lambda p: p.split("/")[-3])
@pytest.mark.parametrize("via", ["shell", "python-shell"])
def test_agent_on_target_python(python, via, tmp_path):
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    if via == "python-shell":
        session.push(PythonShell(timeout=10, python=python))
    runner = RunnerTerminal(prompt_timeout=10, python=python)
    runner.initialize(session)
    version = runner.run_python("__import__('sys').version_info[:2]")
    assert f"/{version[0]}.{version[1]}." in python
    runner.import_libraries("os")
    assert runner.get_recursive_proxy("os").path.join("a", "b") == "a/b"
    with pytest.raises(KeyError):
        runner.run_python("{}['missing']")
    # the agent's command and file operations run there too
    assert runner.commands.run("echo out; echo err >&2; exit 3", timeout=10).rc == 3
    (tmp_path / "a").write_bytes(b"data" * 100000)
    runner.files.put(str(tmp_path / "a"), str(tmp_path / "b"))
    assert runner.files.get(str(tmp_path / "b"), str(tmp_path / "c")).size == 400000
    assert (tmp_path / "c").read_bytes() == (tmp_path / "a").read_bytes()
    runner.close()
    assert (
        session.current_shell().exec_command("print(1+1)" if via != "shell" else "echo 2").strip()
        == "2"
    )
    session.close_terminal()
