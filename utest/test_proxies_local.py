"""Transparent proxies against a real python3 in a real local pty."""

from __future__ import annotations

import gc
import threading
import time
from fractions import Fraction

import pytest

from RemoteProxyLibrary import (
    BashShell,
    InteractiveSession,
    InvalidProxySession,
    RemoteTimeout,
)
from RemoteProxyLibrary.remoteproxies import _RecursiveProxy, _RemoteProxy
from RemoteProxyLibrary.runnerterminal import RunnerTerminal


@pytest.fixture
def runner():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(prompt_timeout=10)
    runner.initialize(session)
    runner.import_libraries("os", "os.path", "subprocess", "collections", "time", "threading")
    yield runner
    runner.close()
    session.close_terminal()


def live_handles(runner):
    return runner.run_python("sum(1 for k in globals() if k.startswith('_rpl_h'))")


def test_recursive_os_path_join_is_two_round_trips(runner):
    os_proxy = runner.get_recursive_proxy("os")
    before = runner.round_trips
    assert os_proxy.path.join("a", "b") == "a/b"
    assert runner.round_trips - before == 2


def test_first_method_call_on_a_proxy_is_one_round_trip(runner):
    runner.run_python("d = collections.OrderedDict(a=1)")
    proxy = runner.get_proxy_object("d", None)
    before = runner.round_trips
    assert proxy.keys() is not None
    assert runner.round_trips - before == 1
    before = runner.round_trips
    proxy.__setitem__("b", 2)  # a known method name, called directly
    assert proxy["b"] == 2
    assert runner.round_trips - before == 2


def test_attribute_get_set_items_len_iter_in(runner):
    runner.run_python("class C: pass")
    obj = runner.get_proxy_or_basic_from_call("C")
    assert isinstance(obj, _RemoteProxy)
    obj.value = 41
    assert obj.value == 41
    recursive = obj.as_recursive_proxy()
    assert isinstance(recursive, _RecursiveProxy)
    data = runner.get_recursive_proxy("collections").deque([1, 2, 3])
    assert isinstance(data, _RecursiveProxy)
    assert len(data) == 3
    assert 2 in data
    assert list(data) == [1, 2, 3]
    data[0] = 10
    assert data[0] == 10
    del data[0]
    assert data.as_local_value() if False else len(data) == 2


def test_missing_attribute_and_key_raise_locally_with_traceback(runner):
    proxy = runner.get_recursive_proxy("os")
    with pytest.raises(AttributeError) as info:
        proxy.no_such_thing  # noqa: B018
    # the agent's own frames are left out: only the error remains here
    assert info.value.remote_traceback == (
        "AttributeError: module 'os' has no attribute 'no_such_thing'\n"
    )
    runner.run_python("def fails():\n    raise ValueError('deep')")
    with pytest.raises(ValueError) as info:
        runner.get_recursive_proxy("fails")()
    text = info.value.remote_traceback
    assert text.startswith("Traceback (most recent call last):\n")
    assert 'File "<remote>", line 2, in fails' in text
    assert "rpl" not in text and "agent" not in text
    mapping = runner.get_proxy_object_from_call("dict", a=1)
    with pytest.raises(KeyError):
        mapping["nope"]
    assert mapping["a"] == 1


def test_proxy_as_argument_arrives_as_the_object(runner):
    pipe = runner.run_python("subprocess.PIPE")
    assert pipe == -1
    popen = runner.get_proxy_object_from_call(
        "subprocess.Popen", ["sh", "-c", "echo hi"], stdout=pipe
    )
    stdout, _ = popen.communicate()
    assert stdout == b"hi\n"
    lst = runner.get_proxy_object_from_call("list")
    lst.append(popen)
    assert runner.run_python(f"{lst.get_proxy_handle()}[0] is {popen.get_proxy_handle()}") is True


def test_repr_and_str_are_local(runner):
    proxy = runner.get_proxy_object_from_call("threading.Lock")
    before = runner.round_trips
    text = repr(proxy)
    assert str(proxy) == text
    assert "lock" in text.lower() and "_rpl_h" in text
    assert runner.round_trips == before
    assert "locked" in proxy.get_remote_repr()


NUMBER_CLASS = """
class Number:
    def __init__(self, n):
        self.n = n
    def __add__(self, other):
        return Number(self.n + getattr(other, "n", other))
    def __rsub__(self, other):
        return Number(other - self.n)
    def __neg__(self):
        return Number(-self.n)
    def __eq__(self, other):
        return self.n == getattr(other, "n", other)
    def __gt__(self, other):
        return self.n > getattr(other, "n", other)
    def __float__(self):
        return float(self.n)
    def __repr__(self):
        return "Number(%r)" % (self.n,)
"""


def test_comparisons_and_arithmetic(runner):
    runner.run_python(NUMBER_CLASS)
    third = runner.get_proxy_object_from_call("Number", Fraction(1, 3))
    sixth = runner.get_proxy_object_from_call("Number", Fraction(1, 6))
    half = third + sixth
    assert isinstance(half, _RemoteProxy)
    assert half.get_remote_repr() == "Number(Fraction(1, 2))"
    assert (half == third) is False
    assert half > third
    assert 1 - half == runner.get_proxy_object_from_call("Number", Fraction(1, 2))
    assert float(runner.run_python_call("float", half)) == 0.5
    assert (-half).get_remote_repr() == "Number(Fraction(-1, 2))"


def test_arithmetic_on_proxies_of_value_types_gives_values(runner):
    runner.import_libraries("fractions")
    third = runner.get_proxy_object_from_call("fractions.Fraction", 1, 3)
    sixth = runner.get_proxy_object_from_call("fractions.Fraction", 1, 6)
    assert isinstance(third, _RemoteProxy)
    half = third + sixth
    assert type(half) is Fraction and half == Fraction(1, 2)
    assert third > sixth
    assert -third == Fraction(-1, 3)


def test_async_calls_run_side_by_side(runner):
    time_proxy = runner.get_recursive_proxy("time")
    time_proxy.remote_proxy_use_asynchronous_response()
    start = time.monotonic()
    handles = [time_proxy.sleep(1) for _ in range(100)]
    assert all(isinstance(h, RemoteTimeout) for h in handles)
    results = [time_proxy.get_remote_proxy_response(h, timeout=10) for h in handles]
    assert results == [None] * 100
    assert time.monotonic() - start < 1.5


def test_negative_timeout_always_raises_remote_timeout(runner):
    time_proxy = runner.get_recursive_proxy("time")
    time_proxy.set_remote_proxy_timeout(-1)
    with pytest.raises(RemoteTimeout) as info:
        time_proxy.time()
    value = time_proxy.get_remote_proxy_response(info.value, timeout=5)
    assert isinstance(value, float)


def test_set_from_remote_proxy_moves_content(runner):
    empty = runner.create_empty_recursive_proxy()
    with pytest.raises(InvalidProxySession):
        empty.anything  # noqa: B018
    source = runner.get_recursive_proxy("os")
    empty.set_from_remote_proxy(source)
    assert empty.path.join("x", "y") == "x/y"
    with pytest.raises(InvalidProxySession):
        source.getcwd()


def test_proxy_after_close_raises_invalid_session(runner):
    proxy = runner.get_recursive_proxy("os")
    runner.close()
    with pytest.raises(InvalidProxySession):
        proxy.getcwd()


def test_garbage_collection_releases_handles_without_io_in_del(runner):
    base = live_handles(runner)
    os_proxy = runner.get_recursive_proxy("os")
    peak = 0
    for i in range(20000):
        proxy = runner.get_proxy_object_from_call("object")
        assert os_proxy.path.join("a", str(i)) == f"a/{i}"  # handled result: no handle kept
        del proxy
        if i % 2000 == 0:
            peak = max(peak, live_handles(runner) - base)
    gc.collect()
    assert peak <= runner.MAX_GARBAGE + 2
    assert live_handles(runner) <= base + 1


def test_proxy_to_a_string_gives_the_string(runner):
    text = runner.get_proxy_object_from_call("str", "os.getcwd")
    assert text.as_local_value() == "os.getcwd"
    assert text.upper() == "OS.GETCWD"


def test_a_slow_call_does_not_block_other_threads(runner):
    time_proxy = runner.get_recursive_proxy("time")
    slow = threading.Thread(target=time_proxy.sleep, args=(2,))
    slow.start()
    time.sleep(0.1)
    start = time.monotonic()
    for _ in range(20):
        assert runner.run_python("1 + 1") == 2
    assert time.monotonic() - start < 1.0
    slow.join()


def test_threads_share_one_terminal(runner):
    os_proxy = runner.get_recursive_proxy("os")
    errors = []

    def work(n):
        try:
            for i in range(1000):
                assert os_proxy.path.join(str(n), str(i)) == f"{n}/{i}"
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert not any(t.is_alive() for t in threads)


CONTEXT_MANAGER = """
class Recorder:
    def __init__(self, suppress=False):
        self.suppress = suppress
        self.seen = None
    def __enter__(self):
        return 'entered'
    def __exit__(self, kind, error, traceback):
        self.seen = (kind.__name__, str(error)) if kind is not None else 'clean'
        return self.suppress
"""


def test_with_on_a_proxy_enters_and_exits_the_remote_object(runner, tmp_path):
    path = str(tmp_path / "written.txt")
    runner.import_libraries("builtins")
    with runner.get_proxy_object_from_call("open", path, "w") as remote_file:
        remote_file.write("through the proxy")
    with open(path) as local_file:  # closed by the remote __exit__: all written
        assert local_file.read() == "through the proxy"
    runner.run_python(CONTEXT_MANAGER)
    runner.run_python("recorder = Recorder()")
    recorder = runner.get_recursive_proxy("recorder")
    with recorder as entered:
        assert entered == "entered"
    assert recorder.seen == "clean"


class LocalOnlyError(Exception):
    pass


@pytest.mark.parametrize(
    "error, seen",
    [
        (ValueError("boom"), ("ValueError", "boom")),
        (LocalOnlyError("local"), ("RuntimeError", "LocalOnlyError: local")),
    ],
)
def test_a_local_exception_in_with_reaches_the_remote_exit(runner, error, seen):
    runner.run_python(CONTEXT_MANAGER)
    runner.run_python("recorder = Recorder(); suppressing = Recorder(suppress=True)")
    recorder = runner.get_recursive_proxy("recorder")
    with pytest.raises(type(error)), recorder:
        raise error
    assert tuple(recorder.seen) == seen
    suppressing = runner.get_recursive_proxy("suppressing")
    with suppressing:
        raise error
    assert tuple(suppressing.seen) == seen
    assert runner.run_python("1 + 1") == 2
