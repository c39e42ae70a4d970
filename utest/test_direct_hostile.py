"""The direct channel against a hostile agent (utest/hostile_agent.py, direct="serve")."""

from __future__ import annotations

import threading
import time

import pytest
from hostile import HostileTarget

from RemoteProxyLibrary.errors import RunnerTerminalSessionBroken


@pytest.fixture
def direct_target():
    hostile = HostileTarget(direct="serve")
    yield hostile
    hostile.close()


def test_a_raw_frame_dripping_one_byte_a_second_does_not_make_the_session_deaf(direct_target):
    """A lying raw header (1 MiB) on the direct channel, then one byte every
    0.4 s: no stall of a whole liveness budget, but far below MIN_FRAME_RATE.
    Every later reply would be swallowed by the frame while the terminal keeps
    answering pings: the session is broken instead, so recovery can start."""
    runner = direct_target.runner()
    assert runner.path == "direct"
    stop = threading.Event()

    def handler(agent, request_id, payload):
        if not hasattr(handler, "started"):
            handler.started = True
            agent.write_direct(b"{RPL:%x:R.:%x;" % (request_id, 1 << 20))

            def drip():
                while not stop.wait(0.4):
                    try:
                        agent.write_direct(b"x")
                    except OSError:
                        return

            threading.Thread(target=drip, daemon=True).start()
        else:
            agent.honest(request_id, payload)  # honest replies, swallowed by the frame

    direct_target.handler = handler
    try:
        errors = []
        start = time.monotonic()
        for _ in range(3):
            try:
                runner.run_python("1+1", timeout=4)
            except Exception as error:
                errors.append(error)
                if isinstance(error, RunnerTerminalSessionBroken):
                    break
        elapsed = time.monotonic() - start
        assert any(isinstance(e, RunnerTerminalSessionBroken) for e in errors), (
            f"after {elapsed:.0f} s the session is still not broken although every reply is "
            f"swallowed: {[type(e).__name__ for e in errors]}"
        )
    finally:
        stop.set()
