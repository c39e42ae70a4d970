"""The agent on each target Python of this machine, side by side: 2.7 next to 3.x.

Run on demand (no root needed: a local pty, no SSH)::

    .venv-test/bin/python bench/bench_pythons.py

For Python 2.7 (when one is found, see ``resources/targetpythons.py``) and
every ``python3.X`` from 3.6 on, one JSON line per Python on stdout (progress
on stderr) with

- ``start_median_ms``: opening the runner (stage-0, bundle, hello) on a shell
  that is already there, median of ``--starts``;
- ``run_python_1plus1``: median, p10 and p90 of ``run_python('1+1')`` in ms;
- ``fetch_mb_s``: a ``--payload-mb`` bytes value fetched with ``run_python``
  (``bytearray`` on 2.7, ``bytes`` on 3.x), MB/s;

then one line ``python27_vs_3x`` with the 2.7 latency next to the median of
the 3.x ones and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import emit, latencies, log, mb_per_s, ms_stats, timed  # noqa: E402
from targetpythons import NO_PYTHON27, python27, pythons3  # noqa: E402

from RemoteProxyLibrary import BashShell, InteractiveSession  # noqa: E402
from RemoteProxyLibrary.runnerterminal import RunnerTerminal  # noqa: E402

MB = 1_000_000


def measure(python: str, args: argparse.Namespace) -> dict[str, Any]:
    """The figures of one target Python."""
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    try:
        starts = []
        for _ in range(args.starts):
            runner = RunnerTerminal(prompt_timeout=10, python=python)
            seconds, _ = timed(lambda runner=runner: runner.initialize(session))
            starts.append(seconds)
            runner.close()
        runner = RunnerTerminal(prompt_timeout=10, python=python)
        runner.initialize(session)
        version = runner.run_python("'%d.%d.%d' % __import__('sys').version_info[:3]")
        calls = latencies(lambda: runner.run_python("1+1"), args.calls, args.warmup)
        size = int(args.payload_mb * MB)
        make = "bytearray(b'x') * %d" if version.startswith("2.") else "b'x' * %d"
        seconds, data = timed(lambda: runner.run_python(make % size, timeout=120))
        assert len(data) == size
        runner.close()
    finally:
        session.close_terminal()
    return {
        "figure": "target_python",
        "python": version,
        "path": python,
        "start_median_ms": round(statistics.median(starts) * 1000, 2),
        "run_python_1plus1": ms_stats(calls),
        "fetch_mb_s": round(mb_per_s(size, seconds), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="run_python('1+1') calls")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--starts", type=int, default=5, help="runner starts per Python")
    parser.add_argument("--payload-mb", type=float, default=10)
    args = parser.parse_args()
    old = python27()
    if old is None:
        log(f"2.7 left out: {NO_PYTHON27}")
    records = []
    for python in ([old] if old else []) + list(pythons3()):
        log(f"measuring {python}")
        record = measure(python, args)
        emit(record)
        records.append(record)
    old_records = [r for r in records if r["python"].startswith("2.")]
    new = [r["run_python_1plus1"]["median_ms"] for r in records if r["python"].startswith("3.")]
    if old_records and new:
        ms27 = old_records[0]["run_python_1plus1"]["median_ms"]
        ms3x = statistics.median(new)
        emit(
            {
                "figure": "python27_vs_3x",
                "run_python_1plus1_median_ms_27": ms27,
                "run_python_1plus1_median_ms_3x": round(ms3x, 3),
                "ratio": round(ms27 / ms3x, 2),
                "ratio_is": "2.7/3.x (median of the 3.x medians)",
                "fetch_mb_s_27": old_records[0]["fetch_mb_s"],
                "fetch_mb_s_3x": statistics.median(
                    r["fetch_mb_s"] for r in records if r["python"].startswith("3.")
                ),
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
