"""runner.commands against a real python3 in a local pty (SSH adds nothing here;
test_commands_files_ssh.py runs them through the hops)."""

from __future__ import annotations

import os
import signal
import time
import tracemalloc

import pytest

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.errors import CommandTimeout, RunnerTerminalSessionBroken
from RemoteProxyLibrary.runner.commands import command_args, signal_number
from RemoteProxyLibrary.runnerterminal import RunnerTerminal


@pytest.fixture(scope="module")
def runner():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(timeout=60, prompt_timeout=10)
    runner.initialize(session)
    yield runner
    runner.close()
    session.close_terminal()


def processes_with(marker: str) -> list[int]:
    """Live (not zombie) processes whose command line is ``marker``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                cmdline = file.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat", "rb") as file:
                state = file.read().rpartition(b")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if cmdline.strip() == marker and state not in (b"Z", b"X"):
            found.append(int(pid))
    return found


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ---- run --------------------------------------------------------------------------------
def test_run_gives_rc_and_both_streams_apart(runner):
    result = runner.commands.run("echo out; echo err >&2; exit 3")
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.pid > 0 and result.seconds >= 0 and not result.timed_out


def test_a_list_runs_without_a_shell_and_a_string_with_one(runner):
    assert runner.commands.run(["printf", "%s|", "a b", "$HOME"]).stdout == "a b|$HOME|"
    assert runner.commands.run("printf %s $((1+2))").stdout == "3"
    # shell=False splits a string like a shell would, and runs no shell
    assert runner.commands.run("printf '%s|' 'a b' $((1))", shell=False).stdout == "a b|$((1))|"
    bash = runner.commands.run("echo ${BASH_VERSION:+bash}", shell="/bin/bash")
    assert bash.stdout == "bash\n"


def test_merged_streams_keep_their_order(runner):
    result = runner.commands.run("echo 1; echo 2 >&2; echo 3", stderr="STDOUT")
    assert (result.stdout, result.stderr) == ("1\n2\n3\n", "")


def test_cwd_env_and_stdin(runner, tmp_path):
    result = runner.commands.run(
        "pwd; echo $RPL_A-${HOME:-nohome}; cat",
        cwd=str(tmp_path),
        env={"RPL_A": "x y", "HOME": None},
        stdin="line one\nline two\n",
    )
    assert result.stdout == f"{tmp_path}\nx y-nohome\nline one\nline two\n"
    home = runner.commands.run("pwd", cwd="~")
    assert home.stdout == os.path.expanduser("~") + "\n"  # the target's user is root here too
    clean = runner.commands.run(["/usr/bin/env"], env={"ONLY": "1"}, inherit_env=False)
    assert clean.stdout == "ONLY=1\n"


def test_bytes_and_encodings(runner):
    raw = runner.commands.run(["printf", "\\377\\303\\251"], text=False)
    assert raw.stdout == b"\xff\xc3\xa9" and raw.stderr == b""
    assert runner.commands.run(["printf", "\\377\\303\\251"]).stdout == "\ufffdé"
    assert runner.commands.run(["printf", "\\377"], encoding="latin-1").stdout == "ÿ"
    with pytest.raises(UnicodeDecodeError):
        runner.commands.run(["printf", "\\377"], errors="strict").stdout  # noqa: B018
    data = bytes(range(256)) * 100
    assert runner.commands.run(["cat"], stdin=data, text=False).stdout == data


def test_bad_input_is_refused_before_anything_runs(runner):
    with pytest.raises(ValueError, match="empty"):
        runner.commands.run("  ")
    with pytest.raises(ValueError, match="empty"):
        runner.commands.run([])
    with pytest.raises(ValueError, match="environment variable name"):
        runner.commands.run("true", env={"A=B": "1"})
    with pytest.raises(LookupError):
        runner.commands.run("true", encoding="no-such-codec")
    with pytest.raises(TypeError, match="stdin"):
        runner.commands.run("true", stdin=12)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="cannot run 'no-such-program' on the target"):
        runner.commands.run(["no-such-program"])
    with pytest.raises(FileNotFoundError, match=r"its working directory cannot be entered "
                       r"\(No such file or directory\): '/no/such/dir'"):  # fmt: skip
        runner.commands.run("true", cwd="/no/such/dir")
    assert runner.commands.run("no-such-program").rc == 127  # the shell says so
    # a command has no controlling terminal: it cannot write into the frame stream
    assert runner.commands.run("echo into the frames > /dev/tty").rc != 0
    assert runner.run_python("1+1") == 2  # the session goes on


def test_relative_cwd_is_the_agents_working_directory_and_errors_name_it(runner, tmp_path):
    here = runner.commands.run("pwd").stdout.rstrip("\n")  # where Python started
    assert here == runner.evaluate("__import__('os').getcwd()")
    with pytest.raises(FileNotFoundError) as info:
        runner.commands.run("true", cwd="no-such-dir")
    assert info.value.filename == os.path.join(here, "no-such-dir")
    os.makedirs(tmp_path / "sub")
    relative = os.path.relpath(tmp_path / "sub", here)
    assert runner.commands.run("pwd", cwd=relative).stdout == f"{tmp_path / 'sub'}\n"


def test_helpers():
    assert command_args("ls -l", None) == ["/bin/sh", "-c", "ls -l"]
    assert command_args(["ls", "a b"], True) == ["/bin/sh", "-c", "ls 'a b'"]
    assert signal_number("term") == signal.SIGTERM == signal_number("SIGTERM") == signal_number(15)
    with pytest.raises(ValueError, match="unknown signal"):
        signal_number("SIGNOPE")


# ---- timeouts: the whole group dies, nothing is left behind ------------------------------
def test_timeout_kills_the_whole_process_group_and_says_so(runner):
    marker = "3133.25"  # a sleep no other process runs
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as info:
        runner.commands.run(
            f"sleep {marker} & sleep {marker} & echo started; echo oops >&2; sleep {marker}",
            timeout=1,
        )
    assert time.monotonic() - started < 5
    error = info.value
    assert isinstance(error, TimeoutError)
    assert "timeout of 1 s" in str(error) and "killed with its process group" in str(error)
    assert "stdout: started" in str(error) and "stderr: oops" in str(error)
    assert error.stdout == "started\n" and error.stderr == "oops\n"
    assert error.result.rc == -signal.SIGKILL and error.result.timed_out
    assert wait_until(lambda: not processes_with(f"sleep {marker}")), "orphans left"


def test_background_command_group_is_counted_then_killed(runner):
    marker = "3133.5"
    command = runner.commands.start(f"sleep {marker} & sleep {marker} & sleep {marker}")
    assert wait_until(lambda: len(processes_with(f"sleep {marker}")) == 3)
    with pytest.raises(CommandTimeout, match=r"did not end within 0.3 s; it still runs"):
        command.wait(0.3, on_timeout="continue")
    assert command.returncode is None and len(processes_with(f"sleep {marker}")) == 3
    with pytest.raises(CommandTimeout, match="was killed with its process group"):
        command.wait(0.3)  # on_timeout="kill" by default
    assert command.returncode == -signal.SIGKILL
    assert wait_until(lambda: not processes_with(f"sleep {marker}"))


def test_start_timeout_is_enforced_on_the_target_without_anyone_waiting(runner):
    marker = "3133.75"
    command = runner.commands.start(f"sleep {marker}", timeout=0.5)
    # the shell running the command may not have started sleep yet
    assert wait_until(lambda: processes_with(f"sleep {marker}"), 0.4)
    time.sleep(1.5)
    assert not processes_with(f"sleep {marker}")
    with pytest.raises(CommandTimeout, match=r"ran past its timeout of 0.5 s and was killed"):
        command.wait(5)  # as run() with a timeout: the timeout is an error
    with pytest.raises(CommandTimeout) as info:
        command.wait(5, on_timeout="continue")  # whatever on_timeout: it did not wait too long
    assert info.value.result.timed_out and info.value.result.rc == -signal.SIGKILL
    assert command.terminate() is info.value.result  # the result without raising
    assert command.kill().rc == -signal.SIGKILL


def test_a_background_child_holding_the_output_is_waited_for_and_named_at_timeout(runner):
    marker = "3133.875"
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as info:
        runner.commands.run(f"sleep {marker} & echo hi; exit 5", timeout=1)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert message.startswith(
        f"Command 'sleep {marker} & echo hi; exit 5' exited with rc 5, but a process it started "
        "still held its output open when its timeout of 1 s passed; its process group was "
        "killed on the target. A background process keeps the command's output open until it "
        "ends: redirect it ('daemon > /dev/null 2>&1 &') or use Start Command for it."
    )
    assert "stdout: hi" in message and "ran past" not in message
    assert info.value.result.rc == 5 and info.value.result.held and info.value.result.timed_out
    assert wait_until(lambda: not processes_with(f"sleep {marker}")), "the child was left"

    command = runner.commands.start(f"sleep {marker} & exit 4")  # no limit: wait() times out
    with pytest.raises(CommandTimeout, match=r"exited with rc 4, but a process it started still "
                       r"held its output open when its timeout of 0\.5 s passed"):  # fmt: skip
        command.wait(0.5)
    assert wait_until(lambda: not processes_with(f"sleep {marker}")), "the child was left"

    started = time.monotonic()  # redirected, as the docs say: not waited for
    result = runner.commands.run(f"sleep {marker} > /dev/null 2>&1 & echo hi", timeout=10)
    assert (result.rc, result.stdout, result.held) == (0, "hi\n", False)
    assert time.monotonic() - started < 3
    for pid in processes_with(f"sleep {marker}"):
        os.kill(pid, signal.SIGKILL)


# ---- background commands ----------------------------------------------------------------
def test_read_gives_output_as_it_comes(runner):
    command = runner.commands.start("echo one; sleep 1; echo two; echo err >&2")
    assert command.read(timeout=5) == ("one\n", "")
    assert command.read() == ("", "")  # nothing new yet
    assert command.poll() is None
    later = command.read(timeout=5)
    while command.returncode is None:  # the two pipes come in any order
        more = command.read(timeout=5)
        later = type(later)(later.stdout + more.stdout, later.stderr + more.stderr)
    assert later == ("two\n", "err\n")
    result = command.wait(5)
    assert (result.rc, result.stdout, result.stderr) == (0, "one\ntwo\n", "err\n")
    assert command.read() == ("", "")


def test_stdin_signal_terminate_and_kill(runner):
    command = runner.commands.start(["cat"], stdin="hello")
    assert command.wait(5).stdout == "hello"

    trap = runner.commands.start(
        "trap 'echo got INT; exit 7' INT; echo ready; while :; do sleep 0.1; done"
    )
    assert trap.read(timeout=5).stdout == "ready\n"
    trap.send_signal("INT", group=False)
    result = trap.wait(5)
    assert (result.rc, result.stdout) == (7, "ready\ngot INT\n")

    sleeper = runner.commands.start(["sleep", "30"])
    assert sleeper.terminate(grace=5).rc == -signal.SIGTERM
    stubborn = runner.commands.start("trap '' TERM; echo ready; sleep 30")
    assert stubborn.read(timeout=5).stdout == "ready\n"
    started = time.monotonic()
    assert stubborn.terminate(grace=0.5).rc == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert runner.commands.start(["sleep", "30"]).kill().rc == -signal.SIGKILL
    assert "rc=-9" in repr(stubborn)


def test_output_beyond_the_targets_buffer_waits_for_a_reader_and_is_complete(runner):
    command = runner.commands.start(["seq", "1", "300000"], buffer=65536)
    time.sleep(0.5)  # the command fills the buffer, then waits
    assert command.poll() is None
    result = command.wait(30)
    assert result.rc == 0
    assert result.stdout == "".join(f"{n}\n" for n in range(1, 300001))


@pytest.mark.parametrize("end", ["close", "SIGHUP", "SIGTERM"])
def test_commands_still_running_die_with_the_agent(end):
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    marker = "3134.5"
    try:
        command = runner.commands.start(f"sleep {marker} & sleep {marker}")
        assert wait_until(lambda: len(processes_with(f"sleep {marker}")) == 2)
        if end == "close":
            runner.close()
        else:  # the terminal went away (SIGHUP), or someone stopped the agent
            os.kill(runner.run_python("os.getpid()"), getattr(signal, end))
        assert wait_until(lambda: not processes_with(f"sleep {marker}"))
        with pytest.raises(RunnerTerminalSessionBroken, match=r"ended|lost|broken|gone"):
            command.wait(1)
    finally:
        runner.close()
        session.close_terminal()


# ---- large output ----------------------------------------------------------------------
def test_100_mb_of_output_to_a_local_file_in_bounded_memory(runner, tmp_path):
    path = tmp_path / "out.bin"
    size = 100 * 1000 * 1000
    tracemalloc.start()
    try:
        result = runner.commands.run(
            f"head -c {size} /dev/zero | tr '\\0' x; echo done >&2", stdout=path, text=False
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.rc == 0 and result.stderr == b"done\n" and result.stdout_path == str(path)
    assert path.stat().st_size == size
    with open(path, "rb") as file:
        assert file.read(10) == b"x" * 10
    assert peak < 32 * 1000 * 1000, f"peak {peak / 1e6:.1f} MB of Python allocations"
