"""Many terminals at once on local ptys: the engine's helpers
(``recovery.parallel``) and the keywords (``Open Terminals``,
``Run Python On Terminals``, ``Call Remote Function On Terminals``); every
failure is reported together. Through SSH hosts: ``test_lab_many.py``."""

from __future__ import annotations

import threading
import time

import pytest

from RemoteProxyLibrary import BashShell, ParallelError, ShellError
from RemoteProxyLibrary.keywords import RemoteProxyLibrary
from RemoteProxyLibrary.recovery.parallel import (
    call_on_runners,
    in_parallel,
    open_runners,
    run_python_on_runners,
)

BASH = {"shellname": "BashShell"}
BROKEN = {"shellname": "BashShell", "shell": "no-such-shell -i"}


@pytest.fixture
def lib():
    library = RemoteProxyLibrary(timeout="1 min", prompt_timeout="10 s")
    yield library
    library.close_all_terminals()


def local(alias: str, *extra: dict) -> dict:
    return {"shells": [BASH, *extra], "alias": alias}


# ---- the engine ------------------------------------------------------------------------
def test_in_parallel_runs_the_tasks_at_once_and_keeps_their_order():
    barrier = threading.Barrier(5, timeout=5)  # every task waits for all the others

    def task(n: int):
        return lambda: (barrier.wait(), n * n)[1]

    assert in_parallel({f"t{n}": task(n) for n in range(5)}) == {
        "t0": 0,
        "t1": 1,
        "t2": 4,
        "t3": 9,
        "t4": 16,
    }
    assert in_parallel({}) == {}


def test_in_parallel_reports_every_failure_after_all_ended():
    ended = []

    def fail(n: int):
        def run():
            time.sleep(0.05 * n)
            ended.append(n)
            if n % 2:
                raise KeyError(f"number {n}")
            return n

        return run

    with pytest.raises(ParallelError) as info:
        in_parallel({n: fail(n) for n in range(4)}, max_parallel=2, doing="counting")
    error = info.value
    assert sorted(ended) == [0, 1, 2, 3]
    assert error.results == {0: 0, 2: 2}
    assert list(error.errors) == [1, 3] and isinstance(error.errors[1], KeyError)
    assert str(error) == (
        "counting: 2 of 4 failed:\n  1: KeyError: 'number 1'\n  3: KeyError: 'number 3'"
    )


def test_open_runners_and_call_them_all():
    prepared = []
    runners = open_runners(
        {name: [BashShell(timeout=10)] for name in ("a", "b", "c")},
        prompt_timeout=10,
        prepare=lambda key, runner: prepared.append((key, runner.import_libraries("json"))),
    )
    try:
        assert sorted(key for key, _ in prepared) == ["a", "b", "c"]
        pids = run_python_on_runners(runners, "os.getpid()")
        assert list(pids) == ["a", "b", "c"] and len(set(pids.values())) == 3
        assert call_on_runners(
            runners, "json.dumps", [1, 2], separators=(",", ":")
        ) == dict.fromkeys("abc", "[1,2]")
        runners["b"].run_python("only_here = 7")
        with pytest.raises(ParallelError) as info:
            run_python_on_runners(runners, "only_here")
        assert info.value.results == {"b": 7}
        assert set(info.value.errors) == {"a", "c"}
        assert all(isinstance(e, NameError) for e in info.value.errors.values())
    finally:
        for runner in runners.values():
            runner.close()


def test_open_runners_names_each_failure_and_closes_the_others():
    stacks = {
        "good": [BashShell(timeout=10)],
        "bad": [BashShell(timeout=5, shell="no-such-shell -i")],
        "worse": [BashShell(timeout=5, shell="no-such-shell-either -i")],
    }
    with pytest.raises(ParallelError) as info:
        open_runners(stacks, prompt_timeout=10)
    error = info.value
    assert list(error.errors) == ["bad", "worse"] and list(error.results) == ["good"]
    assert all(isinstance(e, ShellError) for e in error.errors.values())
    assert str(error).startswith("opening the terminals: 2 of 3 failed:\n  bad: ")
    assert "\n  worse: " in str(error)


# ---- the keywords ----------------------------------------------------------------------
def test_open_terminals_opens_all_starts_python_and_registers_them_in_order(lib):
    indices = lib.open_terminals(local("a"), local("b"), {"shells": [BASH]}, python="python3")
    assert indices == {"a": 1, "b": 2, 3: 3}
    infos = lib.get_terminals()
    assert [info.alias for info in infos] == ["a", "b", None]
    assert all(info.python_running and info.python == "python3" for info in infos)
    assert lib.get_terminal().index == 3  # the last one is the current terminal


def test_run_python_on_terminals_gives_values_by_alias_or_index(lib):
    lib.open_terminals(local("a"), local("b"), {"shells": [BASH]})
    pids = lib.run_python_on_terminals("os.getpid()")
    assert list(pids) == ["a", "b", 3] and len(set(pids.values())) == 3
    assert lib.run_python_on_terminals("os.getpid()", terminals=["b", 3]) == {
        "b": pids["b"],
        3: pids[3],
    }
    joined = lib.call_remote_function_on_terminals("os.path.join", "x", "y", terminals=["a"])
    assert joined == {"a": "x/y"}


def test_the_calls_run_at_once(lib):
    lib.open_terminals(*(local(name) for name in "abcd"))
    started = time.monotonic()
    lib.run_python_on_terminals("__import__('time').sleep(1.5)")
    assert time.monotonic() - started < 4.5  # one after the other: 6 s


def test_failures_on_some_terminals_are_reported_together(lib):
    lib.open_terminals(local("a"), local("b"), local("c"))
    lib.run_python("value = 10", terminal="b")
    with pytest.raises(ParallelError) as info:
        lib.run_python_on_terminals("value // 2")
    message = str(info.value)
    assert message.startswith("Run Python On Terminals: 2 of 3 failed:\n  a: NameError: ")
    assert "\n  c: NameError: " in message
    assert info.value.results == {"b": 5}
    with pytest.raises(ParallelError, match=r"\(divmod\): 3 of 3 failed:\n  a: TypeError"):
        lib.call_remote_function_on_terminals("divmod", "7", 2)


def test_open_terminals_names_the_targets_that_failed_and_keeps_the_others(lib):
    with pytest.raises(ParallelError) as info:
        lib.open_terminals(local("a"), local("bad", BROKEN), local("c"))
    message = str(info.value)
    assert message.startswith("Open Terminals: 1 of 3 failed (the others are open):\n  bad: ")
    assert "no-such-shell" in message
    assert info.value.results == {"a": 1, "c": 2}
    assert [info.alias for info in lib.get_terminals()] == ["a", "c"]
    assert lib.run_python_on_terminals("1 + 1") == {"a": 2, "c": 2}


def test_open_terminals_checks_its_targets_before_opening_any(lib):
    lib.open_local_terminal("a")
    with pytest.raises(ValueError, match="Alias 'a' is already used"):
        lib.open_terminals(local("b"), local("a"))
    with pytest.raises(ValueError, match="alias 'b' is given twice"):
        lib.open_terminals(local("b"), local("b"))
    with pytest.raises(ValueError, match=r"unknown keys colour in target"):
        lib.open_terminals({"host": "10.0.0.2", "colour": "red"})
    with pytest.raises(ValueError, match="'host' or 'shells', not both"):
        lib.open_terminals({"host": "10.0.0.2", "shells": [BASH]})
    assert [info.alias for info in lib.get_terminals()] == ["a"]


def robot_call(lib, method, *args, **kwargs):
    """``method`` of ``lib`` with its arguments converted as Robot converts them."""
    from robot.running.arguments import PythonArgumentParser
    from robot.running.arguments.customconverters import CustomArgumentConverters

    from RemoteProxyLibrary.keywords.converters import CONVERTERS

    bound = getattr(lib, method)
    spec = PythonArgumentParser().parse(bound, method)
    converters = CustomArgumentConverters.from_dict(CONVERTERS)
    positional, named = spec.convert(list(args), list(kwargs.items()), converters)
    return bound(*positional, **dict(named))


def test_terminals_may_be_one_alias_or_index_or_a_list_of_them(lib):
    lib.open_terminals(local("d1"), local("d2"), {"shells": [BASH]})
    pids = lib.run_python_on_terminals("os.getpid()")
    assert robot_call(lib, "run_python_on_terminals", "os.getpid()", terminals="d1") == {
        "d1": pids["d1"]
    }
    assert robot_call(lib, "run_python_on_terminals", "os.getpid()", terminals="3") == {3: pids[3]}
    assert robot_call(lib, "call_remote_function_on_terminals", "os.getpid",
                      terminals="['d2', 3]") == {"d2": pids["d2"], 3: pids[3]}  # fmt: skip
    assert robot_call(lib, "call_remote_function_on_terminals", "os.getpid",
                      terminals=["d1", "2"]) == {"d1": pids["d1"], "d2": pids["d2"]}  # fmt: skip
    with pytest.raises(ValueError, match="cannot be converted to Terminals"):
        robot_call(lib, "run_python_on_terminals", "1", terminals="['d1', 2.5]")
    with pytest.raises(ValueError, match=r"no terminal \(none is open, or none was given\)"):
        robot_call(lib, "run_python_on_terminals", "1", terminals="")


def test_on_failure_continue_gives_the_errors_as_text_with_the_other_results(lib):
    lib.open_terminals(local("a"), local("b"), local("c"))
    lib.run_python("value = 10", terminal="b")
    results = robot_call(lib, "run_python_on_terminals", "value // 2", on_failure="continue")
    assert results == {
        "a": "NameError: name 'value' is not defined",
        "b": 5,
        "c": "NameError: name 'value' is not defined",
    }
    assert list(results) == ["a", "b", "c"]  # in the terminals' order
    results = lib.call_remote_function_on_terminals(
        "divmod", 7, "value", terminals=["b", "c"], on_failure="continue"
    )
    assert list(results) == ["b", "c"]
    assert all(text.startswith("TypeError: unsupported operand") for text in results.values())
    assert robot_call(lib, "run_python_on_terminals", "1", on_failure="continue") == dict.fromkeys(
        "abc", 1
    )
    with pytest.raises(ValueError, match="cannot be converted to 'fail' or 'continue'"):
        robot_call(lib, "run_python_on_terminals", "1", on_failure="ignore")
    with pytest.raises(ValueError, match="on_failure is fail or continue, not 'ignore'"):
        lib.run_python_on_terminals("1", on_failure="ignore")
    with pytest.raises(ParallelError, match="1 of 1 failed"):  # the default: fail
        lib.run_python_on_terminals("value", terminals="a")


def test_open_terminals_on_failure_continue_gives_the_indices_and_the_errors(lib):
    opened = robot_call(lib, "open_terminals", local("a"), local("bad", BROKEN), local("c"),
                        on_failure="continue")  # fmt: skip
    assert list(opened) == ["a", "bad", "c"]
    assert opened["a"] == 1 and opened["c"] == 2
    assert opened["bad"].startswith("ShellError: ") and "no-such-shell" in opened["bad"]
    assert [info.alias for info in lib.get_terminals()] == ["a", "c"]


def test_a_function_whose_module_was_not_imported_says_to_import_it(lib):
    lib.open_terminals(local("a"), local("b"))
    hint = "(import modules first with 'Import Remote Module'; only os and sys are there"
    with pytest.raises(ParallelError) as info:
        lib.call_remote_function_on_terminals("socket.gethostname")
    message = str(info.value)
    assert message.startswith(
        "Call Remote Function On Terminals (socket.gethostname): 2 of 2 failed:\n"
        "  a: NameError: name 'socket' is not defined " + hint
    )
    assert all(isinstance(e, NameError) for e in info.value.errors.values())
    with pytest.raises(NameError, match=r"name 'json' is not defined \(import modules first"):
        lib.call_remote_function("json.dumps", [1], terminal="b")
    # a NameError inside the function is not about its import
    lib.run_python("def broken():\n    return undefined_name", terminal="b")
    with pytest.raises(NameError) as raised:
        lib.call_remote_function("broken", terminal="b")
    assert str(raised.value) == "name 'undefined_name' is not defined"
    lib.run_python_on_terminals("import socket")
    names = lib.call_remote_function_on_terminals("socket.gethostname", terminals="a")
    assert names == {"a": lib.run_python("socket.gethostname()", terminal="a")}
