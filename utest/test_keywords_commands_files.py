"""The command and file keywords, called directly on a local terminal."""

from __future__ import annotations

import logging
import os

import pytest

from RemoteProxyLibrary.errors import CommandTimeout
from RemoteProxyLibrary.keywords import RemoteProxyLibrary
from RemoteProxyLibrary.keywords.commands import ExecutionResult
from RemoteProxyLibrary.runner import transfers


@pytest.fixture(scope="module")
def lib():
    library = RemoteProxyLibrary(timeout="1 min", prompt_timeout="10 s")
    library.open_local_terminal(alias="here")
    yield library
    library.close_all_terminals()


def messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "RobotFramework"]


def test_execute_command_returns_what_sshlibrary_returns(lib, caplog):
    caplog.set_level(logging.INFO)
    assert lib.execute_command("echo out; echo err >&2; exit 3") == "out"
    assert lib.execute_command("printf 'a\\n\\n'; exit 3", return_rc=True) == ["a", 3]
    assert lib.execute_command("echo o; echo e >&2", False, True) == "e"
    assert lib.execute_command("echo o; echo e >&2; exit 1", True, True, True) == ["o", "e", 1]
    assert lib.execute_command(["printf", "%s", "a b"], terminal="here") == "a b"
    assert lib.execute_command("echo $A; cat", env={"A": "1"}, stdin="in\n") == "1\nin"
    assert "Executing command 'exit 5'." not in messages(caplog)
    lib.execute_command("exit 5")
    assert messages(caplog)[-2:] == ["Executing command 'exit 5'.",
                                     "Command exited with return code 5."]  # fmt: skip
    with pytest.raises(CommandTimeout, match=r"Output so far:\nstdout: partial"):
        lib.execute_command("echo partial; sleep 30", timeout=0.5)


def test_background_commands_as_in_sshlibrary_and_process(lib):
    lib.start_command("echo first")
    lib.start_command("echo second; echo err >&2")
    assert lib.read_command_output(return_stderr=True, return_rc=True) == ["second", "err", 0]
    assert lib.read_command_output() == "first"
    with pytest.raises(ValueError, match="No command started with 'Start Command'"):
        lib.read_command_output()

    handle = lib.start_command("echo one; sleep 0.5; echo two")
    assert lib.read_command_output(handle, wait=False, timeout=5) == "one"
    result = lib.wait_for_command(handle)
    assert isinstance(result, ExecutionResult)
    assert (result.rc, result.stdout, result.stderr) == (0, "one\ntwo", "")
    assert lib.read_command_output(handle, return_rc=True) == ["two", 0]  # the part not read

    handle = lib.start_command("sleep 30")
    with pytest.raises(CommandTimeout, match="it still runs"):
        lib.wait_for_command(timeout=0.2, on_timeout="continue")
    assert lib.terminate_command(handle).rc == -15
    handle = lib.start_command("trap 'exit 3' INT; echo ready; while :; do sleep 0.1; done")
    assert lib.read_command_output(wait=False, timeout=5) == "ready"
    lib.send_signal_to_command("SIGINT", group=False)
    assert lib.wait_for_command(timeout=5).rc == 3
    assert lib.terminate_command(lib.start_command("sleep 30"), kill=True).rc == -9
    with pytest.raises(TypeError, match="Expected a handle returned by 'Start Command'"):
        lib.wait_for_command("not a handle")


def test_wait_for_command_fails_when_the_commands_own_timeout_ended_it(lib):
    handle = lib.start_command("echo started; sleep 30", timeout=0.5)
    with pytest.raises(CommandTimeout, match=r"ran past its timeout of 0.5 s and was killed "
                       r"with its process group on the target.\nOutput so far:\nstdout: "
                       r"started"):  # fmt: skip
        lib.wait_for_command(timeout=10)
    with pytest.raises(ValueError, match="No command started"):  # it ended: it is done
        lib.wait_for_command()
    result = lib.terminate_command(handle)  # its result without failing
    assert (result.rc, result.timed_out, result.stdout) == (-9, True, "started")
    lib.start_command("sleep 30", timeout=0.5)
    with pytest.raises(CommandTimeout, match=r"timeout of 0\.5 s"):
        lib.read_command_output()
    with pytest.raises(ValueError, match="No command started"):
        lib.read_command_output()


def test_list_commands_are_logged_quoted_as_a_shell_would_need(lib, caplog):
    caplog.set_level(logging.INFO)
    assert lib.execute_command(["printf", "%s|", "/my dir", "it's"]) == "/my dir|it's|"
    assert messages(caplog)[-2] == "Executing command 'printf '%s|' '/my dir' 'it'\"'\"'s''."
    lib.start_command(["echo", "a b"])
    assert "Starting command 'echo 'a b''." in messages(caplog)
    assert lib.read_command_output() == "a b"


def test_file_keywords_log_one_line_at_the_end_and_progress_when_long(lib, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    (tmp_path / "a.bin").write_bytes(os.urandom(3 * transfers.CHUNK))
    lib.put_file(str(tmp_path / "a.bin"), str(tmp_path / "b.bin"))
    last = messages(caplog)[-1]
    assert last.startswith(f"Put File {tmp_path}/a.bin -> {tmp_path}/b.bin: 1.6 MB in ")
    assert last.endswith(" MB/s)") and len(messages(caplog)) == 1  # quick: no progress lines
    caplog.clear()
    lib._progress_interval = 0.0
    try:
        lib.get_file(str(tmp_path / "b.bin"), str(tmp_path / "c.bin"))
    finally:
        lib._progress_interval = 5.0
    lines = messages(caplog)
    assert lines[0].startswith(f"Get File {tmp_path}/b.bin: 33%, 524.3 kB of 1.6 MB so far")
    assert len(lines) == 4 and lines[-1].startswith("Get File ")
    assert (tmp_path / "c.bin").read_bytes() == (tmp_path / "a.bin").read_bytes()


def test_put_file_with_a_pattern_and_directories(lib, tmp_path):
    for name in ("x.txt", "y.txt", "z.log"):
        (tmp_path / "src" / "sub").mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(name)
    results = lib.put_file(str(tmp_path / "src" / "*.txt"), str(tmp_path / "dst"),
                           create_dirs=True)  # fmt: skip
    names = [os.path.basename(r.destination) for r in results]
    assert names == ["x.txt", "y.txt"] and results[0].destination == str(tmp_path / "dst" / "x.txt")
    with pytest.raises(FileNotFoundError, match="No local file matches"):
        lib.put_file(str(tmp_path / "src" / "*.none"))
    result = lib.put_directory(str(tmp_path / "src"), str(tmp_path / "up"), include="*.log")
    assert result.files == 1 and os.listdir(tmp_path / "up") == ["z.log"]
    result = lib.get_directory(str(tmp_path / "src"), str(tmp_path / "down"), False,
                               exclude=["z.*"])  # fmt: skip
    assert sorted(os.listdir(tmp_path / "down")) == ["x.txt", "y.txt"]


def test_get_file_of_a_link_copies_its_content_as_the_docs_example(lib, tmp_path):
    source = "/etc/os-release"  # a link on most systems, the example of the docs
    result = lib.get_file(source, f"{tmp_path}/")
    assert result.destination == str(tmp_path / "os-release")
    assert not os.path.islink(result.destination)
    with open(source, "rb") as file:
        assert (tmp_path / "os-release").read_bytes() == file.read()
    assert result.size == os.path.getsize(source) > 0
    (tmp_path / "real.txt").write_text("content")
    os.symlink("real.txt", tmp_path / "link.txt")
    lib.put_file(str(tmp_path / "link.txt"), str(tmp_path / "put.txt"))
    assert not os.path.islink(tmp_path / "put.txt")
    assert (tmp_path / "put.txt").read_text() == "content"
    lib.put_file(str(tmp_path / "link.txt"), str(tmp_path / "kept.txt"), follow_symlinks=False)
    assert os.readlink(tmp_path / "kept.txt") == "real.txt"
