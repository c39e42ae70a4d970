"""Commands against a hostile target (``hostile_agent.py`` answering chosen
ops with crafted replies), and against an honest python3 target.

The promise (docs/PROTOCOL.md, the threat-model table): every wait of a
command has a deadline, kill and terminate included; what the target says
of a command (ids, return codes, output) is checked before it is used or
logged; a reply that makes no sense fails its call with
``ProtocolViolation`` and the session goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from hostile import Agent, Silent, by_op, honest, reply

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.errors import CommandTimeout, ProtocolViolation
from RemoteProxyLibrary.runner import commands
from RemoteProxyLibrary.runnerterminal import RunnerTerminal
from RemoteProxyLibrary.wire import messages


@pytest.fixture
def real_runner() -> Iterator[RunnerTerminal]:
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(timeout=30, prompt_timeout=10)
    runner.initialize(session)
    yield runner
    runner.close()
    session.close_terminal()


def ends_within(call: Callable[[], Any], limit: float) -> tuple[bool, Any, float]:
    """``(finished, result or exception, seconds)`` of ``call`` run in a
    thread, waited for at most ``limit`` seconds."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as error:
            box["result"] = error

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(limit)
    return not thread.is_alive(), box.get("result"), time.monotonic() - started


def never_ending(agent: Agent, request_id: int, payload: bytes) -> None:
    """A target whose commands never end: cmd_poll answers after its wait,
    never with an end; signals and forget are acknowledged."""
    request = messages.decode_request(payload)
    if request.op == "cmd_start":
        agent.write(reply(request_id, (1, 4242)))
    elif request.op == "cmd_poll":
        wait = min(float(request.args[2]), 1.0)
        threading.Timer(wait, lambda: _quietly(agent, reply(request_id, (b"", b"", None)))).start()
    elif request.op in ("cmd_signal", "cmd_forget"):
        agent.write(reply(request_id, None))
    else:
        agent.honest(request_id, payload)
    never_ending.ops.append(request.op)  # type: ignore[attr-defined]


def _quietly(agent: Agent, data: bytes) -> None:
    try:
        agent.write(data)
    except OSError:  # the test ended and closed the harness
        pass


@pytest.fixture
def short_waits(monkeypatch) -> tuple[float, float]:
    monkeypatch.setattr(commands, "KILL_MARGIN", 2.0)
    monkeypatch.setattr(commands, "KILL_WAIT", 2.0)
    return commands.KILL_MARGIN, commands.KILL_WAIT


# ---- F3: every wait has a deadline -----------------------------------------------------------
def test_run_ends_although_the_target_never_reports_the_end(target, short_waits):
    """run(timeout=1): waits the timeout + KILL_MARGIN for the target's own
    kill, then KILL_WAIT after its SIGKILL; then the command is forgotten
    and CommandTimeout says what happened."""
    margin, kill_wait = short_waits
    never_ending.ops = []  # type: ignore[attr-defined]
    target.handler = never_ending
    runner = target.runner(timeout=5)
    finished, result, elapsed = ends_within(lambda: runner.commands.run("true", timeout=1), 30)
    assert finished, "run(timeout=1) still waiting after 30 s"
    assert isinstance(result, CommandTimeout), result
    assert "did not end within 2 s of the SIGKILL sent to its process group" in str(result)
    assert "told to forget it" in str(result)
    assert elapsed < 1 + margin + kill_wait + 1 + 1.5  # + one poll, + the forget's round trip
    assert "cmd_forget" in never_ending.ops  # type: ignore[attr-defined]
    assert runner.run_python("1+1") == 2


@pytest.mark.parametrize("how", ["kill", "terminate", "wait"])
def test_kill_terminate_and_wait_end_although_the_target_never_reports_the_end(
    target, short_waits, how
):
    never_ending.ops = []  # type: ignore[attr-defined]
    target.handler = never_ending
    runner = target.runner(timeout=5)
    handle = runner.commands.start("sleep 100")
    call = {
        "kill": handle.kill,
        "terminate": lambda: handle.terminate(grace=1),
        "wait": lambda: handle.wait(timeout=1, on_timeout="terminate", grace=1),
    }[how]
    finished, result, elapsed = ends_within(call, 20)
    assert finished, f"{how} still waiting after 20 s"
    assert isinstance(result, CommandTimeout), result
    assert "never reported its end" in str(result)
    assert elapsed < 1 + 1 + short_waits[1] + 1 + 1.5


def test_wait_with_a_timeout_ends_although_a_daemon_holds_the_pipes(real_runner):
    """Honest target: a background child that left the group (``setsid``)
    keeps the pipes open; wait(timeout=2) kills the group, the agent gives
    up on the pipes 2 s later, and the error names the holder."""
    handle = real_runner.commands.start("setsid sleep 30 &")
    finished, result, elapsed = ends_within(lambda: handle.wait(timeout=2), 20)
    assert finished, f"wait(timeout=2) still waiting after {elapsed:.0f} s"
    assert isinstance(result, CommandTimeout), result
    assert "a process it started still held its output open" in str(result)
    assert elapsed < 2 + 2 + 2
    assert real_runner.run_python("1+1") == 2


def test_kill_ends_although_a_daemon_holds_the_pipes(real_runner):
    handle = real_runner.commands.start("setsid sleep 30 &")
    time.sleep(0.5)
    finished, result, elapsed = ends_within(handle.kill, 20)
    assert finished and elapsed < 2 + 2, elapsed
    assert result.held and result.rc == 0


# ---- polls that go unanswered (pings still answered) -------------------------------------------
def unanswered_polls(**more: Callable[..., Any]):
    answers: dict[str, Callable[..., Any]] = dict(
        cmd_start=lambda spec: (1, 4242),
        cmd_poll=lambda cid, n, wait: Silent(),
        cmd_signal=lambda *a: None,
        cmd_forget=lambda *a: None,
    )
    answers.update(more)
    return by_op(**answers)


def test_run_ends_near_its_timeout_when_polls_go_unanswered(target, monkeypatch):
    """Each poll's reply used to be waited for its wait + 60 s (run(timeout=1)
    took 61 s): a poll unanswered POLL_REPLY_WAIT past its own wait gives the
    command up, and CommandTimeout says what happened."""
    monkeypatch.setattr(commands, "POLL_REPLY_WAIT", 3.0)
    target.handler = handler = unanswered_polls()
    runner = target.runner(timeout=5)
    finished, result, elapsed = ends_within(lambda: runner.commands.run("true", timeout=1), 30)
    assert finished, f"run(timeout=1) still waiting after {elapsed:.0f} s"
    assert isinstance(result, CommandTimeout), result
    assert "left a poll of its output and status unanswered for 3 s" in str(result)
    assert "told to forget it" in str(result)
    limit = commands.POLL_WAIT + 3 + commands.FORGET_WAIT
    assert elapsed < limit + 3, f"{elapsed:.1f} s, beyond {limit:g} s"
    assert ("cmd_forget", (1,)) in handler.calls  # type: ignore[attr-defined]
    assert runner.run_python("1+1") == 2


def test_kill_ends_within_kill_wait_when_polls_go_unanswered(target, short_waits):
    target.handler = unanswered_polls()
    runner = target.runner(timeout=5)
    handle = runner.commands.start("sleep 100")
    finished, result, elapsed = ends_within(handle.kill, 30)
    assert finished, f"kill() still waiting after {elapsed:.0f} s"
    assert isinstance(result, CommandTimeout), result
    assert "never reported its end" in str(result)
    limit = short_waits[1] + commands.POLL_MARGIN + commands.FORGET_WAIT
    assert elapsed < limit + 2, f"{elapsed:.1f} s, beyond {limit:g} s"
    assert runner.run_python("1+1") == 2


@pytest.mark.parametrize("how", ["kill", "terminate"])
def test_kill_ends_within_kill_wait_when_the_signal_goes_unanswered(target, short_waits, how):
    target.handler = unanswered_polls(cmd_signal=lambda *a: Silent())
    runner = target.runner(timeout=30)  # the runner's timeout is not what bounds it
    handle = runner.commands.start("sleep 100")
    call = handle.kill if how == "kill" else lambda: handle.terminate(grace=1)
    finished, result, elapsed = ends_within(call, 30)
    assert finished, f"{how} still waiting after {elapsed:.0f} s"
    assert isinstance(result, CommandTimeout), result
    assert "got no answer to the SIGKILL" in str(result)
    limit = (1 if how == "terminate" else 0) + short_waits[1] + commands.FORGET_WAIT
    assert elapsed < limit + 2, f"{elapsed:.1f} s, beyond {limit:g} s"
    assert runner.run_python("1+1") == 2


def slow_polls(delay: float, replies: list[tuple]):
    """cmd_poll answered ``delay`` s late, with ``replies`` in turn."""
    sent: list[int] = []

    def handler(agent: Agent, request_id: int, payload: bytes) -> None:
        request = messages.decode_request(payload)
        if request.op == "cmd_start":
            agent.write(reply(request_id, (1, 4242)))
        elif request.op == "cmd_poll":
            answer = replies[min(len(sent), len(replies) - 1)]
            sent.append(request_id)
            threading.Timer(delay, _quietly, (agent, reply(request_id, answer))).start()
        elif request.op in ("cmd_signal", "cmd_forget"):
            agent.write(reply(request_id, None))
        else:
            agent.honest(request_id, payload)

    handler.sent = sent  # type: ignore[attr-defined]
    return handler


def test_a_late_poll_reply_is_taken_by_the_next_call_and_no_output_is_lost(target):
    """A target slower than the caller's deadline: read(timeout=0) returns
    nothing at its deadline + POLL_MARGIN, the poll stays due, and the next
    calls take its reply: every chunk once, in order, no extra poll sent."""
    target.handler = handler = slow_polls(1.5, [(b"one ", b"", None), (b"two ", b"", None),
                                                (b"three", b"", (0, False, False))])  # fmt: skip
    runner = target.runner(timeout=10)
    handle = runner.commands.start("talk")
    started = time.monotonic()
    assert handle.read(timeout=0) == ("", "")
    assert time.monotonic() - started < commands.POLL_MARGIN + 1
    assert handle.poll() is None
    assert len(handler.sent) == 1, "a second poll was sent while the first was due"
    assert handle.read(timeout=5).stdout == "one "
    result = handle.wait(timeout=20)
    assert result.rc == 0 and result.stdout == "one two three"
    assert len(handler.sent) == 3
    assert runner.run_python("1+1") == 2


def test_a_poll_reply_after_the_command_was_given_up_is_not_taken_for_another(
    target, monkeypatch
):
    """The target answers a poll 4 s late (POLL_REPLY_WAIT 1 s): the command
    is given up; the late reply, with output and an end, is dropped and the
    next command on the session gets its own output."""
    monkeypatch.setattr(commands, "POLL_REPLY_WAIT", 1.0)
    target.handler = slow_polls(4.0, [(b"LATE", b"", (7, False, False))])
    runner = target.runner(timeout=10)
    with pytest.raises(CommandTimeout, match="unanswered for 1 s"):
        runner.commands.run("first", timeout=1)
    target.handler = honest
    handle = runner.commands.start("sleep 2; echo second")  # running when the late reply comes
    result = handle.wait(timeout=20)
    assert result.rc == 0 and result.stdout == "second\n"
    assert runner.commands.run("echo third").stdout == "third\n"
    assert runner.run_python("1+1") == 2


# ---- F9: what the target says of a command is checked ---------------------------------------
BAD_ENDS = {
    "rc-as-text": (b"", b"", ("\x1b[2J\nFAIL forged", False, False)),
    "rc-giant": (b"", b"", (10**5000, False, False)),
    "rc-out-of-range": (b"", b"", (1 << 40, False, False)),
    "rc-as-bool": (b"", b"", (True, False, False)),
    "timed-out-as-text": (b"", b"", (0, "yes", False)),
    "short-end": (b"", b"", (0, False)),
    "output-as-text": ("text", b"", None),
    "output-as-int": (b"", 7, None),
    "output-too-long": (b"x" * (commands.POLL_BYTES + 1), b"", None),
    "not-a-tuple": [b"", b"", None],
}


@pytest.mark.parametrize("poll", list(BAD_ENDS.values()), ids=list(BAD_ENDS))
def test_a_poll_that_makes_no_sense_fails_the_call(target, poll):
    handler = by_op(cmd_start=lambda spec: (1, 4242), cmd_poll=lambda *args: poll,
                    cmd_forget=lambda cid: None)  # fmt: skip
    target.handler = handler
    runner = target.runner(timeout=5)
    with pytest.raises(ProtocolViolation, match="reply to cmd_poll made no sense") as info:
        runner.commands.run("true", timeout=5)
    message = str(info.value)
    assert "\x1b" not in message and "\n" not in message
    assert ("cmd_forget", (1,)) in handler.calls  # type: ignore[attr-defined]
    assert runner.run_python("1+1") == 2


@pytest.mark.parametrize(
    "start", [("1", 4242), (1, "4242"), (1, 0), (1, 1 << 40), (1,), None, (1, 10**5000)]
)
def test_a_start_that_makes_no_sense_fails_the_call(target, start):
    target.handler = by_op(cmd_start=lambda spec: start, cmd_forget=lambda cid: None)
    runner = target.runner(timeout=5)
    with pytest.raises(ProtocolViolation, match="reply to cmd_start made no sense"):
        runner.commands.start("true")
    assert runner.run_python("1+1") == 2


def test_a_signal_return_code_is_taken(target):
    """Negative return codes (killed by a signal) are in range."""
    target.handler = by_op(cmd_start=lambda spec: (1, 4242),
                           cmd_poll=lambda *args: (b"out", b"", (-9, False, False)))  # fmt: skip
    runner = target.runner(timeout=5)
    result = runner.commands.run("true", timeout=5)
    assert result.rc == -9 and result.stdout == "out"


# ---- F5: output so far, shown safe ------------------------------------------------------------
def test_the_output_so_far_of_a_timeout_has_no_raw_control_characters(real_runner):
    with pytest.raises(CommandTimeout) as info:
        real_runner.commands.run(
            r"printf '\033[2J\033]0;owned\007\n\342\200\256FAIL forged\n'; sleep 5", timeout=1
        )
    message = str(info.value)
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in message
    assert "\\x1b[2J" in message and "\\u202eFAIL forged" in message
    assert "\x1b[2J" in info.value.stdout  # the output itself is kept as it came
