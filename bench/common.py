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


# ---- the measuring loop of a recovery child (bench_recovery.py, crl/crl_recovery_side.py)

#: Seconds between a call that raised and the next one.
RETRY_PAUSE = 0.1


def serve(
    open_session: Callable[[], dict[str, Any]],
    call: Callable[[], Any],
    check: Callable[[Any], bool],
    cap: float,
    close: Callable[[], Any],
) -> int:
    """The child's side of the protocol (see the module doc)."""
    started = time.monotonic()
    try:
        info = open_session()
        emit({"event": "ready", "setup_s": round(time.monotonic() - started, 3), **info})
    except Exception as error:
        emit({"event": "setup_failed", "error": error_text(error)})
        return 1
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "GO":
        emit({"event": "aborted", "got": " ".join(line)})
        return 1
    injected = float(line[1])
    tries = 0
    while True:
        tries += 1
        try:
            value = call()
        except Exception as error:
            now = time.monotonic()
            emit({"event": "error", "t": round(now - injected, 3), "try": tries,
                  "error": error_text(error)})  # fmt: skip
            if now - injected >= cap:
                emit({"event": "gave_up", "tries": tries, "cap_s": cap,
                      "error": error_text(error)})  # fmt: skip
                break
            time.sleep(RETRY_PAUSE)
            continue
        now = time.monotonic()
        if check(value):
            emit({"event": "done", "value": round(now - injected, 3), "tries": tries,
                  "result": repr(value)[:80]})  # fmt: skip
            break
        emit({"event": "error", "t": round(now - injected, 3), "try": tries,
              "error": f"wrong value {value!r:.80}"})  # fmt: skip
        if now - injected >= cap:
            emit({"event": "gave_up", "tries": tries, "cap_s": cap,
                  "error": f"wrong value {value!r:.80}"})  # fmt: skip
            break
        time.sleep(RETRY_PAUSE)
    try:
        close()
    except Exception as error:
        log(f"close failed: {error_text(error)}")
    return 0
