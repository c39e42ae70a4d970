"""What a hostile target costs the controller: the figures of the threat-model
table in docs/PROTOCOL.md, measured through the hostile-agent harness of the
unit tests (utest/hostile_agent.py, a real process on a real pty).

On demand (about a minute)::

    .venv-test/bin/python bench/bench_hostile.py

Prints one JSON line per input class: the outcome of the call, the seconds it
took, and the controller's resident memory growth (MB) where it matters.
"""

from __future__ import annotations

import gc
import json
import os
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


def rss() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


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
        before = rss()
        start = time.monotonic()
        try:
            runner.run_python("1", timeout=timeout)
            outcome = "value"
        except Exception as error:
            outcome = type(error).__name__
        took = time.monotonic() - start
        grew = rss() - before
        survived = runner.running
        if survived:
            runner.run_python("2", timeout=5)
        figures = {"input": name, "outcome": outcome, "seconds": round(took, 3)}
        figures.update(rss_growth_mb=round(grew, 1), session_survives=survived)
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


def main() -> None:
    prime = (1 << 61) - 1
    colliding = codec.encode({prime * k + 5 for k in range(1, 20001)})
    big = reply_payload(codec.encode([{"k": i} for i in range(1_500_000)]))
    measure(
        "raw frame before raw replies were agreed", lying(0x7FFFFFFF), config={"probe": "refuse"}
    )
    measure("raw header longer than max_chunk allows", lying(0x7FFFFFFF))
    measure("deaf session (lying raw header within max_chunk)", lying(MB))
    measure(
        "raw frame failing its check",
        writes(
            lambda rid: frame(rid, "R", reply_payload(codec.encode(1)), raw=True)[:-5] + b"0000}\n"
        ),
    )
    measure(
        "300 unfinished 1 MiB messages, max_unfinished 64 MiB",
        unfinished(300),
        max_unfinished=64 * MB,
    )
    measure("300 unfinished 1 MiB messages, default settings", unfinished(300), timeout=20)
    measure(
        "set of 20,000 colliding ints (240 KB)",
        writes(lambda rid: frame(rid, "R", reply_payload(colliding))),
    )
    measure(
        "15 MB reply decoding for 3 s, timeout 1.5 s",
        writes(lambda rid: frame(rid, "R", big, raw=True)),
        timeout=1.5,
    )
    measure(
        "output message of giant ints",
        lambda agent, rid, payload: (
            agent.write(frame(0, "O", codec.encode((10**5000, 10**5000)))),
            agent.honest(rid, payload),
        ),
    )
    measure(
        "reason of a giant int (status 2)",
        writes(lambda rid: frame(rid, "R", reply_payload(codec.encode(10**5000), 2))),
    )
    measure(
        "nesting 100,000 deep",
        writes(lambda rid: frame(rid, "R", reply_payload(b"l\x01" * 100000 + b"N"))),
    )
    measure(
        "str declared 1 GB, 3 bytes sent",
        writes(lambda rid: frame(rid, "R", reply_payload(b"s\x80\x80\x80\x80\x04abc"))),
    )
    measure(
        "exception naming builtins.SystemExit",
        writes(lambda rid: exception_reply(rid, "builtins", "SystemExit", (0,), "0")),
    )
    measure("no answer (pings answered)", lambda *args: None, timeout=3)
    measure("no answer, no pings answered", lambda *args: None, timeout=30, config={"ping": False})


if __name__ == "__main__":
    main()
