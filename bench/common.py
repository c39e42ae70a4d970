"""Helpers shared by bench_runner.py and crl_side.py.

Stdlib only: crl_side.py imports this from the crl venv, bench_runner.py from
ours. Both are run as scripts, so this directory is on ``sys.path``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import traceback
from typing import Any, Callable

#: Remote name of the payload the throughput figures fetch and upload.
BLOB_NAME = "_rpl_bench_blob"


def emit(record: dict[str, Any]) -> None:
    """Print one JSON line to stdout (flushed: the parent reads line by line)."""
    sys.stdout.write(json.dumps(record, sort_keys=False) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    """Progress on stderr, so stdout stays JSON only."""
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def error_text(error: BaseException) -> str:
    """One line naming the error, for a JSON ``error`` field."""
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text[:500]


def error_trace() -> str:
    return traceback.format_exc()[-2000:]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def latencies(fn: Callable[[], Any], calls: int, warmup: int) -> list[float]:
    """Seconds of each of ``calls`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    clock = time.perf_counter
    for _ in range(calls):
        start = clock()
        fn()
        out.append(clock() - start)
    return out


def ms_stats(seconds: list[float]) -> dict[str, float]:
    """Median, 10th and 90th percentile, in milliseconds."""
    ordered = sorted(seconds)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p * n))] * 1000

    return {
        "median_ms": round(statistics.median(ordered) * 1000, 4),
        "p10_ms": round(pct(0.10), 4),
        "p90_ms": round(pct(0.90), 4),
        "n": n,
    }


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 3)


def mb_per_s(nbytes: int, seconds: float) -> float:
    """Throughput in MB/s (1 MB = 10**6 bytes)."""
    return round(nbytes / 1e6 / seconds, 3) if seconds > 0 else float("inf")
