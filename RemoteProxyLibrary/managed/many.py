"""Many library terminals at once: open them, or run one call on each, in threads.

The library's side of :mod:`RemoteProxyLibrary.recovery.parallel`: each
terminal is worked on in a thread of its own and every failure is reported
together in one :class:`~RemoteProxyLibrary.errors.ParallelError` (its
``errors`` by key, the others' ``results``), after all have ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor, Future
from typing import Callable, Optional, TypeVar

from ..recovery import AutoRunnerTerminal
from ..recovery.parallel import in_parallel
from .managedterminal import ManagedTerminal

K = TypeVar("K")
R = TypeVar("R")


def start_terminals(
    terminals: Mapping[K, ManagedTerminal], max_parallel: Optional[int] = None
) -> None:
    """Open every terminal and start its Python, in parallel.

    Raises :class:`ParallelError` naming each that failed; the others are
    open (its ``results`` holds their keys). Interrupted while waiting, each
    terminal is closed as soon as its opening ends."""

    def close_when_done(key: K, future: Future) -> None:
        future.add_done_callback(lambda _: terminals[key].close())

    tasks = {key: terminal.start for key, terminal in terminals.items()}
    in_parallel(tasks, max_parallel, "opening the terminals", on_interrupt=close_when_done)


def call_on_terminals(
    terminals: Mapping[K, ManagedTerminal],
    call: Callable[[AutoRunnerTerminal], R],
    doing: str,
    max_parallel: Optional[int] = None,
    pool: Optional[Executor] = None,
) -> dict[K, R]:
    """``call(runner)`` with the runner of every terminal (Python started
    first where it is not running), in parallel; the results by key.
    :class:`ParallelError` (``doing`` in its message) names each that failed.
    ``pool``: threads to reuse (see :func:`~..recovery.parallel.in_parallel`)."""

    def task(terminal: ManagedTerminal) -> Callable[[], R]:
        return lambda: call(terminal.runner())

    tasks = {key: task(terminal) for key, terminal in terminals.items()}
    return in_parallel(tasks, max_parallel, doing, pool=pool)


__all__ = ["call_on_terminals", "start_terminals"]
