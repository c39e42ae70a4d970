"""Time to open shell stacks against a throw-away sshd (run on demand, as root).

::

    .venv/bin/python bench/bench_shells.py [--runs 10]

Prints one JSON line per figure to stdout (progress on stderr), e.g.::

    {"figure": "open_1hop_s", "median": 0.12, "min": 0.11, "max": 0.14, "runs": 10}

Figures (seconds):

- ``open_1hop_s``: SSH as the key user over paramiko, until the shell answers.
- ``open_3hop_s``: that, then ``ssh`` typed as the password user (password),
  then ``sudo`` (password): three hops, until the root shell answers.
- ``open_3hop_python_s``: the three hops plus the target's ``python3``.
- ``exec_1hop_s`` / ``exec_3hop_python_s``: one ``exec_command`` round trip
  (``true`` / ``pass``) in the first hop / in the Python at the end of the stack.
- ``close_3hop_python_s``: ``close_terminal()`` of the four-shell stack.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import emit, log  # noqa: E402
from sshtarget import SshTarget, available, ensure_packages  # noqa: E402

from RemoteProxyLibrary import (  # noqa: E402
    InteractiveSession,
    PythonShell,
    Shell,
    SshShell,
    SudoShell,
)

TIMEOUT = 20


def first_hop(target: SshTarget) -> SshShell:
    user = target.users["key"]
    return SshShell(
        target.host, user.name, port=target.port, key_file=user.key_file, timeout=TIMEOUT
    )


def three_hops(target: SshTarget) -> list[Shell]:
    user = target.users["password"]
    return [
        first_hop(target),
        SshShell(target.host, user.name, user.password, port=target.port, timeout=TIMEOUT),
        SudoShell(password=user.password, timeout=TIMEOUT),
    ]


def open_stack(shells: list[Shell]) -> InteractiveSession:
    session = InteractiveSession()
    session.spawn(shells[0])
    for shell in shells[1:]:
        session.push(shell)
    return session


def record(figure: str, seconds: list[float]) -> None:
    emit(
        {
            "figure": figure,
            "median": round(statistics.median(seconds), 5),
            "min": round(min(seconds), 5),
            "max": round(max(seconds), 5),
            "runs": len(seconds),
        }
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def exec_latencies(shell: Shell, command: str, calls: int) -> list[float]:
    return [timed(lambda: shell.exec_command(command)) for _ in range(calls)]


def bench(target: SshTarget, runs: int, calls: int) -> None:
    opened: list[float] = []
    exec_1hop: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        session = open_stack([first_hop(target)])
        opened.append(time.perf_counter() - start)
        exec_1hop += exec_latencies(session.current_shell(), "true", calls)
        session.close_terminal()
    record("open_1hop_s", opened)
    record("exec_1hop_s", exec_1hop)
    log("1 hop done")

    opened = []
    for _ in range(runs):
        start = time.perf_counter()
        session = open_stack(three_hops(target))
        opened.append(time.perf_counter() - start)
        session.close_terminal()
    record("open_3hop_s", opened)
    log("3 hops done")

    opened, closed, exec_python = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        session = open_stack([*three_hops(target), PythonShell(timeout=TIMEOUT)])
        opened.append(time.perf_counter() - start)
        exec_python += exec_latencies(session.current_shell(), "pass", calls)
        closed.append(timed(session.close_terminal))
    record("open_3hop_python_s", opened)
    record("exec_3hop_python_s", exec_python)
    record("close_3hop_python_s", closed)
    log("3 hops + python done")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="stacks opened per figure")
    parser.add_argument("--calls", type=int, default=20, help="exec_command calls per stack")
    args = parser.parse_args()
    ensure_packages()
    ok, reason = available()
    if not ok:
        log(f"cannot start an SSH target: {reason}")
        return 2
    log("starting a throw-away sshd")
    with SshTarget() as target:
        bench(target, max(1, args.runs), max(1, args.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
