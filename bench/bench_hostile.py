"""What a hostile target costs the controller: the figures of the threat-model
table in docs/PROTOCOL.md, measured through the hostile-agent harness of the
unit tests (utest/hostile_agent.py, a real process on a real pty).

On demand (about a minute)::

    .venv-test/bin/python bench/bench_hostile.py

Prints one JSON line per input class: the outcome of the call, the seconds it
took, the growth of the controller's peak resident memory (MB; each class runs
in a process of its own, the test's end of the harness included, so it is an
upper bound) and whether the session survived.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (ROOT, os.path.join(ROOT, "utest")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from hostile import HostileTarget, exception_reply, frame, reply_payload  # noqa: E402

from RemoteProxyLibrary.wire import codec, framing  # noqa: E402

MB = 1 << 20


def peak_rss() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def once(steps: dict[int, Callable[..., None]]) -> Callable[..., None]:
    """A handler: request n (from 0) answered by steps[n], others honestly."""
    count = [0]

    def handler(agent: Any, request_id: int, payload: bytes) -> None:
        n = count[0]
        count[0] += 1
        if n in steps:
            steps[n](agent, request_id, payload)
        else:
            agent.honest(request_id, payload)

    return handler


def measure(name: str, answer: Callable[..., None], timeout: float = 10, **settings: Any) -> None:
    target = HostileTarget(**settings.pop("config", {}))
    try:
        runner = target.runner(**settings)
        target.handler = once({0: answer})
        gc.collect()
        before = peak_rss()
        start = time.monotonic()
        try:
            runner.run_python("1", timeout=timeout)
            outcome = "value"
        except Exception as error:
            outcome = type(error).__name__
        took = time.monotonic() - start
        grew = peak_rss() - before
        survived = runner.running
        if survived:
            runner.run_python("2", timeout=5)
        figures = {"input": name, "outcome": outcome, "seconds": round(took, 3)}
        figures.update(peak_rss_growth_mb=round(grew, 1), session_survives=survived)
        print(json.dumps(figures), flush=True)
    finally:
        target.close()


def writes(make: Callable[[int], bytes]) -> Callable[..., None]:
    return lambda agent, request_id, payload: agent.write(make(request_id))


def lying(length: int) -> Callable[..., None]:
    def answer(agent: Any, request_id: int, payload: bytes) -> None:
        agent.write(b"{RPL:%x:R.:%x;" % (request_id, length))
        agent.honest(request_id, payload)

    return answer


def unfinished(count: int) -> Callable[..., None]:
    sender = framing.FrameProtocol()

    def answer(agent: Any, request_id: int, payload: bytes) -> None:
        for n in range(count):
            agent.write(next(sender.frame_parts(1000 + n, "R", os.urandom(2 * MB))))

    return answer


def reply_with(value_bytes: bytes, raw: bool = False) -> Callable[..., None]:
    """A handler answering with this encoded value (built before the call)."""
    payload = reply_payload(value_bytes)
    return writes(lambda rid: frame(rid, "R", payload, raw))


def colliding() -> Callable[..., None]:
    prime = (1 << 61) - 1  # ints k * prime + 5 all hash to 5
    return reply_with(codec.encode({prime * k + 5 for k in range(1, 20001)}))


def slow_to_decode() -> Callable[..., None]:
    return reply_with(codec.encode([{0: {}}] * 1_500_000), raw=True)


def giant_output(agent: Any, rid: int, payload: bytes) -> None:
    agent.write(frame(0, "O", codec.encode((10**5000, 10**5000))))
    agent.honest(rid, payload)


def damaged_raw(rid: int) -> bytes:
    return frame(rid, "R", reply_payload(codec.encode(1)), raw=True)[:-5] + b"0000}\n"


def silent(*args: Any) -> None:
    pass


CASES: list[tuple[str, Callable[[], Callable[..., None]], dict[str, Any]]] = [
    ("raw frame before raw replies were agreed", lambda: lying(0x7FFFFFFF),
     {"config": {"probe": "refuse"}}),
    ("raw header longer than max_chunk allows", lambda: lying(0x7FFFFFFF), {}),
    ("deaf session (lying raw header within max_chunk)", lambda: lying(MB), {}),
    ("raw frame failing its check", lambda: writes(damaged_raw), {}),
    ("300 unfinished 2 MiB messages (1 MiB first chunks)", lambda: unfinished(300), {}),
    ("300 unfinished 2 MiB messages, max_unfinished 16 MiB", lambda: unfinished(300),
     {"max_unfinished": 16 * MB}),
    ("set of 20,000 colliding ints (240 KB)", colliding, {}),
    ("9 MB reply decoding for seconds, timeout 1.5 s", slow_to_decode, {"timeout": 1.5}),
    ("output message of giant ints", lambda: giant_output, {}),
    ("reason of a giant int (status 2)", lambda: writes(
        lambda rid: frame(rid, "R", reply_payload(codec.encode(10**5000), 2))), {}),
    ("nesting 100,000 deep", lambda: writes(
        lambda rid: frame(rid, "R", reply_payload(b"l\x01" * 100000 + b"N"))), {}),
    ("str declared 1 GB, 3 bytes sent", lambda: writes(
        lambda rid: frame(rid, "R", reply_payload(b"s\x80\x80\x80\x80\x04abc"))), {}),
    ("exception naming builtins.SystemExit", lambda: writes(
        lambda rid: exception_reply(rid, "builtins", "SystemExit", (0,), "0")), {}),
    ("no answer (pings answered)", lambda: silent, {"timeout": 3}),
    ("no answer, no pings answered", lambda: silent, {"timeout": 30, "config": {"ping": False}}),
]  # fmt: skip


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--case":
        name, answer, settings = CASES[int(sys.argv[2])]
        measure(name, answer(), **settings)
        return
    for number in range(len(CASES)):
        subprocess.run([sys.executable, __file__, "--case", str(number)], check=False)


if __name__ == "__main__":
    main()
