"""RunnerTerminal against a real python3 started in a real local pty."""

from __future__ import annotations

import datetime
import decimal
import fractions
import logging
import os
import pathlib
import time
import uuid

import pytest

from RemoteProxyLibrary import (
    BashShell,
    InteractiveSession,
    PythonShell,
    RemoteError,
    RemoteTimeout,
    RunnerException,
    RunnerTerminalSessionClosed,
    UnableToSerialize,
)
from RemoteProxyLibrary.errors import ProtocolViolation, ShellError
from RemoteProxyLibrary.runner.connection import AgentConnection, Pending
from RemoteProxyLibrary.runnerterminal import RunnerTerminal
from RemoteProxyLibrary.wire import codec, framing


@pytest.fixture(params=["bash", "python"])
def runner(request):
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    if request.param == "python":
        session.push(PythonShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    yield runner
    runner.close()
    session.close_terminal()


@pytest.fixture
def bash_runner():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    yield runner
    runner.close()
    session.close_terminal()


def test_expressions_and_statements(runner):
    assert runner.run_python("1+1") == 2
    assert runner.run_python("a = [1, 'x', None]") is None
    assert runner.run_python("a") == [1, "x", None]
    assert runner.run_python("{'k': (1.5, b'\\xff', {1, 2})}") == {"k": (1.5, b"\xff", {1, 2})}


def test_remote_pid_is_another_process(runner):
    runner.import_libraries("os")
    assert runner.run_python("os.getpid()") != os.getpid()


def test_builtin_exception_is_raised_as_itself_with_remote_traceback(runner):
    with pytest.raises(ZeroDivisionError) as info:
        runner.run_python("1/0")
    assert "Traceback" in info.value.remote_traceback
    assert "ZeroDivisionError" in info.value.remote_traceback
    assert runner.run_python("2*3") == 6


def test_syntax_error(runner):
    with pytest.raises(SyntaxError):
        runner.run_python("def (:")
    assert runner.run_python("'still alive'") == "still alive"


def test_non_builtin_exception_names_remote_type(runner):
    runner.run_python("class Boom(Exception): pass")
    with pytest.raises(RemoteError) as info:
        runner.run_python("exec('raise Boom(\"bad thing\")')")
    assert "Boom" in info.value.remote_type
    assert "bad thing" in str(info.value)
    assert runner.run_python("1") == 1


def test_value_that_cannot_travel_gives_clear_error_and_session_goes_on(runner):
    runner.import_libraries("threading")
    with pytest.raises(UnableToSerialize, match="lock"):
        runner.run_python("threading.Lock()")
    assert runner.run_python("[threading.Lock] and 5") == 5


def test_non_utf8_bytes_and_surrogates(runner):
    assert runner.run_python("bytes(range(256))") == bytes(range(256))
    assert runner.run_python("'\\udcff' + 'é'") == "\udcffé"


def test_everyday_value_types_travel_both_ways(runner):
    runner.import_libraries("os", "sys", "datetime", "pathlib", "collections")
    stat = runner.run_python("os.stat('.')")  # the same machine: the same directory
    assert (type(stat).__name__, type(stat).__module__) == ("stat_result", "os")
    assert stat == os.stat(".") and stat.st_mtime_ns == os.stat(".").st_mtime_ns
    assert runner.run_python("os.uname()").release == os.uname().release
    assert runner.run_python("sys.version_info").major == 3
    when = runner.run_python("datetime.datetime.now(datetime.timezone.utc)")
    assert when.tzinfo is datetime.timezone.utc
    path = runner.run_python("pathlib.Path('/tmp') / 'x'")
    assert type(path) is pathlib.PurePosixPath and str(path) == "/tmp/x"
    runner.run_python("Job = collections.namedtuple('Job', 'pid name')")
    job = runner.run_python("Job(7, 'x')")
    assert (type(job).__name__, job.pid, job.name, job) == ("Job", 7, "x", (7, "x"))
    sent = [
        datetime.datetime(2024, 1, 2, 3, 4, 5, 6, datetime.timezone(datetime.timedelta(hours=2))),
        datetime.timedelta(days=-1, microseconds=3),
        decimal.Decimal("-1.50E+7"),
        fractions.Fraction(1, 3),
        uuid.UUID(int=5),
        pathlib.PureWindowsPath("C:/x"),
        job,
    ]
    runner.run_python(
        "kinds = lambda *vs: [type(v).__module__ + '.' + type(v).__name__ for v in vs]"
    )
    assert runner.run_python_call("kinds", *sent) == [
        "datetime.datetime",
        "datetime.timedelta",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "pathlib.PureWindowsPath",
        "__rpl__.Job",  # where the target defined it (a look-alike there too)
    ]
    assert runner.run_python_call("list", sent) == sent


def test_stdout_and_stderr_are_captured_and_logged(runner, caplog):
    caplog.set_level(logging.INFO, logger="RemoteProxyLibrary")
    assert runner.run_python("print('hello out') or __import__('sys').stderr.write('e!')") == 2
    text = caplog.text
    assert "hello out" in text
    assert "e!" in text
    assert runner.run_python("3") == 3


def test_child_process_output_never_corrupts_frames(runner):
    runner.import_libraries("os")
    assert runner.run_python("os.system('echo from a child; echo err >&2')") == 0
    assert runner.run_python("'next'") == "next"


def test_run_python_call_and_assign(runner):
    runner.import_libraries("os.path")
    assert runner.run_python_call("os.path.join", "a", "b", "c") == "a/b/c"
    result = runner.assign_and_run_python("x", "'text'")
    assert result.isobj and result.obj == "text"
    # HANDLED_TYPES are the reference's basic types: a list stays remote
    result = runner.assign_and_run_python("y", "[1, 2]")
    assert not result.isobj and result.obj is None
    assert runner.run_python("y") == [1, 2]
    result = runner.assign_and_run_python("lock", "__import__('threading').Lock()")
    assert not result.isobj
    assert runner.run_python("lock.acquire()") is True
    assert runner.run_and_return_handled_python("x").obj == "text"
    assert not runner.run_and_return_handled_python("y").isobj
    assert not runner.run_and_return_handled_python("lock").isobj


def test_call_past_timeout_raises_remote_timeout_and_response_comes_later(bash_runner):
    runner = bash_runner
    runner.import_libraries("time")
    with pytest.raises(RemoteTimeout) as info:
        runner.run_python("time.sleep(0.5) or 'late'", timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    assert runner.run_python("'meanwhile'") == "meanwhile"
    assert runner.get_response(info.value.response_id, timeout=5) == "late"


def test_get_response_takes_the_remote_timeout_itself_as_the_older_library_does(bash_runner):
    runner = bash_runner
    runner.import_libraries("time")
    with pytest.raises(RemoteTimeout) as info:
        runner.run_python("time.sleep(0.3) or 42", timeout=0.05)
    assert runner.get_response(info.value, 5) == 42
    with pytest.raises(KeyError, match="fetched already, or the session it was started in ended"):
        runner.get_response(info.value, 5)


def test_garbage_typed_into_terminal_mid_session(bash_runner):
    runner = bash_runner
    runner.connection.terminal.write(
        b"\x00garbage {RPL:zz \x1b[31m\r\n{RPL:1:R.:4:AAAA:00000000}\n"
    )
    time.sleep(0.2)
    assert runner.run_python("40+2") == 42


def test_large_values_both_ways(bash_runner):
    runner = bash_runner
    blob = os.urandom(3 * 1024 * 1024)
    assert runner.run_python_call("len", blob) == len(blob)
    assert runner.run_python_call("bytes", blob) == blob


def test_concurrent_requests_in_flight(bash_runner):
    runner = bash_runner
    runner.import_libraries("time")
    pendings = [runner.send_request("eval", (f"time.sleep(0.3) or {i}",)) for i in range(10)]
    start = time.monotonic()
    results = [runner.wait_reply(p, 10) for p in pendings]
    assert results == list(range(10))
    assert time.monotonic() - start < 2.5


def test_a_call_waiting_for_a_later_one_does_not_hold_the_agent(bash_runner):
    """The agent runs a request in the thread that read it; one that runs on
    (here: until a later call sets an event) has the reading taken from it,
    also right after the agent's watcher went to sleep (0.5 s of quiet)."""
    runner = bash_runner
    runner.run_python("import threading; event = threading.Event()")
    for pause in (0, 0.7):
        time.sleep(pause)
        waiting = runner.send_request("eval", ("event.wait(20)",))
        started = time.monotonic()
        runner.run_python("event.set()", timeout=10)
        assert runner.wait_reply(waiting, 10) is True
        assert time.monotonic() - started < 5
        runner.run_python("event.clear()")
    # many at once, each waiting for the last
    waiting = [runner.send_request("eval", ("event.wait(20)",)) for _ in range(5)]
    runner.run_python("event.set()", timeout=10)
    assert [runner.wait_reply(p, 10) for p in waiting] == [True] * 5


def test_one_request_is_one_round_trip(bash_runner):
    runner = bash_runner
    before = runner.round_trips
    runner.run_python("1")
    assert runner.round_trips == before + 1


def test_close_gives_the_shell_back(bash_runner):
    runner = bash_runner
    session = runner.session
    pid = runner.run_python("__import__('os').getpid()")
    runner.close()
    with pytest.raises(RunnerTerminalSessionClosed):
        runner.run_python("1")
    assert session.current_shell().exec_command("echo back").strip() == "back"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the remote python is still running after close()")


def test_close_in_python_shell_returns_to_its_prompt():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    session.push(PythonShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    runner.run_python("import sys")
    runner.close()
    shell = session.current_shell()
    assert (
        shell.exec_command("print(sorted(m for m in sys.modules if 'remoteproxy' in m))").strip()
        == "[]"
    )
    session.pop()
    assert session.current_shell().exec_command("echo ok").strip() == "ok"
    session.close_terminal()


def test_handled_types_are_configurable():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.HANDLED_TYPES = (type(None), int, str)
    runner.initialize(session)
    assert runner.get_proxy_or_basic_from_call("len", "abc") == 3
    as_proxy = runner.get_proxy_or_basic_from_call("list", "ab")
    assert runner.isproxy(as_proxy)
    assert as_proxy.as_local_value() == ["a", "b"]
    runner.import_libraries("datetime")
    assert runner.isproxy(runner.get_proxy_or_basic_from_call("datetime.date", 2024, 1, 1))
    runner.close()
    session.close_terminal()


def test_handled_types_may_name_the_codecs_value_types():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.HANDLED_TYPES = (type(None), int, str, datetime.date, tuple)
    runner.initialize(session)
    runner.import_libraries("datetime", "decimal", "os")
    day = runner.get_proxy_or_basic_from_call("datetime.date", 2024, 2, 29)
    assert type(day) is datetime.date and day == datetime.date(2024, 2, 29)
    stat = runner.get_proxy_or_basic_from_call("os.stat", ".")  # a tuple
    assert stat.st_mode == os.stat(".").st_mode
    assert runner.isproxy(runner.get_proxy_or_basic_from_call("decimal.Decimal", "1.5"))
    runner.close()
    session.close_terminal()


def test_large_return_and_next_call(bash_runner):
    runner = bash_runner
    value = runner.run_python("bytes(100 * 1024 * 1024)")
    assert len(value) == 100 * 1024 * 1024
    del value
    assert runner.run_python("'small'") == "small"


def test_a_frame_that_reaches_a_plain_shell_is_a_comment_there():
    from RemoteProxyLibrary.runner.connection import INERT
    from RemoteProxyLibrary.wire import framing

    session = InteractiveSession()
    shell = session.spawn(BashShell(timeout=10))
    frame = INERT + framing.FrameProtocol().frame(7, "R", b"touch /tmp/should-not-matter")
    session.terminal.write(frame)
    output = shell._expect_prompt(5, "typed frame")
    assert "not found" not in output
    assert shell.exec_command("echo $?").strip() == "0"
    session.close_terminal()


def test_a_call_holding_the_gil_past_the_liveness_budget_is_not_a_broken_session(
    bash_runner, caplog
):
    # PyDLL keeps the GIL through the C call: the agent's reader cannot answer
    # pings for 4 s, longer than the liveness budget of 1 + 1.5 s below
    bash_runner.liveness_interval = 1.0
    bash_runner.liveness_timeout = 1.5
    bash_runner.import_libraries("ctypes")
    caplog.set_level("DEBUG", logger="RemoteProxyLibrary")
    start = time.monotonic()
    assert bash_runner.run_python("ctypes.PyDLL(None).sleep(4)") == 0
    assert time.monotonic() - start >= 4
    assert bash_runner.run_python("1+1") == 2
    # the agent's heartbeats came but are not logged as noise
    assert bash_runner.connection.heard_heartbeats >= 2
    assert "rpl-busy" not in caplog.text


def test_a_request_corrupted_on_the_way_fails_at_once_and_the_next_call_works(bash_runner):
    connection = bash_runner.connection
    payload = codec.encode(([], "eval", ("1+1",), 0, None))
    frame = bytearray(framing.FrameProtocol().frame(4242, "R", payload))
    frame[-5:-2] = b"000" if frame[-5:-2] != b"000" else b"111"  # break the crc
    pending = Pending(4242, "R", connection)
    with connection._lock:
        connection._pending[4242] = pending
    start = time.monotonic()
    connection.terminal.write(b"#" + bytes(frame))
    assert pending.wait(5)
    with pytest.raises(ProtocolViolation, match="request 4242 arrived corrupted"):
        pending.payload()
    assert time.monotonic() - start < 2
    assert bash_runner.run_python("1+1") == 2


def test_writing_bytes_to_stdout_raises_like_python_and_the_session_goes_on(bash_runner):
    with pytest.raises(TypeError, match="must be str, not bytes"):
        bash_runner.run_python("sys.stdout.write(b'x')", timeout=8)
    assert bash_runner.run_python("print('ok') or 3") == 3


def test_a_builtin_exception_with_its_own_signature_keeps_its_traceback(bash_runner):
    if bash_runner.run_python("sys.version_info < (3, 11)"):
        pytest.skip("ExceptionGroup needs Python 3.11 on the target")
    with pytest.raises(RemoteError, match="ExceptionGroup") as caught:
        bash_runner.run_python("raise ExceptionGroup('eg', [ValueError(1)])")
    assert "ExceptionGroup" in caught.value.remote_traceback
    assert bash_runner.run_python("1+1") == 2


def test_an_argument_that_cannot_travel_is_named(bash_runner):
    with pytest.raises(UnableToSerialize, match=r"positional argument 1: cannot encode value"):
        bash_runner.run_python_call("max", 1, object())
    with pytest.raises(UnableToSerialize, match=r"keyword argument 'key': cannot encode value"):
        bash_runner.run_python_call("max", 1, 2, key=[object()])
    assert bash_runner.run_python_call("max", 1, 2) == 2


def test_initializing_a_running_runner_again_says_so(bash_runner):
    with pytest.raises(RunnerException, match="already initialized"):
        bash_runner.initialize(bash_runner.session)
    assert bash_runner.run_python("1+1") == 2


def test_a_hello_the_reader_takes_at_once_is_not_missed(monkeypatch):
    """The agent may say hello before the starting thread looks for it (a
    loaded machine, a fast target): the reader thread has taken it by then."""
    start = AgentConnection.start

    def start_and_let_the_reader_take_the_hello(self, initial=b""):
        start(self, initial)
        deadline = time.monotonic() + 10
        while self.hello is not None and time.monotonic() < deadline:
            time.sleep(0.01)

    monkeypatch.setattr(AgentConnection, "start", start_and_let_the_reader_take_the_hello)
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    try:
        runner.initialize(session)
        assert runner.run_python("1 + 1") == 2
    finally:
        runner.close()
        session.close_terminal()


SIGNAL_THE_WRITERS = """
import faulthandler, os, signal, threading, time
_rpl_sink = open(os.devnull, 'w')
faulthandler.register(signal.SIGUSR1, file=_rpl_sink, all_threads=False)
_rpl_stop = []
def _rpl_pester():
    while not _rpl_stop:
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and thread.ident:
                try:
                    signal.pthread_kill(thread.ident, signal.SIGUSR1)
                except Exception:
                    pass
        time.sleep(0.0005)
threading.Thread(target=_rpl_pester, daemon=True).start()
"""


def test_the_heartbeat_never_lands_inside_a_frame(bash_runner):
    """A signal cuts the agent's write() of a frame short, so a frame takes
    several writes; the heartbeat helper (beating while a call runs) must
    write its line between frames only. Here every agent thread is signalled
    all the time while large raw replies go out during a busy call."""
    assert bash_runner.connection.raw_replies
    bash_runner.run_python(SIGNAL_THE_WRITERS)
    busy = bash_runner.send_request("eval", ("__import__('time').sleep(5)",))
    start = time.monotonic()
    beats = bash_runner.connection.heard_heartbeats
    try:
        while time.monotonic() - start < 4.5:
            assert len(bash_runner.run_python("'x' * 3000000", timeout=10)) == 3000000
    finally:
        bash_runner.run_python("_rpl_stop.append(1)")
    assert bash_runner.connection.heard_heartbeats - beats >= 3
    assert bash_runner.wait_reply(busy, 10) is None


def test_typing_into_the_shell_the_agent_runs_in_fails_at_once():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    try:
        start = time.monotonic()
        with pytest.raises(ShellError, match=r"the Python agent .* runs in this shell"):
            session.current_shell().exec_command("echo hi", timeout=3)
        assert time.monotonic() - start < 1
        assert runner.run_python("1 + 1") == 2
    finally:
        runner.close()
    assert session.current_shell().exec_command("echo back").strip() == "back"
    session.close_terminal()
