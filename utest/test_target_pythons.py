"""The agent runs on every target Python of this machine: 2.7 and every 3.x
from 3.6 on (``resources/targetpythons.py`` finds them; a Python that is not
there is skipped saying so). Each test below runs on each of them, through a
real pty: values both ways, proxies, async calls, remote exceptions, a 10 MB
fetch, commands and files, garbage and the heartbeat, recovery after the
agent was killed. On 2.7 values follow the mapping of ``docs/PROTOCOL.md``
(a native ``str`` is text, ``unicode`` is text, ``long`` is an int;
``bytearray`` or the agent's own data are bytes)."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import paths
import pytest
from targetpythons import NO_PYTHON27, python27, pythons3

from RemoteProxyLibrary import (
    BashShell,
    InteractiveSession,
    PythonShell,
    RemoteError,
    RemoteTimeout,
    RunnerTerminal,
)
from RemoteProxyLibrary.errors import CommandTimeout
from RemoteProxyLibrary.recovery.autorunnerterminal import AutoRunnerTerminal


def _name(path: str) -> str:
    parts = path.split("/")
    return parts[-3] if "versions" in parts else os.path.basename(path)


def _params() -> list:
    params = [pytest.param(path, id=_name(path)) for path in pythons3()]
    if not params:
        params.append(
            pytest.param(None, id="3.x", marks=pytest.mark.skip(reason="no Python 3.6+ here"))
        )
    path = python27()
    if path is None:
        params.append(pytest.param(None, id="2.7", marks=pytest.mark.skip(reason=NO_PYTHON27)))
    else:
        params.append(pytest.param(path, id=_name(path)))
    return params


PYTHONS = _params()


@dataclass
class Target:
    """A runner whose agent runs in ``python`` (major version ``major``)."""

    python: str
    runner: RunnerTerminal
    session: InteractiveSession
    major: int


@pytest.fixture(scope="module", params=PYTHONS)
def target(request) -> Iterator[Target]:
    python = request.param
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10, python=python)
    runner.initialize(session)
    major = runner.run_python("__import__('sys').version_info[0]")
    yield Target(python, runner, session, major)
    runner.close()
    session.close_terminal()


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("via", ["shell", "python-shell"])
def test_agent_on_target_python(python, via, tmp_path):
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    if via == "python-shell":
        session.push(PythonShell(timeout=10, python=python))
    runner = RunnerTerminal(prompt_timeout=10, python=python)
    runner.initialize(session)
    version = runner.run_python("__import__('sys').version_info[:2]")
    assert f"/{version[0]}.{version[1]}" in python or f"python{version[0]}" in python
    assert runner.path == paths.expected(True)  # the direct channel on 2.7 too
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


TEXT = "añ€😀\u0000x"


def test_values_cross_both_ways(target):
    runner = target.runner
    sent = [TEXT, b"\x00\xff", bytearray(b"\x00\xfe"), 2**100, -(2**70), 7, 1.5, None, True]
    sent += [(1, [2, {3: "c"}]), {"k": {"v"}}, frozenset([4]), complex(1, 2)]
    types = runner.run_python_call("lambda *a: [type(x).__name__ for x in a]", *sent)
    back = runner.run_python_call("lambda *a: a", *sent)
    if target.major == 2:
        # text is unicode, bytes a native str, a big int a long (see compat)
        assert types[:6] == ["unicode", "str", "bytearray", "long", "long", "int"]
        # a native str comes back as text: its bytes as UTF-8, others escaped
        assert back[1] == "\x00\udcff" and back[1].encode("utf-8", "surrogateescape") == sent[1]
        assert back[:1] + back[2:] == tuple(sent[:1] + sent[2:])
    else:
        assert types[:6] == ["str", "bytes", "bytearray", "int", "int", "int"]
        assert back == tuple(sent)
    # non-ASCII text both ways, and text made there
    assert runner.run_python_call("lambda s: s + u'\\u20ac'", "ä") == "ä€"
    assert runner.run_python("u'\\xe4\\U0001f600'") == "ä😀"
    # what the older library gave back for a native string: a str
    assert runner.run_python("'abc'") == "abc"
    assert runner.run_python("'abc'.upper() + str(42)") == "ABC42"
    if target.major == 2:
        assert runner.run_python("'\\xc3\\xa4'") == "ä"  # UTF-8 bytes read as text
        assert runner.run_python("'\\xff'") == "\udcff"  # other bytes kept as escapes
        assert runner.run_python("bytearray(b'\\x00\\xff')") == bytearray(b"\x00\xff")
        assert runner.run_python("10**30") == 10**30 and runner.run_python("5L") == 5
    else:
        assert runner.run_python("b'\\x00\\xff'") == b"\x00\xff"
    # plain data values of the standard library
    runner.import_libraries("datetime", "decimal", "uuid", "collections")
    when = runner.run_python("datetime.datetime(2024, 2, 29, 1, 2, 3, 4)")
    assert when.isoformat() == "2024-02-29T01:02:03.000004"
    assert str(runner.run_python("decimal.Decimal('-1.50E+7')")) == "-1.50E+7"
    assert runner.run_python("uuid.UUID(int=5)").int == 5
    job = runner.run_python("collections.namedtuple('Job', 'pid args')(7, ['x'])")
    assert (type(job).__name__, job.pid, job.args) == ("Job", 7, ["x"])
    assert runner.run_python_call("lambda d: (d.year, d.day)", when) == (2024, 29)


def test_recursive_proxy_chain(target):
    runner = target.runner
    runner.import_libraries("os", "collections")
    os_proxy = runner.get_recursive_proxy("os")
    assert os_proxy.path.join("a", "b") == "a/b"
    assert os_proxy.path.basename(os_proxy.path.join("x", "ü")) == "ü"
    collections = runner.get_recursive_proxy("collections")
    counts = collections.OrderedDict()
    counts["k"] = 1
    counts["l"] = counts["k"] + 1
    assert len(counts) == 2 and counts["l"] == 2 and "k" in counts
    runner.run_python("class Box(object):\n    def __init__(self, v): self.v = v\n")
    runner.run_python("Box.inner = lambda self: Box(self.v * 2)")
    box = runner.get_proxy_object_from_call("Box", 21)
    assert box.inner().v == 42


def test_async_calls_and_timeouts(target):
    runner = target.runner
    runner.import_libraries("time")
    time_proxy = runner.get_recursive_proxy("time")
    time_proxy.remote_proxy_use_asynchronous_response()
    start = time.monotonic()
    handles = [time_proxy.sleep(0.5) for _ in range(20)]
    assert all(isinstance(handle, RemoteTimeout) for handle in handles)
    assert [time_proxy.get_remote_proxy_response(h, timeout=10) for h in handles] == [None] * 20
    assert time.monotonic() - start < 3  # side by side, in worker threads
    with pytest.raises(RemoteTimeout) as info:
        runner.run_python("time.sleep(0.5) or 'late'", timeout=0.05)
    assert runner.run_python("'meanwhile'") == "meanwhile"
    assert runner.get_response(info.value.response_id, timeout=5) == "late"


def test_remote_exceptions(target):
    runner = target.runner
    with pytest.raises(KeyError) as key_error:
        runner.run_python("{}['missing']")
    assert key_error.value.args == ("missing",)
    assert 'File "<remote>"' in key_error.value.remote_traceback
    assert "rpl" not in key_error.value.remote_traceback  # the agent's frames are left out
    # 2.7's IOError is an OSError here, errno and file name kept
    with pytest.raises(FileNotFoundError) as missing:
        runner.run_python("open('/nonexistent/x')")
    assert (missing.value.errno, missing.value.filename) == (2, "/nonexistent/x")
    runner.run_python("class Odd(Exception):\n    pass\n")
    with pytest.raises(RemoteError) as odd:
        runner.run_python("error = Odd('bad ü')\nerror.code = 5\nraise error")
    assert (odd.value.remote_type, odd.value.remote_message) == ("__rpl__.Odd", "bad ü")
    assert odd.value.code == 5 and "line 3" in odd.value.remote_traceback
    with pytest.raises(RemoteError):
        runner.run_python("raise SystemExit(4)")
    assert runner.run_python("1+1") == 2


def test_a_10_mb_fetch(target, tmp_path):
    runner = target.runner
    runner.import_libraries("os", "hashlib")
    size = 10 << 20
    expression = "bytearray(os.urandom(%d))" if target.major == 2 else "os.urandom(%d)"
    start = time.monotonic()
    data = runner.run_python(expression % size, timeout=60)
    assert len(data) == size and bytes(data) != b"\x00" * size
    text = runner.run_python(f"'x' * {size}", timeout=60)  # a native str of 10 MB
    assert text == "x" * size
    source = tmp_path / "big"
    runner.run_python_call("lambda p, n: open(p, 'wb').write(os.urandom(n))", str(source), size)
    result = runner.files.get(str(source), str(tmp_path / "copy"))
    assert result.size == size
    assert hashlib.sha256((tmp_path / "copy").read_bytes()).hexdigest() == hashlib.sha256(
        source.read_bytes()
    ).hexdigest()
    assert time.monotonic() - start < 60


def test_commands_and_files(target, tmp_path):
    runner = target.runner
    result = runner.commands.run(
        "cat; printf 'é\\377' >&2; exit 3", stdin=b"in\xff", timeout=10, text=False
    )
    assert (result.rc, result.stdout, result.stderr) == (3, b"in\xff", "é".encode() + b"\xff")
    assert runner.commands.run("printf %s \"$X\"", env={"X": "ü"}, timeout=10).stdout == "ü"
    # names that are not UTF-8 (surrogate escapes) land as the same bytes
    name = os.fsdecode(b"caf\xe9-\xc3\xa4")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / name).write_bytes(b"x" * 1000)
    os.symlink(name, tmp_path / "src" / "link")
    runner.files.put(str(tmp_path / "src" / name), str(tmp_path / "put-ü"))
    assert (tmp_path / "put-ü").read_bytes() == b"x" * 1000
    runner.files.put_directory(str(tmp_path / "src"), str(tmp_path / "tree"))
    assert sorted(os.listdir(tmp_path / "tree")) == sorted([name, "link"])
    assert os.readlink(tmp_path / "tree" / "link") == name
    runner.files.get_directory(str(tmp_path / "tree"), str(tmp_path / "back"))
    assert (tmp_path / "back" / name).read_bytes() == b"x" * 1000
    # a source named as a link is followed; one that cannot be says so
    runner.files.get(str(tmp_path / "src" / "link"), str(tmp_path / "got"))
    assert not os.path.islink(tmp_path / "got")
    assert (tmp_path / "got").read_bytes() == b"x" * 1000
    os.symlink("nowhere", tmp_path / "dangling")
    with pytest.raises(OSError, match="source is a symbolic link to 'nowhere', which cannot be "
                       "followed on the target"):  # fmt: skip
        runner.files.get(str(tmp_path / "dangling"), str(tmp_path / "x"))
    with pytest.raises(OSError, match="its working directory cannot be entered"):
        runner.commands.run("true", cwd=str(tmp_path / "no-such-dir"), timeout=10)
    with pytest.raises(CommandTimeout, match="exited with rc 5, but a process it started still "
                       "held its output open"):  # fmt: skip
        runner.commands.run("sleep 3133.625 & exit 5", timeout=1)


def test_garbage_and_the_heartbeat(target):
    runner = target.runner
    handles = "sorted(k for k in globals() if k.startswith('_rpl_h'))"
    before = runner.run_python(handles)
    proxies = [runner.get_proxy_object_from_call("object") for _ in range(5)]
    assert len(runner.run_python(handles)) == len(before) + 5
    del proxies
    runner.run_python("1")  # the dropped handles ride along with a request
    assert runner.run_python(handles) == before
    # a call holding the GIL past the liveness budget: heartbeats keep it alive
    runner.liveness_interval = 0.5
    runner.liveness_timeout = 1.0
    runner.import_libraries("ctypes")
    beats = runner.connection.heard_heartbeats
    assert runner.run_python("ctypes.PyDLL(None).sleep(3)") == 0
    assert runner.connection.heard_heartbeats - beats >= 1
    assert runner.run_python("1+1") == 2


@pytest.mark.parametrize("python", PYTHONS)
def test_recovery_after_the_agent_is_killed(python):
    runner = AutoRunnerTerminal(prompt_timeout=10, python=python)
    runner.liveness_interval = 1.0
    runner.liveness_timeout = 2.0
    runner.initialize_with_shells(
        [BashShell(timeout=10)], lambda: runner.import_libraries("os"), sleep_between_tries=0.2
    )
    try:
        os_proxy = runner.get_recursive_proxy("os")
        pid = os_proxy.getpid()
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        new_pid = runner.run_python("os.getpid()")
        assert new_pid != pid and time.monotonic() - start < 5
        assert runner.get_recursive_proxy("os").path.join("a", "b") == "a/b"
    finally:
        runner.close()
