"""Many targets at once: open 20 DUTs in parallel, and call them all, against one
(run on demand, as root).

::

    .venv-test/bin/python bench/bench_many.py [--duts 20] [--opens 3] [--calls 30]

Builds a lab of ``--duts`` DUTs behind a bastion (``resources/sshlab.py``,
``fleet``): each DUT a network namespace with its own sshd, reached by
paramiko through the bastion (``jump``: one connection to the bastion and a
``direct-tcpip`` channel to the DUT per terminal), its system ``python3``
started with the agent (``python=auto``). Prints one JSON line per figure to
stdout (progress on stderr); ratios from one run are what count:

- ``open_ratio``: median time of ``open_runners`` for all DUTs at once /
  median time of ``open_runners`` for one (login through the bastion, login
  on the DUT, Python and the agent ready). Target <= 2.
- ``call_ratio``: median time of ``call_on_runners`` on all DUTs / on one,
  for the same call: ``os.getpid()`` (the controller's own cost per call
  dominates) and ``subprocess.check_output(['uname', '-a'])`` (a small piece of
  work on the target). Target <= 3.

Each line also gives the medians (``*_ms``), their spread (``*_min_ms``,
``*_max_ms``) and the lab's build time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import emit, log  # noqa: E402
from sshlab import SshLab, available_lab, ensure_lab_packages, fleet  # noqa: E402

from RemoteProxyLibrary import SshShell  # noqa: E402
from RemoteProxyLibrary.recovery import AutoRunnerTerminal  # noqa: E402
from RemoteProxyLibrary.recovery.parallel import call_on_runners, open_runners  # noqa: E402

TIMEOUT = 60


def stacks(lab: SshLab, count: int) -> dict[str, list[SshShell]]:
    """One stack per DUT: paramiko to the DUT through the bastion."""
    jump, bastion = lab.users["jump"], lab.hosts["bastion"]
    made = {}
    for number in range(1, count + 1):
        user = lab.users[f"u{number:02d}"]
        dut = lab.hosts[user.host]
        made[dut.name] = [
            SshShell(
                dut.address,
                user.name,
                user.password,
                timeout=TIMEOUT,
                jump=SshShell(bastion.address, jump.name, key_file=jump.key_file, timeout=TIMEOUT),
            )
        ]
    return made


class Load:
    """Seconds, this process's CPU seconds and the machine's busy share
    (``/proc/stat``) of a stretch of time."""

    def __enter__(self) -> Load:
        self.wall, self.cpu, self.stat = time.perf_counter(), time.process_time(), cpu_stat()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        busy, total = (end - start for start, end in zip(self.stat, cpu_stat()))
        self.busy = busy / total if total else 0.0


def cpu_stat() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def open_all(lab: SshLab, count: int) -> tuple[Load, dict[str, AutoRunnerTerminal]]:
    with Load() as load:
        runners = open_runners(
            stacks(lab, count),
            prompt_timeout=TIMEOUT,
            prepare=lambda key, runner: runner.import_libraries("subprocess", "time"),
        )
    return load, runners


def close_all(runners: dict[str, AutoRunnerTerminal]) -> None:
    for runner in runners.values():
        runner.close()


def stats(name: str, seconds: list[float]) -> dict[str, Any]:
    return {
        f"{name}_ms": round(1000 * statistics.median(seconds), 2),
        f"{name}_min_ms": round(1000 * min(seconds), 2),
        f"{name}_max_ms": round(1000 * max(seconds), 2),
    }


def time_calls(call: Callable[[], Any], calls: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duts", type=int, default=20)
    parser.add_argument("--opens", type=int, default=3, help="runs of each opening")
    parser.add_argument("--calls", type=int, default=30, help="calls of each kind")
    args = parser.parse_args()
    ensure_lab_packages()
    ok, reason = available_lab()
    if not ok:
        log(f"cannot build the lab: {reason}")
        return 2
    log(f"building a lab of {args.duts} DUTs behind a bastion")
    with SshLab(*fleet(args.duts)) as lab:
        log(f"built in {lab.build_seconds:.1f} s")
        one, many, loads = [], [], []
        for run in range(args.opens):
            # alternate, so both see the same machine load
            load, runners = open_all(lab, 1)
            one.append(load.wall)
            close_all(runners)
            load, runners = open_all(lab, args.duts)
            many.append(load.wall)
            loads.append(load)
            log(f"open run {run + 1}: 1 in {one[-1]:.2f} s, {args.duts} in {many[-1]:.2f} s "
                f"(this process {load.cpu:.2f} s CPU, machine {load.busy:.0%} busy)")  # fmt: skip
            if run < args.opens - 1:
                close_all(runners)
        ratio = statistics.median(many) / statistics.median(one)
        emit({
            "figure": "open_ratio",
            "value": round(ratio, 2),
            "ratio_is": f"open {args.duts} at once / open 1",
            "target": "<= 2",
            "meets_target": ratio <= 2,
            "duts": args.duts,
            **stats("open_1", one),
            **stats(f"open_{args.duts}", many),
            f"open_{args.duts}_controller_cpu_s": round(statistics.median(x.cpu for x in loads), 2),
            f"open_{args.duts}_machine_busy": round(statistics.median(x.busy for x in loads), 2),
            "cpus": os.cpu_count(),
            "lab_build_s": round(lab.build_seconds, 2),
        })  # fmt: skip
        pool = ThreadPoolExecutor(args.duts)
        try:
            first = dict(list(runners.items())[:1])
            calls = {
                "getpid": ("os.getpid", ()),
                "uname_subprocess": ("subprocess.check_output", (["uname", "-a"],)),
                "sleep_50ms": ("time.sleep", (0.05,)),
            }
            for name, (function, call_args) in calls.items():
                on_first = partial(call_on_runners, first, function, *call_args, pool=pool)
                on_every = partial(call_on_runners, runners, function, *call_args, pool=pool)
                direct = partial(next(iter(first.values())).call, function, *call_args)
                single = time_calls(on_first, args.calls)
                with Load() as load:
                    every = time_calls(on_every, args.calls)
                unthreaded = time_calls(direct, args.calls)
                ratio = statistics.median(every) / statistics.median(single)
                log(f"call {name}: 1 {statistics.median(single) * 1000:.2f} ms, "
                    f"{args.duts} {statistics.median(every) * 1000:.2f} ms")  # fmt: skip
                emit({
                    "figure": f"call_ratio_{name}",
                    "value": round(ratio, 2),
                    "ratio_is": f"{function}() on {args.duts} at once / on 1",
                    "target": "<= 3",
                    "meets_target": ratio <= 3,
                    **stats("call_1", single),
                    **stats(f"call_{args.duts}", every),
                    **stats("call_1_without_threads", unthreaded),
                    f"call_{args.duts}_controller_cpu_ms": round(
                        1000 * load.cpu / (args.calls + 3), 2
                    ),
                    f"call_{args.duts}_machine_busy": round(load.busy, 2),
                })  # fmt: skip
        finally:
            pool.shutdown()
            close_all(runners)
    return 0


if __name__ == "__main__":
    sys.exit(main())
