"""The Robot Framework keyword layer, called directly on local terminals."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest

from RemoteProxyLibrary import (
    InvalidProxySession,
    NoSuchProxy,
    NoSuchTerminal,
    RemoteError,
    RunnerTerminalSessionBroken,
    ShellStackEmpty,
    TerminalInterrupted,
    UnknownShell,
)
from RemoteProxyLibrary.keywords import RemoteProxyLibrary
from RemoteProxyLibrary.keywords.calls import RemoteCall
from RemoteProxyLibrary.keywords.converters import CONVERTERS, Proxy, Seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(params=[False, True], ids=["plain", "auto_recovery"])
def lib(request):
    """The library; every test using it runs with both kinds of terminal (the
    default of ``auto_recovery``), which go the same way through the engine."""
    library = RemoteProxyLibrary(
        timeout="1 min", prompt_timeout="10 s", auto_recovery=request.param
    )
    yield library
    library.close_all_terminals()


def gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.05)
    return False


# ---- the library class ---------------------------------------------------------------
def test_importing_the_package_does_not_import_robot():
    code = "import sys, RemoteProxyLibrary; print('robot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


def test_robot_finds_the_library_class_by_package_name():
    from robot.libdocpkg import LibraryDocumentation

    doc = LibraryDocumentation("RemoteProxyLibrary")
    names = {kw.name for kw in doc.keywords}
    assert {"Open SSH Terminal", "Run Python", "Call Proxy Method", "Release Proxy"} <= names
    assert doc.scope == "GLOBAL"


def test_only_keywords_are_public():
    keyword_methods = {
        name
        for name, member in inspect.getmembers(RemoteProxyLibrary, inspect.isfunction)
        if hasattr(member, "robot_name")
    }
    public = {
        name
        for name, member in inspect.getmembers(RemoteProxyLibrary(), callable)
        if not name.startswith("_")
    }
    assert public == keyword_methods
    assert len(keyword_methods) == 40


def test_init_opens_nothing_and_takes_time_strings():
    library = RemoteProxyLibrary(timeout="2 min", prompt_timeout=5, auto_recovery=True)
    assert library._settings.timeout == 120
    assert library._settings.prompt_timeout == 5
    assert library._settings.auto_recovery is True
    assert len(library._terminals) == 0


# ---- converters ----------------------------------------------------------------------
def test_seconds_converter():
    convert = CONVERTERS[Seconds]
    assert convert("1 min 30 s") == 90
    assert convert("250 ms") == 0.25
    assert convert(3) == 3
    assert str(Seconds(3600)) == "1 hour"
    with pytest.raises(ValueError):
        convert("soon")


def test_proxy_converter_takes_proxies_and_names_only(lib):
    convert = CONVERTERS[Proxy]
    assert convert("registered name") == "registered name"
    with pytest.raises(ValueError, match="a proxy or the name"):
        convert(42)
    lib.open_local_terminal()
    proxy = lib.evaluate_python("object()")
    assert convert(proxy) is proxy


# ---- terminal registry ---------------------------------------------------------------
def test_indices_aliases_and_switching(lib):
    assert lib.open_local_terminal("a") == 1
    assert lib.open_local_terminal("b") == 2
    assert lib.get_terminal().alias == "b"
    assert lib.switch_terminal("A") == 2  # aliases ignore case and spaces
    assert lib.get_terminal().index == 1
    assert lib.switch_terminal(2) == 1
    assert lib.get_terminal("1").alias == "a"


def test_unknown_alias_error_names_it_and_lists_terminals(lib):
    lib.open_local_terminal("known")
    with pytest.raises(NoSuchTerminal) as info:
        lib.run_python("1", terminal="nosuch")
    expected = "No terminal with index or alias 'nosuch'. Terminals: 1 (alias 'known')."
    assert str(info.value) == expected
    with pytest.raises(NoSuchTerminal, match="'7'"):
        lib.switch_terminal(7)


def test_no_terminal_error(lib):
    with pytest.raises(NoSuchTerminal, match="No open terminal: open one with"):
        lib.run_python("1")


def test_terminal_argument_does_not_switch(lib):
    lib.open_local_terminal("a")
    lib.open_local_terminal("b")
    pid_a = lib.run_python("__import__('os').getpid()", terminal="a")
    pid_b = lib.run_python("__import__('os').getpid()")
    assert pid_a != pid_b
    assert lib.get_terminal().alias == "b"


def test_close_terminal_and_close_all(lib):
    lib.open_local_terminal("a")
    pid_a = lib.run_python("__import__('os').getpid()")
    lib.open_local_terminal("b")
    pid_b = lib.run_python("__import__('os').getpid()")
    lib.close_terminal()
    assert gone(pid_b)
    with pytest.raises(NoSuchTerminal, match="No open terminal"):
        lib.run_python("1")
    with pytest.raises(NoSuchTerminal, match=r"^Terminal 2 \(alias 'b'\) is closed\.$"):
        lib.run_python("1", terminal="b")
    info = lib.get_terminal("b")  # a closed terminal can be asked about
    assert (info.index, info.alias, info.closed, info.python_running) == (2, "b", True, False)
    assert [t.alias for t in lib.get_terminals()] == ["a"]
    assert [t.alias for t in lib.get_terminals(include_closed=True)] == ["a", "b"]
    lib.close_terminal("b")  # closing again does nothing
    assert lib.run_python("__import__('os').getpid()", terminal="a") == pid_a
    lib.close_all_terminals()
    assert gone(pid_a)
    assert lib.open_local_terminal() == 1


def test_python_starts_lazily(lib):
    lib.open_local_terminal()
    assert lib.get_terminal().python_running is False
    assert lib.run_python("6 * 7") == 42
    info = lib.get_terminal()
    assert info.python_running is True
    assert info.round_trips == 1


def test_open_terminal_from_shell_dicts(lib):
    lib.open_terminal({"shellname": "BashShell"}, {"shellname": "PythonShell"}, alias="py")
    assert lib.get_terminal().shells == ("BashShell", "PythonShell(python3)")
    assert lib.run_python("1 + 1") == 2
    with pytest.raises(UnknownShell, match="'Nope'"):
        lib.open_terminal({"shellname": "Nope"})
    with pytest.raises(ValueError, match="at least one"):
        lib.open_terminal()


def test_push_and_pop_shell_restart_python_and_empty_the_registry(lib):
    lib.open_local_terminal()
    lib.import_remote_module("os")
    lib.get_proxy("os")
    outer = lib.run_python("os.getpid()")
    lib.push_shell("BashShell")
    assert lib.get_terminal().proxies == ()
    inner = lib.run_python("os.getpid()")  # os is imported again
    assert inner != outer
    assert lib.pop_shell() == "BashShell"
    with pytest.raises(ShellStackEmpty, match="use Close Terminal"):
        lib.pop_shell()


# ---- python and proxies --------------------------------------------------------------
def test_run_and_evaluate_python(lib):
    lib.open_local_terminal()
    assert lib.run_python("x = 2", "y = x * 3") is None
    assert lib.run_python("y") == 6
    assert lib.evaluate_python("[y]") == [6]
    proxy = lib.evaluate_python("type('T', (), {'v': 5})()", "thing")
    assert lib.get_proxy_attribute("thing", "v") == 5
    assert lib.get_terminal().proxies == ("thing",)
    assert lib.get_proxy_attribute(proxy, "v") == 5


def test_remote_exceptions(lib):
    lib.open_local_terminal()
    with pytest.raises(ZeroDivisionError):
        lib.run_python("1/0")
    lib.import_remote_module("json")
    with pytest.raises(RemoteError, match="JSONDecodeError"):
        lib.call_remote_function("json.loads", "not json")


def test_proxy_registry_names_and_errors(lib):
    lib.open_local_terminal("one")
    lib.import_remote_module("os")
    os_proxy = lib.get_proxy("os")
    assert lib.call_proxy_method("os", "getpid") == lib.call_proxy_method(os_proxy, "getpid")
    lib.register_proxy(os_proxy, "operating system")
    assert lib.get_terminal().proxies == ("os", "operating system")
    with pytest.raises(NoSuchProxy) as info:
        lib.get_local_value("nosuch")
    assert str(info.value) == (
        "No proxy named 'nosuch' in terminal 1 (alias 'one'). Registered: 'os', 'operating system'."
    )


def test_proxy_object_works_whatever_the_current_terminal(lib):
    lib.open_local_terminal("one")
    thing = lib.evaluate_python("__import__('types').SimpleNamespace(v=1)")
    lib.close_terminal("one")
    lib.open_local_terminal("two")
    lib.close_terminal("two")
    with pytest.raises(InvalidProxySession):  # its own terminal is closed
        lib.get_proxy_attribute(thing, "v")


def test_set_and_get_attribute_and_local_value(lib):
    lib.open_local_terminal()
    thing = lib.evaluate_python("__import__('types').SimpleNamespace(v=1)")
    lib.set_proxy_attribute(thing, "v", [1, 2])
    assert lib.get_proxy_attribute(thing, "v") == [1, 2]
    lib.run_python("data = {'a': (1, 2)}")
    lib.get_proxy("data")
    assert lib.get_local_value("data") == {"a": (1, 2)}


def test_async_calls(lib):
    lib.open_local_terminal()
    lib.import_remote_module("time", "subprocess")
    call = lib.start_remote_function_call("time.sleep", 0.3)
    assert isinstance(call, RemoteCall)
    assert lib.run_python("'meanwhile'") == "meanwhile"
    assert lib.get_call_response(call) is None
    process = lib.get_proxy_from_call("subprocess.Popen", ["sleep", "30"])
    call = lib.start_proxy_method_call(process, "wait")
    with pytest.raises(TimeoutError, match="can be asked for again"):
        lib.get_call_response(call, Seconds(0.1))
    lib.call_proxy_method(process, "kill")
    assert lib.get_call_response(call) == -signal.SIGKILL
    assert lib.get_call_response(call) == -signal.SIGKILL
    with pytest.raises(TypeError, match="Start Remote Function Call"):
        lib.get_call_response("nope")


def test_release_proxy(lib):
    lib.open_local_terminal()
    count = "sum(1 for k in globals() if k.startswith('_rpl_h'))"
    before = lib.run_python(count)
    proxy = lib.evaluate_python("object()", "obj")
    assert lib.run_python(count) == before + 1
    lib.release_proxy("obj")
    assert lib.run_python(count) == before
    assert lib.get_terminal().proxies == ()
    with pytest.raises(InvalidProxySession, match=r"proxy _rpl_h\d+ of object was released"):
        lib.get_proxy_attribute(proxy, "x")


def test_keywords_make_one_round_trip(lib):
    lib.open_local_terminal()
    lib.import_remote_module("os")
    os_proxy = lib.get_proxy("os")

    def trips():
        return lib.get_terminal().round_trips

    before = trips()
    lib.call_proxy_method("os", "getpid")
    lib.call_proxy_method(os_proxy, "getcwd")
    lib.get_proxy_attribute(os_proxy, "sep")
    assert trips() - before == 3


# ---- interruptions (Robot timeouts) and recovery ---------------------------------------
class Interrupted(BaseException):
    """Stands for robot.errors.TimeoutExceeded (a BaseException)."""


@pytest.fixture
def interrupt_after():
    """Raise Interrupted in the main thread after some seconds, as Robot does."""

    def raise_interrupted(*_):
        raise Interrupted()

    def arm(seconds: float) -> None:
        signal.signal(signal.SIGALRM, raise_interrupted)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    yield arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)


def test_interrupted_remote_call_leaves_the_terminal_usable(lib, interrupt_after):
    lib.open_local_terminal()
    lib.import_remote_module("time")
    interrupt_after(0.2)
    with pytest.raises(Interrupted):
        lib.run_python("time.sleep(10)")
    assert lib.run_python("1 + 1") == 2


def test_interrupted_python_start_refuses_further_use(lib, interrupt_after):
    lib.open_local_terminal("slow", python="sleep 2; python3", auto_recovery=False)
    interrupt_after(0.1)
    with pytest.raises(Interrupted):
        lib.run_python("1")
    with pytest.raises(TerminalInterrupted, match="interrupted while starting Python"):
        lib.run_python("1")
    start = time.monotonic()
    lib.close_terminal()
    assert time.monotonic() - start < 2


def test_interrupted_python_start_on_an_auto_terminal_reopens_it(lib, interrupt_after):
    lib.open_local_terminal("slow", python="sleep 1; python3", auto_recovery=True)
    interrupt_after(0.1)
    with pytest.raises(Interrupted):
        lib.run_python("1")
    assert lib.run_python("2") == 2


def test_a_plain_terminal_whose_python_died_stays_broken_and_says_what_to_do(lib):
    lib.open_local_terminal(auto_recovery=False)
    pid = lib.run_python("__import__('os').getpid()")
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(RunnerTerminalSessionBroken):
        lib.run_python("1")  # finds out now
    start = time.monotonic()
    with pytest.raises(RunnerTerminalSessionBroken, match="does not reopen it"):
        lib.run_python("1")
    assert time.monotonic() - start < 1
    assert lib.get_terminal().python_running is False


def test_auto_recovery_after_killed_python(lib):
    lib.open_local_terminal(auto_recovery=True)
    assert lib.get_terminal().python_running is False
    lib.import_remote_module("os")
    pid = lib.run_python("os.getpid()")
    os.kill(pid, signal.SIGKILL)
    assert lib.run_python("os.getpid()") != pid


def test_auto_recovery_evaluate_python_is_tried_again(lib, tmp_path):
    lib.open_local_terminal(auto_recovery=True)
    lib.import_remote_module("os")
    pid = lib.run_python("os.getpid()")
    os.kill(pid, signal.SIGKILL)  # broken between keywords: reopened first
    assert lib.evaluate_python("os.getpid()") != pid
    # broken during the call: the first Python kills itself, the call is run
    # again on a new one and its proxy works
    marker = str(tmp_path / "killed-once")
    proxy = lib.evaluate_python(
        f"__import__('types').SimpleNamespace(pid=os.getpid()) if os.path.exists({marker!r}) "
        f"else (open({marker!r}, 'w').close(), os.kill(os.getpid(), 9))",
        "survivor",
    )
    assert os.path.exists(marker)
    assert lib.get_proxy_attribute("survivor", "pid") == lib.run_python("os.getpid()")
    assert lib.get_proxy_attribute(proxy, "pid") == lib.run_python("os.getpid()")


def test_set_proxy_timeout_none_is_the_terminal_timeout(lib):
    lib.open_local_terminal()  # the fixture's timeout 1 min, prompt_timeout 10 s
    proxy = lib.evaluate_python("object()")
    lib.set_proxy_timeout(proxy, Seconds(5))
    assert proxy._rpl_effective_timeout() == 5
    lib.set_proxy_timeout(proxy, None)
    assert proxy._rpl_effective_timeout() == 60


def test_auto_recovery_interrupted_push_reopens(lib):
    lib.configure_auto_recovery(max_tries=2, sleep_between_tries=Seconds(0.1))
    lib.open_local_terminal()
    assert lib.get_terminal().auto_recovery is True
    lib.push_shell({"shellname": "PythonShell"})
    entry = lib._entry()
    entry._interrupted = "pushing PythonShell(python3)"  # as a Robot timeout leaves it
    assert lib.run_python("1") == 1
    assert lib.get_terminal().shells == ("BashShell", "PythonShell(python3)")


# ---- listener --------------------------------------------------------------------------
def test_listener_closes_terminals_at_the_end_of_the_top_suite(lib):
    lib.open_local_terminal()
    pid = lib.run_python("__import__('os').getpid()")
    listener = lib.ROBOT_LIBRARY_LISTENER
    listener.end_suite(SimpleNamespace(parent=object()), None)  # a child suite
    assert os.path.exists(f"/proc/{pid}")
    listener.end_suite(SimpleNamespace(parent=None), None)
    assert gone(pid)
    listener.close()  # nothing left: no error


def test_terminals_left_open_are_closed_when_robot_ends(tmp_path):
    suite = tmp_path / "open.robot"
    pid_file = tmp_path / "pid"
    suite.write_text(
        textwrap.dedent(
            f"""\
            *** Settings ***
            Library    RemoteProxyLibrary

            *** Test Cases ***
            Leave A Terminal Open
                Open Local Terminal
                ${{pid}} =    Run Python    __import__('os').getpid()
                Evaluate    pathlib.Path(r'{pid_file}').write_text(str($pid))    modules=pathlib
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "robot", "--output", "NONE", "--log", "NONE", "--report", "NONE",
         str(suite)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert gone(int(pid_file.read_text()))


def test_review_findings_of_the_keyword_layer(lib):
    lib.open_local_terminal()
    with pytest.raises(ValueError, match="Run Python got no code"):
        lib.run_python()
    proxy = lib.evaluate_python("[1, object()]")
    assert lib.call_proxy_method(proxy, "__repr__").startswith("[1, <object object at")
    assert lib.call_proxy_method(proxy, "__len__") == 2
    lib.get_proxy("os")
    lib.push_shell("BashShell")
    with pytest.raises(InvalidProxySession, match="made by a Python that has ended"):
        lib.call_proxy_method("os", "getpid")
    lib.import_remote_module("time")
    call = lib.start_remote_function_call("time.sleep", 5)
    lib.close_terminal()
    with pytest.raises(Exception) as raised:
        lib.get_call_response(call, timeout=Seconds(2))
    assert "closed" in str(raised.value) and "prompt came back" not in str(raised.value)
