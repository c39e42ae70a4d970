"""The reference's semantics, used the way its own documentation uses them,
against a real python3 in a real local pty: what comes back as a value and
what stays remote, method attributes as proxies, timeouts of remote execution,
one agent per proxy, exceptions that keep their attributes, porting details."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from RemoteProxyLibrary import (
    AutoRecoveringTerminal,
    BashShell,
    InteractiveSession,
    InvalidProxySession,
    RemoteError,
    RemoteTimeout,
    RunnerException,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    SessionInitializationFailed,
)
from RemoteProxyLibrary.remoteproxies import _RecursiveProxy, _RemoteProxy
from RemoteProxyLibrary.runnerterminal import RunnerTerminal


def start_runner(**settings) -> tuple[InteractiveSession, RunnerTerminal]:
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10, **settings)
    runner.initialize(session)
    runner.import_libraries("subprocess", "time")
    return session, runner


@pytest.fixture
def runner():
    session, runner = start_runner()
    yield runner
    runner.close()
    session.close_terminal()


@pytest.fixture
def two_runners():
    started = [start_runner(), start_runner()]
    yield [runner for _, runner in started]
    for session, runner in started:
        runner.close()
        session.close_terminal()


# ---- 1. what comes back as a value, and what stays remote ----------------------------
def test_a_list_attribute_appended_through_a_recursive_proxy_changes_the_target(runner):
    sys_ = runner.get_recursive_proxy("sys")
    path = sys_.path
    assert isinstance(path, _RecursiveProxy)
    path.append("/rpl/appended")
    assert runner.run_python("sys.path[-1]") == "/rpl/appended"
    assert sys_.path[-1] == "/rpl/appended"  # scalars come back as values


def test_a_struct_sequence_stays_remote_and_its_fields_read(runner):
    stat = runner.get_recursive_proxy("os").stat("/tmp")
    assert isinstance(stat, _RecursiveProxy)
    assert stat.st_mode == os.stat("/tmp").st_mode
    assert runner.get_recursive_proxy("os").uname().release == os.uname().release


def test_get_proxy_or_basic_from_call_copies_only_basic_types(runner):
    mapping = runner.get_proxy_or_basic_from_call("dict", a=1)
    assert isinstance(mapping, _RemoteProxy)
    mapping["b"] = 2
    runner.run_python("import gc")
    assert mapping.as_local_value() == {"a": 1, "b": 2}
    assert runner.get_proxy_or_basic_from_call("len", [1, 2, 3]) == 3
    assert runner.get_proxy_or_basic_from_call("str", 5) == "5"
    assert runner.get_proxy_or_basic_from_call("bool", 1) is True


def test_run_python_still_returns_plain_data_containers_included(runner):
    assert runner.run_python("{'a': [1, (2, 3)], 'b': {4}}") == {"a": [1, (2, 3)], "b": {4}}


def test_handled_types_are_configurable(runner):
    class Runner(RunnerTerminal):
        HANDLED_TYPES = (type(None), int, str, list)

    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    wide = Runner(prompt_timeout=10)
    wide.initialize(session)
    try:
        assert wide.get_proxy_or_basic_from_call("list", "ab") == ["a", "b"]
        assert isinstance(wide.get_proxy_or_basic_from_call("dict", a=1), _RemoteProxy)
    finally:
        wide.close()
        session.close_terminal()


# ---- 2. a method attribute is a proxy like any other -----------------------------------
def test_the_reference_background_command_example(runner):
    pro = runner.get_proxy_object_from_call(
        "subprocess.Popen", ["sh", "-c", "sleep 1; echo done"], stdout=subprocess.PIPE
    )
    pro.communicate.remote_proxy_use_asynchronous_response()
    started = time.monotonic()
    handle = pro.communicate()
    assert isinstance(handle, RemoteTimeout)
    assert time.monotonic() - started < 0.5  # returned at once
    round_trips = runner.round_trips
    out, err = pro.get_remote_proxy_response(handle, timeout=10)
    assert (out, err) == (b"done\n", None)
    assert runner.round_trips == round_trips  # fetching the response sends nothing
    # the setting stays with pro.communicate; pro's other methods are synchronous
    assert pro.poll() == 0


def test_a_timeout_set_on_a_method_applies_to_its_calls(runner):
    pro = runner.get_proxy_object_from_call("subprocess.Popen", ["sleep", "2"])
    pro.wait.set_remote_proxy_timeout(0.3)
    with pytest.raises(RemoteTimeout):
        pro.wait()
    assert pro.wait.__call__ is not None
    assert pro.poll() is None  # no timeout on poll: answers at once
    pro.kill()


# ---- 3. timeouts are remote execution timeouts --------------------------------------------
def test_a_proxy_timeout_of_half_a_second_raises_in_under_one(runner):
    sleeper = runner.get_recursive_proxy("time")
    sleeper.set_remote_proxy_timeout(0.5)
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as raised:
        sleeper.sleep(2)
    assert 0.45 < time.monotonic() - started < 1.0
    assert sleeper.get_remote_proxy_response(raised.value, timeout=5) is None


def test_run_python_timeout_is_the_calls_own(runner):
    started = time.monotonic()
    with pytest.raises(RemoteTimeout):
        runner.run_python("time.sleep(2)", timeout="500 ms")  # a time string works too
    assert time.monotonic() - started < 1.0


def test_a_silent_target_breaks_the_session_whatever_the_call_timeouts(runner):
    runner.liveness_interval = 0.5
    runner.liveness_timeout = 1.0
    pid, shell = runner.run_python("os.getpid(), os.getppid()")
    # the shell first: seeing its python stop, it would print its prompt
    os.kill(shell, signal.SIGSTOP)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(RemoteTimeout):
            runner.run_python("1", timeout=0.2)
        deadline = started + 5
        while time.monotonic() < deadline and runner.running:
            time.sleep(0.1)
        assert not runner.running
        assert time.monotonic() - started < 0.2 + 0.5 + 1.0 + 1.0  # within the budget
        with pytest.raises(RunnerTerminalSessionBroken, match="liveness"):
            runner.run_python("1", timeout=0.2)
    finally:
        os.kill(pid, signal.SIGCONT)
        os.kill(shell, signal.SIGCONT)


# ---- 4. a proxy belongs to one agent, everywhere --------------------------------------
def test_a_proxy_used_with_another_runner_raises_naming_both(two_runners):
    one, two = two_runners
    mine = one.get_proxy_object_from_call("list", [1])
    theirs = two.get_proxy_object_from_call("list", [2])
    assert mine.get_proxy_handle() == theirs.get_proxy_handle()  # same handle names
    assert one.session_id != two.session_id
    with pytest.raises(InvalidProxySession) as raised:
        two.run_python_call("len", mine)
    assert "belongs to python3 in BashShell" in str(raised.value)
    assert str(raised.value).count("python3 in BashShell") == 2
    assert two.run_python_call("len", theirs) == 1  # the session goes on


def test_session_identities_are_new_at_each_start(runner):
    before = runner.session_id
    proxy = runner.get_proxy_object_from_call("list")
    runner.close()
    runner.initialize(runner.session)
    assert runner.session_id != before
    with pytest.raises(InvalidProxySession, match="ended"):
        proxy.append(1)


# ---- 5. exceptions keep what the remote one had -------------------------------------------
def test_oserror_keeps_errno_strerror_and_filenames(runner):
    with pytest.raises(FileNotFoundError) as raised:
        runner.run_python("open('/no/such/file')")
    error = raised.value
    assert error.errno == 2
    assert error.strerror == "No such file or directory"
    assert error.filename == "/no/such/file"
    assert str(error) == "[Errno 2] No such file or directory: '/no/such/file'"
    with pytest.raises(FileNotFoundError) as raised:
        runner.run_python("os.link('/no/such/source', '/tmp/rpl-link')")
    assert (raised.value.filename, raised.value.filename2) == ("/no/such/source", "/tmp/rpl-link")


def test_other_exceptions_keep_their_attributes(runner):
    with pytest.raises(RemoteError) as raised:
        runner.run_python("subprocess.run(['sh', '-c', 'echo out; exit 3'], check=True, "
                          "stdout=subprocess.PIPE)")  # fmt: skip
    error = raised.value
    assert error.remote_type == "subprocess.CalledProcessError"
    assert (error.returncode, error.cmd, error.output) == (3, ["sh", "-c", "echo out; exit 3"],
                                                           b"out\n")  # fmt: skip
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        error.nope  # noqa: B018
    with pytest.raises(KeyError) as key_error:
        runner.run_python("{}['k']")
    assert key_error.value.args == ("k",)
    with pytest.raises(RemoteError) as exit_error:  # never raised as SystemExit here
        runner.run_python("sys.exit(4)")
    assert exit_error.value.code == 4
    with pytest.raises(UnicodeDecodeError) as unicode_error:
        runner.run_python("b'\\xff'.decode('utf-8')")
    assert (unicode_error.value.start, unicode_error.value.reason) == (0, "invalid start byte")


# ---- 6. porting ------------------------------------------------------------------------
def test_run_on_a_closed_or_new_runner_says_closed():
    with pytest.raises(RunnerTerminalSessionClosed):
        RunnerTerminal().run("1")
    session, runner = start_runner()
    runner.close()
    session.close_terminal()
    with pytest.raises(RunnerTerminalSessionClosed):
        runner.run("1")


def test_session_initialization_failed_is_a_runner_exception():
    assert issubclass(SessionInitializationFailed, RunnerException)


def test_setup_session_starts_the_agent_when_needed(runner):
    runner.setup_session()  # running: nothing to do
    pid = runner.run_python("os.getpid()")
    runner.close()
    runner.setup_session()
    assert runner.run_python("os.getpid()") != pid


def test_auto_close_closes_the_terminal_on_a_broken_exception():
    terminal = AutoRecoveringTerminal()
    terminal.initialize([BashShell(timeout=10)], broken_exceptions=[ValueError])
    terminal.initialize_terminal()
    with pytest.raises(ValueError), terminal.auto_close():
        raise ValueError("broken")
    assert not terminal.is_open
    with pytest.raises(KeyError), terminal.auto_close():
        terminal.run("true")  # opened again by the next use
        raise KeyError("not a broken exception")
    assert terminal.is_open
    terminal.close()


def test_reference_classes_take_robot_time_strings():
    runner = RunnerTerminal(timeout="1 min", prompt_timeout="10 s")
    assert (runner.timeout, runner.prompt_timeout) == (60.0, 10.0)
    runner.set_default_timeout("2 minutes")
    assert runner.default_timeout == 120.0


def test_finalize_runs_before_a_recovery_even_on_a_broken_session():
    from RemoteProxyLibrary import AutoRunnerTerminal

    calls = []
    runner = AutoRunnerTerminal(prompt_timeout=10)

    def finalize():
        calls.append("finalize")
        runner.run_python("1")  # on the broken session: fails, is only logged

    runner.initialize_with_shells(
        BashShell(timeout=10), prepare=lambda: calls.append("prepare"), finalize=finalize
    )
    try:
        pid = runner.run_python("__import__('os').getpid()")
        os.kill(pid, signal.SIGKILL)
        assert runner.run_python("1") == 1
        assert calls == ["prepare", "finalize", "prepare"]
    finally:
        runner.close()
    assert calls[-1] == "finalize"


def test_remote_code_cannot_read_the_terminal_the_requests_come_through(runner):
    with pytest.raises(OSError) as raised:
        runner.run_python("open('/dev/tty')")
    assert raised.value.errno == 6  # ENXIO: no controlling terminal
    started = time.monotonic()
    code = runner.run_python(
        "subprocess.run(['sh', '-c', 'read x < /dev/tty'], stderr=subprocess.DEVNULL).returncode"
    )
    assert code != 0 and time.monotonic() - started < 3  # fails at once, no hang
    for _ in range(10):  # and no request was eaten
        assert runner.run_python("2 + 2", timeout=5) == 4


def test_a_syntax_error_has_one_traceback(runner):
    with pytest.raises(SyntaxError) as raised:
        runner.run_python("1 +")
    assert "During handling" not in raised.value.remote_traceback
