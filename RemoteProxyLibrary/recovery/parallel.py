"""Many targets at once: open terminals and run the same call on each, in threads.

Each target is worked on in a thread of its own (they wait on their
terminals, not on the CPU), at most ``max_parallel`` at a time. Results come
back by the keys the targets were given under, in that order. When some
targets fail, the others still finish, and :class:`ParallelError` reports
every failure together (``errors``), with the results of the others
(``results``).

::

    from RemoteProxyLibrary import SshShell
    from RemoteProxyLibrary.recovery.parallel import call_on_runners, open_runners

    bastion = SshShell("bastion.lab", "me", key_file="~/.ssh/id_ed25519")
    runners = open_runners({
        f"dut{n}": [SshShell(f"192.168.1.{n}", "admin", "secret", jump=bastion)]
        for n in range(1, 21)
    })
    print(call_on_runners(runners, "os.uname"))   # {'dut1': ..., ..., 'dut20': ...}
    for runner in runners.values():
        runner.close()

A runner is used by one thread at a time here: each target's work runs in
one thread. Interrupted while waiting (Ctrl-C, a Robot timeout), the calls go
on on the targets; terminals still being opened are closed as soon as their
opening ends.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, Callable, Optional, TypeVar

from ..errors import ParallelError
from ..runner.pythons import AUTO, PythonSpec
from ..runner.runnerterminal import RunnerTerminal
from ..shells import Shell
from ..timeouts import TimeLike
from .autorunnerterminal import AutoRunnerTerminal, library_stack

K = TypeVar("K")
R = TypeVar("R")

#: Threads at most, unless ``max_parallel`` says otherwise.
MAX_PARALLEL = 64


def in_parallel(
    tasks: Mapping[K, Callable[[], R]],
    max_parallel: Optional[int] = None,
    doing: str = "working on the targets",
    on_interrupt: Optional[Callable[[K, Future], Any]] = None,
    pool: Optional[Executor] = None,
) -> dict[K, R]:
    """Run every task in a thread of its own; return their results by key.

    Raises :class:`ParallelError` after all have ended if any raised.
    ``on_interrupt(key, future)`` is called for every task when the waiting
    thread is interrupted (its tasks go on). ``pool``: threads to reuse (a
    ``ThreadPoolExecutor`` with enough workers; starting a thread per target
    costs about 0.1 ms each time); by default threads are started for this
    run and ended after it."""
    if not tasks:
        return {}
    if max_parallel is not None and max_parallel < 1:
        raise ValueError(f"max_parallel must be at least 1, got {max_parallel}")
    limit = min(len(tasks), max_parallel or MAX_PARALLEL)
    own = pool is None
    runner = ThreadPoolExecutor(limit, "rpl-parallel") if pool is None else pool
    if not own and limit < len(tasks):
        tasks = _limited(tasks, limit)
    futures = {key: runner.submit(task) for key, task in tasks.items()}
    try:
        results: dict[K, R] = {}
        errors: dict[K, BaseException] = {}
        for key, future in futures.items():
            try:
                results[key] = future.result()
            except BaseException as error:
                if not future.done() or future.exception() is not error:
                    raise  # interrupted here: not an error of the task
                errors[key] = error
    except BaseException:
        if on_interrupt is not None:
            for key, future in futures.items():
                on_interrupt(key, future)
        if own:
            runner.shutdown(wait=False)
        raise
    if own:
        runner.shutdown(wait=True)
    if errors:
        raise ParallelError(doing, errors, results)
    return results


def _limited(tasks: Mapping[K, Callable[[], R]], limit: int) -> dict[K, Callable[[], R]]:
    """The tasks, at most ``limit`` of them running at a time."""
    slots = threading.BoundedSemaphore(limit)

    def limited(task: Callable[[], R]) -> Callable[[], R]:
        def run() -> R:
            with slots:
                return task()

        return run

    return {key: limited(task) for key, task in tasks.items()}


def open_runners(
    stacks: Mapping[K, Sequence[Shell]],
    *,
    python: PythonSpec = AUTO,
    timeout: TimeLike = 3600,
    prompt_timeout: TimeLike = 30,
    auto_recovery: bool = False,
    max_tries: int = 3,
    sleep_between_tries: TimeLike = 1,
    prepare: Optional[Callable[[K, AutoRunnerTerminal], Any]] = None,
    max_parallel: Optional[int] = None,
) -> dict[K, AutoRunnerTerminal]:
    """Open a runner on each stack of shells (bottom first), in parallel:
    the stack is opened and the agent started, ``prepare(key, runner)`` run.

    Without ``auto_recovery`` a runner is opened in one try and never
    reopened (as a library terminal without auto recovery); with it, it is
    reopened whenever it breaks (``max_tries``, ``sleep_between_tries``) and
    ``prepare`` runs again. If any fails, the others are closed and
    :class:`ParallelError` names every failure."""
    runners: dict[K, AutoRunnerTerminal] = {}
    for key, shells in stacks.items():
        stack = library_stack(shells, auto_recovery, max_tries, sleep_between_tries)
        runner = AutoRunnerTerminal(timeout, prompt_timeout, python)
        runner.initialize(stack, _prepare_hook(prepare, key, runner))
        runners[key] = runner

    def closer(key: K, future: Future) -> None:
        future.add_done_callback(lambda _: runners[key].close())

    tasks = {key: runner.initialize_if_needed for key, runner in runners.items()}
    try:
        in_parallel(tasks, max_parallel, "opening the terminals", on_interrupt=closer)
    except ParallelError:
        in_parallel({key: runner.close for key, runner in runners.items()}, max_parallel)
        raise
    return runners


def _prepare_hook(
    prepare: Optional[Callable[[K, AutoRunnerTerminal], Any]], key: K, runner: AutoRunnerTerminal
) -> Callable[[], Any]:
    if prepare is None:
        return _nothing
    return lambda: prepare(key, runner)


def _nothing() -> None:
    return None


def call_on_runners(
    runners: Mapping[K, RunnerTerminal],
    function: str,
    *args: Any,
    max_parallel: Optional[int] = None,
    pool: Optional[Executor] = None,
    **kwargs: Any,
) -> dict[K, Any]:
    """``runner.call(function, *args, **kwargs)`` on every runner in parallel
    (plain data by value, anything else as a proxy of that runner); results
    by key. :class:`ParallelError` names every runner that failed. ``pool``
    as with :func:`in_parallel` (worth it for calls made again and again)."""
    tasks = {key: _bind(runner.call, function, args, kwargs) for key, runner in runners.items()}
    return in_parallel(tasks, max_parallel, f"calling {function}()", pool=pool)


def run_python_on_runners(
    runners: Mapping[K, RunnerTerminal],
    code: str,
    timeout: Optional[TimeLike] = None,
    max_parallel: Optional[int] = None,
    pool: Optional[Executor] = None,
) -> dict[K, Any]:
    """``runner.run_python(code, timeout)`` on every runner in parallel;
    results by key. :class:`ParallelError` names every runner that failed."""
    tasks = {key: _bind(runner.run_python, code, (), {"timeout": timeout}) for key, runner
             in runners.items()}  # fmt: skip
    return in_parallel(tasks, max_parallel, "running Python", pool=pool)


def _bind(method: Callable[..., R], first: Any, args: tuple, kwargs: dict) -> Callable[[], R]:
    return lambda: method(first, *args, **kwargs)


__all__ = [
    "MAX_PARALLEL",
    "ParallelError",
    "call_on_runners",
    "in_parallel",
    "open_runners",
    "run_python_on_runners",
]
